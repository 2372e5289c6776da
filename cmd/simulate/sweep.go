package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/term"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/sweep"
)

// maxParallel bounds --parallel: each run holds its whole cluster in
// memory, and past the number of cores more runs at once go no faster.
const maxParallel = 256

// checkParallel checks a --parallel value.
func checkParallel(n int) error {
	if n < 1 || n > maxParallel {
		return &usageError{fmt.Sprintf("--parallel %d: must be at least 1 and at most %d (runs use a core each; more at once only take memory)", n, maxParallel)}
	}
	return nil
}

// cmdSweep runs every combination of the --vary values (the first --vary
// varies slowest) with every seed; package sweep plans, runs and formats
// the grid.
func cmdSweep(args []string, out, stderr io.Writer) error {
	fs := newFlags("sweep")
	varyFlags := fs.StringArray("vary", nil, "vary a scenario key over values, KEY=V1,V2,... (repeatable; the first varies slowest)")
	seedsFlag := fs.String("seeds", "", "seeds to run each combination with: A-B (inclusive) or N; default the scenario's own")
	sets := fs.StringArray("set", nil, "override a scenario value for every run, KEY=VALUE (repeatable)")
	csvPath := fs.String("csv", "", "write one CSV row per run to this file (- for stdout, instead of the table)")
	plotPath := fs.String("plot", "", "draw the key metrics against the first --vary into this .png or .svg file")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs at once")
	columnsFlag := fs.String("columns", "", "the report paths the table and the plot show, comma-separated (default: the scenario's expect paths, then records and latency)")
	yFromData := fs.Bool("y-from-data", false, "let the plot's y axes span the data instead of starting at zero (bars always start at zero)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneArg(fs, "sweep needs one scenario: a built-in name or a file"); err != nil {
		return err
	}
	if err := checkParallel(*parallel); err != nil {
		return err
	}
	if *yFromData && *plotPath == "" {
		return &usageError{"--y-from-data is for the plot's axes: it needs --plot FILE"}
	}
	if *plotPath != "" {
		if len(*varyFlags) == 0 {
			return &usageError{"--plot needs a --vary for its x axis"}
		}
		if ext := strings.ToLower(*plotPath); !strings.HasSuffix(ext, ".png") && !strings.HasSuffix(ext, ".svg") {
			return &usageError{fmt.Sprintf("--plot %s: the file name must end in .png or .svg", *plotPath)}
		}
	}
	// A sweep may run for hours: a path that cannot be written is found
	// now, not after.
	for _, o := range []struct{ flag, path string }{{"--csv", *csvPath}, {"--plot", *plotPath}} {
		if o.path != "" && o.path != "-" {
			if err := outfile.CheckFile(o.path); err != nil {
				return &usageError{fmt.Sprintf("%s: %v", o.flag, err)}
			}
		}
	}
	varies, err := sweep.ParseVaries(*varyFlags)
	if err != nil {
		return err
	}
	seeds, err := sweep.ParseSeeds(*seedsFlag)
	if err != nil {
		return err
	}
	grid, err := sweep.NewGrid(fs.Arg(0), *sets, varies, seeds)
	if err != nil {
		return err
	}
	if fs.Changed("columns") {
		var cols []string
		for _, c := range strings.Split(*columnsFlag, ",") {
			if c = strings.TrimSpace(c); c != "" {
				cols = append(cols, c)
			}
		}
		if err := grid.SetColumns(cols); err != nil {
			return err
		}
	}
	bar := newProgress(stderr, len(grid.Runs))
	err = grid.Execute(*parallel, bar.set)
	bar.finish()
	if err != nil {
		return err
	}

	if *csvPath != "" && *csvPath != "-" {
		if err := outfile.Write(*csvPath, grid.WriteCSV); err != nil {
			return &usageError{fmt.Sprintf("--csv: %v", err)}
		}
	}
	if *plotPath != "" {
		sw := grid.Plot()
		sw.YFromData = *yFromData
		if err := plots.WriteSweep(*plotPath, sw); err != nil {
			return &usageError{fmt.Sprintf("--plot: %v", err)}
		}
	}
	if *csvPath == "-" {
		err = grid.WriteCSV(out)
	} else {
		err = grid.WriteTable(out)
	}
	if err == nil {
		if msg := grid.Stopped(); msg != "" {
			err = &budgetError{msg} // exit status 4, after the results
		}
	}
	return err
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
	p := &progress{w: f, total: total}
	p.set(0) // the number of runs, before the first takes its time
	return p
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
