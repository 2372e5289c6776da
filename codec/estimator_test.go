package codec

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The expected values below were computed by running the same float
// expressions as CompressionRatioEstimator.updateEstimation and
// MemoryRecordsBuilder.estimatedBytesWritten in Java (float arithmetic, int
// cast), so they pin Java's rounding, not decimal arithmetic.

func TestRatioEstimatorUpdate(t *testing.T) {
	tests := []struct {
		name      string
		start     float32
		observed  float32
		wantBits  uint32 // math.Float32bits of Java's result
		wantFloat float32
	}{
		{"better ratio improves by one small step", 1.0, 0.5, 1065269330, 0.995},
		{"better ratio step again", 0.995, 0.5, math.Float32bits(0.99), 0.99},
		{"slightly better ratio is reached directly", 0.5, 0.498, math.Float32bits(0.498), 0.498},
		{"worse ratio jumps to the observed value", 0.5, 0.6, math.Float32bits(0.6), 0.6},
		{"slightly worse ratio still moves a full deteriorate step", 0.5, 0.52, 1057803469, 0.55},
		{"equal ratio leaves the estimate alone", 0.5, 0.5, math.Float32bits(0.5), 0.5},
		{"expansion above 1 is followed", 0.3, 2.0, math.Float32bits(2.0), 2.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := RatioEstimator{ratio: tt.start}
			got := e.Update(tt.observed)
			assert.Equal(t, tt.wantBits, math.Float32bits(got), "got %v want %v", got, tt.wantFloat)
			assert.Equal(t, got, e.Estimate())
		})
	}
}

func TestRatioEstimatorInitialAndConvergence(t *testing.T) {
	e := NewRatioEstimator()
	assert.Equal(t, float32(1.0), e.Estimate(), "CompressionType.rate is 1.0 for every codec")

	// Improving from 1.0 to a steady 0.3 takes 141 batches in Java: the
	// estimate creeps down 0.005 at a time.
	steps := 0
	for e.Estimate() > 0.3 {
		e.Update(0.3)
		steps++
	}
	assert.Equal(t, 141, steps)
	assert.Equal(t, float32(0.3), e.Estimate())

	// One bad batch undoes it at once.
	e.Update(0.9)
	assert.Equal(t, float32(0.9), e.Estimate())
}

func TestRatioEstimatorResetAfterSplit(t *testing.T) {
	tests := []struct {
		big, want float32
	}{
		{0.3, 1.0},
		{1.0, 1.0},
		{1.2, 1.2},
	}
	for _, tt := range tests {
		e := RatioEstimator{ratio: 0.4}
		e.ResetAfterSplit(tt.big)
		assert.Equal(t, tt.want, e.Estimate(), "big batch ratio %v", tt.big)
	}
}

func TestEstimatedBytesWritten(t *testing.T) {
	tests := []struct {
		name         string
		codec        Codec
		uncompressed int
		ratio        float32
		want         int
	}{
		{"none ignores the ratio", None, 16000, 0.3, 61 + 16000},
		{"initial ratio still adds the 5% margin", Gzip, 16000, 1.0, 16861},
		{"float rounding as Java: 1000*0.3*1.05 truncates to 315", Zstd, 1000, 0.3, 376},
		{"7874.9996 truncates to 7874", LZ4, 15000, 0.5, 7935},
		{"empty batch is just the header", Snappy, 0, 0.5, 61},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, EstimatedBytesWritten(tt.codec, tt.uncompressed, tt.ratio))
		})
	}
}

func TestHasRoomForAndIsFull(t *testing.T) {
	const limit = 16384
	tests := []struct {
		name         string
		codec        Codec
		records      int
		uncompressed int
		recordBytes  int
		ratio        float32
		room, full   bool
	}{
		{"first record always fits", Gzip, 0, 0, 100_000, 0.5, true, false},
		{"room while estimate plus record fits", Gzip, 10, 15000, 200, 0.5, true, false},
		// estimate 16335: not full, but 16335+200 > 16384.
		{"no room but not full", Gzip, 10, 31000, 200, 0.5, false, false},
		// estimate 16388 >= 16384.
		{"full on the estimate", Gzip, 10, 31100, 200, 0.5, false, true},
		{"none counts raw bytes", None, 10, 16000, 200, 0.5, true, false},
		{"none full at the limit", None, 10, limit - RecordBatchOverhead, 1, 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.room, HasRoomFor(tt.codec, limit, tt.records, tt.uncompressed, tt.recordBytes, tt.ratio))
			assert.Equal(t, tt.full, IsFull(tt.codec, limit, tt.records, tt.uncompressed, tt.ratio))
		})
	}
}

func TestObservedRatio(t *testing.T) {
	assert.Equal(t, float32(0.25), ObservedRatio(4000, 16000))
	assert.Equal(t, float32(1), ObservedRatio(16000, 16000))
}
