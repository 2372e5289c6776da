// Package producer models the Java Kafka producer (4.x): configuration with
// Kafka's names, defaults and validation; the partitioner; the record
// accumulator; the sender with its in-flight requests, retries, backoff and
// timeouts; and the idempotent producer's sequence bookkeeping.
//
// A Producer is a node on sim's network. It talks to brokers only through
// messages, so every request can be delayed, lost or cut off.
package producer

import (
	"math/rand/v2"
	"slices"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/codec"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Listener receives the producer's callbacks.
type Listener interface {
	// Completed runs a batch's callbacks: err is ErrNone with the base
	// offset (-1 with acks=0), or the error every record of the batch gets.
	Completed(b *Batch, baseOffset int64, err broker.Error)
	// Rejected is a record that failed inside send(), before any batch:
	// metadata or buffer memory not available within max.block.ms, or too
	// large.
	Rejected(r Record, err broker.Error)
	// Unblocked says that send() returned after blocking (for metadata or
	// buffer memory): the application thread may send again.
	Unblocked()
	// TransactionDone ends a blocking transactional call
	// (initTransactions, commitTransaction, abortTransaction): err is
	// ErrNone, or the exception the call throws.
	TransactionDone(op TxnOp, err broker.Error)
	// Closed says that close() returned: every callback of the closed
	// producer ran, and the producer is gone.
	Closed()
}

// Producer timer kinds.
const (
	kindRun       sim.Kind = sim.FirstUserKind + iota // the sender's next pass
	kindCallbacks                                     // deliver the queued listener calls (callbacks.go)
)

type partState struct {
	leader   sim.NodeID
	epoch    int32
	deque    []*Batch // head first
	hasDeque bool     // Kafka never removes a deque once created
	muted    bool
	inflight []*Batch // drained, response outstanding, in drain order (Sender.inFlightBatches)
}

type topicState struct {
	sticky *stickyPartitioner
	ratio  codec.RatioEstimator // CompressionRatioEstimator, per topic and codec
	// metaErr is the non-retriable error the last metadata answer gave
	// for the topic (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION):
	// send() to the topic fails with it (Metadata.maybeThrowExceptionForTopic)
	// until an answer without it.
	metaErr broker.Error
}

// blocked is a send() call waiting inside KafkaProducer.doSend: for the
// topic's metadata (waitOnMetadata), then for buffer memory
// (BufferPool.allocate). max.block.ms bounds both waits together.
type blocked struct {
	r        Record
	deadline sim.Time
	memSince sim.Time // when it started waiting for memory; -1 if it has not
	// metaSeen is how many metadata answers had come when it began to wait
	// for a new one, its topic's last having an error; -1 if it has not.
	metaSeen int64
}

// Producer is one KafkaProducer instance.
type Producer struct {
	w        *sim.World
	id       sim.NodeID
	cfg      *Config
	brokers  []sim.NodeID
	listener Listener
	rng      *rand.Rand
	batchIDs *int64 // shared by every instance of a run, so batch ids stay unique

	topo     *broker.Topology
	parts    []partState
	topics   []topicState
	byLeader [][]broker.PartitionID // partitions led by each broker, by broker id
	blocked  []blocked
	// bufferUsed is buffer.memory allocated to batches not yet completed
	// (BufferPool: a batch holds max(batch.size, record size) bytes from
	// creation until its callbacks ran).
	bufferUsed int64

	conns      []conn
	nodeStats  []nodeLatency // by node id, with partitioner.availability.timeout.ms
	drainIndex []int
	nextReqID  int64
	meta       metadataState

	idem *idempotence
	txn  *transactions // with a transactional.id
	// custom is the partitioner.class instance, nil for the built-in one.
	custom Partitioner

	// Compression: the codec, its reusable encoder, and the generator of
	// value bytes to compress. appBusyUntil is when the application thread
	// is done compressing what it appended.
	codec        codec.Codec
	compressor   *codec.Compressor
	payloadRng   *rand.Rand
	payload      []byte
	compressed   []byte
	appBusyUntil sim.Time

	runTimer sim.Timer
	running  bool
	rerun    bool // woken while running: run again before sleeping
	flushing bool
	closed   bool

	// callbacks are listener calls queued for the event that delivers
	// them; deliveryDue says that event is scheduled. inOperation is set
	// while the producer handles an event, a message or a call.
	callbacks   []listenerCall
	deliveryDue bool
	inOperation bool

	stats Stats

	// Scratch buffers, reused so that the per-record path allocates nothing.
	availBuf  []int
	readyBuf  []bool
	nodesBuf  []sim.NodeID
	queuesBuf []int
	idsBuf    []int
}

// New creates a producer node. brokers are the bootstrap servers. batchIDs
// numbers batches across producer instances.
func New(w *sim.World, name string, cfg *Config, brokers []sim.NodeID, l Listener, batchIDs *int64) *Producer {
	p := &Producer{w: w, cfg: cfg, brokers: brokers, listener: l, batchIDs: batchIDs}
	p.id = w.AddNode(name, p)
	p.runTimer = sim.NewTimer(p.id, kindRun, 0)
	p.rng = w.Stream(name)
	maxID := slices.Max(brokers)
	p.conns = make([]conn, maxID+1)
	p.drainIndex = make([]int, maxID+1)
	if cfg.EnableIdempotence {
		p.idem = newIdempotence()
	}
	if cfg.TransactionalID != "" {
		p.txn = newTransactions(cfg.TransactionalID)
	}
	p.codec, _ = codec.Parse(cfg.CompressionType)
	if p.codec != codec.None {
		p.compressor = codec.NewCompressor(p.codec)
		p.payloadRng = w.Stream(name + "/payload")
	}
	if cfg.newPartitioner != nil {
		p.custom = cfg.newPartitioner(w.Stream(name + "/partitioner"))
	}
	p.meta.needed = true
	p.wake()
	return p
}

// ID is the producer's node id.
func (p *Producer) ID() sim.NodeID { return p.id }

// Config is the effective configuration.
func (p *Producer) Config() *Config { return p.cfg }

// Stats are the producer's counters so far.
func (p *Producer) Stats() *Stats { return &p.stats }

// ProducerID is the idempotent producer id, or -1.
func (p *Producer) ProducerID() int64 {
	if p.idem == nil {
		return -1
	}
	return p.idem.pid
}

// entry starts a trace entry; the caller adds the fields its kind needs and
// records it with p.w.Trace.Add.
func (p *Producer) entry(k event.Kind, part broker.PartitionID, batch int64, first, last int64, epoch int32, peer sim.NodeID) sim.Entry {
	e := sim.E(p.w.Now(), p.id, k)
	e.Subject, e.Batch, e.First, e.Last, e.Epoch, e.Peer = int32(part), batch, first, last, epoch, peer
	return e
}

// note records an entry of a kind that needs no fields.
func (p *Producer) note(k event.Kind) { p.w.Trace.Add(sim.E(p.w.Now(), p.id, k)) }

// Send is KafkaProducer.send. It blocks the application thread until the
// topic's metadata is known and the accumulator has buffer memory for the
// record, up to max.block.ms in all; then the record fails with
// TimeoutException or BufferExhaustedException through its callback. A
// blocked send holds later ones (the application thread is stuck in it):
// Blocked reports this, and the listener hears Unblocked when it ends.
func (p *Producer) Send(r Record) {
	p.enter()
	defer p.leave()
	if p.closed {
		return
	}
	memSince := sim.Time(-1)
	switch {
	case p.topo == nil || len(p.blocked) > 0 || p.topics[r.Topic].metaErr != broker.ErrNone:
		// Waiting for metadata, or behind a send() that blocks.
	case p.append(r):
		return
	default:
		// Waiting for memory from now (BufferPool.allocate): even with
		// max.block.ms=0 the failure is BufferExhaustedException.
		memSince = p.w.Now()
	}
	p.blocked = append(p.blocked, blocked{r: r, deadline: p.w.Now() + sim.Millis(p.cfg.MaxBlockMs), memSince: memSince, metaSeen: -1})
	p.wake()
}

// AppBusyUntil is when the application thread finishes the CPU work of
// its last send() (compressing the record), so the next send() can start.
func (p *Producer) AppBusyUntil() sim.Time { return p.appBusyUntil }

// Blocked reports whether the application thread is inside a blocking
// send() call.
func (p *Producer) Blocked() bool { return len(p.blocked) > 0 }

// BufferUsed is the buffer.memory in use by batches.
func (p *Producer) BufferUsed() int64 { return p.bufferUsed }

// InFlightRequests is the produce requests awaiting a response.
func (p *Producer) InFlightRequests() int {
	n := 0
	for i := range p.conns {
		for _, r := range p.conns[i].inflight {
			if r.kind == reqProduce {
				n++
			}
		}
	}
	return n
}

// Flush makes every queued batch sendable now, as flush() and close() do.
func (p *Producer) Flush() {
	p.enter()
	defer p.leave()
	p.flushing = true
	p.wake()
}

// Incomplete reports whether any record still waits for its callback, or
// the listener has callbacks still to hear.
func (p *Producer) Incomplete() bool { return p.hasIncomplete() || p.deliveryDue }

// hasIncomplete reports whether a record is blocked in send() or a batch
// is not done (RecordAccumulator.hasIncomplete).
func (p *Producer) hasIncomplete() bool {
	if len(p.blocked) > 0 {
		return true
	}
	for i := range p.parts {
		if len(p.parts[i].deque) > 0 || len(p.parts[i].inflight) > 0 {
			return true
		}
	}
	return false
}

// CloseNow is close(Duration.ZERO): every incomplete batch fails with
// "Producer is closed forcefully." and, once those callbacks ran, the
// process goes away, closing its connections. Requests already on the
// wire may still be handled by brokers.
func (p *Producer) CloseNow() {
	p.enter()
	defer p.leave()
	if p.closed {
		return
	}
	p.closed = true
	wasBlocked := len(p.blocked) > 0
	for _, bl := range p.blocked {
		p.reject(bl.r, broker.ErrProducerClosed, FromClose)
	}
	p.blocked = nil
	if wasBlocked {
		p.queueCallback(listenerCall{kind: cbUnblocked})
	}
	for i := range p.parts {
		part := &p.parts[i]
		for _, b := range part.inflight {
			p.finish(b, -1, broker.ErrProducerClosed)
		}
		for _, b := range part.deque {
			p.finish(b, -1, broker.ErrProducerClosed)
		}
		part.inflight, part.deque = nil, nil
	}
	p.note(event.Close)
	p.scheduleDelivery() // which ends the process
}

// ---- the accumulator ----

// available lists a topic's partitions with a known leader. The slice is
// reused by the next call.
func (p *Producer) available(topic int) []int {
	tp := &p.topo.Topics[topic]
	out := p.availBuf[:0]
	for i := 0; i < tp.Partitions; i++ {
		if p.parts[tp.First+broker.PartitionID(i)].leader != broker.NoLeader {
			out = append(out, i)
		}
	}
	p.availBuf = out
	return out
}

// append is the record's path through partition() and
// RecordAccumulator.append. It reports false, changing nothing but the
// closing of a full batch, when the record needs a new batch and
// buffer.memory has no room for it: the caller blocks.
func (p *Producer) append(r Record) bool {
	now := p.w.Now()
	keyLen := -1
	if r.Key != nil {
		keyLen = len(r.Key)
	}
	tp := &p.topo.Topics[r.Topic]
	ts := &p.topics[r.Topic]
	if p.txn != nil && p.txn.state != txnInTransaction {
		// KafkaProducer.doSend: maybeAddPartition fails outside a
		// transaction or in an error state.
		p.reject(r, p.txn.failure(), FromSend)
		return true
	}
	if p.idem != nil && p.idem.fatal != broker.ErrNone {
		// An idempotent producer in its fatal state refuses every send
		// (TransactionManager.maybeFailWithError).
		p.reject(r, p.idem.fatal, FromSend)
		return true
	}
	if ub := upperBoundSize(keyLen, r.Value); ub > p.cfg.MaxRequestSize || int64(ub) > p.cfg.BufferMemory {
		// KafkaProducer.ensureValidRecordSize; reported through the callback.
		p.sendFailed(r, broker.ErrRecordTooLarge)
		return true
	}
	avail := func() []int { return p.available(r.Topic) }
	var pi int
	keyed := r.Key != nil && !p.cfg.PartitionerIgnoreKeys
	// sticky: the built-in partitioner picks, and counts what it appended.
	sticky := p.custom == nil && !keyed
	if p.custom != nil {
		var ok bool
		if pi, ok = p.customPartition(r, keyLen, now); !ok {
			return true
		}
	} else if keyed {
		pi = KeyPartition(r.Key, tp.Partitions)
	} else {
		pi = ts.sticky.peek(avail, tp.Partitions)
		// partitionChanged: a switch postponed while the last batch was
		// not full happens as soon as it is.
		if dq := p.parts[tp.First+broker.PartitionID(pi)].deque; allBatchesFull(dq) {
			ts.sticky.update(0, true, avail, tp.Partitions)
			pi = ts.sticky.peek(avail, tp.Partitions)
		}
	}
	part := &p.parts[tp.First+broker.PartitionID(pi)]
	part.hasDeque = true
	if p.txn != nil {
		p.addPartition(tp.First + broker.PartitionID(pi))
	}

	var b *Batch
	appended := 0
	newBatch := false
	if n := len(part.deque); n > 0 {
		last := part.deque[n-1]
		size := recordSize(len(last.Records), int64((now-last.firstTime)/sim.Millisecond), keyLen, r.Value)
		if last.hasRoomFor(size) {
			b = last
			appended = size
		} else {
			last.close()
		}
	}
	if b == nil {
		// BufferPool.allocate: the batch's buffer is
		// max(batch.size, the record's upper bound).
		size := max(max(1, p.cfg.BatchSize), upperBoundSize(keyLen, r.Value))
		if p.bufferUsed+int64(size) > p.cfg.BufferMemory {
			return false
		}
		p.bufferUsed += int64(size)
		*p.batchIDs++
		b = &Batch{
			ID: *p.batchIDs, Partition: tp.First + broker.PartitionID(pi),
			Records:   make([]broker.RecordID, 0, batchCapacity(p.cfg.BatchSize, r.Value+keyLen+8)),
			Bytes:     recordBatchOverhead,
			writeMax:  size,
			firstTime: now, CreatedAt: now, lastAttempt: now, BaseSequence: -1, ProducerID: -1, leaderEpoch: -1,
			codec: p.codec, ratio: p.topics[r.Topic].ratio.Estimate(),
		}
		part.deque = append(part.deque, b)
		appended = recordSize(0, 0, keyLen, r.Value)
		newBatch = true
	}
	before := b.Bytes
	if p.compressor != nil {
		// The application thread compresses as it appends
		// (MemoryRecordsBuilder writes through the codec's stream), so the
		// codec's CPU cost delays its next send().
		if cap(p.payload) < r.Value {
			p.payload = make([]byte, r.Value)
		}
		p.payload = r.Payload.Fill(p.payload[:r.Value], p.payloadRng, int(r.ID))
		b.raw = appendEncoded(b.raw, len(b.Records), int64((now-b.firstTime)/sim.Millisecond), r.Key, p.payload)
		cost := sim.FromDuration(p.codec.CompressCost(appended))
		p.appBusyUntil = max(p.appBusyUntil, now) + cost
		p.stats.CompressionCPU += cost
	}
	b.Records = append(b.Records, r.ID)
	b.add(appended)
	appended = b.Bytes - before
	if newBatch {
		appended = b.Bytes
	}
	if sticky {
		ts.sticky.update(appended, allBatchesFull(part.deque), avail, tp.Partitions)
	}
	if newBatch || b.isFull() || len(part.deque) > 1 {
		p.wake()
	}
	return true
}

// customPartition asks partitioner.class for the record's partition. A
// custom partitioner makes KafkaProducer.doSend append with
// abortOnNewBatch: if the chosen partition would need a new batch, it calls
// onNewBatch and asks partition() again, and the second answer stands.
// This double call is what made RoundRobinPartitioner skip partitions
// before KAFKA-17632. A partition out of range fails the record, as
// KafkaProducer.partition's IllegalArgumentException would fail send().
func (p *Producer) customPartition(r Record, keyLen int, now sim.Time) (int, bool) {
	tp := &p.topo.Topics[r.Topic]
	req := PartitionRequest{Topic: tp.Name, Key: r.Key, Partitions: tp.Partitions,
		Available: p.available(r.Topic), Now: now.Duration()}
	pi := p.custom.Partition(req)
	if pi >= 0 && pi < tp.Partitions && p.needsNewBatch(tp.First+broker.PartitionID(pi), keyLen, r.Value, now) {
		if l, ok := p.custom.(NewBatchListener); ok {
			l.OnNewBatch(req, pi)
		}
		pi = p.custom.Partition(req)
	}
	if pi < 0 || pi >= tp.Partitions {
		p.reject(r, broker.ErrIllegalPartition, FromSend)
		return 0, false
	}
	return pi, true
}

// needsNewBatch reports whether a record would open a new batch in a
// partition: no open batch, or no room in the last one.
func (p *Producer) needsNewBatch(id broker.PartitionID, keyLen, valueLen int, now sim.Time) bool {
	dq := p.parts[id].deque
	if len(dq) == 0 {
		return true
	}
	last := dq[len(dq)-1]
	return !last.hasRoomFor(recordSize(len(last.Records), int64((now-last.firstTime)/sim.Millisecond), keyLen, valueLen))
}

func allBatchesFull(dq []*Batch) bool { return len(dq) == 0 || dq[len(dq)-1].isFull() }

// ---- events ----

// wake asks the sender to run now (Sender.wakeup).
func (p *Producer) wake() {
	switch {
	case p.closed:
	case p.running:
		p.rerun = true
	default:
		p.runTimer.Set(p.w, p.w.Now())
	}
}

// HandleEvent runs the sender when its timer fires, and delivers queued
// callbacks. The listener runs outside any operation of the producer.
func (p *Producer) HandleEvent(e sim.Event) {
	switch e.Kind {
	case kindRun:
		p.enter()
		defer p.leave()
		if p.runTimer.Fire(p.w, e) {
			p.run()
		}
	case kindCallbacks:
		p.deliverCallbacks()
	}
}

// HandleMessage handles broker responses and connection events.
func (p *Producer) HandleMessage(from sim.NodeID, m sim.Message) {
	p.enter()
	defer p.leave()
	if p.closed {
		return
	}
	switch m := m.(type) {
	case broker.ConnectAck:
		p.connected(from, m.Conn)
		if p.txn != nil {
			// ApiVersions' finalized features
			// (TransactionManager.maybeUpdateTransactionV2Enabled).
			p.txn.clusterV2 = m.TransactionVersion >= 2
		}
	case sim.Disconnected:
		if int(from) >= len(p.conns) {
			return // another client went away; the producer has no connection to it
		}
		p.disconnect(from, broker.ErrNetworkException, "connection closed by peer")
	case *broker.ProduceResponse:
		p.handleProduceResponse(from, m)
	case *broker.MetadataResponse:
		p.handleMetadataResponse(from, m)
	case *broker.InitProducerIDResponse:
		p.handleInitProducerID(from, m)
	case *broker.FindCoordinatorResponse:
		p.handleFindCoordinator(from, m)
	case *broker.AddPartitionsToTxnResponse:
		p.handleAddPartitions(from, m)
	case *broker.EndTxnResponse:
		p.handleEndTxn(from, m)
	}
	p.wake()
}

// maxBatchPrealloc bounds the room a new batch reserves for record ids:
// batch.size may be up to 2 GiB, which would reserve gigabytes for
// records of a few bytes that a run may never send; more grow the slice.
const maxBatchPrealloc = 1024

// batchCapacity is the room a new batch reserves: the records of about
// recordBytes each that batch.size holds, at least 1, at most
// maxBatchPrealloc.
func batchCapacity(batchSize, recordBytes int) int {
	return min(max(1, batchSize/max(1, recordBytes)), maxBatchPrealloc)
}
