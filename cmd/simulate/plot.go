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
// diagram (spacetime.svg and spacetime.png, whatever --svg says). It does not evaluate
// expectations into the exit status: a lesson that loses records is still
// worth a picture.
func cmdPlot(args []string, out, _ io.Writer) error {
	fs := newFlags("plot")
	outDir := fs.String("out", "", "directory to write the charts into (created if missing)")
	svg := fs.Bool("svg", false, "write SVG instead of PNG")
	partition := fs.String("partition", "", "the partition the space-time diagram draws, TOPIC-N (default: the first anomaly's)")
	fromFlag := fs.String("from", "", "where the space-time diagram starts, in virtual time (a duration: 1.5s)")
	toFlag := fs.String("to", "", "where the space-time diagram ends, in virtual time (a duration: 2s)")
	rf := addRunFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"plot needs one scenario: a built-in name or a file"}
	}
	if *outDir == "" {
		return &usageError{"plot needs --out DIR, the directory for the charts"}
	}
	if err := outfile.CheckDir(*outDir); err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	stOpt := scenarios.SpaceTimeOptions{Partition: *partition}
	for _, f := range []struct {
		name, value string
		to          **time.Duration
	}{{"--from", *fromFlag, &stOpt.From}, {"--to", *toFlag, &stOpt.To}} {
		if f.value == "" {
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil || d < 0 {
			return &usageError{fmt.Sprintf("%s %q: use a duration of virtual time from 0, such as 1.5s or 800ms", f.name, f.value)}
		}
		*f.to = &d
	}
	if stOpt.From != nil && stOpt.To != nil && *stOpt.To <= *stOpt.From {
		return &usageError{fmt.Sprintf("--from %s is not before --to %s", *stOpt.From, *stOpt.To)}
	}
	s, opt, err := rf.load()
	if err != nil {
		return err
	}
	format := plots.PNG
	if *svg {
		format = plots.SVG
	}
	res := s.Run(opt)
	st, err := res.SpaceTime(stOpt)
	if err != nil {
		return &usageError{err.Error()}
	}
	paths, err := plots.WriteRun(*outDir, res.Charts(0), format)
	if err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	more, err := plots.WriteSpaceTime(*outDir, st)
	paths = append(paths, more...)
	if err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	for _, p := range paths {
		fmt.Fprintln(out, p)
	}
	return budgetStopped(res.Report)
}
