package broker

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

const testPID = 1_000_007

// idemLog is a leader log with the producer state it keeps alongside.
type idemLog struct {
	log Log
	ps  producerStates
}

// append appends a batch of n records the way a leader does and records it
// in the producer state.
func (l *idemLog) append(pid int64, epoch int16, seq int32, n int) LogBatch {
	b := l.log.Append(LogBatch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, make([]RecordID, n))
	l.ps.update(&b)
	return b
}

// check validates a batch of n records starting at seq, computing the last
// sequence the way Kafka does (DefaultRecordBatch.incrementSequence).
func (l *idemLog) check(pid int64, epoch int16, seq int32, n int) appendCheck {
	return l.ps.check(pid, epoch, seq, kafkaLastSeq(seq, int32(n)))
}

func kafkaLastSeq(base, count int32) int32 {
	inc := count - 1
	if base > math.MaxInt32-inc {
		return inc - (math.MaxInt32 - base) - 1
	}
	return base + inc
}

func TestProducerStateCheck(t *testing.T) {
	// A producer with epoch 3 has appended six batches of two records each:
	// sequences 0-1, 2-3, ..., 10-11 at offsets 0-1, 2-3, ..., 10-11. Only the
	// last five (sequences 2-11) are retained.
	setup := func() *idemLog {
		l := &idemLog{}
		for i := range 6 {
			l.append(testPID, 3, int32(2*i), 2)
		}
		return l
	}

	tests := []struct {
		name      string
		pid       int64
		epoch     int16
		seq       int32
		n         int
		wantErr   Error
		wantDup   bool
		wantFirst int64
		wantLast  int64
	}{
		{name: "next in sequence", pid: testPID, epoch: 3, seq: 12, n: 3},
		{name: "unknown producer id: any sequence", pid: 42, epoch: 0, seq: 777, n: 1},
		{name: "non-idempotent batch", pid: -1, epoch: -1, seq: -1, n: 1},
		{name: "duplicate of the newest batch", pid: testPID, epoch: 3, seq: 10, n: 2, wantDup: true, wantFirst: 10, wantLast: 11},
		{name: "duplicate of the oldest retained batch", pid: testPID, epoch: 3, seq: 2, n: 2, wantDup: true, wantFirst: 2, wantLast: 3},
		{name: "duplicate of a middle batch", pid: testPID, epoch: 3, seq: 6, n: 2, wantDup: true, wantFirst: 6, wantLast: 7},
		{name: "batch evicted from the window is out of order", pid: testPID, epoch: 3, seq: 0, n: 2, wantErr: ErrOutOfOrderSequenceNumber},
		{name: "same first sequence, different last is out of order", pid: testPID, epoch: 3, seq: 10, n: 1, wantErr: ErrOutOfOrderSequenceNumber},
		{name: "gap is out of order", pid: testPID, epoch: 3, seq: 13, n: 1, wantErr: ErrOutOfOrderSequenceNumber},
		{name: "lower epoch is fenced", pid: testPID, epoch: 2, seq: 12, n: 1, wantErr: ErrInvalidProducerEpoch},
		{name: "lower epoch is fenced even for a retained range", pid: testPID, epoch: 2, seq: 10, n: 2, wantErr: ErrInvalidProducerEpoch},
		{name: "higher epoch starting at 0", pid: testPID, epoch: 4, seq: 0, n: 5},
		{name: "higher epoch not starting at 0", pid: testPID, epoch: 4, seq: 12, n: 1, wantErr: ErrOutOfOrderSequenceNumber},
		{name: "higher epoch with a retained range is not a duplicate", pid: testPID, epoch: 4, seq: 10, n: 2, wantErr: ErrOutOfOrderSequenceNumber},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := setup()
			got := l.check(tc.pid, tc.epoch, tc.seq, tc.n)
			assert.Equal(t, tc.wantErr, got.err, "error %v", got.err)
			assert.Equal(t, tc.wantDup, got.duplicate, "duplicate")
			if tc.wantDup {
				assert.Equal(t, tc.wantFirst, got.firstOffset)
				assert.Equal(t, tc.wantLast, got.lastOffset)
			}
		})
	}
}

func TestProducerStateWindowSlides(t *testing.T) {
	l := &idemLog{}
	for i := range batchesToRetain {
		l.append(testPID, 0, int32(i), 1)
	}
	require.True(t, l.check(testPID, 0, 0, 1).duplicate, "the first batch is still among the last five")
	l.append(testPID, 0, 5, 1)
	assert.Equal(t, ErrOutOfOrderSequenceNumber, l.check(testPID, 0, 0, 1).err, "the sixth batch evicts the first")
	assert.True(t, l.check(testPID, 0, 1, 1).duplicate)
	assert.Len(t, l.ps.m[testPID].batches, batchesToRetain)

	// A new epoch forgets the old epoch's batches.
	l.append(testPID, 1, 0, 1)
	assert.Len(t, l.ps.m[testPID].batches, 1)
	assert.Equal(t, ErrInvalidProducerEpoch, l.check(testPID, 0, 5, 1).err)
	assert.True(t, l.check(testPID, 1, 0, 1).duplicate)
	assert.Equal(t, ErrNone, l.check(testPID, 1, 1, 1).err)
}

func TestProducerStateSequenceWrapAtMax(t *testing.T) {
	// The next batch after a batch ending at MaxInt32 starts at 0.
	l := &idemLog{}
	l.append(testPID, 0, math.MaxInt32-1, 2) // MAX-1, MAX
	got := l.check(testPID, 0, 0, 3)
	assert.Equal(t, ErrNone, got.err)
	assert.False(t, got.duplicate)
	assert.Equal(t, ErrOutOfOrderSequenceNumber, l.check(testPID, 0, 1, 1).err)
	assert.True(t, l.check(testPID, 0, math.MaxInt32-1, 2).duplicate)
}

// TestProducerStateSequenceWrapInsideBatch: a batch whose sequences wrap
// inside it (MAX-1, MAX, 0) ends at sequence 0.
func TestProducerStateSequenceWrapInsideBatch(t *testing.T) {
	t.Run("next batch after a batch straddling MaxInt32", func(t *testing.T) {
		// The producer numbers a 3-record batch MAX-1, MAX, 0 and the next one
		// from 1 (producer.incrementSequence, DefaultRecordBatch.incrementSequence).
		l := &idemLog{}
		l.append(testPID, 0, math.MaxInt32-1, 3)
		got := l.check(testPID, 0, 1, 2)
		assert.Equal(t, ErrNone, got.err, "sequence 1 follows a batch ending at sequence 0, got %v", got.err)
	})
	t.Run("a batch straddling MaxInt32 is recognised as a duplicate", func(t *testing.T) {
		l := &idemLog{}
		l.append(testPID, 0, 5, 1)
		l.append(testPID, 0, math.MaxInt32-1, 3)
		got := l.check(testPID, 0, math.MaxInt32-1, 3)
		assert.True(t, got.duplicate, "got %+v", got)
	})
}

// TestProducerStateRebuild: recomputing the state from the log (restart,
// truncation) gives the state kept during appends.
func TestProducerStateRebuild(t *testing.T) {
	l := &idemLog{}
	seqA, seqB := int32(0), int32(0)
	for i := range 9 {
		l.append(testPID, 0, seqA, 2)
		seqA += 2
		if i%2 == 0 {
			l.append(testPID+1, 5, seqB, 1)
			seqB++
		}
		l.log.Append(LogBatch{ProducerID: -1, BaseSequence: -1}, make([]RecordID, 1)) // non-idempotent traffic
	}
	// Producer B bumps its epoch.
	l.append(testPID+1, 6, 0, 4)

	var rebuilt producerStates
	rebuilt.rebuild(&l.log, 0, sim.Second) // nothing is old enough to expire
	require.Equal(t, l.ps.m, rebuilt.m)

	for _, c := range []struct {
		pid   int64
		epoch int16
		seq   int32
		n     int
	}{
		{testPID, 0, seqA, 1}, {testPID, 0, seqA - 2, 2}, {testPID, 0, seqA - 10, 2}, {testPID, 0, seqA - 12, 2},
		{testPID + 1, 6, 4, 1}, {testPID + 1, 6, 0, 4}, {testPID + 1, 5, seqB, 1}, {testPID + 2, 0, 9, 1},
	} {
		want := l.ps.check(c.pid, c.epoch, c.seq, kafkaLastSeq(c.seq, int32(c.n)))
		got := rebuilt.check(c.pid, c.epoch, c.seq, kafkaLastSeq(c.seq, int32(c.n)))
		assert.Equal(t, want, got, "%+v", c)
	}

	t.Run("after a truncation", func(t *testing.T) {
		// Truncate back into producer A's fourth batch: its state must be
		// what it was after the third, and a producer whose every batch went
		// is forgotten, so any sequence is accepted (KAFKA-8710).
		cut := &idemLog{}
		for i := range 3 {
			cut.append(testPID, 0, int32(2*i), 2)
		}
		want := append([]cachedBatch{}, cut.ps.m[testPID].batches...)
		at := cut.log.LEO()
		cut.append(testPID, 0, 6, 2)
		cut.append(testPID+2, 0, 0, 1)
		cut.log.Truncate(at + 1)
		require.Equal(t, at, cut.log.LEO(), "the straddling batch went entirely")
		cut.ps.rebuild(&cut.log, 0, sim.Second)

		assert.Equal(t, ErrNone, cut.check(testPID, 0, 6, 2).err, "sequence 6 is next again")
		assert.False(t, cut.check(testPID, 0, 6, 2).duplicate)
		assert.True(t, cut.check(testPID, 0, 4, 2).duplicate)
		assert.Equal(t, ErrOutOfOrderSequenceNumber, cut.check(testPID, 0, 8, 1).err)
		assert.Nil(t, cut.ps.m[testPID+2], "a producer whose batches were all truncated is forgotten")
		assert.Equal(t, appendCheck{}, cut.check(testPID+2, 0, 50, 1), "so any sequence is accepted (KAFKA-8710)")
		assert.Equal(t, want, cut.ps.m[testPID].batches)
	})
}

// TestProducerStateExpiration: a producer id whose last batch or marker is
// producer.id.expiration.ms old is forgotten, unless a transaction of it is
// open here (ProducerStateManager.isProducerExpired); after that, any
// sequence is accepted, a retried batch included.
func TestProducerStateExpiration(t *testing.T) {
	const limit = 10 * sim.Second
	var ps producerStates
	at := func(ts sim.Time, b LogBatch) {
		b.Timestamp = ts
		ps.update(&b)
	}
	at(1*sim.Second, LogBatch{ProducerID: 1, BaseSequence: 0, Count: 5})
	at(4*sim.Second, LogBatch{ProducerID: 2, BaseSequence: 0, Count: 5})
	at(2*sim.Second, LogBatch{ProducerID: 3, BaseSequence: 0, Count: 1, Transactional: true})
	at(3*sim.Second, LogBatch{ProducerID: 4, BaseSequence: 0, Count: 1, Transactional: true})
	at(5*sim.Second, LogBatch{ProducerID: 4, BaseSequence: -1, Count: 1, Marker: MarkerCommit})
	require.True(t, ps.check(1, 0, 0, 4).duplicate, "before it expires, the retry is a duplicate")

	assert.Empty(t, ps.expire(11*sim.Second-1, limit), "just short of the limit")
	assert.Equal(t, []int64{1}, ps.expire(11*sim.Second, limit))
	assert.Equal(t, []int64{2, 4}, ps.expire(20*sim.Second, limit), "the marker's time counts; sorted ids")
	assert.Empty(t, ps.expire(100*sim.Second, limit), "producer 3's transaction is still open")
	assert.Equal(t, appendCheck{}, ps.check(1, 0, 0, 4), "the retry of the first batch is appended again")
	assert.Equal(t, appendCheck{}, ps.check(2, 0, 9, 9), "and any sequence is accepted (KAFKA-8710)")
}
