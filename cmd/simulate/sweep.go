package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

// maxSweepRuns bounds a sweep, so that a typo in --seeds does not start a
// run that never ends.
const maxSweepRuns = 100_000

// vary is one --vary flag: a scenario key and the values it takes.
type vary struct {
	key    string
	values []string
}

// sweepRun is one point of the grid: a combination of --vary values and a
// seed, and what its run reported.
type sweepRun struct {
	combo int      // index into the combinations, in grid order
	sets  []string // --set, then the combination's KEY=VALUE
	seed  *uint64  // nil: the scenario's own
	flat  map[string]float64
	err   error
}

// cmdSweep runs every combination of the --vary values (the first --vary
// varies slowest) with every seed. Each run is single-threaded and
// deterministic; runs execute in parallel and print in grid order, so the
// output is the same on any number of cores.
func cmdSweep(args []string, out, stderr io.Writer) error {
	fs := newFlags("sweep")
	varyFlags := fs.StringArray("vary", nil, "vary a scenario key over values, KEY=V1,V2,... (repeatable; the first varies slowest)")
	seedsFlag := fs.String("seeds", "", "seeds to run each combination with: A-B (inclusive) or N; default the scenario's own")
	sets := fs.StringArray("set", nil, "override a scenario value for every run, KEY=VALUE (repeatable)")
	csvPath := fs.String("csv", "", "write one CSV row per run to this file (- for stdout, instead of the table)")
	plotPath := fs.String("plot", "", "draw the key metrics against the first --vary into this .png or .svg file")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs at once")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"sweep needs one scenario: a built-in name or a file"}
	}
	if *parallel < 1 {
		return &usageError{fmt.Sprintf("--parallel %d: must be at least 1", *parallel)}
	}
	if *plotPath != "" {
		if len(*varyFlags) == 0 {
			return &usageError{"--plot needs a --vary for its x axis"}
		}
		if ext := strings.ToLower(*plotPath); !strings.HasSuffix(ext, ".png") && !strings.HasSuffix(ext, ".svg") {
			return &usageError{fmt.Sprintf("--plot %s: the file name must end in .png or .svg", *plotPath)}
		}
	}
	varies, err := parseVaries(*varyFlags)
	if err != nil {
		return err
	}
	seeds, err := parseSeeds(*seedsFlag)
	if err != nil {
		return err
	}
	name := fs.Arg(0)
	combos, err := validateGrid(name, *sets, varies)
	if err != nil {
		return err
	}
	nSeeds := max(1, len(seeds))
	if len(combos)*nSeeds > maxSweepRuns {
		return &usageError{fmt.Sprintf("the sweep has %d runs; at most %d", len(combos)*nSeeds, maxSweepRuns)}
	}

	runs := make([]sweepRun, 0, len(combos)*nSeeds)
	for c, combo := range combos {
		s := append(slices.Clone(*sets), combo...)
		if len(seeds) == 0 {
			runs = append(runs, sweepRun{combo: c, sets: s})
		}
		for i := range seeds {
			runs = append(runs, sweepRun{combo: c, sets: s, seed: &seeds[i]})
		}
	}
	executeSweep(name, runs, *parallel, newProgress(stderr, len(runs)))
	for i := range runs {
		if runs[i].err != nil {
			return runs[i].err
		}
	}

	if *csvPath != "" && *csvPath != "-" {
		if err := writeCSVFile(*csvPath, varies, runs); err != nil {
			return &usageError{fmt.Sprintf("--csv: %v", err)}
		}
	}
	if *plotPath != "" {
		if err := plots.WriteSweep(*plotPath, sweepPlot(name, varies, combos, runs)); err != nil {
			return &usageError{fmt.Sprintf("--plot: %v", err)}
		}
	}
	if *csvPath == "-" {
		return writeCSV(out, varies, runs)
	}
	return writeTable(out, varies, combos, runs)
}

func parseVaries(flags []string) ([]vary, error) {
	var vs []vary
	for _, f := range flags {
		key, list, ok := strings.Cut(f, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || list == "" {
			return nil, &usageError{fmt.Sprintf("--vary %q: expected KEY=V1,V2,...", f)}
		}
		v := vary{key: key}
		for _, x := range strings.Split(list, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				return nil, &usageError{fmt.Sprintf("--vary %q: an empty value", f)}
			}
			v.values = append(v.values, x)
		}
		for _, o := range vs {
			if o.key == key {
				return nil, &usageError{fmt.Sprintf("--vary %s given twice; list every value in one --vary", key)}
			}
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// parseSeeds reads A-B (inclusive) or a single N; "" is no seeds, meaning
// the scenario's own.
func parseSeeds(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	bad := &usageError{fmt.Sprintf("--seeds %q: expected A-B (inclusive) or one number", s)}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
	if err != nil {
		return nil, bad
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil {
			return nil, bad
		}
	}
	if b < a {
		return nil, &usageError{fmt.Sprintf("--seeds %s: the range must go up", s)}
	}
	if b-a >= maxSweepRuns {
		return nil, &usageError{fmt.Sprintf("--seeds %s: more than %d seeds", s, maxSweepRuns)}
	}
	seeds := make([]uint64, 0, b-a+1)
	for x := a; ; x++ {
		seeds = append(seeds, x)
		if x == b {
			return seeds, nil
		}
	}
}

// validateGrid loads the scenario with every --vary value alone, so that an
// error names the --vary it comes from, and then every combination, which
// can fail on its own (enable.idempotence=true with acks=1). It returns the
// combinations as KEY=VALUE lists in grid order, the first --vary slowest.
func validateGrid(name string, sets []string, varies []vary) ([][]string, error) {
	if _, err := scenarios.Load(name, sets); err != nil {
		return nil, err
	}
	for _, v := range varies {
		for _, x := range v.values {
			if _, err := scenarios.Load(name, append(slices.Clone(sets), v.key+"="+x)); err != nil {
				return nil, &usageError{fmt.Sprintf("--vary %s=%s: %v", v.key, x, err)}
			}
		}
	}
	combos := [][]string{nil}
	for _, v := range varies {
		if len(combos)*len(v.values) > maxSweepRuns {
			return nil, &usageError{fmt.Sprintf("the --vary values make more than %d combinations", maxSweepRuns)}
		}
		var next [][]string
		for _, c := range combos {
			for _, x := range v.values {
				next = append(next, append(slices.Clone(c), v.key+"="+x))
			}
		}
		combos = next
	}
	if len(varies) > 1 {
		for _, c := range combos {
			if _, err := scenarios.Load(name, append(slices.Clone(sets), c...)); err != nil {
				return nil, &usageError{fmt.Sprintf("--vary combination %s: %v", strings.Join(c, ", "), err)}
			}
		}
	}
	return combos, nil
}

// executeSweep runs the grid on n workers. Each run loads its own scenario,
// so runs share nothing, and stores its result at its grid index.
func executeSweep(name string, runs []sweepRun, n int, bar *progress) {
	jobs := make(chan int)
	done := make(chan struct{})
	for range min(n, len(runs)) {
		go func() {
			for i := range jobs {
				r := &runs[i]
				s, err := scenarios.Load(name, r.sets)
				if err == nil {
					r.flat, err = flatten(s.Run(scenarios.RunOptions{Seed: r.seed}).Report)
				}
				r.err = err
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range runs {
			jobs <- i
		}
		close(jobs)
	}()
	for i := range runs {
		<-done
		bar.set(i + 1)
	}
	bar.finish()
}

// skipSections are report sections with no per-run numbers worth a column:
// the seed has its own, the rest are text.
var skipSections = map[string]bool{
	"scenario": true, "seed": true, "config": true, "anomalies": true, "timeline": true, "expectations": true,
}

// flatten turns a report into dotted names and numbers, through its JSON
// form so that the names are the report's own: records.lost,
// errors.NOT_ENOUGH_REPLICAS, metrics.record-send-rate, latency_ms.p99,
// partitions.orders-0.leader_elections. Strings, booleans and arrays other
// than partitions are left out. The seed is kept under "seed".
func flatten(rep *scenarios.Report) (map[string]float64, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	flat := map[string]float64{"seed": float64(rep.Seed)}
	for section, v := range top {
		switch {
		case skipSections[section]:
		case section == "partitions":
			parts, _ := v.([]any)
			for _, p := range parts {
				obj, _ := p.(map[string]any)
				name := fmt.Sprintf("partitions.%v-%v", obj["topic"], obj["partition"])
				for field, x := range obj {
					if field != "partition" {
						addNumbers(flat, name+"."+field, x)
					}
				}
			}
		default:
			addNumbers(flat, section, v)
		}
	}
	return flat, nil
}

func addNumbers(flat map[string]float64, name string, v any) {
	switch v := v.(type) {
	case float64:
		flat[name] = v
	case map[string]any:
		for k, x := range v {
			addNumbers(flat, name+"."+k, x)
		}
	}
}

// sectionOrder is the order of column groups; anything else comes last.
var sectionOrder = []string{"records", "errors", "metrics", "latency_ms", "partitions"}

// columns is the union of the runs' names, in a fixed order: the sections
// in sectionOrder, names sorted within a section, partitions by topic, then
// partition number, then field.
func columns(runs []sweepRun) []string {
	seen := map[string]bool{"seed": true}
	var names []string
	for _, r := range runs {
		for n := range r.flat {
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

func writeCSVFile(path string, varies []vary, runs []sweepRun) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeCSV(f, varies, runs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeCSV writes one row per run in grid order: the --vary keys, the seed,
// then every number of the report (see columns); a number a run does not
// have is an empty cell.
func writeCSV(w io.Writer, varies []vary, runs []sweepRun) error {
	cols := columns(runs)
	cw := csv.NewWriter(w)
	header := make([]string, 0, len(varies)+1+len(cols))
	for _, v := range varies {
		header = append(header, v.key)
	}
	header = append(header, "seed")
	if err := cw.Write(append(header, cols...)); err != nil {
		return err
	}
	for _, r := range runs {
		row := make([]string, 0, len(header)+len(cols))
		for _, kv := range r.sets[len(r.sets)-len(varies):] {
			_, x, _ := strings.Cut(kv, "=")
			row = append(row, x)
		}
		row = append(row, formatNum(r.flat["seed"]))
		for _, c := range cols {
			cell := ""
			if v, ok := r.flat[c]; ok {
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

// tableColumns are the numbers the stdout table shows, averaged over seeds.
var tableColumns = []struct{ head, name string }{
	{"sent", "records.sent"},
	{"acked", "records.acked"},
	{"lost", "records.lost"},
	{"duplicated", "records.duplicated"},
	{"record-send-rate", "metrics.record-send-rate"},
	{"request-latency-avg", "metrics.request-latency-avg"},
	{"latency-p99", "latency_ms.p99"},
	{"batch-size-avg", "metrics.batch-size-avg"},
}

// plotMetrics are the metrics --plot draws, when the runs have them.
var plotMetrics = []string{
	"metrics.record-send-rate", "metrics.request-latency-avg", "latency_ms.p99",
	"metrics.batch-size-avg", "records.lost", "records.duplicated",
}

// averages is the mean of every number over the runs of each combination.
func averages(nCombos int, runs []sweepRun) []map[string]float64 {
	sums := make([]map[string]float64, nCombos)
	counts := make([]map[string]int, nCombos)
	for i := range sums {
		sums[i], counts[i] = map[string]float64{}, map[string]int{}
	}
	for _, r := range runs {
		for k, v := range r.flat {
			sums[r.combo][k] += v
			counts[r.combo][k]++
		}
	}
	for i, s := range sums {
		for k := range s {
			s[k] /= float64(counts[i][k])
		}
	}
	return sums
}

// writeTable prints one row per combination, averaged over its seeds.
func writeTable(w io.Writer, varies []vary, combos [][]string, runs []sweepRun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var head []string
	for _, v := range varies {
		head = append(head, v.key)
	}
	head = append(head, "runs")
	for _, c := range tableColumns {
		head = append(head, c.head)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	perCombo := len(runs) / len(combos)
	for i, avg := range averages(len(combos), runs) {
		var row []string
		for _, kv := range combos[i] {
			_, x, _ := strings.Cut(kv, "=")
			row = append(row, x)
		}
		row = append(row, strconv.Itoa(perCombo))
		for _, c := range tableColumns {
			cell := "-"
			if v, ok := avg[c.name]; ok {
				cell = formatNum(math.Round(v*1000) / 1000)
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	return tw.Flush()
}

// sweepPlot is the data of --plot: the first --vary on x, a line per
// combination of the others, seeds averaged.
func sweepPlot(name string, varies []vary, combos [][]string, runs []sweepRun) *plots.Sweep {
	avgs := averages(len(combos), runs)
	present := map[string]bool{}
	for _, a := range avgs {
		for k := range a {
			present[k] = true
		}
	}
	sw := &plots.Sweep{Scenario: name, Param: varies[0].key}
	for _, m := range plotMetrics {
		if present[m] {
			sw.Metrics = append(sw.Metrics, m)
		}
	}
	lineOf := map[string]int{}
	for i, c := range combos {
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

// progress is a bar on stderr while a sweep runs, drawn only when stderr
// is a terminal: a log file or a test gets nothing.
type progress struct {
	w     io.Writer
	total int
}

func newProgress(stderr io.Writer, total int) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: f, total: total}
}

func (p *progress) set(n int) {
	if p == nil {
		return
	}
	const width = 30
	filled := n * width / p.total
	fmt.Fprintf(p.w, "\rsweep [%s%s] %d/%d runs", strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, p.total)
}

func (p *progress) finish() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
