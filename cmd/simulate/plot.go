package main

import (
	"fmt"
	"io"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

// cmdPlot runs a scenario once and draws its charts; with --vs it runs it
// twice, as compare does, and draws both runs in the charts that can hold
// two. It does not evaluate expectations into the exit status: a lesson
// that loses records is still worth a picture.
func cmdPlot(args []string, out, _ io.Writer) error {
	fs := newFlags("plot")
	outDir := fs.String("out", "", "directory to write the charts into (created if missing)")
	svg := fs.Bool("svg", false, "write SVG instead of PNG")
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
	format := plots.PNG
	if *svg {
		format = plots.SVG
	}
	if len(*vs) > 0 {
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
	res := s.Run(opt)
	paths, err := plots.WriteRun(*outDir, res.Charts(0), format)
	if err := printPaths(out, paths, err); err != nil {
		return err
	}
	return budgetStopped(res.Report)
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
