package scenarios

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kafkasim/kafkasim/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guarantees checks one finished run against what Kafka promises (every
// violation fails the test), and reports which promises applied.
func guarantees(t *testing.T, label string, res *Result) (lossApplies, idempotenceApplies, txnApplies bool) {
	t.Helper()
	for _, v := range violations(res) {
		t.Errorf("%s: %s", label, v)
	}
	assert.True(t, res.Report.Converged, "%s: the cluster converges after healing", label)
	return promises(res)
}

// promises reports which of Kafka's promises apply to a run.
func promises(res *Result) (loss, idempotence, txn bool) {
	rep := res.Report
	// "A committed message will not be lost, as long as there is at least
	// one in sync replica alive": acks=all, min.insync.replicas >= 2, no
	// unclean election, at most one broker out at a time.
	loss = rep.Config.Producer["acks"] == "all" && res.MaxBrokersDown <= 1
	for _, tp := range rep.Config.Topics {
		minISR, err := strconv.Atoi(tp.Config["min.insync.replicas"])
		loss = loss && err == nil && minISR >= 2 && tp.Config["unclean.leader.election.enable"] == "false"
	}
	// Idempotence: exactly one copy, in order, within one producer session
	// and one producer epoch. An epoch bump (KIP-360: after an
	// OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID or an expired batch
	// left a sequence unresolved) renumbers the unfinished batches from 0
	// (TxnPartitionEntry.startSequencesAtBeginning), and one whose earlier
	// attempt the broker appended without the producer hearing of it is
	// written again: the broker only recognises a retry within one epoch.
	// It also needs the partitions to remember the producer: a producer id
	// expired after producer.id.expiration.ms takes any sequence, a late
	// retry included (the lesson producer-state-expired; Kafka's
	// documentation of the property).
	idempotence = rep.Config.Producer["enable.idempotence"] == "true" && res.Sessions == 1 && !epochBumped(res) && !traced(res, event.ProducerExpired)
	txn = rep.Config.Producer["transactional.id"] != "" && rep.Consumers != nil
	// The promises hold for brokers that tell the truth. A request rule
	// that misled the producer voids the ones it can break; a rule that
	// fails records (an error that is not retriable) voids none, since a
	// failed record breaks no promise.
	if misleadingRule(res) {
		loss, idempotence = false, false
	}
	return loss, idempotence, txn
}

// violations lists the promises a finished run broke, each as "name: what
// happened": the replication invariants always; no acknowledged record lost,
// no duplicate or reordering with idempotence, and the transactional
// promises, where promises says they apply.
func violations(res *Result) []string {
	rep := res.Report
	var out []string
	broke := func(name string, n int64, format string) {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s: "+format, name, n))
		}
	}
	if res.InvariantErr != nil {
		out = append(out, "invariant: "+res.InvariantErr.Error())
	}
	// Every accepted scenario finishes within its budgets (issue 10): a
	// generated or built-in case that runs out of events or memory is a
	// loop the simulator should not have.
	if b := rep.StoppedByBudget; b != nil {
		out = append(out, fmt.Sprintf("budget: the %s budget (%s) stopped the run at %.3f ms; busiest: %s",
			b.Budget, b.Limit, b.AtMs, strings.Join(b.Busiest, "; ")))
	}
	out = append(out, messagePairing(res)...)
	loss, idempotence, txn := promises(res)
	if loss {
		broke("lost", rep.Records.Lost, "%d acknowledged records lost")
	}
	if idempotence {
		broke("duplicated", rep.Records.Duplicated, "%d duplicates with idempotence")
		broke("reordered", rep.Records.Reordered, "%d records reordered with idempotence")
	}
	// Transactions: a read_committed consumer never reads an aborted
	// record, never part of a transaction without the rest, and (when no
	// acknowledged record may be lost) every committed transaction, once.
	if txn {
		rc := rep.Consumers.ReadCommitted
		broke("aborted read", rc.AbortedRead, "read_committed read %d aborted records")
		if !misleadingRule(res) {
			// A commit answered with an error is sent again, twice in the
			// log; a batch taken for written that was not leaves its
			// transaction short of it.
			broke("torn", rc.Torn, "read_committed saw part of a transaction %d times")
			broke("duplicated", rep.Records.Duplicated, "%d duplicates in read_committed with transactions")
		}
		if loss {
			broke("committed lost", rc.CommittedLost, "%d committed records missing from read_committed")
		}
	}
	return out
}

// messagePairing checks the trace's message records (ARCHITECTURE.md,
// "Events"): every message id is sent once and ends at most once, in a
// msg-receive or a drop, never both; a message held by a cut is neither
// until it arrives or is discarded. A message may still be on its way when
// the run ends.
func messagePairing(res *Result) []string {
	if !res.Trace.KeepsMessages() {
		return []string{"messages: the run kept none to pair (RunOptions.Messages)"}
	}
	if res.Trace.Cut() {
		return nil // the trace stops early: its records are partial
	}
	type count struct{ sends, ends int }
	msgs := map[int64]*count{}
	get := func(id int64) *count {
		if msgs[id] == nil {
			msgs[id] = &count{}
		}
		return msgs[id]
	}
	for _, m := range res.Trace.Messages() {
		if m.Kind == event.MsgSend {
			get(m.ID).sends++
		} else {
			get(m.ID).ends++
		}
	}
	for _, e := range res.Trace.Entries() {
		switch e.Kind {
		case event.Drop:
			get(e.Ext.Msg).ends++
		case event.Held:
			get(e.Ext.Msg)
		}
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(msgs)) {
		if c := msgs[id]; c.sends != 1 || c.ends > 1 {
			out = append(out, fmt.Sprintf("message %d: sent %d times, ended (received or dropped) %d times", id, c.sends, c.ends))
		}
		if len(out) == 3 {
			break
		}
	}
	return out
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
				res := s.Run(RunOptions{Seed: &seed, CheckInvariants: true, Messages: true})
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
		res := s.Run(RunOptions{Messages: true})
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
				res := s.Run(RunOptions{Seed: &seed, CheckInvariants: true, Messages: true})
				_, _, txn := guarantees(t, fmt.Sprintf("seed %d", seed), res)
				require.True(t, txn, "the guarantee applies")
			}
		})
	}
}
