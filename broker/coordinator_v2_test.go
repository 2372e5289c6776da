package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Stories of transaction.version 2 (KIP-890 part 2) and of partition-leader
// verification (part 1), with the harness of coordinator_test.go: the
// producer's writes carry its transactional.id, so leaders ask the
// coordinator before a transaction's first write to a partition.

// txnProduce sends one transactional batch of n fresh records, naming
// txnID, to p's leader and returns the answer.
func (h *txnHarness) txnProduce(cl *txnClient, p PartitionID, pid int64, epoch int16, seq int32, n int) PartitionResponse {
	h.t.Helper()
	b := ProduceBatch{BatchHeader: BatchHeader{Partition: p, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
		Bytes: int32(100 * n), Transactional: true}, Records: recs(h.nextRe, n)}
	h.nextRe += RecordID(n)
	id := h.send(cl, h.c.Leader(p), func(id int64) sim.Message {
		r := NewProduceRequest(testConn, id, -1, requestTimeout, []ProduceBatch{b})
		r.TransactionalID = txnID
		return r
	})
	resp := await[*ProduceResponse](h, cl, id)
	require.Len(h.t, resp.Partitions, 1)
	return resp.Partitions[0]
}

// TestStoryTransactionV2 is the version 2 protocol end to end: the leader
// adds the partition, EndTxn bumps the epoch and hands it over, markers
// carry it, a retried EndTxn is recognised, an abort with nothing open
// still bumps, and a late write with an old epoch cannot join the next
// transaction.
func TestStoryTransactionV2(t *testing.T) {
	h := newTxnHarness(t, DefaultConfig())
	require.True(t, h.c.Brokers[1].cfg.TransactionV2(), "4.0 clusters run transaction.version 2")
	o0, o1 := h.orders[0], h.orders[1]
	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID

	// No AddPartitionsToTxn from the producer: the leader of orders-0 adds
	// it when the first transactional batch arrives, and appends once the
	// Ongoing entry is in __transaction_state.
	pr := h.txnProduce(h.a, o0, pid, 0, 0, 2)
	require.Equal(t, ErrNone, pr.Error)
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing}, h.states(2))
	assert.Equal(t, []PartitionID{o0}, h.entries(2)[1].Partitions)
	assert.Zero(t, h.a.byType["add-partitions-to-txn-response"], "the leader asked, not the producer")

	// The next batch of the same transaction needs no question: the
	// transaction is open at the partition.
	pr = h.txnProduce(h.a, o0, pid, 0, 2, 1)
	require.Equal(t, ErrNone, pr.Error)
	assert.Len(t, h.entries(2), 2, "nothing more written")

	// EndTxn(COMMIT) bumps the epoch at prepare and answers with it; the
	// marker carries the new epoch.
	e := h.endTxn(h.a, 2, pid, 0, true)
	require.Equal(t, ErrNone, e.Error)
	assert.Equal(t, pid, e.ProducerID)
	assert.Equal(t, int16(1), e.ProducerEpoch)

	// The producer begins the next transaction and aborts it at once, with
	// the epoch the answer gave, while the commit's markers are still being
	// written: the abort waits (CONCURRENT_TRANSACTIONS, KAFKA-18464) rather
	// than being taken for a fenced producer.
	require.Equal(t, TxnPrepareCommit, h.states(2)[len(h.states(2))-1], "the markers are on their way")
	e = h.endTxn(h.a, 2, pid, 1, false)
	assert.Equal(t, ErrConcurrentTransactions, e.Error)
	h.settled(TxnCompleteCommit, 1, o0)
	assert.Equal(t, []int16{0, 0, 1, 1}, h.epochs(2))
	m := markers(h.leaderLog(o0))
	require.Len(t, m, 1)
	assert.Equal(t, MarkerCommit, m[0].Marker)
	assert.Equal(t, int16(1), m[0].ProducerEpoch)

	// A retry of that EndTxn (the epoch before) gets the same answer; the
	// same decision with the new epoch is no transaction to commit.
	e = h.endTxn(h.a, 2, pid, 0, true)
	assert.Equal(t, ErrNone, e.Error)
	assert.Equal(t, int16(1), e.ProducerEpoch)
	e = h.endTxn(h.a, 2, pid, 1, true)
	assert.Equal(t, ErrInvalidTxnState, e.Error)
	e = h.endTxn(h.a, 2, pid, 0, false)
	assert.Equal(t, ErrInvalidTxnState, e.Error, "a retry with the other decision")

	// An abort with nothing open (the producer aborts after an error before
	// anything was written) bumps the epoch all the same.
	e = h.endTxn(h.a, 2, pid, 1, false)
	require.Equal(t, ErrNone, e.Error)
	assert.Equal(t, int16(2), e.ProducerEpoch)
	h.settled(TxnCompleteAbort, 1, o0)

	// A late write of epoch 1 reaches orders-1, where nothing of the
	// producer is open: the leader asks to add orders-1 for epoch 1, the
	// coordinator is at 2 and says PRODUCER_FENCED, which the producer hears
	// as INVALID_PRODUCER_EPOCH. Nothing is written.
	pr = h.txnProduce(h.a, o1, pid, 1, 0, 1)
	assert.Equal(t, ErrInvalidProducerEpoch, pr.Error)
	assert.Zero(t, h.leaderLog(o1).LEO())
	assert.Len(t, h.traced(h.c.Leader(o1), event.TxnVerifyRefused, nil), 1)
	assert.Equal(t, TxnCompleteAbort, h.states(2)[len(h.states(2))-1], "the coordinator wrote nothing")

	// The current epoch starts the next transaction there, at sequence 0.
	pr = h.txnProduce(h.a, o1, pid, 2, 0, 1)
	require.Equal(t, ErrNone, pr.Error)
	assert.Equal(t, []PartitionID{o1}, h.entries(2)[len(h.entries(2))-1].Partitions)
}

// TestStoryFenceBumpsTwiceWithV2: a new instance's InitProducerId fences
// an open transaction. With transaction.version 2 the fence bumps the
// epoch (PrepareEpochFence) and the abort bumps it again, so the markers
// carry epoch+2 and the new instance gets epoch+3.
func TestStoryFenceBumpsTwiceWithV2(t *testing.T) {
	h := newTxnHarness(t, DefaultConfig())
	init := h.initPID(h.a, 2, txnTimeoutMs)
	pid := init.ProducerID
	require.Equal(t, ErrNone, h.txnProduce(h.a, h.orders[0], pid, 0, 0, 1).Error)

	b := h.addClient("client-b")
	r := h.initPID(b, 2, txnTimeoutMs)
	assert.Equal(t, ErrConcurrentTransactions, r.Error, "the open transaction is aborted first")
	h.settled(TxnCompleteAbort, 1, h.orders[0])
	m := markers(h.leaderLog(h.orders[0]))
	require.Len(t, m, 1)
	assert.Equal(t, MarkerAbort, m[0].Marker)
	assert.Equal(t, int16(2), m[0].ProducerEpoch)
	r = h.initPID(b, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, r.Error)
	assert.Equal(t, pid, r.ProducerID)
	assert.Equal(t, int16(3), r.Epoch)

	// The old instance is fenced at the partition and at the coordinator.
	assert.Equal(t, ErrInvalidProducerEpoch, h.txnProduce(h.a, h.orders[0], pid, 0, 1, 1).Error)
	assert.Equal(t, ErrProducerFenced, h.endTxn(h.a, 2, pid, 0, true).Error)
}

// TestStoryVerificationV1: with transaction.version 1 the producer adds
// partitions itself, and with transaction.partition.verification.enable
// (KIP-890 part 1) a leader refuses a transactional write to a partition
// the coordinator does not count in the transaction, instead of opening a
// transaction nobody will end. Without verification it is appended.
func TestStoryVerificationV1(t *testing.T) {
	for _, tc := range []struct {
		name   string
		verify bool
		want   Error
	}{
		{"verification on", true, ErrTransactionAbortable},
		{"verification off", false, ErrNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tv1Config()
			cfg.TransactionPartitionVerification = tc.verify
			h := newTxnHarness(t, cfg)
			pid := h.initPID(h.a, 2, txnTimeoutMs).ProducerID
			require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, h.orders[0]).Error)

			assert.Equal(t, ErrNone, h.txnProduce(h.a, h.orders[0], pid, 0, 0, 1).Error, "added: verified")
			pr := h.txnProduce(h.a, h.orders[1], pid, 0, 0, 1)
			assert.Equal(t, tc.want, pr.Error, "orders-1 was never added")
			if tc.verify {
				assert.Zero(t, h.leaderLog(h.orders[1]).LEO())
			} else {
				assert.Equal(t, int64(0), h.leaderLog(h.orders[1]).LastStableOffset(), "a transaction no marker will end")
			}
			assert.Len(t, h.entries(2), 2, "verification writes nothing")
		})
	}
}
