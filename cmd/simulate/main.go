// Command simulate runs Kafka producer scenarios on the deterministic
// simulator.
//
//	simulate list                     built-in scenarios: name, title
//	simulate show NAME                the scenario as YAML, its lesson first
//	simulate run NAME|FILE [flags]    run once and print the report
//	simulate check [NAME|FILE]...     run and evaluate expectations
//	simulate partition --key K --partitions N [--client C]
//	                                  where each client puts key K
//	simulate transaction-id ID [--partitions N] [--brokers B]
//	                                  the __transaction_state partition
//	                                  whose leader coordinates ID
//	simulate plot NAME|FILE --out DIR run once and draw its charts and space-time diagram
//	simulate sweep NAME|FILE --vary KEY=V1,V2,... [flags]
//	                                  run a grid of settings and seeds; a
//	                                  table, a CSV and a plot of the metrics
//	simulate compare NAME|FILE --vs KEY=VALUE [flags]
//	                                  run twice on one seed, A with --set and
//	                                  B with --vs on top; print them side by
//	                                  side
//	simulate hunt NAME|FILE --property P [--budget N | --time D] [--seed S]
//	                                  look for a fault schedule that breaks
//	                                  P; print it shrunk, as a scenario
//	simulate hunt merge FILE...       combine the results of a hunt's shards
//	simulate serve [--addr HOST:PORT] the web view: lessons, a form, a run's
//	                                  report and charts, two runs compared
//	simulate help [CMD]               the commands, or one command's flags
//	simulate --version                the release, module and Go version
//
// Exit status: 0 success, 1 an expectation failed, 2 a usage, config or
// scenario error (message on stderr, nothing on stdout), 3 an internal
// error (a panic: a simulator bug; KAFKASIM_DEBUG=1 adds its stack), 4 a
// budget (events, memory or --max-wall) stopped the run (the report of
// what ran is printed; stderr says which budget and what was looping), 130
// interrupted (Ctrl-C or SIGTERM; stderr says which files were written,
// and no partial file is left).
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/scenarios"
	"github.com/kafkasim/kafkasim/sweep"
)

// usageError is bad input: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// helpShown is --help on a command: its usage goes to stdout, status 0.
type helpShown struct{ text string }

func (h *helpShown) Error() string { return "help" }

// budgetError is a run stopped by a budget: exit status 4, after the
// report of what ran.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// exitBudget is the status of a run stopped by a budget.
const exitBudget = 4

// failedError is an expectation that did not hold: exit status 1.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

type command struct {
	name  string
	args  string
	short string
	// run writes its result to stdout; stderr is for progress only, as
	// errors are returned.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"list", "", "list the built-in scenarios", cmdList},
	{"show", "NAME", "print a scenario as YAML, its lesson first", cmdShow},
	{"run", "NAME|FILE [--seed N] [--set KEY=VALUE]... [--format text|json] [--anomalies N|all] [--trace FILE] [--max-wall 60s]", "run a scenario and print the report", cmdRun},
	{"compare", "NAME|FILE --vs KEY=VALUE [--vs ...] [--seed N] [--set KEY=VALUE]... [--format text|json] [--max-wall 60s]",
		"run a scenario twice on one seed, A with --set and B with --vs on top, and print them side by side", cmdCompare},
	{"check", "[NAME|FILE]...", "run scenarios and check their expectations (all built-ins if none named)", cmdCheck},
	{"partition", "--key K [--key K]... --partitions N [--client java|librdkafka|sarama]", "show the partition of a key under each client's partitioners", cmdPartition},
	{"transaction-id", "ID [--partitions N] [--brokers B]", "show the transaction coordinator's partition of __transaction_state for a transactional.id", cmdTransactionID},
	{"plot", "NAME|FILE --out DIR [--svg] [--partition TOPIC-N] [--from D] [--to D] [--seed N] [--set KEY=VALUE]... [--vs KEY=VALUE]... [--max-wall 60s]",
		"run a scenario and draw its charts and its space-time diagram (spacetime.svg, spacetime.png) into DIR; with --vs, run it twice as compare does and draw both runs in one chart", cmdPlot},
	{"sweep", "NAME|FILE --vary KEY=V1,V2,... [--vary ...] [--seeds A-B] [--set KEY=VALUE]... [--columns PATH,...] [--csv FILE] [--plot FILE] [--y-from-data] [--parallel N]",
		"run every combination of the --vary values and seeds; print a table of means over the seeds, write a CSV and a plot", cmdSweep},
	{"hunt", "NAME|FILE --property no-loss|no-duplicates|no-reordering|exactly-once [--budget N | --time D] [--seed S] [--set KEY=VALUE]... [--parallel N] [--shard I/N] [--format text|json] [--out FILE]; hunt merge FILE...",
		"look for a fault schedule that breaks a property, shrink it to a minimal scenario file and print its report; hunt merge combines the shards' results", cmdHunt},
	{"serve", "[--addr 127.0.0.1:8080] [--public] [--max-records N] [--max-virtual D] [--max-wall D] [--max-memory MIB] [--max-runs N] [--cache MIB]",
		"serve the lessons as web pages: presets, a form of settings, a run's report and charts, two runs side by side (loopback only unless --public)", cmdServe},
	{"glossary", "", "print the glossary of the words the reports use (ISR, high watermark, epochs, ...)", cmdGlossary},
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// A run's live memory is bounded by its budgets; without a limit the
		// garbage collector lets the heap grow to twice that (GOGC=100): 7.5
		// GB for 24 hours at 115 records/s, 3.6 GB with this soft limit,
		// past which it collects more often. GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(3 << 30)
	}
	onInterrupt(os.Stdout, os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// onInterrupt makes Ctrl-C (or SIGTERM) print what the command had found
// (its interrupt note: a hunt's best result so far) on stdout, remove the
// output files still being written and say on stderr what was left, then
// exit 130. Signals are the command line's business; the simulator's core
// never sees them.
func onInterrupt(stdout, stderr io.Writer) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if note := interruptNote.Load(); note != nil {
			fmt.Fprint(stdout, (*note)())
		}
		fmt.Fprintln(stderr, "simulate:", interruptedMessage(outfile.Abort()))
		os.Exit(130)
	}()
}

// interruptNote, when set, says what the running command had found so
// far, for an interrupt to print.
var interruptNote atomic.Pointer[func() string]

// setInterruptNote sets the interrupt note; nil clears it.
func setInterruptNote(note func() string) {
	if note == nil {
		interruptNote.Store(nil)
		return
	}
	interruptNote.Store(&note)
}

// interruptedMessage says what an interrupted command left: the files it
// had completed, and that nothing partial remains.
func interruptedMessage(written []string) string {
	if len(written) == 0 {
		return "interrupted: wrote no file; nothing partial left"
	}
	return fmt.Sprintf("interrupted: wrote %s (%s); nothing partial left", countOf(len(written), "file"), strings.Join(written, ", "))
}

// exitInternal is the status of a panic: a simulator bug, not bad input.
const exitInternal = 3

// internalError reports a panic on one line, asking for a bug report;
// with KAFKASIM_DEBUG set, the Go stack follows.
func internalError(stderr io.Writer, args []string, v any) int {
	stack := debug.Stack()
	var p *sweep.Panic
	if e, ok := v.(error); ok && errors.As(e, &p) {
		v, stack = p.Value, p.Stack
	}
	msg := strings.NewReplacer("\n", " ", "\t", " ").Replace(fmt.Sprint(v))
	fmt.Fprintf(stderr, "simulate: internal error: %s; this is a simulator bug, please report it with the command line: simulate %s\n",
		msg, strings.Join(args, " "))
	if os.Getenv("KAFKASIM_DEBUG") != "" {
		stderr.Write(stack)
	}
	return exitInternal
}

// run executes one command line. Output goes to stdout only when the
// command succeeds or an expectation fails, so that an error leaves stdout
// empty.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if v := recover(); v != nil {
			code = internalError(stderr, args, v)
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	case "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "simulate: --version takes no arguments; got %q\n", args[1])
			return 2
		}
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help":
		// help CMD is CMD --help: the command's own flags say the rest.
		switch len(args) {
		case 1:
			fmt.Fprint(stdout, usage())
			return 0
		case 2:
			if h, ok := ownHelp[args[1]]; ok {
				fmt.Fprint(stdout, h)
				return 0
			}
			args = []string{args[1], "--help"}
		default:
			fmt.Fprintf(stderr, "simulate: help takes one command, got %d; simulate help lists them\n", len(args)-1)
			return 2
		}
	}
	var out bytes.Buffer
	err := dispatch(args, &out, stderr)
	var fe *failedError
	var be *budgetError
	var help *helpShown
	switch {
	case errors.As(err, &help):
		for _, c := range commands {
			if c.name == args[0] {
				fmt.Fprintf(stdout, "%s\n  %s\n", strings.TrimSpace("Usage: simulate "+c.name+" "+c.args), c.short)
			}
		}
		fmt.Fprint(stdout, help.text)
		return 0
	case err == nil:
		stdout.Write(out.Bytes())
		return 0
	case errors.As(err, &fe):
		stdout.Write(out.Bytes())
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	case errors.As(err, &be):
		stdout.Write(out.Bytes())
		fmt.Fprintln(stderr, "simulate:", err)
		return exitBudget
	default:
		fmt.Fprintln(stderr, "simulate:", err)
		return 2
	}
}

// ownHelp is the help of what run handles before the command table.
var ownHelp = map[string]string{
	"help":      "Usage: simulate help [CMD]\n  list the commands, or show CMD's usage and flags (as simulate CMD --help does)\n",
	"--version": "Usage: simulate --version\n  print the release, the module and Go version it was built with, and the Kafka releases it models\n",
}

func dispatch(args []string, out, stderr io.Writer) error {
	names := make([]string, len(commands))
	for i, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], out, stderr)
		}
		names[i] = c.name
	}
	return &usageError{fmt.Sprintf("unknown command %q; commands: %s (simulate help)", args[0], strings.Join(names, ", "))}
}

// version is this simulator's release.
const version = "0.1.0"

// versionLine is what --version prints: the release, the module version
// Go recorded when the binary was built from a module (go install
// ...@v1.2.3; "(devel)" from a checkout) with the VCS revision if Go
// stamped one, the Go version, and the Kafka releases modelled.
func versionLine() string {
	line := "simulate " + version
	if bi, ok := debug.ReadBuildInfo(); ok {
		line += fmt.Sprintf(", module %s %s", bi.Main.Path, bi.Main.Version)
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" {
				line += " " + st.Value
			}
			if st.Key == "vcs.modified" && st.Value == "true" {
				line += " (modified)"
			}
		}
		line += ", " + bi.GoVersion
	}
	return fmt.Sprintf("%s; models Kafka %s to %s (default %s) and the Java producer 4.x", line,
		broker.Versions[0], broker.Versions[len(broker.Versions)-1], broker.DefaultVersion)
}

func usage() string {
	var b strings.Builder
	b.WriteString("simulate runs Kafka producer scenarios on a deterministic simulator.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  simulate %s %s\n      %s\n", c.name, c.args, c.short)
	}
	b.WriteString("\nsimulate help CMD (or simulate CMD --help) shows a command's flags; simulate --version its version.\n")
	b.WriteString("\n--set keys: producer.<property>, broker.<property>, topic.<property>, topic.partitions,\n" +
		"topic.replication.factor, cluster.brokers, cluster.version, cluster.network.latency|jitter|bandwidth,\n" +
		"workload.<key>, seed, duration. Later --set wins.\n")
	return b.String()
}

func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

func parseFlags(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		return &helpShown{fs.FlagUsages()}
	}
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		// pflag's message carries its parser's (strconv.ParseUint: ...).
		return &usageError{fmt.Sprintf("--%s: %q %s", bad.GetFlag().Name, bad.GetValue(), cmp.Or(allowedValues[bad.GetFlag().Value.Type()], "is not a value it takes"))}
	}
	if err != nil {
		return &usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}

// oneArg checks that a command got its one argument (missing says what
// it is), naming the first extra one.
func oneArg(fs *pflag.FlagSet, missing string) error {
	switch fs.NArg() {
	case 0:
		return &usageError{missing}
	case 1:
		return nil
	}
	return &usageError{fmt.Sprintf("%s: unexpected argument %q after %s; %s takes one scenario (a value with spaces needs quotes)",
		fs.Name(), fs.Arg(1), fs.Arg(0), fs.Name())}
}

// allowedValues says, for each type of flag the commands have, what a
// value must be.
var allowedValues = map[string]string{
	"uint64":   "is not a whole number; use one from 0 to 18446744073709551615",
	"int":      "is not a whole number",
	"duration": "is not a duration; use a unit, e.g. 30s or 2m; 0 for none",
	"bool":     "is not true or false",
}

func cmdList(args []string, out, _ io.Writer) error {
	fs := newFlags("list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"list takes no arguments"}
	}
	width := 0
	for _, e := range scenarios.Catalog() {
		width = max(width, len(e.Name))
	}
	for _, e := range scenarios.Catalog() {
		fmt.Fprintf(out, "%-*s  %s\n", width, e.Name, e.Title)
	}
	return nil
}

func cmdShow(args []string, out, _ io.Writer) error {
	fs := newFlags("show")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "show needs one built-in scenario name (simulate list shows them)"); err != nil {
		return err
	}
	s, err := scenarios.Load(fs.Arg(0), nil)
	if err != nil {
		return err
	}
	e, ok := scenarios.Builtin(s.Name)
	if !ok || !strings.HasPrefix(s.Source, "built-in") {
		return &usageError{fmt.Sprintf("%q is not a built-in scenario; simulate list shows them", fs.Arg(0))}
	}
	for _, line := range strings.Split(strings.TrimRight(s.Lesson, "\n"), "\n") {
		fmt.Fprintln(out, strings.TrimRight("# "+line, " "))
	}
	fmt.Fprintln(out)
	_, err = out.Write(e.Text)
	return err
}

// runFlags are the flags of the commands that run one scenario.
type runFlags struct {
	fs      *pflag.FlagSet
	seed    *uint64
	sets    *[]string
	maxWall *time.Duration
}

func addRunFlags(fs *pflag.FlagSet) runFlags {
	return runFlags{fs: fs,
		seed:    fs.Uint64("seed", 0, "run with this seed instead of the scenario's"),
		sets:    fs.StringArray("set", nil, "override a scenario value, KEY=VALUE (repeatable)"),
		maxWall: fs.Duration("max-wall", time.Minute, "stop the run after this much real time (0: no limit)")}
}

// load reads the scenario named by the one argument, with the --set
// overrides and then the extra ones, and the run options --seed asks for.
func (f runFlags) load(extra ...string) (*scenarios.Scenario, scenarios.RunOptions, error) {
	s, err := scenarios.Load(f.fs.Arg(0), append(slices.Clip(*f.sets), extra...))
	opt := scenarios.RunOptions{}
	if f.fs.Changed("seed") {
		opt.Seed = f.seed
	}
	if *f.maxWall < 0 {
		return nil, opt, &usageError{fmt.Sprintf("--max-wall %v: use a duration of zero (no limit) or more", *f.maxWall)}
	}
	if *f.maxWall > 0 {
		// The wall clock is the command line's: the core only asks the hook.
		deadline := time.Now().Add(*f.maxWall)
		opt.Stop = func() bool { return time.Now().After(deadline) }
		opt.StopLimit = "--max-wall " + f.maxWall.String()
	}
	return s, opt, err
}

// budgetStopped is the error of a run a budget stopped, or nil.
func budgetStopped(rep *scenarios.Report) error {
	b := rep.StoppedByBudget
	if b == nil {
		return nil
	}
	msg := b.String()
	if len(b.Busiest) > 0 {
		msg += "; busiest: " + b.Busiest[0]
	}
	if b.Hint != "" {
		msg += "; " + b.Hint
	}
	if b.Budget == "wall clock" {
		msg += " (raise --max-wall to let it run longer)"
	}
	return &budgetError{msg}
}

func cmdRun(args []string, out, _ io.Writer) error {
	fs := newFlags("run")
	rf := addRunFlags(fs)
	format := fs.String("format", "text", "report format: text or json")
	trace := fs.String("trace", "", "write the event trace as JSON lines to this file")
	anomalies := fs.String("anomalies", strconv.Itoa(scenarios.DefaultAnomalies),
		"how many anomalies the JSON report explains: a number from 1, or all (the text report shows a few of each kind)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "run needs one scenario: a built-in name or a file"); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return &usageError{fmt.Sprintf("--format %q: use text or json", *format)}
	}
	explain, err := anomalyCount(*anomalies)
	if err != nil {
		return err
	}
	if *trace != "" {
		if err := outfile.CheckFile(*trace); err != nil {
			return &usageError{fmt.Sprintf("--trace: %v", err)}
		}
	}
	s, opt, err := rf.load()
	if err != nil {
		return err
	}
	opt.Anomalies = explain
	opt.Messages = *trace != ""
	res := s.Run(opt)
	if *trace != "" {
		if err := outfile.Write(*trace, func(w io.Writer) error { return res.Trace.WriteJSONL(w, res.Names) }); err != nil {
			return &usageError{fmt.Sprintf("--trace: %v", err)}
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res.Report); err != nil {
			return err
		}
	} else if err := res.Report.WriteText(out, s.Title); err != nil {
		return err
	}
	if err := budgetStopped(res.Report); err != nil {
		return err
	}
	if !res.Report.Passed() {
		return &failedError{"an expectation failed"}
	}
	return nil
}

// anomalyCount reads --anomalies: a count from 1, or all.
func anomalyCount(v string) (int, error) {
	if v == "all" {
		return scenarios.AllAnomalies, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &usageError{fmt.Sprintf("--anomalies %q: use a number from 1, or all", v)}
	}
	return n, nil
}

func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// cmdCheck runs scenarios in parallel, one per core; each run is
// single-threaded and deterministic, and results print in input order.
func cmdCheck(args []string, out, _ io.Writer) error {
	fs := newFlags("check")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		for _, e := range scenarios.Catalog() {
			names = append(names, e.Name)
		}
	}
	loaded := make([]*scenarios.Scenario, len(names))
	for i, n := range names {
		s, err := scenarios.Load(n, nil)
		if err != nil {
			return err
		}
		loaded[i] = s
	}
	reports := make([]*scenarios.Report, len(loaded))
	panics := make([]*sweep.Panic, len(loaded))
	undo := sweep.FewerCollections()
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, s := range loaded {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			panics[i] = sweep.Catch(func() { reports[i] = s.Run(scenarios.RunOptions{}).Report })
		}()
	}
	wg.Wait()
	undo()
	for _, p := range panics {
		if p != nil {
			panic(p) // on this goroutine, where run reports it
		}
	}
	failed, stopped := 0, 0
	// A built-in is named by its name, a file by its path: two files may
	// hold scenarios of one name.
	labels := make([]string, len(loaded))
	width := 0
	for i, s := range loaded {
		labels[i] = s.Name
		if !strings.HasPrefix(s.Source, "built-in ") {
			labels[i] = s.Source
		}
		width = max(width, len(labels[i]))
	}
	for i, rep := range reports {
		label := labels[i]
		if b := rep.StoppedByBudget; b != nil {
			stopped++
			fmt.Fprintf(out, "FAIL  %-*s  %s\n", width, label, b)
			continue
		}
		if len(rep.Expectations) == 0 {
			fmt.Fprintf(out, "ok    %-*s  (no expectations)\n", width, label)
			continue
		}
		var bad []string
		for _, e := range rep.Expectations {
			if !e.OK {
				bad = append(bad, e.String())
			}
		}
		if len(bad) == 0 {
			fmt.Fprintf(out, "ok    %-*s  %s\n", width, label, countOf(len(rep.Expectations), "expectation"))
			continue
		}
		failed++
		fmt.Fprintf(out, "FAIL  %-*s  %s\n", width, label, strings.Join(bad, "; "))
	}
	if stopped > 0 {
		return &budgetError{fmt.Sprintf("%d of %d scenarios stopped by a budget, %d failed their expectations", stopped, len(loaded), failed)}
	}
	if failed > 0 {
		return &failedError{fmt.Sprintf("%d of %d scenarios failed their expectations", failed, len(loaded))}
	}
	return nil
}
