package scenarios

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guarantees checks one finished run against what Kafka promises, and
// reports which promises applied.
func guarantees(t *testing.T, label string, res *Result) (lossApplies, idempotenceApplies, txnApplies bool) {
	t.Helper()
	rep := res.Report
	assert.NoError(t, res.InvariantErr, "%s: replication invariant", label)
	assert.True(t, rep.Converged, "%s: the cluster converges after healing", label)

	// "A committed message will not be lost, as long as there is at least
	// one in sync replica alive": acks=all, min.insync.replicas >= 2, no
	// unclean election, at most one broker out at a time.
	lossApplies = rep.Config.Producer["acks"] == "all" && res.MaxBrokersDown <= 1
	for _, tp := range rep.Config.Topics {
		minISR, err := strconv.Atoi(tp.Config["min.insync.replicas"])
		require.NoError(t, err, "%s: the report's min.insync.replicas", label)
		lossApplies = lossApplies && minISR >= 2 && tp.Config["unclean.leader.election.enable"] == "false"
	}
	if lossApplies {
		assert.Zero(t, rep.Records.Lost, "%s: acknowledged records lost", label)
	}
	// Idempotence: exactly one copy, in order, within one producer session
	// and one producer epoch. An epoch bump (KIP-360: after an
	// OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID or an expired batch
	// left a sequence unresolved) renumbers the unfinished batches from 0
	// (TxnPartitionEntry.startSequencesAtBeginning), and one whose earlier
	// attempt the broker appended without the producer hearing of it is
	// written again: the broker only recognises a retry within one epoch.
	idempotenceApplies = rep.Config.Producer["enable.idempotence"] == "true" && res.Sessions == 1 && !epochBumped(res)
	if idempotenceApplies {
		assert.Zero(t, rep.Records.Duplicated, "%s: duplicates with idempotence", label)
		assert.Zero(t, rep.Records.Reordered, "%s: reordering with idempotence", label)
	}
	// Transactions: a read_committed consumer never reads an aborted
	// record, never part of a transaction without the rest, and (when no
	// acknowledged record may be lost) every committed transaction, once.
	txnApplies = rep.Config.Producer["transactional.id"] != "" && rep.Consumers != nil
	if txnApplies {
		rc := rep.Consumers.ReadCommitted
		assert.Zero(t, rc.AbortedRead, "%s: read_committed read an aborted record", label)
		assert.Zero(t, rc.Torn, "%s: read_committed saw part of a transaction", label)
		assert.Zero(t, rep.Records.Duplicated, "%s: duplicates in read_committed with transactions", label)
		if lossApplies {
			assert.Zero(t, rc.CommittedLost, "%s: committed records missing from read_committed", label)
		}
	}
	return lossApplies, idempotenceApplies, txnApplies
}

// epochBumped reports whether a producer bumped its epoch during the run.
func epochBumped(res *Result) bool {
	return slices.ContainsFunc(res.Trace.Entries(), func(e sim.Entry) bool { return e.Kind == event.EpochBump })
}

// deep is set by .ci/run: the seed sweeps below run ten times deeper than
// the 100 seeds per lesson they once ran on every `go test`, which keeps
// the README's test command quick and CI thorough.
var deep = os.Getenv("KAFKASIM_DEEP") == "1"

// sweepSeeds is how many seeds each lesson runs under in the invariant
// sweeps: 1000 with KAFKASIM_DEEP=1, 20 by default, 5 with -short.
func sweepSeeds() uint64 {
	switch {
	case deep:
		return 1000
	case testing.Short():
		return 5
	}
	return 20
}

// TestLessonInvariants runs every lesson under sweepSeeds() seeds with the
// replication invariants checked every 5ms of virtual time.
func TestLessonInvariants(t *testing.T) {
	seeds := sweepSeeds()
	for _, e := range Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(e.Name, nil)
			require.NoError(t, err)
			for seed := uint64(1); seed <= seeds; seed++ {
				res := s.Run(RunOptions{Seed: &seed, CheckInvariants: true})
				guarantees(t, fmt.Sprintf("seed %d", seed), res)
				assert.True(t, res.Report.Passed(), "seed %d: the lesson's expectations hold for every seed", seed)
			}
		})
	}
}

// TestGuaranteesAreExercised makes sure the guarantee checks above are not
// vacuous: some lessons meet each precondition.
func TestGuaranteesAreExercised(t *testing.T) {
	loss, idem, txn := 0, 0, 0
	for _, e := range Catalog() {
		s, err := Load(e.Name, nil)
		require.NoError(t, err)
		res := s.Run(RunOptions{})
		l, i, x := guarantees(t, e.Name, res)
		if l {
			loss++
		}
		if i {
			idem++
		}
		if x {
			txn++
		}
	}
	assert.GreaterOrEqual(t, loss, 2, "lessons where no acknowledged record may be lost")
	assert.GreaterOrEqual(t, idem, 4, "lessons where idempotence must hold")
	assert.GreaterOrEqual(t, txn, 4, "lessons where transactions must hold")
}

// randomScenario writes a scenario with random settings and faults, for the
// swarm test: every fault kind, every selector, every producer mode.
func randomScenario(r *rand.Rand) string {
	var b strings.Builder
	acks := []string{"0", "1", "all", "all", "all"}[r.IntN(5)]
	idem := acks == "all" && r.IntN(3) > 0
	fmt.Fprintf(&b, "name: swarm\nseed: %d\nduration: %dms\n", r.IntN(1000), 2000+r.IntN(4000))
	fmt.Fprintf(&b, "cluster:\n  brokers: %d\n  broker:\n    replica.lag.time.max.ms: %d\n    unclean.leader.election.enable: %v\n",
		3+r.IntN(2), 2000+r.IntN(8000), r.IntN(4) == 0)
	fmt.Fprintf(&b, "  network:\n    latency: %dms\n    jitter: %dus\n", 1+r.IntN(5), r.IntN(2000))
	fmt.Fprintf(&b, "topics:\n  - name: t\n    partitions: %d\n    replication.factor: 3\n    config:\n      min.insync.replicas: %d\n",
		1+r.IntN(3), 1+r.IntN(2))
	// One run in three is transactional: a second topic, a
	// transactional.id, transactions of random size, some aborted.
	txn := idem && r.IntN(3) == 0
	if txn {
		b.WriteString("  - name: u\n    partitions: 2\n    replication.factor: 3\n")
	}
	fmt.Fprintf(&b, "producer:\n  acks: %q\n  enable.idempotence: %v\n  max.in.flight.requests.per.connection: %d\n  linger.ms: %d\n  request.timeout.ms: %d\n  delivery.timeout.ms: %d\n",
		acks, idem, 1+r.IntN(5), r.IntN(10), 2000+r.IntN(5000), 20000+r.IntN(100000))
	if txn {
		fmt.Fprintf(&b, "  transactional.id: app-%d\n  transaction.timeout.ms: %d\n", r.IntN(100), 1000+r.IntN(60000))
	}
	fmt.Fprintf(&b, "workload:\n  records: %d\n  rate: %d\n  keys: %d\n", 500+r.IntN(3000), 200+r.IntN(2000), r.IntN(50))
	if txn {
		fmt.Fprintf(&b, "  topic: t\n  transactions:\n    records: %d\n    topics: [t, u]\n    abort.every: %d\n", 1+r.IntN(20), r.IntN(5))
	}
	b.WriteString("faults:\n")
	kinds := []string{"crash", "restart", "isolate", "pause", "delay", "drop-responses", "fail-requests"}
	selectors := []string{"1", "2", "3", "leader t-0", "follower t-0", "followers t-0", "all", "crashed"}
	if txn {
		selectors = append(selectors, "coordinator", "coordinator")
	}
	for range 1 + r.IntN(5) {
		kind := kinds[r.IntN(len(kinds))]
		fmt.Fprintf(&b, "  - at: %dms\n    do: %s\n    broker: %s\n", r.IntN(6000), kind, selectors[r.IntN(len(selectors))])
		switch kind {
		case "isolate":
			fmt.Fprintf(&b, "    from: [%s]\n    direction: %s\n",
				[]string{"brokers", "controller", "producer", "brokers, controller"}[r.IntN(4)], []string{"both", "in", "out"}[r.IntN(3)])
			if r.IntN(2) == 0 {
				fmt.Fprintf(&b, "    for: %dms\n", 100+r.IntN(20000))
			}
		case "pause":
			fmt.Fprintf(&b, "    for: %dms\n", 100+r.IntN(20000))
		case "delay":
			fmt.Fprintf(&b, "    by: %dms\n    for: %dms\n", 1+r.IntN(500), 100+r.IntN(10000))
		case "drop-responses":
			fmt.Fprintf(&b, "    count: %d\n", 1+r.IntN(3))
		case "fail-requests":
			fmt.Fprintf(&b, "    error: %s\n    count: %d\n",
				[]string{"NOT_ENOUGH_REPLICAS", "NOT_LEADER_OR_FOLLOWER", "REQUEST_TIMED_OUT", "UNKNOWN_TOPIC_OR_PARTITION"}[r.IntN(4)], 1+r.IntN(3))
		}
	}
	if r.IntN(5) == 0 {
		fmt.Fprintf(&b, "  - at: %dms\n    do: restart-producer\n    resend-unacked: %v\n", r.IntN(5000), r.IntN(2) == 0)
	}
	if r.IntN(4) == 0 {
		fmt.Fprintf(&b, "  - at: %dms\n    do: start-zombie\n    for: %dms\n", r.IntN(5000), 100+r.IntN(3000))
	}
	return b.String()
}

// TestSwarm runs random scenarios (swarm testing: each run a random mix of
// settings and faults) and checks the invariants and guarantees on each.
// A failure prints the scenario, which reproduces it exactly.
func TestSwarm(t *testing.T) {
	cases := 300
	switch {
	case deep:
		cases = 3000
	case testing.Short():
		cases = 30
	}
	for i := range cases {
		src := randomScenario(rand.New(rand.NewPCG(uint64(i), 7)))
		s, err := Parse("swarm", []byte(src), nil)
		require.NoError(t, err, src)
		res := s.Run(RunOptions{CheckInvariants: true})
		if !t.Run(fmt.Sprint(i), func(t *testing.T) { _, _, _ = guarantees(t, "swarm", res) }) {
			t.Logf("scenario %d:\n%s", i, src)
		}
	}
}

// TestTransactionalVariants runs lessons whose default producer is not
// transactional with a transactional.id, under sweepSeeds() seeds: the
// read_committed guarantees must hold there too.
func TestTransactionalVariants(t *testing.T) {
	seeds := sweepSeeds()
	for _, name := range []string{"idempotence-is-per-partition"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(name, []string{"producer.transactional.id=app"})
			require.NoError(t, err)
			for seed := uint64(1); seed <= seeds; seed++ {
				res := s.Run(RunOptions{Seed: &seed, CheckInvariants: true})
				_, _, txn := guarantees(t, fmt.Sprintf("seed %d", seed), res)
				require.True(t, txn, "the guarantee applies")
			}
		})
	}
}
