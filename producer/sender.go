package producer

import (
	"fmt"
	"math"
	"slices"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/codec"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

type connState uint8

const (
	connDown connState = iota
	connConnecting
	connReady
)

type reqKind uint8

const (
	reqProduce reqKind = iota
	reqMetadata
	reqInitPID
	reqFindCoordinator
	reqAddPartitions
	reqEndTxn
)

// api is the request's name in Kafka's protocol (ApiKeys).
func (k reqKind) api() string {
	return [...]string{"Produce", "Metadata", "InitProducerId", "FindCoordinator", "AddPartitionsToTxn", "EndTxn"}[k]
}

// request is an in-flight request on a connection (InFlightRequests).
type request struct {
	id       int64
	kind     reqKind
	batches  []*Batch
	sentAt   sim.Time
	deadline sim.Time
}

// conn is the client side of a broker connection (NetworkClient and
// ClusterConnectionStates).
type conn struct {
	state         connState
	gen           uint32
	inflight      []*request
	retryAt       sim.Time // reconnect backoff
	failures      int      // disconnects since the last successful connect
	setupFailures int      // connection attempts that failed in a row
	setupBy       sim.Time
}

// nodeLatency is RecordAccumulator.NodeLatencyStats: when the sender last
// found the node with data ready, and when it last could also send to it.
// The gap is how long the node has been unable to take a request.
type nodeLatency struct {
	seen    bool
	readyAt sim.Time
	drainAt sim.Time
}

// metadataState is Metadata's refresh bookkeeping.
type metadataState struct {
	needed     bool
	inflight   bool
	nextAt     sim.Time // no refresh before this (the refresh backoff)
	lastAt     sim.Time // last successful refresh
	attempts   int      // failed refreshes in a row
	equivalent int      // responses in a row that taught nothing new
	answers    int64    // successful responses so far
}

// Stats are counters behind the producer metrics.
type Stats struct {
	RecordsSent       int64 // records in drained batches, retries included (record-send-total)
	BatchesSent       int64
	BatchBytes        int64
	Requests          int64 // produce requests sent
	Responses         int64 // produce requests that got a response
	LatencyTotal      sim.Time
	LatencyMax        sim.Time
	RecordsRetried    int64 // record-retry-total
	RecordsErrored    int64 // record-error-total
	QueueTimeTotal    sim.Time
	QueueTimeBatches  int64
	BufferWaitTotal   sim.Time              // bufferpool-wait-time-total
	BytesSent         int64                 // produce request bytes written to sockets (outgoing-byte-rate)
	ConnectionsClosed int64                 // connections closed or failed, any reason (connection-close-total)
	BatchSplits       int64                 // batches split after MESSAGE_TOO_LARGE (batch-split-total)
	RecordSizeMaxSum  int64                 // sum over sent batches of their largest record (record-size-avg)
	CompressionSum    float64               // sum over sent batches of compressed/uncompressed (compression-rate-avg)
	Errors            map[ErrorSource]int64 // see ErrorSource for what one count is
	// CompressionCPU is the application thread's CPU time compressing
	// records, from codec's cost table (Kafka has no metric for it).
	CompressionCPU sim.Time
}

// Add adds o's counts to s, for metrics summed over several producer
// instances.
func (s *Stats) Add(o *Stats) {
	s.RecordsSent += o.RecordsSent
	s.BatchesSent += o.BatchesSent
	s.BatchBytes += o.BatchBytes
	s.Requests += o.Requests
	s.Responses += o.Responses
	s.LatencyTotal += o.LatencyTotal
	s.LatencyMax = max(s.LatencyMax, o.LatencyMax)
	s.RecordsRetried += o.RecordsRetried
	s.RecordsErrored += o.RecordsErrored
	s.QueueTimeTotal += o.QueueTimeTotal
	s.QueueTimeBatches += o.QueueTimeBatches
	s.BufferWaitTotal += o.BufferWaitTotal
	s.BytesSent += o.BytesSent
	s.BatchSplits += o.BatchSplits
	s.ConnectionsClosed += o.ConnectionsClosed
	s.RecordSizeMaxSum += o.RecordSizeMaxSum
	s.CompressionSum += o.CompressionSum
	s.CompressionCPU += o.CompressionCPU
	for src, n := range o.Errors { // summing: the order does not matter
		if s.Errors == nil {
			s.Errors = make(map[ErrorSource]int64)
		}
		s.Errors[src] += n
	}
}

// ErrorSource is an error and where the producer met it: a request's
// answer (From is its Kafka API name: Produce counts one per batch
// attempt, the others one per request), or the client itself (From is one
// of the From* names below).
type ErrorSource struct {
	Err  broker.Error
	From string
}

// Where the client raises an error itself.
const (
	FromSend            = "send()"                    // send() failed the record at once, one count per record
	FromMaxBlock        = "send() after max.block.ms" // send() waited max.block.ms, one count per record
	FromDeliveryTimeout = "delivery.timeout.ms"       // a batch expired, one count per batch
	FromClose           = "close()"                   // a forced close failed it, one count per batch or record
)

func (s *Stats) countError(err broker.Error, from string) {
	if s.Errors == nil {
		s.Errors = make(map[ErrorSource]int64)
	}
	s.Errors[ErrorSource{err, from}]++
}

// run is Sender.runOnce, repeated while it makes progress, then a timer for
// the next moment something becomes due.
func (p *Producer) run() {
	p.running = true
	for {
		p.rerun = false
		p.runOnce()
		if !p.rerun || p.closed {
			break
		}
	}
	p.running = false
}

func (p *Producer) runOnce() {
	if p.closed {
		return
	}
	now := p.w.Now()
	p.checkTimeouts(now)
	p.expireBlocked(now)
	p.unblock()
	p.maybeUpdateMetadata(now)
	if p.idem != nil && p.txn == nil {
		p.idem.maybeResolveSequences()
		if p.idem.bumpEpochIfNeeded() {
			e := p.entry(event.EpochBump, -1, 0, -1, -1, int32(p.idem.epoch), -1)
			e.ProducerEpoch = p.idem.epoch
			p.w.Trace.Add(e)
		}
		if !p.idem.valid() {
			p.maybeInitProducerID(now)
		}
	}
	next := sim.Never
	txnBusy := p.txn != nil && p.topo != nil && p.maybeSendTxnRequest(now)
	// An idempotent producer's InitProducerId is a transactional request
	// too (InitProducerIdHandler): while it is out, no produce data goes
	// and nothing expires.
	txnBusy = txnBusy || (p.idem != nil && p.idem.initInflight)
	if p.topo != nil && !txnBusy {
		for {
			sent, wait := p.sendProducerData(now)
			next = min(next, wait)
			if !sent {
				break
			}
		}
	}
	if txnBusy {
		// Sender.maybeSendAndPollTransactionalRequest polls for
		// retry.backoff.ms and returns: produce data (and its expiry) waits
		// for the transactional request. A response wakes it earlier
		// (HandleMessage). With retry.backoff.ms=0 Kafka's loop spins on
		// poll(0) without changing anything until a response arrives or a
		// deadline passes, so the simulator sleeps until the next deadline
		// still ahead instead of waking every nanosecond.
		if p.cfg.RetryBackoffMs > 0 {
			next = now + sim.Millis(p.cfg.RetryBackoffMs)
			if p.txn != nil {
				for _, at := range []sim.Time{p.txn.retryAt, p.txn.findAt} {
					if at > now {
						next = min(next, at)
					}
				}
			}
		} else {
			next = p.nextDeadline(now)
		}
	} else {
		next = min(next, p.nextDeadline(-1))
	}
	if next < sim.Never {
		p.runTimer.Set(p.w, max(next, now+1))
	} else {
		p.runTimer.Stop()
	}
}

// sendProducerData is Sender.sendProducerData: find ready leaders, drain one
// batch per partition for each, expire what is too old, send.
func (p *Producer) sendProducerData(now sim.Time) (sent bool, next sim.Time) {
	ready, next, unknownLeader := p.ready(now)
	if unknownLeader {
		p.requestMetadata()
	}
	for _, node := range ready {
		canDrain := p.clientReady(node, now)
		p.updateNodeLatency(node, now, canDrain)
		if !canDrain {
			continue
		}
		batches := p.drain(node, now)
		if len(batches) == 0 {
			continue
		}
		if p.cfg.MaxInFlight == 1 {
			// guaranteeMessageOrder: mute each drained partition until its
			// response arrives.
			for _, b := range batches {
				p.parts[b.Partition].muted = true
			}
		}
		p.sendProduce(node, batches, now)
		sent = true
	}
	p.expireBatches(now)
	return sent, next
}

// ready is RecordAccumulator.ready: leaders with a partition whose first
// batch is full, has lingered long enough, or must go out now (flush), and
// is neither muted nor backing off. It also refreshes the adaptive
// partitioner's queue statistics.
func (p *Producer) ready(now sim.Time) (nodes []sim.NodeID, next sim.Time, unknownLeader bool) {
	next = sim.Never
	linger := sim.Millis(p.cfg.LingerMs)
	if len(p.readyBuf) != len(p.conns) {
		p.readyBuf = make([]bool, len(p.conns))
	}
	isReady := p.readyBuf
	clear(isReady)
	// exhausted (RecordAccumulator.ready: free.queued() > 0): a send()
	// waits for buffer memory, so every batch is ready now.
	exhausted := len(p.blocked) > 0 && p.blocked[0].memSince >= 0
	nodes = p.nodesBuf[:0]
	defer func() { p.nodesBuf = nodes }()
	for t := range p.topo.Topics {
		tp := &p.topo.Topics[t]
		queues, ids := p.queuesBuf[:0], p.idsBuf[:0]
		deques := 0
		for i := 0; i < tp.Partitions; i++ {
			if p.parts[tp.First+broker.PartitionID(i)].hasDeque {
				deques++
			}
		}
		adaptive := p.cfg.PartitionerAdaptive && deques >= tp.Partitions
		for i := 0; i < tp.Partitions; i++ {
			id := tp.First + broker.PartitionID(i)
			part := &p.parts[id]
			if !part.hasDeque {
				continue
			}
			if part.leader != broker.NoLeader && adaptive {
				queues = append(queues, len(part.deque))
				ids = append(ids, i)
			}
			if len(part.deque) == 0 {
				continue
			}
			if part.leader == broker.NoLeader {
				unknownLeader = true
				continue
			}
			if adaptive && p.unavailable(part.leader) {
				// partitioner.availability.timeout.ms: the leader has had
				// data ready that it could not take for too long, so the
				// sticky partitioner leaves this partition out
				// (RecordAccumulator.partitionReady).
				queues, ids = queues[:len(queues)-1], ids[:len(ids)-1]
			}
			if isReady[part.leader] || part.muted {
				continue
			}
			first := part.deque[0]
			p.noteLeaderEpoch(first, part.epoch)
			backingOff := p.backingOff(first, now)
			wait := linger
			if backingOff {
				wait = first.backoff
			}
			waited := first.waited(now)
			full := len(part.deque) > 1 || first.isFull()
			completing := p.txn != nil && p.txn.completing()
			if (full || waited >= wait || p.flushing || exhausted || completing) && !backingOff {
				isReady[part.leader] = true
				nodes = append(nodes, part.leader)
			} else {
				next = min(next, now+max(wait-waited, 0))
			}
		}
		if adaptive {
			p.topics[t].sticky.updateLoadStats(queues, ids, deques)
		} else {
			p.topics[t].sticky.updateLoadStats(nil, nil, deques)
		}
		p.queuesBuf, p.idsBuf = queues, ids
	}
	return nodes, next, unknownLeader
}

// updateNodeLatency is RecordAccumulator.updateNodeLatencyStats, called for
// every node ready() returned: both times move on when the sender can
// send to the node, only the ready time when it cannot (connecting, or
// max.in.flight.requests.per.connection reached).
func (p *Producer) updateNodeLatency(node sim.NodeID, now sim.Time, canDrain bool) {
	if p.cfg.PartitionerAvailabilityTimeoutMs <= 0 {
		return
	}
	if len(p.nodeStats) <= int(node) {
		p.nodeStats = append(p.nodeStats, make([]nodeLatency, int(node)+1-len(p.nodeStats))...)
	}
	st := &p.nodeStats[node]
	if !st.seen {
		*st = nodeLatency{seen: true, drainAt: now}
	}
	if canDrain {
		st.drainAt = now
	}
	st.readyAt = now
}

// unavailable reports whether a leader has gone longer than
// partitioner.availability.timeout.ms between ready and drained.
func (p *Producer) unavailable(node sim.NodeID) bool {
	if p.cfg.PartitionerAvailabilityTimeoutMs <= 0 || int(node) >= len(p.nodeStats) {
		return false
	}
	st := &p.nodeStats[node]
	return st.seen && st.readyAt-st.drainAt > sim.Millis(p.cfg.PartitionerAvailabilityTimeoutMs)
}

// noteLeaderEpoch is ProducerBatch.maybeUpdateLeaderEpoch (KIP-951).
func (p *Producer) noteLeaderEpoch(b *Batch, epoch int32) {
	if epoch > b.leaderEpoch {
		b.leaderChangedAt = b.Attempts
		b.leaderEpoch = epoch
	}
}

// backingOff is RecordAccumulator.shouldBackoff: a retried batch waits its
// backoff, unless the leader changed since it failed (KIP-951, Kafka 3.7+).
func (p *Producer) backingOff(b *Batch, now sim.Time) bool {
	if b.Attempts == 0 || b.waited(now) >= b.backoff {
		return false
	}
	return !(b.Attempts >= 1 && b.leaderChangedAt == b.Attempts)
}

// drain is RecordAccumulator.drainBatchesForOneNode: starting where the last
// drain for this broker stopped, take at most one batch per partition, up
// to max.request.size (the first batch always goes).
func (p *Producer) drain(node sim.NodeID, now sim.Time) []*Batch {
	parts := p.byLeader[node]
	if len(parts) == 0 {
		return nil
	}
	var out []*Batch
	size := 0
	start := p.drainIndex[node] % len(parts)
	i := start
	for {
		id := parts[i]
		p.drainIndex[node] = i
		i = (i + 1) % len(parts)
		part := &p.parts[id]
		if !part.muted && len(part.deque) > 0 {
			first := part.deque[0]
			p.noteLeaderEpoch(first, part.epoch)
			if !p.backingOff(first, now) {
				if size+first.Bytes > p.cfg.MaxRequestSize && len(out) > 0 {
					break
				}
				if p.idem != nil && p.idem.shouldStopDrain(first) {
					// Kafka stops draining this broker altogether here.
					break
				}
				if p.txn != nil && !p.txn.sendAllowed(first.Partition) {
					// Not yet added to the transaction (shouldStopDrainBatchesForPartition).
					break
				}
				part.deque = part.deque[1:]
				if p.idem != nil && !first.hasSequence() {
					p.idem.assign(first)
				}
				first.become(batchInFlight)
				p.compress(first)
				size += first.Bytes
				out = append(out, first)
				p.stats.QueueTimeTotal += now - first.CreatedAt
				p.stats.QueueTimeBatches++
			}
		}
		if i == start {
			break
		}
	}
	return out
}

// compress closes a batch's compressed stream (MemoryRecordsBuilder.close):
// the real compressed size replaces the estimate, and the observed ratio
// updates the topic's estimate for the batches that follow
// (CompressionRatioEstimator.updateEstimation).
func (p *Producer) compress(b *Batch) {
	if b.codec == codec.None || b.raw == nil {
		return
	}
	p.compressed = p.compressor.Compress(p.compressed[:0], b.raw)
	b.realRatio = codec.ObservedRatio(len(p.compressed), b.rawBytes)
	b.Bytes = recordBatchOverhead + len(p.compressed)
	b.raw = nil
	t := p.topo.Partitions[b.Partition].Topic
	p.topics[t].ratio.Update(b.realRatio)
}

// sendProduce puts one produce request on the connection.
func (p *Producer) sendProduce(node sim.NodeID, batches []*Batch, now sim.Time) {
	c := &p.conns[node]
	p.nextReqID++
	id := p.nextReqID
	pbs := make([]broker.ProduceBatch, len(batches))
	records := 0
	for i, b := range batches {
		pbs[i] = broker.ProduceBatch{
			BatchHeader: broker.BatchHeader{
				Partition: b.Partition, Ref: b.ID, ProducerID: b.ProducerID, ProducerEpoch: b.ProducerEpoch,
				BaseSequence: b.BaseSequence, Bytes: int32(b.Bytes), Transactional: p.txn != nil,
			},
			Records: b.Records,
		}
		records += len(b.Records)
		p.stats.BatchesSent++
		p.stats.BatchBytes += int64(b.Bytes)
		p.stats.RecordSizeMaxSum += int64(b.maxRecordSize)
		p.stats.CompressionSum += b.compressionRate()
		p.traceSend(b, node, id)
	}
	p.stats.RecordsSent += int64(records)
	p.stats.Requests++
	req := broker.NewProduceRequest(c.gen, id, p.cfg.Acks, sim.Millis(int64(p.cfg.RequestTimeoutMs)), pbs)
	if p.txn != nil {
		req.TransactionalID = p.txn.id
	}
	p.stats.BytesSent += int64(req.Size())
	p.w.Net.Send(p.id, node, req)
	if p.cfg.Acks == 0 {
		// No response is coming: the request is complete once written to the
		// socket, and every batch succeeds with offset -1.
		for _, b := range batches {
			p.completeBatch(b, broker.ErrNone, -1, broker.NoLeader, -1)
		}
		return
	}
	for _, b := range batches {
		part := &p.parts[b.Partition]
		part.inflight = append(part.inflight, b)
	}
	c.inflight = append(c.inflight, &request{id: id, kind: reqProduce, batches: batches, sentAt: now,
		deadline: now + sim.Millis(int64(p.cfg.RequestTimeoutMs))})
}

func (p *Producer) traceSend(b *Batch, node sim.NodeID, req int64) {
	first, last, epoch := int64(-1), int64(-1), int32(-1)
	if b.hasSequence() {
		first, last, epoch = int64(b.BaseSequence), int64(b.LastSequence()), int32(b.ProducerEpoch)
	}
	e := p.entry(event.Send, b.Partition, b.ID, first, last, epoch, node)
	if b.hasSequence() {
		e.ProducerID, e.ProducerEpoch, e.Seq = b.ProducerID, b.ProducerEpoch, b.BaseSequence
	}
	e.Attempt, e.Count, e.Bytes, e.Req = int32(b.Attempts+1), int32(len(b.Records)), int64(b.Bytes), req
	p.w.Trace.Add(e)
}

func (p *Producer) handleProduceResponse(from sim.NodeID, m *broker.ProduceResponse) {
	req := p.takeRequest(from, m.ID)
	if req == nil {
		return // the connection it came on was closed
	}
	now := p.w.Now()
	lat := now - req.sentAt
	p.stats.Responses++
	p.stats.LatencyTotal += lat
	p.stats.LatencyMax = max(p.stats.LatencyMax, lat)
	for i, b := range req.batches {
		r := &m.Partitions[i]
		p.completeBatch(b, r.Error, r.BaseOffset, r.Leader, r.LeaderEpoch)
	}
}

// takeRequest pairs a response with the oldest request in flight on its
// connection (NetworkClient's inFlightRequests.completeNext): a connection
// is one TCP stream and the broker answers its requests in order. A
// response whose request is not in flight arrived on a connection the
// producer has since closed, and is discarded.
func (p *Producer) takeRequest(from sim.NodeID, id int64) *request {
	c := &p.conns[from]
	if len(c.inflight) > 0 && c.inflight[0].id == id {
		r := c.inflight[0]
		c.inflight[0] = nil
		c.inflight = c.inflight[1:]
		return r
	}
	for _, r := range c.inflight {
		if r.id == id {
			panic(fmt.Sprintf("producer: the response to request %d overtook an earlier request on its connection to node %d (a TCP stream delivers in order)", id, from))
		}
	}
	return nil
}

// removeInflightBatch takes a batch off its partition's in-flight list,
// where a batch failed by close or a fatal error may still be.
func (p *Producer) removeInflightBatch(b *Batch) {
	part := &p.parts[b.Partition]
	for i, x := range part.inflight {
		if x == b {
			part.inflight = append(part.inflight[:i:i], part.inflight[i+1:]...)
			break
		}
	}
}

// completeBatch is Sender.completeBatch: success, retry, or failure.
func (p *Producer) completeBatch(b *Batch, err broker.Error, baseOffset int64, leader sim.NodeID, leaderEpoch int32) {
	p.removeInflightBatch(b)
	now := p.w.Now()
	if err == broker.ErrNone {
		if p.idem != nil && b.hasSequence() {
			// Recorded even for a batch that already expired: the broker
			// has it (TransactionManager.handleCompletedBatch runs first).
			p.idem.handleCompletedBatch(b)
		}
		if !b.done() {
			p.finish(b, baseOffset, broker.ErrNone)
		}
	} else {
		p.stats.countError(err, reqProduce.api())
		switch {
		case err == broker.ErrMessageTooLarge && len(b.Records) > 1 && !b.done():
			// Split, without counting a retry (Sender.completeBatch).
			p.splitAndReenqueue(b)
		case p.canRetry(b, err, now):
			p.reenqueue(b, err, now)
		case err == broker.ErrDuplicateSequenceNumber:
			if p.idem != nil {
				p.idem.handleCompletedBatch(b)
			}
			p.finish(b, -1, broker.ErrNone)
		case !b.done():
			p.failBatch(b, err, b.Attempts < p.cfg.Retries)
		}
		if err.InvalidMetadata() {
			if err == broker.ErrNotLeaderOrFollower || err == broker.ErrFencedLeaderEpoch {
				p.leaderHint(b.Partition, leader, leaderEpoch)
			}
			p.requestMetadata()
		}
	}
	if p.cfg.MaxInFlight == 1 {
		p.parts[b.Partition].muted = false
	}
}

func (p *Producer) canRetry(b *Batch, err broker.Error, now sim.Time) bool {
	if now-b.CreatedAt >= sim.Millis(int64(p.cfg.DeliveryTimeoutMs)) || b.Attempts >= p.cfg.Retries || b.done() {
		return false
	}
	if p.txn != nil {
		// TransactionManager.canRetry with a transactional.id: an
		// OUT_OF_ORDER_SEQUENCE_NUMBER is retried only behind an earlier
		// failure; a real gap, or UNKNOWN_PRODUCER_ID, aborts the transaction.
		switch err {
		case broker.ErrOutOfOrderSequenceNumber:
			return b.seqReset || !p.idem.isNextSequence(b.Partition, b.BaseSequence)
		case broker.ErrUnknownProducerID:
			return false
		}
		return err.Retriable()
	}
	if p.idem != nil {
		return p.idem.canRetry(err, b)
	}
	return err.Retriable()
}

// reenqueue puts a failed batch back at the front of its queue
// (RecordAccumulator.reenqueue): in sequence order for an idempotent
// producer, first otherwise. The next attempt waits retry.backoff.ms
// growing exponentially to retry.backoff.max.ms with ±20% jitter (KIP-580),
// drawn once per retry from the seeded stream.
func (p *Producer) reenqueue(b *Batch, err broker.Error, now sim.Time) {
	b.Attempts++
	b.lastAttempt = now
	b.become(batchRetrying)
	b.backoff = p.backoff(b.Attempts - 1)
	p.stats.RecordsRetried += int64(len(b.Records))
	e := p.entry(event.Retry, b.Partition, b.ID, -1, -1, -1, -1)
	e.Err, e.Attempt, e.X().Dur = int16(err), int32(b.Attempts+1), b.backoff.Duration()
	p.w.Trace.Add(e)
	part := &p.parts[b.Partition]
	if p.idem != nil {
		p.insertInSequenceOrder(part, b)
		return
	}
	part.deque = append([]*Batch{b}, part.deque...)
}

// backoff is the retry backoff: retry.backoff.ms doubling per attempt up
// to retry.backoff.max.ms, with ±20% jitter (KIP-580).
func (p *Producer) backoff(attempts int) sim.Time {
	return p.expBackoff(p.cfg.RetryBackoffMs, p.cfg.RetryBackoffMaxMs, attempts)
}

// expBackoff is ExponentialBackoff(initial, 2, max, 0.2).backoff(attempts),
// the client's one backoff rule for retries, reconnects, connection setup
// timeouts and metadata refreshes. Kafka draws the jitter on every call; the
// simulator draws it once per use, from the producer's seeded stream.
func (p *Producer) expBackoff(initialMs, maxMs int64, attempts int) sim.Time {
	initial := min(initialMs, maxMs)
	if maxMs <= initial {
		return sim.Millis(initial) // a static backoff (with a warning in Kafka)
	}
	expMax := math.Log(float64(maxMs)/float64(max(initial, 1))) / math.Log(2)
	term := float64(initial) * math.Pow(2, math.Min(float64(attempts), expMax))
	jitter := 0.8 + float64(0.4*p.rng.Float64()) // no fused multiply-add: same bits on every CPU
	return sim.Millis(min(int64(jitter*term), maxMs))
}

// failBatch is Sender.failBatch: the callbacks get err, and the
// transaction manager decides what the failure means
// (TransactionManager.handleFailedBatch, maybeTransitionToErrorState).
func (p *Producer) failBatch(b *Batch, err broker.Error, adjustSequences bool) {
	if p.idem != nil {
		p.idem.handleFailedBatch(b, err, adjustSequences)
	}
	p.finish(b, -1, err)
	switch {
	case p.txn != nil:
		p.txnBatchFailed(err)
	case p.idem != nil && err.Fatal():
		p.idempotentFatal(err)
	}
}

// idempotentFatal puts a non-transactional idempotent producer in its fatal
// state (transitionToFatalError): the sender fails every batch with the
// error (Sender.maybeAbortBatches), and send() fails from now on. Only
// close() is left to the application.
func (p *Producer) idempotentFatal(err broker.Error) {
	if p.idem.fatal != broker.ErrNone {
		return
	}
	p.idem.fatal = err
	e := p.entry(event.ProducerFatal, -1, 0, -1, -1, -1, -1)
	e.Err = int16(err)
	p.w.Trace.Add(e)
	p.abortBatches(err)
}

// abortBatches fails every batch not yet finished, queued or in flight
// (Sender.maybeAbortBatches, RecordAccumulator.abortBatches).
func (p *Producer) abortBatches(err broker.Error) {
	for i := range p.parts {
		part := &p.parts[i]
		for _, b := range part.deque {
			p.finish(b, -1, err)
		}
		part.deque = nil
		for _, b := range part.inflight {
			p.finish(b, -1, err)
		}
	}
}

// finish runs a batch's callbacks once.
func (p *Producer) finish(b *Batch, baseOffset int64, err broker.Error) {
	if b.done() {
		return
	}
	if err == broker.ErrNone {
		b.become(batchSucceeded)
	} else {
		b.become(batchFailed)
	}
	defer p.deallocate(b)
	if err == broker.ErrNone {
		last := int64(-1)
		if baseOffset >= 0 {
			last = baseOffset + int64(len(b.Records)) - 1
		}
		e := p.entry(event.Ack, b.Partition, b.ID, baseOffset, last, -1, -1)
		e.Acks = p.cfg.Acks
		p.w.Trace.Add(e)
	} else {
		if err == broker.ErrProducerClosed {
			p.stats.countError(err, FromClose) // every other error was counted where it arrived
		}
		p.stats.RecordsErrored += int64(len(b.Records))
		e := p.entry(event.Fail, b.Partition, b.ID, -1, -1, -1, -1)
		e.Err = int16(err)
		p.w.Trace.Add(e)
	}
	p.queueCallback(listenerCall{kind: cbCompleted, batch: b, base: baseOffset, err: err})
	if p.txn != nil && p.txn.op == OpCommitTransaction {
		// commitTransaction() waits for every batch: the sender looks
		// again whether its EndTxn can go out, or the call fail.
		p.wake()
	}
}

// deallocate returns a completed batch's buffer to the pool
// (RecordAccumulator.deallocate) and lets a send() waiting for memory go on.
func (p *Producer) deallocate(b *Batch) {
	p.bufferUsed -= int64(b.writeMax)
	if len(p.blocked) > 0 {
		p.wake()
	}
}

// expireBatches fails batches older than delivery.timeout.ms, measured from
// creation: queued ones from the head of each queue, and in-flight ones
// whose request is still out (RecordAccumulator.expiredBatches,
// Sender.getExpiredInflightBatches).
func (p *Producer) expireBatches(now sim.Time) {
	limit := sim.Millis(int64(p.cfg.DeliveryTimeoutMs))
	for i := range p.parts {
		part := &p.parts[i]
		for len(part.deque) > 0 && now-part.deque[0].CreatedAt >= limit {
			b := part.deque[0]
			part.deque = part.deque[1:]
			p.expire(b, now)
		}
		for len(part.inflight) > 0 && now-part.inflight[0].CreatedAt >= limit {
			b := part.inflight[0]
			p.removeInflightBatch(b)
			p.expire(b, now)
		}
	}
}

func (p *Producer) expire(b *Batch, now sim.Time) {
	e := p.entry(event.Expire, b.Partition, b.ID, -1, -1, -1, -1)
	e.X().Limit = int64(p.cfg.DeliveryTimeoutMs)
	p.w.Trace.Add(e)
	p.stats.countError(broker.ErrTimeout, FromDeliveryTimeout)
	p.failBatch(b, broker.ErrTimeout, false)
	if p.idem != nil && b.inRetry() {
		// Nothing new drains until the in-flight batches settle
		// (Sender.sendProducerData, markSequenceUnresolved).
		p.idem.markUnresolved(b)
	}
}

// expireBlocked fails send() calls that waited max.block.ms: for metadata
// with TimeoutException (KafkaProducer.waitOnMetadata), for memory with
// BufferExhaustedException (BufferPool.allocate).
func (p *Producer) expireBlocked(now sim.Time) {
	expired := false
	for len(p.blocked) > 0 && now >= p.blocked[0].deadline {
		bl := p.blocked[0]
		p.blocked = p.blocked[1:]
		expired = true
		if bl.memSince >= 0 {
			p.stats.BufferWaitTotal += now - bl.memSince
			e := sim.E(now, p.id, event.BufferExhausted)
			e.X().Limit, e.Bytes = p.cfg.MaxBlockMs, p.cfg.BufferMemory
			p.w.Trace.Add(e)
			p.reject(bl.r, broker.ErrBufferExhausted, FromMaxBlock)
			continue
		}
		p.reject(bl.r, broker.ErrTimeout, FromMaxBlock)
	}
	if expired && len(p.blocked) == 0 {
		p.blocked = nil
		p.queueCallback(listenerCall{kind: cbUnblocked})
	}
}

// sendFailed fails a record inside send() with an ApiException
// (KafkaProducer.doSend catches it): the callback gets it, and the
// transaction manager decides what it means (maybeTransitionToErrorState):
// a transaction can only be aborted, a fatal error ends the producer.
func (p *Producer) sendFailed(r Record, err broker.Error) {
	p.reject(r, err, FromSend)
	switch {
	case p.txn != nil:
		p.txnBatchFailed(err)
	case p.idem != nil && err.Fatal():
		p.idempotentFatal(err)
	}
}

// reject fails a record inside send(), before it reached a batch; from
// says where (FromSend, FromMaxBlock, FromClose).
func (p *Producer) reject(r Record, err broker.Error, from string) {
	p.stats.countError(err, from)
	p.stats.RecordsErrored++
	p.queueCallback(listenerCall{kind: cbRejected, rec: r, err: err})
}

// nextDeadline is the earliest moment after after at which a timer-driven
// condition falls due (after -1: any, even one already past).
func (p *Producer) nextDeadline(after sim.Time) sim.Time {
	next := sim.Never
	due := func(at sim.Time) {
		if at > after {
			next = min(next, at)
		}
	}
	now := p.w.Now()
	if p.txn != nil {
		for _, at := range []sim.Time{p.txn.retryAt, p.txn.findAt} {
			if at > now {
				due(at)
			}
		}
	}
	if p.idem != nil && p.idem.initRetryAt > now {
		due(p.idem.initRetryAt)
	}
	limit := sim.Millis(int64(p.cfg.DeliveryTimeoutMs))
	for i := range p.parts {
		part := &p.parts[i]
		if len(part.inflight) > 0 {
			due(part.inflight[0].CreatedAt + limit)
		}
		if len(part.deque) > 0 {
			due(part.deque[0].CreatedAt + limit)
		}
	}
	for i := range p.conns {
		c := &p.conns[i]
		for _, r := range c.inflight {
			due(r.deadline)
		}
		if c.state == connConnecting {
			due(c.setupBy)
		}
		if c.state == connDown && c.retryAt > now {
			due(c.retryAt)
		}
	}
	if len(p.blocked) > 0 {
		due(p.blocked[0].deadline)
	}
	if p.meta.needed && !p.meta.inflight && p.meta.nextAt > now {
		due(p.meta.nextAt)
	}
	if p.topo != nil && !p.meta.needed {
		due(p.meta.lastAt + sim.Millis(p.cfg.MetadataMaxAgeMs))
	}
	return next
}

// ---- connections ----

// clientReady is NetworkClient.ready: connected and below
// max.in.flight.requests.per.connection. It starts a connection if there is
// none and the reconnect backoff allows.
func (p *Producer) clientReady(node sim.NodeID, now sim.Time) bool {
	c := &p.conns[node]
	switch c.state {
	case connReady:
		return len(c.inflight) < p.cfg.MaxInFlight
	case connDown:
		if now >= c.retryAt {
			p.connect(node, now)
		}
	}
	return false
}

func (p *Producer) connect(node sim.NodeID, now sim.Time) {
	c := &p.conns[node]
	c.gen++
	c.state = connConnecting
	// socket.connection.setup.timeout.ms grows with failed attempts up to
	// socket.connection.setup.timeout.max.ms (ClusterConnectionStates).
	c.setupBy = now + p.expBackoff(p.cfg.ConnectionSetupTimeoutMs, p.cfg.ConnectionSetupMaxMs, c.setupFailures)
	p.w.Net.Send(p.id, node, broker.Connect{Conn: c.gen})
}

func (p *Producer) connected(node sim.NodeID, gen uint32) {
	c := &p.conns[node]
	if c.state != connConnecting || c.gen != gen {
		return
	}
	c.state = connReady
	c.failures = 0
	c.setupFailures = 0
}

// disconnect closes a connection and fails what was in flight on it: with
// NETWORK_EXCEPTION when the peer went away, REQUEST_TIMED_OUT when a request
// timed out (NetworkClient.handleTimedOutRequests closes the whole
// connection). The next connection waits reconnect.backoff.ms, growing
// exponentially to reconnect.backoff.max.ms with ±20% jitter.
func (p *Producer) disconnect(node sim.NodeID, err broker.Error, why string) {
	c := &p.conns[node]
	if c.state == connDown {
		return
	}
	now := p.w.Now()
	// The connection is gone: nothing still on its way in either direction
	// arrives on the next one, which is a new stream (the simulator's
	// network carries both on one link, so it discards them here).
	p.w.Net.Close(p.id, node, 0, 0) // a client's requests and answers travel on channel 0
	if c.state == connReady && err == broker.ErrRequestTimedOut {
		p.w.Net.Send(p.id, node, broker.Close{Conn: c.gen})
	}
	if c.state == connConnecting {
		c.setupFailures++
	} else {
		c.setupFailures = 0
	}
	c.state = connDown
	p.stats.ConnectionsClosed++ // Selector's connection-close sensor
	// ClusterConnectionStates.updateReconnectBackoff.
	c.retryAt = now + p.expBackoff(p.cfg.ReconnectBackoffMs, p.cfg.ReconnectBackoffMaxMs, c.failures)
	c.failures++
	reqs := c.inflight
	c.inflight = nil
	e := p.entry(event.Disconnect, -1, 0, -1, -1, -1, node)
	e.X().Label, e.Count, e.Err = why, int32(len(reqs)), int16(err)
	p.w.Trace.Add(e)
	for _, r := range reqs {
		switch r.kind {
		case reqProduce:
			for _, b := range r.batches {
				p.completeBatch(b, err, -1, broker.NoLeader, -1)
			}
		case reqMetadata:
			p.metadataFailed()
		case reqInitPID:
			p.idem.initInflight = false
			if p.txn != nil {
				p.txnRequestFailed(r.kind)
			}
		case reqFindCoordinator, reqAddPartitions, reqEndTxn:
			p.txnRequestFailed(r.kind)
		}
	}
	// A disconnect is an InvalidMetadataException: refresh.
	p.requestMetadata()
}

// checkTimeouts closes connections whose oldest request passed
// request.timeout.ms, and connection attempts past their setup timeout.
func (p *Producer) checkTimeouts(now sim.Time) {
	for i := range p.conns {
		c := &p.conns[i]
		node := sim.NodeID(i)
		switch {
		case c.state == connConnecting && now >= c.setupBy:
			p.disconnect(node, broker.ErrNetworkException, "connection setup timed out")
		case c.state == connReady:
			for _, r := range c.inflight {
				if now >= r.deadline {
					e := p.entry(event.RequestTimeout, -1, 0, -1, -1, -1, node)
					e.Req, e.X().Limit = r.id, int64(p.cfg.RequestTimeoutMs)
					p.w.Trace.Add(e)
					p.disconnect(node, broker.ErrRequestTimedOut, "request timed out")
					break
				}
			}
		}
	}
}

// ---- metadata ----

func (p *Producer) requestMetadata() { p.meta.needed = true }

// metadataFailed is Metadata.failedUpdate: the next refresh waits a backoff
// that grows with failures in a row.
func (p *Producer) metadataFailed() {
	p.meta.inflight = false
	p.meta.attempts++
	p.meta.nextAt = p.w.Now() + p.backoff(p.meta.attempts-1)
}

// leastLoadedNode picks a connected broker with the fewest requests in flight
// (NetworkClient.leastLoadedNode), starting the scan at a random broker. If
// none is connected it starts connecting to one it may try.
func (p *Producer) leastLoadedNode(now sim.Time) sim.NodeID {
	n := len(p.brokers)
	offset := p.rng.IntN(n)
	best, bestLoad := sim.NoNode, math.MaxInt
	var candidate sim.NodeID = sim.NoNode
	for i := 0; i < n; i++ {
		b := p.brokers[(offset+i)%n]
		c := &p.conns[b]
		switch {
		case c.state == connReady && len(c.inflight) < p.cfg.MaxInFlight && len(c.inflight) < bestLoad:
			best, bestLoad = b, len(c.inflight)
		case c.state == connDown && now >= c.retryAt && candidate == sim.NoNode:
			candidate = b
		}
	}
	if best == sim.NoNode && candidate != sim.NoNode {
		p.connect(candidate, now)
	}
	return best
}

func (p *Producer) maybeUpdateMetadata(now sim.Time) {
	if p.topo != nil && now >= p.meta.lastAt+sim.Millis(p.cfg.MetadataMaxAgeMs) {
		// A periodic refresh starts the equivalent-response backoff over.
		p.meta.needed = true
		p.meta.equivalent = 0
	}
	if !p.meta.needed || p.meta.inflight || now < p.meta.nextAt {
		return
	}
	p.meta.inflight = p.sendToLeastLoaded(now, reqMetadata, func(conn uint32, id int64) sim.Message {
		return &broker.MetadataRequest{Conn: conn, ID: id}
	})
}

// sendToLeastLoaded sends a control request (metadata, InitProducerId) to the
// least loaded broker, as NetworkClient does. It reports whether one went.
func (p *Producer) sendToLeastLoaded(now sim.Time, kind reqKind, build func(conn uint32, id int64) sim.Message) bool {
	node := p.leastLoadedNode(now)
	if node == sim.NoNode {
		return false
	}
	c := &p.conns[node]
	p.nextReqID++
	c.inflight = append(c.inflight, &request{id: p.nextReqID, kind: kind, sentAt: now,
		deadline: now + sim.Millis(int64(p.cfg.RequestTimeoutMs))})
	p.w.Net.Send(p.id, node, build(c.gen, p.nextReqID))
	return true
}

func (p *Producer) handleMetadataResponse(from sim.NodeID, m *broker.MetadataResponse) {
	if p.takeRequest(from, m.ID) == nil {
		return
	}
	now := p.w.Now()
	if m.Snapshot == nil {
		p.metadataFailed() // the broker has no metadata yet
		return
	}
	p.meta.inflight = false
	p.meta.needed = false
	p.meta.lastAt = now
	p.meta.attempts = 0
	p.meta.answers++
	p.meta.equivalent++
	if p.topo == nil {
		p.initTopology(m.Topology)
	}
	// The partitioners use the partition count the metadata gives
	// (Cluster.partitionsForTopic): partitions added to a topic take part
	// from the first refresh that lists them. A broker with older metadata
	// cannot take them away again.
	for t := range p.topo.Topics {
		n := m.Topology.Topics[t].Partitions
		if t < len(m.Snapshot.TopicPartitions) {
			n = m.Snapshot.TopicPartitions[t]
		}
		if tp := &p.topo.Topics[t]; n > tp.Partitions {
			if tp.Partitions > 0 {
				e := sim.E(now, p.id, event.Partitions)
				e.Count = int32(n)
				e.Ext = &event.Ext{Note: tp.Name, Prev: int32(tp.Partitions), Broker: int32(from)}
				p.w.Trace.Add(e)
			}
			tp.Partitions = n
		}
	}
	changed := p.topicErrors(m, from)
	for i, st := range m.Snapshot.Partitions {
		part := &p.parts[i]
		if m.TopicErrors != nil && m.TopicErrors[p.topo.Partitions[i].Topic] != broker.ErrNone {
			continue // no partition metadata for a topic with an error
		}
		// Metadata.updateLatestMetadata keeps what it knows when the
		// response carries an older leader epoch, and counts a response
		// with no newer epoch as equivalent.
		if st.LeaderEpoch < part.epoch {
			continue
		}
		if st.LeaderEpoch > part.epoch {
			p.meta.equivalent = 0
		}
		if part.leader != st.Leader || part.epoch != st.LeaderEpoch {
			if part.leader != st.Leader && p.topo.Topics[p.topo.Partitions[i].Topic].Name != broker.TransactionStateTopic {
				e := p.entry(event.Leader, broker.PartitionID(i), 0, -1, -1, st.LeaderEpoch, st.Leader)
				e.X().Broker = int32(from)
				p.w.Trace.Add(e)
			}
			part.leader, part.epoch = st.Leader, st.LeaderEpoch
			changed = true
		}
	}
	if changed {
		p.rebuildByLeader()
	}
	// Metadata.timeToAllowUpdate: at least retry.backoff.ms, more while
	// refreshes keep returning nothing new (KIP-580).
	wait := p.backoff(0)
	if p.meta.equivalent > 0 {
		wait = max(wait, p.backoff(p.meta.equivalent-1))
	}
	p.meta.nextAt = now + wait
	p.unblock()
}

// topicErrors applies a metadata answer's topic errors
// (Metadata.handleMetadataResponse): a topic with an error has no
// partition metadata, so its partitions have no known leader; a retriable
// error asks for metadata again, a non-retriable one
// (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION) fails send() to the
// topic until an answer without it. It reports whether a leader changed.
func (p *Producer) topicErrors(m *broker.MetadataResponse, from sim.NodeID) bool {
	changed := false
	for t := range p.topo.Topics {
		err := broker.ErrNone
		if m.TopicErrors != nil {
			err = m.TopicErrors[t]
		}
		ts := &p.topics[t]
		switch {
		case err == broker.ErrNone:
			ts.metaErr = broker.ErrNone
			continue
		case err.Retriable():
			ts.metaErr = broker.ErrNone
			p.requestMetadata()
		default:
			ts.metaErr = err
		}
		p.stats.countError(err, reqMetadata.api())
		e := sim.E(p.w.Now(), p.id, event.TopicError)
		e.Err = int16(err)
		e.Ext = &event.Ext{Note: p.topo.Topics[t].Name, Broker: int32(from)}
		p.w.Trace.Add(e)
		tp := &p.topo.Topics[t]
		for i := tp.First; i < tp.First+broker.PartitionID(tp.Partitions); i++ {
			if p.parts[i].leader != broker.NoLeader {
				p.parts[i].leader = broker.NoLeader
				changed = true
			}
		}
	}
	return changed
}

// leaderHint applies the leader a NOT_LEADER_OR_FOLLOWER response names
// (KIP-951), if it is newer than what the producer knows.
func (p *Producer) leaderHint(id broker.PartitionID, leader sim.NodeID, epoch int32) {
	part := &p.parts[id]
	if leader == broker.NoLeader || epoch <= part.epoch {
		return
	}
	part.leader, part.epoch = leader, epoch
	e := p.entry(event.Leader, id, 0, -1, -1, epoch, leader)
	e.Flags = event.LeaderHint
	p.w.Trace.Add(e)
	p.rebuildByLeader()
}

func (p *Producer) initTopology(t *broker.Topology) {
	// The producer's own copy: a topic's Partitions is the count its
	// metadata lists so far, set by handleMetadataResponse.
	p.topo = &broker.Topology{Brokers: t.Brokers, Topics: slices.Clone(t.Topics), Partitions: t.Partitions}
	for i := range p.topo.Topics {
		p.topo.Topics[i].Partitions = 0
	}
	p.parts = make([]partState, len(t.Partitions))
	for i := range p.parts {
		p.parts[i] = partState{leader: broker.NoLeader, epoch: -1}
	}
	p.topics = make([]topicState, len(t.Topics))
	for i := range p.topics {
		p.topics[i].sticky = newStickyPartitioner(p.cfg.BatchSize, p.w.Stream(p.w.NodeName(p.id)+"/partitioner/"+t.Topics[i].Name))
		p.topics[i].ratio = codec.NewRatioEstimator()
	}
	if p.idem != nil {
		p.idem.grow(len(t.Partitions))
	}
}

func (p *Producer) rebuildByLeader() {
	p.byLeader = make([][]broker.PartitionID, len(p.conns))
	for i := range p.parts {
		if l := p.parts[i].leader; l != broker.NoLeader {
			p.byLeader[l] = append(p.byLeader[l], broker.PartitionID(i))
		}
	}
}

// unblock lets blocked send() calls proceed, in order, as far as metadata
// and memory allow.
func (p *Producer) unblock() {
	if p.topo == nil || p.closed {
		return
	}
	now := p.w.Now()
	n := 0
	for i := range p.blocked {
		bl := &p.blocked[i]
		if err := p.topics[bl.r.Topic].metaErr; err != broker.ErrNone {
			// KafkaProducer.waitOnMetadata: the topic's last metadata had
			// an error, so send() asks again and waits for the answer;
			// it throws if that answer has the error too
			// (Metadata.maybeThrowExceptionForTopic).
			if bl.metaSeen < 0 || bl.metaSeen == p.meta.answers {
				if bl.metaSeen < 0 {
					bl.metaSeen = p.meta.answers
				}
				p.requestMetadata()
				break
			}
			p.sendFailed(bl.r, err)
			n++
			continue
		}
		if !p.append(bl.r) {
			if bl.memSince < 0 {
				p.blocked[n].memSince = now
			}
			break
		}
		if bl.memSince >= 0 {
			p.stats.BufferWaitTotal += now - bl.memSince
		}
		n++
	}
	if n == 0 {
		return
	}
	p.blocked = p.blocked[n:]
	if len(p.blocked) == 0 {
		p.blocked = nil
		p.queueCallback(listenerCall{kind: cbUnblocked})
	}
}

// ---- InitProducerId ----

func (p *Producer) maybeInitProducerID(now sim.Time) {
	if p.idem.initInflight || now < p.idem.initRetryAt || p.idem.fatal != broker.ErrNone {
		return
	}
	p.idem.initInflight = p.sendToLeastLoaded(now, reqInitPID, func(conn uint32, id int64) sim.Message {
		return &broker.InitProducerIDRequest{Conn: conn, ID: id, ProducerID: -1, ProducerEpoch: -1}
	})
}

func (p *Producer) handleInitProducerID(from sim.NodeID, m *broker.InitProducerIDResponse) {
	if p.takeRequest(from, m.ID) == nil {
		return
	}
	p.idem.initInflight = false
	if p.txn != nil {
		p.handleTxnInitProducerID(m)
		return
	}
	if m.Error != broker.ErrNone {
		// InitProducerIdHandler without a transactional.id: a retriable
		// error asks again after retry.backoff.ms; any other leaves the
		// producer without an id, which the simulator treats as fatal
		// (Kafka 4.x moves to an abortable error state that a producer
		// without transactions cannot leave, or to its fatal state).
		p.stats.countError(m.Error, reqInitPID.api())
		if m.Error.Retriable() {
			p.idem.initRetryAt = p.w.Now() + sim.Millis(p.cfg.RetryBackoffMs)
			return
		}
		p.idempotentFatal(m.Error)
		return
	}
	p.idem.pid, p.idem.epoch = m.ProducerID, m.Epoch
	p.traceProducerID(m, from)
}

// traceProducerID records the producer id and epoch a broker granted.
func (p *Producer) traceProducerID(m *broker.InitProducerIDResponse, from sim.NodeID) {
	e := p.entry(event.InitProducerID, -1, 0, m.ProducerID, -1, int32(m.Epoch), from)
	e.ProducerID, e.ProducerEpoch = m.ProducerID, m.Epoch
	if p.txn != nil {
		e.X().TxnID = p.txn.id
	}
	p.w.Trace.Add(e)
}
