package producer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
)

// TestRecordSize: DefaultRecord.sizeInBytes for records without headers.
// Every field is a zig-zag varint: 0..63 take one byte, 64..8191 two, and
// -64 is the most negative one-byte value. A null key is the varint -1 (one
// byte). Body = attributes + timestampDelta + offsetDelta + key + value +
// header count; the total adds the varint of the body length.
func TestRecordSize(t *testing.T) {
	tests := []struct {
		name        string
		offsetDelta int
		tsDelta     int64
		keyLen      int
		valueLen    int
		want        int
	}{
		// body 1+1+1+1(null key)+1(len 0)+1(headers) = 6, +1 length = 7
		{"empty value, null key", 0, 0, -1, 0, 7},
		// body 1+1+1+(1+3)+(1+10)+1 = 19, +1 = 20
		{"key 3, value 10", 0, 0, 3, 10, 20},
		// body 63 still has a one-byte length varint: 64
		{"body 63", 0, 0, -1, 57, 64},
		// body 64 needs a two-byte length varint: 66
		{"body 64", 0, 0, -1, 58, 66},
		// value length 100 is a two-byte varint: body 107, +2 = 109
		{"value 100", 0, 0, -1, 100, 109},
		// key length 64 is a two-byte varint: body 1+1+1+(2+64)+1+1 = 71, +2 = 73
		{"key 64", 0, 0, 64, 0, 73},
		{"offset delta 63", 63, 0, -1, 0, 7},
		{"offset delta 64", 64, 0, -1, 0, 8},
		{"timestamp delta 63", 0, 63, -1, 0, 7},
		{"timestamp delta 64", 0, 64, -1, 0, 8},
		{"timestamp delta -64", 0, -64, -1, 0, 7},
		{"timestamp delta -65", 0, -65, -1, 0, 8},
		// 2^40 zig-zags to 2^41, 42 bits: a six-byte varlong. body 11, +1 = 12
		{"timestamp delta 2^40", 0, 1 << 40, -1, 0, 12},
		{"empty key", 0, 0, 0, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, recordSize(tt.offsetDelta, tt.tsDelta, tt.keyLen, tt.valueLen))
		})
	}
}

// TestUpperBoundSize: the size Kafka checks against max.request.size and
// buffer.memory and uses for a new batch's buffer is
// AbstractRecords.estimateSizeInBytesUpperBound = DefaultRecordBatch.estimateBatchSizeUpperBound
// = RECORD_BATCH_OVERHEAD (61) + DefaultRecord.recordSizeUpperBound, where
// recordSizeUpperBound = MAX_RECORD_OVERHEAD (21: "5 bytes length + 10
// bytes timestamp + 5 bytes offset + 1 byte attributes") + sizeOf(key,
// value, headers).
func TestUpperBoundSize(t *testing.T) {
	tests := []struct {
		keyLen, valueLen int
		want             int
	}{
		{-1, 0, 61 + 21 + 1 + 1 + 1},              // 85
		{3, 10, 61 + 21 + (1 + 3) + (1 + 10) + 1}, // 98
		{-1, 1000, 61 + 21 + 1 + (2 + 1000) + 1},  // 1086
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, upperBoundSize(tt.keyLen, tt.valueLen), "key %d, value %d", tt.keyLen, tt.valueLen)
	}
}

// newTestBatch is an empty batch as RecordAccumulator.append would create
// it: buffer max(max(1, batch.size), upper bound of the first record), the
// batch header already counted.
func newTestBatch(batchSize, keyLen, valueLen int) *Batch {
	return &Batch{
		Bytes:        recordBatchOverhead,
		writeMax:     max(max(1, batchSize), upperBoundSize(keyLen, valueLen)),
		BaseSequence: -1,
		ProducerID:   -1,
	}
}

func addRecord(b *Batch, size int) {
	b.Records = append(b.Records, broker.RecordID(len(b.Records)))
	b.add(size)
}

// TestHasRoomForFirstRecordAlways: MemoryRecordsBuilder.hasRoomFor "always
// allow[s] at least one record to be appended", however large; the batch is
// then full (isFull needs numRecords > 0).
func TestHasRoomForFirstRecordAlways(t *testing.T) {
	b := &Batch{Bytes: recordBatchOverhead, writeMax: 1}
	assert.False(t, b.isFull(), "an empty batch is never full")
	assert.True(t, b.hasRoomFor(1_000_000))

	addRecord(b, 1_000_000)
	assert.True(t, b.isFull())
	assert.False(t, b.hasRoomFor(1))
}

// TestBatchSizeZeroOneRecordPerBatch: batch.size=0 means max(1, 0) = 1
// (fact 10), so the buffer is just the first record's upper bound and a
// second record of ordinary size does not fit.
func TestBatchSizeZeroOneRecordPerBatch(t *testing.T) {
	for _, tt := range []struct{ keyLen, valueLen int }{{-1, 100}, {8, 100}, {-1, 1000}, {16, 4096}} {
		b := newTestBatch(0, tt.keyLen, tt.valueLen)
		require.True(t, b.hasRoomFor(recordSize(0, 0, tt.keyLen, tt.valueLen)))
		addRecord(b, recordSize(0, 0, tt.keyLen, tt.valueLen))
		assert.False(t, b.hasRoomFor(recordSize(1, 0, tt.keyLen, tt.valueLen)), "key %d, value %d", tt.keyLen, tt.valueLen)
	}
}

// TestHasRoomForLimit: after the first record, hasRoomFor needs
// writeLimit >= estimatedBytesWritten + recordSize (equality fits), and
// isFull is writeLimit <= estimatedBytesWritten.
func TestHasRoomForLimit(t *testing.T) {
	b := &Batch{Bytes: recordBatchOverhead, writeMax: 200}
	addRecord(b, 100) // 161 bytes
	assert.False(t, b.isFull())
	assert.True(t, b.hasRoomFor(39), "161 + 39 = 200 fits exactly")
	assert.False(t, b.hasRoomFor(40))

	addRecord(b, 39) // 200 bytes
	assert.True(t, b.isFull(), "writeLimit <= bytes written")
	assert.False(t, b.hasRoomFor(1))
}

// TestClosedBatch: a batch closed for appends (closeForRecordAppends, done
// when a record did not fit or at drain) is full and takes nothing, even
// when empty.
func TestClosedBatch(t *testing.T) {
	b := newTestBatch(16384, -1, 10)
	b.close()
	assert.True(t, b.isFull())
	assert.False(t, b.hasRoomFor(1))
}

// TestDefaultBatchFills: with batch.size=16384 and 100-byte values, records
// go in until the next would pass the buffer; the batch then holds no more
// than batch.size bytes.
func TestDefaultBatchFills(t *testing.T) {
	b := newTestBatch(16384, -1, 100)
	require.Equal(t, 16384, b.writeMax)
	for i := 0; ; i++ {
		size := recordSize(i, 0, -1, 100)
		if !b.hasRoomFor(size) {
			assert.Greater(t, b.Bytes+size, 16384)
			break
		}
		addRecord(b, size)
		require.Less(t, i, 1000, "the batch never filled")
	}
	assert.LessOrEqual(t, b.Bytes, 16384)
	// 61 header bytes; 109-byte records up to offset delta 63, 110 after.
	assert.Len(t, b.Records, 64+(16384-61-64*109)/110)
}

// TestLastSequence: the sequence of a batch's last record.
func TestLastSequence(t *testing.T) {
	b := &Batch{BaseSequence: 10, Records: make([]broker.RecordID, 5)}
	assert.Equal(t, int32(14), b.LastSequence())
	assert.True(t, b.hasSequence())
	assert.False(t, (&Batch{BaseSequence: -1}).hasSequence())
}
