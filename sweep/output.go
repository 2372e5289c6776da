package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

// sectionOrder is the order of column groups; anything else comes last.
var sectionOrder = []string{"records", "errors", "metrics", "latency_ms", "partitions"}

// columns is the union of the runs' paths, in a fixed order: the sections
// in sectionOrder, paths sorted within a section, partitions by topic,
// then partition number, then field.
func columns(runs []Run) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range runs {
		for n := range r.Numbers {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		ka, kb := columnKey(a), columnKey(b)
		if c := ka.section - kb.section; c != 0 {
			return c
		}
		if c := strings.Compare(ka.topic, kb.topic); c != 0 {
			return c
		}
		if c := ka.partition - kb.partition; c != 0 {
			return c
		}
		return strings.Compare(ka.rest, kb.rest)
	})
	return names
}

type colKey struct {
	section   int
	topic     string
	partition int
	rest      string
}

func columnKey(name string) colKey {
	sec, rest, _ := strings.Cut(name, ".")
	k := colKey{section: len(sectionOrder), rest: name}
	if i := slices.Index(sectionOrder, sec); i >= 0 {
		k.section = i
	}
	if sec != "partitions" {
		return k
	}
	// partitions.TOPIC-N.FIELD; a topic name may hold dots and dashes, a
	// field name neither.
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return k
	}
	tp := rest[:dot]
	dash := strings.LastIndexByte(tp, '-')
	if dash < 0 {
		return k
	}
	n, err := strconv.Atoi(tp[dash+1:])
	if err != nil {
		return k
	}
	k.topic, k.partition, k.rest = tp[:dash], n, rest[dot+1:]
	return k
}

// formatNum writes a CSV cell exactly, never in scientific notation, so
// that the cell reads back as the same float64.
func formatNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// header is a column's name with its unit: "records.lost (records)", or
// with a statistic, "records.lost mean (records)".
func header(path string, stat ...string) string {
	h := strings.Join(append([]string{path}, stat...), " ")
	if u := scenarios.Unit(path); u != "" {
		return h + " (" + u + ")"
	}
	return h
}

// keys are the --vary keys, in order.
func (g *Grid) keys() []string {
	keys := make([]string, len(g.Varies))
	for i, v := range g.Varies {
		keys[i] = v.Key
	}
	return keys
}

// statNames are the summary columns the CSV adds per column of Columns.
var statNames = []string{"mean", "sd", "min", "max"}

// WriteCSV writes one row per run in grid order: the --vary keys, the
// seed, every number of the report (see columns; a number a run does not
// have is an empty cell), then, for each of Columns, the mean, standard
// deviation, minimum and maximum over the seeds of the run's combination.
// Headers are report paths with their units: "records.lost (records)".
func (g *Grid) WriteCSV(w io.Writer) error {
	cols := columns(g.Runs)
	head := append(g.keys(), "seed")
	for _, c := range cols {
		head = append(head, header(c))
	}
	for _, c := range g.Columns {
		for _, st := range statNames {
			head = append(head, header(c, st))
		}
	}
	stats := g.Stats()
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range g.Runs {
		row := append(r.values(g.Varies), strconv.FormatUint(r.Seed, 10))
		for _, c := range cols {
			cell := ""
			if v, ok := r.Numbers[c]; ok {
				cell = formatNum(v)
			} else if strings.HasPrefix(c, "errors.") {
				cell = "0" // a run that never met the error, as Stats counts it
			}
			row = append(row, cell)
		}
		for _, c := range g.Columns {
			st, ok := stats[r.Combo][c]
			for _, v := range []float64{st.Mean, st.SD, st.Min, st.Max} {
				cell := ""
				if ok {
					cell = formatNum(v)
				}
				row = append(row, cell)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Stat summarises one number over the seeds of a combination.
type Stat struct {
	Runs     int     // the runs that had the number
	Mean     float64 // their mean
	SD       float64 // their sample standard deviation; 0 for one run
	Min, Max float64
}

// Stats summarise every number of each combination over its seeds, in
// combination order.
func (g *Grid) Stats() []map[string]Stat {
	vals := make([]map[string][]float64, len(g.Combos))
	for i := range vals {
		vals[i] = map[string][]float64{}
	}
	for _, r := range g.Runs { // grid order: the same sums on any machine
		for k, v := range r.Numbers {
			vals[r.Combo][k] = append(vals[r.Combo][k], v)
		}
		// A report lists the errors a run met: for the others, as for
		// expect, a column's error count is 0.
		for _, c := range g.Columns {
			if _, ok := r.Numbers[c]; !ok && strings.HasPrefix(c, "errors.") {
				vals[r.Combo][c] = append(vals[r.Combo][c], 0)
			}
		}
	}
	stats := make([]map[string]Stat, len(g.Combos))
	for i, byPath := range vals {
		stats[i] = map[string]Stat{}
		for k, vs := range byPath {
			st := Stat{Runs: len(vs), Min: slices.Min(vs), Max: slices.Max(vs)}
			for _, v := range vs {
				st.Mean += v
			}
			st.Mean /= float64(len(vs))
			if len(vs) > 1 {
				var ss float64
				for _, v := range vs {
					ss += (v - st.Mean) * (v - st.Mean)
				}
				st.SD = math.Sqrt(ss / float64(len(vs)-1))
			}
			stats[i][k] = st
		}
	}
	return stats
}

// cell writes a Stat for the table: the value alone when every seed gave
// it, else "mean ± sd [min–max]".
func cell(st Stat) string {
	if st.Min == st.Max {
		return scenarios.FormatNumber(st.Mean)
	}
	f := scenarios.FormatNumber
	return fmt.Sprintf("%s ± %s [%s–%s]", f(st.Mean), f(st.SD), f(st.Min), f(st.Max))
}

// seedsNote says what a row of the table summarises.
func (g *Grid) seedsNote() string {
	perCombo := len(g.Runs) / len(g.Combos)
	first, last := g.Runs[0].Seed, g.Runs[perCombo-1].Seed
	if perCombo == 1 {
		if slices.ContainsFunc(g.Runs, func(r Run) bool { return r.Seed != first }) {
			// --vary seed=1,2: the rows' seeds differ
			return fmt.Sprintf("%s: one run per row, with the seed its row names", g.Scenario)
		}
		return fmt.Sprintf("%s: one run per row (seed %d)", g.Scenario, first)
	}
	return fmt.Sprintf("%s: each row is %d runs, seeds %d-%d; a cell is their mean ± standard deviation [min–max], or the one value every seed gave",
		g.Scenario, perCombo, first, last)
}

// WriteTable prints a line saying what a cell is, then one row per
// combination: its --vary values, its number of seeds and each of Columns
// over them, headed by the path and its unit.
func (g *Grid) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintln(w, g.seedsNote()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := append(g.keys(), "seeds")
	for _, c := range g.Columns {
		head = append(head, header(c))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	perCombo := len(g.Runs) / len(g.Combos)
	for i, st := range g.Stats() {
		row := append(comboValues(g.Combos[i]), strconv.Itoa(perCombo))
		for _, c := range g.Columns {
			text := "-"
			if s, ok := st[c]; ok {
				text = cell(s)
			}
			row = append(row, text)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	return tw.Flush()
}

// Plot is the data of --plot: each of Columns against the first --vary,
// a line (or a colour of bars) per combination of the others, each point
// the mean over the seeds with their minimum and maximum. The grid needs
// a --vary.
func (g *Grid) Plot() *plots.Sweep {
	stats := g.Stats()
	sw := &plots.Sweep{Scenario: g.Scenario, Param: g.Varies[0].Key, ParamUnit: settingUnit(g.Varies[0].Key), Seeds: len(g.Runs) / len(g.Combos)}
	for _, c := range g.Columns {
		if slices.ContainsFunc(stats, func(st map[string]Stat) bool { _, ok := st[c]; return ok }) {
			sw.Metrics = append(sw.Metrics, plots.SweepMetric{Path: c, Unit: scenarios.Unit(c)})
		}
	}
	lineOf := map[string]int{}
	for i, c := range g.Combos {
		_, x, _ := strings.Cut(c[0], "=")
		label := strings.Join(c[1:], ", ")
		li, ok := lineOf[label]
		if !ok {
			li = len(sw.Lines)
			lineOf[label] = li
			sw.Lines = append(sw.Lines, plots.SweepLine{Label: label})
		}
		values := map[string]plots.SweepValue{}
		for k, st := range stats[i] {
			values[k] = plots.SweepValue{Mean: st.Mean, Min: st.Min, Max: st.Max}
		}
		sw.Lines[li].Points = append(sw.Lines[li].Points, plots.SweepPoint{X: x, Values: values})
	}
	return sw
}

// settingUnit is the unit of a --vary key's values, from Kafka's naming
// of properties (*.ms in milliseconds; *.bytes, batch.size, buffer.memory
// and max.request.size in bytes) and the workload's keys; "" for a count,
// a name or a Go duration (whose values carry their unit).
func settingUnit(key string) string {
	switch {
	case strings.HasSuffix(key, ".ms"):
		return "ms"
	case strings.HasSuffix(key, ".bytes"), slices.Contains([]string{"producer.batch.size", "producer.buffer.memory", "producer.max.request.size"}, key):
		return "B"
	case key == "workload.rate":
		return "records/s"
	}
	return ""
}
