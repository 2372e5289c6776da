package scenarios

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/producer"
)

// TestLessonExercises pins what LESSONS.md promises for the "Try" settings
// of each lesson, and the "(and 0 with idempotence)" of the lesson table.
func TestLessonExercises(t *testing.T) {
	tests := []struct {
		lesson string
		sets   []string
		check  func(t *testing.T, r *Report)
	}{
		{"acks0-broker-crash", []string{"producer.acks=all"}, func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Lost) }},
		{"acks0-broker-crash", []string{"producer.acks=1"}, func(t *testing.T, r *Report) { assert.Positive(t, r.Records.Lost) }},
		{"acks1-leader-failover", []string{"producer.acks=all"}, func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Lost) }},
		{"isr-shrink-to-leader", []string{"topic.min.insync.replicas=2"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Lost)
			assert.Positive(t, r.Records.Failed, "refused instead of offline")
			assert.Positive(t, r.Errors["NOT_ENOUGH_REPLICAS"])
		}},
		{"unclean-election-loss", []string{"broker.unclean.leader.election.enable=false"}, func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Lost) }},
		{"unclean-election-loss", []string{"topic.min.insync.replicas=2"}, func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Lost) }},
		{"retry-duplicates", []string{"producer.enable.idempotence=true"}, func(t *testing.T, r *Report) { assert.Zero(t, r.Records.Duplicated) }},
		{"inflight-reordering", []string{"producer.enable.idempotence=true"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Reordered)
			assert.Positive(t, r.Errors["OUT_OF_ORDER_SEQUENCE_NUMBER"])
		}},
		{"idempotent-producer", []string{"producer.enable.idempotence=false"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Duplicated)
			assert.Positive(t, r.Records.Reordered)
		}},
		{"after-append-duplicates", []string{"producer.enable.idempotence=true"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Errors["NOT_ENOUGH_REPLICAS_AFTER_APPEND"])
			assert.Zero(t, r.Records.Duplicated)
		}},
		{"after-append-duplicates", []string{"cluster.version=4.0", "producer.request.timeout.ms=5000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Errors["NOT_ENOUGH_REPLICAS_AFTER_APPEND"], "since 3.7 the HW waits for the ISR")
			assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"])
			assert.Positive(t, r.Records.Duplicated)
		}},
		{"transaction-v2-epoch-bump", []string{"cluster.features.transaction.version=1"}, func(t *testing.T, r *Report) {
			assert.Equal(t, int64(1), r.Consumers.ReadCommitted.AbortedRead, "the late record joined the next transaction")
		}},
		{"transaction-v2-epoch-bump", []string{"cluster.features.transaction.version=1", "broker.transaction.partition.verification.enable=false"}, func(t *testing.T, r *Report) {
			assert.Equal(t, int64(1), r.Consumers.ReadCommitted.AbortedRead, "without the leader's check too")
		}},
		{"transaction-v2-epoch-bump", []string{"cluster.version=3.9"}, func(t *testing.T, r *Report) {
			assert.Equal(t, int64(1), r.Consumers.ReadCommitted.AbortedRead, "3.x clusters have transaction.version 0")
		}},
		{"keyed-vs-keyless-leader-loss", []string{"workload.keys=0"}, func(t *testing.T, r *Report) {
			assert.Less(t, r.Records.Failed, int64(1000), "fewer fail than with keys")
			assert.Greater(t, r.Records.Failed, int64(500), "records queued for orders-0 before its queue grew still fail")
		}},
		{"keyed-vs-keyless-leader-loss", []string{"workload.keys=0", "producer.partitioner.availability.timeout.ms=500"}, func(t *testing.T, r *Report) {
			assert.Less(t, r.Records.Failed, int64(400), "orders-0 left out once its leader could not take requests for 500ms")
		}},
		{"partition-count-change", []string{"producer.metadata.max.age.ms=300000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.KeysSplit, "the producer never refreshes metadata within the run")
		}},
		{"batch-size", []string{"producer.batch.size=65536"}, func(t *testing.T, r *Report) {
			assert.Less(t, r.LatencyMs.P50, 50.0, "64 KiB batches carry the load with latency in milliseconds")
		}},
		{"read-uncommitted-sees-aborts", []string{"workload.transactions.abort.every=0"}, func(t *testing.T, r *Report) {
			require.NotNil(t, r.Consumers)
			assert.Zero(t, r.Consumers.ReadUncommitted.AbortedRead, "nothing aborted, nothing to read")
			assert.Equal(t, r.Consumers.ReadCommitted.Visible, r.Consumers.ReadUncommitted.Visible, "both views agree")
		}},
		{"transaction-timeout-abort", []string{"producer.transaction.timeout.ms=60000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Errors["PRODUCER_FENCED"], "the transaction outlives the stall")
			assert.Zero(t, r.Transactions.Retried)
		}},
		{"idempotence-is-per-partition", []string{"producer.transactional.id=orders-app"}, func(t *testing.T, r *Report) {
			require.NotNil(t, r.Consumers)
			assert.Zero(t, r.Consumers.ReadCommitted.Torn, "every group whole or not at all")
			assert.Zero(t, r.Consumers.ReadCommitted.CommittedLost)
			assert.Positive(t, r.Transactions.Retried, "the aborted transaction was sent again")
		}},
		{"message-too-large-splits", []string{"producer.enable.idempotence=false"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Metrics["batch-split-total"])
			assert.Positive(t, r.Records.Reordered, "pieces of a split batch land after batches sent behind it")
			assert.Zero(t, r.Records.Failed)
			assert.Less(t, r.LatencyMs.P50, 500.0, "the pieces go out side by side, five requests in flight")
		}},
		{"message-too-large-splits", []string{"producer.batch.size=4000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Metrics["batch-split-total"], "every batch fits message.max.bytes")
			assert.Zero(t, r.Errors["MESSAGE_TOO_LARGE"])
			assert.Less(t, r.LatencyMs.P50, 100.0)
		}},
		{"message-too-large-splits", []string{"broker.message.max.bytes=200"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Failed, "a record larger than message.max.bytes cannot be split")
			assert.Positive(t, r.Errors["MESSAGE_TOO_LARGE"])
			assert.Zero(t, r.Records.Lost)
		}},
		{"controlled-vs-hard-shutdown", []string{"producer.acks=all"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Lost)
			assert.Less(t, r.LatencyMs.Max, 1000.0, "still no stall")
		}},
		{"producer-state-expired", []string{"broker.producer.id.expiration.ms=10000"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"], "the same retries")
			assert.Zero(t, r.Records.Duplicated, "the partition still knows the producer")
		}},
		{"producer-state-expired", []string{"producer.transactional.id=orders-app", "workload.transactions.records=10"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"], "the same retries")
			assert.Zero(t, r.Records.Duplicated, "the open transaction keeps the producer id")
		}},
		{"isr-shrink-to-leader", []string{"cluster.version=4.1"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Lost)
			p := r.Partitions[0]
			assert.Positive(t, p.OfflineMs, "as offline as on 4.0")
			assert.Equal(t, 1, p.UncleanElections, "the returning leader is the last known leader, which Kafka counts unclean")
		}},
		{"unclean-election-loss", []string{"cluster.version=4.1"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Lost, "the ELR holds only the fenced leader: unclean election as on 4.0")
		}},
		{"last-replica-standing", []string{"cluster.version=4.0"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Lost)
			assert.Positive(t, r.Records.Failed, "offline until broker 1 returns, after delivery.timeout.ms")
			assert.Greater(t, r.Partitions[0].OfflineMs, 100_000.0)
			assert.Zero(t, r.Partitions[0].UncleanElections)
		}},
		{"last-replica-standing", []string{"cluster.features.eligible.leader.replicas.version=0"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Failed, "4.1 without ELR is 4.0")
			assert.Greater(t, r.Partitions[0].OfflineMs, 100_000.0)
		}},
		{"last-replica-standing", []string{"cluster.version=4.0", "broker.unclean.leader.election.enable=true"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Lost, "broker 3 lacks what brokers 1 and 2 committed")
			assert.Equal(t, 1, r.Partitions[0].UncleanElections)
		}},
		{"last-replica-standing", []string{"broker.unclean.leader.election.enable=true"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Lost, "ELR does not stop an unclean election of broker 3, back first")
		}},
		{"last-replica-standing", []string{"producer.acks=1"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Lost, "acks=1 records the lone leader took never committed")
		}},
		{"delivery-timeout-ambiguous", []string{"producer.delivery.timeout.ms=60000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Failed)
			assert.Zero(t, r.Records.Ambiguous)
		}},
		{"short-cut-is-a-delay", []string{"producer.enable.idempotence=true"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Duplicated)
			assert.Positive(t, r.Errors["NETWORK_EXCEPTION"], "the reject cut still breaks the connection")
		}},
		{"request-timeout-closes-connection", []string{"producer.enable.idempotence=true"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Duplicated)
			assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"])
		}},
		{"request-timeout-closes-connection", []string{"producer.request.timeout.ms=10000"}, func(t *testing.T, r *Report) {
			assert.Positive(t, r.Errors["REQUEST_TIMED_OUT"], "the stream resumes at the next retransmission, near 13.7s")
		}},
		{"request-timeout-closes-connection", []string{"producer.request.timeout.ms=20000"}, func(t *testing.T, r *Report) {
			assert.Zero(t, r.Errors["REQUEST_TIMED_OUT"])
			assert.Zero(t, r.Records.Duplicated)
			assert.Greater(t, r.LatencyMs.Max, 9000.0, "the responses waited for the retransmission")
		}},
		{"follower-cut-rejoins", []string{"topic.min.insync.replicas=2"}, func(t *testing.T, r *Report) {
			assert.Less(t, r.LatencyMs.P50, 50.0, "orders-0 and orders-2 take writes with two replicas")
			assert.Greater(t, r.LatencyMs.Max, 2900.0, "orders-1, led by the cut-off broker, waits for the heal")
			assert.Less(t, r.LatencyMs.Max, 3100.0)
			assert.Zero(t, r.Records.Failed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lesson+" "+tt.sets[0], func(t *testing.T) {
			s, err := Load(tt.lesson, tt.sets)
			require.NoError(t, err)
			tt.check(t, s.Run(RunOptions{}).Report)
		})
	}
}

// TestOneInFlightCapsThroughput is the cost in inflight-one-keeps-order: with
// one request in flight a partition moves one batch per round trip.
func TestOneInFlightCapsThroughput(t *testing.T) {
	rate := map[string]float64{}
	for _, n := range []string{"1", "5"} {
		s, err := Load("inflight-one-keeps-order", []string{"workload.rate=20000", "workload.records=20000",
			"producer.enable.idempotence=true", "producer.max.in.flight.requests.per.connection=" + n})
		require.NoError(t, err)
		rate[n] = s.Run(RunOptions{}).Report.Metrics["record-send-rate"]
	}
	assert.Less(t, rate["1"], 0.7*rate["5"], "send rates: %v", rate)
}

// TestZombieWithoutTransactions is the zombie-fencing lesson's last claim:
// without a transactional.id nothing fences the frozen instance, and what
// it still had queued is written next to the replacement's copy.
func TestZombieWithoutTransactions(t *testing.T) {
	src := `name: zombie-idempotent
seed: 1
duration: 4s
topics:
  - name: orders
    partitions: 3
producer:
  enable.idempotence: true
workload:
  rate: 200
  keys: 20
  transactions:
    records: 20
faults:
  - at: 2082ms
    do: start-zombie
    for: 1s
`
	s, err := Parse("zombie.yaml", []byte(src), nil)
	require.NoError(t, err)
	r := s.Run(RunOptions{}).Report
	assert.Positive(t, r.Records.Duplicated, "the zombie's queued records land after the replacement's copies")
	assert.Zero(t, r.Errors["PRODUCER_FENCED"], "nothing fences an idempotent producer")
}

// TestHardShutdownStalls is the Try of controlled-vs-hard-shutdown: the same
// scenario with a crash loses about as much with acks=1, and records wait
// for the dead leader's session to expire.
func TestHardShutdownStalls(t *testing.T) {
	e, ok := Builtin("controlled-vs-hard-shutdown")
	require.True(t, ok)
	src := strings.Replace(string(e.Text), "do: shutdown", "do: crash", 1)
	require.NotEqual(t, string(e.Text), src)
	s, err := Parse("crash.yaml", []byte(src), nil)
	require.NoError(t, err)
	r := s.Run(RunOptions{}).Report
	assert.Positive(t, r.Records.Lost)
	assert.Greater(t, r.LatencyMs.Max, 8000.0, "broker.session.timeout.ms")
}

// TestTransactionalIDExpires is producer-state-expired's last paragraph: a
// transactional application that opens a transaction less often than
// transactional.id.expiration.ms finds its id forgotten each time. Its
// AddPartitionsToTxn gets INVALID_PRODUCER_ID_MAPPING (abortable); the
// abort asks for a producer id again, which the coordinator gives as a new
// one at epoch 0, and the application sends the transaction again
// (TransactionsExpirationTest.testBumpTransactionalEpochAfterInvalidProducerIdMapping).
func TestTransactionalIDExpires(t *testing.T) {
	src := `name: txn-id-expires
seed: 1
duration: 5s
cluster:
  broker:
    transactional.id.expiration.ms: 500
    transaction.remove.expired.transaction.cleanup.interval.ms: 100
topics:
  - name: orders
    partitions: 3
producer:
  transactional.id: orders-app
workload:
  rate: 1
  keys: 20
  transactions:
    records: 1
`
	s, err := Parse("txn-id-expires.yaml", []byte(src), nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
	require.NoError(t, res.InvariantErr)
	rep := res.Report
	assert.Equal(t, int64(4), rep.Errors["INVALID_PRODUCER_ID_MAPPING"], "every transaction after the first")
	require.NotNil(t, rep.Transactions)
	assert.Equal(t, rep.Transactions.Total, rep.Transactions.Committed)
	assert.Equal(t, int64(4), rep.Transactions.Retried)
	assert.Equal(t, 1, res.Sessions, "abortable, not fatal: the same producer goes on")
	pids := map[int64]bool{}
	for _, e := range res.Trace.Entries() {
		if e.Kind == event.TxnInit {
			pids[e.ProducerID] = true
		}
	}
	assert.Len(t, pids, 5, "a new producer id after each expiry")
	require.NotNil(t, rep.Consumers)
	assert.Zero(t, rep.Consumers.ReadCommitted.CommittedLost)
	assert.Zero(t, rep.Consumers.ReadCommitted.AbortedRead)

	// With Kafka's default of seven days the id stays.
	s, err = Parse("txn-id-expires.yaml", []byte(src), []string{"broker.transactional.id.expiration.ms=604800000"})
	require.NoError(t, err)
	assert.Zero(t, s.Run(RunOptions{}).Report.Errors["INVALID_PRODUCER_ID_MAPPING"])
}

// TestPartitionerClassIsPerRun: two runs give the same class name two
// different partitioners, at the same time; each run uses its own. With a
// global registry the second registration failed, and so did the test's
// second run under go test -count=2.
func TestPartitionerClassIsPerRun(t *testing.T) {
	for _, part := range []int{3, 5} {
		t.Run(strconv.Itoa(part), func(t *testing.T) {
			t.Parallel()
			class := producer.PartitionerClass{Name: "com.example.One", New: func(*rand.Rand) producer.Partitioner { return onePartition(part) }}
			s, err := Load("sticky-vs-round-robin", []string{"producer.partitioner.class=com.example.One", "workload.records=500"}, class)
			require.NoError(t, err)
			rep := s.Run(RunOptions{}).Report
			for _, p := range rep.Partitions {
				if p.Partition == part {
					assert.EqualValues(t, 500, p.Records, "every record in partition %d", part)
				} else {
					assert.Zero(t, p.Records, "partition %d", p.Partition)
				}
			}
		})
	}
}

// onePartition sends every record to one partition.
type onePartition int

func (p onePartition) Partition(producer.PartitionRequest) int { return int(p) }
