package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/kafkasim/kafkasim/hunt"
	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/scenarios"
)

// defaultHuntBudget is --budget's default: enough for the lessons'
// counterexamples, a few seconds on two cores.
const defaultHuntBudget = 1000

// cmdHunt looks for a fault schedule that breaks a property of a
// scenario (package hunt searches, shards and merges); hunt merge FILE...
// combines the results of its shards.
func cmdHunt(args []string, out, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return cmdHuntMerge(args[1:], out, stderr)
	}
	fs := newFlags("hunt")
	property := fs.String("property", "", "the property to break: no-loss, no-duplicates, no-reordering or exactly-once")
	budget := fs.Int("budget", defaultHuntBudget, "schedules to try: indices 0 to N-1 (a shard tries its share)")
	limit := fs.Duration("time", 0, "try schedules for this long instead of a --budget (e.g. 10m)")
	seed := fs.Uint64("seed", 1, "the hunt's seed: schedule i is drawn from it and i alone")
	sets := fs.StringArray("set", nil, "override a scenario value, KEY=VALUE (repeatable)")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "schedules at once")
	shardFlag := fs.String("shard", "", "try only schedule indices i with i mod N == I, as shard I/N of N processes (hunt merge combines them)")
	format := fs.String("format", "text", "output format: text or json (the result hunt merge reads)")
	outPath := fs.String("out", "", "also write the result as JSON to this file (for hunt merge)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "hunt needs one scenario: a built-in name or a file (or: hunt merge FILE...)"); err != nil {
		return err
	}
	if *property == "" {
		return &usageError{"hunt needs --property: no-loss, no-duplicates, no-reordering or exactly-once"}
	}
	if fs.Changed("budget") && fs.Changed("time") {
		return &usageError{"hunt takes --budget N or --time D, not both"}
	}
	if *budget < 1 || *budget > hunt.MaxBudget {
		return &usageError{fmt.Sprintf("--budget %d: use 1 to %d schedules", *budget, hunt.MaxBudget)}
	}
	if fs.Changed("time") {
		if *limit <= 0 {
			return &usageError{fmt.Sprintf("--time %v: use a duration above zero, e.g. 10m", *limit)}
		}
		*budget = hunt.MaxBudget
	}
	if err := checkParallel(*parallel); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return &usageError{fmt.Sprintf("--format %q: use text or json", *format)}
	}
	shard := hunt.Whole
	if *shardFlag != "" {
		var err error
		if shard, err = hunt.ParseShard(*shardFlag); err != nil {
			return &usageError{err.Error()}
		}
	}
	if *outPath != "" {
		if err := outfile.CheckFile(*outPath); err != nil {
			return &usageError{fmt.Sprintf("--out: %v", err)}
		}
	}
	h, err := scenarios.NewHunt(fs.Arg(0), *sets, *property, *seed)
	if err != nil {
		return err
	}

	bar := newHuntProgress(stderr)
	search := &hunt.Search{Hunt: h, Budget: *budget, Shard: shard, Parallel: *parallel, Progress: bar.tried}
	if fs.Changed("time") {
		deadline := time.Now().Add(*limit) // the wall clock is the command line's
		search.Stop = func() bool { return time.Now().After(deadline) }
	}
	setInterruptNote(func() string { return searchSoFar(h, search) })
	found := search.Run()
	bar.finish()
	res := hunt.NewResult(search, hunt.Options{Scenario: fs.Arg(0), Sets: *sets}, found)
	if shard == hunt.Whole {
		if err := shrinkResult(h, res, *parallel, stderr); err != nil {
			return err
		}
	}
	setInterruptNote(nil)
	return writeHunt(res, h, *format, *outPath, out, shard == hunt.Whole)
}

// cmdHuntMerge combines the results of a hunt's shards and shrinks the
// lowest violation, as one machine would have.
func cmdHuntMerge(args []string, out, stderr io.Writer) error {
	fs := newFlags("hunt merge")
	format := fs.String("format", "text", "output format: text or json")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs at once while shrinking")
	outPath := fs.String("out", "", "also write the merged result as JSON to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"hunt merge needs the result files of a hunt's shards (hunt --shard I/N --out FILE writes them)"}
	}
	if *format != "text" && *format != "json" {
		return &usageError{fmt.Sprintf("--format %q: use text or json", *format)}
	}
	if err := checkParallel(*parallel); err != nil {
		return err
	}
	var parts []*hunt.Result
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return &usageError{fmt.Sprintf("hunt merge: %v", err)}
		}
		r, err := hunt.ReadResult(f)
		f.Close()
		if err != nil {
			return &usageError{fmt.Sprintf("hunt merge: %s: %v", name, err)}
		}
		parts = append(parts, r)
	}
	res, err := hunt.Merge(parts)
	if err != nil {
		return &usageError{err.Error()}
	}
	h, err := scenarios.NewHunt(res.Scenario, res.Sets, res.Property, res.HuntSeed)
	if err != nil {
		return err
	}
	if h.Hash() != res.ScenarioHash {
		return &usageError{fmt.Sprintf("hunt merge: %s is no longer the scenario the shards hunted (hash %s, now %s)", res.Scenario, res.ScenarioHash, h.Hash())}
	}
	if res.Build != hunt.Build() {
		return &usageError{fmt.Sprintf("hunt merge: the shards ran on another simulate build (%s) than this one (%s); merge with the build that ran them", res.Build, hunt.Build())}
	}
	if len(res.Unchecked) == 0 {
		// A provisional violation is not the one a single machine would
		// shrink: a lower one may exist.
		if err := shrinkResult(h, res, *parallel, stderr); err != nil {
			return err
		}
	}
	return writeHunt(res, h, *format, *outPath, out, true)
}

func shrinkResult(h *scenarios.Hunt, res *hunt.Result, parallel int, stderr io.Writer) error {
	if res.Violation == nil {
		return nil
	}
	var smallest atomic.Pointer[string] // read by the interrupt's goroutine
	smallest.Store(&res.Violation.Schedule)
	setInterruptNote(func() string {
		return fmt.Sprintf("interrupted while shrinking schedule %d; the smallest violating scenario so far:\n%s", res.Violation.Index, *smallest.Load())
	})
	bar := newHuntProgress(stderr)
	var runs atomic.Int64
	err := res.Shrink(h, parallel, func(yaml string) { smallest.Store(&yaml) }, func() {
		bar.line(fmt.Sprintf("hunt: shrinking schedule %d: %d runs", res.Violation.Index, runs.Add(1)))
	})
	bar.finish()
	return err
}

// writeHunt prints the result; a violation is exit status 1 for a whole
// hunt, as a failed expectation is (a shard's answer is its JSON).
func writeHunt(res *hunt.Result, h *scenarios.Hunt, format, outPath string, out io.Writer, whole bool) error {
	if outPath != "" {
		if err := outfile.Write(outPath, res.WriteJSON); err != nil {
			return &usageError{fmt.Sprintf("--out: %v", err)}
		}
	}
	var err error
	if format == "json" {
		err = res.WriteJSON(out)
	} else {
		err = res.WriteText(out, h)
	}
	if err == nil && whole && res.Violation != nil {
		return &failedError{fmt.Sprintf("%s broken by schedule %d of hunt seed %d", res.Property, res.Violation.Index, res.HuntSeed)}
	}
	return err
}

// searchSoFar is what an interrupted search had found.
func searchSoFar(h *scenarios.Hunt, s *hunt.Search) string {
	f := s.Snapshot()
	if f.Unconfirmed >= 0 {
		return fmt.Sprintf("interrupted: schedule %d violates %s; indices below it not yet all run (not shrunk):\n%s", f.Unconfirmed, h.Property.Name, h.YAML(h.Draw(f.Unconfirmed)))
	}
	if f.Violation < 0 {
		return fmt.Sprintf("interrupted: no violation of %s in the first %d schedules\n", h.Property.Name, f.Tried)
	}
	return fmt.Sprintf("interrupted: schedule %d violates %s (not shrunk):\n%s", f.Violation, h.Property.Name, h.YAML(h.Draw(f.Violation)))
}

// huntProgress is a line on stderr while a hunt runs, drawn only when
// stderr is a terminal: schedules tried, their rate, the time elapsed.
type huntProgress struct {
	mu    sync.Mutex // the workers call it at once
	w     io.Writer
	start time.Time
	last  time.Time
}

func newHuntProgress(stderr io.Writer) *huntProgress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	now := time.Now()
	return &huntProgress{w: f, start: now, last: now}
}

func (p *huntProgress) tried(n int) {
	if p == nil {
		return
	}
	elapsed := time.Since(p.start)
	p.line(fmt.Sprintf("hunt: %d schedules, %.0f schedules/s, %s elapsed", n, float64(n)/max(elapsed.Seconds(), 0.001), elapsed.Round(time.Second)))
}

// line redraws the line, at most ten times a second.
func (p *huntProgress) line(s string) {
	if p == nil || !p.mu.TryLock() { // another worker is drawing it
		return
	}
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", s)
}

func (p *huntProgress) finish() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
