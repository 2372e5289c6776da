package codec

// Kafka sizes a compressed batch by an estimate, not by the compressed bytes:
// the records are streamed into the compressor and the real size is known
// only when the batch closes. The constants and arithmetic below follow Kafka
// 4.x (CompressionRatioEstimator, MemoryRecordsBuilder, ProducerBatch,
// RecordAccumulator). Java's float arithmetic is reproduced with float32.

const (
	// CompressionRatioEstimator.COMPRESSION_RATIO_IMPROVING_STEP.
	RatioImprovingStep float32 = 0.005
	// CompressionRatioEstimator.COMPRESSION_RATIO_DETERIORATE_STEP.
	RatioDeteriorateStep float32 = 0.05
	// MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR: a 5% safety
	// margin on top of the estimated ratio.
	RateEstimationFactor float32 = 1.05
	// InitialRatio is CompressionType.rate, 1.0 for every codec, so the first
	// batches of a topic are sized as if nothing compressed.
	InitialRatio float32 = 1.0
	// RecordBatchOverhead is DefaultRecordBatch.RECORD_BATCH_OVERHEAD, the
	// v2 batch header size (AbstractRecords.recordBatchHeaderSizeInBytes).
	RecordBatchOverhead = 61
)

// RatioEstimator is the compression-ratio estimate Kafka keeps per topic and
// codec (CompressionRatioEstimator holds a float per CompressionType in a
// static, JVM-wide map keyed by topic; the simulator owns one value per
// (topic, codec) instead). Ratio means compressed/uncompressed, so smaller is
// better. The zero value is not ready; use NewRatioEstimator.
type RatioEstimator struct{ ratio float32 }

// NewRatioEstimator starts at InitialRatio (CompressionRatioEstimator.
// initialCompressionRatio).
func NewRatioEstimator() RatioEstimator { return RatioEstimator{ratio: InitialRatio} }

// Estimate is the ratio a new batch is created with: ProducerBatch's
// constructor reads the estimate and passes it to
// MemoryRecordsBuilder.setEstimatedCompressionRatio, so it is fixed for the
// batch's whole life.
func (e RatioEstimator) Estimate() float32 { return e.ratio }

// Update folds in the ratio observed when a batch closes (ProducerBatch.close
// calls updateEstimation for every non-control batch) and returns the new
// estimate. Following CompressionRatioEstimator.updateEstimation, a worse
// ratio moves the estimate up at once, by at least RatioDeteriorateStep; a
// better one moves it down by at most RatioImprovingStep. The estimate is
// thus quick to become conservative and slow to become optimistic.
func (e *RatioEstimator) Update(observed float32) float32 {
	cur := e.ratio
	switch {
	case observed > cur:
		e.ratio = max(cur+RatioDeteriorateStep, observed)
	case observed < cur:
		e.ratio = max(cur-RatioImprovingStep, observed)
	}
	return e.ratio
}

// ResetAfterSplit models RecordAccumulator.splitAndReenqueue: when a batch is
// rejected as too large and split, the estimate is set to the big batch's
// ratio but never below 1.0, the most conservative choice.
func (e *RatioEstimator) ResetAfterSplit(bigBatchRatio float32) {
	e.ratio = max(InitialRatio, bigBatchRatio)
}

// ObservedRatio is MemoryRecordsBuilder.actualCompressionRatio for a v2
// batch: compressed record bytes over uncompressed record bytes, both
// excluding the batch header (writeDefaultBatchHeader returns the size minus
// RECORD_BATCH_OVERHEAD). For None it is 1 by construction of the sizes.
func ObservedRatio(compressedRecordBytes, uncompressedRecordBytes int) float32 {
	return float32(compressedRecordBytes) / float32(uncompressedRecordBytes)
}

// EstimatedBytesWritten is MemoryRecordsBuilder.estimatedBytesWritten for a
// v2 batch: the header plus the uncompressed record bytes, scaled for a
// compressed codec by the batch's estimated ratio and the 1.05 factor, and
// truncated to int as Java's (int) cast does.
func EstimatedBytesWritten(c Codec, uncompressedRecordBytes int, estimatedRatio float32) int {
	if c == None {
		return RecordBatchOverhead + uncompressedRecordBytes
	}
	scaled := float32(uncompressedRecordBytes) * estimatedRatio
	scaled *= RateEstimationFactor
	return RecordBatchOverhead + int(scaled)
}

// HasRoomFor is MemoryRecordsBuilder.hasRoomFor for a v2 batch: the first
// record always fits; later ones fit while the estimate plus the new record's
// full uncompressed size stays within writeLimit (batch.size); compression of
// the new record is deliberately not counted ("be conservative").
func HasRoomFor(c Codec, writeLimit, numRecords, uncompressedRecordBytes, recordBytes int, estimatedRatio float32) bool {
	if IsFull(c, writeLimit, numRecords, uncompressedRecordBytes, estimatedRatio) {
		return false
	}
	if numRecords == 0 {
		return true
	}
	return writeLimit >= EstimatedBytesWritten(c, uncompressedRecordBytes, estimatedRatio)+recordBytes
}

// IsFull is MemoryRecordsBuilder.isFull for a batch still open for appends:
// the write limit applies only once a record is in, and compares against
// the estimate, not the real compressed size.
func IsFull(c Codec, writeLimit, numRecords, uncompressedRecordBytes int, estimatedRatio float32) bool {
	return numRecords > 0 && writeLimit <= EstimatedBytesWritten(c, uncompressedRecordBytes, estimatedRatio)
}
