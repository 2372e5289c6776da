package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/kafkasim/kafkasim/scenarios"
	"github.com/kafkasim/kafkasim/sweep"
)

// cmdCompare runs a scenario twice on the same seed, A with the --set
// overrides and B with the --vs ones on top, and prints the two reports
// side by side. Expectations are reported, not turned into the exit
// status: the point of a comparison is often that one side fails them.
func cmdCompare(args []string, out, _ io.Writer) error {
	fs := newFlags("compare")
	rf := addRunFlags(fs)
	vs := addVsFlag(fs)
	format := fs.String("format", "text", "output format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "compare needs one scenario: a built-in name or a file"); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return &usageError{fmt.Sprintf("--format %q: use text or json", *format)}
	}
	if len(*vs) == 0 {
		return &usageError{"compare needs at least one --vs KEY=VALUE: what run B changes from run A (the scenario with its --set)"}
	}
	a, b, err := runPair(rf, *vs)
	if err != nil {
		return err
	}
	cmp := scenarios.Compare(a.Report, b.Report)
	if _, builtin := scenarios.Builtin(fs.Arg(0)); !builtin {
		cmp.Source = fs.Arg(0)
	}
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cmp); err != nil {
			return err
		}
	} else if err := cmp.WriteText(out); err != nil {
		return err
	}
	return pairStopped(a.Report, b.Report)
}

// addVsFlag adds --vs, run B's overrides, to a command that can run a
// scenario twice.
func addVsFlag(fs *pflag.FlagSet) *[]string {
	return fs.StringArray("vs", nil, "a setting of run B, KEY=VALUE as for --set (repeatable): compare run A (the scenario with --set) with B")
}

// runPair loads run A (the scenario with --set) and run B (A plus vs) and
// runs them at once, one goroutine each: each run is single-threaded and
// deterministic. A panic in either is re-raised here, where run reports
// it.
func runPair(rf runFlags, vs []string) (a, b *scenarios.Result, err error) {
	if rf.fs.Changed("seed") {
		for _, kv := range vs {
			if key, _, _ := strings.Cut(kv, "="); strings.TrimSpace(key) == "seed" {
				return nil, nil, &usageError{fmt.Sprintf("--vs %s: --seed sets both runs' seed; drop --seed and give run A's with --set seed=N", kv)}
			}
		}
	}
	sa, opt, err := rf.load()
	if err != nil {
		return nil, nil, err
	}
	sb, _, err := rf.load(vs...)
	var se *scenarios.Error
	if errors.As(err, &se) && se.Set {
		// Run A took the --set values, so what B refuses came with --vs.
		se.Flag = "--vs"
	}
	if err != nil {
		return nil, nil, err
	}
	var results [2]*scenarios.Result
	var panics [2]*sweep.Panic
	var wg sync.WaitGroup
	for i, s := range []*scenarios.Scenario{sa, sb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			panics[i] = sweep.Catch(func() { results[i] = s.Run(opt) })
		}()
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	return results[0], results[1], nil
}

// pairStopped is the error of a pair of runs when a budget stopped either,
// naming which.
func pairStopped(a, b *scenarios.Report) error {
	for _, r := range []struct {
		name string
		rep  *scenarios.Report
	}{{"A", a}, {"B", b}} {
		if err := budgetStopped(r.rep); err != nil {
			return &budgetError{"run " + r.name + ": " + err.Error()}
		}
	}
	return nil
}
