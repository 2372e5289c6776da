// Package plots draws the charts of a run and of a sweep with gonum/plot.
//
// It reads plain numbers (scenarios.Charts, Sweep) and writes image files;
// nothing in the simulator core imports it. Every chart says in its title
// what it shows and for which scenario and seed, and every axis names its
// unit. A chart with no data is still written, empty, with a "no data"
// note, so that a run always produces the same set of files.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kafkasim/kafkasim/outfile"
	"github.com/kafkasim/kafkasim/scenarios"
)

// Format is the image format of the files written.
type Format int

const (
	PNG Format = iota
	SVG
)

// Ext is the file extension of the format, without the dot.
func (f Format) Ext() string {
	if f == SVG {
		return "svg"
	}
	return "png"
}

// Sizes: wide enough for a few thousand offsets, tall enough per panel to
// read a step in a line.
const (
	width       = 9 * vg.Inch
	height      = 5 * vg.Inch
	panelHeight = 2.6 * vg.Inch
)

var (
	colFirst     = color.RGBA{R: 70, G: 110, B: 180, A: 255}
	colReordered = color.RGBA{R: 235, G: 140, B: 0, A: 255}
	colDuplicate = color.RGBA{R: 210, G: 0, B: 0, A: 255}
	colFault     = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	colMark      = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	colLost      = color.RGBA{R: 130, G: 0, B: 170, A: 255}
)

// WriteRun writes the charts of one run into dir (created if missing) and
// returns the paths written, always in this order:
//
//	partitions   records per partition (bars)
//	latency      histogram of send() to ack latency, p50 and p99 marked
//	batch-size   histogram of bytes per batch sent, retries included
//	order        per partition: log offset against send time; duplicates,
//	             reordered and lost records stand out, faults are marked
//	timeseries   stacked panels against virtual time: acked records/s
//	             (and of those, the ones later lost), requests in flight,
//	             buffer.memory in use, ISR size per partition; faults are
//	             marked
//
// A chart with no data is written empty with a "no data" note.
func WriteRun(dir string, c *scenarios.Charts, f Format) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, ch := range chartsOfRun {
		if !ch.file {
			continue
		}
		path := filepath.Join(dir, ch.name+"."+f.Ext())
		img, err := ch.render(c, f)
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

// runChart is one chart of a run: its name, how to draw its panels, and
// whether WriteRun writes it as a file (the others are for a page that
// shows the panels of a file one by one, simulate serve's).
type runChart struct {
	name  string
	draw  func(*scenarios.Charts) []*plot.Plot
	panel bool // height per panel rather than for the whole image
	file  bool
}

func one(draw func(*scenarios.Charts) *plot.Plot) func(*scenarios.Charts) []*plot.Plot {
	return func(c *scenarios.Charts) []*plot.Plot { return []*plot.Plot{draw(c)} }
}

// chartsOfRun are every chart of one run, WriteRun's in its order.
var chartsOfRun = []runChart{
	{"partitions", one(partitionsPlot), false, true},
	{"latency", one(latencyPlot), false, true},
	{"batch-size", one(batchPlot), false, true},
	{"order", orderPlots, true, true},
	{"timeseries", seriesPlots, true, true},
	{"throughput", one(throughputPlot), false, false},
	{"isr", one(func(c *scenarios.Charts) *plot.Plot { return isrPlot(c, seriesEnd(c)) }), false, false},
	{"percentiles", one(percentilesPlot), false, false},
}

// render draws the chart into an image in memory.
func (ch runChart) render(c *scenarios.Charts, f Format) (io.WriterTo, error) {
	ps := ch.draw(c)
	h := height
	if ch.panel {
		h = max(height, panelHeight*vg.Length(len(ps)))
	}
	return drawStacked(f.Ext(), ps, h, nil)
}

// RunChartNames are the names RunChart draws: WriteRun's files, then
//
//	throughput   acked records/s (and those later lost) against virtual
//	             time, faults marked: the first panel of timeseries
//	isr          ISR size per partition against virtual time, faults
//	             marked: the last panel of timeseries
//	percentiles  send() to ack latency at each percentile of the
//	             acknowledged records
func RunChartNames() []string {
	names := make([]string, len(chartsOfRun))
	for i, ch := range chartsOfRun {
		names[i] = ch.name
	}
	return names
}

// RunChart draws one chart of a run, named as RunChartNames names it, as
// image bytes: a function from data to bytes, for a web page.
func RunChart(name string, c *scenarios.Charts, f Format) ([]byte, error) {
	for _, ch := range chartsOfRun {
		if ch.name == name {
			img, err := ch.render(c, f)
			if err != nil {
				return nil, err
			}
			return imageBytes(img)
		}
	}
	return nil, fmt.Errorf("no chart %q; charts: %s", name, strings.Join(RunChartNames(), ", "))
}

// imageBytes is the image written into memory.
func imageBytes(img io.WriterTo) ([]byte, error) {
	var b bytes.Buffer
	if _, err := img.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeStacked draws plots one above the other into a file, with a
// legend above them when not nil (drawStacked).
func writeStacked(path, format string, ps []*plot.Plot, h vg.Length, legend *plot.Legend) error {
	img, err := drawStacked(format, ps, h, legend)
	if err != nil {
		return err
	}
	return writeFile(path, img)
}

// drawStacked draws plots one above the other, their data areas aligned so
// that a shared x axis lines up. A legend, when not nil, is drawn above
// them all, where it covers no data; the image grows by its height.
func drawStacked(format string, ps []*plot.Plot, h vg.Length, legend *plot.Legend) (io.WriterTo, error) {
	head := vg.Length(0)
	if legend != nil {
		head = legendHeight(legend) + 8
	}
	cv, err := draw.NewFormattedCanvas(width, h+head, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(cv)
	if legend != nil {
		legend.Top, legend.Left = true, true
		legend.Draw(draw.Crop(dc, 12, 0, h, -4))
		dc = draw.Crop(dc, 0, 0, 0, -head)
	}
	tiles := draw.Tiles{Rows: len(ps), Cols: 1, PadTop: 4, PadBottom: 4, PadLeft: 4, PadRight: 8, PadY: 12}
	rows := make([][]*plot.Plot, len(ps))
	for i, p := range ps {
		if !laidOut(p, tiles.At(dc, 0, i)) {
			// gonum divides by the data area's size while it aligns
			// panels and places ticks; with no area left it writes NaN
			// into an SVG and never returns from a PNG. Draw the panel
			// empty, saying why, in the same place.
			p = fallback(p)
		}
		rows[i] = []*plot.Plot{p}
	}
	cs := plot.Align(rows, tiles, dc)
	for i, row := range rows {
		row[0].Draw(cs[i][0])
	}
	return cv, nil
}

// legendHeight is the height of a legend's entries.
func legendHeight(l *plot.Legend) vg.Length {
	r := l.Rectangle(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: width, Y: width}}})
	return r.Max.Y - r.Min.Y
}

// laidOut reports whether the panel's tile and the data area gonum fits
// into it are finite and not empty.
func laidOut(p *plot.Plot, tile draw.Canvas) bool {
	if !finiteRect(tile.Rectangle) {
		return false
	}
	return finiteRect(p.DataCanvas(tile).Rectangle)
}

func finiteRect(r vg.Rectangle) bool {
	for _, v := range []vg.Length{r.Min.X, r.Min.Y, r.Max.X, r.Max.Y} {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return r.Max.X > r.Min.X && r.Max.Y > r.Min.Y
}

// fallback is an empty panel with p's title and axis labels and a note.
func fallback(p *plot.Plot) *plot.Plot {
	q := plot.New()
	q.Title.Text = p.Title.Text
	q.X.Label.Text = p.X.Label.Text
	q.Y.Label.Text = p.Y.Label.Text
	noData(q, "the data leaves no room to draw this panel")
	return q
}

// writeFile writes a chart whole or not at all (outfile.Write).
func writeFile(path string, wt io.WriterTo) error {
	return outfile.Write(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

func newPlot(c *scenarios.Charts, what, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%s, seed %d)", what, c.Scenario, c.Seed)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	// gonum's own labels read 50000.00 and 4e+06
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Legend.Top = true
	return p
}

// noData marks an empty chart; the axes keep their labels so the reader
// still sees what would have been drawn.
func noData(p *plot.Plot, why string) {
	p.Title.Text += ": no data"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{why}})
	if err != nil {
		return
	}
	l.TextStyle[0].XAlign = draw.XCenter
	l.TextStyle[0].YAlign = draw.YCenter
	p.Add(l)
}

func partitionsPlot(c *scenarios.Charts) *plot.Plot {
	p := newPlot(c, "Records per partition in the final logs", "partition", "records")
	if len(c.Partitions) == 0 {
		noData(p, "no partitions")
		return p
	}
	vals := make(plotter.Values, len(c.Partitions))
	names := make([]string, len(c.Partitions))
	for i, pc := range c.Partitions {
		vals[i] = float64(pc.Records)
		names[i] = pc.Partition
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(float64(min(60, 400/len(vals)))))
	if err != nil {
		noData(p, err.Error())
		return p
	}
	bars.Color = colFirst
	p.Add(bars)
	p.NominalX(names...)
	// Headroom above the tallest bar for the legend (the fair share's
	// label), which is drawn inside the plot's top.
	p.Y.Min, p.Y.Max = 0, max(p.Y.Max, slices.Max(vals)*1.25)
	// The fair share: what each partition would hold if the records were
	// spread evenly, so that a skew reads at a glance.
	total := 0.0
	for _, v := range vals {
		total += v
	}
	fair := total / float64(len(vals))
	if l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: fair}, {X: float64(len(vals)) - 0.5, Y: fair}}); err == nil {
		l.Color = colMark
		l.Width = vg.Points(1.5)
		l.Dashes = plotutil.Dashes(1)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("fair share: %s records each", scenarios.FormatNumber(fair)), l)
	}
	return p
}

func latencyPlot(c *scenarios.Charts) *plot.Plot {
	p := newPlot(c, "send() to ack latency", "latency (ms, virtual time)", "records")
	sorted := finite(c.LatencyMs)
	if len(sorted) == 0 {
		noData(p, "no record was acknowledged")
		return p
	}
	slices.Sort(sorted)
	p50, p99 := percentile(sorted, 0.5), percentile(sorted, 0.99)
	ms := func(v float64) string { return scenarios.FormatQuantity(v, "ms") }
	p.Title.Text = fmt.Sprintf("send() to ack latency, p50 %s, p99 %s, max %s (%s, seed %d)",
		ms(p50), ms(p99), ms(sorted[len(sorted)-1]), c.Scenario, c.Seed)
	h := histogram(p, sorted)
	top := 0.0
	for _, b := range h.Bins {
		top = max(top, b.Weight)
	}
	for i, m := range []struct {
		name string
		v    float64
	}{{"p50", p50}, {"p99", p99}} {
		l, err := plotter.NewLine(plotter.XYs{{X: m.v, Y: 0}, {X: m.v, Y: top}})
		if err != nil {
			continue
		}
		l.Color = colMark
		l.Width = vg.Points(1.5)
		l.Dashes = plotutil.Dashes(i + 1)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s = %s", m.name, scenarios.FormatQuantity(m.v, "ms")), l)
	}
	return p
}

func batchPlot(c *scenarios.Charts) *plot.Plot {
	p := newPlot(c, "Batch size on the wire, every send attempt", "batch size (bytes)", "batches")
	sizes := finite(c.BatchBytes)
	if len(sizes) == 0 {
		noData(p, "no batch with a known size")
		return p
	}
	sum := 0.0
	for _, b := range sizes {
		sum += b
	}
	p.Title.Text = fmt.Sprintf("Batch size on the wire, %d sends, mean %s bytes (%s, seed %d)",
		len(sizes), scenarios.FormatNumber(math.Round(sum/float64(len(sizes)))), c.Scenario, c.Seed)
	histogram(p, sizes)
	return p
}

// finite is a copy of v without NaN and infinities, which gonum/plot
// cannot place (its histogram panics on them).
func finite(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// histogram adds a histogram with a bin count that suits the sample size;
// values must be finite and not empty.
func histogram(p *plot.Plot, v []float64) *plotter.Histogram {
	bins := min(60, max(5, int(math.Sqrt(float64(len(v))))))
	h, err := plotter.NewHist(plotter.Values(v), bins)
	if err != nil {
		noData(p, err.Error())
		return &plotter.Histogram{}
	}
	h.FillColor = colFirst
	h.LineStyle.Width = 0
	p.Add(h)
	p.Y.Min = 0
	return h
}

// orderPlots is one panel per partition: x is the log offset, y when the
// application sent the record. In-order first copies climb in a thin blue
// line; a reordered record (a later-sent one is below it) is an orange
// triangle under the line, a duplicate a red cross back at its old send
// time, a lost record a purple square at the offset its acknowledgement
// named (the final log holds something else there, or ends before it).
// Fault times are horizontal lines: everything sent above a line was sent
// after the fault.
func orderPlots(c *scenarios.Charts) []*plot.Plot {
	if len(c.Order) == 0 {
		p := newPlot(c, "Final log order", "log offset", "sent at (ms, virtual time)")
		noData(p, "no partitions")
		return []*plot.Plot{p}
	}
	var ps []*plot.Plot
	for _, o := range c.Order {
		var first, reordered, dups, aborted, lost plotter.XYs
		lastSent, lastOffset := 0.0, 0.0
		for _, l := range c.Lost {
			if l.Partition == o.Partition && l.Offset >= 0 {
				lost = append(lost, plotter.XY{X: float64(l.Offset), Y: l.SentMs})
				lastSent, lastOffset = max(lastSent, l.SentMs), max(lastOffset, float64(l.Offset))
			}
		}
		for _, pt := range o.Points {
			xy := plotter.XY{X: float64(pt.Offset), Y: pt.SentMs}
			lastSent = max(lastSent, pt.SentMs)
			switch {
			case pt.Aborted:
				aborted = append(aborted, xy)
			case pt.Copy > 1:
				dups = append(dups, xy)
			case pt.Reorder:
				reordered = append(reordered, xy)
			default:
				first = append(first, xy)
			}
		}
		title := fmt.Sprintf("%s: log offset against send time, %d duplicates, %d reordered", o.Partition, len(dups), len(reordered))
		if len(lost) > 0 {
			title += fmt.Sprintf(", %d lost", len(lost))
		}
		if len(aborted) > 0 {
			title += fmt.Sprintf(", %d aborted", len(aborted))
		}
		p := newPlot(c, title, "log offset", "sent at (ms, virtual time)")
		if len(o.Points) == 0 && len(lost) == 0 {
			noData(p, "empty log")
			ps = append(ps, p)
			continue
		}
		// Faults after the last send cannot move a record on this axis and
		// would squash the data into the bottom of the panel.
		var marks []scenarios.FaultMark
		for _, f := range c.Faults {
			if f.AtMs <= lastSent {
				marks = append(marks, f)
			}
		}
		if n := len(o.Points); n > 0 {
			lastOffset = max(lastOffset, float64(o.Points[n-1].Offset))
		}
		faultLines(p, marks, false, 0, lastOffset)
		p.Legend.Top = false // the data climbs to the top right
		addScatter(p, first, colFirst, draw.CircleGlyph{}, 1, "in order")
		addScatter(p, reordered, colReordered, draw.TriangleGlyph{}, 3.5, "reordered")
		addScatter(p, dups, colDuplicate, draw.CrossGlyph{}, 4, "duplicate")
		addScatter(p, aborted, colFault, draw.RingGlyph{}, 3, "aborted (read_uncommitted only)")
		addScatter(p, lost, colLost, draw.BoxGlyph{}, 3, "lost: acknowledged here, not in the final log")
		ps = append(ps, p)
	}
	return ps
}

func addScatter(p *plot.Plot, xys plotter.XYs, col color.Color, shape draw.GlyphDrawer, radius vg.Length, name string) {
	if len(xys) == 0 {
		return
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return
	}
	s.GlyphStyle = draw.GlyphStyle{Color: col, Shape: shape, Radius: radius}
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("%s (%d)", name, len(xys)), s)
}

// faultLines marks fault times, vertical on a time x axis or horizontal on
// a time y axis spanning [from, to] of the other axis. Faults at the same
// instant share one line and one label.
func faultLines(p *plot.Plot, marks []scenarios.FaultMark, vertical bool, from, to float64) {
	scale := 1.0
	if vertical {
		scale = 1000 // the time series use seconds
	}
	for i := 0; i < len(marks); {
		j := i
		var labels []string
		for ; j < len(marks) && marks[j].AtMs == marks[i].AtMs; j++ {
			labels = append(labels, marks[j].Label)
		}
		at := marks[i].AtMs / scale
		i = j
		label := strings.Join(labels, ", ")
		if vertical && len(labels) > 1 && len(label) > maxVerticalLabel {
			// A rotated label runs down the panel: keep it shorter than
			// the panel is tall.
			label = fmt.Sprintf("%s +%d more", labels[0], len(labels)-1)
		}
		a, b := plotter.XY{X: from, Y: at}, plotter.XY{X: to, Y: at}
		labelAt := a // on the order chart the data is below the line at the left
		if vertical {
			a, b = plotter.XY{X: at, Y: from}, plotter.XY{X: at, Y: to}
			labelAt = b
		}
		l, err := plotter.NewLine(plotter.XYs{a, b})
		if err != nil {
			continue
		}
		l.Color = colFault
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{labelAt}, Labels: []string{label}})
		if err != nil {
			continue
		}
		lab.TextStyle[0].Color = colFault
		lab.TextStyle[0].Font.Size = vg.Points(8)
		if vertical {
			lab.TextStyle[0].Rotation = math.Pi / 2
			lab.TextStyle[0].XAlign = draw.XRight
			lab.Offset = vg.Point{X: -2}
		} else {
			lab.TextStyle[0].YAlign = draw.YBottom
			lab.Offset = vg.Point{X: 2}
		}
		p.Add(unboxed{lab})
	}
}

// maxVerticalLabel is the longest fault label, in characters, drawn down a
// time-series panel: at 8 points it stays within a panel's data area.
const maxVerticalLabel = 28

// unboxed draws a plotter without asking gonum to keep its glyphs inside
// the data area. gonum shrinks the data area until every glyph box fits; a
// rotated fault label that starts at the top and is longer than the panel
// is tall can never fit, and the layout divides zero by zero (padY). A
// label is an annotation: it may overlap the axis, never squash the data.
type unboxed struct{ plot.Plotter }

// seriesPanel is one sampled time series: what it shows, its y axis and
// its value in a sample.
type seriesPanel struct {
	what, y string
	val     func(s *scenarios.Sample) float64
}

// seriesPanels are the time series of a run, in the order drawn.
func seriesPanels(c *scenarios.Charts) []seriesPanel {
	step := fmt.Sprintf("per %s ms step", scenarios.FormatNumber(c.SampleMs))
	panels := []seriesPanel{
		{"Acked records/s, " + step, "records/s", func(s *scenarios.Sample) float64 {
			return float64(s.AckedRecords) * 1000 / c.SampleMs
		}},
		{"Produce requests in flight", "requests", func(s *scenarios.Sample) float64 { return float64(s.InFlight) }},
		{"buffer.memory in use", "KiB", func(s *scenarios.Sample) float64 { return float64(s.BufferBytes) / 1024 }},
	}
	for _, s := range c.Series {
		if s.Unstable > 0 {
			// Transactions: what read_committed consumers wait for.
			panels = append(panels, seriesPanel{"Held back from read_committed (high watermark - last stable offset)", "offsets",
				func(s *scenarios.Sample) float64 { return float64(s.Unstable) }})
			break
		}
	}
	return panels
}

// seriesPlots are the sampled time series, one panel each on a shared
// time axis in seconds.
func seriesPlots(c *scenarios.Charts) []*plot.Plot {
	end := seriesEnd(c)
	var ps []*plot.Plot
	for i, pn := range seriesPanels(c) {
		ps = append(ps, seriesPlot(c, pn, i == 0, end))
	}
	return append(ps, isrPlot(c, end))
}

// seriesEnd is the time of the last sample, in seconds.
func seriesEnd(c *scenarios.Charts) float64 {
	if n := len(c.Series); n > 0 {
		return c.Series[n-1].AtMs / 1000
	}
	return 0
}

// throughputPlot is the first time series alone: acked records/s, with
// those later lost.
func throughputPlot(c *scenarios.Charts) *plot.Plot {
	return seriesPlot(c, seriesPanels(c)[0], true, seriesEnd(c))
}

// seriesPlot is one time series panel; the first one (acked records/s)
// also draws the acknowledgements later proved false, on the same scale.
func seriesPlot(c *scenarios.Charts, pn seriesPanel, first bool, end float64) *plot.Plot {
	p := newPlot(c, pn.what, "time (s, virtual)", pn.y)
	if len(c.Series) == 0 || c.SampleMs <= 0 {
		noData(p, "no samples")
		return p
	}
	xys := make(plotter.XYs, len(c.Series))
	top := 0.0
	for i := range c.Series {
		xys[i] = plotter.XY{X: c.Series[i].AtMs / 1000, Y: pn.val(&c.Series[i])}
		top = max(top, xys[i].Y)
	}
	if first && len(c.Lost) > 0 {
		addLine(p, stepStart(xys, c.SampleMs), 0, "acked")
		addLostLine(p, c, "", 0)
	} else {
		addLine(p, stepStart(xys, c.SampleMs), 0, "")
	}
	p.X.Min, p.X.Max = 0, max(p.X.Max, end)
	p.Y.Min = 0
	faultLines(p, c.Faults, true, 0, top)
	return p
}

// addLostLine draws, per step, the acknowledged records/s that the final
// logs do not hold, stepped on the same samples as the acked line; run
// names the run in the legend and dashes it after the first (compare).
func addLostLine(p *plot.Plot, c *scenarios.Charts, run string, i int) {
	perStep := map[float64]int{}
	for _, l := range c.Lost {
		perStep[c.SampleMs*math.Ceil(l.AckedMs/c.SampleMs)]++
	}
	xys := make(plotter.XYs, len(c.Series))
	for i, s := range c.Series {
		xys[i] = plotter.XY{X: s.AtMs / 1000, Y: float64(perStep[s.AtMs]) * 1000 / c.SampleMs}
	}
	l, err := plotter.NewLine(stepStart(xys, c.SampleMs))
	if err != nil {
		return
	}
	l.Color = colLost
	l.Width = vg.Points(1.5)
	l.StepStyle = plotter.PreStep
	if i > 0 {
		l.Dashes = plotutil.Dashes(i)
	}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("%sacked, then lost (%d records)", run, len(c.Lost)), l)
}

// isrPlot is the ISR size of every partition, a line each.
func isrPlot(c *scenarios.Charts, end float64) *plot.Plot {
	p := newPlot(c, "ISR size per partition (controller's view)", "time (s, virtual)", "replicas in ISR")
	if len(c.Series) == 0 {
		noData(p, "no samples")
		return p
	}
	parts := 0
	for _, s := range c.Series {
		parts = max(parts, len(s.ISR))
	}
	top := 0.0
	for i := range parts {
		// Each partition's line is moved a hair off the integer, so that
		// partitions with the same ISR size draw side by side rather than
		// one over the other.
		offset := (float64(i) - float64(parts-1)/2) * min(0.04, 0.3/float64(parts))
		var xys plotter.XYs
		for _, s := range c.Series {
			if i < len(s.ISR) {
				xys = append(xys, plotter.XY{X: s.AtMs / 1000, Y: float64(s.ISR[i]) + offset})
				top = max(top, float64(s.ISR[i]))
			}
		}
		name := fmt.Sprintf("partition %d", i)
		if i < len(c.Partitions) {
			name = c.Partitions[i].Partition
		}
		addLine(p, stepStart(xys, c.SampleMs), i, name)
	}
	p.Y.Min, p.Y.Max = 0, top+0.5
	p.Y.Tick.Marker = integerTicks{}
	faultLines(p, c.Faults, true, 0, top+0.4)
	p.X.Min, p.X.Max = 0, max(p.X.Max, end)
	return p
}

func addLine(p *plot.Plot, xys plotter.XYs, i int, name string) {
	if len(xys) == 0 {
		return
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.StepStyle = plotter.PreStep // a sample covers the step that ends at it
	if i > 0 {
		l.Dashes = plotutil.Dashes(i)
	}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
}

// stepStart repeats the first sample at the start of its step, so that the
// step line covers the first step too.
func stepStart(xys plotter.XYs, sampleMs float64) plotter.XYs {
	if len(xys) == 0 {
		return xys
	}
	return append(plotter.XYs{{X: xys[0].X - sampleMs/1000, Y: xys[0].Y}}, xys...)
}

// integerTicks labels whole numbers only: an ISR of 2.5 replicas is noise.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		ts = append(ts, plot.Tick{Value: v, Label: scenarios.FormatNumber(v)})
	}
	return ts
}

// percentile is the nearest-rank percentile of sorted values, as the
// report computes latency_ms.
func percentile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
