package main

import (
	"fmt"
	"io"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/plots"
)

// cmdPlot runs a scenario once and draws its charts. It does not evaluate
// expectations into the exit status: a lesson that loses records is still
// worth a picture.
func cmdPlot(args []string, out, _ io.Writer) error {
	fs := newFlags("plot")
	outDir := fs.String("out", "", "directory to write the charts into (created if missing)")
	svg := fs.Bool("svg", false, "write SVG instead of PNG")
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
	s, opt, err := rf.load()
	if err != nil {
		return err
	}
	format := plots.PNG
	if *svg {
		format = plots.SVG
	}
	res := s.Run(opt)
	paths, err := plots.WriteRun(*outDir, res.Charts(0), format)
	if err != nil {
		return &usageError{fmt.Sprintf("--out: %v", err)}
	}
	for _, p := range paths {
		fmt.Fprintln(out, p)
	}
	return budgetStopped(res.Report)
}
