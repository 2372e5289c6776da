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

func formatNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// keys are the --vary keys, in order.
func (g *Grid) keys() []string {
	keys := make([]string, len(g.Varies))
	for i, v := range g.Varies {
		keys[i] = v.Key
	}
	return keys
}

// WriteCSV writes one row per run in grid order: the --vary keys, the
// seed, then every number of the report (see columns); a number a run does
// not have is an empty cell.
func (g *Grid) WriteCSV(w io.Writer) error {
	cols := columns(g.Runs)
	cw := csv.NewWriter(w)
	if err := cw.Write(slices.Concat(g.keys(), []string{"seed"}, cols)); err != nil {
		return err
	}
	for _, r := range g.Runs {
		row := append(r.values(g.Varies), strconv.FormatUint(r.Seed, 10))
		for _, c := range cols {
			cell := ""
			if v, ok := r.Numbers[c]; ok {
				cell = formatNum(v)
			}
			row = append(row, cell)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// tableColumns are the numbers the table shows, averaged over seeds.
var tableColumns = []struct{ head, path string }{
	{"sent", "records.sent"},
	{"acked", "records.acked"},
	{"lost", "records.lost"},
	{"duplicated", "records.duplicated"},
	{"record-send-rate", "metrics.record-send-rate"},
	{"request-latency-avg", "metrics.request-latency-avg"},
	{"latency-p99", "latency_ms.p99"},
	{"batch-size-avg", "metrics.batch-size-avg"},
}

// plotMetrics are the numbers Plot draws, when the runs have them.
var plotMetrics = []string{
	"metrics.record-send-rate", "metrics.request-latency-avg", "latency_ms.p99",
	"metrics.batch-size-avg", "records.lost", "records.duplicated",
}

// averages is the mean of every number over the runs of each combination.
func (g *Grid) averages() []map[string]float64 {
	sums := make([]map[string]float64, len(g.Combos))
	counts := make([]map[string]int, len(g.Combos))
	for i := range sums {
		sums[i], counts[i] = map[string]float64{}, map[string]int{}
	}
	for _, r := range g.Runs {
		for k, v := range r.Numbers {
			sums[r.Combo][k] += v
			counts[r.Combo][k]++
		}
	}
	for i, s := range sums {
		for k := range s {
			s[k] /= float64(counts[i][k])
		}
	}
	return sums
}

// WriteTable prints one row per combination, averaged over its seeds.
func (g *Grid) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := append(g.keys(), "runs")
	for _, c := range tableColumns {
		head = append(head, c.head)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	perCombo := len(g.Runs) / len(g.Combos)
	for i, avg := range g.averages() {
		row := append(comboValues(g.Combos[i]), strconv.Itoa(perCombo))
		for _, c := range tableColumns {
			cell := "-"
			if v, ok := avg[c.path]; ok {
				cell = formatNum(math.Round(v*1000) / 1000)
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	return tw.Flush()
}

// Plot is the data of --plot: the first --vary on x, a line per
// combination of the others, seeds averaged. The grid needs a --vary.
func (g *Grid) Plot() *plots.Sweep {
	avgs := g.averages()
	present := map[string]bool{}
	for _, a := range avgs {
		for k := range a {
			present[k] = true
		}
	}
	sw := &plots.Sweep{Scenario: g.Scenario, Param: g.Varies[0].Key}
	for _, m := range plotMetrics {
		if present[m] {
			sw.Metrics = append(sw.Metrics, m)
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
		sw.Lines[li].Points = append(sw.Lines[li].Points, plots.SweepPoint{X: x, Values: avgs[i]})
	}
	return sw
}
