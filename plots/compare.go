package plots

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

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
	runs := []compareRun{{"A " + labelA, a}, {"B " + labelB, b}}
	charts := []struct {
		name  string
		plots []*plot.Plot
	}{
		{"compare-timeseries", compareSeries(runs)},
		{"compare-latency", []*plot.Plot{compareLatency(runs)}},
	}
	var paths []string
	for _, ch := range charts {
		// A chart's panels share their lines' styles, so the first
		// panel's legend, drawn above them all, names the runs; inside a
		// panel it covered data and fault labels.
		legend := ch.plots[0].Legend
		for _, p := range ch.plots {
			p.Legend = plot.NewLegend()
		}
		path := filepath.Join(dir, ch.name+"."+f.Ext())
		if err := writeStacked(path, f.Ext(), ch.plots, max(height, panelHeight*vg.Length(len(ch.plots))), &legend); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
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
	a := runs[0].charts
	p := newPlot(a, "send() to ack latency by percentile, A against B", "acknowledged records at or below (%)", "latency (ms, virtual time)")
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
