package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

func TestWriteCompare(t *testing.T) {
	txn := synthetic()
	txn.Series = append([]scenarios.Sample(nil), txn.Series...)
	txn.Series[3].Unstable = 20
	tests := []struct {
		name string
		a, b *scenarios.Charts
	}{
		{"two runs", runCharts(t), synthetic()},
		{"only B has a panel", synthetic(), txn},
		{"both empty", &scenarios.Charts{}, &scenarios.Charts{}},
		{"A empty", &scenarios.Charts{}, synthetic()},
	}
	want := []string{"compare-timeseries", "compare-latency"}
	for _, tt := range tests {
		for _, f := range []Format{PNG, SVG} {
			t.Run(tt.name+"/"+f.Ext(), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "sub")
				paths, err := WriteCompare(dir, tt.a, tt.b, "producer.acks=1", "producer.acks=all", f)
				require.NoError(t, err)
				require.Len(t, paths, len(want))
				for i, p := range paths {
					assert.Equal(t, filepath.Join(dir, want[i]+"."+f.Ext()), p)
					decodes(t, p)
					if f == SVG {
						noNaN(t, p)
					}
				}
			})
		}
	}
}

// TestWriteCompareLegends: one legend above each chart names both runs
// (the panels share the lines' styles), drawn before the first panel so
// that it covers no data, with the numbers as the text prints them.
func TestWriteCompareLegends(t *testing.T) {
	txn := synthetic()
	txn.Series = append([]scenarios.Sample(nil), txn.Series...)
	txn.Series[3].Unstable = 20
	dir := t.TempDir()
	paths, err := WriteCompare(dir, synthetic(), txn, "linger.ms=0", "linger.ms=5", SVG)
	require.NoError(t, err)
	series, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(series), "A linger.ms=0"))
	assert.Equal(t, 1, strings.Count(string(series), "B linger.ms=5"))
	assert.Less(t, strings.Index(string(series), "B linger.ms=5"), strings.Index(string(series), "Acked records/s"), "above the first panel")
	assert.NotContains(t, string(series), "then lost", "no run lost a record")
	latency, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	assert.Less(t, strings.Index(string(latency), "B linger.ms=5"), strings.Index(string(latency), "send() to ack latency"), "above the chart")
	assert.Contains(t, string(latency), "A linger.ms=0: p50 9 ms, p99 18 ms")
	assert.Contains(t, string(latency), "B linger.ms=5: p50 9 ms, p99 18 ms")
}

// TestWriteCompareLost: a run that lost acknowledged records draws them on
// the acked records/s panel, named by its run.
func TestWriteCompareLost(t *testing.T) {
	lost := synthetic()
	lost.Lost = []scenarios.LostRecord{{Record: 3, AckedMs: 250}, {Record: 4, AckedMs: 260}}
	paths, err := WriteCompare(t.TempDir(), lost, synthetic(), "acks=1", "acks=all", SVG)
	require.NoError(t, err)
	series, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(series), "A acks=1: acked, then lost (2 records)"))
	assert.NotContains(t, string(series), "B acks=all: acked, then lost")
}

// TestCompareLatencyLegendAsText: the legend's percentiles are written as
// compare's text writes them (200.4 ms, not 200.442 ms; 4300 s, not
// 4299829.472 ms).
func TestCompareLatencyLegendAsText(t *testing.T) {
	a := synthetic()
	a.LatencyMs = []float64{200.442, 200.442, 4299829.472}
	paths, err := WriteCompare(t.TempDir(), a, synthetic(), "x=1", "x=2", SVG)
	require.NoError(t, err)
	latency, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	assert.Contains(t, string(latency), "A x=1: p50 200.4 ms, p99 4300 s")
	assert.NotRegexp(t, `\de[+-]\d`, string(latency))
}
