package main

import (
	"fmt"
	"io"
	"time"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

// cmdPlot runs a scenario once and draws its charts and its space-time
// diagram (spacetime.svg and spacetime.png, whatever --svg says); with --vs
// it runs it twice, as compare does, and draws both runs in the charts that
// can hold two. It does not evaluate expectations into the exit status: a
// lesson that loses records is still worth a picture.
func cmdPlot(args []string, out, _ io.Writer) error {
	fs := newFlags("plot")
	outDir := fs.String("out", "", "directory to write the charts into (created if missing)")
	svg := fs.Bool("svg", false, "write SVG instead of PNG")
	partition := fs.String("partition", "", "the partition the space-time diagram draws, TOPIC-N (default: the first anomaly's)")
	fromFlag := fs.String("from", "", "where the space-time diagram starts, in virtual time (a duration: 1.5s)")
	toFlag := fs.String("to", "", "where the space-time diagram ends, in virtual time (a duration: 2s)")
	rf := addRunFlags(fs)
	vs := addVsFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "plot needs one scenario: a built-in name or a file"); err != nil {
		return err
	}
	if *outDir == "" {
		return &usageError{"plot needs --out DIR, the directory for the charts"}
	}
	if err := outfile.CheckDir(*outDir); err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	stOpt, err := spaceTimeFlags(*partition, *fromFlag, *toFlag)
	if err != nil {
		return err
	}
	format := plots.PNG
	if *svg {
		format = plots.SVG
	}
	if len(*vs) > 0 {
		if *partition != "" || *fromFlag != "" || *toFlag != "" {
			return &usageError{"--partition, --from and --to choose the space-time diagram of one run; plot --vs draws none"}
		}
		a, b, err := runPair(rf, *vs)
		if err != nil {
			return err
		}
		la, lb := scenarios.Compare(a.Report, b.Report).Labels()
		paths, err := plots.WriteCompare(*outDir, a.Charts(0), b.Charts(0), la, lb, format)
		if err := printPaths(out, paths, err); err != nil {
			return err
		}
		return pairStopped(a.Report, b.Report)
	}
	s, opt, err := rf.load()
	if err != nil {
		return err
	}
	opt.Messages = true
	res := s.Run(opt)
	st, err := res.SpaceTime(stOpt)
	if err != nil {
		return &usageError{err.Error()}
	}
	paths, err := plots.WriteRun(*outDir, res.Charts(0), format)
	if err == nil {
		var more []string
		more, err = plots.WriteSpaceTime(*outDir, st)
		paths = append(paths, more...)
	}
	if err := printPaths(out, paths, err); err != nil {
		return err
	}
	return budgetStopped(res.Report)
}

// spaceTimeFlags reads --partition, --from and --to; the partition is
// checked once the scenario has run.
func spaceTimeFlags(partition, from, to string) (scenarios.SpaceTimeOptions, error) {
	opt := scenarios.SpaceTimeOptions{Partition: partition}
	for _, f := range []struct {
		name, value string
		to          **time.Duration
	}{{"--from", from, &opt.From}, {"--to", to, &opt.To}} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil || d < 0 {
			return opt, &usageError{fmt.Sprintf("%s %q: use a duration of virtual time from 0, such as 1.5s or 800ms", f.name, f.value)}
		}
		*f.to = &d
	}
	if opt.From != nil && opt.To != nil && *opt.To <= *opt.From {
		return opt, &usageError{fmt.Sprintf("--from %s is not before --to %s", *opt.From, *opt.To)}
	}
	return opt, nil
}

// printPaths lists the files a plot wrote, or says why it could not.
func printPaths(out io.Writer, paths []string, err error) error {
	if err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	for _, p := range paths {
		fmt.Fprintln(out, p)
	}
	return nil
}
