package scenarios

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chartsGolden is what testdata/charts pins of a run's chart data: the
// small parts whole, the long lists as a count, their ends and a hash of the
// whole Charts, so that the file stays readable yet any change fails.
type chartsGolden struct {
	Scenario   string           `json:"scenario"`
	Seed       uint64           `json:"seed"`
	Hash       string           `json:"hash"`
	Partitions []PartitionCount `json:"partitions"`
	Faults     []FaultMark      `json:"faults"`
	SampleMs   float64          `json:"sample_ms"`
	Samples    int              `json:"samples"`
	Latency    listEnds         `json:"latency_ms"`
	BatchBytes listEnds         `json:"batch_bytes"`
	Order      []orderSummary   `json:"order"`
	Lost       int              `json:"lost"`
}

type listEnds struct {
	N     int       `json:"n"`
	First []float64 `json:"first"`
	Last  []float64 `json:"last"`
}

type orderSummary struct {
	Partition  string       `json:"partition"`
	Points     int          `json:"points"`
	Duplicates int          `json:"duplicates"`
	Reordered  int          `json:"reordered"`
	Aborted    int          `json:"aborted,omitempty"`
	First      []OrderPoint `json:"first"`
}

const goldenEnds = 5

func ends(v []float64) listEnds {
	n := min(len(v), goldenEnds)
	return listEnds{N: len(v), First: v[:n], Last: v[len(v)-n:]}
}

func summarize(t *testing.T, c *Charts) chartsGolden {
	whole, err := json.Marshal(c)
	require.NoError(t, err)
	h := fnv.New64a()
	h.Write(whole)
	g := chartsGolden{Scenario: c.Scenario, Seed: c.Seed, Hash: fmt.Sprintf("%016x", h.Sum64()),
		Partitions: c.Partitions, Faults: c.Faults, SampleMs: c.SampleMs, Samples: len(c.Series),
		Latency: ends(c.LatencyMs), BatchBytes: ends(c.BatchBytes), Lost: len(c.Lost)}
	for _, o := range c.Order {
		s := orderSummary{Partition: o.Partition, Points: len(o.Points), First: o.Points[:min(len(o.Points), goldenEnds)]}
		for _, p := range o.Points {
			if p.Copy > 1 {
				s.Duplicates++
			}
			if p.Reorder {
				s.Reordered++
			}
			if p.Aborted {
				s.Aborted++
			}
		}
		g.Order = append(g.Order, s)
	}
	return g
}

func TestChartsGolden(t *testing.T) {
	for _, name := range []string{"acks1-leader-failover", "retry-duplicates", "inflight-reordering", "zombie-fencing"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(name, nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{})
			c := res.Charts(0)

			// The charts must tell the report's story.
			rep := res.Report
			g := summarize(t, c)
			var dups, reorders, aborted int
			for _, o := range g.Order {
				dups += o.Duplicates
				reorders += o.Reordered
				aborted += o.Aborted
			}
			assert.EqualValues(t, rep.Records.Duplicated, dups)
			assert.EqualValues(t, rep.Records.Reordered, reorders)
			assert.EqualValues(t, rep.Records.Acked, len(c.LatencyMs))
			assert.EqualValues(t, rep.Records.Lost, len(c.Lost))
			if rep.Consumers != nil {
				// The aborted points are what read_uncommitted reads beyond read_committed.
				assert.EqualValues(t, rep.Consumers.ReadUncommitted.AbortedRead, aborted)
			}
			// The charts leave __transaction_state out.
			require.LessOrEqual(t, len(c.Partitions), len(rep.Partitions))
			for i, p := range c.Partitions {
				assert.Equal(t, rep.Partitions[i].Records, p.Records, p.Partition)
			}
			assert.NotEmpty(t, c.Faults)

			data, err := json.MarshalIndent(g, "", "  ")
			require.NoError(t, err)
			data = append(data, '\n')
			path := filepath.Join("testdata", "charts", name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, data, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run go test ./scenarios -run TestChartsGolden -update")
			assert.Equal(t, string(want), string(data))
		})
	}
}

// TestChartsBatchBytes checks the batch sizes read back from the logs
// against the producer's own byte count, in a run where every batch lands.
func TestChartsBatchBytes(t *testing.T) {
	s, err := Load("inflight-one-keeps-order", []string{"workload.records=500"})
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	c := res.Charts(0)
	require.NotEmpty(t, c.BatchBytes)
	total := 0.0
	for _, b := range c.BatchBytes {
		total += b
	}
	avg := total / float64(len(c.BatchBytes))
	assert.InDelta(t, res.Report.Metrics["batch-size-avg"], avg, 0.001)
	assert.EqualValues(t, res.Report.Metrics["record-send-total"], res.Report.Records.Sent)
}

func TestResample(t *testing.T) {
	in := []Sample{
		{AtMs: 100, AckedRecords: 1, InFlight: 1, ISR: []int{3}},
		{AtMs: 200, AckedRecords: 2, InFlight: 2, ISR: []int{2}},
		{AtMs: 300, AckedRecords: 4, InFlight: 3, ISR: []int{1}},
	}
	tests := []struct {
		name     string
		sampleMs float64
		step     float64
		want     []Sample
	}{
		{"zero keeps the step", 0, 100, in},
		{"same step", 100, 100, in},
		{"finer rounds up", 30, 100, in},
		{"double", 200, 200, []Sample{
			{AtMs: 200, AckedRecords: 3, InFlight: 2, ISR: []int{2}},
			{AtMs: 400, AckedRecords: 4, InFlight: 3, ISR: []int{1}},
		}},
		{"one step covers all", 1000, 1000, []Sample{{AtMs: 1000, AckedRecords: 7, InFlight: 3, ISR: []int{1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, got := resample(in, tt.sampleMs)
			assert.Equal(t, tt.step, step)
			assert.Equal(t, tt.want, got)
		})
	}
	step, got := resample(nil, 0)
	assert.Equal(t, float64(SampleMs), step)
	assert.Empty(t, got)
}

// TestChartsUnstable: while the crashed coordinator's decided transaction
// waits for its markers, its records are held back from read_committed, and
// they are released when the new coordinator completes it.
func TestChartsUnstable(t *testing.T) {
	s, err := Load("transactions-atomic", nil)
	require.NoError(t, err)
	c := s.Run(RunOptions{}).Charts(0)
	var during, after []int64
	for _, x := range c.Series {
		switch {
		case x.AtMs > 3000 && x.AtMs < 8900:
			during = append(during, x.Unstable)
		case x.AtMs > 12000:
			after = append(after, x.Unstable)
		}
	}
	require.NotEmpty(t, during)
	require.NotEmpty(t, after)
	for _, u := range during {
		assert.EqualValues(t, 20, u, "ten records to each of two topics, decided but not yet marked")
	}
	for _, u := range after {
		assert.Zero(t, u)
	}
}

// TestChartsFaultMarks: the heal that ends every run is marked only when
// there was a fault to heal (a lone mark at the end of a fault-free run
// named nothing the reader could find).
func TestChartsFaultMarks(t *testing.T) {
	for _, tt := range []struct {
		name string
		want []string
	}{
		{"compression-codecs", nil},
		{"acks1-leader-failover", []string{"isolate broker-1", "crash broker-1", "heal"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.name, []string{"workload.records=2000"})
			require.NoError(t, err)
			var labels []string
			for _, f := range s.Run(RunOptions{}).Charts(0).Faults {
				labels = append(labels, f.Label)
			}
			assert.Subset(t, labels, tt.want)
			if tt.want == nil {
				assert.Empty(t, labels)
			}
		})
	}
}
