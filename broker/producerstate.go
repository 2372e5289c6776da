package broker

import (
	"math"
	"slices"

	"github.com/kafkasim/kafkasim/sim"
)

// batchesToRetain is how many batches per producer a partition remembers for
// duplicate detection (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). It is why
// an idempotent producer may have at most 5 requests in flight.
const batchesToRetain = 5

type cachedBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
}

// producerEntry is a partition's memory of one producer id
// (ProducerStateEntry): its epoch and its last few batches, oldest first.
type producerEntry struct {
	epoch   int16
	batches []cachedBatch
	// coordinatorEpoch is the newest transaction coordinator epoch seen in
	// a marker: markers from an older coordinator are refused.
	coordinatorEpoch int32
	// lastTimestamp is the timestamp of the producer's last batch or
	// marker; inTxn says a transaction of it is open here
	// (currentTxnFirstOffset). Both decide when the entry expires.
	lastTimestamp sim.Time
	inTxn         bool
}

// lastSeq is the last sequence appended in the current epoch, or -1 when
// the epoch has none yet (a marker started it), so the next batch must
// start at 0.
func (e *producerEntry) lastSeq() int32 {
	if len(e.batches) == 0 {
		return -1
	}
	return e.batches[len(e.batches)-1].lastSeq
}

func (e *producerEntry) add(epoch int16, b cachedBatch) {
	if epoch != e.epoch {
		e.epoch = epoch
		e.batches = e.batches[:0]
	}
	if len(e.batches) == batchesToRetain {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:batchesToRetain-1]
	}
	e.batches = append(e.batches, b)
}

// producerStates is a replica's producer-state map. It is only ever looked up
// by producer id, never iterated, so map order cannot leak into behaviour.
type producerStates struct {
	m map[int64]*producerEntry
	// guards are the verifications under way, by producer id
	// (VerificationStateEntry): a transactional write waiting for the
	// coordinator may be appended only while its guard is still here.
	// Any transactional batch or marker of the producer removes it.
	guards    map[int64]uint64
	lastGuard uint64
}

// ongoingTxn reports whether producer pid has a transaction open here in
// epoch epoch (UnifiedLog.hasOngoingTransaction): its next transactional
// write needs no verification.
func (s *producerStates) ongoingTxn(pid int64, epoch int16) bool {
	e := s.m[pid]
	return e != nil && e.inTxn && e.epoch == epoch
}

// startVerification returns the guard of a verification of pid's next
// transactional write, a new one unless one is under way
// (ProducerStateManager.maybeCreateVerificationStateEntry).
func (s *producerStates) startVerification(pid int64) uint64 {
	if g, ok := s.guards[pid]; ok {
		return g
	}
	if s.guards == nil {
		s.guards = make(map[int64]uint64)
	}
	s.lastGuard++
	s.guards[pid] = s.lastGuard
	return s.lastGuard
}

// verified reports whether guard g is still pid's
// (VerificationGuard.verify): no transactional batch or marker of pid was
// appended since the verification started.
func (s *producerStates) verified(pid int64, g uint64) bool {
	cur, ok := s.guards[pid]
	return ok && cur == g
}

// appendCheck is the outcome of validating a client batch against the
// producer state (UnifiedLog.analyzeAndValidateProducerState and
// ProducerAppendInfo).
type appendCheck struct {
	err       Error
	duplicate bool
	// For a duplicate: the offsets the batch already has.
	firstOffset, lastOffset int64
}

// check validates a batch from a producer before a leader appends it.
// The order follows Kafka: duplicate detection first (same epoch, same
// sequence range as one of the retained batches), then the epoch, then the
// sequence.
func (s *producerStates) check(pid int64, epoch int16, firstSeq, lastSeq int32) appendCheck {
	if pid < 0 {
		return appendCheck{}
	}
	e := s.m[pid]
	if e == nil {
		// No state for this producer id (new, or its batches were truncated
		// away): any sequence is accepted (KAFKA-8710, Kafka 2.5+).
		return appendCheck{}
	}
	if epoch == e.epoch {
		for _, b := range e.batches {
			if b.firstSeq == firstSeq && b.lastSeq == lastSeq {
				return appendCheck{duplicate: true, firstOffset: b.firstOffset, lastOffset: b.lastOffset}
			}
		}
	}
	if epoch < e.epoch {
		return appendCheck{err: ErrInvalidProducerEpoch}
	}
	if epoch != e.epoch {
		// A bumped epoch must start again at sequence 0.
		if firstSeq != 0 {
			return appendCheck{err: ErrOutOfOrderSequenceNumber}
		}
		return appendCheck{}
	}
	if !inSequence(e.lastSeq(), firstSeq) {
		// A gap, or an old batch that fell out of the 5-batch window.
		return appendCheck{err: ErrOutOfOrderSequenceNumber}
	}
	return appendCheck{}
}

// inSequence reports whether next follows last, wrapping at MaxInt32
// (ProducerAppendInfo.inSequence).
func inSequence(last, next int32) bool {
	return next == last+1 || (next == 0 && last == math.MaxInt32)
}

// checkMarker validates a transaction marker before a leader appends it
// (ProducerAppendInfo.appendEndTxnMarker): its epoch may not be older than
// the producer's, nor its coordinator epoch older than the last marker's.
func (s *producerStates) checkMarker(pid int64, epoch int16, coordinatorEpoch int32) Error {
	e := s.m[pid]
	switch {
	case e == nil:
		return ErrNone
	case epoch < e.epoch:
		return ErrInvalidProducerEpoch
	case coordinatorEpoch < e.coordinatorEpoch:
		return ErrTransactionCoordinatorFenced
	}
	return ErrNone
}

// update records an appended batch, from a client or from replication.
func (s *producerStates) update(b *LogBatch) {
	if b.ProducerID < 0 {
		return
	}
	if s.m == nil {
		s.m = make(map[int64]*producerEntry)
	}
	e := s.m[b.ProducerID]
	if e == nil {
		e = &producerEntry{epoch: b.ProducerEpoch, batches: make([]cachedBatch, 0, batchesToRetain)}
		s.m[b.ProducerID] = e
	}
	e.lastTimestamp = max(e.lastTimestamp, b.Timestamp)
	if b.Transactional || b.IsControl() {
		// Either the transaction is complete or it has a first offset
		// (UnifiedLog.updateProducers clears the VerificationStateEntry).
		delete(s.guards, b.ProducerID)
	}
	if b.IsControl() {
		// A marker ends the producer's transaction here and may carry a
		// bumped epoch (a fenced or timed-out producer): the partition
		// then refuses the old epoch.
		if b.ProducerEpoch != e.epoch {
			e.epoch = b.ProducerEpoch
			e.batches = e.batches[:0]
		}
		e.coordinatorEpoch = max(e.coordinatorEpoch, b.CoordinatorEpoch)
		e.inTxn = false
		return
	}
	e.inTxn = e.inTxn || b.Transactional
	e.add(b.ProducerEpoch, cachedBatch{
		firstSeq: b.BaseSequence, lastSeq: b.LastSequence(),
		firstOffset: b.BaseOffset, lastOffset: b.LastOffset(),
	})
}

// rebuild recomputes the state from the log, as Kafka reloads producer state
// from snapshots and the log after a truncation or a restart, leaving out
// the producers already expired at now (ProducerStateManager.loadFromSnapshot
// filters them with isProducerExpired).
func (s *producerStates) rebuild(l *Log, now, expiration sim.Time) {
	s.m, s.guards = nil, nil
	for i := range l.batches {
		s.update(&l.batches[i])
	}
	s.expire(now, expiration)
}

// expire forgets every producer id with no open transaction whose last
// batch is at least expiration old (ProducerStateManager.removeExpiredProducers,
// isProducerExpired), and returns their ids, sorted. A later batch from
// such a producer finds no state, so any sequence is accepted: the
// duplicates it would have caught are appended.
func (s *producerStates) expire(now, expiration sim.Time) []int64 {
	var gone []int64
	for pid, e := range s.m {
		if !e.inTxn && now-e.lastTimestamp >= expiration {
			gone = append(gone, pid)
		}
	}
	slices.Sort(gone) // the map's order must not reach the trace
	for _, pid := range gone {
		delete(s.m, pid)
	}
	return gone
}
