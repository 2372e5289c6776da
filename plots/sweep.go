package plots

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Sweep is the result of varying one parameter: each metric against the
// varied value, one line per combination of the other settings.
type Sweep struct {
	Scenario string // for the titles; may be empty
	Param    string // the varied key, e.g. "producer.linger.ms"
	Metrics  []string
	Lines    []SweepLine
}

// SweepLine is one setting of everything else, e.g. "producer.acks=all".
type SweepLine struct {
	Label  string // empty when only one parameter varies
	Points []SweepPoint
}

// SweepPoint is the metrics at one value of the varied parameter.
type SweepPoint struct {
	X      string // the value as given: "5", "gzip"
	Values map[string]float64
}

// WriteSweep draws one panel per metric, stacked in one image at path; the
// format comes from the extension, .png or .svg. The x axis is numeric when
// every X parses as a number, else categorical in order of first
// appearance. A metric missing from a point leaves that point out; a sweep
// without metrics or points is drawn as one empty panel with a note.
func WriteSweep(path string, s *Sweep) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("%s: plot format from the extension must be .png or .svg", path)
	}
	xs, ticks := sweepAxis(s)
	var ps []*plot.Plot
	for _, m := range s.Metrics {
		p := sweepPlot(s, m+" against "+s.Param, m+unit(m))
		for i, line := range s.Lines {
			var xys plotter.XYs
			for _, pt := range line.Points {
				v, ok := pt.Values[m]
				if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					xys = append(xys, plotter.XY{X: xs[pt.X], Y: v})
				}
			}
			addSweepLine(p, xys, i, line.Label)
		}
		if ticks != nil {
			p.X.Tick.Marker = ticks
			p.X.Min, p.X.Max = -0.3, float64(len(ticks))-0.7
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		p := sweepPlot(s, "Sweep of "+s.Param, "")
		noData(p, "no metrics")
		ps = append(ps, p)
	}
	return writeStacked(path, format, ps, max(height, panelHeight*vg.Length(len(ps))))
}

func sweepPlot(s *Sweep, what, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = what
	if s.Scenario != "" {
		p.Title.Text += " (" + s.Scenario + ")"
	}
	p.X.Label.Text = s.Param
	p.Y.Label.Text = y
	p.Legend.Top = true
	return p
}

// sweepAxis places every X on the axis: at its value when all are numbers,
// else at 0, 1, 2... in order of first appearance, with ticks naming them.
func sweepAxis(s *Sweep) (map[string]float64, plot.ConstantTicks) {
	xs := map[string]float64{}
	var order []string
	numeric := true
	for _, l := range s.Lines {
		for _, pt := range l.Points {
			if _, seen := xs[pt.X]; seen {
				continue
			}
			v, err := strconv.ParseFloat(pt.X, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				numeric = false
			}
			xs[pt.X] = v
			order = append(order, pt.X)
		}
	}
	if numeric {
		return xs, nil
	}
	ticks := make(plot.ConstantTicks, len(order))
	for i, x := range order {
		xs[x] = float64(i)
		ticks[i] = plot.Tick{Value: float64(i), Label: x}
	}
	return xs, ticks
}

func addSweepLine(p *plot.Plot, xys plotter.XYs, i int, name string) {
	if len(xys) == 0 {
		return
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(i)
	s.Color = plotutil.Color(i)
	s.Shape = plotutil.Shape(i)
	p.Add(l, s)
	if name != "" { // one unnamed line needs no key
		p.Legend.Add(name, l, s)
	}
}

// unit names the unit of a report metric, from Kafka's naming habits, for
// the y axis label; "" when it cannot tell.
func unit(metric string) string {
	switch {
	case strings.Contains(metric, "latency") || strings.Contains(metric, "time") || strings.HasSuffix(metric, "_ms"):
		return " (ms)"
	case strings.HasSuffix(metric, "record-send-rate") || strings.HasSuffix(metric, "record-retry-rate") || strings.HasSuffix(metric, "record-error-rate"):
		return " (records/s)"
	case strings.Contains(metric, "size") || strings.Contains(metric, "bytes"):
		return " (bytes)"
	case strings.HasPrefix(metric, "records."):
		return " (records)"
	case strings.HasPrefix(metric, "errors."):
		return " (batch attempts)"
	}
	return ""
}
