package producer

import (
	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// Record is what the application hands to send().
type Record struct {
	ID    broker.RecordID
	Topic int    // topic index in the topology
	Key   []byte // nil: no key
	Value int    // value size in bytes
}

// recordBatchOverhead is the v2 record batch header size
// (DefaultRecordBatch.RECORD_BATCH_OVERHEAD).
const recordBatchOverhead = 61

// Batch is a ProducerBatch: records for one partition that travel together.
type Batch struct {
	ID        int64
	Partition broker.PartitionID
	Records   []broker.RecordID
	Bytes     int // estimatedBytesWritten, header included
	// maxRecordSize is the largest record appended (ProducerBatch.maxRecordSize).
	maxRecordSize int
	writeMax      int // the buffer size: max(batch.size, first record's size)
	firstTime     sim.Time

	CreatedAt   sim.Time
	lastAttempt sim.Time
	Attempts    int
	inRetry     bool
	backoff     sim.Time // drawn once per retry (KIP-580 jitter)
	leaderEpoch int32    // newest leader epoch seen for its partition (KIP-951)
	// leaderChangedAt is the attempt count when the leader epoch last moved:
	// a retry whose leader changed skips its backoff.
	leaderChangedAt int

	// Idempotence (ProducerBatch.setProducerState).
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32 // -1 until drained
	seqReset      bool  // sequenceHasBeenReset

	inflight bool // a request carrying it is outstanding
	done     bool
	closed   bool // no more appends
}

// compressionRate is ProducerBatch.compressionRatio: bytes written over
// bytes before compression (1 without compression).
func (b *Batch) compressionRate() float64 { return 1 }

// LastSequence is the sequence of the batch's last record.
func (b *Batch) LastSequence() int32 { return b.BaseSequence + int32(len(b.Records)) - 1 }

func (b *Batch) hasSequence() bool { return b.BaseSequence >= 0 }

// isFull is MemoryRecordsBuilder.isFull.
func (b *Batch) isFull() bool { return b.closed || (len(b.Records) > 0 && b.writeMax <= b.Bytes) }

// hasRoomFor is MemoryRecordsBuilder.hasRoomFor: the first record always fits.
func (b *Batch) hasRoomFor(size int) bool {
	if b.isFull() {
		return false
	}
	return len(b.Records) == 0 || b.writeMax >= b.Bytes+size
}

// waited is waitedTimeMs: time since creation, or since the last retry.
func (b *Batch) waited(now sim.Time) sim.Time { return max(0, now-b.lastAttempt) }

// recordSize is DefaultRecord.sizeInBytes for a record without headers.
func recordSize(offsetDelta int, timestampDeltaMs int64, keyLen, valueLen int) int {
	body := 1 + varlongSize(timestampDeltaMs) + varintSize(int64(offsetDelta)) + 1 // attributes, deltas, header count
	if keyLen < 0 {
		body++
	} else {
		body += varintSize(int64(keyLen)) + keyLen
	}
	body += varintSize(int64(valueLen)) + valueLen
	return varintSize(int64(body)) + body
}

// varintSize is ByteUtils.sizeOfVarint on the zig-zag encoding.
func varintSize(v int64) int { return varlongSize(v) }

func varlongSize(v int64) int {
	z := uint64((v << 1) ^ (v >> 63))
	n := 1
	for z >= 0x80 {
		z >>= 7
		n++
	}
	return n
}

// maxRecordOverhead is DefaultRecord.MAX_RECORD_OVERHEAD: the widest length,
// timestamp delta, offset delta and attributes.
const maxRecordOverhead = 21

// upperBoundSize is AbstractRecords.estimateSizeInBytesUpperBound for one
// record without headers (DefaultRecordBatch.estimateBatchSizeUpperBound).
func upperBoundSize(keyLen, valueLen int) int {
	size := recordBatchOverhead + maxRecordOverhead + 1 // + header count
	for _, n := range []int{keyLen, valueLen} {
		if n < 0 {
			size++ // a null field is one varint
		} else {
			size += varintSize(int64(n)) + n
		}
	}
	return size
}
