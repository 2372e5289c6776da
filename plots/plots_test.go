package plots

import (
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/scenarios"
)

// decodes checks that a written file is a whole image of its format.
func decodes(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	switch filepath.Ext(path) {
	case ".png":
		img, err := png.Decode(f)
		require.NoError(t, err, path)
		assert.Greater(t, img.Bounds().Dx(), 100, path)
	case ".svg":
		d := xml.NewDecoder(f)
		root := ""
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, path)
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		assert.Equal(t, "svg", root, path)
	default:
		t.Fatalf("unexpected file %s", path)
	}
}

// synthetic is a run's chart data with every part filled, including the
// time series the runner may not sample yet.
func synthetic() *scenarios.Charts {
	c := &scenarios.Charts{Scenario: "synthetic", Seed: 7, SampleMs: 100,
		Partitions: []scenarios.PartitionCount{{Partition: "t-0", Records: 40}, {Partition: "t-1", Records: 35}},
		Faults:     []scenarios.FaultMark{{AtMs: 300, Label: "crash broker-1"}, {AtMs: 300, Label: "isolate broker-2"}, {AtMs: 900, Label: "heal"}},
	}
	for i := range 75 {
		c.LatencyMs = append(c.LatencyMs, 2+float64(i%17))
		c.BatchBytes = append(c.BatchBytes, 500+float64(i*13%400))
	}
	for i := range 10 {
		c.Series = append(c.Series, scenarios.Sample{AtMs: float64(i+1) * 100, AckedRecords: int64(5 + i),
			InFlight: i % 5, BufferBytes: int64(i * 3000), ISR: []int{3 - i%2, 3}})
	}
	o := scenarios.OrderSeries{Partition: "t-0"}
	for i := range 40 {
		pt := scenarios.OrderPoint{Offset: int64(i), Record: broker.RecordID(i + 1), SentMs: float64(i * 10), Copy: 1}
		if i == 20 {
			pt.Record, pt.SentMs, pt.Copy = 5, 40, 2
		}
		if i == 30 {
			pt.Reorder = true
		}
		o.Points = append(o.Points, pt)
	}
	c.Order = []scenarios.OrderSeries{o, {Partition: "t-1"}}
	return c
}

func runCharts(t *testing.T) *scenarios.Charts {
	s, err := scenarios.Load("retry-duplicates", nil)
	require.NoError(t, err)
	return s.Run(scenarios.RunOptions{}).Charts(0)
}

func TestWriteRun(t *testing.T) {
	tests := []struct {
		name   string
		charts *scenarios.Charts
	}{
		{"a run", runCharts(t)},
		{"every part filled", synthetic()},
		{"empty", &scenarios.Charts{}},
		{"one of each", &scenarios.Charts{Scenario: "one", SampleMs: 100, LatencyMs: []float64{3}, BatchBytes: []float64{100},
			Partitions: []scenarios.PartitionCount{{Partition: "t-0", Records: 1}},
			Series:     []scenarios.Sample{{AtMs: 100, ISR: []int{1}}},
			Order:      []scenarios.OrderSeries{{Partition: "t-0", Points: []scenarios.OrderPoint{{Copy: 1}}}}}},
		{"not finite", &scenarios.Charts{Scenario: "nan", LatencyMs: []float64{math.NaN()}, BatchBytes: []float64{math.Inf(1)}}},
	}
	want := []string{"partitions", "latency", "batch-size", "order", "timeseries"}
	for _, tt := range tests {
		for _, f := range []Format{PNG, SVG} {
			t.Run(tt.name+"/"+f.Ext(), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "sub")
				paths, err := WriteRun(dir, tt.charts, f)
				require.NoError(t, err)
				require.Len(t, paths, len(want))
				for i, p := range paths {
					assert.Equal(t, filepath.Join(dir, want[i]+"."+f.Ext()), p)
					decodes(t, p)
				}
			})
		}
	}
}

// TestLostRecordsAreDrawn: an acks=1 failover's lost records are marked
// on the order chart and the acked records/s panel, each with a legend
// entry that counts them.
func TestLostRecordsAreDrawn(t *testing.T) {
	s, err := scenarios.Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	res := s.Run(scenarios.RunOptions{})
	c := res.Charts(0)
	lost := res.Report.Records.Lost
	require.Positive(t, lost)
	dir := t.TempDir()
	paths, err := WriteRun(dir, c, SVG)
	require.NoError(t, err)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		require.NoError(t, err)
		return string(b)
	}
	require.Len(t, paths, 5)
	assert.Contains(t, read("order"), fmt.Sprintf("lost: acknowledged here, not in the final log (%d)", lost))
	assert.Contains(t, read("order"), fmt.Sprintf("orders-0: log offset against send time, 0 duplicates, 0 reordered, %d lost", lost))
	assert.Contains(t, read("timeseries"), fmt.Sprintf("acked, then lost (%d records)", lost))
}

func TestWriteRunBadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := WriteRun(file, synthetic(), PNG)
	assert.Error(t, err)
}

func TestWriteSweep(t *testing.T) {
	point := func(x string, v float64) SweepPoint {
		return SweepPoint{X: x, Values: map[string]SweepValue{
			"metrics.record-send-rate": {Mean: v, Min: v - 1, Max: v + 2},
			"records.lost":             {Mean: v / 10, Min: 0, Max: v / 5},
		}}
	}
	rate := SweepMetric{Path: "metrics.record-send-rate", Unit: "records/s"}
	lost := SweepMetric{Path: "records.lost", Unit: "records"}
	tests := []struct {
		name  string
		sweep Sweep
	}{
		{"numeric", Sweep{Param: "producer.linger.ms", Seeds: 3, Metrics: []SweepMetric{rate, lost}, Lines: []SweepLine{
			{Label: "producer.acks=1", Points: []SweepPoint{point("0", 10), point("5", 20), point("20", 25)}},
			{Label: "producer.acks=all", Points: []SweepPoint{point("0", 8), point("5", 18), point("20", 24)}},
		}}},
		{"numeric from data", Sweep{Param: "producer.linger.ms", Seeds: 3, YFromData: true, Metrics: []SweepMetric{rate}, Lines: []SweepLine{
			{Points: []SweepPoint{point("0", 4000000), point("5", 4000010)}},
		}}},
		{"categorical", Sweep{Scenario: "s", Param: "producer.compression.type", Seeds: 2, Metrics: []SweepMetric{rate}, Lines: []SweepLine{
			{Label: "a", Points: []SweepPoint{point("none", 10), point("gzip", 20), point("5", 1)}},
			{Label: "b", Points: []SweepPoint{point("none", 12), point("gzip", 22)}},
		}}},
		{"negative", Sweep{Param: "p", Metrics: []SweepMetric{rate}, Lines: []SweepLine{{Points: []SweepPoint{point("1", -5), point("2", -3)}}}}},
		{"metric missing", Sweep{Param: "p", Metrics: []SweepMetric{{Path: "nope"}}, Lines: []SweepLine{{Points: []SweepPoint{point("1", 1)}}}}},
		{"one point", Sweep{Param: "p", Metrics: []SweepMetric{rate}, Lines: []SweepLine{{Points: []SweepPoint{point("1", 1)}}}}},
		{"not finite", Sweep{Param: "p", Metrics: []SweepMetric{rate}, Lines: []SweepLine{{Points: []SweepPoint{point("1", math.NaN()), point("2", 3)}}}}},
		{"no metrics", Sweep{Param: "p"}},
		{"nothing", Sweep{}},
	}
	for _, tt := range tests {
		for _, ext := range []string{".png", ".svg"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "sweep"+ext)
				require.NoError(t, WriteSweep(path, &tt.sweep))
				decodes(t, path)
			})
		}
	}
}

// TestSweepSVGSaysWhatItShows reads the SVG's text: units on the y axis,
// means over seeds in the title, no scientific notation, bars for
// categories, an axis from zero unless asked.
func TestSweepSVGSaysWhatItShows(t *testing.T) {
	values := func(mean float64) map[string]SweepValue {
		return map[string]SweepValue{"metrics.outgoing-byte-rate": {Mean: mean, Min: mean - 100000, Max: mean + 100000}}
	}
	draw := func(s Sweep) string {
		path := filepath.Join(t.TempDir(), "sweep.svg")
		require.NoError(t, WriteSweep(path, &s))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(data)
	}
	s := Sweep{Scenario: "compression-codecs", Param: "producer.linger.ms", ParamUnit: "ms", Seeds: 5,
		Metrics: []SweepMetric{{Path: "metrics.outgoing-byte-rate", Unit: "B/s"}},
		Lines:   []SweepLine{{Points: []SweepPoint{{X: "10", Values: values(4299829.472)}, {X: "20", Values: values(4500000)}}}}}
	svg := draw(s)
	assert.Contains(t, svg, "metrics.outgoing-byte-rate (B/s)")
	assert.Contains(t, svg, ">producer.linger.ms (ms)<", "the x axis has the setting's unit")
	assert.Contains(t, svg, "mean of 5 seeds, whiskers min to max")
	assert.NotRegexp(t, `>[^<]*\de[+-]\d[^<]*<`, svg, "no scientific notation in any text")
	assert.Regexp(t, `>0<`, svg, "the y axis starts at zero")
	assert.Contains(t, svg, ">20<", "a tick at each swept value")

	s.YFromData = true
	assert.NotRegexp(t, `>0<`, draw(s), "the data choose the axis")

	s.Lines[0].Points[0].X, s.Lines[0].Points[1].X = "none", "lz4"
	bars := draw(s)
	assert.Contains(t, bars, ">lz4<")
	assert.Regexp(t, `>0<`, bars, "bars start at zero even with YFromData")
}

func TestWriteSweepBadExtension(t *testing.T) {
	err := WriteSweep(filepath.Join(t.TempDir(), "sweep.pdf"), &Sweep{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be .png or .svg")
}

func TestSweepAxis(t *testing.T) {
	s := &Sweep{Lines: []SweepLine{{Points: []SweepPoint{{X: "20"}, {X: "5"}}}, {Points: []SweepPoint{{X: "0"}, {X: "5"}}}}}
	xs, ticks := sweepAxis(s)
	assert.Nil(t, ticks, "numbers plot numerically")
	assert.Equal(t, map[string]float64{"20": 20, "5": 5, "0": 0}, xs)

	s.Lines[1].Points[0].X = "gzip"
	xs, ticks = sweepAxis(s)
	require.Len(t, ticks, 3)
	assert.Equal(t, []string{"20", "5", "gzip"}, []string{ticks[0].Label, ticks[1].Label, ticks[2].Label}, "first appearance order")
	assert.Equal(t, map[string]float64{"20": 0, "5": 1, "gzip": 2}, xs)
}

// noNaN reads an SVG and fails on coordinates gonum could not compute.
func noNaN(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "NaN", path)
}

// TestEveryLessonPlots draws every built-in lesson in both formats. Three
// lessons once hung here: a fault label longer than its panel left gonum no
// data area (see unboxed).
func TestEveryLessonPlots(t *testing.T) {
	for _, e := range scenarios.Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := scenarios.Load(e.Name, nil)
			require.NoError(t, err)
			c := s.Run(scenarios.RunOptions{}).Charts(0)
			for _, f := range []Format{PNG, SVG} {
				done := make(chan error, 1)
				var paths []string
				go func() {
					var err error
					paths, err = WriteRun(t.TempDir(), c, f)
					done <- err
				}()
				select {
				case err := <-done:
					require.NoError(t, err)
				case <-time.After(2 * time.Minute):
					t.Fatalf("%s: drawing the %s charts did not finish", e.Name, f.Ext())
				}
				for _, p := range paths {
					decodes(t, p)
					if f == SVG {
						noNaN(t, p)
					}
				}
			}
		})
	}
}

// TestPanelWithNoRoom: a panel whose annotations leave no data area is
// drawn empty with a note instead of NaN coordinates.
func TestPanelWithNoRoom(t *testing.T) {
	p := newPlot(&scenarios.Charts{Scenario: "s"}, "cramped", "x", "y")
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	require.NoError(t, err)
	p.Add(l)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 1, Y: 1}}, Labels: []string{strings.Repeat("a fault label far longer than the panel is tall ", 4)}})
	require.NoError(t, err)
	lab.TextStyle[0].Rotation = math.Pi / 2
	lab.TextStyle[0].XAlign = draw.XRight
	p.Add(lab) // boxed on purpose: this is what used to break the layout
	path := filepath.Join(t.TempDir(), "cramped.svg")
	require.NoError(t, writeStacked(path, "svg", []*plot.Plot{p}, height, nil))
	noNaN(t, path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), "leaves no room")
}

// TestManyFaultsAtOnce: simultaneous faults share one shortened label.
func TestManyFaultsAtOnce(t *testing.T) {
	c := synthetic()
	for i := range 6 {
		c.Faults = append(c.Faults, scenarios.FaultMark{AtMs: 1000, Label: fmt.Sprintf("isolate-end broker-%d", i)})
	}
	path := filepath.Join(t.TempDir(), "out")
	paths, err := WriteRun(path, c, SVG)
	require.NoError(t, err)
	data, err := os.ReadFile(paths[4])
	require.NoError(t, err)
	assert.Contains(t, string(data), "isolate-end broker-0 +5 more")
	noNaN(t, paths[4])
}

// TestRunChart: every chart of a run draws into SVG bytes in memory, each
// saying what it shows; an unknown name lists the names.
func TestRunChart(t *testing.T) {
	c := runCharts(t)
	titles := map[string]string{
		"partitions":  "fair share",
		"throughput":  "Acked records/s",
		"isr":         "ISR size per partition",
		"percentiles": "latency by percentile",
	}
	for _, name := range RunChartNames() {
		t.Run(name, func(t *testing.T) {
			svg, err := RunChart(name, c, SVG)
			require.NoError(t, err)
			assert.Contains(t, string(svg), "<svg")
			assert.NotContains(t, string(svg), "NaN")
			if want, ok := titles[name]; ok {
				assert.Contains(t, string(svg), want)
			}
		})
	}
	_, err := RunChart("nope", c, SVG)
	assert.ErrorContains(t, err, `no chart "nope"; charts: partitions, latency`)
	for _, name := range compareChartNames {
		svg, err := CompareChart(name, c, synthetic(), "a", "b", SVG)
		require.NoError(t, err)
		assert.Contains(t, string(svg), "A against B")
	}
}

// TestRunChartsWriteNumbersForPeople: the run's charts label ticks, titles
// and legends as the text report does: no exponent (4.299829472e+06), no
// padded decimals (50000.00).
func TestRunChartsWriteNumbersForPeople(t *testing.T) {
	c := synthetic()
	c.LatencyMs = []float64{200.442, 4299829.472}
	c.BatchBytes = []float64{4299829.472, 4299829.472}
	for i := range c.Series {
		c.Series[i].AckedRecords = 5000 * int64(i)
		c.Series[i].BufferBytes = 4e9
	}
	paths, err := WriteRun(t.TempDir(), c, SVG)
	require.NoError(t, err)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotRegexp(t, `>[^<]*\de[+-]\d[^<]*<`, string(data), p)
		assert.NotRegexp(t, `>[^<]*\d\.00<`, string(data), p)
	}
	latency, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	assert.Contains(t, string(latency), "p50 200.4 ms, p99 4300 s, max 4300 s")
	batch, err := os.ReadFile(paths[2])
	require.NoError(t, err)
	assert.Contains(t, string(batch), "mean 4299829 bytes")
}
