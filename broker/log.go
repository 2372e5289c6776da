package broker

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/kafkasim/kafkasim/sim"
)

// LogBatch is a record batch as stored in a replica log: the batch header
// fields that matter to replication and idempotence.
type LogBatch struct {
	BaseOffset    int64
	Count         int32
	LeaderEpoch   int32 // partitionLeaderEpoch stamped by the leader at append
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	Bytes         int32
	Ref           int64 // the producer's batch number (not part of Kafka's format; for the trace)
	// Timestamp is the batch's max timestamp, which producer state
	// expiration measures from. The leader stamps its own clock at append
	// (as LogAppendTime would); with CreateTime Kafka keeps the producer's,
	// up to linger.ms and a network trip earlier.
	Timestamp sim.Time
	// Written is when this replica wrote the batch into its log (the OS
	// page cache): a power loss keeps only what was written back to disk
	// (Log.Unflushed). Not part of Kafka's format.
	Written sim.Time
	// Transactions: a transactional producer's data batch, or a control
	// batch holding one marker record (whose record id is 0), or a record
	// of __transaction_state (Txn, also record id 0).
	Transactional    bool
	Marker           MarkerType
	CoordinatorEpoch int32
	Txn              *TxnLogEntry
}

// IsControl reports whether the batch holds a transaction marker, which
// takes an offset but is not a record a consumer sees.
func (b *LogBatch) IsControl() bool { return b.Marker != 0 }

// LastOffset is the offset of the batch's last record.
func (b *LogBatch) LastOffset() int64 { return b.BaseOffset + int64(b.Count) - 1 }

// LastSequence is the sequence of the batch's last record. Sequences wrap
// from MaxInt32 to 0 (DefaultRecordBatch.incrementSequence).
func (b *LogBatch) LastSequence() int32 { return lastSequence(b.BaseSequence, b.Count) }

func lastSequence(base, count int32) int32 {
	if base > math.MaxInt32-(count-1) {
		return count - 1 - (math.MaxInt32 - base) - 1
	}
	return base + count - 1
}

// epochEntry is one leader-epoch-checkpoint line: the first offset written
// in an epoch (LeaderEpochFileCache).
type epochEntry struct {
	Epoch       int32
	StartOffset int64
}

// Log is one replica's log: record ids by offset, the batches they came in,
// the leader-epoch cache, and the high watermark. A process crash keeps it
// (the page cache survives a process crash); a power loss keeps only what
// the OS had written back to disk (Cluster.PowerLoss).
//
// Sub-slices of records and batches handed out stay valid forever: record
// stores are only ever appended to, and Truncate caps the batches so that
// later appends copy to a new array instead of overwriting batches a fetch
// response still refers to.
type Log struct {
	records *recordStore // this log's record ids are records.ids[:leo]
	leo     int64
	batches []LogBatch
	epochs  []epochEntry
	hw      int64
	// decided counts the leading batches known to be outside any
	// transaction still unstable (not transactional, or ended by a marker
	// below the high watermark): LastStableOffset starts its walk there.
	// Appends keep it; the high watermark moving back or a truncation
	// (which may remove a marker) reset it.
	decided int
}

// recordStore holds the record ids of the replicas of one partition while
// their logs agree. Replication copies the same ids to every replica, so
// one array serves them all (Share): a follower appending what its leader
// already appended at the same offset only moves its log end. The array is
// only ever appended to, so a replica that truncated still finds the ids
// of the others; one that then appends different records copies its own
// records into a store of its own first.
type recordStore struct{ ids []RecordID }

// Share makes l use the record store of other, a replica of the same
// partition, when both are still empty.
func (l *Log) Share(other *Log) {
	if l.leo != 0 || other.leo != 0 {
		panic("broker: only empty logs share their records")
	}
	if other.records == nil {
		other.records = &recordStore{}
	}
	l.records = other.records
}

// LEO is the log end offset: the offset the next record gets.
func (l *Log) LEO() int64 { return l.leo }

// HW is the high watermark.
func (l *Log) HW() int64 { return l.hw }

// SetHW moves the high watermark. It must not pass the log end.
func (l *Log) SetHW(hw int64) {
	if hw > l.LEO() {
		panic(fmt.Sprintf("broker: high watermark %d above log end offset %d", hw, l.LEO()))
	}
	if hw < l.hw {
		l.decided = 0
	}
	l.hw = hw
}

// Record is the record id at an offset.
func (l *Log) Record(offset int64) RecordID {
	if offset >= l.leo {
		panic(fmt.Sprintf("broker: offset %d at or past the log end %d", offset, l.leo))
	}
	return l.records.ids[offset]
}

// Records is the record ids in [from, to). The slice must not be modified.
func (l *Log) Records(from, to int64) []RecordID {
	if to > l.leo {
		panic(fmt.Sprintf("broker: records up to %d past the log end %d", to, l.leo))
	}
	if l.records == nil {
		return nil
	}
	return l.records.ids[from:to:to]
}

// Batches is every batch in the log. The slice must not be modified.
func (l *Log) Batches() []LogBatch { return l.batches }

// Append adds a batch at the log end, assigning its base offset, and
// records a new leader epoch in the epoch cache when the batch starts one.
func (l *Log) Append(b LogBatch, records []RecordID) LogBatch {
	b.BaseOffset = l.LEO()
	b.Count = int32(len(records))
	l.assignEpoch(b.LeaderEpoch, b.BaseOffset)
	l.appendRecords(records)
	l.batches = append(sim.Grow(l.batches, 1), b)
	return b
}

func (l *Log) appendRecords(records []RecordID) {
	if l.records == nil {
		l.records = &recordStore{}
	}
	s, end := l.records, l.leo+int64(len(records))
	switch {
	case l.leo == int64(len(s.ids)):
		s.ids = append(sim.Grow(s.ids, len(records)), records...)
	case end <= int64(len(s.ids)) && (len(records) == 0 || &records[0] == &s.ids[l.leo] || slices.Equal(records, s.ids[l.leo:end])):
		// A replica sharing the store wrote these records here first
		// (the fetch response usually holds them in this very array).
	default:
		// This log now differs from the others: it takes a store of its
		// own, starting with a copy of its records so far.
		l.records = &recordStore{ids: append(s.ids[:l.leo:l.leo], records...)}
	}
	l.leo = end
}

// Reserve makes room for n more records, so that a log whose size the
// caller can foresee (a workload's share of a partition) is not copied
// again and again as it grows.
func (l *Log) Reserve(n int) {
	if l.records == nil {
		l.records = &recordStore{}
	}
	l.records.ids = slices.Grow(l.records.ids, n)
}

// AssignEpoch records that epoch starts at the current log end, as a new
// leader does when it takes over (LeaderEpochFileCache.assign).
func (l *Log) AssignEpoch(epoch int32) { l.assignEpoch(epoch, l.LEO()) }

func (l *Log) assignEpoch(epoch int32, start int64) {
	if n := len(l.epochs); n > 0 && l.epochs[n-1].Epoch >= epoch {
		return
	}
	l.epochs = append(l.epochs, epochEntry{Epoch: epoch, StartOffset: start})
}

// LatestEpoch is the newest epoch in the cache, or -1.
func (l *Log) LatestEpoch() int32 {
	if n := len(l.epochs); n > 0 {
		return l.epochs[n-1].Epoch
	}
	return -1
}

// EpochStart is the first offset of the latest epoch, or 0.
func (l *Log) EpochStart() int64 {
	if n := len(l.epochs); n > 0 {
		return l.epochs[n-1].StartOffset
	}
	return 0
}

// EndOffsetForEpoch answers OffsetsForLeaderEpoch the way
// LeaderEpochFileCache.endOffsetFor does: for the latest epoch, the log end;
// otherwise the largest epoch not above the requested one and the start
// offset of the epoch after it. (-1, -1) means undefined.
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	if epoch < 0 || len(l.epochs) == 0 {
		return -1, -1
	}
	if l.LatestEpoch() == epoch {
		return epoch, l.LEO()
	}
	// First entry with an epoch above the requested one.
	higher := sort.Search(len(l.epochs), func(i int) bool { return l.epochs[i].Epoch > epoch })
	if higher == len(l.epochs) {
		return -1, -1
	}
	if higher == 0 {
		// Older than anything we know: the start of the first known epoch.
		return epoch, l.epochs[0].StartOffset
	}
	return l.epochs[higher-1].Epoch, l.epochs[higher].StartOffset
}

// Truncate removes every batch that has a record at or above offset, and the
// epoch-cache entries that start there. Like LogSegment.truncateTo, a batch
// straddling the offset goes entirely. It returns the new log end.
//
// Truncating at or past the log end removes no records but still drops
// epoch entries that start at the log end (UnifiedLog.truncateTo): a broker
// that became leader and was replaced before appending anything has such an
// entry, and keeping it would make it diverge from the new leader forever.
func (l *Log) Truncate(offset int64) int64 {
	if offset >= l.LEO() {
		l.truncateEpochs(l.LEO())
		return l.LEO()
	}
	keep := sort.Search(len(l.batches), func(i int) bool { return l.batches[i].LastOffset() >= offset })
	leo := int64(0)
	if keep > 0 {
		leo = l.batches[keep-1].LastOffset() + 1
	}
	l.batches = l.batches[:keep:keep]
	l.leo = leo
	l.decided = 0
	l.truncateEpochs(leo)
	if l.hw > leo {
		l.hw = leo
	}
	return leo
}

// truncateEpochs drops the epoch entries starting at or after end
// (LeaderEpochFileCache.truncateFromEnd).
func (l *Log) truncateEpochs(end int64) {
	e := len(l.epochs)
	for e > 0 && l.epochs[e-1].StartOffset >= end {
		e--
	}
	l.epochs = l.epochs[:e:e]
}

// Unflushed is the first offset of the batches written after before: what
// a power loss at before + the write-back delay loses. Batches are written
// in log order, so their Written times only grow.
func (l *Log) Unflushed(before sim.Time) int64 {
	i := sort.Search(len(l.batches), func(i int) bool { return l.batches[i].Written > before })
	if i == len(l.batches) {
		return l.LEO()
	}
	return l.batches[i].BaseOffset
}

// BatchIndex is the index of the batch that holds offset.
func (l *Log) BatchIndex(offset int64) int {
	return sort.Search(len(l.batches), func(i int) bool { return l.batches[i].LastOffset() >= offset })
}

// TxnEnds gives, for each batch of the log, the offset of the marker that
// ended its transaction and the marker's type: for a transactional data
// batch, its producer's next marker in this log; -1 and 0 while the
// transaction is still open, and for batches outside transactions.
func (l *Log) TxnEnds() (ends []int64, outcomes []MarkerType) {
	ends = make([]int64, len(l.batches))
	outcomes = make([]MarkerType, len(l.batches))
	l.txnEnds(0, ends, outcomes)
	return ends, outcomes
}

// txnEnds fills ends and outcomes for the batches from index from on, as
// TxnEnds does. A marker before from never ends a batch at or after it, so
// a suffix of the log can be read alone.
func (l *Log) txnEnds(from int, ends []int64, outcomes []MarkerType) {
	var open []int // indexes of transactional data batches with no marker yet
	for i := from; i < len(l.batches); i++ {
		b := &l.batches[i]
		ends[i-from] = -1
		switch {
		case b.IsControl():
			keep := open[:0]
			for _, j := range open {
				if l.batches[j].ProducerID == b.ProducerID {
					ends[j-from] = b.BaseOffset
					if outcomes != nil {
						outcomes[j-from] = b.Marker
					}
				} else {
					keep = append(keep, j)
				}
			}
			open = keep
		case b.Transactional:
			open = append(open, i)
		}
	}
}

// LastStableOffset is the offset below which every transaction is decided
// and the decision replicated: the high watermark, or the first offset of
// the oldest transaction whose marker is not below it
// (UnifiedLog.lastStableOffset, ProducerStateManager.firstUnstableOffset).
// A read_committed consumer reads up to here.
func (l *Log) LastStableOffset() int64 {
	// Only the batches from the first undecided one on are read, so the
	// time series, which asks at every step, costs what is recent.
	ends := make([]int64, len(l.batches)-l.decided)
	l.txnEnds(l.decided, ends, nil)
	for i, end := range ends {
		b := &l.batches[l.decided+i]
		if b.Transactional && !b.IsControl() && (end < 0 || end >= l.hw) {
			l.decided += i
			return min(l.hw, b.BaseOffset)
		}
	}
	l.decided = len(l.batches)
	return l.hw
}
