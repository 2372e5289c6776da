package scenarios

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Comparison is two runs of one scenario side by side: run A, and run B,
// which differs from A in the settings Differences lists. It is plain
// data: WriteText prints it for people, and its JSON has every number of
// both reports, so that a web view can draw it another way.
type Comparison struct {
	Scenario string `json:"scenario"`
	// Source is the file the scenario was read from, empty for a
	// built-in one (the caller sets it: a report does not know).
	Source string      `json:"source,omitempty"`
	A      CompareSide `json:"a"`
	B      CompareSide `json:"b"`
	// Differences are the settings whose values differ between the runs,
	// found by comparing the two reports' configurations (and seeds), so
	// they include what a setting changed in passing.
	Differences []SettingDiff `json:"differences"`
	// Rows are every number of either report (Report.Numbers), in its
	// order; a number only one report has (an error only one run met) is
	// 0 in the other.
	Rows []CompareRow `json:"rows"`
	// ErrorNotes say, for each error either run counted, which request
	// returned it and how the producer reacted (Report.ErrorNotes; run A's
	// where both have one).
	ErrorNotes map[string]string `json:"error_notes,omitempty"`
}

// CompareSide is what a comparison keeps of one run besides its numbers.
type CompareSide struct {
	Seed            uint64         `json:"seed"`
	Expectations    []ExpectResult `json:"expectations,omitempty"`
	StoppedByBudget *BudgetStop    `json:"stopped_by_budget,omitempty"`
}

// SettingDiff is one setting with different values in the two runs. Key
// is a dotted path into the report's config ("producer.acks",
// "topics.orders.min.insync.replicas"); a value is "(default)" when that
// run's report does not list the setting.
type SettingDiff struct {
	Key string `json:"key"`
	A   string `json:"a"`
	B   string `json:"b"`
}

// CompareRow is one number in both runs. Differs is true when the two
// numbers print differently (as WriteText prints them), so that noise in
// the last digits is not a difference.
type CompareRow struct {
	Path    string  `json:"path"`
	A       float64 `json:"a"`
	B       float64 `json:"b"`
	Unit    string  `json:"unit,omitempty"`
	Differs bool    `json:"differs"`
}

// Compare puts two reports of the same scenario side by side.
func Compare(a, b *Report) *Comparison {
	c := &Comparison{Scenario: a.Scenario,
		A:           CompareSide{Seed: a.Seed, Expectations: a.Expectations, StoppedByBudget: a.StoppedByBudget},
		B:           CompareSide{Seed: b.Seed, Expectations: b.Expectations, StoppedByBudget: b.StoppedByBudget},
		Differences: []SettingDiff{},
	}
	if a.Seed != b.Seed {
		c.Differences = append(c.Differences, SettingDiff{"seed", strconv.FormatUint(a.Seed, 10), strconv.FormatUint(b.Seed, 10)})
	}
	sa, sb := settings(a.Config), settings(b.Config)
	for _, k := range slices.Sorted(maps.Keys(union(sa, sb))) {
		va, okA := sa[k]
		vb, okB := sb[k]
		if va != vb || okA != okB {
			c.Differences = append(c.Differences, SettingDiff{k, settingText(va, okA), settingText(vb, okB)})
		}
	}
	for _, r := range []*Report{b, a} {
		for name, note := range r.ErrorNotes {
			if c.ErrorNotes == nil {
				c.ErrorNotes = map[string]string{}
			}
			c.ErrorNotes[name] = note
		}
	}
	va, vb := numbers(a), numbers(b)
	for _, p := range unionShape(a, b).paths() {
		u := shownUnit(Unit(p))
		// Noise below what is shown (5.78 s and 5.78 s + 0.17 ms) is no
		// difference: a reader sees the same number twice.
		differs := FormatQuantity(va[p], u) != FormatQuantity(vb[p], u)
		c.Rows = append(c.Rows, CompareRow{Path: p, A: va[p], B: vb[p], Unit: Unit(p), Differs: differs})
	}
	return c
}

func union(a, b map[string]string) map[string]string {
	u := maps.Clone(a)
	maps.Copy(u, b)
	return u
}

func settingText(v string, ok bool) string {
	switch {
	case !ok:
		return "(default)"
	case v == "":
		return `""`
	}
	return v
}

// numbers is the report's numbers by path.
func numbers(r *Report) map[string]float64 {
	m := map[string]float64{}
	r.Numbers(func(p string, v float64) { m[p] = v })
	return m
}

// unionShape is a report holding every section, error, metric, partition
// and request rule of a or b, so that its Numbers visit every path of
// either in Numbers order. Its numbers mean nothing.
func unionShape(a, b *Report) *Report {
	u := &Report{Errors: map[string]int64{}, Metrics: map[string]float64{}, Rules: a.Rules}
	for _, r := range []*Report{a, b} {
		maps.Copy(u.Errors, r.Errors)
		maps.Copy(u.Metrics, r.Metrics)
		u.Transactions = cmp.Or(u.Transactions, r.Transactions)
		u.Consumers = cmp.Or(u.Consumers, r.Consumers)
	}
	// One run may have more partitions (topic.partitions): start from its
	// list, in its order.
	more, other := a, b
	if len(b.Partitions) > len(a.Partitions) {
		more, other = b, a
	}
	u.Partitions = slices.Clone(more.Partitions)
	for _, p := range other.Partitions {
		if !slices.ContainsFunc(u.Partitions, func(q PartitionReport) bool { return q.Topic == p.Topic && q.Partition == p.Partition }) {
			u.Partitions = append(u.Partitions, p)
		}
	}
	return u
}

// settings flattens a configuration into dotted keys and values as the
// JSON report spells them: maps nest with dots, a list of named things
// (topics) is keyed by each name, and a topic's config sits directly
// under its name. Lists of text (the faults, notes on the producer)
// describe the run rather than set it, and are left out.
func settings(c ConfigReport) map[string]string {
	data, err := json.Marshal(c)
	if err != nil {
		panic(err) // maps of strings and plain fields always marshal
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // keep numbers as written: 10000000, not 1e+07
	var v any
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	out := map[string]string{}
	flatten("", v, out)
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch k {
			case "config":
				flatten(prefix, x, out)
			case "name":
			default:
				flatten(prefix+k+".", x, out)
			}
		}
	case []any:
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				if name, ok := m["name"].(string); ok {
					flatten(prefix+name+".", m, out)
				}
			}
		}
	case nil:
	default:
		out[strings.TrimSuffix(prefix, ".")] = fmt.Sprint(v)
	}
}

// compareText is what WriteText shows, section by section in this order.
// A row belongs to the first section whose prefix its path starts with,
// and is shown when shown says so; a section with nothing to show is left
// out. The partitions' numbers are counted, not listed.
var compareText = []struct {
	title, prefix, trim string
	shown               func(CompareRow) bool
}{
	{"records", "records.", "records.", func(r CompareRow) bool {
		// pending and keys_split are usually zero in both
		return (r.Path != "records.pending" && r.Path != "records.keys_split") || nonzero(r)
	}},
	{"transactions (what the application was told)", "transactions.", "transactions.", always},
	{"consumers of the final logs", "consumers.", "consumers.", always},
	{"errors seen by the producer", "errors.", "errors.", always},
	{"latency (send to callback)", "latency_ms.", "latency_ms.", always},
	{"throughput", "metrics.record-send-rate", "metrics.", always},
	{"", "metrics.outgoing-byte-rate", "metrics.", always},
	{"cpu (modelled)", "compression_cpu_ms", "", nonzero},
	{"metrics that differ", "metrics.", "metrics.", differs},
	{"request rules that fired differently", "faults.", "", differs},
	{"", "partitions.", "", never},
	{"", "anomaly_count", "", never}, // the records section has each kind
}

func always(CompareRow) bool    { return true }
func differs(r CompareRow) bool { return r.Differs }
func nonzero(r CompareRow) bool { return r.A != 0 || r.B != 0 }
func never(CompareRow) bool     { return false }

// WriteText prints the comparison for people: the settings that differ,
// then aligned columns A, B and the change from A to B, a * marking each
// number that differs; then whether each run met the scenario's
// expectations.
func (c *Comparison) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	b.WriteString(c.Scenario)
	if c.A.Seed == c.B.Seed {
		fmt.Fprintf(b, " (seed %d)", c.A.Seed)
	}
	if c.Source != "" {
		fmt.Fprintf(b, ", from %s", c.Source)
	}
	b.WriteString("\n")
	if la, lb := c.Labels(); len(c.Differences) > 0 {
		fmt.Fprintf(b, "  A  %s\n  B  %s\n", la, lb)
	} else {
		b.WriteString("  A and B have the same settings\n")
	}

	table := [][]string{{"", "A", "B", "B - A"}}
	partitionsDiffer := 0
	for _, sec := range compareText {
		var rows [][]string
		for _, r := range c.Rows {
			if sectionOf(r.Path) != sec.prefix {
				continue
			}
			if sec.prefix == "partitions." && r.Differs {
				partitionsDiffer++
			}
			if !sec.shown(r) {
				continue
			}
			mark := "    "
			if r.Differs {
				mark = "  * "
			}
			va, vb, change := cells(r)
			rows = append(rows, []string{mark + strings.TrimPrefix(r.Path, sec.trim), va, vb, change})
			if note := c.ErrorNotes[strings.TrimPrefix(r.Path, "errors.")]; r.Differs && sec.prefix == "errors." && note != "" {
				rows = append(rows, []string{strings.TrimSuffix(wrap(note, "      ", 100), "\n")})
			}
		}
		if len(rows) > 0 && sec.title != "" {
			table = append(table, []string{sec.title})
		}
		table = append(table, rows...)
	}
	b.WriteString("\n")
	writeColumns(b, table)
	b.WriteString("\n* marks a number that differs")
	if partitionsDiffer > 0 {
		fmt.Fprintf(b, "; the partitions differ in %s (--format json lists every number)", plural(partitionsDiffer, "number"))
	}
	b.WriteString("\n")

	if len(c.A.Expectations)+len(c.B.Expectations) > 0 {
		b.WriteString("\nexpectations (reported; they do not change the exit status)\n")
		for _, s := range []struct {
			name string
			side CompareSide
		}{{"A", c.A}, {"B", c.B}} {
			fmt.Fprintf(b, "  %s  %s\n", s.name, expectationsText(s.side.Expectations))
		}
	}
	for _, s := range []struct {
		name string
		side CompareSide
	}{{"A", c.A}, {"B", c.B}} {
		if st := s.side.StoppedByBudget; st != nil {
			fmt.Fprintf(b, "note: run %s was %s; its numbers cover what ran\n", s.name, st)
		}
	}
	b.WriteString("\n" + glossaryPointer)
	_, err := io.WriteString(w, b.String())
	return err
}

// Labels name each run by its settings that differ, KEY=VALUE as --set
// takes them, for a heading or a chart's legend.
func (c *Comparison) Labels() (a, b string) {
	var la, lb []string
	for _, d := range c.Differences {
		la = append(la, d.Key+"="+d.A)
		lb = append(lb, d.Key+"="+d.B)
	}
	return strings.Join(la, "  "), strings.Join(lb, "  ")
}

// sectionOf is the prefix of the compareText section path belongs to.
func sectionOf(path string) string {
	for _, sec := range compareText {
		if strings.HasPrefix(path, sec.prefix) {
			return sec.prefix
		}
	}
	return ""
}

// writeColumns prints rows of cells: the first column left-aligned, the
// two value columns right-aligned, the change as it comes. A row of one
// cell is a section heading.
func writeColumns(b *strings.Builder, table [][]string) {
	var width [3]int
	for _, row := range table {
		if len(row) < 4 {
			continue
		}
		for i := range width {
			width[i] = max(width[i], len(row[i]))
		}
	}
	for _, row := range table {
		if len(row) < 4 {
			fmt.Fprintf(b, "%s\n", row[0])
			continue
		}
		line := fmt.Sprintf("%-*s  %*s  %*s  %s", width[0], row[0], width[1], row[1], width[2], row[2], row[3])
		fmt.Fprintf(b, "%s\n", strings.TrimRight(line, " "))
	}
}

// cells prints a row's A, B and change (B - A, with the relative change
// when A is not zero and it is at least one percent) as FormatNumber does,
// with the row's unit when it is a time, a size or a rate (shownUnit).
func cells(r CompareRow) (a, b, d string) {
	unit := shownUnit(r.Unit)
	a, b = FormatQuantity(r.A, unit), FormatQuantity(r.B, unit)
	if !r.Differs {
		return a, b, ""
	}
	diff := r.B - r.A
	d = FormatQuantity(diff, unit)
	if diff > 0 {
		d = "+" + d
	}
	if r.A == 0 {
		return a, b, d
	}
	switch pct := diff / math.Abs(r.A) * 100; {
	case math.Abs(pct) >= 1000:
		d += fmt.Sprintf(" (×%.0f)", r.B/r.A)
	case math.Abs(pct) >= 1:
		d += fmt.Sprintf(" (%+.0f%%)", pct)
	}
	return a, b, d
}

// Cells is the row as compare prints it: A, B and the change, each with
// its unit where shownUnit shows one; the change is empty when the
// numbers are equal. The web view's comparison table shows these.
func (r CompareRow) Cells() (a, b, change string) { return cells(r) }

// FormatCell is v as a cell of compare's table prints it: FormatQuantity
// with the unit when it is a time, a size or a rate, a count bare
// (shownUnit). The web view's tables of metrics use it.
func FormatCell(v float64, unit string) string { return FormatQuantity(v, shownUnit(unit)) }

// shownUnit is the unit compare prints after a number: a time, a size or
// a rate. A count's unit ("records", "errors", "offset") is what
// its row and section already name, and would only repeat in every cell.
func shownUnit(unit string) string {
	switch {
	case unit == "ms" || unit == "ns" || unit == "B" || strings.HasSuffix(unit, "/s"):
		return unit
	}
	return ""
}

// FormatQuantity is v with its unit as compare prints it (FormatNumber,
// then the unit); a time (ms or ns) is in ms, or in s from a second up.
// Charts label their numbers with it, so that they read as the text.
func FormatQuantity(v float64, unit string) string {
	if unit == "ns" {
		v, unit = v/1e6, "ms"
	}
	if unit == "ms" && math.Abs(v) >= 1000 {
		v, unit = v/1000, "s"
	}
	if unit == "" {
		return FormatNumber(v)
	}
	return FormatNumber(v) + " " + unit
}

// expectationsText says whether a run met its expectations: the ones
// that failed, with what it got.
func expectationsText(es []ExpectResult) string {
	if len(es) == 0 {
		return "no expectations"
	}
	var bad []string
	for _, e := range es {
		if !e.OK {
			bad = append(bad, e.String())
		}
	}
	if len(bad) == 0 {
		if len(es) == 1 {
			return "ok: its expectation holds"
		}
		return fmt.Sprintf("ok: all %d expectations hold", len(es))
	}
	return fmt.Sprintf("FAIL %d of %d: %s", len(bad), len(es), strings.Join(bad, "; "))
}
