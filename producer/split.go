package producer

import (
	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
)

// splitAndReenqueue answers MESSAGE_TOO_LARGE on a batch of several records
// (Sender.completeBatch): RecordAccumulator.splitAndReenqueue with
// ProducerBatch.split. The records go, in order, into new batches that hold
// what the split size allows, and the new batches go back to the front of
// the partition's queue; the big batch ends without a callback of its own
// (its records' callbacks move to the new batches). No retry is counted:
// the new batches are treated as never tried, and keep the big batch's
// creation time, so delivery.timeout.ms still runs from the first append.
//
// The split size is batch.size; a batch that is itself a split's result is
// split in halves, max(its largest record, its size / 2), so that a
// batch.size above the broker's message.max.bytes still converges
// (KAFKA-8350, Kafka 4.2; before it the producer split into batch.size
// pieces again and again until delivery.timeout.ms).
//
// With a transaction manager (idempotence) the new batches keep the big
// batch's producer id and epoch and share out its sequence range in order
// (ProducerBatch.split: setProducerState from baseSequence on), so the
// broker, still waiting for the big batch's first sequence, accepts them
// in turn; the batches sent after the big one fail with
// OUT_OF_ORDER_SEQUENCE_NUMBER meanwhile and are retried in sequence
// order. Without idempotence the new batches are simply first in the queue,
// and batches that were already in flight behind the big one land before
// them: the split reorders the partition.
//
// The simulator does not keep each record's size: a record's size is taken
// as the batch's uncompressed bytes over its record count, and a compressed
// batch's pieces are given its compression ratio. (Kafka rebuilds each
// piece and compresses it again.)
func (p *Producer) splitAndReenqueue(big *Batch) {
	n := len(big.Records)
	limit := max(1, p.cfg.BatchSize)
	if big.split {
		limit = max(big.maxRecordSize, big.Bytes/2)
	}
	recSize := max(1, (big.rawBytes+n-1)/n)
	// Kafka resets the topic's compression ratio estimate to
	// max(1, the big batch's ratio), and fills the pieces by their
	// uncompressed size (CompressionRatioEstimator.setEstimation).
	per := max(1, (limit-recordBatchOverhead)/recSize)
	t := p.topo.Partitions[big.Partition].Topic
	p.topics[t].ratio.ResetAfterSplit(float32(big.compressionRate()))
	var pieces []*Batch
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		k := end - start
		*p.batchIDs++
		b := &Batch{
			ID: *p.batchIDs, Partition: big.Partition,
			Records:  append([]broker.RecordID(nil), big.Records[start:end]...),
			rawBytes: k * recSize, maxRecordSize: min(big.maxRecordSize, k*recSize),
			codec: big.codec, ratio: big.ratio, realRatio: big.realRatio,
			firstTime: big.firstTime, CreatedAt: big.CreatedAt, lastAttempt: big.CreatedAt,
			ProducerID: -1, BaseSequence: -1, leaderEpoch: big.leaderEpoch,
			split: true, state: batchClosed,
			// writeMax stays 0: the pieces' buffers are allocated outside
			// buffer.memory (createBatchOffAccumulatorForRecord), and the
			// big batch's buffer goes back to the pool below.
		}
		b.Bytes = recordBatchOverhead + int(float64(b.rawBytes)*big.compressionRate())
		if big.hasSequence() {
			b.ProducerID, b.ProducerEpoch = big.ProducerID, big.ProducerEpoch
			b.BaseSequence = incrementSequence(big.BaseSequence, int32(start))
		}
		pieces = append(pieces, b)
	}
	e := p.entry(event.Split, big.Partition, big.ID, pieces[0].ID, pieces[len(pieces)-1].ID, -1, -1)
	e.Count, e.Err = int32(n), int16(broker.ErrMessageTooLarge)
	e.Bytes = int64(big.Bytes)
	p.w.Trace.Add(e)
	p.stats.BatchSplits++

	// The big batch is done: no callback, its buffer back to the pool
	// (maybeRemoveAndDeallocateBatch), off the in-flight sequences.
	if p.idem != nil && big.hasSequence() {
		p.idem.removeInflight(big)
	}
	big.become(batchSplit)
	p.deallocate(big)

	part := &p.parts[big.Partition]
	for i := len(pieces) - 1; i >= 0; i-- {
		b := pieces[i]
		if p.idem != nil && b.hasSequence() {
			// The pieces already have sequences: track them as in flight
			// and queue them in sequence order (insertInSequenceOrder).
			p.idem.addInflight(b)
			p.insertInSequenceOrder(part, b)
			continue
		}
		part.deque = append([]*Batch{b}, part.deque...)
	}
	p.wake()
}

// insertInSequenceOrder puts a batch that has a sequence into its
// partition's queue before the first queued batch with a higher sequence
// or none (RecordAccumulator.insertInSequenceOrder).
func (p *Producer) insertInSequenceOrder(part *partState, b *Batch) {
	i := 0
	for i < len(part.deque) && part.deque[i].hasSequence() && part.deque[i].BaseSequence < b.BaseSequence {
		i++
	}
	part.deque = append(part.deque, nil)
	copy(part.deque[i+1:], part.deque[i:])
	part.deque[i] = b
}
