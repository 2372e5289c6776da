package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNumbersOrder(t *testing.T) {
	r := &Report{
		Records:          Counts{Sent: 10, Acked: 9, Lost: 1},
		Errors:           map[string]int64{"REQUEST_TIMED_OUT": 2, "NOT_ENOUGH_REPLICAS": 3},
		Metrics:          map[string]float64{"record-send-rate": 5.5, "batch-size-avg": 100},
		LatencyMs:        Latency{P99: 12.5},
		CompressionCPUMs: 2.5,
		Partitions:       []PartitionReport{{Topic: "my.orders", Partition: 1, Leader: 2, OfflineMs: 1.5}},
		AnomalyCount:     1,
	}
	var got []string
	r.Numbers(func(path string, v float64) { got = append(got, fmt.Sprintf("%s=%g", path, v)) })
	assert.Equal(t, []string{
		"records.sent=10", "records.acked=9", "records.failed=0", "records.pending=0", "records.lost=1",
		"records.duplicated=0", "records.reordered=0", "records.ambiguous=0", "records.keys_split=0",
		"errors.NOT_ENOUGH_REPLICAS=3", "errors.REQUEST_TIMED_OUT=2",
		"metrics.batch-size-avg=100", "metrics.record-send-rate=5.5", "compression_cpu_ms=2.5",
		"latency_ms.avg=0", "latency_ms.p50=0", "latency_ms.p90=0", "latency_ms.p99=12.5", "latency_ms.p999=0", "latency_ms.max=0",
		"partitions.my.orders-1.leader=2", "partitions.my.orders-1.log_end_offset=0", "partitions.my.orders-1.high_watermark=0",
		"partitions.my.orders-1.last_stable_offset=0", "partitions.my.orders-1.markers=0", "partitions.my.orders-1.records=0",
		"partitions.my.orders-1.bytes=0", "partitions.my.orders-1.offline_ms=1.5", "partitions.my.orders-1.leader_elections=0",
		"partitions.my.orders-1.unclean_elections=0",
		"anomaly_count=1",
	}, got)

	r.Transactions = &TransactionsReport{Total: 4, Open: 1}
	r.Consumers = &ConsumersReport{ReadUncommitted: ConsumerView{AbortedRead: 7}}
	got = nil
	r.Numbers(func(path string, v float64) {
		if strings.HasPrefix(path, "transactions.") || strings.HasPrefix(path, "consumers.") {
			got = append(got, fmt.Sprintf("%s=%g", path, v))
		}
	})
	assert.Equal(t, []string{
		"transactions.total=4", "transactions.committed=0", "transactions.aborted=0", "transactions.failed=0",
		"transactions.open=1", "transactions.retried=0", "transactions.coordinator_timed_out=0", "transactions.coordinator_fenced_open=0",
		"consumers.read_committed.visible=0", "consumers.read_committed.aborted_read=0",
		"consumers.read_committed.torn_transactions=0", "consumers.read_committed.committed_lost=0",
		"consumers.read_uncommitted.visible=0", "consumers.read_uncommitted.aborted_read=7",
		"consumers.read_uncommitted.torn_transactions=0", "consumers.read_uncommitted.committed_lost=0",
	}, got)
}

// TestExpectPaths: expect takes the paths a report of the scenario can
// hold, and names what a section holds when a path is not one of them.
func TestExpectPaths(t *testing.T) {
	// base plus a topic whose name holds a dot, and transactions.
	src := strings.Replace(base, "producer:\n", "  - name: my.audit\n    partitions: 2\nproducer:\n  transactional.id: app\n", 1) +
		"  transactions:\n    records: 2\n    topics: [orders, my.audit]\n"
	tests := []struct {
		path string
		want string // "" when accepted
	}{
		{"records.keys_split", ""},
		{"errors.NOT_ENOUGH_REPLICAS", ""},
		{"errors.TimeoutException", ""},
		{"metrics.record-send-rate", ""},
		{"latency_ms.p999", ""},
		{"partitions.orders-2.offline_ms", ""},
		{"partitions.my.audit-1.records", ""},
		{"partitions.__transaction_state-0.leader", ""},
		{"transactions.retried", ""},
		{"consumers.read_uncommitted.torn_transactions", ""},
		{"anomaly_count", ""},
		{"records.vanished", "records has sent, acked, failed, pending, lost, duplicated, reordered, ambiguous, keys_split"},
		{"records", "records has sent, acked"},
		{"errors.NONE", "errors.NONE is not a Kafka error name (like NOT_ENOUGH_REPLICAS or TimeoutException)"},
		{"errors.OOPS", "errors.OOPS is not a Kafka error name"},
		{"metrics.record-send-speed", "metrics has batch-size-avg, batch-split-rate, batch-split-total, bufferpool-wait-time-total,"},
		{"faults.1.fired", "faults.N.fired counts the firings of the file's Nth fault when it is a request-rule, and this scenario has none"},
		{"latency_ms.p95", "latency_ms has avg, p50, p90, p99, p999, max"},
		{"partitions.orders", "write partitions.<topic-partition>.<field>, like partitions.orders-0.offline_ms"},
		{"partitions.orders-3.leader", `no partition "orders-3"`},
		{"partitions.orders-0.size", "a partition has leader, log_end_offset, high_watermark, last_stable_offset, markers, records, bytes, offline_ms, leader_elections, unclean_elections"},
		{"transactions.started", "transactions has total, committed, aborted, failed, open, retried"},
		{"consumers.read_latest.visible", "write consumers.<read_committed|read_uncommitted>.<visible|aborted_read|torn_transactions|committed_lost>"},
		{"throughput", "a path starts with records, errors, metrics, latency_ms, partitions, transactions, consumers or faults, or is anomaly_count"},
		{"anomaly_count.lost", "a path starts with records"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(src+"expect:\n  "+tt.path+": 0\n"), nil)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "expect."+tt.path+": unknown report path: "+tt.want)
		})
	}
}

// TestProducerMetricsSorted: the table is in the order Report.Numbers
// visits the metrics, one entry per name.
func TestProducerMetricsSorted(t *testing.T) {
	names := make([]string, len(producerMetrics))
	for i, pm := range producerMetrics {
		names[i] = pm.name
	}
	assert.True(t, slices.IsSorted(names), "sorted by name: %v", names)
	assert.Len(t, slices.Compact(slices.Clone(names)), len(names), "no name twice")
}

// TestEveryPathHasAUnit: every number a report can hold, a metric named
// in producerMetrics included, has a unit for the sweep's headers and axes.
func TestEveryPathHasAUnit(t *testing.T) {
	s, err := Load("request-timeout-closes-connection", []string{"workload.records=10"})
	require.NoError(t, err)
	paths := shapeOf(s.plan.topo, 1, 2).paths()
	paths = append(paths, "errors.NOT_ENOUGH_REPLICAS", "consumers.read_committed.torn_transactions")
	for _, p := range paths {
		assert.NotEmpty(t, Unit(p), p)
	}
	for _, tt := range []struct{ path, want string }{
		{"records.lost", "records"},
		{"metrics.compression-rate-avg", "ratio"},
		{"metrics.outgoing-byte-rate", "B/s"},
		{"metrics.record-send-rate", "records/s"},
		{"latency_ms.p99", "ms"},
		{"partitions.my.topic-3.bytes", "B"},
		{"partitions.my.topic-3.offline_ms", "ms"},
		{"faults.2.fired", "requests"},
		{"metrics.no-such-metric", ""},
		{"nothing", ""},
	} {
		assert.Equal(t, tt.want, Unit(tt.path), tt.path)
	}
}

func TestFormatNumber(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {-0.0, "0"}, {4299829.472, "4299829"}, {4299829, "4299829"}, {1e21, "1000000000000000000000"},
		{1999.87, "2000"}, {123.456, "123.5"}, {12.345, "12.35"}, {1.5, "1.5"}, {0.5, "0.5"},
		{0.0123456, "0.0123"}, {0.000012345, "0.0000123"}, {-3.25, "-3.25"}, {1e-12, "0"},
	} {
		assert.Equal(t, tt.want, FormatNumber(tt.v), "%v", tt.v)
	}
}

func TestCheckPath(t *testing.T) {
	s, err := Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	for _, ok := range []string{"records.lost", "errors.NOT_ENOUGH_REPLICAS", "metrics.compression-rate-avg", "partitions.orders-0.offline_ms"} {
		assert.NoError(t, s.CheckPath(ok), ok)
	}
	for _, tt := range []struct{ path, want string }{
		{"records.lst", "unknown report path: records has sent, acked, failed, pending, lost"},
		{"metrics.nope", "metrics has batch-size-avg, "},
		{"nope", "a path starts with records, errors, metrics"},
	} {
		assert.ErrorContains(t, s.CheckPath(tt.path), tt.want, tt.path)
	}
}
