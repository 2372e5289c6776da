package scenarios

import (
	"encoding/json"

	"fmt"
	"github.com/kafkasim/kafkasim/broker"
	"runtime"
	"strings"

	"github.com/kafkasim/kafkasim/event"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroRetryBackoffTransactions: with retry.backoff.ms=0 the sender
// sleeps while a transactional request is in flight, as it does with the
// default backoff (regression: it woke every nanosecond of virtual time,
// 131 million events for transactions-atomic).
func TestZeroRetryBackoffTransactions(t *testing.T) {
	for _, name := range []string{"transactions-atomic", "transaction-timeout-abort", "zombie-fencing"} {
		t.Run(name, func(t *testing.T) {
			base, err := Load(name, nil)
			require.NoError(t, err)
			zero, err := Load(name, []string{"producer.retry.backoff.ms=0"})
			require.NoError(t, err)
			want := base.Run(RunOptions{}).Events
			got := zero.Run(RunOptions{}).Events
			assert.Less(t, got, 3*want, "a zero backoff costs about as many events as the default")
		})
	}
}

// TestEventBudgetStopsTheRun: a run that reaches its event budget stops
// there, says which budget, when, and what it was busy with, the same way
// every time.
func TestEventBudgetStopsTheRun(t *testing.T) {
	s, err := Load("batch-size", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{MaxEvents: 20000})
	stop := res.Report.StoppedByBudget
	require.NotNil(t, stop)
	assert.Equal(t, "events", stop.Budget)
	assert.Equal(t, "20000 events", stop.Limit)
	assert.LessOrEqual(t, res.Events, uint64(20001))
	assert.Positive(t, stop.AtMs)
	require.NotEmpty(t, stop.Busiest)
	assert.Contains(t, stop.Busiest[0], " of the last ")
	last := res.Trace.Entries()[len(res.Trace.Entries())-1]
	assert.Equal(t, event.BudgetStop, last.Kind, "the trace ends with the stop")

	again := s.Run(RunOptions{MaxEvents: 20000}).Report.StoppedByBudget
	assert.Equal(t, stop, again, "the stop is deterministic")

	var text strings.Builder
	require.NoError(t, res.Report.WriteText(&text, ""))
	assert.Contains(t, text.String(), "note: stopped by the events budget (20000 events) at ")
}

// TestStopHook: the caller's Stop hook (the CLI's --max-wall) stops a run.
func TestStopHook(t *testing.T) {
	s, err := Load("batch-size", nil)
	require.NoError(t, err)
	asked := 0
	res := s.Run(RunOptions{Stop: func() bool { asked++; return asked > 3 }, StopLimit: "--max-wall 1s"})
	stop := res.Report.StoppedByBudget
	require.NotNil(t, stop)
	assert.Equal(t, "wall clock", stop.Budget)
	assert.Equal(t, "--max-wall 1s", stop.Limit)
	assert.Less(t, res.Events, uint64(4*checkEvery+1), "asked every checkEvery events")
}

// TestLessonsFarBelowBudgets: every lesson uses under 2% of its event
// budget and never reaches its trace cap.
func TestLessonsFarBelowBudgets(t *testing.T) {
	for _, e := range Catalog() {
		s, err := Load(e.Name, nil)
		require.NoError(t, err)
		res := s.Run(RunOptions{})
		assert.Nil(t, res.Report.StoppedByBudget, e.Name)
		assert.False(t, res.Report.TraceCut, e.Name)
		assert.Less(t, float64(res.Events), 0.02*float64(res.run.budget.events), e.Name)
		assert.Less(t, res.Trace.Len(), res.run.budget.trace/3, e.Name)
		assert.Less(t, res.run.memoryUsed(), res.run.budget.memory/20, e.Name)
	}
}

// TestZeroRequestTimeoutLoop: request.timeout.ms=0 with zero latency and
// zero backoffs makes the producer time out, disconnect and reconnect
// every nanosecond; the trace stays within its cap (regression: over 3 GB
// in 3.5 s).
func TestZeroRequestTimeoutLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("a two-second run")
	}
	s, err := Load("acks-all-leader-failover", []string{"cluster.network.latency=0s", "producer.request.timeout.ms=0",
		"producer.reconnect.backoff.ms=0", "producer.reconnect.backoff.max.ms=0", "producer.retry.backoff.ms=0", "producer.retry.backoff.max.ms=0"})
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	assert.True(t, res.Report.TraceCut)
	assert.LessOrEqual(t, res.Trace.Len(), res.run.budget.trace+1)
	assert.Less(t, res.run.memoryUsed(), res.run.budget.memory)
}

// TestMessagesChangeNothingElse: a run that keeps no messages and
// reserves room in its trace (a hunt's schedule) has the same report,
// trace entries and memory estimate as a run that keeps them, with a
// fault and under a trace cut.
func TestMessagesChangeNothingElse(t *testing.T) {
	for _, sets := range [][]string{nil, {"producer.request.timeout.ms=0", "producer.reconnect.backoff.ms=0",
		"producer.reconnect.backoff.max.ms=0", "producer.retry.backoff.ms=0", "producer.retry.backoff.max.ms=0", "cluster.network.latency=0s"}} {
		s, err := Load("acks1-leader-failover", sets)
		require.NoError(t, err)
		full, lean := s.Run(RunOptions{Messages: true}), s.Run(RunOptions{TraceEntries: 1 << 14})
		require.NotEmpty(t, full.Trace.Messages())
		require.Equal(t, sets != nil, full.Report.TraceCut, "the second run loops until its trace is cut")
		assert.Empty(t, lean.Trace.Messages())
		assert.Equal(t, full.Report, lean.Report, sets)
		assert.Equal(t, full.Trace.Entries(), lean.Trace.Entries(), sets)
		assert.Equal(t, full.run.memoryUsed(), lean.run.memoryUsed(), sets)
	}
}

// TestEveryLessonStopsCleanly: stopped anywhere, a run still audits what
// it has and reports the stop.
func TestEveryLessonStopsCleanly(t *testing.T) {
	for _, e := range Catalog() {
		s, err := Load(e.Name, nil)
		require.NoError(t, err)
		for _, n := range []uint64{1, 500, 3000} {
			rep := s.Run(RunOptions{MaxEvents: n}).Report
			assert.NotNil(t, rep.StoppedByBudget, "%s at %d events", e.Name, n)
			assert.False(t, rep.Converged, "a stopped run never reached the post-heal phase")
		}
	}
}

// TestSizeRefusals: a scenario too big to simulate cheaply is refused on
// one line (regression: 1000 partitions x replication factor 100 took 24 s
// and 1.6 GB; 2,000 restart-producer faults took 24 s and 670 MB).
func TestSizeRefusals(t *testing.T) {
	faults := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "  - {at: %dms, do: restart-producer}\n", i+1)
		}
		return b.String()
	}
	tests := []struct {
		name, src, want string
	}{
		{"replicas", "name: wide\nduration: 1s\ncluster: {brokers: 100}\ntopics:\n  - {name: t, partitions: 1000, replication.factor: 100}\nworkload: {rate: 100}\n",
			"topics[0].replication.factor: 1000 partitions x replication.factor 100 bring the replicas over all topics to 100000 (counting add-partitions); the simulator takes at most 10000 (Kafka has no fixed limit)"},
		{"faults", "name: restarts\nduration: 1s\ntopics:\n  - {name: t}\nworkload: {rate: 100}\nfaults:\n" + faults(maxFaults+1),
			"faults: 1001 faults; the simulator takes at most 1000 in a scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("big.yaml", []byte(tt.src), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// TestManyProducerRestarts: a thousand restart-producer faults add a
// thousand nodes; the network holds the links they use, not a matrix of
// every pair reallocated per node.
func TestManyProducerRestarts(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: restarts\nduration: 10s\ntopics:\n  - {name: t}\nworkload: {rate: 100}\nfaults:\n")
	for i := range maxFaults {
		fmt.Fprintf(&b, "  - {at: %dms, do: restart-producer}\n", i*9+1)
	}
	s, err := Parse("restarts.yaml", []byte(b.String()), nil)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := s.Run(RunOptions{})
	runtime.ReadMemStats(&after)
	assert.Equal(t, maxFaults+1, res.Sessions)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<20), "allocation grows with the links used (was gigabytes)")
}

// TestReportNamesWhatBlockedConvergence: a run that did not converge says
// what blocked it, in the text report and the JSON.
func TestReportNamesWhatBlockedConvergence(t *testing.T) {
	rep := &Report{Scenario: "stuck", NotConverged: []broker.Blocker{
		{What: "broker-2", Reason: "is still fenced by the controller"},
		{What: "orders-0", Reason: "ISR [1] lacks replicas [2 3]"},
	}}
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text, ""))
	assert.Contains(t, text.String(), "  note: the cluster did not converge after the faults were healed; the audit read the logs as they were\n"+
		"  what kept it from converging:\n"+
		"    broker-2: is still fenced by the controller\n"+
		"    orders-0: ISR [1] lacks replicas [2 3]\n")
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"not_converged":[{"what":"broker-2","reason":"is still fenced by the controller"},`)
}

// TestNotConvergedNamesPartitions: a network too slow for replication to
// catch up within the post-heal phase names each blocked partition.
func TestNotConvergedNamesPartitions(t *testing.T) {
	s, err := Load("acks-all-leader-failover", []string{"cluster.network.latency=3m"})
	require.NoError(t, err)
	rep := s.Run(RunOptions{}).Report
	require.False(t, rep.Converged)
	require.NotEmpty(t, rep.NotConverged)
	assert.Equal(t, "orders-0", rep.NotConverged[0].What)
	assert.Contains(t, rep.NotConverged[0].Reason, "below min.insync.replicas=2, so acks=all writes are refused")
}

// TestNotConvergedNamesTheLoop: when the producer's requests cannot outlast
// replication (request.timeout.ms below replica.fetch.wait.max.ms, with a
// replica.fetch.min.bytes that small writes never reach), initTransactions
// times out and is sent again for ever; the report says what the run kept
// doing and which settings cause it (found by the chaos test, case 282).
func TestNotConvergedNamesTheLoop(t *testing.T) {
	const src = `name: slow-acks
duration: 1s
cluster:
  brokers: 3
  broker:
    replica.fetch.min.bytes: "3063"
topics:
  - name: t
producer:
  request.timeout.ms: "145"
  transactional.id: "app"
workload:
  rate: 10
  transactions:
    records: 1
`
	s, err := Parse("slow-acks.yaml", []byte(src), nil)
	require.NoError(t, err)
	rep := s.Run(RunOptions{}).Report
	require.False(t, rep.Converged)
	whats := map[string]string{}
	for _, b := range rep.NotConverged {
		if _, ok := whats[b.What]; !ok {
			whats[b.What] = b.Reason
		}
	}
	assert.Contains(t, whats, "__transaction_state-1")
	assert.Equal(t, "still had records or a transaction in progress when the run ended", whats["producer"])
	assert.Contains(t, whats["busiest at the end"], "producer-1 msg-send init-producer-id-request (peer broker-2)")
	assert.Contains(t, whats["likely cause"], "request.timeout.ms=145 is not above replica.fetch.wait.max.ms=500 plus a round trip")
}
