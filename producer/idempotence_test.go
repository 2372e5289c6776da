package producer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
)

// newTestIdem is an idempotent producer that has its producer id (1000,
// epoch 0) and knows parts partitions.
func newTestIdem(parts int) *idempotence {
	s := newIdempotence()
	s.pid, s.epoch = 1000, 0
	s.grow(parts)
	return s
}

// newSeqBatch is a queued batch that has not been drained yet.
func newSeqBatch(p broker.PartitionID, records int) *Batch {
	return &Batch{Partition: p, Records: make([]broker.RecordID, records), BaseSequence: -1, ProducerID: -1}
}

// assignAll drains batches in order, as RecordAccumulator.drain does.
func assignAll(s *idempotence, batches ...*Batch) {
	for _, b := range batches {
		s.assign(b)
	}
}

// TestAssignSequences: at drain, a batch gets the producer id and epoch
// and baseSequence = nextSequence, which then grows by the record count,
// per partition (RecordAccumulator.drainBatchesForOneNode,
// TransactionManager.incrementSequenceNumber; reference §4).
func TestAssignSequences(t *testing.T) {
	s := newTestIdem(2)
	b0, b1, b2 := newSeqBatch(0, 3), newSeqBatch(0, 2), newSeqBatch(0, 5)
	other := newSeqBatch(1, 4)
	assignAll(s, b0, other, b1, b2)

	for i, tt := range []struct {
		b    *Batch
		base int32
	}{{b0, 0}, {b1, 3}, {b2, 5}, {other, 0}} {
		assert.Equal(t, tt.base, tt.b.BaseSequence, "batch %d", i)
		assert.Equal(t, int64(1000), tt.b.ProducerID, "batch %d", i)
		assert.Equal(t, int16(0), tt.b.ProducerEpoch, "batch %d", i)
	}
	assert.Equal(t, int32(10), s.parts[0].nextSeq)
	assert.Equal(t, int32(4), s.parts[1].nextSeq, "sequences are per partition")
	assert.Equal(t, []*Batch{b0, b1, b2}, s.parts[0].inflight)
	assert.Equal(t, int32(0), s.firstInflightSequence(0))
	assert.Equal(t, int32(-1), s.parts[0].lastAcked)
}

// TestHandleCompletedBatch: lastAckedSequence only grows
// (maybeUpdateLastAckedSequence), even when responses come back out of
// order, and the batch leaves the in-flight set.
func TestHandleCompletedBatch(t *testing.T) {
	s := newTestIdem(1)
	b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
	assignAll(s, b0, b1)

	s.handleCompletedBatch(b1)
	assert.Equal(t, int32(4), s.parts[0].lastAcked)
	s.handleCompletedBatch(b0)
	assert.Equal(t, int32(4), s.parts[0].lastAcked, "not lowered by the earlier batch")
	assert.Empty(t, s.parts[0].inflight)
	assert.Equal(t, int32(-1), s.firstInflightSequence(0))
}

// TestShouldStopDrain: RecordAccumulator.shouldStopDrainBatchesForPartition
// (fact 39). While retrying, only the batch with the lowest in-flight
// sequence may drain, which "effectively reduces our in flight request
// count to 1"; new batches wait while sequences are unresolved or older
// epochs are in flight; nothing drains without a producer id.
func TestShouldStopDrain(t *testing.T) {
	t.Run("retry drains lowest sequence only", func(t *testing.T) {
		s := newTestIdem(1)
		b0, b1, b2 := newSeqBatch(0, 3), newSeqBatch(0, 2), newSeqBatch(0, 5)
		assignAll(s, b0, b1, b2)
		// b0 and b1 failed and wait in the queue; they stay in flight for
		// the transaction manager.
		assert.False(t, s.shouldStopDrain(b0))
		assert.True(t, s.shouldStopDrain(b1))
		assert.True(t, s.shouldStopDrain(b2))

		s.handleCompletedBatch(b0)
		assert.False(t, s.shouldStopDrain(b1), "b1 is now the lowest in flight")
		assert.True(t, s.shouldStopDrain(b2))
	})
	t.Run("new batch pipelines behind in-flight ones", func(t *testing.T) {
		s := newTestIdem(1)
		assignAll(s, newSeqBatch(0, 3), newSeqBatch(0, 2))
		assert.False(t, s.shouldStopDrain(newSeqBatch(0, 1)))
	})
	t.Run("no producer id", func(t *testing.T) {
		s := newTestIdem(1)
		b := newSeqBatch(0, 1)
		s.assign(b)
		s.pid = -1
		assert.True(t, s.shouldStopDrain(b))
		assert.True(t, s.shouldStopDrain(newSeqBatch(0, 1)))
	})
	t.Run("new batch waits for older epoch in flight", func(t *testing.T) {
		s := newTestIdem(1)
		old := newSeqBatch(0, 3)
		s.assign(old)
		s.epoch++ // bumped for another partition: this one is stale
		fresh := newSeqBatch(0, 1)
		assert.True(t, s.shouldStopDrain(fresh))
		assert.False(t, s.shouldStopDrain(old), "the old batch may still be retried")

		s.handleCompletedBatch(old)
		assert.False(t, s.shouldStopDrain(fresh))
		s.assign(fresh)
		assert.Equal(t, int32(0), fresh.BaseSequence, "the new epoch starts at 0")
		assert.Equal(t, int16(1), fresh.ProducerEpoch)
	})
	t.Run("new batch waits while unresolved", func(t *testing.T) {
		s := newTestIdem(1)
		b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
		assignAll(s, b0, b1)
		s.handleFailedBatch(b0, broker.ErrTimeout, false)
		s.markUnresolved(b0)
		assert.True(t, s.shouldStopDrain(newSeqBatch(0, 1)))
		assert.False(t, s.shouldStopDrain(b1), "a retried batch is not held by unresolved sequences")
	})
}

// TestEpochBumpRewritesInflight: an OUT_OF_ORDER_SEQUENCE_NUMBER failure of
// the idempotent producer requests an epoch bump for its partition
// (TransactionManager.handleFailedBatch); bumpIdempotentEpochAndResetIdIfNeeded
// then increments the epoch and renumbers the partition's remaining
// in-flight batches from 0 (TxnPartitionEntry.startSequencesAtBeginning;
// fact 39).
func TestEpochBumpRewritesInflight(t *testing.T) {
	s := newTestIdem(2)
	b0, b1, b2, b3 := newSeqBatch(0, 3), newSeqBatch(0, 2), newSeqBatch(0, 5), newSeqBatch(0, 1)
	untouched := newSeqBatch(1, 4)
	assignAll(s, b0, b1, b2, b3, untouched) // partition 0: 0-2, 3-4, 5-9, 10
	s.handleCompletedBatch(b0)              // lastAcked 2

	s.handleFailedBatch(b1, broker.ErrOutOfOrderSequenceNumber, false)
	require.True(t, s.bumpRequired)
	require.Equal(t, []broker.PartitionID{0}, s.toRewrite)
	assert.Equal(t, int16(0), s.epoch, "nothing changes before the sender runs")

	assert.True(t, s.bumpEpochIfNeeded())
	assert.Equal(t, int16(1), s.epoch)
	assert.Equal(t, int64(1000), s.pid, "a local bump keeps the producer id")
	for i, tt := range []struct {
		b    *Batch
		base int32
	}{{b2, 0}, {b3, 5}} {
		assert.Equal(t, tt.base, tt.b.BaseSequence, "batch %d", i)
		assert.Equal(t, int16(1), tt.b.ProducerEpoch, "batch %d", i)
		assert.True(t, tt.b.seqReset, "batch %d", i)
	}
	assert.Equal(t, int32(6), s.parts[0].nextSeq)
	assert.Equal(t, int32(-1), s.parts[0].lastAcked, "nothing acknowledged in the new epoch")
	assert.False(t, s.bumpRequired)
	assert.Empty(t, s.toRewrite)
	assert.False(t, s.bumpEpochIfNeeded(), "one request, one bump")
	assert.Equal(t, int16(1), s.epoch)

	// Partition 1 was not rewritten: its batch keeps epoch 0 and sequence
	// 0, and the partition moves to epoch 1 once that batch is done.
	assert.Equal(t, int16(0), untouched.ProducerEpoch)
	assert.True(t, s.stale(1))
	s.handleCompletedBatch(untouched)
	next := newSeqBatch(1, 1)
	s.assign(next)
	assert.Equal(t, int32(0), next.BaseSequence)
	assert.Equal(t, int16(1), next.ProducerEpoch)
}

// TestEpochBumpAtMaxEpoch: at Short.MAX_VALUE the epoch cannot grow, so
// the producer id is reset and InitProducerId must run again
// (bumpIdempotentProducerEpoch -> resetIdempotentProducerId).
func TestEpochBumpAtMaxEpoch(t *testing.T) {
	s := newTestIdem(1)
	s.epoch = math.MaxInt16
	s.requestEpochBump(0)
	assert.True(t, s.bumpEpochIfNeeded())
	assert.False(t, s.valid())
	assert.True(t, s.shouldStopDrain(newSeqBatch(0, 1)), "nothing drains until a new id arrives")
}

// TestHandleFailedBatch: which failures ask for an epoch bump
// (TransactionManager.handleFailedBatch, idempotent branch).
func TestHandleFailedBatch(t *testing.T) {
	tests := []struct {
		name   string
		err    broker.Error
		adjust bool // adjustSequenceNumbers: attempts < retries
		bump   bool
	}{
		{"out of order sequence", broker.ErrOutOfOrderSequenceNumber, false, true},
		{"other failure, sequences to adjust", broker.ErrMessageTooLarge, true, true},
		{"other failure, retries exhausted", broker.ErrMessageTooLarge, false, false},
		{"delivery timeout", broker.ErrTimeout, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestIdem(1)
			b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
			assignAll(s, b0, b1)
			s.handleFailedBatch(b0, tt.err, tt.adjust)
			assert.Equal(t, tt.bump, s.bumpRequired)
			assert.Equal(t, []*Batch{b1}, s.parts[0].inflight, "the failed batch leaves the in-flight set")
		})
	}
}

// TestHandleFailedUnknownProducerID: UNKNOWN_PRODUCER_ID resets the
// partition's sequence (resetSequenceForPartition): the next batch starts
// at 0.
func TestHandleFailedUnknownProducerID(t *testing.T) {
	s := newTestIdem(1)
	b0 := newSeqBatch(0, 3)
	s.assign(b0)
	s.handleFailedBatch(b0, broker.ErrUnknownProducerID, false)
	assert.False(t, s.bumpRequired)
	next := newSeqBatch(0, 2)
	s.assign(next)
	assert.Equal(t, int32(0), next.BaseSequence)
}

// TestMaybeResolveSequences: once nothing is in flight for a partition
// with unresolved sequences (a batch expired after a retry), the partition
// is fine if lastAcked + 1 == nextSequence and needs an epoch bump
// otherwise (TransactionManager.maybeResolveSequences, KIP-360).
func TestMaybeResolveSequences(t *testing.T) {
	t.Run("gap: bump", func(t *testing.T) {
		s := newTestIdem(1)
		b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
		assignAll(s, b0, b1)
		s.handleCompletedBatch(b0) // lastAcked 2
		s.handleFailedBatch(b1, broker.ErrTimeout, false)
		s.markUnresolved(b1) // nextSeq 5: 3 and 4 in doubt

		s.maybeResolveSequences()
		assert.True(t, s.bumpRequired)
		assert.Equal(t, []broker.PartitionID{0}, s.toRewrite)
		assert.False(t, s.parts[0].unresolved)

		require.True(t, s.bumpEpochIfNeeded())
		next := newSeqBatch(0, 1)
		s.assign(next)
		assert.Equal(t, int32(0), next.BaseSequence)
		assert.Equal(t, int16(1), next.ProducerEpoch)
	})
	t.Run("later batch acked: resolved without bump", func(t *testing.T) {
		s := newTestIdem(1)
		b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
		assignAll(s, b0, b1)
		s.handleFailedBatch(b0, broker.ErrTimeout, false)
		s.markUnresolved(b0)
		s.handleCompletedBatch(b1) // lastAcked 4 = nextSeq - 1: the broker had b0

		s.maybeResolveSequences()
		assert.False(t, s.bumpRequired)
		assert.False(t, s.parts[0].unresolved)
		assert.False(t, s.shouldStopDrain(newSeqBatch(0, 1)), "new batches flow again")
	})
	t.Run("still in flight: wait", func(t *testing.T) {
		s := newTestIdem(1)
		b0, b1 := newSeqBatch(0, 3), newSeqBatch(0, 2)
		assignAll(s, b0, b1)
		s.handleFailedBatch(b0, broker.ErrTimeout, false)
		s.markUnresolved(b0)

		s.maybeResolveSequences()
		assert.False(t, s.bumpRequired)
		assert.True(t, s.parts[0].unresolved)
	})
}

// TestCanRetryOutOfOrderSequence: TransactionManager.canRetry for the
// idempotent producer. An OUT_OF_ORDER_SEQUENCE_NUMBER on a batch that is
// not lastAcked + 1 only follows an earlier failure: retry without a bump.
// On the next batch it is a real gap: retry after an epoch bump. With
// unresolved sequences, only the batch right after them bumps.
func TestCanRetryOutOfOrderSequence(t *testing.T) {
	setup := func() (*idempotence, []*Batch) {
		s := newTestIdem(1)
		bs := []*Batch{newSeqBatch(0, 3), newSeqBatch(0, 2), newSeqBatch(0, 5)} // 0-2, 3-4, 5-9
		assignAll(s, bs...)
		return s, bs
	}
	t.Run("not the next batch", func(t *testing.T) {
		s, bs := setup()
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[1]))
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[2]))
		assert.False(t, s.bumpRequired)
	})
	t.Run("the next batch: a gap", func(t *testing.T) {
		s, bs := setup()
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[0]))
		assert.True(t, s.bumpRequired)
		assert.Equal(t, []broker.PartitionID{0}, s.toRewrite)
	})
	t.Run("next batch after a sequence reset", func(t *testing.T) {
		s, bs := setup()
		s.handleFailedBatch(bs[0], broker.ErrOutOfOrderSequenceNumber, false)
		require.True(t, s.bumpEpochIfNeeded())
		require.Equal(t, int32(0), bs[1].BaseSequence)
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[1]))
		assert.False(t, s.bumpRequired, "sequenceHasBeenReset: no second bump")
	})
	t.Run("unresolved: only the batch right after bumps", func(t *testing.T) {
		s, bs := setup()
		s.handleFailedBatch(bs[0], broker.ErrTimeout, false)
		s.markUnresolved(bs[0]) // unresolved up to 3
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[2]))
		assert.False(t, s.bumpRequired)
		assert.True(t, s.canRetry(broker.ErrOutOfOrderSequenceNumber, bs[1]))
		assert.True(t, s.bumpRequired)

		// The bump settles the doubt: the partition restarts at 0
		// (partitionsWithUnresolvedSequences.remove).
		require.True(t, s.bumpEpochIfNeeded())
		assert.False(t, s.parts[0].unresolved)
		assert.False(t, s.shouldStopDrain(newSeqBatch(0, 1)))
	})
}

// TestCanRetryOtherErrors: apart from the sequence errors, an idempotent
// producer retries exactly the RetriableException subclasses (fact 17);
// UNKNOWN_PRODUCER_ID is retried after an epoch bump.
func TestCanRetryOtherErrors(t *testing.T) {
	tests := []struct {
		err   broker.Error
		retry bool
		bump  bool
	}{
		{broker.ErrNotLeaderOrFollower, true, false},
		{broker.ErrNotEnoughReplicas, true, false},
		{broker.ErrNotEnoughReplicasAfterAppend, true, false},
		{broker.ErrRequestTimedOut, true, false},
		{broker.ErrMessageTooLarge, false, false},
		{broker.ErrInvalidProducerEpoch, false, false},
		{broker.ErrUnknownProducerID, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.err.String(), func(t *testing.T) {
			s := newTestIdem(1)
			b := newSeqBatch(0, 1)
			s.assign(b)
			assert.Equal(t, tt.retry, s.canRetry(tt.err, b))
			assert.Equal(t, tt.bump, s.bumpRequired)
		})
	}
}

// TestIncrementSequence: sequences wrap from Integer.MAX_VALUE to 0
// (DefaultRecordBatch.incrementSequence; reference §4).
func TestIncrementSequence(t *testing.T) {
	tests := []struct {
		seq, n, want int32
	}{
		{0, 5, 5},
		{100, 1, 101},
		{math.MaxInt32 - 5, 5, math.MaxInt32},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32 - 2, 5, 2}, // MAX-2, MAX-1, MAX, 0, 1 -> next 2
		{math.MaxInt32, math.MaxInt32, math.MaxInt32 - 1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, incrementSequence(tt.seq, tt.n), "incrementSequence(%d, %d)", tt.seq, tt.n)
	}
}

// TestAssignWrapsSequence: a partition whose next sequence is near
// Integer.MAX_VALUE wraps to 0 for the following batch.
func TestAssignWrapsSequence(t *testing.T) {
	s := newTestIdem(1)
	s.assign(newSeqBatch(0, 1)) // the partition now runs under this pid/epoch
	s.parts[0].nextSeq = math.MaxInt32 - 1
	b := newSeqBatch(0, 3)
	s.assign(b)
	assert.Equal(t, int32(math.MaxInt32-1), b.BaseSequence)
	assert.Equal(t, int32(1), s.parts[0].nextSeq)
}

// TestInflightOrder: the in-flight set is ordered by producer id, epoch and
// base sequence (TxnPartitionEntry.PRODUCER_BATCH_COMPARATOR), whatever the
// insertion order.
func TestInflightOrder(t *testing.T) {
	s := newTestIdem(1)
	mk := func(pid int64, epoch int16, seq int32) *Batch {
		return &Batch{Partition: 0, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Records: make([]broker.RecordID, 1)}
	}
	a, b, c, d := mk(1000, 0, 7), mk(1000, 1, 0), mk(1000, 0, 2), mk(999, 5, 9)
	for _, x := range []*Batch{a, b, c, d} {
		s.addInflight(x)
	}
	assert.Equal(t, []*Batch{d, c, a, b}, s.parts[0].inflight)
	s.removeInflight(c)
	assert.Equal(t, []*Batch{d, a, b}, s.parts[0].inflight)
}
