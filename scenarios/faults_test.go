package scenarios

import (
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// TestFaultKindsComplete checks that every entry of the fault table says
// everything a kind needs: which keys it takes (keys of a fault entry),
// how it is checked, what it does and how the report describes it.
func TestFaultKindsComplete(t *testing.T) {
	faultKeys := fieldKeys(reflect.TypeOf(Fault{}))
	seen := map[string]bool{}
	for _, k := range faultKinds {
		t.Run(k.name, func(t *testing.T) {
			assert.Regexp(t, nameRE, k.name, "kebab-case")
			assert.False(t, seen[k.name], "listed once")
			seen[k.name] = true
			assert.NotEmpty(t, k.keys)
			for _, key := range k.keys {
				assert.Contains(t, faultKeys, key, "a key of a fault entry")
				assert.NotContains(t, []string{"at", "do"}, key, "every fault takes at and do")
			}
			assert.NotNil(t, k.check, "validation")
			assert.NotNil(t, k.fire, "apply")
			assert.NotNil(t, k.describe, "description")
			assert.Same(t, &faultKinds[slices.IndexFunc(faultKinds, func(o faultKind) bool { return o.name == k.name })], lookupFault(k.name))
		})
	}
	assert.Nil(t, lookupFault("explode"))
}

// TestReadmeListsEveryFault keeps the README's list of faults in step with
// the table.
func TestReadmeListsEveryFault(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, list, ok := strings.Cut(string(readme), "\nFaults: ")
	require.True(t, ok, "README has a paragraph that starts with Faults:")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, k := range faultKinds {
		assert.Contains(t, list, "`"+k.name+"`", "README's list of faults names %s", k.name)
	}
}

// TestFaultBrokerSelector checks that every kind that takes a broker
// insists on one and resolves it.
func TestFaultBrokerSelector(t *testing.T) {
	for _, k := range faultKinds {
		if !slices.Contains(k.keys, "broker") {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(base+"faults:\n  - at: 1s\n    do: "+k.name+"\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "faults[0].broker: missing; say which broker")

			_, err = Parse("t.yaml", []byte(base+"faults:\n  - at: 1s\n    do: "+k.name+"\n    broker: 9\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "faults[0].broker: no broker 9; broker ids are 1 to 3")
		})
	}
}

// TestDescribeFault checks each kind's line in the report's schedule.
func TestDescribeFault(t *testing.T) {
	tests := []struct {
		fault string
		want  string
	}{
		{"{at: 1s, do: crash, broker: leader orders-0}", "1.000s crash leader orders-0"},
		{"{at: 1s, do: restart, broker: crashed}", "1.000s restart every stopped broker (crashed or shut down)"},
		{"{at: 1s, do: shutdown, broker: leader orders-0}", "1.000s shutdown leader orders-0"},
		{"{at: 1s, do: pause, broker: 2, for: 100ms}", "1.000s pause broker-2 for 100ms"},
		{"{at: 1s, do: isolate, broker: 3, from: [brokers, producer], direction: in}", "1.000s isolate broker-3 from brokers, producer (inbound only)"},
		{"{at: 1s, do: isolate, broker: 3, for: 2s}", "1.000s isolate broker-3 from brokers, controller, producer for 2s"},
		{"{at: 1s, do: isolate, broker: 3, from: [producer], direction: out, mode: reject}", "1.000s isolate broker-3 from producer (outbound only), rejecting"},
		{"{at: 1s, do: isolate, broker: 3, from: [producer], direction: out, mode: reject}", "1.000s isolate broker-3 from producer (outbound only), rejecting"},
		{"{at: 1s, do: partition, between: [1, controller], and: [brokers, producer], for: 2s}", "1.000s partition between broker-1, controller and brokers, producer for 2s"},
		{"{at: 1s, do: partition, between: [leader orders-0], and: [producer], direction: out, mode: reject}", "1.000s partition between leader orders-0 and producer (out of the first group only), rejecting"},
		{"{at: 1s, do: partition, between: [2], and: [3], direction: in, by: 200ms}", "1.000s partition between broker-2 and broker-3 (into the first group only), slowed by 200ms"},
		{"{at: 1s, do: delay, broker: 2, by: 5ms, for: 300ms}", "1.000s delay broker-2 by 5ms for 300ms"},
		{"{at: 1s, do: delay, broker: 2, by: 5ms, from: [producer], direction: in}", "1.000s delay broker-2 by 5ms from producer (inbound only)"},
		{"{at: 1s, do: request-rule, broker: 1, answer: lost, when: after, count: 2}", "1.000s request-rule broker-1: Produce handled, answer lost, 2 requests"},
		{"{at: 1s, do: request-rule, broker: 1, answer: lost, count: 1}", "1.000s request-rule broker-1: Produce lost before handling, 1 request"},
		{"{at: 1s, do: request-rule, broker: all, answer: NOT_ENOUGH_REPLICAS, for: 50ms}", "1.000s request-rule all: Produce answered with NOT_ENOUGH_REPLICAS for 50ms"},
		{"{at: 1s, do: request-rule, broker: 2, api: Metadata, topic: orders, answer: TOPIC_AUTHORIZATION_FAILED, count: 3}",
			"1.000s request-rule broker-2: Metadata about orders answered with TOPIC_AUTHORIZATION_FAILED, 3 requests"},
		{"{at: 1s, do: request-rule, broker: leader orders-0, partition: orders-0, answer: MESSAGE_TOO_LARGE, when: after, count: 1}",
			"1.000s request-rule leader orders-0: Produce about orders-0 handled, answer replaced by MESSAGE_TOO_LARGE, 1 request"},
		{"{at: 1s, do: restart-producer}", "1.000s restart-producer"},
		{"{at: 1s, do: restart-producer, resend-unacked: true}", "1.000s restart-producer, and the application re-sends what was not acknowledged"},
		{"{at: 1s, do: restart-producer, client: librdkafka}", "1.000s restart-producer as librdkafka"},
		{"{at: 1s, do: add-partitions, topic: orders, partitions: 5}", "1.000s add-partitions orders to 5"},
		{"{at: 1s, do: freeze-app, for: 5s}", "1.000s freeze-app for 5s"},
		{"{at: 1s, do: start-zombie, for: 300ms}", "1.000s start-zombie for 300ms"},
	}
	described := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(base+"faults:\n  - "+tt.fault+"\n"), nil)
			require.NoError(t, err)
			require.Len(t, s.plan.faults, 1)
			assert.Equal(t, tt.want, describeFault(&s.plan.faults[0]))
			described[s.plan.faults[0].Do] = true
		})
	}
	assert.Equal(t, faultKindNames(), slices.Sorted(maps.Keys(described)), "a line for every kind")
}

// TestRequestRules runs a rule of each kind and checks what it does, how
// often it fired (faults.1.fired) and that nothing acknowledged is lost.
func TestRequestRules(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		extra string // more producer settings
		check func(t *testing.T, r *Report)
	}{
		{"produce error before", "{at: 200ms, do: request-rule, broker: leader orders-0, partition: orders-0, answer: INVALID_RECORD, count: 2}", "",
			func(t *testing.T, r *Report) {
				assert.Equal(t, int64(2), r.Errors["INVALID_RECORD"])
				assert.Positive(t, r.Records.Failed, "INVALID_RECORD is not retriable")
				assert.Zero(t, r.Records.Ambiguous, "nothing appended")
			}},
		{"produce error after", "{at: 200ms, do: request-rule, broker: leader orders-0, answer: NOT_LEADER_OR_FOLLOWER, when: after, count: 1}", "",
			func(t *testing.T, r *Report) {
				assert.Zero(t, r.Records.Failed, "retriable")
				assert.Zero(t, r.Records.Duplicated, "the idempotent producer's retry is recognised")
			}},
		{"produce error after without idempotence", "{at: 200ms, do: request-rule, broker: leader orders-0, answer: NOT_LEADER_OR_FOLLOWER, when: after, count: 1}",
			"  enable.idempotence: false\n",
			func(t *testing.T, r *Report) {
				assert.Positive(t, r.Records.Duplicated, "the append happened, the retry writes again")
			}},
		{"produce lost", "{at: 200ms, do: request-rule, broker: leader orders-0, answer: lost, count: 1}", "",
			func(t *testing.T, r *Report) {
				assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"], "the producer waits request.timeout.ms")
				assert.Zero(t, r.Records.Failed)
			}},
		{"metadata topic error", "{at: 0s, do: request-rule, broker: all, api: Metadata, topic: orders, answer: TOPIC_AUTHORIZATION_FAILED, count: 1}", "",
			func(t *testing.T, r *Report) { assert.Positive(t, r.Errors["TOPIC_AUTHORIZATION_FAILED"]) }},
		{"fatal InitProducerId", "{at: 0s, do: request-rule, broker: all, api: InitProducerId, answer: CLUSTER_AUTHORIZATION_FAILED, count: 1}", "",
			func(t *testing.T, r *Report) {
				assert.Equal(t, int64(100), r.Records.Failed, "the idempotent producer is fatal: every send fails")
			}},
		{"follower fetch lost", "{at: 200ms, do: request-rule, broker: leader orders-0, api: Fetch, answer: lost, count: 1}", "",
			func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Failed) }},
		{"fetch error", "{at: 200ms, do: request-rule, broker: leader orders-0, api: Fetch, partition: orders-0, answer: NOT_LEADER_OR_FOLLOWER, for: 100ms}", "",
			func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Failed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, "producer:\n", "producer:\n"+tt.extra, 1) + "  keys: 30\nfaults:\n  - " + tt.rule + "\n"
			s, err := Parse("t.yaml", []byte(src), nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
			require.NoError(t, res.InvariantErr)
			r := res.Report
			require.Len(t, r.Rules, 1)
			assert.Positive(t, r.Rules[0].Fired, "the rule fired")
			fired := -1.0
			r.Numbers(func(path string, v float64) {
				if path == "faults.1.fired" {
					fired = v
				}
			})
			assert.Equal(t, float64(r.Rules[0].Fired), fired, "faults.1.fired is a report number")
			assert.Contains(t, r.Config.Faults[0], "; fired ")
			assert.Zero(t, r.Records.Lost)
			tt.check(t, r)
		})
	}
}

// TestIsolateIsAPartition checks that isolate is the partition between one
// broker and the groups it names: the same schedule either way gives the
// same run, in both modes.
func TestIsolateIsAPartition(t *testing.T) {
	tests := []struct{ isolate, partition string }{
		{"{at: 1s, do: isolate, broker: leader orders-0, from: [producer], direction: out, for: 50ms}",
			"{at: 1s, do: partition, between: [leader orders-0], and: [producer], direction: out, for: 50ms}"},
		{"{at: 1s, do: isolate, broker: 2, from: [brokers, controller], mode: reject, for: 3s}",
			"{at: 1s, do: partition, between: [2], and: [brokers, controller], mode: reject, for: 3s}"},
	}
	for _, tt := range tests {
		t.Run(tt.partition, func(t *testing.T) {
			run := func(fault string) *Report {
				const base = "name: t\nduration: 5s\ncluster: {brokers: 3}\ntopics: [{name: orders, partitions: 3, replication.factor: 3}]\n" +
					"producer: {acks: all, enable.idempotence: false}\nworkload: {topic: orders, records: 5000, rate: 1000, keys: 100}\n"
				s, err := Parse("t.yaml", []byte(base+"faults:\n  - "+fault+"\n"), nil)
				require.NoError(t, err)
				return s.Run(RunOptions{}).Report
			}
			a, b := run(tt.isolate), run(tt.partition)
			healthy := run("{at: 1s, do: delay, broker: 1, by: 1ns, for: 1ns}")
			require.NotEqual(t, healthy.LatencyMs, a.LatencyMs, "the fault changes the run")
			assert.Equal(t, a.Records, b.Records)
			assert.Equal(t, a.Errors, b.Errors)
			assert.Equal(t, a.LatencyMs, b.LatencyMs)
		})
	}
}

// TestPartitionCutsProducersCreatedLater checks that a producer instance
// started while a partition has the producers on one side is cut too.
func TestPartitionCutsProducersCreatedLater(t *testing.T) {
	const scenario = "name: t\nduration: 3s\ncluster: {brokers: 3}\ntopics: [{name: orders, partitions: 3, replication.factor: 3}]\n" +
		"workload: {topic: orders, records: 3000, rate: 1000}\nfaults:\n" +
		"  - {at: 1s, do: partition, between: [producer], and: [brokers], mode: reject, for: 1s}\n" +
		"  - {at: 1500ms, do: restart-producer}\n"
	s, err := Parse("t.yaml", []byte(scenario), nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	refused := 0
	for _, e := range res.Trace.Entries() {
		if e.Kind == event.Drop && e.Has(event.Rejected) && res.Names.NodeName(e.Node) == "producer-2" && e.At < 2*sim.Second {
			refused++
		}
	}
	assert.Positive(t, refused, "the new instance's connects are refused until the heal")
}

// TestFreezeApp: a frozen application and producer do nothing while the
// coordinator times their transaction out (transaction.timeout.ms) and
// bumps the epoch; no replacement starts. On thawing, the producer hears
// INVALID_PRODUCER_EPOCH for the batches it sends with the old epoch
// (abortable), then PRODUCER_FENCED for its abort (fatal), as Kafka's
// client does after a long pause; the application closes it and starts a
// new one, which sends the transaction again. read_committed never sees
// the aborted copy.
func TestFreezeApp(t *testing.T) {
	src := `name: freeze
seed: 1
duration: 5s
cluster:
  broker:
    transaction.abort.timed.out.transaction.cleanup.interval.ms: 500
topics:
  - name: orders
    partitions: 3
producer:
  transactional.id: orders-app
  transaction.timeout.ms: 1000
workload:
  rate: 200
  keys: 20
  transactions:
    records: 20
faults:
  - {at: 1050ms, do: freeze-app, for: 3s}
`
	s, err := Parse("freeze.yaml", []byte(src), nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
	require.NoError(t, res.InvariantErr)
	rep := res.Report
	var froze, thawed, timedOut sim.Time = -1, -1, -1
	producerActs := 0
	for _, e := range res.Trace.Entries() {
		switch {
		case e.Kind == event.AppFreeze:
			froze = e.At
		case e.Kind == event.AppThaw:
			thawed = e.At
		case e.Kind == event.TxnTimeout:
			timedOut = e.At
		case froze >= 0 && thawed < 0 && res.Cluster.W.NodeName(e.Node) == "producer-1":
			producerActs++
		}
	}
	require.Positive(t, froze)
	assert.Equal(t, froze+3*sim.Second, thawed)
	assert.Greater(t, timedOut, froze, "the coordinator aborted the transaction during the freeze")
	assert.Less(t, timedOut, thawed)
	assert.Zero(t, producerActs, "nothing from the frozen producer")
	assert.Positive(t, rep.Errors["INVALID_PRODUCER_EPOCH"])
	assert.Equal(t, int64(1), rep.Errors["PRODUCER_FENCED"])
	assert.Equal(t, 2, res.Sessions, "the instance closed after PRODUCER_FENCED is the only one replaced")
	require.NotNil(t, rep.Transactions)
	assert.Positive(t, rep.Transactions.Retried)
	require.NotNil(t, rep.Consumers)
	assert.Zero(t, rep.Consumers.ReadCommitted.AbortedRead)
	assert.Zero(t, rep.Consumers.ReadCommitted.CommittedLost)
}

// TestRuleThatLies: DUPLICATE_SEQUENCE_NUMBER before the append makes the
// producer count a batch as written that no broker has: an acknowledged
// record is lost, and its explanation names the rule.
func TestRuleThatLies(t *testing.T) {
	src := base + "faults:\n  - {at: 200ms, do: request-rule, broker: all, answer: DUPLICATE_SEQUENCE_NUMBER, count: 1}\n"
	s, err := Parse("t.yaml", []byte(src), nil)
	require.NoError(t, err)
	r := s.Run(RunOptions{}).Report
	require.Positive(t, r.Records.Lost)
	require.NotEmpty(t, r.Anomalies)
	assert.Contains(t, r.Anomalies[0].Explanation, "a request rule made broker-")
	assert.Contains(t, r.Anomalies[0].Explanation, "answer DUPLICATE_SEQUENCE_NUMBER")
}
