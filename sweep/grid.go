// Package sweep runs a scenario over a grid of settings and seeds: every
// combination of the --vary values, each with every seed. Each run is
// single-threaded and deterministic; runs execute in parallel and results
// keep grid order, so the output is the same on any number of cores.
package sweep

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/scenarios"
)

// MaxRuns bounds a sweep, so that a typo in --seeds does not start a run
// that never ends.
const MaxRuns = 100_000

// Vary is one --vary flag: a scenario key and the values it takes.
type Vary struct {
	Key    string
	Values []string
}

// ParseVaries reads --vary flags, each KEY=V1,V2,...
func ParseVaries(flags []string) ([]Vary, error) {
	var vs []Vary
	for _, f := range flags {
		key, list, ok := strings.Cut(f, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || list == "" {
			return nil, fmt.Errorf("--vary %q: expected KEY=V1,V2,...", f)
		}
		v := Vary{Key: key}
		for _, x := range strings.Split(list, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				return nil, fmt.Errorf("--vary %q: an empty value", f)
			}
			v.Values = append(v.Values, x)
		}
		for _, o := range vs {
			if o.Key == key {
				return nil, fmt.Errorf("--vary %s given twice; list every value in one --vary", key)
			}
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// ParseSeeds reads A-B (inclusive) or a single N; "" is no seeds, meaning
// the scenario's own.
func ParseSeeds(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	bad := fmt.Errorf("--seeds %q: expected A-B (inclusive) or one number", s)
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
		return nil, fmt.Errorf("--seeds %s: the range must go up", s)
	}
	if b-a >= MaxRuns {
		return nil, fmt.Errorf("--seeds %s: more than %d seeds", s, MaxRuns)
	}
	seeds := make([]uint64, 0, b-a+1)
	for x := a; ; x++ {
		seeds = append(seeds, x)
		if x == b {
			return seeds, nil
		}
	}
}

// Grid is a sweep's plan: the scenario, the combinations of the --vary
// values and one run per combination and seed.
type Grid struct {
	Scenario string
	Varies   []Vary
	// Combos are the combinations as KEY=VALUE lists in grid order, the
	// first --vary slowest.
	Combos [][]string
	Runs   []Run
	// Columns are the numbers the table, the CSV's summary columns and
	// the plot show: by default the scenario's expect paths (a lesson's
	// own outcome) first, then defaultColumns; SetColumns chooses others.
	Columns []string

	// loaded are the scenario with the --set values and with each --vary
	// value, for SetColumns to check paths against (a --vary of
	// topic.partitions adds partitions).
	loaded []*scenarios.Scenario
	// classes are the partitioner.class values the scenario may name
	// beyond the built-in ones (a student's partitioner), as
	// scenarios.Load takes them.
	classes []producer.PartitionerClass
}

// Run is one point of the grid and, once executed, what it reported.
type Run struct {
	Combo    int      // index into Grid.Combos
	Sets     []string // the --set values, then the combination's KEY=VALUE
	seedFlag *uint64  // from --seeds; nil: the scenario's own

	Seed    uint64             // the seed it ran with
	Numbers map[string]float64 // the report's numbers by path (scenarios.Report.Numbers)
	// Stopped is set when a budget stopped the run: its numbers are of a
	// partial run.
	Stopped *scenarios.BudgetStop
}

// NewGrid checks the scenario with every --vary value alone, so that an
// error names the --vary it comes from, and then every combination, which
// can fail on its own (enable.idempotence=true with acks=1). Without seeds
// each combination runs once with the scenario's own. classes are the
// partitioner.class values the scenario or a --vary may name beyond the
// built-in ones, as scenarios.Load takes them.
func NewGrid(scenario string, sets []string, varies []Vary, seeds []uint64, classes ...producer.PartitionerClass) (*Grid, error) {
	base, err := scenarios.Load(scenario, sets, classes...)
	if err != nil {
		return nil, err
	}
	loaded := []*scenarios.Scenario{base}
	for _, v := range varies {
		for _, x := range v.Values {
			s, err := scenarios.Load(scenario, append(slices.Clone(sets), v.Key+"="+x), classes...)
			if err != nil {
				return nil, fmt.Errorf("--vary %s=%s: %v", v.Key, x, err)
			}
			loaded = append(loaded, s)
		}
	}
	combos := [][]string{nil}
	for _, v := range varies {
		if len(combos)*len(v.Values) > MaxRuns {
			return nil, fmt.Errorf("the --vary values make more than %d combinations", MaxRuns)
		}
		var next [][]string
		for _, c := range combos {
			for _, x := range v.Values {
				next = append(next, append(slices.Clone(c), v.Key+"="+x))
			}
		}
		combos = next
	}
	if len(varies) > 1 {
		for _, c := range combos {
			if _, err := scenarios.Load(scenario, append(slices.Clone(sets), c...), classes...); err != nil {
				return nil, fmt.Errorf("--vary combination %s: %v", strings.Join(c, ", "), err)
			}
		}
	}
	if n := len(combos) * max(1, len(seeds)); n > MaxRuns {
		return nil, fmt.Errorf("the sweep has %d runs; at most %d", n, MaxRuns)
	}
	g := &Grid{Scenario: scenario, Varies: varies, Combos: combos, loaded: loaded, classes: classes}
	for _, e := range base.Expect {
		g.Columns = append(g.Columns, e.Path)
	}
	for _, c := range defaultColumns {
		if !slices.Contains(g.Columns, c) {
			g.Columns = append(g.Columns, c)
		}
	}
	for c, combo := range combos {
		s := append(slices.Clone(sets), combo...)
		if len(seeds) == 0 {
			g.Runs = append(g.Runs, Run{Combo: c, Sets: s})
		}
		for i := range seeds {
			g.Runs = append(g.Runs, Run{Combo: c, Sets: s, seedFlag: &seeds[i]})
		}
	}
	return g, nil
}

// defaultColumns follow a scenario's expect paths in Columns.
var defaultColumns = []string{
	"records.sent", "records.acked", "records.lost", "records.duplicated",
	"latency_ms.p99", "metrics.record-send-rate",
}

// SetColumns replaces Columns with paths, each a number a report of the
// scenario can hold (scenarios.Scenario.CheckPath), in the order given.
func (g *Grid) SetColumns(paths []string) error {
	if len(paths) == 0 {
		return fmt.Errorf("--columns: name at least one report path, like records.lost")
	}
	var cols []string
	for _, p := range paths {
		var err error
		for _, s := range g.loaded {
			if err = s.CheckPath(p); err == nil {
				break
			}
		}
		switch {
		case err != nil:
			return fmt.Errorf("--columns %s: %v", p, err)
		case slices.Contains(cols, p):
			return fmt.Errorf("--columns %s: named twice", p)
		}
		cols = append(cols, p)
	}
	g.Columns = cols
	return nil
}

// Execute runs the grid on n workers and, unless done is nil, calls it
// with the number of runs finished after each one. Workers share nothing:
// each loads its own scenario, and runs it again for the next run of the
// same combination (a scenario runs with one seed after another, as the
// lesson tests do), and each run stores its result at its grid index. The
// error is the first failed run's, in grid order.
//
// A run that panics does not take the process down from its worker: the
// first panic, in grid order, is raised again on the caller's goroutine
// as a *Panic, once every run has finished.
func (g *Grid) Execute(n int, done func(finished int)) error {
	defer FewerCollections()()
	// Both channels hold every run, so that a worker never waits for the
	// feeder or for the progress loop to be scheduled: runs last a fraction
	// of a millisecond, and a handoff per run would cost a core its share.
	jobs := make(chan int, len(g.Runs))
	errs := make([]error, len(g.Runs))
	panics := make([]*Panic, len(g.Runs))
	finished := make(chan struct{}, len(g.Runs))
	for range min(n, len(g.Runs)) {
		go func() {
			var w worker
			for i := range jobs {
				panics[i] = Catch(func() { errs[i] = w.execute(g.Scenario, g.classes, &g.Runs[i]) })
				if panics[i] != nil {
					w = worker{} // load afresh after a panic
				}
				finished <- struct{}{}
			}
		}()
	}
	for i := range g.Runs {
		jobs <- i
	}
	close(jobs)
	for i := range g.Runs {
		<-finished
		if done != nil {
			done(i + 1)
		}
	}
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Stopped describes the runs a budget stopped, "" when none: their numbers
// are of partial runs, and the sweep's means include them.
func (g *Grid) Stopped() string {
	n, first := 0, -1
	for i := range g.Runs {
		if g.Runs[i].Stopped != nil {
			n++
			if first < 0 {
				first = i
			}
		}
	}
	if n == 0 {
		return ""
	}
	r := &g.Runs[first]
	return fmt.Sprintf("%d of %d runs stopped by a budget; their numbers are of partial runs (first: seed %d, %s: %s)",
		n, len(g.Runs), r.Seed, strings.Join(r.Sets, " "), r.Stopped)
}

// Panic is a panic caught on a worker goroutine, with that goroutine's
// stack, to be raised again where the caller can report it.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprint(p.Value) }

// Catch calls f and returns its panic, or nil.
func Catch(f func()) (p *Panic) {
	defer func() {
		if v := recover(); v != nil {
			p = &Panic{Value: v, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}

// worker is one goroutine of Execute: the scenario it loaded last, for
// the combination it belongs to. Parsing a scenario costs about as much
// as a small run.
type worker struct {
	combo  int
	loaded *scenarios.Scenario
	// traceRoom is the trace entries the next run of the combination
	// reserves: about as many as the last run kept (Result.TraceRoom), so
	// its trace does not grow entry by entry.
	traceRoom int
}

func (w *worker) execute(scenario string, classes []producer.PartitionerClass, r *Run) error {
	if w.loaded == nil || w.combo != r.Combo {
		s, err := scenarios.Load(scenario, r.Sets, classes...)
		if err != nil {
			return err
		}
		w.combo, w.loaded, w.traceRoom = r.Combo, s, 0
	}
	res := w.loaded.Run(scenarios.RunOptions{Seed: r.seedFlag, TraceEntries: w.traceRoom})
	w.traceRoom = res.TraceRoom()
	rep := res.Report
	r.Seed = rep.Seed
	r.Stopped = rep.StoppedByBudget
	r.Numbers = map[string]float64{}
	rep.Numbers(func(path string, v float64) { r.Numbers[path] = v })
	return nil
}

// values are the run's --vary values, in --vary order.
func (r *Run) values(varies []Vary) []string {
	return comboValues(r.Sets[len(r.Sets)-len(varies):])
}

// comboValues are the values of KEY=VALUE settings.
func comboValues(combo []string) []string {
	vs := make([]string, len(combo))
	for i, kv := range combo {
		_, vs[i], _ = strings.Cut(kv, "=")
	}
	return vs
}
