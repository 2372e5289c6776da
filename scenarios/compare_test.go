package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair is two small reports that differ in acks, in what was lost and
// retried, in an error only B met, in CPU time, and in one partition's
// numbers; record-size-avg differs only below what is shown.
func pair() (a, b *Report) {
	cfg := func(acks, mode string) ConfigReport {
		return ConfigReport{
			Producer: map[string]string{"acks": acks, "linger.ms": "5", "client.id": ""},
			Broker:   map[string]string{"replica.lag.time.max.ms": "30000"},
			Cluster:  ClusterReport{Brokers: 3, Version: "4.0", Features: map[string]string{"transaction.version": "2"}},
			Topics: []TopicReport{{Name: "orders", Partitions: 3, ReplicationFactor: 3,
				Config: map[string]string{"min.insync.replicas": mode}}},
			Workload: WorkloadReport{Topic: "orders", Records: 10_000_000, Rate: 2000},
			Faults:   []string{"at 1s: crash leader orders-0; fired " + acks},
		}
	}
	a = &Report{Scenario: "s", Seed: 3, Config: cfg("1", "1"),
		Records:    Counts{Sent: 8000, Acked: 8000, Lost: 266},
		Errors:     map[string]int64{"NOT_LEADER_OR_FOLLOWER": 4},
		ErrorNotes: map[string]string{"NOT_LEADER_OR_FOLLOWER": "Produce: the broker had lost the leadership."},
		Metrics: map[string]float64{"record-send-rate": 812.45, "outgoing-byte-rate": 4321043.578, "bufferpool-wait-time-total": 0, "record-retry-total": 0,
			"record-size-avg": 109},
		LatencyMs:    Latency{Avg: 1144.2, P50: 6.122, P90: 6766, P99: 8172, P999: 8326, Max: 8345},
		Partitions:   []PartitionReport{{Topic: "orders", Partition: 0, Leader: 2, LogEndOffset: 520}},
		Expectations: []ExpectResult{{Path: "records.lost", Want: "> 0", Got: 266, OK: true}},
	}
	b = &Report{Scenario: "s", Seed: 3, Config: cfg("all", "2"),
		Records: Counts{Sent: 8000, Acked: 8000},
		Errors:  map[string]int64{"NETWORK_EXCEPTION": 5, "NOT_LEADER_OR_FOLLOWER": 4},
		ErrorNotes: map[string]string{"NETWORK_EXCEPTION": "Produce: the connection broke before the answer; retried after reconnecting.",
			"NOT_LEADER_OR_FOLLOWER": "Produce: the broker had lost the leadership."},
		Metrics: map[string]float64{"record-send-rate": 881.393, "outgoing-byte-rate": 4379449.261, "bufferpool-wait-time-total": 2.5e9, "record-retry-total": 12,
			"record-size-avg": 109.0004},
		CompressionCPUMs: 12.5,
		LatencyMs:        Latency{Avg: 4922, P50: 6058, P90: 7636, P99: 7987, P999: 8034, Max: 8038},
		Partitions:       []PartitionReport{{Topic: "orders", Partition: 0, Leader: 2, LogEndOffset: 786}},
		Expectations:     []ExpectResult{{Path: "records.lost", Want: "> 0", Got: 0, OK: false}},
	}
	return a, b
}

func TestCompareText(t *testing.T) {
	a, b := pair()
	var out strings.Builder
	require.NoError(t, Compare(a, b).WriteText(&out))
	assert.Equal(t, `s (seed 3)
  A  producer.acks=1  topics.orders.min.insync.replicas=1
  B  producer.acks=all  topics.orders.min.insync.replicas=2

                                              A                B  B - A
records
    sent                                   8000             8000
    acked                                  8000             8000
    failed                                    0                0
  * lost                                    266                0  -266 (-100%)
    duplicated                                0                0
    reordered                                 0                0
    ambiguous                                 0                0
errors seen by the producer
  * NETWORK_EXCEPTION                         0                5  +5
      Produce: the connection broke before the answer; retried after reconnecting.
    NOT_LEADER_OR_FOLLOWER                    4                4
latency (send to callback)
  * avg                                  1.14 s           4.92 s  +3.78 s (+330%)
  * p50                                 6.12 ms           6.06 s  +6.05 s (×990)
  * p90                                  6.77 s           7.64 s  +870 ms (+13%)
  * p99                                  8.17 s           7.99 s  -185 ms (-2%)
  * p999                                 8.33 s           8.03 s  -292 ms (-4%)
  * max                                  8.35 s           8.04 s  -307 ms (-4%)
throughput
  * record-send-rate            812.5 records/s  881.4 records/s  +68.94 records/s (+8%)
  * outgoing-byte-rate              4321044 B/s      4379449 B/s  +58406 B/s (+1%)
cpu (modelled)
  * compression_cpu_ms                     0 ms          12.5 ms  +12.5 ms
metrics that differ
  * bufferpool-wait-time-total             0 ms            2.5 s  +2.5 s
  * record-retry-total                        0               12  +12

* marks a number that differs; the partitions differ in 1 number (--format json lists every number)

expectations (reported; they do not change the exit status)
  A  ok: its expectation holds
  B  FAIL 1 of 1: records.lost > 0 (got 0)

terms (ISR, high watermark, log end offset, last stable offset, epochs, sequence numbers): simulate help glossary
`, out.String())
}

func TestCompareRows(t *testing.T) {
	a, b := pair()
	c := Compare(a, b)
	var paths []string
	for _, r := range c.Rows {
		paths = append(paths, r.Path)
	}
	// Every number of either report, in Numbers order: B's own error
	// sorted in among A's.
	assert.Equal(t, paths, slices.Compact(slices.Clone(paths)), "each once")
	assert.Subset(t, paths, a.paths())
	assert.Subset(t, paths, b.paths())
	assert.Equal(t, []string{"errors.NETWORK_EXCEPTION", "errors.NOT_LEADER_OR_FOLLOWER"}, paths[9:11])
	assert.Equal(t, []SettingDiff{
		{"producer.acks", "1", "all"},
		{"topics.orders.min.insync.replicas", "1", "2"},
	}, c.Differences, "the faults' text differs too, but describes rather than sets")

	b.Seed = 4
	delete(b.Config.Producer, "client.id")
	c = Compare(a, b)
	assert.Equal(t, []SettingDiff{
		{"seed", "3", "4"},
		{"producer.acks", "1", "all"},
		{"producer.client.id", `""`, "(default)"},
		{"topics.orders.min.insync.replicas", "1", "2"},
	}, c.Differences)
	var out strings.Builder
	require.NoError(t, c.WriteText(&out))
	assert.True(t, strings.HasPrefix(out.String(), "s\n  A  seed=3  producer.acks=1"), out.String())
}

// TestCompareSame: two runs with the same settings and numbers say so and
// mark nothing.
func TestCompareSame(t *testing.T) {
	a, _ := pair()
	c := Compare(a, a)
	assert.Empty(t, c.Differences)
	var out strings.Builder
	require.NoError(t, c.WriteText(&out))
	assert.Contains(t, out.String(), "s (seed 3)\n  A and B have the same settings\n\n")
	assert.NotContains(t, out.String(), "  * ")
	assert.NotContains(t, out.String(), "metrics that differ")
	assert.Contains(t, out.String(), "\n* marks a number that differs\n")
}

func TestCompareCells(t *testing.T) {
	tests := []struct {
		name    string
		row     CompareRow
		a, b, d string
	}{
		{"equal", CompareRow{A: 5, B: 5, Unit: "records"}, "5", "5", ""},
		{"count: no unit", CompareRow{A: 4, B: 6, Unit: "batch attempts", Differs: true}, "4", "6", "+2 (+50%)"},
		{"from zero: no ratio", CompareRow{A: 0, B: 6, Differs: true}, "0", "6", "+6"},
		{"under one percent: no ratio", CompareRow{A: 1000, B: 1001, Differs: true}, "1000", "1001", "+1"},
		{"large: no exponent", CompareRow{A: 4299829.472, B: 11435363.514, Unit: "B/s", Differs: true},
			"4299829 B/s", "11435364 B/s", "+7135534 B/s (+166%)"},
		{"a rate", CompareRow{A: 19484.883, B: 19785.657, Unit: "records/s", Differs: true},
			"19485 records/s", "19786 records/s", "+300.8 records/s (+2%)"},
		{"a ratio: no unit", CompareRow{A: 0.408, B: 1, Unit: "ratio", Differs: true}, "0.408", "1", "+0.592 (+145%)"},
		{"ms and s", CompareRow{A: 26.656, B: 19899, Unit: "ms", Differs: true}, "26.66 ms", "19.9 s", "+19.87 s (×747)"},
		{"ns as ms", CompareRow{A: 0, B: 1.5e6, Unit: "ns", Differs: true}, "0 ms", "1.5 ms", "+1.5 ms"},
		{"down", CompareRow{A: 266, B: 0, Differs: true}, "266", "0", "-266 (-100%)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, d := cells(tt.row)
			assert.Equal(t, []string{tt.a, tt.b, tt.d}, []string{a, b, d})
		})
	}
}

// TestCompareRuns compares two real runs on one seed: the setting B
// changes is named, and the lesson's contrast shows as marked rows.
func TestCompareRuns(t *testing.T) {
	run := func(sets ...string) *Report {
		s, err := Load("inflight-reordering", sets)
		require.NoError(t, err)
		return s.Run(RunOptions{}).Report
	}
	a, b := run(), run("producer.max.in.flight.requests.per.connection=1")
	c := Compare(a, b)
	assert.Equal(t, []SettingDiff{{"producer.max.in.flight.requests.per.connection", "5", "1"}}, c.Differences)
	var out strings.Builder
	require.NoError(t, c.WriteText(&out))
	text := out.String()
	assert.Regexp(t, `\n  \* reordered +[1-9]\d* +0  -\d+ \(-100%\)\n`, text)
	assert.NotRegexp(t, `\de[+-]\d`, text, "no scientific notation")
	assert.Contains(t, text, "  B  FAIL 1 of 2: records.reordered > 0 (got 0)")
}

// TestCompareDiffers: a number differs when it prints differently, so
// that noise in digits nobody sees is not marked.
func TestCompareDiffers(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		a, b    float64
		differs bool
	}{
		{"latency noise under a second's digits", "latency_ms.avg", 5780, 5780.172, false},
		{"rate noise", "metrics.record-send-rate", 160.8, 160.796, false},
		{"size noise", "metrics.record-size-avg", 109, 109.0004, false},
		{"equal", "records.lost", 3, 3, false},
		{"a count", "records.lost", 266, 0, true},
		{"ms against s", "latency_ms.p50", 6.122, 6058, true},
		{"last shown digit", "metrics.record-send-rate", 160.8, 160.9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b Report
			set := func(r *Report, v float64) {
				r.Metrics = map[string]float64{}
				switch tt.path {
				case "latency_ms.avg":
					r.LatencyMs.Avg = v
				case "latency_ms.p50":
					r.LatencyMs.P50 = v
				case "records.lost":
					r.Records.Lost = int64(v)
				default:
					r.Metrics[strings.TrimPrefix(tt.path, "metrics.")] = v
				}
			}
			set(&a, tt.a)
			set(&b, tt.b)
			c := Compare(&a, &b)
			i := slices.IndexFunc(c.Rows, func(r CompareRow) bool { return r.Path == tt.path })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tt.differs, c.Rows[i].Differs)
			var out strings.Builder
			require.NoError(t, c.WriteText(&out))
			assert.Equal(t, tt.differs, strings.Contains(out.String(), "  * "), out.String())
		})
	}
}

// TestCompareSectionsHoldEveryNumber: every path Numbers visits belongs to
// a section of the comparison's text, so that no number of the report
// can be left out of it.
func TestCompareSectionsHoldEveryNumber(t *testing.T) {
	r := &Report{
		Errors:       map[string]int64{"NETWORK_EXCEPTION": 1},
		Metrics:      map[string]float64{"record-send-rate": 1, "outgoing-byte-rate": 1, "batch-size-avg": 1},
		Partitions:   []PartitionReport{{Topic: "t", Partition: 0}},
		Transactions: &TransactionsReport{},
		Consumers:    &ConsumersReport{},
		Rules:        []RuleReport{{Fault: 1, Fired: 2}},
	}
	var paths []string
	r.Numbers(func(p string, _ float64) { paths = append(paths, p) })
	require.Contains(t, paths, "compression_cpu_ms")
	require.Contains(t, paths, "consumers.read_committed.visible")
	for _, p := range paths {
		assert.NotEmpty(t, sectionOf(p), "%s is in no section of compareText", p)
	}
}
