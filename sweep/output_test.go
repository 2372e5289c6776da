package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
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
				if assert.Contains(t, cells, path, "a CSV column") {
					assert.Equal(t, formatNum(v), cells[path], path)
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
