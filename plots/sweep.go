package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kafkasim/kafkasim/scenarios"
)

// Sweep is the result of varying one parameter: each metric against the
// varied value, one line (or one colour of bars) per combination of the
// other settings.
type Sweep struct {
	Scenario string // for the titles; may be empty
	Param    string // the varied key, e.g. "producer.linger.ms"
	// ParamUnit is the unit of its values, e.g. "ms"; "" for none.
	ParamUnit string
	// Seeds is how many runs each point summarises; above one a point is
	// their mean and its whisker spans their minimum to maximum.
	Seeds   int
	Metrics []SweepMetric
	Lines   []SweepLine
	// YFromData lets a line chart's y axis span the data; by default it
	// starts at zero. Bars always start at zero.
	YFromData bool
}

// SweepMetric is one panel: a report path and its unit.
type SweepMetric struct {
	Path string // e.g. "records.lost"
	Unit string // e.g. "records"; "" for none
}

// SweepLine is one setting of everything else, e.g. "producer.acks=all".
type SweepLine struct {
	Label  string // empty when only one parameter varies
	Points []SweepPoint
}

// SweepPoint is the metrics at one value of the varied parameter.
type SweepPoint struct {
	X      string // the value as given: "5", "gzip"
	Values map[string]SweepValue
}

// SweepValue is one metric over the seeds of a point.
type SweepValue struct {
	Mean, Min, Max float64
}

// WriteSweep draws one panel per metric, stacked in one image at path; the
// format comes from the extension, .png or .svg. When every X parses as a
// number the x axis is numeric and each line joins its means; otherwise
// the values are categories, in order of first appearance, drawn as
// grouped bars. A metric missing from a point leaves that point out; a
// sweep without metrics or points is drawn as one empty panel with a note.
func WriteSweep(path string, s *Sweep) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("%s: plot format from the extension must be .png or .svg", path)
	}
	xs, ticks := sweepAxis(s)
	var ps []*plot.Plot
	for _, m := range s.Metrics {
		p := sweepPlot(s, m)
		if ticks != nil {
			addBars(p, s, m.Path, xs)
			p.X.Tick.Marker = ticks
			p.X.Min, p.X.Max = -0.5, float64(len(ticks))-0.5
		} else {
			for i, line := range s.Lines {
				addSweepLine(p, s, m.Path, line, xs, i)
			}
			p.X.Tick.Marker = numericTicks(xs)
		}
		fromZero(p, s.YFromData && ticks == nil)
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		p := sweepPlot(s, SweepMetric{})
		noData(p, "no metrics")
		ps = append(ps, p)
	}
	return writeStacked(path, format, ps, max(height, panelHeight*vg.Length(len(ps))), nil)
}

// sweepPlot is a panel titled with what it shows, including that a value
// is a mean over seeds, its axes labelled with the parameter and the unit.
func sweepPlot(s *Sweep, m SweepMetric) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Sweep of " + s.Param
	if m.Path != "" {
		p.Title.Text = m.Path + " against " + s.Param
		p.Y.Label.Text = m.Path
		if m.Unit != "" {
			p.Y.Label.Text += " (" + m.Unit + ")"
		}
	}
	if s.Scenario != "" {
		p.Title.Text += " (" + s.Scenario + ")"
	}
	if s.Seeds > 1 {
		p.Title.Text += fmt.Sprintf(": mean of %d seeds, whiskers min to max", s.Seeds)
	}
	p.X.Label.Text = s.Param
	if s.ParamUnit != "" {
		p.X.Label.Text += " (" + s.ParamUnit + ")"
	}
	p.Y.Tick.Marker = plainTicks{}
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

// values are a line's points of one metric, with the distances from each
// mean down to its minimum and up to its maximum; points without a finite
// value are left out.
func values(line SweepLine, metric string, xs map[string]float64) (plotter.XYs, plotter.YErrors) {
	var xys plotter.XYs
	var errs plotter.YErrors
	for _, pt := range line.Points {
		v, ok := pt.Values[metric]
		if !ok || !finiteValue(v) {
			continue
		}
		xys = append(xys, plotter.XY{X: xs[pt.X], Y: v.Mean})
		errs = append(errs, struct{ Low, High float64 }{v.Mean - v.Min, v.Max - v.Mean})
	}
	return xys, errs
}

func finiteValue(v SweepValue) bool {
	for _, f := range []float64{v.Mean, v.Min, v.Max} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

func addSweepLine(p *plot.Plot, s *Sweep, metric string, line SweepLine, xs map[string]float64, i int) {
	xys, errs := values(line, metric, xs)
	if len(xys) == 0 {
		return
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(i)
	sc.Color = plotutil.Color(i)
	sc.Shape = plotutil.Shape(i)
	p.Add(l, sc)
	addWhiskers(p, s, xys, errs, plotutil.Color(i))
	if line.Label != "" { // one unnamed line needs no key
		p.Legend.Add(line.Label, l, sc)
	}
}

// addBars draws each line's means as bars from zero, the lines' bars side
// by side within each category.
func addBars(p *plot.Plot, s *Sweep, metric string, xs map[string]float64) {
	const group = 0.8 // of a category's width
	w := group / float64(max(len(s.Lines), 1))
	for i, line := range s.Lines {
		xys, errs := values(line, metric, xs)
		var first *plotter.Polygon
		for j := range xys {
			xys[j].X += -group/2 + w*(float64(i)+0.5)
			x, y := xys[j].X, xys[j].Y
			bar, err := plotter.NewPolygon(plotter.XYs{{X: x - w*0.45, Y: 0}, {X: x + w*0.45, Y: 0}, {X: x + w*0.45, Y: y}, {X: x - w*0.45, Y: y}})
			if err != nil {
				continue
			}
			bar.Color = plotutil.Color(i)
			bar.LineStyle.Width = 0
			p.Add(bar)
			if first == nil {
				first = bar
			}
		}
		addWhiskers(p, s, xys, errs, color.Black) // the bar's colour would hide it
		if first != nil && line.Label != "" {
			p.Legend.Add(line.Label, first)
		}
	}
}

// addWhiskers draws min-to-max whiskers when points summarise seeds.
func addWhiskers(p *plot.Plot, s *Sweep, xys plotter.XYs, errs plotter.YErrors, col color.Color) {
	if s.Seeds <= 1 || len(xys) == 0 {
		return
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{xys, errs})
	if err != nil {
		return
	}
	eb.LineStyle.Color = col
	eb.LineStyle.Width = vg.Points(1)
	p.Add(eb)
}

// fromZero starts the y axis at zero (or ends it there, for data below
// zero) unless the data may choose, and gives an axis of one value room.
func fromZero(p *plot.Plot, fromData bool) {
	if math.IsInf(p.Y.Min, 0) || math.IsInf(p.Y.Max, 0) {
		return // nothing drawn
	}
	if !fromData {
		p.Y.Min, p.Y.Max = min(p.Y.Min, 0), max(p.Y.Max, 0)
	}
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
}

// numericTicks mark each swept value, as given, when there are few;
// otherwise plain ticks.
func numericTicks(xs map[string]float64) plot.Ticker {
	const most = 12
	if len(xs) > most {
		return plainTicks{}
	}
	var ts plot.ConstantTicks
	for label, v := range xs {
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	slices.SortFunc(ts, func(a, b plot.Tick) int {
		return cmp.Or(cmp.Compare(a.Value, b.Value), strings.Compare(a.Label, b.Label))
	})
	return ts
}

// plainTicks are gonum's default ticks labelled without scientific
// notation (gonum writes 4e+06).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = scenarios.FormatNumber(ts[i].Value)
		}
	}
	return ts
}
