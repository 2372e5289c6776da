package broker

import (
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Broker timer kinds.
const (
	kindHeartbeat          sim.Kind = sim.FirstUserKind + 16 + iota
	kindIsrCheck                    // replica.lag.time.max.ms/2 ("isr-expiration")
	kindProduceTimeout              // the purgatory's earliest acks=all deadline
	kindFetchWait                   // A: follower id (long-poll expiry)
	kindFetchRetry                  // A: leader id (follower's backoff over)
	kindFetchTimeout                // A: leader id (replica.socket.timeout.ms)
	kindHandled                     // the request handler finished the oldest queued produce request
	kindTxnRetry                    // the coordinator's marker retries and timeouts
	kindTxnTimeoutCheck             // transaction.abort.timed.out.transaction.cleanup.interval.ms
	kindUnmute                      // A: client id, B: connection (its next queued request starts)
	kindProducerExpiration          // producer.id.expiration.check.interval.ms
	kindTxnIDExpiration             // transaction.remove.expired.transaction.cleanup.interval.ms
	kindShutdownTimeout             // a controlled shutdown the controller did not grant in time
	kindTxnVerifyTimeout            // A: a transaction verification request id; B: 0 its deadline, 1 its retry
)

// clientConn is the broker side of one client's connection. Kafka's network
// layer mutes a connection while one of its requests is being handled and
// unmutes it when the response is sent, so requests from one connection are
// handled strictly one at a time, in order (SocketServer.Processor).
type clientConn struct {
	conn  uint32
	open  bool
	busy  bool
	queue []sim.Message
	// broken is set when a response was lost (a request rule's lost
	// answer): TCP delivers in order, so nothing later on this connection
	// reaches the client either, until it reconnects.
	broken bool
	// adding is the partitions of the AddPartitionsToTxn request being
	// handled (the connection stays muted until it is answered), so a
	// request rule that fires on the answer can check its topic filter.
	adding []PartitionID
}

// fetcher is the follower side of replication from one leader broker
// (ReplicaFetcherThread; num.replica.fetchers=1).
type fetcher struct {
	parts    []PartitionID
	inflight bool
	id       int64
	backoff  bool
	timeout  sim.Timer
}

// pendingFetch is a follower's fetch parked at the leader until data arrives
// or replica.fetch.wait.max.ms passes (DelayedFetch).
type pendingFetch struct {
	active bool
	req    *FetchRequest
	wait   sim.Timer
	// rule is the request rule that took this fetch before it was
	// handled: its partitions are answered with the rule's error.
	rule *Rule
}

// Broker is one broker process.
type Broker struct {
	w          *sim.World
	id         sim.NodeID
	controller sim.NodeID
	cfg        *Config
	topo       *Topology

	// Survives a crash.
	replicas    []*Replica // by PartitionID; nil where this broker has no replica
	nextPID     int64
	incarnation uint32
	// cleanShutdown: the last process stopped cleanly and left its
	// clean-shutdown file (CleanShutdownFileHandler). A crash never does.
	cleanShutdown bool

	// Volatile.
	// registered: the controller has accepted this process's
	// registration. A restarted process acts on no metadata before that;
	// see HandleMessage.
	registered bool
	// heartbeatSince is when the oldest heartbeat still unanswered was
	// sent, if heartbeatOut.
	heartbeatSince sim.Time
	heartbeatOut   bool
	meta           *Snapshot
	clients        []clientConn   // by client node id
	fetchers       []fetcher      // by leader broker id
	alterIDs       int64          // AlterPartition requests sent: the last one's id
	pending        []pendingFetch // by follower broker id
	purgatory      purgatory
	nextID         int64
	rules          []*Rule // the scenario's request rules (rules.go)
	// The request handler pool (num.io.threads), modelled as one FIFO
	// server: produce requests wait their turn and take cost.per.request +
	// cost.per.batch per batch + cost.per.mb per MiB before the append.
	handling    []handling
	handlerFree sim.Time

	// Transactions: the coordinator of the ids whose __transaction_state
	// partition this broker leads, and the produce requests waiting for a
	// coordinator's word (verify.go).
	coord         *txnCoordinator
	verifications []*txnVerification

	// shuttingDown: a controlled shutdown is under way
	// (BrokerLifecycleManager's PENDING_CONTROLLED_SHUTDOWN).
	shuttingDown bool
}

// controlledShutdownTimeout is how long a broker waits for the controller
// to let it stop before it stops anyway: KafkaBroker.shutdown() gives
// BrokerServer.shutdown five minutes.
const controlledShutdownTimeout = 5 * 60 * sim.Second

// handling is a produce request in the request handler's queue.
type handling struct {
	from sim.NodeID
	conn uint32
	req  *ProduceRequest
}

func newBroker(w *sim.World, id, controller sim.NodeID, cfg *Config, topo *Topology) *Broker {
	b := &Broker{w: w, id: id, controller: controller, cfg: cfg, topo: topo}
	b.replicas = make([]*Replica, len(topo.Partitions))
	for p, pt := range topo.Partitions {
		if !slices.Contains(pt.Replicas, id) {
			continue
		}
		r := &Replica{ID: PartitionID(p)}
		for _, f := range pt.Replicas {
			if f != id {
				r.followers = append(r.followers, followerState{id: f, leo: -1})
			}
		}
		r.resetRole()
		b.replicas[p] = r
	}
	// Producer ids come from blocks the controller hands out; a per-broker
	// range is enough to keep them unique here.
	b.nextPID = int64(id) * 1_000_000
	b.resetVolatile()
	return b
}

// resetVolatile gives a new process its empty in-memory state.
func (b *Broker) resetVolatile() {
	b.registered = false
	b.heartbeatOut = false
	b.meta = nil
	b.clients = nil
	b.rules = nil
	b.shuttingDown = false
	b.handling = nil
	b.handlerFree = 0
	b.coord = newTxnCoordinator(b.w, b.id, b.cfg, b.topo, b)
	b.purgatory = purgatory{timer: sim.NewTimer(b.id, kindProduceTimeout, 0)}
	b.fetchers = make([]fetcher, b.topo.Brokers+1)
	b.pending = make([]pendingFetch, b.topo.Brokers+1)
	for i := range b.fetchers {
		b.fetchers[i].timeout = sim.NewTimer(b.id, kindFetchTimeout, int64(i))
		b.pending[i].wait = sim.NewTimer(b.id, kindFetchWait, int64(i))
	}
}

// ID is the broker id.
func (b *Broker) ID() sim.NodeID { return b.id }

// Replica is this broker's replica of a partition, or nil.
func (b *Broker) Replica(p PartitionID) *Replica { return b.replicas[p] }

// start arms the periodic timers of a running broker.
func (b *Broker) start() {
	b.w.After(b.cfg.BrokerHeartbeatInterval, b.id, kindHeartbeat, 0, 0)
	b.w.After(b.cfg.ReplicaLagTimeMax/2, b.id, kindIsrCheck, 0, 0)
	b.w.After(b.cfg.ProducerIDExpirationCheck, b.id, kindProducerExpiration, 0, 0)
	if b.coord.txnTopic >= 0 {
		b.w.After(b.cfg.TransactionAbortCheckPeriod, b.id, kindTxnTimeoutCheck, 0, 0)
		b.w.After(b.cfg.TransactionalIDExpirationCheck, b.id, kindTxnIDExpiration, 0, 0)
	}
}

// expireProducers forgets idle producer ids on every replica this broker
// holds, leader or follower (LogManager's PeriodicProducerExpirationCheck,
// every producer.id.expiration.check.interval.ms).
func (b *Broker) expireProducers() {
	for _, rep := range b.replicas {
		if rep == nil {
			continue
		}
		for _, pid := range rep.producers.expire(b.w.Now(), b.cfg.ProducerIDExpiration) {
			e := b.entry(event.ProducerExpired, rep.ID, 0, -1, -1, -1, -1)
			e.ProducerID = pid
			e.X().Limit = int64(b.cfg.ProducerIDExpiration / sim.Millisecond)
			b.w.Trace.Add(e)
		}
	}
}

// restart is a new process on the same disk: logs and producer state are
// reloaded, everything else is forgotten, and the broker registers with the
// controller again.
func (b *Broker) restart() {
	b.incarnation++
	b.resetVolatile()
	for _, r := range b.replicas {
		if r != nil {
			r.resetRole()
			r.producers.rebuild(&r.Log, b.w.Now(), b.cfg.ProducerIDExpiration)
		}
	}
	b.sendHeartbeat()
	b.start()
}

// entry starts a trace entry about partition p; the caller adds the fields
// its kind needs and records it with b.w.Trace.Add.
func (b *Broker) entry(k event.Kind, p PartitionID, batch int64, first, last int64, epoch int32, peer sim.NodeID) sim.Entry {
	e := sim.E(b.w.Now(), b.id, k)
	e.Subject, e.Batch, e.First, e.Last, e.Epoch, e.Peer = int32(p), batch, first, last, epoch, peer
	return e
}

// HandleEvent handles the broker's timers.
func (b *Broker) HandleEvent(e sim.Event) {
	switch e.Kind {
	case kindHeartbeat:
		b.sendHeartbeat()
		if e.A == 0 { // not the extra one of a controlled shutdown
			b.w.After(b.cfg.BrokerHeartbeatInterval, b.id, kindHeartbeat, 0, 0)
		}
	case kindShutdownTimeout:
		if b.shuttingDown {
			b.stop("controlled shutdown not granted within 5m0s; stopped anyway")
		}
	case kindIsrCheck:
		b.isrCheck()
		b.w.After(b.cfg.ReplicaLagTimeMax/2, b.id, kindIsrCheck, 0, 0)
	case kindProduceTimeout:
		if b.purgatory.timer.Fire(b.w, e) {
			b.expireDelayed()
		}
	case kindFetchWait:
		pf := &b.pending[e.A]
		if pf.wait.Fire(b.w, e) && pf.active {
			b.completeFetch(sim.NodeID(e.A))
		}
	case kindFetchRetry:
		f := &b.fetchers[e.A]
		f.backoff = false
		b.sendFetch(sim.NodeID(e.A))
	case kindHandled:
		b.handled()
	case kindUnmute:
		b.unmute(sim.NodeID(e.A), uint32(e.B))
	case kindTxnVerifyTimeout:
		if e.B == 1 {
			b.askAgain(e.A)
		} else {
			b.verificationAnswered(e.A, nil)
		}
	case kindTxnRetry:
		b.coord.handleTimer(e)
	case kindTxnTimeoutCheck:
		b.coord.abortTimedOut()
		b.w.After(b.cfg.TransactionAbortCheckPeriod, b.id, kindTxnTimeoutCheck, 0, 0)
	case kindProducerExpiration:
		b.expireProducers()
		b.w.After(b.cfg.ProducerIDExpirationCheck, b.id, kindProducerExpiration, 0, 0)
	case kindTxnIDExpiration:
		b.coord.expireTransactionalIDs()
		b.w.After(b.cfg.TransactionalIDExpirationCheck, b.id, kindTxnIDExpiration, 0, 0)
	case kindFetchTimeout:
		f := &b.fetchers[e.A]
		if f.timeout.Fire(b.w, e) && f.inflight {
			b.fetchTimedOut(sim.NodeID(e.A))
		}
	}
}

// HandleMessage dispatches a message from another node.
func (b *Broker) HandleMessage(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *AddPartitionsToTxnRequest:
		if m.FromLeader {
			b.coord.handleLeaderAddPartitions(from, m)
			return
		}
		b.clientMessage(from, m)
	case *AddPartitionsToTxnResponse:
		b.verificationAnswered(m.ID, m.Errors)
	case Connect, Close, *MetadataRequest, *InitProducerIDRequest, *ProduceRequest,
		*FindCoordinatorRequest, *EndTxnRequest:
		b.clientMessage(from, m)
	case *WriteTxnMarkersRequest:
		b.handleWriteMarkers(from, m)
	case *WriteTxnMarkersResponse:
		b.coord.handleMarkersResponse(m)
	case *FetchRequest:
		b.handleFetch(m)
	case *FetchResponse:
		b.handleFetchResponse(from, m)
	case *HeartbeatResponse:
		b.heartbeatOut = false
		b.registered = true
		if m.Snapshot != nil {
			b.applySnapshot(m.Snapshot)
		}
		if b.shuttingDown && m.ShouldShutDown {
			b.stop("controlled shutdown complete")
		}
	case *MetadataUpdate:
		// A restarted process takes no role before the controller accepts
		// its registration, which it refuses while the crashed process's
		// session lives (ClusterControlManager.registerBroker,
		// DUPLICATE_BROKER_REGISTRATION): BrokerServer.startup opens the
		// listeners only once the broker is registered and unfenced, and
		// by then the fencing (ReplicationControlManager.handleBrokerFenced)
		// has moved its leaderships on. So no one sees it lead again in
		// the old leader epoch with a tail nobody replicated.
		if b.registered {
			b.applySnapshot(m.Snapshot)
		}
	case *AlterPartitionResponse:
		b.handleAlterPartitionResponse(m)
	case sim.Disconnected:
		b.peerDisconnected(m.Peer)
	}
}

// ---- client connections ----

func (b *Broker) client(id sim.NodeID) *clientConn {
	for int(id) >= len(b.clients) {
		b.clients = append(b.clients, clientConn{})
	}
	return &b.clients[id]
}

func connOf(m sim.Message) uint32 {
	switch m := m.(type) {
	case *MetadataRequest:
		return m.Conn
	case *InitProducerIDRequest:
		return m.Conn
	case *ProduceRequest:
		return m.Conn
	case *FindCoordinatorRequest:
		return m.Conn
	case *AddPartitionsToTxnRequest:
		return m.Conn
	case *EndTxnRequest:
		return m.Conn
	}
	return 0
}

func (b *Broker) clientMessage(from sim.NodeID, m sim.Message) {
	cc := b.client(from)
	switch m := m.(type) {
	case Connect:
		*cc = clientConn{conn: m.Conn, open: true}
		b.respond(from, m.Conn, ConnectAck{Conn: m.Conn, TransactionVersion: b.cfg.TransactionVersion})
		return
	case Close:
		if cc.conn == m.Conn {
			// Requests not yet started die with the socket; one already in
			// the purgatory still completes (its append happened).
			cc.open = false
			cc.queue = nil
		}
		return
	}
	if !cc.open || connOf(m) != cc.conn {
		return // sent on a connection this broker no longer has
	}
	if cc.busy {
		cc.queue = append(cc.queue, m)
		return
	}
	b.handleClientRequest(from, cc, m)
}

// handleClientRequest starts one request. It leaves cc.busy set when the
// response must wait (acks=all).
func (b *Broker) handleClientRequest(from sim.NodeID, cc *clientConn, m sim.Message) {
	if b.ruleBefore(from, cc, m) {
		return
	}
	switch m := m.(type) {
	case *MetadataRequest:
		b.metadataResponse(from, cc, m)
	case *InitProducerIDRequest:
		if m.TransactionalID != "" {
			b.coord.handleInitProducerID(clientReply{from, cc.conn}, m)
			return
		}
		b.respond(from, cc.conn, &InitProducerIDResponse{ID: m.ID, ProducerID: b.newProducerID(), Epoch: 0})
	case *FindCoordinatorRequest:
		b.coord.handleFindCoordinator(clientReply{from, cc.conn}, m)
	case *AddPartitionsToTxnRequest:
		cc.adding = m.Partitions
		b.coord.handleAddPartitions(clientReply{from, cc.conn}, m)
	case *EndTxnRequest:
		b.coord.handleEndTxn(clientReply{from, cc.conn}, m)
	case *ProduceRequest:
		cost := b.appendCost(m.Batches)
		if cost == 0 {
			b.produce(from, cc, m)
			return
		}
		cc.busy = true
		b.handlerFree = max(b.w.Now(), b.handlerFree) + b.cfg.CostPerRequest + cost
		b.handling = append(b.handling, handling{from: from, conn: cc.conn, req: m})
		b.w.Schedule(b.handlerFree, b.id, kindHandled, 0, 0)
	}
}

// appendCost is the CPU time to validate and append batches: cost.per.batch
// each plus cost.per.mb per MiB. A leader pays it (plus cost.per.request)
// in its request handler, a follower in its fetcher thread.
func (b *Broker) appendCost(batches []ProduceBatch) sim.Time {
	if b.cfg.CostPerRequest == 0 && b.cfg.CostPerBatch == 0 && b.cfg.CostPerMB == 0 {
		return 0
	}
	bytes := int64(0)
	for i := range batches {
		bytes += int64(batches[i].Bytes)
	}
	return b.bytesCost(len(batches), bytes)
}

func (b *Broker) bytesCost(batches int, bytes int64) sim.Time {
	return sim.Time(batches)*b.cfg.CostPerBatch + sim.Time(bytes*int64(b.cfg.CostPerMB)>>20)
}

// handled runs the produce request the handler just finished with. A
// request whose connection closed while it waited still runs: Kafka's
// handler threads finish every request the network layer read, and only
// the answer is lost (RequestChannel.sendResponse: "no open connection").
func (b *Broker) handled() {
	h := b.handling[0]
	b.handling[0] = handling{}
	b.handling = b.handling[1:]
	b.finishProduce(h.from, h.conn, h.req)
}

// finishProduce runs a produce request the broker already started (it
// waited for a handler thread or for verification). It goes on even if
// its connection closed meanwhile: Kafka finishes a request it read, and
// only the answer is lost.
func (b *Broker) finishProduce(client sim.NodeID, conn uint32, r *ProduceRequest) {
	cc := b.client(client)
	if !cc.open || cc.conn != conn {
		cc = &clientConn{conn: conn}
	}
	cc.busy = false
	b.produce(client, cc, r)
	if !cc.busy {
		b.requestDone(client, conn)
	}
}

// requestDone is a response going out on a client connection. The
// connection stays muted until a later pass of the network thread: Kafka
// unmutes it once the response is sent (SocketServer.Processor
// processCompletedSends, tryUnmuteChannel) and reads its next request in a
// later poll(). So a queued request starts from its own event, never
// inside the handler of the request before it.
func (b *Broker) requestDone(client sim.NodeID, conn uint32) {
	cc := b.client(client)
	if cc.conn != conn {
		return
	}
	cc.busy = cc.open && len(cc.queue) > 0
	if cc.busy {
		b.w.Schedule(b.w.Now(), b.id, kindUnmute, int64(client), int64(conn))
	}
}

// unmute starts a connection's next queued request.
func (b *Broker) unmute(client sim.NodeID, conn uint32) {
	cc := b.client(client)
	if !cc.open || cc.conn != conn || len(cc.queue) == 0 {
		return // the connection closed, and its queue with it
	}
	cc.busy = false
	m := cc.queue[0]
	cc.queue = cc.queue[1:]
	b.handleClientRequest(client, cc, m)
	if !cc.busy {
		b.requestDone(client, conn)
	}
}

func (b *Broker) peerDisconnected(peer sim.NodeID) {
	b.coord.markersLost(peer)
	b.verificationsLost(peer)
	if int(peer) < len(b.fetchers) && b.fetchers[peer].inflight {
		// Our fetch to a leader that went away.
		b.fetchers[peer].inflight = false
		b.fetchBackoff(peer)
	}
	if int(peer) < len(b.clients) {
		cc := &b.clients[peer]
		cc.open = false
		cc.queue = nil
	}
}

// ---- produce ----

// produce handles a produce request as the leader does
// (KafkaApis.handleProduceRequest, ReplicaManager.appendRecords,
// Partition.appendRecordsToLeader). A request rule that fires before the
// append answers the batches it covers with its error and appends only
// the others, or swallows the whole request.
func (b *Broker) produce(client sim.NodeID, cc *clientConn, r *ProduceRequest) {
	resp := &ProduceResponse{ID: r.ID, Partitions: make([]PartitionResponse, len(r.Batches))}
	if r.verified == nil {
		// On arrival; a request back from the coordinator's verification
		// (verify.go) keeps what the rules decided then.
		r.rule = b.rule(APIProduce, false, requestParts(r))
		if rule := r.rule; rule != nil {
			rule.fire()
			if rule.Lost {
				cc.broken = true
				for i := range r.Batches {
					e := b.entry(event.ResponseDropped, r.Batches[i].Partition, r.Batches[i].Ref, -1, -1, -1, client)
					e.Flags = event.Injected
					b.w.Trace.Add(e)
				}
				return
			}
		}
		if b.verifying(client, cc, r) {
			return
		}
	}
	rule := r.rule
	var required []int64
	waiting := 0
	if r.Acks == -1 {
		required = make([]int64, len(r.Batches))
	}
	failed := false
	for i := range r.Batches {
		pb := &r.Batches[i]
		res := &resp.Partitions[i]
		*res = PartitionResponse{Partition: pb.Partition, BaseOffset: -1, Leader: NoLeader, LeaderEpoch: -1, Ref: pb.Ref}
		if rule != nil && rule.matches(b.topo, pb.Partition) {
			res.Error = rule.Error
			e := b.entry(event.Reject, pb.Partition, pb.Ref, -1, -1, -1, client)
			e.Err, e.Flags = int16(rule.Error), event.Injected
			b.w.Trace.Add(e)
			failed = true
			if required != nil {
				required[i] = -1 // nothing to wait for
			}
			continue
		}
		need := int64(-1)
		res.Error, res.BaseOffset, need = b.appendVerified(client, r, i)
		if res.Error == ErrNotLeaderOrFollower && b.meta != nil && b.cfg.Version.AtLeast(3, 7) {
			st := b.meta.Partitions[pb.Partition]
			res.Leader, res.LeaderEpoch = st.Leader, st.LeaderEpoch
		}
		if res.Error != ErrNone {
			failed = true
		}
		if required != nil {
			required[i] = -1
			if res.Error == ErrNone && b.replicas[pb.Partition].Log.HW() < need {
				required[i] = need
				waiting++
			}
		}
	}

	switch {
	case r.Acks == 0:
		if failed {
			b.closeClient(client, cc)
		}
	case waiting == 0:
		b.sendProduceResponse(client, cc.conn, resp)
	default:
		// acks=all: wait until the HW passes every batch, or request.timeout.ms.
		d := &delayedProduce{deadline: b.w.Now() + r.Timeout, client: client, conn: cc.conn, resp: resp, required: required, pending: waiting}
		b.purgatory.produces = append(b.purgatory.produces, d)
		cc.busy = true
		b.armPurgatory()
	}
}

// appendAsLeader validates and appends one batch. It returns the error, the
// base offset (the original one for a duplicate), and the offset the HW must
// reach for acks=all.
func (b *Broker) appendAsLeader(client sim.NodeID, pb *ProduceBatch, acks int8) (Error, int64, int64) {
	rep := b.replicas[pb.Partition]
	if rep == nil || !rep.IsLeader() {
		e := b.entry(event.Reject, pb.Partition, pb.Ref, -1, -1, -1, client)
		e.Err = int16(ErrNotLeaderOrFollower)
		b.w.Trace.Add(e)
		return ErrNotLeaderOrFollower, -1, -1
	}
	minISR := b.minISR(pb.Partition)
	if acks == -1 && len(rep.isr) < minISR {
		// Checked before the append, so nothing is written
		// (Partition.appendRecordsToLeader).
		e := b.entry(event.Reject, pb.Partition, pb.Ref, -1, -1, rep.leaderEpoch, client)
		e.Err = int16(ErrNotEnoughReplicas)
		e.Ext = &event.Ext{List: nodeList(rep.isr), Limit: int64(minISR)}
		b.w.Trace.Add(e)
		return ErrNotEnoughReplicas, -1, -1
	}
	if int(pb.Bytes) > b.cfg.MessageMaxBytes {
		// A batch larger than message.max.bytes is refused whole
		// (UnifiedLog.analyzeAndValidateRecords: RecordTooLargeException).
		e := b.entry(event.Reject, pb.Partition, pb.Ref, -1, -1, rep.leaderEpoch, client)
		e.Err, e.Bytes = int16(ErrMessageTooLarge), int64(pb.Bytes)
		e.X().Limit = int64(b.cfg.MessageMaxBytes)
		b.w.Trace.Add(e)
		return ErrMessageTooLarge, -1, -1
	}
	lastSeq := lastSequence(pb.BaseSequence, int32(len(pb.Records)))
	chk := rep.producers.check(pb.ProducerID, pb.ProducerEpoch, pb.BaseSequence, lastSeq)
	if chk.err != ErrNone {
		e := b.entry(event.Reject, pb.Partition, pb.Ref, -1, -1, rep.leaderEpoch, client)
		e.Err, e.Seq = int16(chk.err), pb.BaseSequence
		b.w.Trace.Add(e)
		return chk.err, -1, -1
	}
	if chk.duplicate {
		// The broker already has this batch: answer with its original
		// offset and append nothing (UnifiedLog.analyzeAndValidateProducerState).
		e := b.entry(event.Duplicate, pb.Partition, pb.Ref, chk.firstOffset, chk.lastOffset, rep.leaderEpoch, client)
		e.Seq = pb.BaseSequence
		b.w.Trace.Add(e)
		return ErrNone, chk.firstOffset, chk.lastOffset + 1
	}
	appended := rep.Log.Append(LogBatch{
		LeaderEpoch: rep.leaderEpoch, ProducerID: pb.ProducerID, ProducerEpoch: pb.ProducerEpoch,
		BaseSequence: pb.BaseSequence, Bytes: pb.Bytes, Ref: pb.Ref, Transactional: pb.Transactional, Timestamp: b.w.Now(), Written: b.w.Now(),
	}, pb.Records)
	rep.producers.update(&appended)
	e := b.entry(event.Append, pb.Partition, pb.Ref, appended.BaseOffset, appended.LastOffset(), rep.leaderEpoch, client)
	e.Acks = acks
	b.w.Trace.Add(e)
	b.leaderAppended(rep)
	return ErrNone, appended.BaseOffset, rep.Log.LEO()
}

// respond sends a response on a client connection, if the connection still
// exists and still delivers, and no request rule loses it.
func (b *Broker) respond(client sim.NodeID, conn uint32, m sim.Message) bool {
	cc := b.client(client)
	if !cc.open || cc.conn != conn || cc.broken || !b.ruleAfter(client, m) {
		return false
	}
	b.w.Net.Send(b.id, client, m)
	return true
}

// deliver sends a response a request rule made, if the connection still
// delivers.
func (b *Broker) deliver(client sim.NodeID, conn uint32, m sim.Message) bool {
	cc := b.client(client)
	if !cc.open || cc.conn != conn || cc.broken {
		return false
	}
	b.w.Net.Send(b.id, client, m)
	return true
}

// sendProduceResponse answers a produce request, unless a request rule
// that fires after the append replaces the answers of the batches it
// covers with its error, or loses the answer.
func (b *Broker) sendProduceResponse(client sim.NodeID, conn uint32, resp *ProduceResponse) {
	cc := b.client(client)
	live := cc.open && cc.conn == conn
	var rule *Rule
	if live && !cc.broken {
		rule = b.rule(APIProduce, true, func(yield func(PartitionID) bool) {
			for i := range resp.Partitions {
				if !yield(resp.Partitions[i].Partition) {
					return
				}
			}
		})
	}
	if rule != nil {
		rule.fire()
	}
	switch {
	case rule != nil && rule.Lost:
		cc.broken = true
		for _, p := range resp.Partitions {
			e := b.entry(event.ResponseDropped, p.Partition, p.Ref, p.BaseOffset, -1, -1, client)
			e.Err, e.Flags = int16(p.Error), event.Injected|event.AfterHandling
			b.w.Trace.Add(e)
		}
	case live && cc.broken:
		for _, p := range resp.Partitions {
			e := b.entry(event.ResponseDropped, p.Partition, p.Ref, p.BaseOffset, -1, -1, client)
			e.Err, e.Flags = int16(p.Error), event.Behind
			b.w.Trace.Add(e)
		}
	default:
		if rule != nil {
			for i := range resp.Partitions {
				p := &resp.Partitions[i]
				if !rule.matches(b.topo, p.Partition) {
					continue
				}
				e := b.entry(event.Reject, p.Partition, p.Ref, p.BaseOffset, -1, -1, client)
				e.Err, e.Flags = int16(rule.Error), event.Injected|event.AfterHandling
				b.w.Trace.Add(e)
				p.Error, p.BaseOffset = rule.Error, -1
			}
		}
		b.deliver(client, conn, resp)
	}
	b.requestDone(client, conn)
}

func (b *Broker) closeClient(client sim.NodeID, cc *clientConn) {
	cc.open = false
	cc.queue = nil
	b.w.Net.Send(b.id, client, sim.Disconnected{Peer: b.id})
}

// leaderAppended wakes followers waiting in a fetch and moves the HW if the
// leader alone makes up the ISR.
func (b *Broker) leaderAppended(rep *Replica) {
	b.maybeIncrementHW(rep)
	for i := range rep.followers {
		fid := rep.followers[i].id
		pf := &b.pending[fid]
		if pf.active && fetchIncludes(pf.req, rep.ID) && b.fetchable(pf.req) {
			b.completeFetch(fid)
		}
	}
}

// fetchable reports whether a follower's fetch has replica.fetch.min.bytes
// to read (DelayedFetch.tryComplete), so it need not wait out
// replica.fetch.wait.max.ms. Waiting for more bytes batches replication.
func (b *Broker) fetchable(r *FetchRequest) bool {
	need := int64(b.cfg.ReplicaFetchMinBytes)
	for i := range r.Partitions {
		fp := &r.Partitions[i]
		rep := b.replicas[fp.Partition]
		if rep == nil || !rep.IsLeader() || fp.FetchOffset >= rep.Log.LEO() {
			continue
		}
		l := &rep.Log
		for j := l.BatchIndex(fp.FetchOffset); j < len(l.batches) && need > 0; j++ {
			need -= int64(l.batches[j].Bytes)
		}
		if need <= 0 {
			return true
		}
	}
	return false
}

func fetchIncludes(r *FetchRequest, p PartitionID) bool {
	for i := range r.Partitions {
		if r.Partitions[i].Partition == p {
			return true
		}
	}
	return false
}

// maybeIncrementHW recomputes a leader's high watermark
// (Partition.maybeIncrementLeaderHW): the smallest log end among the leader,
// the maximal ISR, and followers caught up enough to be about to join it.
// Since Kafka 3.7 it does not move while the ISR is below min.insync.replicas.
func (b *Broker) maybeIncrementHW(rep *Replica) {
	if b.cfg.Version.AtLeast(3, 7) && len(rep.isr) < b.minISR(rep.ID) {
		return
	}
	now := b.w.Now()
	leo := rep.Log.LEO()
	hw := leo
	maximal := rep.maximalISR()
	for i := range rep.followers {
		f := &rep.followers[i]
		if f.leo >= hw {
			continue
		}
		if slices.Contains(maximal, f.id) || (f.caughtUp(leo, now, b.cfg.ReplicaLagTimeMax) && b.eligible(f.id)) {
			hw = f.leo
		}
	}
	if hw > rep.Log.HW() {
		rep.Log.SetHW(hw)
		b.tryCompleteDelayed(rep)
	}
}

// minISR is the min.insync.replicas a partition's leader enforces: capped at
// the replication factor since Kafka 3.7 (Partition.effectiveMinIsr).
func (b *Broker) minISR(p PartitionID) int {
	tp := b.topo.Topics[b.topo.Partitions[p].Topic]
	if b.cfg.Version.AtLeast(3, 7) {
		return min(tp.MinInsyncReplicas, tp.ReplicationFactor)
	}
	return tp.MinInsyncReplicas
}

// eligible reports whether a broker may join an ISR: the metadata shows it
// neither fenced nor in controlled shutdown (Partition.isReplicaIsrEligible,
// KIP-841).
func (b *Broker) eligible(id sim.NodeID) bool {
	return b.meta != nil && !b.meta.Fenced[id] && !b.meta.ShuttingDown[id]
}

// ---- ISR ----

// isrCheck shrinks the ISR of each led partition by the followers that have
// not caught up within replica.lag.time.max.ms (Partition.maybeShrinkIsr).
func (b *Broker) isrCheck() {
	now := b.w.Now()
	for _, rep := range b.replicas {
		if rep == nil || !rep.IsLeader() {
			continue
		}
		if rep.alterPending {
			if now-rep.alterSentAt >= b.cfg.ReplicaSocketTimeout {
				b.sendAlterPartition(rep, rep.alterISR) // no answer: try again
			}
			continue
		}
		leo := rep.Log.LEO()
		var out []sim.NodeID
		for i := range rep.followers {
			f := &rep.followers[i]
			if slices.Contains(rep.isr, f.id) && f.leo != leo && now-f.lastCaughtUp > b.cfg.ReplicaLagTimeMax {
				out = append(out, f.id)
			}
		}
		if len(out) == 0 {
			continue
		}
		isr := slices.DeleteFunc(slices.Clone(rep.isr), func(id sim.NodeID) bool { return slices.Contains(out, id) })
		e := b.entry(event.IsrShrink, rep.ID, 0, -1, -1, rep.leaderEpoch, -1)
		e.X().List, e.Count = append(nodeList(out), nodeList(isr)...), int32(len(out))
		b.w.Trace.Add(e)
		b.sendAlterPartition(rep, isr)
	}
}

// maybeExpandISR adds a follower that has caught up
// (Partition.maybeExpandIsr): its log end has reached the HW and the start of
// the leader's epoch, and the metadata does not show it fenced.
func (b *Broker) maybeExpandISR(rep *Replica, f *followerState) {
	if rep.alterPending || slices.Contains(rep.isr, f.id) {
		return
	}
	if f.leo < rep.Log.HW() || f.leo < rep.Log.EpochStart() || !b.eligible(f.id) {
		return
	}
	isr := inReplicaOrder(append(slices.Clone(rep.isr), f.id), b.topo.Partitions[rep.ID].Replicas)
	e := b.entry(event.IsrExpand, rep.ID, 0, f.leo, -1, rep.leaderEpoch, f.id)
	e.X().List = nodeList(isr)
	b.w.Trace.Add(e)
	b.sendAlterPartition(rep, isr)
}

func (b *Broker) sendAlterPartition(rep *Replica, isr []sim.NodeID) {
	rep.alterPending = true
	rep.alterISR = isr
	rep.alterSentAt = b.w.Now()
	b.alterIDs++
	b.w.Net.Send(b.id, b.controller, &AlterPartition{
		ID: b.alterIDs, Partition: rep.ID, Leader: b.id, LeaderEpoch: rep.leaderEpoch,
		PartitionEpoch: rep.partitionEpoch, ISR: isr,
	})
}

func (b *Broker) handleAlterPartitionResponse(m *AlterPartitionResponse) {
	rep := b.replicas[m.Partition]
	if rep == nil || !rep.IsLeader() || !rep.alterPending {
		return
	}
	rep.alterPending = false
	rep.alterISR = nil
	if m.Error != ErrNone || m.State.LeaderEpoch != rep.leaderEpoch {
		// Stale view; the metadata update on its way sets things right.
		return
	}
	b.setISR(rep, m.State)
}

func (b *Broker) setISR(rep *Replica, st PartitionState) {
	if st.PartitionEpoch < rep.partitionEpoch {
		return
	}
	rep.isr = st.ISR
	rep.partitionEpoch = st.PartitionEpoch
	b.maybeIncrementHW(rep)
	b.tryCompleteDelayed(rep)
}

// ---- metadata ----

// applySnapshot installs a newer metadata version and takes up the roles it
// gives this broker (the KRaft metadata publisher's makeLeader/makeFollower).
func (b *Broker) applySnapshot(s *Snapshot) {
	if b.meta != nil && s.Version <= b.meta.Version {
		return
	}
	b.meta = s
	for _, rep := range b.replicas {
		if rep == nil {
			continue
		}
		st := s.Partitions[rep.ID]
		if st.Leader == b.id {
			if !rep.IsLeader() || st.LeaderEpoch > rep.leaderEpoch {
				b.becomeLeader(rep, st)
			} else if st.PartitionEpoch > rep.partitionEpoch {
				rep.alterPending = false
				b.setISR(rep, st)
			}
			continue
		}
		if rep.IsLeader() || st.LeaderEpoch > rep.leaderEpoch || st.Leader != rep.leader {
			b.becomeFollower(rep, st)
		}
		if b.shuttingDown && (st.Leader == NoLeader || !slices.Contains(st.ISR, b.id)) {
			// In controlled shutdown a replica out of the ISR stops
			// fetching (ReplicaManager.applyLocalFollowersDelta): the log
			// stays as it was until the broker comes back.
			b.stopFetching(rep)
		}
		rep.partitionEpoch = st.PartitionEpoch
		rep.isr = st.ISR
	}
	// The fetchers start once every role is applied, so that a fetch
	// covers all the partitions a metadata change gave the leader
	// (ReplicaFetcherManager.addFetcherForPartitions takes them together).
	for l := range b.fetchers {
		b.sendFetch(sim.NodeID(l))
	}
}

func (b *Broker) becomeLeader(rep *Replica, st PartitionState) {
	b.stopFetching(rep)
	now := b.w.Now()
	rep.become(roleLeader, b.id, st.LeaderEpoch)
	rep.partitionEpoch = st.PartitionEpoch
	rep.isr = st.ISR
	rep.alterPending = false
	rep.Log.AssignEpoch(st.LeaderEpoch)
	for i := range rep.followers {
		f := &rep.followers[i]
		f.leo = -1
		f.lastFetchLeaderLEO = -1
		f.lastFetchTime = 0
		f.lastCaughtUp = neverCaughtUp
		if slices.Contains(st.ISR, f.id) {
			f.lastCaughtUp = now
		}
	}
	b.w.Trace.Add(b.entry(event.BecomeLeader, rep.ID, 0, rep.Log.HW(), rep.Log.LEO(), st.LeaderEpoch, -1))
	b.maybeIncrementHW(rep)
	if b.coord.isStatePartition(rep.ID) {
		b.coord.load(rep.ID, rep.leaderEpoch, rep.Log.Batches())
	}
}

func (b *Broker) becomeFollower(rep *Replica, st PartitionState) {
	wasLeader := rep.IsLeader()
	b.stopFetching(rep)
	rep.become(roleFollower, st.Leader, st.LeaderEpoch)
	rep.alterPending = false
	if wasLeader {
		b.coord.unload(rep.ID)
		b.failDelayed(rep.ID, ErrNotLeaderOrFollower)
	}
	b.w.Trace.Add(b.entry(event.BecomeFollower, rep.ID, 0, rep.Log.HW(), rep.Log.LEO(), st.LeaderEpoch, st.Leader))
	if st.Leader != NoLeader {
		f := &b.fetchers[st.Leader]
		f.parts = append(f.parts, rep.ID)
		slices.Sort(f.parts)
	}
}

func (b *Broker) stopFetching(rep *Replica) {
	for l := range b.fetchers {
		f := &b.fetchers[l]
		if i := slices.Index(f.parts, rep.ID); i >= 0 {
			f.parts = slices.Delete(f.parts, i, i+1)
		}
	}
}

func (b *Broker) sendHeartbeat() {
	// The heartbeat channel's NetworkClient times a request out after
	// min(controller.socket.timeout.ms, broker.session.timeout.ms / 2)
	// (NodeToControllerChannelManager, KAFKA-14392; the simulator has no
	// controller.socket.timeout.ms, whose 30 s default is the larger) and
	// closes the connection: heartbeats held by a cut are discarded and the
	// next one goes on a new connection. Kafka sends one heartbeat at a
	// time and notices the timeout in its poll loop; the simulator sends
	// one every broker.heartbeat.interval.ms and checks when it sends.
	now := b.w.Now()
	if b.heartbeatOut && now-b.heartbeatSince >= b.cfg.BrokerSessionTimeout/2 {
		b.w.Net.Close(b.id, b.controller, chanHeartbeat, chanHeartbeat)
		b.heartbeatOut = false
	}
	if !b.heartbeatOut {
		b.heartbeatSince, b.heartbeatOut = now, true
	}
	version := int64(-1)
	if b.meta != nil {
		version = b.meta.Version
	}
	b.w.Net.Send(b.id, b.controller, &Heartbeat{Broker: b.id, Incarnation: b.incarnation, MetadataVersion: version,
		UncleanShutdown: b.incarnation > 0 && !b.cleanShutdown, WantShutDown: b.shuttingDown})
}

// beginControlledShutdown is BrokerServer.shutdown with
// controlled.shutdown.enable: the broker asks the controller, in a
// heartbeat sent at once, to move its leaderships away, and goes on
// serving (as a follower, its leaderships gone) until a heartbeat
// response says it may stop (BrokerLifecycleManager.beginControlledShutdown).
func (b *Broker) beginControlledShutdown() {
	if b.shuttingDown {
		return
	}
	b.shuttingDown = true
	b.sendHeartbeat()
	// The next heartbeat comes 50 ms later, in case the controller is
	// quick (BrokerLifecycleManager, PENDING_CONTROLLED_SHUTDOWN); then at
	// the usual interval.
	b.w.After(50*sim.Millisecond, b.id, kindHeartbeat, 1, 0)
	b.w.After(controlledShutdownTimeout, b.id, kindShutdownTimeout, 0, 0)
}

// stop ends the process after a controlled shutdown: it closes its
// connections, and its logs stay as they are on disk, with the
// clean-shutdown file written (LogManager.shutdown), so it registers again
// as a clean restart.
func (b *Broker) stop(why string) {
	e := sim.E(b.w.Now(), b.id, event.Stop)
	e.X().Label = why
	b.w.Trace.Add(e)
	b.w.Crash(b.id)
	b.cleanShutdown = true
}

// ---- replication, follower side ----

func (b *Broker) sendFetch(leader sim.NodeID) {
	f := &b.fetchers[leader]
	if f.inflight || f.backoff || len(f.parts) == 0 {
		return
	}
	now := b.w.Now()
	req := &FetchRequest{Replica: b.id}
	retryAt := sim.Never
	for _, p := range f.parts {
		rep := b.replicas[p]
		if rep.fetchDelayUntil > now {
			retryAt = min(retryAt, rep.fetchDelayUntil)
			continue
		}
		req.Partitions = append(req.Partitions, FetchPartition{
			Partition: p, FetchOffset: rep.Log.LEO(), LastFetchedEpoch: rep.Log.LatestEpoch(),
			CurrentLeaderEpoch: rep.leaderEpoch,
		})
	}
	if len(req.Partitions) == 0 {
		f.backoff = true
		b.w.Schedule(retryAt, b.id, kindFetchRetry, int64(leader), 0)
		return
	}
	b.nextID++
	f.id = b.nextID
	req.ID = f.id
	f.inflight = true
	b.w.Net.Send(b.id, leader, req)
	f.timeout.Set(b.w, now+b.cfg.ReplicaSocketTimeout)
}

// fetchTimedOut gives up a fetch that got no answer within
// replica.socket.timeout.ms, the request timeout of the fetcher's
// NetworkClient: ReplicaFetcherBlockingSend closes the connection to the
// leader, and AbstractFetcherThread.processFetchRequest delays the
// partitions by replica.fetch.backoff.ms before the next fetch, on a new
// connection. Nothing of the old connection arrives later.
func (b *Broker) fetchTimedOut(leader sim.NodeID) {
	f := &b.fetchers[leader]
	f.inflight = false
	e := sim.E(b.w.Now(), b.id, event.FetchTimeout)
	e.Peer, e.Req = leader, f.id
	e.X().Limit = int64(b.cfg.ReplicaSocketTimeout / sim.Millisecond)
	b.w.Trace.Add(e)
	b.w.Net.Close(b.id, leader, chanFetch, chanFetchResponse)
	b.fetchBackoff(leader)
}

func (b *Broker) fetchBackoff(leader sim.NodeID) {
	f := &b.fetchers[leader]
	if f.backoff {
		return
	}
	f.backoff = true
	b.w.After(b.cfg.ReplicaFetchBackoff, b.id, kindFetchRetry, int64(leader), 0)
}

func (b *Broker) handleFetchResponse(leader sim.NodeID, m *FetchResponse) {
	f := &b.fetchers[leader]
	if !f.inflight || f.id != m.ID {
		return // an answer to a fetch we gave up on
	}
	f.inflight = false
	f.timeout.Stop()
	now := b.w.Now()
	batches, bytes := 0, int64(0)
	for i := range m.Partitions {
		d := &m.Partitions[i]
		rep := b.replicas[d.Partition]
		if rep.IsLeader() || rep.leader != leader {
			continue // leadership moved while the fetch was out
		}
		switch {
		case d.Error != ErrNone:
			// NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH:
			// wait for metadata to catch up, then try again.
			rep.fetchDelayUntil = now + b.cfg.ReplicaFetchBackoff
		case d.Diverging:
			b.truncateDiverging(rep, leader, d)
		default:
			b.appendFromLeader(rep, leader, d)
			for _, lb := range d.Batches {
				batches++
				bytes += int64(lb.Bytes)
			}
		}
	}
	if cost := b.bytesCost(batches, bytes); cost > 0 {
		// The fetcher thread is busy appending before it fetches again.
		f.backoff = true
		b.w.Schedule(now+cost, b.id, kindFetchRetry, int64(leader), 0)
		return
	}
	b.sendFetch(leader)
}

// truncateDiverging truncates a follower whose log diverged from the
// leader's (AbstractFetcherThread.getOffsetTruncationState): to the leader's
// end offset for the epoch, unless the follower has no entry for that epoch,
// in which case it truncates to the end of its own largest earlier epoch and
// asks again.
func (b *Broker) truncateDiverging(rep *Replica, leader sim.NodeID, d *FetchData) {
	leo := rep.Log.LEO()
	fEpoch, fEnd := rep.Log.EndOffsetForEpoch(d.DivergingEpoch)
	var to int64
	switch {
	case d.DivergingEpoch < 0 || fEpoch < 0:
		to = min(rep.Log.HW(), leo)
	case fEpoch != d.DivergingEpoch:
		to = min(fEnd, leo)
	default:
		to = min(fEnd, d.DivergingEnd, leo)
	}
	newLEO := rep.Log.Truncate(to)
	if newLEO >= leo {
		return // only an empty epoch at the log end went
	}
	rep.producers.rebuild(&rep.Log, b.w.Now(), b.cfg.ProducerIDExpiration)
	b.w.Trace.Add(b.entry(event.Truncate, rep.ID, 0, newLEO, leo-1, d.DivergingEpoch, leader))
}

func (b *Broker) appendFromLeader(rep *Replica, leader sim.NodeID, d *FetchData) {
	if len(d.Batches) > 0 && d.Batches[0].BaseOffset == rep.Log.LEO() {
		first := rep.Log.LEO()
		pos := 0
		for _, lb := range d.Batches {
			n := int(lb.Count)
			lb.Written = b.w.Now()
			appended := rep.Log.Append(lb, d.Records[pos:pos+n])
			rep.producers.update(&appended)
			pos += n
		}
		b.w.Trace.Add(b.entry(event.Replicate, rep.ID, 0, first, rep.Log.LEO()-1, rep.Log.LatestEpoch(), leader))
	}
	// A follower takes the leader's HW, capped at its own log end, even
	// when that is lower (UnifiedLog.updateHighWatermark on a follower).
	rep.Log.SetHW(min(d.HighWatermark, rep.Log.LEO()))
}

// ---- replication, leader side ----

func (b *Broker) handleFetch(r *FetchRequest) {
	pf := &b.pending[r.Replica]
	pf.active = false // a newer fetch replaces a parked one
	pf.wait.Stop()
	ready := false
	rule := b.fetchRule(r, false)
	if rule != nil && rule.Lost {
		return // never answered: the follower's replica.socket.timeout.ms runs out
	}
	for i := range r.Partitions {
		fp := &r.Partitions[i]
		rep := b.replicas[fp.Partition]
		if rule != nil && rule.matches(b.topo, fp.Partition) {
			ready = true // answered at once with the rule's error; the position is not recorded
			continue
		}
		if err := b.validateFetch(rep, fp); err != ErrNone {
			ready = true
			continue
		}
		if diverging(rep, fp) {
			ready = true
			continue
		}
		b.updateFollower(rep, r.Replica, fp.FetchOffset)
	}
	pf.active, pf.req, pf.rule = true, r, rule
	if ready || b.fetchable(r) {
		b.completeFetch(r.Replica)
		return
	}
	pf.wait.Set(b.w, b.w.Now()+b.cfg.ReplicaFetchWaitMax)
}

func (b *Broker) validateFetch(rep *Replica, fp *FetchPartition) Error {
	switch {
	case rep == nil || !rep.IsLeader():
		return ErrNotLeaderOrFollower
	case fp.CurrentLeaderEpoch < rep.leaderEpoch:
		return ErrFencedLeaderEpoch
	case fp.CurrentLeaderEpoch > rep.leaderEpoch:
		return ErrUnknownLeaderEpoch
	}
	return ErrNone
}

// diverging is the leader's check of a follower's position
// (Partition.fetchRecords, lastFetchedEpoch): the follower's last epoch must
// end, in the leader's log, at or after the follower's fetch offset.
func diverging(rep *Replica, fp *FetchPartition) bool {
	if fp.FetchOffset > rep.Log.LEO() {
		return true
	}
	if fp.LastFetchedEpoch < 0 {
		return false
	}
	epoch, end := rep.Log.EndOffsetForEpoch(fp.LastFetchedEpoch)
	return epoch < fp.LastFetchedEpoch || end < fp.FetchOffset
}

// updateFollower records a follower's fetch position
// (Replica.updateFetchStateOrThrow) and moves the ISR and HW on.
func (b *Broker) updateFollower(rep *Replica, id sim.NodeID, fetchOffset int64) {
	f := rep.follower(id)
	if f == nil {
		return
	}
	now := b.w.Now()
	leo := rep.Log.LEO()
	switch {
	case fetchOffset >= leo:
		f.lastCaughtUp = now
	case fetchOffset >= f.lastFetchLeaderLEO:
		f.lastCaughtUp = max(f.lastCaughtUp, f.lastFetchTime)
	}
	f.leo = fetchOffset
	f.lastFetchLeaderLEO = leo
	f.lastFetchTime = now
	b.maybeExpandISR(rep, f)
	b.maybeIncrementHW(rep)
}

// completeFetch answers a follower's parked fetch with what the log holds now.
func (b *Broker) completeFetch(follower sim.NodeID) {
	pf := &b.pending[follower]
	req, rule := pf.req, pf.rule
	pf.active = false
	pf.req, pf.rule = nil, nil
	pf.wait.Stop()
	if rule == nil {
		// A rule that fires after the leader recorded the follower's position.
		if rule = b.fetchRule(req, true); rule != nil && rule.Lost {
			return
		}
	}
	resp := &FetchResponse{ID: req.ID, Partitions: make([]FetchData, len(req.Partitions)), bytes: 64}
	for i := range req.Partitions {
		fp := &req.Partitions[i]
		rep := b.replicas[fp.Partition]
		d := &resp.Partitions[i]
		d.Partition = fp.Partition
		if rule != nil && rule.matches(b.topo, fp.Partition) {
			d.Error = rule.Error
			continue
		}
		if d.Error = b.validateFetch(rep, fp); d.Error != ErrNone {
			continue
		}
		d.HighWatermark = rep.Log.HW()
		d.LogEndOffset = rep.Log.LEO()
		if diverging(rep, fp) {
			d.Diverging = true
			d.DivergingEpoch, d.DivergingEnd = rep.Log.EndOffsetForEpoch(fp.LastFetchedEpoch)
			if fp.FetchOffset > rep.Log.LEO() && d.DivergingEnd < 0 {
				d.DivergingEpoch, d.DivergingEnd = rep.Log.LatestEpoch(), rep.Log.LEO()
			}
			continue
		}
		resp.bytes += b.readBatches(rep, fp.FetchOffset, d)
	}
	b.w.Net.Send(b.id, follower, resp)
}

// readBatches fills d with whole batches from offset, up to
// replica.fetch.max.bytes (always at least one batch).
func (b *Broker) readBatches(rep *Replica, offset int64, d *FetchData) int {
	l := &rep.Log
	if offset >= l.LEO() {
		return 0
	}
	first := l.BatchIndex(offset)
	bytes, last := 0, first
	for last < len(l.batches) && (last == first || bytes+int(l.batches[last].Bytes) <= b.cfg.ReplicaFetchMaxBytes) {
		bytes += int(l.batches[last].Bytes)
		last++
	}
	d.Batches = l.batches[first:last:last]
	from := l.batches[first].BaseOffset
	to := l.batches[last-1].LastOffset() + 1
	d.Records = l.Records(from, to)
	return bytes
}
