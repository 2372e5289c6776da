package broker

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// recs returns n record ids starting at first.
func recs(first RecordID, n int) []RecordID {
	out := make([]RecordID, n)
	for i := range out {
		out[i] = first + RecordID(i)
	}
	return out
}

// buildLog appends one batch per (epoch, count) pair, numbering records
// 1, 2, 3... in offset order.
func buildLog(t *testing.T, batches ...[2]int) *Log {
	t.Helper()
	l := &Log{}
	next := RecordID(1)
	for _, b := range batches {
		l.Append(LogBatch{LeaderEpoch: int32(b[0]), ProducerID: -1, BaseSequence: -1}, recs(next, b[1]))
		next += RecordID(b[1])
	}
	return l
}

func TestLogAppendAssignsOffsetsAndEpochs(t *testing.T) {
	l := &Log{}
	require.Equal(t, int64(0), l.LEO())
	require.Equal(t, int32(-1), l.LatestEpoch())
	require.Equal(t, int64(0), l.EpochStart())

	// The caller's base offset and count are ignored: the log assigns them.
	b0 := l.Append(LogBatch{BaseOffset: 99, Count: 42, LeaderEpoch: 0}, recs(1, 3))
	assert.Equal(t, int64(0), b0.BaseOffset)
	assert.Equal(t, int32(3), b0.Count)
	assert.Equal(t, int64(2), b0.LastOffset())

	b1 := l.Append(LogBatch{LeaderEpoch: 0}, recs(4, 2))
	assert.Equal(t, int64(3), b1.BaseOffset)
	assert.Equal(t, int64(4), b1.LastOffset())

	// A batch of a newer epoch starts a new epoch-cache entry.
	b2 := l.Append(LogBatch{LeaderEpoch: 2}, recs(6, 1))
	assert.Equal(t, int64(5), b2.BaseOffset)

	assert.Equal(t, int64(6), l.LEO())
	assert.Equal(t, []epochEntry{{Epoch: 0, StartOffset: 0}, {Epoch: 2, StartOffset: 5}}, l.epochs)
	assert.Equal(t, int32(2), l.LatestEpoch())
	assert.Equal(t, int64(5), l.EpochStart())
	assert.Equal(t, []RecordID{1, 2, 3, 4, 5, 6}, l.Records(0, l.LEO()))
	assert.Equal(t, RecordID(4), l.Record(3))
	require.Len(t, l.Batches(), 3)
	assert.Equal(t, b1, l.Batches()[1])

	// An older epoch never rewinds the cache (LeaderEpochFileCache.assign
	// only appends larger epochs).
	l.Append(LogBatch{LeaderEpoch: 1}, recs(7, 1))
	assert.Equal(t, int32(2), l.LatestEpoch())
	assert.Len(t, l.epochs, 2)

	// A leader taking over records its epoch at the log end before appending.
	l.AssignEpoch(3)
	assert.Equal(t, epochEntry{Epoch: 3, StartOffset: 7}, l.epochs[len(l.epochs)-1])
	assert.Equal(t, int64(7), l.EpochStart())
	l.AssignEpoch(3) // idempotent
	assert.Len(t, l.epochs, 3)
	// Appending in the epoch just assigned adds no entry.
	l.Append(LogBatch{LeaderEpoch: 3}, recs(8, 2))
	assert.Len(t, l.epochs, 3)
	assert.Equal(t, int64(7), l.EpochStart())
}

func TestLogBatchIndex(t *testing.T) {
	l := buildLog(t, [2]int{0, 3}, [2]int{0, 2}, [2]int{1, 4}) // [0-2] [3-4] [5-8]
	for _, tc := range []struct {
		offset int64
		want   int
	}{{0, 0}, {2, 0}, {3, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 3}} {
		assert.Equal(t, tc.want, l.BatchIndex(tc.offset), "offset %d", tc.offset)
	}
}

func TestLogHighWatermark(t *testing.T) {
	l := buildLog(t, [2]int{0, 3})
	l.SetHW(2)
	assert.Equal(t, int64(2), l.HW())
	l.SetHW(3)
	assert.Equal(t, int64(3), l.HW())
	assert.Panics(t, func() { l.SetHW(4) }, "the high watermark must not pass the log end")
}

// TestLogEndOffsetForEpoch follows LeaderEpochFileCache.endOffsetFor branch
// by branch.
func TestLogEndOffsetForEpoch(t *testing.T) {
	// Epoch 1 starts at 0, epoch 3 at 4, epoch 5 at 9; LEO 12.
	l := buildLog(t, [2]int{1, 4}, [2]int{3, 3}, [2]int{3, 2}, [2]int{5, 3})
	require.Equal(t, []epochEntry{{1, 0}, {3, 4}, {5, 9}}, l.epochs)
	require.Equal(t, int64(12), l.LEO())

	tests := []struct {
		name      string
		log       *Log
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{"latest epoch answers the log end", l, 5, 5, 12},
		{"known middle epoch ends where the next starts", l, 3, 3, 9},
		{"first epoch ends where the second starts", l, 1, 1, 4},
		{"unknown epoch between two entries gives the floor epoch and the next start", l, 4, 3, 9},
		{"unknown epoch between the first two entries", l, 2, 1, 4},
		{"older than every entry gives the requested epoch and the first start", l, 0, 0, 0},
		{"larger than every entry is undefined", l, 6, -1, -1},
		{"undefined epoch is undefined", l, -1, -1, -1},
		{"empty cache is undefined", &Log{}, 0, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, end := tc.log.EndOffsetForEpoch(tc.epoch)
			assert.Equal(t, tc.wantEpoch, e, "epoch")
			assert.Equal(t, tc.wantEnd, end, "end offset")
		})
	}

	t.Run("older than every entry when the first entry starts late", func(t *testing.T) {
		// A follower that joined at offset 10 of epoch 4 (its first entry).
		late := &Log{epochs: []epochEntry{{4, 10}, {6, 15}}, records: &recordStore{ids: make([]RecordID, 20)}, leo: 20}
		e, end := late.EndOffsetForEpoch(2)
		assert.Equal(t, int32(2), e)
		assert.Equal(t, int64(10), end)
	})
	t.Run("an empty latest epoch still answers the log end", func(t *testing.T) {
		l2 := buildLog(t, [2]int{0, 3})
		l2.AssignEpoch(2)
		e, end := l2.EndOffsetForEpoch(2)
		assert.Equal(t, int32(2), e)
		assert.Equal(t, int64(3), end)
		e, end = l2.EndOffsetForEpoch(0)
		assert.Equal(t, int32(0), e)
		assert.Equal(t, int64(3), end)
		e, end = l2.EndOffsetForEpoch(1)
		assert.Equal(t, int32(0), e)
		assert.Equal(t, int64(3), end)
	})
}

func TestLogTruncate(t *testing.T) {
	// Batches [0-2]@e0 [3-4]@e0 [5-8]@e2 [9-10]@e3; epochs 0@0 2@5 3@9.
	build := func(t *testing.T) *Log {
		l := buildLog(t, [2]int{0, 3}, [2]int{0, 2}, [2]int{2, 4}, [2]int{3, 2})
		l.SetHW(11)
		return l
	}
	tests := []struct {
		name       string
		offset     int64
		wantLEO    int64
		wantEpochs []epochEntry
		wantHW     int64
		wantBatch  int
	}{
		{"at a batch boundary", 5, 5, []epochEntry{{0, 0}}, 5, 2},
		{"inside a batch removes the whole batch", 7, 5, []epochEntry{{0, 0}}, 5, 2},
		{"at the last offset of a batch removes that batch", 4, 3, []epochEntry{{0, 0}}, 3, 1},
		{"an epoch entry starting at the new end goes", 9, 9, []epochEntry{{0, 0}, {2, 5}}, 9, 3},
		{"inside the first batch empties the log", 1, 0, []epochEntry{}, 0, 0},
		{"to zero empties the log", 0, 0, []epochEntry{}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := build(t)
			got := l.Truncate(tc.offset)
			assert.Equal(t, tc.wantLEO, got, "returned log end")
			assert.Equal(t, tc.wantLEO, l.LEO())
			assert.Equal(t, tc.wantEpochs, l.epochs)
			assert.Equal(t, tc.wantHW, l.HW(), "the high watermark drops to the log end")
			assert.Len(t, l.Batches(), tc.wantBatch)
			assert.Equal(t, recs(1, int(tc.wantLEO)), append([]RecordID{}, l.Records(0, l.LEO())...))
			if n := len(l.Batches()); n > 0 {
				assert.Equal(t, l.LEO(), l.Batches()[n-1].LastOffset()+1, "batches and records agree")
			}
		})
	}

	t.Run("a high watermark below the cut stays", func(t *testing.T) {
		l := build(t)
		l.SetHW(2)
		l.Truncate(5)
		assert.Equal(t, int64(2), l.HW())
	})

	t.Run("appending after a truncation continues at the new end", func(t *testing.T) {
		l := build(t)
		l.Truncate(7)
		b := l.Append(LogBatch{LeaderEpoch: 4}, []RecordID{100, 101})
		assert.Equal(t, int64(5), b.BaseOffset)
		assert.Equal(t, []epochEntry{{0, 0}, {4, 5}}, l.epochs)
		assert.Equal(t, []RecordID{1, 2, 3, 4, 5, 100, 101}, l.Records(0, l.LEO()))
	})
}

// TestLogTruncateAtOrPastEnd is UnifiedLog.truncateTo with targetOffset >=
// logEndOffset: no record goes, but an epoch entry that starts at the log end
// (a leader that was replaced before appending) is dropped.
func TestLogTruncateAtOrPastEnd(t *testing.T) {
	tests := []struct {
		name       string
		emptyEpoch bool
		offset     int64
		wantEpochs []epochEntry
	}{
		{"at the end without an empty epoch", false, 5, []epochEntry{{0, 0}, {1, 3}}},
		{"past the end without an empty epoch", false, 8, []epochEntry{{0, 0}, {1, 3}}},
		{"at the end drops an empty epoch", true, 5, []epochEntry{{0, 0}, {1, 3}}},
		{"past the end drops an empty epoch", true, 9, []epochEntry{{0, 0}, {1, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := buildLog(t, [2]int{0, 3}, [2]int{1, 2})
			l.SetHW(4)
			if tc.emptyEpoch {
				l.AssignEpoch(2)
				require.Equal(t, int32(2), l.LatestEpoch())
			}
			got := l.Truncate(tc.offset)
			assert.Equal(t, int64(5), got)
			assert.Equal(t, int64(5), l.LEO())
			assert.Equal(t, tc.wantEpochs, l.epochs)
			assert.Equal(t, int64(4), l.HW())
			assert.Len(t, l.Batches(), 2)
		})
	}
}

// TestLogSlicesSurviveTruncateAndAppend checks the capped-slice trick: a
// fetch response holds sub-slices of the leader's records and batches; a
// truncation followed by new appends must not rewrite them.
func TestLogSlicesSurviveTruncateAndAppend(t *testing.T) {
	l := &Log{}
	// Room to spare, so an uncapped truncation would append in place.
	l.Reserve(64)
	l.batches = make([]LogBatch, 0, 16)
	l.Append(LogBatch{LeaderEpoch: 0}, recs(1, 3))
	l.Append(LogBatch{LeaderEpoch: 0}, recs(4, 3))
	l.Append(LogBatch{LeaderEpoch: 1}, recs(7, 3))

	held := l.Records(3, 9)
	assert.Equal(t, len(held), cap(held), "Records is capped")
	heldBatches := l.Batches()[1:3:3]
	wantHeld := append([]RecordID{}, held...)
	wantBatches := append([]LogBatch{}, heldBatches...)

	// A fetch response built by the leader itself.
	b := &Broker{cfg: &Config{ReplicaFetchMaxBytes: 1 << 20}}
	d := &FetchData{}
	b.readBatches(&Replica{Log: *l}, 3, d)
	wantFetched := append([]RecordID{}, d.Records...)
	require.Equal(t, recs(4, 6), wantFetched)

	l.Truncate(3)
	l.Append(LogBatch{LeaderEpoch: 2}, []RecordID{500, 501, 502})
	l.Append(LogBatch{LeaderEpoch: 2}, []RecordID{503, 504, 505, 506})

	assert.Equal(t, wantHeld, held, "records handed out before the truncation changed")
	assert.Equal(t, wantBatches, heldBatches, "batches handed out before the truncation changed")
	assert.Equal(t, []RecordID{1, 2, 3, 500, 501, 502, 503, 504, 505, 506}, l.Records(0, l.LEO()))

	// Plain appends without a truncation leave earlier slices alone too.
	held2 := l.Records(0, l.LEO())
	want2 := append([]RecordID{}, held2...)
	l.Append(LogBatch{LeaderEpoch: 2}, []RecordID{600})
	assert.Equal(t, want2, held2)
}

// TestLogBatchLastSequenceWraps: a batch's last sequence wraps at
// Integer.MAX_VALUE like its first (DefaultRecordBatch.incrementSequence);
// the producer assigns sequences that way (producer.incrementSequence).
func TestLogBatchLastSequenceWraps(t *testing.T) {
	tests := []struct {
		base  int32
		count int32
		want  int32
	}{
		{0, 1, 0},
		{10, 5, 14},
		{2147483647 - 4, 5, 2147483647},
		{2147483647, 1, 2147483647},
		{2147483647 - 1, 3, 0}, // MAX-1, MAX, 0
		{2147483647, 3, 1},     // MAX, 0, 1
	}
	for _, tc := range tests {
		b := LogBatch{BaseSequence: tc.base, Count: tc.count}
		assert.Equal(t, tc.want, b.LastSequence(), "base %d count %d", tc.base, tc.count)
	}
}

// TestLastStableOffsetIncremental drives a log through random appends
// (plain, transactional, markers from three producers), high watermark
// moves both ways and truncations, asking for the last stable offset after
// each step: the incremental answer must equal a walk over the whole log.
func TestLastStableOffsetIncremental(t *testing.T) {
	whole := func(l *Log) int64 {
		ends, _ := l.TxnEnds()
		lso := l.HW()
		for i, b := range l.Batches() {
			if b.Transactional && !b.IsControl() && (ends[i] < 0 || ends[i] >= l.HW()) {
				lso = min(lso, b.BaseOffset)
			}
		}
		return lso
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var l Log
	unstable := 0
	for step := range 20000 {
		pid := int64(rng.IntN(3))
		switch op := rng.IntN(20); {
		case op < 6:
			l.Append(LogBatch{ProducerID: pid, Transactional: true}, []RecordID{1, 2})
		case op < 9:
			l.Append(LogBatch{ProducerID: pid}, []RecordID{3})
		case op < 12:
			l.Append(LogBatch{ProducerID: pid, Transactional: true, Marker: MarkerType(1 + rng.IntN(2))}, []RecordID{0})
		case op < 18:
			l.SetHW(l.HW() + rng.Int64N(l.LEO()-l.HW()+1))
		case op < 19:
			l.SetHW(rng.Int64N(l.LEO() + 1))
		default:
			l.Truncate(rng.Int64N(l.LEO() + 1))
		}
		want := whole(&l)
		require.Equal(t, want, l.LastStableOffset(), "step %d", step)
		if want < l.HW() {
			unstable++
		}
	}
	assert.Greater(t, unstable, 1000, "the walk must meet open transactions below the high watermark")
}

// TestUnflushed: a power loss keeps the batches written at or before the
// cut; the first later batch's base offset is where the log is truncated.
func TestUnflushed(t *testing.T) {
	l := &Log{}
	for i, at := range []sim.Time{1 * sim.Second, 2 * sim.Second, 3 * sim.Second} {
		l.Append(LogBatch{LeaderEpoch: 0, ProducerID: -1, BaseSequence: -1, Written: at}, recs(RecordID(1+2*i), 2))
	}
	for _, tc := range []struct {
		name   string
		before sim.Time
		want   int64
	}{
		{"everything written back", 3 * sim.Second, 6},
		{"the last batch not yet", 2 * sim.Second, 4},
		{"between two writes", 1500 * sim.Millisecond, 2},
		{"nothing written back", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, l.Unflushed(tc.before))
		})
	}
}

// setRecord overwrites the record id at offset in this replica's log alone,
// as a corrupted disk would: the log first takes a store of its own.
func (l *Log) setRecord(offset int64, id RecordID) {
	l.records = &recordStore{ids: slices.Clone(l.records.ids[:l.leo])}
	l.records.ids[offset] = id
}

// TestLogsShareRecordsUntilTheyDiffer: the replicas of a partition keep one
// record store while they append the same ids at the same offsets, and a
// replica that diverges takes a copy without changing what the others hold.
func TestLogsShareRecordsUntilTheyDiffer(t *testing.T) {
	var leader, f1, f2 Log
	f1.Share(&leader)
	f2.Share(&leader)
	leader.Append(LogBatch{}, recs(1, 3))
	leader.Append(LogBatch{}, recs(4, 3))
	f1.Append(LogBatch{}, leader.Records(0, 3))                // a fetch response: a view of the store
	f2.Append(LogBatch{}, append([]RecordID{}, recs(1, 3)...)) // the same ids in another array
	require.Same(t, leader.records, f1.records, "a view of the shared store is not copied")
	require.Same(t, leader.records, f2.records, "equal ids at the same offsets are not copied")
	assert.Equal(t, int64(3), f1.LEO())

	// f2 truncates and appends ids no other replica has there.
	f2.Truncate(0)
	f2.Append(LogBatch{}, []RecordID{100, 101})
	assert.NotSame(t, leader.records, f2.records, "a diverging log takes a store of its own")
	assert.Equal(t, []RecordID{100, 101}, f2.Records(0, 2))
	assert.Equal(t, recs(1, 6), leader.Records(0, 6), "the leader's records are untouched")
	f1.Append(LogBatch{}, leader.Records(3, 6))
	assert.Same(t, leader.records, f1.records)
	assert.Equal(t, recs(1, 6), f1.Records(0, 6))

	// f1 diverges past a common prefix: it keeps the prefix.
	f1.Truncate(3)
	f1.Append(LogBatch{}, []RecordID{7})
	assert.NotSame(t, leader.records, f1.records)
	assert.Equal(t, []RecordID{1, 2, 3, 7}, f1.Records(0, 4))
	assert.Equal(t, recs(1, 6), leader.Records(0, 6))
	assert.Panics(t, func() { f1.Record(4) }, "past the log end, though the old store holds more")
}
