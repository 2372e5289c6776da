package producer

import (
	"math"
	"slices"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// seqState is one partition's sequence bookkeeping (TxnPartitionEntry).
type seqState struct {
	pid       int64 // producer id and epoch the partition's sequences belong to
	epoch     int16
	nextSeq   int32
	lastAcked int32 // last sequence of the last acknowledged batch, -1 none
	// inflight holds the drained, unfinished batches by sequence. Retried
	// batches stay here while they wait in the queue.
	inflight []*Batch
	// unresolved is set when a batch expired after being sent at least
	// twice: whether the broker has it is unknown until the others finish.
	unresolved     bool
	unresolvedNext int32
}

// idempotence is the idempotent producer's state (the non-transactional
// paths of TransactionManager).
type idempotence struct {
	pid          int64 // -1 until InitProducerId answers
	epoch        int16
	initInflight bool
	parts        []seqState
	bumpRequired bool
	toRewrite    []broker.PartitionID
	// initRetryAt is when an InitProducerId that failed with a retriable
	// error may go again (retry.backoff.ms, as TxnRequestHandler.reenqueue).
	initRetryAt sim.Time
	// fatal is the error that put a non-transactional idempotent producer
	// in its fatal state (TransactionManager.transitionToFatalError): every
	// batch fails with it, and so does every send.
	fatal broker.Error
}

func newIdempotence() *idempotence { return &idempotence{pid: -1} }

func (s *idempotence) grow(n int) {
	for len(s.parts) < n {
		s.parts = append(s.parts, seqState{pid: -1, lastAcked: -1})
	}
}

func (s *idempotence) valid() bool { return s.pid >= 0 }

func (s *idempotence) stale(p broker.PartitionID) bool {
	e := &s.parts[p]
	return e.pid != s.pid || e.epoch != s.epoch
}

// maybeUpdateProducerIDAndEpoch moves a partition to the current producer id
// and epoch, restarting its sequence at 0, once its old batches are done.
func (s *idempotence) maybeUpdateProducerIDAndEpoch(p broker.PartitionID) {
	if s.stale(p) && len(s.parts[p].inflight) == 0 {
		s.startSequencesAtBeginning(p)
	}
}

// startSequencesAtBeginning renumbers a partition's in-flight batches from
// 0 under the current id and epoch (TxnPartitionEntry.startSequencesAtBeginning).
func (s *idempotence) startSequencesAtBeginning(p broker.PartitionID) {
	e := &s.parts[p]
	seq := int32(0)
	for _, b := range e.inflight {
		b.ProducerID, b.ProducerEpoch, b.BaseSequence = s.pid, s.epoch, seq
		b.seqReset = true
		seq += int32(len(b.Records))
	}
	e.pid, e.epoch = s.pid, s.epoch
	e.nextSeq = seq
	e.lastAcked = -1
}

// assign gives a newly drained batch its producer id, epoch and sequence
// (RecordAccumulator.drainBatchesForOneNode) and tracks it as in flight.
func (s *idempotence) assign(b *Batch) {
	s.maybeUpdateProducerIDAndEpoch(b.Partition)
	e := &s.parts[b.Partition]
	b.ProducerID, b.ProducerEpoch, b.BaseSequence = s.pid, s.epoch, e.nextSeq
	e.nextSeq = incrementSequence(e.nextSeq, int32(len(b.Records)))
	s.addInflight(b)
}

// incrementSequence wraps at Integer.MAX_VALUE (DefaultRecordBatch.incrementSequence).
func incrementSequence(seq, n int32) int32 {
	if seq > math.MaxInt32-n {
		return n - (math.MaxInt32 - seq) - 1
	}
	return seq + n
}

func batchOrder(a, b *Batch) int {
	switch {
	case a.ProducerID != b.ProducerID:
		return cmpInt(a.ProducerID, b.ProducerID)
	case a.ProducerEpoch != b.ProducerEpoch:
		return cmpInt(int64(a.ProducerEpoch), int64(b.ProducerEpoch))
	}
	return cmpInt(int64(a.BaseSequence), int64(b.BaseSequence))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *idempotence) addInflight(b *Batch) {
	e := &s.parts[b.Partition]
	i, _ := slices.BinarySearchFunc(e.inflight, b, batchOrder)
	e.inflight = slices.Insert(e.inflight, i, b)
}

func (s *idempotence) removeInflight(b *Batch) {
	e := &s.parts[b.Partition]
	if i := slices.Index(e.inflight, b); i >= 0 {
		e.inflight = slices.Delete(e.inflight, i, i+1)
	}
}

// firstInflightSequence is the lowest sequence in flight, or -1.
func (s *idempotence) firstInflightSequence(p broker.PartitionID) int32 {
	if e := &s.parts[p]; len(e.inflight) > 0 {
		return e.inflight[0].BaseSequence
	}
	return -1
}

// shouldStopDrain is RecordAccumulator.shouldStopDrainBatchesForPartition for
// the idempotent producer: nothing drains without a producer id; a new
// batch waits while older-epoch batches are in flight or sequences are
// unresolved; a retried batch drains only when it is the lowest in flight,
// which cuts the partition to one request in flight while retrying.
func (s *idempotence) shouldStopDrain(first *Batch) bool {
	if !s.valid() {
		return true
	}
	p := first.Partition
	e := &s.parts[p]
	if !first.hasSequence() {
		if len(e.inflight) > 0 && s.stale(p) {
			return true
		}
		if e.unresolved {
			return true
		}
	}
	firstSeq := s.firstInflightSequence(p)
	return firstSeq >= 0 && first.hasSequence() && first.BaseSequence != firstSeq
}

func (s *idempotence) handleCompletedBatch(b *Batch) {
	e := &s.parts[b.Partition]
	e.lastAcked = max(e.lastAcked, b.LastSequence())
	s.removeInflight(b)
}

// handleFailedBatch is TransactionManager.handleFailedBatch for the
// idempotent producer: an OUT_OF_ORDER_SEQUENCE_NUMBER, or any failure that
// leaves sequences in doubt, asks for an epoch bump.
func (s *idempotence) handleFailedBatch(b *Batch, err broker.Error, adjustSequences bool) {
	s.removeInflight(b)
	switch {
	case err == broker.ErrOutOfOrderSequenceNumber:
		s.requestEpochBump(b.Partition)
	case err == broker.ErrUnknownProducerID:
		s.parts[b.Partition] = seqState{pid: -1, lastAcked: -1}
	case adjustSequences:
		s.requestEpochBump(b.Partition)
	}
}

func (s *idempotence) requestEpochBump(p broker.PartitionID) {
	s.bumpRequired = true
	if !slices.Contains(s.toRewrite, p) {
		s.toRewrite = append(s.toRewrite, p)
	}
}

func (s *idempotence) markUnresolved(b *Batch) {
	e := &s.parts[b.Partition]
	next := b.LastSequence() + 1
	if !e.unresolved || next > e.unresolvedNext {
		e.unresolvedNext = next
	}
	e.unresolved = true
}

func (s *idempotence) isNextSequence(p broker.PartitionID, seq int32) bool {
	return seq-s.parts[p].lastAcked == 1
}

// maybeResolveSequences settles partitions whose expired batches left the
// sequence in doubt, once nothing is in flight: if the last acknowledged
// sequence meets the next one, all is well; otherwise bump the epoch.
func (s *idempotence) maybeResolveSequences() {
	for p := range s.parts {
		e := &s.parts[p]
		if !e.unresolved || len(e.inflight) > 0 {
			continue
		}
		if !s.isNextSequence(broker.PartitionID(p), e.nextSeq) {
			s.requestEpochBump(broker.PartitionID(p))
		}
		e.unresolved = false
	}
}

// bumpEpochIfNeeded is bumpIdempotentEpochAndResetIdIfNeeded: bump the epoch
// locally (a new producer id once the epoch is exhausted) and renumber the
// partitions that asked for it. It reports whether a new id is needed.
func (s *idempotence) bumpEpochIfNeeded() (bumped bool) {
	if !s.bumpRequired {
		return false
	}
	if s.epoch == math.MaxInt16 {
		s.pid, s.epoch = -1, 0
	} else {
		s.epoch++
	}
	for _, p := range s.toRewrite {
		s.startSequencesAtBeginning(p)
		s.parts[p].unresolved = false
	}
	s.toRewrite = s.toRewrite[:0]
	s.bumpRequired = false
	return true
}

// canRetry is TransactionManager.canRetry for the idempotent producer.
func (s *idempotence) canRetry(err broker.Error, b *Batch) bool {
	p := b.Partition
	e := &s.parts[p]
	switch err {
	case broker.ErrUnknownProducerID:
		s.requestEpochBump(p)
		return true
	case broker.ErrOutOfOrderSequenceNumber:
		if !e.unresolved && (b.seqReset || !s.isNextSequence(p, b.BaseSequence)) {
			// Not the next batch: it failed only because an earlier one did.
			return true
		}
		// A real gap, or the batch after an unresolved one: bump and retry.
		if !e.unresolved || b.BaseSequence == e.unresolvedNext {
			s.requestEpochBump(p)
		}
		return true
	}
	return err.Retriable()
}
