package broker

import (
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The purgatory (DelayedOperationPurgatory of DelayedProduce): appends
// made as the leader with acks=all wait here until the high watermark
// passes them, the broker stops leading the partition, or their deadline
// passes. Clients' produce requests wait here, and so do the broker's own
// appends: the coordinator's __transaction_state writes and the markers a
// WriteTxnMarkers asked for.
//
// When a partition's high watermark moves, the internal appends settle
// first, each at once, and the produce requests after, answered together;
// Kafka completes them in the order they wait on the partition.
type purgatory struct {
	writes   []*delayedWrite   // the broker's own appends, one partition each
	produces []*delayedProduce // clients' acks=all produce requests
	timer    sim.Timer         // the earliest deadline
}

// delayedProduce is an acks=all request waiting for its offsets to be
// replicated (DelayedProduce).
type delayedProduce struct {
	deadline sim.Time
	client   sim.NodeID
	conn     uint32
	resp     *ProduceResponse
	required []int64 // per partition: the offset the HW must reach, -1 once settled
	pending  int
}

// delayedWrite is one of the broker's own appends waiting for the high
// watermark: a coordinator's log write, or the marker for one partition of
// a WriteTxnMarkers.
type delayedWrite struct {
	part     PartitionID
	need     int64 // the high watermark that settles it
	deadline sim.Time
	txn      *txnWrite    // a coordinator's write, or
	markers  *markerReply // the WriteTxnMarkers it is part of
	index    int          // and its partition's index there
}

// tryCompleteDelayed settles acks=all requests waiting on this partition
// (Partition.checkEnoughReplicasReachOffset).
func (b *Broker) tryCompleteDelayed(rep *Replica) {
	hw := rep.Log.HW()
	b.settleWrites(rep.ID, hw, ErrNone)
	minISR := b.minISR(rep.ID)
	done := false
	for _, d := range b.purgatory.produces {
		for i := range d.resp.Partitions {
			res := &d.resp.Partitions[i]
			if res.Partition != rep.ID || d.required[i] < 0 || hw < d.required[i] {
				continue
			}
			d.required[i] = -1
			d.pending--
			if len(rep.maximalISR()) < minISR {
				// Replicated to the HW, but the ISR shrank below
				// min.insync.replicas meanwhile: the data stays.
				res.Error = ErrNotEnoughReplicasAfterAppend
			}
			done = done || d.pending == 0
		}
	}
	if done {
		b.flushDelayed()
	}
}

// failDelayed gives an error to every waiting batch of a partition, when the
// broker stops leading it.
func (b *Broker) failDelayed(p PartitionID, err Error) {
	b.settleWrites(p, 0, err)
	done := false
	for _, d := range b.purgatory.produces {
		for i := range d.resp.Partitions {
			if d.resp.Partitions[i].Partition == p && d.required[i] >= 0 {
				d.required[i] = -1
				d.pending--
				d.resp.Partitions[i].Error = err
				done = done || d.pending == 0
			}
		}
	}
	if done {
		b.flushDelayed()
	}
}

// flushDelayed answers every settled delayed produce, oldest first.
func (b *Broker) flushDelayed() {
	q := &b.purgatory
	keep := q.produces[:0]
	var ready []*delayedProduce
	for _, d := range q.produces {
		if d.pending == 0 {
			ready = append(ready, d)
		} else {
			keep = append(keep, d)
		}
	}
	clear(q.produces[len(keep):])
	q.produces = keep
	b.armPurgatory()
	for _, d := range ready {
		b.sendProduceResponse(d.client, d.conn, d.resp)
	}
}

// armPurgatory sets the purgatory timer to the earliest deadline.
func (b *Broker) armPurgatory() {
	q := &b.purgatory
	next := sim.Never
	for _, d := range q.produces {
		next = min(next, d.deadline)
	}
	for _, w := range q.writes {
		next = min(next, w.deadline)
	}
	if next == sim.Never {
		q.timer.Stop()
		return
	}
	q.timer.Set(b.w, next)
}

// expireDelayed answers every acks=all request whose request.timeout.ms
// passed with REQUEST_TIMED_OUT for the partitions still waiting.
func (b *Broker) expireDelayed() {
	now := b.w.Now()
	b.takeWrites(func(w *delayedWrite) bool { return w.deadline <= now }, ErrRequestTimedOut)
	for _, d := range b.purgatory.produces {
		if d.deadline > now {
			continue
		}
		for i := range d.resp.Partitions {
			if d.required[i] >= 0 {
				res := &d.resp.Partitions[i]
				res.Error = ErrRequestTimedOut
				b.w.Trace.Add(b.entry(event.PurgatoryTimeout, res.Partition, res.Ref, res.BaseOffset, d.required[i]-1, -1, d.client))
				d.required[i] = -1
				d.pending--
			}
		}
	}
	b.flushDelayed()
}

// settleWrites completes the broker's own appends on a partition whose
// high watermark moved, or fails them all with err.
func (b *Broker) settleWrites(p PartitionID, hw int64, err Error) {
	b.takeWrites(func(w *delayedWrite) bool { return w.part == p && (err != ErrNone || hw >= w.need) }, err)
}

// takeWrites takes the waiting appends that ready picks out of the
// purgatory, then completes them with err in the order they came.
func (b *Broker) takeWrites(ready func(*delayedWrite) bool, err Error) {
	q := &b.purgatory
	var done []*delayedWrite
	keep := q.writes[:0]
	for _, w := range q.writes {
		if ready(w) {
			done = append(done, w)
		} else {
			keep = append(keep, w)
		}
	}
	clear(q.writes[len(keep):])
	q.writes = keep
	for _, w := range done {
		b.writeDone(w, err)
	}
}

// writeDone tells an append's owner how its wait ended.
func (b *Broker) writeDone(w *delayedWrite, err Error) {
	if w.txn != nil {
		b.coord.written(w.txn, err)
		return
	}
	r := w.markers
	r.resp.Errors[w.index] = err
	r.pending--
	if r.pending == 0 {
		b.w.Net.Send(b.id, r.from, r.resp)
	}
}
