package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

func TestColumnOrder(t *testing.T) {
	runs := []Run{{Numbers: map[string]float64{
		"anomaly_count": 0, "latency_ms.p99": 1, "metrics.batch-size-avg": 1, "records.sent": 1,
		"partitions.my.topic-10.records": 1, "partitions.my.topic-2.records": 1, "partitions.my.topic-2.leader": 1,
		"partitions.a-0.records": 1,
	}}, {Numbers: map[string]float64{"errors.NOT_ENOUGH_REPLICAS": 1, "records.acked": 1}}}
	assert.Equal(t, []string{"records.acked", "records.sent", "errors.NOT_ENOUGH_REPLICAS", "metrics.batch-size-avg",
		"latency_ms.p99", "partitions.a-0.records", "partitions.my.topic-2.leader", "partitions.my.topic-2.records",
		"partitions.my.topic-10.records", "anomaly_count"}, columns(runs))
}

// runCSV runs a grid without --vary and reads its CSV back.
func runCSV(t *testing.T, scenario string, sets []string, seeds []uint64) (*Grid, [][]string) {
	t.Helper()
	g, err := NewGrid(scenario, sets, nil, seeds)
	require.NoError(t, err)
	require.NoError(t, g.Execute(1, nil))
	var out bytes.Buffer
	require.NoError(t, g.WriteCSV(&out))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	return g, rows
}

// TestCSVSeedIsExact: a seed above 2^53 is written in full, so the row's
// run can be repeated.
func TestCSVSeedIsExact(t *testing.T) {
	_, rows := runCSV(t, "inflight-one-keeps-order", []string{"workload.records=50"}, []uint64{1<<53 + 1})
	require.Len(t, rows, 2)
	assert.Equal(t, "seed", rows[0][0])
	assert.Equal(t, "9007199254740993", rows[1][0])
}

// TestEveryNumberIsExpectableAndACSVColumn keeps the report's three uses
// of its numbers from drifting apart: for every lesson, each path
// Report.Numbers visits is a column of the sweep's CSV holding its value,
// and an expectation `path: == value` is accepted and holds.
func TestEveryNumberIsExpectableAndACSVColumn(t *testing.T) {
	for _, e := range scenarios.Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			g, rows := runCSV(t, e.Name, nil, nil)
			require.Len(t, rows, 2)
			cells := map[string]string{}
			for i, col := range rows[0] {
				cells[col] = rows[1][i]
			}

			// The lesson again, its expectations replaced by one per number.
			text := string(e.Text)
			i := strings.Index(text, "\nexpect:\n")
			require.Positive(t, i, "the lesson ends with its expect section")
			var expect strings.Builder
			expect.WriteString(text[:i] + "\nexpect:\n")
			require.NotEmpty(t, g.Runs[0].Numbers)
			n := 0
			for _, path := range slices.Sorted(maps.Keys(g.Runs[0].Numbers)) {
				v := g.Runs[0].Numbers[path]
				if assert.Contains(t, cells, header(path), "a CSV column") {
					assert.Equal(t, formatNum(v), cells[header(path)], path)
				}
				fmt.Fprintf(&expect, "  %s: \"== %s\"\n", path, formatNum(v))
				n++
			}
			s, err := scenarios.Parse(e.Name+".yaml", []byte(expect.String()), nil)
			require.NoError(t, err, "expect takes every path")
			rep := s.Run(scenarios.RunOptions{}).Report
			require.Len(t, rep.Expectations, n)
			for _, x := range rep.Expectations {
				assert.True(t, x.OK, "%s == %s, got %g", x.Path, x.Want, x.Got)
			}
		})
	}
}

// TestColumnsPutTheLessonFirst: the table's columns start with the
// paths the lesson's expect names; --columns replaces them, checked
// against the paths a report can hold (a --vary may add partitions).
func TestColumnsPutTheLessonFirst(t *testing.T) {
	g, err := NewGrid("sticky-vs-round-robin", nil, []Vary{{"topic.partitions", []string{"12", "20"}}}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"metrics.batch-size-avg", "records.sent", "records.acked", "records.lost", "records.duplicated",
		"latency_ms.p99", "metrics.record-send-rate"}, g.Columns)

	require.NoError(t, g.SetColumns([]string{"records.reordered", "metrics.compression-rate-avg", "partitions.logs-19.records"}))
	assert.Equal(t, []string{"records.reordered", "metrics.compression-rate-avg", "partitions.logs-19.records"}, g.Columns)

	for _, tt := range []struct {
		cols []string
		want string
	}{
		{nil, "--columns: name at least one report path, like records.lost"},
		{[]string{"records.lst"}, "--columns records.lst: unknown report path: records has sent, acked, failed, pending, lost, duplicated, reordered, ambiguous, keys_split"},
		{[]string{"partitions.logs-20.records"}, `--columns partitions.logs-20.records: unknown report path: no partition "logs-20"`},
		{[]string{"records.lost", "records.lost"}, "--columns records.lost: named twice"},
	} {
		assert.EqualError(t, g.SetColumns(tt.cols), tt.want)
	}
}

func TestStats(t *testing.T) {
	g := &Grid{Combos: [][]string{{"k=a"}, {"k=b"}}, Runs: []Run{
		{Combo: 0, Numbers: map[string]float64{"records.lost": 2}},
		{Combo: 0, Numbers: map[string]float64{"records.lost": 4}},
		{Combo: 0, Numbers: map[string]float64{"records.lost": 9}},
		{Combo: 1, Numbers: map[string]float64{"records.lost": 7, "errors.X": 1}},
	}}
	st := g.Stats()
	require.Len(t, st, 2)
	assert.Equal(t, 3, st[0]["records.lost"].Runs)
	assert.InDelta(t, 5, st[0]["records.lost"].Mean, 1e-9)
	assert.InDelta(t, math.Sqrt(13), st[0]["records.lost"].SD, 1e-9, "sample standard deviation")
	assert.Equal(t, Stat{Runs: 3, Mean: 5, SD: st[0]["records.lost"].SD, Min: 2, Max: 9}, st[0]["records.lost"])
	assert.Equal(t, Stat{Runs: 1, Mean: 7, Min: 7, Max: 7}, st[1]["records.lost"], "one run: no spread")
	assert.NotContains(t, st[0], "errors.X")
	g.Columns = []string{"errors.X"}
	assert.Equal(t, Stat{Runs: 3}, g.Stats()[0]["errors.X"], "an error a column names and a run did not meet counts 0")

	assert.Equal(t, "5 ± 3.61 [2–9]", cell(st[0]["records.lost"]))
	assert.Equal(t, "7", cell(st[1]["records.lost"]))
	assert.Equal(t, "4299829", cell(Stat{Runs: 2, Mean: 4299829.472, Min: 4299829.472, Max: 4299829.472}), "never 4.299829472e+06")
}

// TestTableSaysWhatACellIs runs a small grid and reads its table: a line
// saying what the cells are, units in the headers, the lesson's outcome
// first, and no scientific notation.
func TestTableSaysWhatACellIs(t *testing.T) {
	g, err := NewGrid("acks1-leader-failover", []string{"workload.records=3000"}, []Vary{{"producer.acks", []string{"1", "all"}}}, []uint64{1, 2, 3})
	require.NoError(t, err)
	require.NoError(t, g.Execute(2, nil))
	var out bytes.Buffer
	require.NoError(t, g.WriteTable(&out))
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Len(t, lines, 4, out.String())
	assert.Equal(t, "acks1-leader-failover: each row is 3 runs, seeds 1-3; a cell is their mean ± standard deviation [min–max], or the one value every seed gave", lines[0])
	assert.Regexp(t, `^\s*producer.acks\s+seeds\s+records.lost \(records\)\s+`, lines[1], "the lesson's outcome first")
	assert.Contains(t, lines[1], "metrics.record-send-rate (records/s)")
	assert.Regexp(t, `^\s*all\s+3\s+0\s`, lines[3], "acks=all loses nothing on any seed")
	assert.NotRegexp(t, `\de[+-]\d`, out.String())

	out.Reset()
	require.NoError(t, g.WriteCSV(&out))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	head := rows[0]
	for _, h := range []string{"records.lost (records)", "records.lost mean (records)", "records.lost sd (records)",
		"records.lost min (records)", "records.lost max (records)"} {
		assert.Contains(t, head, h)
	}
	mean := slices.Index(head, "records.lost mean (records)")
	assert.Equal(t, rows[1][mean], rows[3][mean], "a combination's mean on each of its rows")
	assert.Equal(t, "0", rows[4][mean])
	assert.NotRegexp(t, `\de[+-]\d`, out.String())
}

// TestSeedsNote: the table's first line names the seeds its rows ran
// with, also when the seed is what varies.
func TestSeedsNote(t *testing.T) {
	tests := []struct {
		name  string
		combo []string
		seeds []uint64
		want  string
	}{
		{"one seed", []string{"k=a", "k=b"}, []uint64{7, 7}, "s: one run per row (seed 7)"},
		{"--vary seed", []string{"seed=1", "seed=2"}, []uint64{1, 2}, "s: one run per row, with the seed its row names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &Grid{Scenario: "s"}
			for i, c := range tt.combo {
				g.Combos = append(g.Combos, []string{c})
				g.Runs = append(g.Runs, Run{Combo: i, Seed: tt.seeds[i]})
			}
			assert.Equal(t, tt.want, g.seedsNote())
		})
	}
}

// TestCSVErrorNotMetIsZero: a run that never met an error another run
// met has 0 in that error's column, as the stats count it, not an empty
// cell.
func TestCSVErrorNotMetIsZero(t *testing.T) {
	g := &Grid{Scenario: "s", Varies: []Vary{{"k", []string{"a"}}}, Combos: [][]string{{"k=a"}}, Columns: []string{"errors.X"}, Runs: []Run{
		{Sets: []string{"k=a"}, Seed: 1, Numbers: map[string]float64{"records.lost": 2, "errors.X": 3}},
		{Sets: []string{"k=a"}, Seed: 2, Numbers: map[string]float64{"records.lost": 4}},
	}}
	var out bytes.Buffer
	require.NoError(t, g.WriteCSV(&out))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	col := slices.Index(rows[0], "errors.X (errors)")
	require.Positive(t, col, rows[0])
	assert.Equal(t, []string{"3", "0"}, []string{rows[1][col], rows[2][col]})
	assert.Equal(t, "1.5", rows[2][slices.Index(rows[0], "errors.X mean (errors)")])
}

func TestSettingUnit(t *testing.T) {
	for key, want := range map[string]string{
		"producer.linger.ms":             "ms",
		"broker.replica.lag.time.max.ms": "ms",
		"producer.batch.size":            "B",
		"broker.message.max.bytes":       "B",
		"workload.rate":                  "records/s",
		"producer.acks":                  "",
		"topic.partitions":               "",
	} {
		assert.Equal(t, want, settingUnit(key), key)
	}
}
