package plots

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kafkasim/kafkasim/scenarios"
)

// WriteCompare writes the charts that can hold two runs of one scenario
// (simulate plot --vs) into dir (created if missing), A and B named in
// each legend by labelA and labelB, and returns the paths written, in
// this order:
//
//	compare-timeseries  stacked panels against virtual time, a line per
//	                    run: acked records/s (and those acked, then
//	                    lost), requests in flight, buffer.memory in use;
//	                    run A's faults are marked
//	compare-latency     send() to ack latency at each percentile of the
//	                    acknowledged records, a line per run
func WriteCompare(dir string, a, b *scenarios.Charts, labelA, labelB string, f Format) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, name := range compareChartNames {
		path := filepath.Join(dir, name+"."+f.Ext())
		img, err := compareChart(name, a, b, labelA, labelB, f)
		if err != nil {
			return paths, err
		}
		if err := writeFile(path, img); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// compareChartNames are WriteCompare's charts, in its order.
var compareChartNames = []string{"compare-timeseries", "compare-latency"}

// CompareChart draws one of WriteCompare's charts, by its name, as image
// bytes: a function from data to bytes, for a web page.
func CompareChart(name string, a, b *scenarios.Charts, labelA, labelB string, f Format) ([]byte, error) {
	img, err := compareChart(name, a, b, labelA, labelB, f)
	if err != nil {
		return nil, err
	}
	return imageBytes(img)
}

func compareChart(name string, a, b *scenarios.Charts, labelA, labelB string, f Format) (io.WriterTo, error) {
	runs := []compareRun{{"A " + labelA, a}, {"B " + labelB, b}}
	var ps []*plot.Plot
	switch name {
	case "compare-timeseries":
		ps = compareSeries(runs)
	case "compare-latency":
		ps = []*plot.Plot{compareLatency(runs)}
	default:
		return nil, fmt.Errorf("no chart %q; charts: %s", name, strings.Join(compareChartNames, ", "))
	}
	// A chart's panels share their lines' styles, so the first panel's
	// legend, drawn above them all, names the runs; inside a panel it
	// covered data and fault labels.
	legend := ps[0].Legend
	for _, p := range ps {
		p.Legend = plot.NewLegend()
	}
	return drawStacked(f.Ext(), ps, max(height, panelHeight*vg.Length(len(ps))), &legend)
}

// compareRun is one run of a comparison and its legend label.
type compareRun struct {
	label  string
	charts *scenarios.Charts
}

// compareSeries is one panel per time series either run has, a line per
// run that has it, on a shared time axis in seconds.
func compareSeries(runs []compareRun) []*plot.Plot {
	var titles []string
	panels := make([]map[string]seriesPanel, len(runs))
	end := 0.0
	for i, r := range runs {
		panels[i] = map[string]seriesPanel{}
		for _, p := range seriesPanels(r.charts) {
			panels[i][p.what] = p
			if !slices.Contains(titles, p.what) {
				titles = append(titles, p.what)
			}
		}
		if n := len(r.charts.Series); n > 0 {
			end = max(end, r.charts.Series[n-1].AtMs/1000)
		}
	}
	a := runs[0].charts
	var ps []*plot.Plot
	for _, what := range titles {
		p := newPlot(a, what+", A against B", "time (s, virtual)", "")
		top, drawn := 0.0, false
		for i, r := range runs {
			pn, ok := panels[i][what]
			if !ok || len(r.charts.Series) == 0 || r.charts.SampleMs <= 0 {
				continue
			}
			p.Y.Label.Text = pn.y
			xys := make(plotter.XYs, len(r.charts.Series))
			for k := range r.charts.Series {
				xys[k] = plotter.XY{X: r.charts.Series[k].AtMs / 1000, Y: pn.val(&r.charts.Series[k])}
				top = max(top, xys[k].Y)
			}
			addLine(p, stepStart(xys, r.charts.SampleMs), i, r.label)
			if what == titles[0] && len(r.charts.Lost) > 0 {
				addLostLine(p, r.charts, r.label+": ", i)
			}
			drawn = true
		}
		if !drawn {
			noData(p, "no samples")
			ps = append(ps, p)
			continue
		}
		p.X.Min, p.X.Max = 0, max(p.X.Max, end)
		p.Y.Min = 0
		faultLines(p, a.Faults, true, 0, top)
		ps = append(ps, p)
	}
	return ps
}

// compareLatency draws each run's latencies sorted, against the share of
// acknowledged records at or below them: the percentiles the comparison
// prints, and every one between.
func compareLatency(runs []compareRun) *plot.Plot {
	return latencyByPercentile(runs, "send() to ack latency by percentile, A against B")
}

// percentilesPlot is one run's latencies by percentile.
func percentilesPlot(c *scenarios.Charts) *plot.Plot {
	return latencyByPercentile([]compareRun{{"this run", c}}, "send() to ack latency by percentile")
}

// latencyByPercentile draws each run's latencies sorted, a line per run.
func latencyByPercentile(runs []compareRun, title string) *plot.Plot {
	a := runs[0].charts
	p := newPlot(a, title, "acknowledged records at or below (%)", "latency (ms, virtual time)")
	drawn := false
	for i, r := range runs {
		sorted := finite(r.charts.LatencyMs)
		if len(sorted) == 0 {
			continue
		}
		slices.Sort(sorted)
		// At most about 2000 points a line; the last (the maximum) always.
		step := max(1, len(sorted)/2000)
		var xys plotter.XYs
		for k := step - 1; k < len(sorted); k += step {
			xys = append(xys, plotter.XY{X: float64(k+1) * 100 / float64(len(sorted)), Y: sorted[k]})
		}
		if last := len(sorted) - 1; (last+1)%step != 0 {
			xys = append(xys, plotter.XY{X: 100, Y: sorted[last]})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		if i > 0 {
			l.Dashes = plotutil.Dashes(i)
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s: p50 %s, p99 %s", r.label, scenarios.FormatQuantity(percentile(sorted, 0.5), "ms"), scenarios.FormatQuantity(percentile(sorted, 0.99), "ms")), l)
		drawn = true
	}
	if !drawn {
		noData(p, "no record was acknowledged")
		return p
	}
	p.X.Min, p.X.Max = 0, 100
	p.Y.Min = 0
	return p
}
