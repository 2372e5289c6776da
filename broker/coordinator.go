package broker

import (
	"math"
	"slices"
	"strings"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The transaction coordinator (TransactionCoordinator,
// TransactionStateManager, TransactionMarkerChannelManager). Every broker
// runs one; it coordinates the transactional ids whose __transaction_state
// partition it leads. Each state change is written to that partition and
// takes effect once replicated (acks=all), so a new leader can load the
// state and finish what the old one began.
//
// Both protocols are modelled, by the cluster's transaction.version
// (features.go). Version 0 or 1 (KIP-98): the producer adds partitions with
// AddPartitionsToTxn and keeps its epoch across transactions. Version 2
// (KIP-890 part 2, the default from 4.0): partition leaders add partitions
// when a producer first writes to them, and every commit or abort bumps
// the epoch, which the EndTxn answer hands to the producer and the markers
// carry to the partitions, so that nothing written under the old epoch can
// join the next transaction.

// txnMarkerRetry is how long the coordinator waits before it tries a marker
// or a log write again after an error. Kafka re-queues them for the marker
// channel's next pass (TransactionMarkerRequestCompletionHandler), which
// comes when its inter-broker thread polls; the simulator waits a fixed
// 100 ms instead.
const txnMarkerRetry = 100 * sim.Millisecond

// txnMeta is the coordinator's state of one transactional id
// (TransactionMetadata): the last state written to the log, and the
// transition being written, if any.
type txnMeta struct {
	TxnLogEntry
	statePart PartitionID
	pending   bool
	// markers are the partitions still waiting for this transaction's
	// marker while it is in PrepareCommit or PrepareAbort.
	markers  []PartitionID
	inflight []bool // by index into markers: a WriteTxnMarkers is out
	unloaded bool   // this broker stopped coordinating the id
	retryAt  sim.Time
}

// transitionTo moves the state in memory only, for the epoch fence.
func (m *txnMeta) transitionTo(to TxnState) {
	checkTxnTransition(m.TransactionalID, m.State, to)
	m.State = to
}

// markerRequest is a WriteTxnMarkers the coordinator is waiting on.
type markerRequest struct {
	id       int64
	to       sim.NodeID
	txn      *txnMeta
	parts    []PartitionID
	deadline sim.Time // no answer by then (a cut link): send again
}

// clientReply is where a client request's answer goes: the client and the
// connection it came on, which a broker handles one request at a time.
type clientReply struct {
	client sim.NodeID
	conn   uint32
}

// txnWriteCause is why the coordinator writes to its log, which says what
// it does once the write settles.
type txnWriteCause uint8

const (
	writeInit     txnWriteCause = iota + 1 // InitProducerId: a new epoch, Empty
	writeAdd                               // AddPartitionsToTxn: Ongoing
	writePrepare                           // EndTxn, a fence or a timeout: PrepareCommit or PrepareAbort
	writeComplete                          // every marker written: CompleteCommit or CompleteAbort
	writeExpire                            // transactional.id.expiration.ms: Dead, a tombstone
)

// txnWrite is one transition on its way to __transaction_state
// (TransactionStateManager.appendTransactionToLog): applied to the id's
// state once the high watermark passes it.
type txnWrite struct {
	cause txnWriteCause
	txn   *txnMeta
	entry TxnLogEntry
	reply *clientReply // the request answered when the write settles, or nil
	// leader is the partition leader whose AddPartitionsToTxn
	// (transaction.version 2) this write answers, when reply is nil.
	leader sim.NodeID
	parts  int   // how many partitions that request named
	reqID  int64 // the request's id
}

// coordinatorHost is what the coordinator needs of the broker it runs in:
// its replicas of __transaction_state (ReplicaManager), its metadata
// (MetadataCache), producer ids, and its connections.
type coordinatorHost interface {
	// leads reports whether this broker leads partition p.
	leads(p PartitionID) bool
	// metadataLeader is p's leader as this broker's metadata has it, or NoLeader.
	metadataLeader(p PartitionID) sim.NodeID
	// txnLogWritable is NOT_COORDINATOR where this broker does not lead
	// __transaction_state partition p, COORDINATOR_NOT_AVAILABLE where
	// its ISR is below min.insync.replicas (NOT_ENOUGH_REPLICAS).
	txnLogWritable(p PartitionID) Error
	// appendTxnLog appends a write to its partition as the leader, with
	// acks=all: the coordinator hears written once the high watermark
	// passes it (perhaps at once), the broker stops leading, or the wait
	// times out.
	appendTxnLog(w *txnWrite)
	newProducerID() int64
	// respondTo answers a request now; hold keeps the request's connection
	// busy until release answers it and handles the connection's next
	// request.
	respondTo(r clientReply, m sim.Message)
	hold(r clientReply)
	release(r clientReply, m sim.Message)
	// send sends a message to another broker.
	send(to sim.NodeID, m sim.Message)
	// closeMarkers closes the marker connection to a broker: what is
	// still on its way on it, either way, is discarded.
	closeMarkers(to sim.NodeID)
}

// txnCoordinator is one broker's TransactionCoordinator: the state of the
// ids whose __transaction_state partition the broker leads, their log
// writes, and the markers it sends.
type txnCoordinator struct {
	w    *sim.World
	id   sim.NodeID
	cfg  *Config
	topo *Topology
	host coordinatorHost

	txnTopic int        // topic index of __transaction_state; -1 without one
	txns     []*txnMeta // sorted by transactional id
	epochs   []int32    // coordinator epoch by __transaction_state partition index; -1 if not loaded
	requests []*markerRequest
	nextID   int64
	retry    sim.Timer
}

func newTxnCoordinator(w *sim.World, id sim.NodeID, cfg *Config, topo *Topology, host coordinatorHost) *txnCoordinator {
	c := &txnCoordinator{w: w, id: id, cfg: cfg, topo: topo, host: host, txnTopic: topo.TopicIndex(TransactionStateTopic),
		retry: sim.NewTimer(id, kindTxnRetry, 0)}
	if c.txnTopic >= 0 {
		c.epochs = make([]int32, topo.Topics[c.txnTopic].Partitions)
		for i := range c.epochs {
			c.epochs[i] = -1
		}
	}
	return c
}

// statePartition is the __transaction_state partition of a transactional id.
func (c *txnCoordinator) statePartition(id string) (PartitionID, bool) {
	if c.txnTopic < 0 {
		return 0, false
	}
	t := &c.topo.Topics[c.txnTopic]
	return t.First + PartitionID(TxnCoordinatorPartition(id, t.Partitions)), true
}

func (c *txnCoordinator) isStatePartition(p PartitionID) bool {
	return c.txnTopic >= 0 && c.topo.Partitions[p].Topic == c.txnTopic
}

func (c *txnCoordinator) findTxn(id string) *txnMeta {
	i, ok := slices.BinarySearchFunc(c.txns, id, func(m *txnMeta, id string) int { return strings.Compare(m.TransactionalID, id) })
	if !ok {
		return nil
	}
	return c.txns[i]
}

func (c *txnCoordinator) addTxn(m *txnMeta) {
	i, _ := slices.BinarySearchFunc(c.txns, m.TransactionalID, func(m *txnMeta, id string) int { return strings.Compare(m.TransactionalID, id) })
	c.txns = slices.Insert(c.txns, i, m)
}

// txnEntry starts a trace entry about a transactional id's state.
func (c *txnCoordinator) txnEntry(k event.Kind, m *txnMeta) sim.Entry {
	e := sim.E(c.w.Now(), c.id, k)
	e.Subject = int32(m.statePart)
	e.First, e.ProducerID = m.ProducerID, m.ProducerID
	e.Epoch, e.ProducerEpoch = int32(m.ProducerEpoch), m.ProducerEpoch
	e.X().TxnID = m.TransactionalID
	return e
}

// traceTxnState records an entry whose text names a transaction state.
func (c *txnCoordinator) traceTxnState(k event.Kind, m *txnMeta, s TxnState) {
	e := c.txnEntry(k, m)
	e.X().Label = s.String()
	c.w.Trace.Add(e)
}

// coordinatorFor checks that this broker coordinates id now. A broker that
// leads the partition but has not loaded it answers
// COORDINATOR_LOAD_IN_PROGRESS; loading is immediate here, so that does
// not happen.
func (c *txnCoordinator) coordinatorFor(id string) (PartitionID, Error) {
	p, ok := c.statePartition(id)
	if !ok {
		return 0, ErrCoordinatorNotAvailable
	}
	if !c.host.leads(p) || c.epochs[c.topo.Partitions[p].Index] < 0 {
		return p, ErrNotCoordinator
	}
	return p, ErrNone
}

// ---- requests from producers ----

// handleFindCoordinator answers with the leader of the id's
// __transaction_state partition, as this broker's metadata has it.
func (c *txnCoordinator) handleFindCoordinator(r clientReply, m *FindCoordinatorRequest) {
	resp := &FindCoordinatorResponse{ID: m.ID, Coordinator: NoLeader, Error: ErrCoordinatorNotAvailable}
	if p, ok := c.statePartition(m.TransactionalID); ok {
		if l := c.host.metadataLeader(p); l != NoLeader {
			resp.Coordinator, resp.Error = l, ErrNone
		}
	}
	c.host.respondTo(r, resp)
}

// handleInitProducerID is InitProducerId with a transactional id
// (TransactionCoordinator.handleInitProducerId): a new producer id for a
// new id; otherwise the same id with the epoch bumped, which fences any
// older instance. A transaction still open is aborted first, and the
// caller is told to retry.
func (c *txnCoordinator) handleInitProducerID(rp clientReply, r *InitProducerIDRequest) {
	fail := func(err Error) {
		c.host.respondTo(rp, &InitProducerIDResponse{ID: r.ID, ProducerID: -1, Epoch: -1, Error: err})
	}
	if sim.Millis(r.TransactionTimeoutMs) > c.cfg.TransactionMaxTimeout || r.TransactionTimeoutMs <= 0 {
		fail(ErrInvalidTransactionTimeout) // checked first, on any broker
		return
	}
	p, err := c.coordinatorFor(r.TransactionalID)
	if err != ErrNone {
		fail(err)
		return
	}
	m := c.findTxn(r.TransactionalID)
	if m == nil {
		m = &txnMeta{TxnLogEntry: TxnLogEntry{TransactionalID: r.TransactionalID, ProducerID: c.host.newProducerID(), ProducerEpoch: -1, LastEpoch: -1,
			UpdatedAt: c.w.Now()}, statePart: p}
		c.addTxn(m)
	}
	if m.pending {
		fail(ErrConcurrentTransactions)
		return
	}
	if r.ProducerID >= 0 && m.ProducerEpoch >= 0 {
		// A bump asked for by a running instance (KIP-360,
		// TransactionMetadata.prepareIncrementProducerEpoch): a retry of
		// one that went through gets the current epoch again; an instance
		// that is no longer current must not fence the one that is. An id
		// just created (its transactional.id had expired) takes any: the
		// producer gets the new producer id (isValidProducerId).
		retry := r.ProducerID == m.ProducerID && r.ProducerEpoch == m.LastEpoch && m.LastEpoch >= 0 &&
			(m.State == TxnEmpty || m.State == TxnCompleteCommit || m.State == TxnCompleteAbort)
		if retry {
			c.host.respondTo(rp, &InitProducerIDResponse{ID: r.ID, ProducerID: m.ProducerID, Epoch: m.ProducerEpoch})
			return
		}
		if r.ProducerID != m.ProducerID || r.ProducerEpoch != m.ProducerEpoch {
			fail(ErrProducerFenced)
			return
		}
	}
	switch m.State {
	case TxnPrepareCommit, TxnPrepareAbort:
		fail(ErrConcurrentTransactions)
		return
	case TxnOngoing:
		// Fence the running instance and abort its transaction; the new
		// one retries until the abort is complete. (Kafka answers once
		// PrepareAbort is in the log; answering at once only moves the
		// first retry earlier.)
		c.w.Trace.Add(c.txnEntry(event.TxnFence, m))
		c.endTxn(m, false, true, nil, 0)
		fail(ErrConcurrentTransactions)
		return
	}
	next := m.TxnLogEntry
	next.LastEpoch = m.ProducerEpoch
	if m.ProducerEpoch >= math.MaxInt16-1 {
		// The epoch is exhausted (TransactionMetadata.isProducerEpochExhausted;
		// a fence may have taken it to the very last value): a new producer
		// id starts again at 0.
		next.ProducerID, next.ProducerEpoch, next.LastEpoch = c.host.newProducerID(), 0, -1
	} else {
		next.ProducerEpoch++
	}
	next.TimeoutMs = r.TransactionTimeoutMs
	next.State = TxnEmpty
	next.Partitions = nil
	c.host.hold(rp)
	c.writeTxnLog(&txnWrite{cause: writeInit, txn: m, entry: next, reply: &rp, reqID: r.ID})
}

// txnFor finds the transaction a request from a producer is about, after
// the checks every such request passes first: this broker coordinates the
// id, and the producer id and epoch are the current ones (an older epoch is
// a fenced instance).
func (c *txnCoordinator) txnFor(id string, pid int64, epoch int16) (*txnMeta, Error) {
	if _, err := c.coordinatorFor(id); err != ErrNone {
		return nil, err
	}
	m := c.findTxn(id)
	return m, checkProducer(m, pid, epoch)
}

func checkProducer(m *txnMeta, pid int64, epoch int16) Error {
	switch {
	case m == nil || m.ProducerID != pid:
		return ErrInvalidProducerIDMapping
	case epoch != m.ProducerEpoch:
		return ErrProducerFenced
	case m.pending:
		return ErrConcurrentTransactions
	}
	return ErrNone
}

// handleAddPartitions is TransactionCoordinator.handleAddPartitionsToTransaction.
func (c *txnCoordinator) handleAddPartitions(rp clientReply, r *AddPartitionsToTxnRequest) {
	fail := func(err Error) { c.host.respondTo(rp, &AddPartitionsToTxnResponse{ID: r.ID, Error: err}) }
	m, err := c.txnFor(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if err != ErrNone {
		fail(err)
		return
	}
	switch m.State {
	case TxnPrepareCommit, TxnPrepareAbort:
		// The last transaction's markers are still being written.
		fail(ErrConcurrentTransactions)
		return
	case TxnOngoing:
		if !slices.ContainsFunc(r.Partitions, func(p PartitionID) bool { return !slices.Contains(m.Partitions, p) }) {
			fail(ErrNone) // nothing new to write
			return
		}
	}
	c.host.hold(rp)
	c.writeTxnLog(&txnWrite{cause: writeAdd, txn: m, entry: withPartitions(m, r.Partitions, c.w.Now()), reply: &rp, reqID: r.ID})
}

// withPartitions is the Ongoing entry that adds parts to m's transaction,
// starting one if none is open (TransactionMetadata.prepareAddPartitions).
func withPartitions(m *txnMeta, parts []PartitionID, now sim.Time) TxnLogEntry {
	next := m.TxnLogEntry
	if m.State != TxnOngoing {
		next.StartAt = now
		next.Partitions = nil
	}
	next.State = TxnOngoing
	next.Partitions = slices.Clone(next.Partitions)
	for _, p := range parts {
		if !slices.Contains(next.Partitions, p) {
			next.Partitions = append(next.Partitions, p)
		}
	}
	slices.Sort(next.Partitions)
	return next
}

// handleLeaderAddPartitions answers a partition leader's
// AddPartitionsToTxn (versions 4+, from AddPartitionsToTxnManager) before
// a producer's first transactional write to its partitions. VerifyOnly
// (transaction.version 1 with transaction.partition.verification.enable)
// checks that they are in the ongoing transaction
// (TransactionCoordinator.handleVerifyPartitionsInTransaction); otherwise
// (transaction.version 2) it adds them, as a producer's request would
// (handleAddPartitionsToTransaction).
func (c *txnCoordinator) handleLeaderAddPartitions(from sim.NodeID, r *AddPartitionsToTxnRequest) {
	answer := func(err Error) {
		errs := make([]Error, len(r.Partitions))
		for i := range errs {
			errs[i] = err
		}
		c.host.send(from, &AddPartitionsToTxnResponse{ID: r.ID, Errors: errs})
	}
	m, err := c.txnFor(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if err == ErrConcurrentTransactions && r.VerifyOnly {
		err = ErrNone // verification looks at the state, pending or not
	}
	if err != ErrNone {
		answer(err)
		return
	}
	if m.State == TxnPrepareCommit || m.State == TxnPrepareAbort {
		answer(ErrConcurrentTransactions)
		return
	}
	if r.VerifyOnly {
		errs := make([]Error, len(r.Partitions))
		for i, p := range r.Partitions {
			if m.State != TxnOngoing || !slices.Contains(m.Partitions, p) {
				errs[i] = ErrTransactionAbortable
			}
		}
		c.host.send(from, &AddPartitionsToTxnResponse{ID: r.ID, Errors: errs})
		return
	}
	if m.State == TxnOngoing && !slices.ContainsFunc(r.Partitions, func(p PartitionID) bool { return !slices.Contains(m.Partitions, p) }) {
		answer(ErrNone) // already in the transaction
		return
	}
	c.writeTxnLog(&txnWrite{cause: writeAdd, txn: m, entry: withPartitions(m, r.Partitions, c.w.Now()),
		leader: from, parts: len(r.Partitions), reqID: r.ID})
}

// handleEndTxn is TransactionCoordinator.handleEndTransaction.
func (c *txnCoordinator) handleEndTxn(rp clientReply, r *EndTxnRequest) {
	fail := func(err Error) {
		c.host.respondTo(rp, &EndTxnResponse{ID: r.ID, Error: err, ProducerID: -1, ProducerEpoch: -1})
	}
	if c.cfg.TransactionV2() {
		c.handleEndTxnV2(rp, r)
		return
	}
	m, err := c.txnFor(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if err != ErrNone {
		fail(err)
		return
	}
	switch m.State {
	case TxnOngoing:
	case TxnPrepareCommit, TxnPrepareAbort:
		// Its markers are still being written: Kafka's pending CompleteX
		// answers every EndTxn so, whichever decision it asks for.
		fail(ErrConcurrentTransactions)
		return
	case TxnCompleteCommit, TxnCompleteAbort:
		if committed := m.State == TxnCompleteCommit; committed != r.Commit {
			fail(ErrInvalidTxnState) // the opposite decision
		} else {
			fail(ErrNone) // a retry of an EndTxn that went through
		}
		return
	default:
		fail(ErrInvalidTxnState)
		return
	}
	c.host.hold(rp)
	c.endTxn(m, r.Commit, false, &rp, r.ID)
}

// handleEndTxnV2 is handleEndTransaction with transaction.version 2
// (TransactionCoordinator.endTransaction for a client whose EndTxn is v5+).
// Every commit or abort bumps the epoch, so a request naming the epoch
// before the current one is a retry of an EndTxn that went through, and
// the current epoch asks for the next one. An abort may come with no
// transaction open: it still bumps the epoch (the producer aborts after
// an error, before anything was written).
func (c *txnCoordinator) handleEndTxnV2(rp clientReply, r *EndTxnRequest) {
	reply := func(err Error, m *txnMeta) {
		resp := &EndTxnResponse{ID: r.ID, Error: err, ProducerID: -1, ProducerEpoch: -1}
		if err == ErrNone {
			resp.ProducerID, resp.ProducerEpoch = m.ProducerID, m.ProducerEpoch
		}
		c.host.respondTo(rp, resp)
	}
	if _, err := c.coordinatorFor(r.TransactionalID); err != ErrNone {
		reply(err, nil)
		return
	}
	m := c.findTxn(r.TransactionalID)
	if m == nil || m.ProducerID != r.ProducerID {
		reply(ErrInvalidProducerIDMapping, nil)
		return
	}
	// While a transaction's markers are being written (PrepareCommit or
	// PrepareAbort: Kafka's pending CompleteCommit or CompleteAbort), every
	// EndTxn is answered CONCURRENT_TRANSACTIONS before its epoch is looked
	// at (KAFKA-18464): an abort sent right after a commit's answer already
	// carries the epoch that commit bumped, and must wait, not be fenced.
	if m.pending || m.State == TxnPrepareCommit || m.State == TxnPrepareAbort {
		reply(ErrConcurrentTransactions, nil)
		return
	}
	retry := m.ProducerEpoch == r.ProducerEpoch+1 // the answer to it was lost
	current := r.ProducerEpoch == m.ProducerEpoch
	var valid bool
	switch m.State {
	case TxnCompleteCommit, TxnCompleteAbort:
		valid = retry || current
	default:
		valid = current
	}
	if !valid {
		reply(ErrProducerFenced, nil)
		return
	}
	committed := m.State == TxnCompleteCommit
	switch m.State {
	case TxnOngoing:
	case TxnCompleteCommit, TxnCompleteAbort:
		switch {
		case retry && committed == r.Commit:
			reply(ErrNone, m)
			return
		case retry || r.Commit:
			reply(ErrInvalidTxnState, nil)
			return
		}
		// An abort with nothing open: bump the epoch all the same.
	case TxnEmpty:
		if r.Commit {
			reply(ErrInvalidTxnState, nil)
			return
		}
	}
	c.host.hold(rp)
	c.endTxn(m, r.Commit, false, &rp, r.ID)
}

// nextProducer is the producer id and epoch the next transaction uses once
// this one completes.
func (m *txnMeta) nextProducer() (int64, int16) {
	if m.NextProducerID != 0 {
		return m.NextProducerID, 0
	}
	return m.ProducerID, m.ProducerEpoch
}

// endTxn moves an ongoing transaction to PrepareCommit or PrepareAbort,
// then writes its markers and completes it. With fence, the producer's
// epoch is bumped first (prepareFenceProducerEpoch), so the markers fence
// the old instance at every partition. reply, if set, is where EndTxn
// request reqID is answered when the prepare state is in the log.
func (c *txnCoordinator) endTxn(m *txnMeta, commit, fence bool, reply *clientReply, reqID int64) {
	next := m.TxnLogEntry
	next.State = TxnPrepareAbort
	if commit {
		next.State = TxnPrepareCommit
	}
	if m.State != TxnOngoing {
		// A transaction.version 2 abort with nothing open
		// (prepareAbortOrCommit with noPartitionAdded).
		next.Partitions, next.StartAt = nil, c.w.Now()
	}
	if fence {
		// PrepareEpochFence (TransactionMetadata.prepareFenceProducerEpoch):
		// the epoch moves on in memory, and the abort is written with it,
		// so every marker fences the old instance.
		c.traceTxnState(event.TxnEpochFence, m, TxnPrepareEpochFence)
		m.transitionTo(TxnPrepareEpochFence)
		next.ProducerEpoch++
		next.LastEpoch = -1
	}
	if c.cfg.TransactionV2() {
		// With transaction.version 2 the commit or abort bumps the epoch
		// once more (prepareAbortOrCommit; the coordinator uses its own
		// version for a fence or a timeout), and the markers carry it.
		// At the last epoch the id moves to a new producer id once the
		// transaction completes (nextProducerId).
		if !fence && next.ProducerEpoch >= math.MaxInt16-1 {
			next.NextProducerID = c.host.newProducerID()
		}
		next.LastEpoch = next.ProducerEpoch
		next.ProducerEpoch++
	}
	c.writeTxnLog(&txnWrite{cause: writePrepare, txn: m, entry: next, reply: reply, reqID: reqID})
}

// partitionList is partitions as trace subjects.
func partitionList(ps []PartitionID) []int32 {
	out := make([]int32, len(ps))
	for i, p := range ps {
		out[i] = int32(p)
	}
	return out
}

// ---- the transaction log ----

// writeTxnLog appends a transition to the id's __transaction_state
// partition and applies it once the high watermark passes it
// (TransactionStateManager.appendTransactionToLog). While it waits, the id
// takes no other transition.
func (c *txnCoordinator) writeTxnLog(w *txnWrite) {
	m := w.txn
	checkTxnTransition(m.TransactionalID, m.State, w.entry.State) // prepareTransition
	w.entry.UpdatedAt = c.w.Now()
	err := ErrNotCoordinator
	if !m.unloaded {
		err = c.host.txnLogWritable(m.statePart)
	}
	if err != ErrNone {
		c.settled(w, err)
		return
	}
	m.pending = true
	c.host.appendTxnLog(w)
}

// written applies a write whose wait ended: with ErrNone once replicated,
// else with the broker's error.
func (c *txnCoordinator) written(w *txnWrite, err Error) {
	m := w.txn
	m.pending = false
	switch {
	case m.unloaded:
		// The partition moved (or was reloaded) while the write waited:
		// the loaded state decides, not this copy.
		err = ErrNotCoordinator
	case err == ErrNone:
		m.TxnLogEntry = w.entry
	case err == ErrNotLeaderOrFollower:
		err = ErrNotCoordinator
	default:
		err = ErrCoordinatorNotAvailable
	}
	c.settled(w, err)
}

// settled goes on from a write that took effect (ErrNone) or did not
// (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE).
func (c *txnCoordinator) settled(w *txnWrite, err Error) {
	m := w.txn
	switch w.cause {
	case writeInit:
		resp := &InitProducerIDResponse{ID: w.reqID, ProducerID: m.ProducerID, Epoch: m.ProducerEpoch, Error: err}
		if err == ErrNone {
			c.w.Trace.Add(c.txnEntry(event.TxnInit, m))
		}
		c.host.release(*w.reply, resp)
	case writeAdd:
		if w.reply == nil {
			errs := make([]Error, w.parts)
			for i := range errs {
				errs[i] = err
			}
			c.host.send(w.leader, &AddPartitionsToTxnResponse{ID: w.reqID, Errors: errs})
			return
		}
		c.host.release(*w.reply, &AddPartitionsToTxnResponse{ID: w.reqID, Error: err})
	case writePrepare:
		if err != ErrNone && m.State == TxnPrepareEpochFence {
			m.transitionTo(TxnOngoing) // the fence did not stick; the old epoch stands
		}
		if w.reply != nil {
			resp := &EndTxnResponse{ID: w.reqID, Error: err, ProducerID: -1, ProducerEpoch: -1}
			if err == ErrNone && c.cfg.TransactionV2() {
				resp.ProducerID, resp.ProducerEpoch = m.nextProducer()
			}
			c.host.release(*w.reply, resp)
		}
		if err != ErrNone {
			return
		}
		e := c.txnEntry(event.TxnPrepare, m)
		e.X().Label = w.entry.State.String()
		e.X().List = partitionList(m.Partitions)
		c.w.Trace.Add(e)
		c.startMarkers(m)
	case writeExpire:
		if err == ErrNone && !m.unloaded {
			c.forget(m)
		}
	case writeComplete:
		switch err {
		case ErrNone:
			c.traceTxnState(event.TxnComplete, m, w.entry.State)
		case ErrNotCoordinator:
			// The new coordinator loads PrepareX and finishes.
		default:
			c.retryMarkersLater(m)
		}
	}
}

// ---- loading and unloading ----

// load makes this broker the coordinator of the ids in a
// __transaction_state partition it now leads, from the partition's log
// (TransactionStateManager.loadTransactionsForTxnTopicPartition): the
// newest entry per id is its state, and transactions caught between
// prepare and complete get their markers again (TransactionCoordinator.onElection).
func (c *txnCoordinator) load(p PartitionID, leaderEpoch int32, batches []LogBatch) {
	c.unload(p)
	c.epochs[c.topo.Partitions[p].Index] = leaderEpoch
	var loaded []*txnMeta
	for i := range batches {
		e := batches[i].Txn
		if e == nil {
			continue
		}
		m := c.findTxn(e.TransactionalID)
		if e.State == TxnDead {
			// A tombstone: the id expired.
			if m != nil {
				c.txns = slices.DeleteFunc(c.txns, func(x *txnMeta) bool { return x == m })
				loaded = slices.DeleteFunc(loaded, func(x *txnMeta) bool { return x == m })
			}
			continue
		}
		if m == nil {
			m = &txnMeta{statePart: p}
			m.TransactionalID = e.TransactionalID
			c.addTxn(m)
			loaded = append(loaded, m)
		}
		m.TxnLogEntry = *e
	}
	for _, m := range loaded {
		c.traceTxnState(event.TxnLoad, m, m.State)
		if m.State == TxnPrepareCommit || m.State == TxnPrepareAbort {
			c.startMarkers(m)
		}
	}
}

// unload forgets the ids of a partition this broker no longer leads.
// Writes still waiting fail with NOT_COORDINATOR.
func (c *txnCoordinator) unload(p PartitionID) {
	if !c.isStatePartition(p) {
		return
	}
	c.epochs[c.topo.Partitions[p].Index] = -1
	c.txns = slices.DeleteFunc(c.txns, func(m *txnMeta) bool {
		if m.statePart == p {
			m.unloaded = true
			return true
		}
		return false
	})
}

// ---- markers ----

func (c *txnCoordinator) startMarkers(m *txnMeta) {
	m.markers = slices.Clone(m.Partitions)
	m.inflight = make([]bool, len(m.markers))
	c.sendMarkers(m)
}

// sendMarkers sends WriteTxnMarkers for every partition whose marker is
// neither written nor in flight, grouped by leader, as this broker's
// metadata has it (TransactionMarkerChannelManager.addTxnMarkersToBrokerQueue).
// Partitions without a leader wait for the next retry, as Kafka's
// markersQueueForUnknownBroker does.
func (c *txnCoordinator) sendMarkers(m *txnMeta) {
	if m.unloaded {
		return
	}
	if len(m.markers) == 0 {
		c.completeTxn(m)
		return
	}
	marker := MarkerAbort
	if m.State == TxnPrepareCommit {
		marker = MarkerCommit
	}
	var byLeader []*markerRequest
	for i, p := range m.markers {
		if m.inflight[i] {
			continue
		}
		leader := c.host.metadataLeader(p)
		if leader == NoLeader {
			c.retryMarkersLater(m)
			continue
		}
		j := slices.IndexFunc(byLeader, func(r *markerRequest) bool { return r.to == leader })
		if j < 0 {
			c.nextID++
			byLeader = append(byLeader, &markerRequest{id: c.nextID, to: leader, txn: m})
			j = len(byLeader) - 1
		}
		byLeader[j].parts = append(byLeader[j].parts, p)
		m.inflight[i] = true
	}
	coordEpoch := c.epochs[c.topo.Partitions[m.statePart].Index]
	for _, r := range byLeader {
		// Kafka bounds this with the broker's request.timeout.ms; the
		// simulator has no such broker property and uses
		// replica.socket.timeout.ms, which has the same 30 s default.
		r.deadline = c.w.Now() + c.cfg.ReplicaSocketTimeout
		c.armTimer(r.deadline)
		c.requests = append(c.requests, r)
		c.host.send(r.to, &WriteTxnMarkersRequest{ID: r.id, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
			Marker: marker, CoordinatorEpoch: coordEpoch, Partitions: r.parts})
	}
}

func (c *txnCoordinator) retryMarkersLater(m *txnMeta) {
	if m.retryAt > c.w.Now() {
		return
	}
	m.retryAt = c.w.Now() + txnMarkerRetry
	c.armTimer(m.retryAt)
}

func (c *txnCoordinator) armTimer(at sim.Time) {
	if d := c.retry.Deadline(); d > c.w.Now() && d <= at {
		return
	}
	c.retry.Set(c.w, at)
}

// handleTimer runs when the retry timer fires: marker requests that went
// unanswered too long are given up, and every transaction due for a retry
// sends again.
func (c *txnCoordinator) handleTimer(e sim.Event) {
	if !c.retry.Fire(c.w, e) {
		return
	}
	now := c.w.Now()
	var late []*markerRequest
	c.requests = slices.DeleteFunc(c.requests, func(r *markerRequest) bool {
		if r.deadline <= now {
			late = append(late, r)
			return true
		}
		return false
	})
	// A request past its timeout closes its connection, failing every
	// request in flight on it (NetworkClient.handleTimedOutRequests), so
	// nothing of the old connection arrives after the retry.
	for _, r := range late {
		if slices.ContainsFunc(c.requests, func(q *markerRequest) bool { return q.to == r.to }) {
			c.markersLost(r.to)
		}
		c.host.closeMarkers(r.to)
		c.markersAnswered(r, nil)
	}
	for _, m := range slices.Clone(c.txns) {
		if m.retryAt != 0 && m.retryAt <= now {
			m.retryAt = 0
			if len(m.markers) == 0 && (m.State == TxnPrepareCommit || m.State == TxnPrepareAbort) {
				c.completeTxn(m)
			} else {
				c.sendMarkers(m)
			}
		}
	}
	next := sim.Never
	for _, r := range c.requests {
		next = min(next, r.deadline)
	}
	for _, m := range c.txns {
		if m.retryAt != 0 {
			next = min(next, m.retryAt)
		}
	}
	if next < sim.Never {
		c.retry.Set(c.w, next)
	}
}

func (c *txnCoordinator) handleMarkersResponse(r *WriteTxnMarkersResponse) {
	i := slices.IndexFunc(c.requests, func(q *markerRequest) bool { return q.id == r.ID })
	if i < 0 {
		return
	}
	req := c.requests[i]
	c.requests = slices.Delete(c.requests, i, i+1)
	c.markersAnswered(req, r.Errors)
}

// markersAnswered settles one WriteTxnMarkers: written partitions leave
// the list, the others are tried again after a pause.
func (c *txnCoordinator) markersAnswered(req *markerRequest, errs []Error) {
	m := req.txn
	if m.unloaded {
		return
	}
	failed := false
	for k, p := range req.parts {
		j := slices.Index(m.markers, p)
		if j < 0 {
			continue
		}
		if errs != nil && (errs[k] == ErrNone || errs[k] == ErrInvalidProducerEpoch || errs[k] == ErrTransactionCoordinatorFenced) {
			// Written; or refused for good, since a newer epoch or a newer
			// coordinator has been at the partition, and Kafka stops
			// sending it (TransactionMarkerRequestCompletionHandler).
			m.markers = slices.Delete(m.markers, j, j+1)
			m.inflight = slices.Delete(m.inflight, j, j+1)
			continue
		}
		m.inflight[j] = false
		failed = true
	}
	if failed {
		c.retryMarkersLater(m)
		return
	}
	if len(m.markers) == 0 {
		c.completeTxn(m)
	}
}

// markersLost fails the marker requests to a broker whose connection
// closed, so they are sent again.
func (c *txnCoordinator) markersLost(peer sim.NodeID) {
	var lost []*markerRequest
	c.requests = slices.DeleteFunc(c.requests, func(r *markerRequest) bool {
		if r.to == peer {
			lost = append(lost, r)
			return true
		}
		return false
	})
	for _, r := range lost {
		c.markersAnswered(r, nil)
	}
}

// completeTxn writes CompleteCommit or CompleteAbort once every marker is
// in (TransactionMarkerChannelManager.tryAppendToLog), retrying until it
// sticks or the coordinator moves.
func (c *txnCoordinator) completeTxn(m *txnMeta) {
	next := m.TxnLogEntry
	next.State = TxnCompleteAbort
	if m.State == TxnPrepareCommit {
		next.State = TxnCompleteCommit
	}
	if next.NextProducerID != 0 {
		// prepareComplete: the markers went out with the old producer id;
		// the next transaction starts the new one at epoch 0.
		next.LastEpoch = next.ProducerEpoch
		next.ProducerID, next.ProducerEpoch, next.NextProducerID = next.NextProducerID, 0, 0
	}
	c.writeTxnLog(&txnWrite{cause: writeComplete, txn: m, entry: next})
}

// settledAll reports whether no transaction is between prepare and
// complete and no write is waiting.
func (c *txnCoordinator) settledAll() bool {
	for _, m := range c.txns {
		if m.pending || m.State == TxnPrepareCommit || m.State == TxnPrepareAbort || m.State == TxnPrepareEpochFence {
			return false
		}
	}
	return true
}

// ---- timeouts ----

// abortTimedOut aborts transactions open longer than their
// transaction.timeout.ms, bumping the epoch so that the producer is fenced
// (TransactionCoordinator.abortTimedOutTransactions).
func (c *txnCoordinator) abortTimedOut() {
	now := c.w.Now()
	for _, m := range slices.Clone(c.txns) {
		if m.State == TxnOngoing && !m.pending && now > m.StartAt+sim.Millis(m.TimeoutMs) {
			e := c.txnEntry(event.TxnTimeout, m)
			e.X().Limit = m.TimeoutMs
			c.w.Trace.Add(e)
			c.endTxn(m, false, true, nil, 0)
		}
	}
}

// expireTransactionalIDs forgets the ids this coordinator has whose last
// transaction ended, or that never began one, longer than
// transactional.id.expiration.ms ago: it writes a tombstone and, once that
// is replicated, drops the id (TransactionStateManager.removeExpiredTransactionalIds,
// shouldExpire). The id's producer then gets INVALID_PRODUCER_ID_MAPPING
// for its next AddPartitionsToTxn or EndTxn.
func (c *txnCoordinator) expireTransactionalIDs() {
	now := c.w.Now()
	for _, m := range slices.Clone(c.txns) {
		expirable := m.State == TxnEmpty || m.State == TxnCompleteCommit || m.State == TxnCompleteAbort
		if !expirable || m.pending || m.UpdatedAt > now-c.cfg.TransactionalIDExpiration {
			continue
		}
		if _, err := c.coordinatorFor(m.TransactionalID); err != ErrNone {
			continue
		}
		next := m.TxnLogEntry
		next.State = TxnDead
		c.writeTxnLog(&txnWrite{cause: writeExpire, txn: m, entry: next})
	}
}

// forget drops an id whose tombstone is written.
func (c *txnCoordinator) forget(m *txnMeta) {
	c.txns = slices.DeleteFunc(c.txns, func(x *txnMeta) bool { return x == m })
	m.unloaded = true // a write of it still under way goes nowhere
	e := c.txnEntry(event.TxnIDExpired, m)
	e.X().Limit = int64(c.cfg.TransactionalIDExpiration / sim.Millisecond)
	c.w.Trace.Add(e)
}

// ---- the broker as the coordinator's host ----

func (b *Broker) leads(p PartitionID) bool {
	rep := b.replicas[p]
	return rep != nil && rep.IsLeader()
}

func (b *Broker) metadataLeader(p PartitionID) sim.NodeID {
	if b.meta == nil {
		return NoLeader
	}
	return b.meta.Partitions[p].Leader
}

func (b *Broker) txnLogWritable(p PartitionID) Error {
	if !b.leads(p) {
		return ErrNotCoordinator
	}
	if len(b.replicas[p].isr) < b.minISR(p) {
		// NOT_ENOUGH_REPLICAS becomes COORDINATOR_NOT_AVAILABLE for the client.
		return ErrCoordinatorNotAvailable
	}
	return ErrNone
}

func (b *Broker) appendTxnLog(w *txnWrite) {
	p := w.txn.statePart
	rep := b.replicas[p]
	appended := rep.Log.Append(LogBatch{LeaderEpoch: rep.leaderEpoch, ProducerID: -1, BaseSequence: -1, Bytes: 128, Txn: &w.entry, Written: b.w.Now()}, []RecordID{0})
	b.leaderAppended(rep)
	need := appended.LastOffset() + 1
	if rep.Log.HW() >= need {
		b.coord.written(w, ErrNone)
		return
	}
	b.purgatory.writes = append(b.purgatory.writes, &delayedWrite{part: p, need: need, deadline: b.w.Now() + b.cfg.ReplicaSocketTimeout, txn: w})
	b.armPurgatory()
}

func (b *Broker) newProducerID() int64 {
	b.nextPID++
	return b.nextPID - 1
}

func (b *Broker) respondTo(r clientReply, m sim.Message) { b.respond(r.client, r.conn, m) }

func (b *Broker) hold(r clientReply) { b.client(r.client).busy = true }

// release sends a coordinator's answer once its log write settled and
// frees the connection for the next request.
func (b *Broker) release(r clientReply, m sim.Message) {
	b.respond(r.client, r.conn, m)
	b.requestDone(r.client, r.conn)
}

func (b *Broker) send(to sim.NodeID, m sim.Message) { b.w.Net.Send(b.id, to, m) }

func (b *Broker) closeMarkers(to sim.NodeID) {
	b.w.Net.Close(b.id, to, chanMarkers, chanMarkersResponse)
}

// TransactionsSettled reports whether this broker's coordinator has no
// transaction between prepare and complete and no write waiting.
func (b *Broker) TransactionsSettled() bool { return b.coord.settledAll() }

// ---- the partition leader's side ----

// markerReply gathers a WriteTxnMarkers' results until every marker is
// replicated.
type markerReply struct {
	from    sim.NodeID
	resp    *WriteTxnMarkersResponse
	pending int
}

// handleWriteMarkers appends a marker to each partition as its leader
// (ReplicaManager.appendRecords from KafkaApis.handleWriteTxnMarkersRequest,
// with acks=all) and answers when all are replicated.
func (b *Broker) handleWriteMarkers(from sim.NodeID, r *WriteTxnMarkersRequest) {
	reply := &markerReply{from: from, resp: &WriteTxnMarkersResponse{ID: r.ID, Errors: make([]Error, len(r.Partitions))}}
	for i, p := range r.Partitions {
		rep := b.replicas[p]
		switch {
		case rep == nil || !rep.IsLeader():
			reply.resp.Errors[i] = ErrNotLeaderOrFollower
			continue
		case len(rep.isr) < b.minISR(p):
			reply.resp.Errors[i] = ErrNotEnoughReplicas
			continue
		}
		if err := rep.producers.checkMarker(r.ProducerID, r.ProducerEpoch, r.CoordinatorEpoch); err != ErrNone {
			reply.resp.Errors[i] = err
			e := b.markerEntry(event.Reject, p, -1, rep.leaderEpoch, from, r)
			e.Err = int16(err)
			b.w.Trace.Add(e)
			continue
		}
		appended := rep.Log.Append(LogBatch{LeaderEpoch: rep.leaderEpoch, ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch,
			BaseSequence: -1, Bytes: 78, Marker: r.Marker, CoordinatorEpoch: r.CoordinatorEpoch, Timestamp: b.w.Now(), Written: b.w.Now()}, []RecordID{0})
		rep.producers.update(&appended)
		b.w.Trace.Add(b.markerEntry(event.Marker, p, appended.BaseOffset, rep.leaderEpoch, from, r))
		reply.pending++
		b.purgatory.writes = append(b.purgatory.writes, &delayedWrite{part: p, need: appended.BaseOffset + 1,
			deadline: b.w.Now() + b.cfg.ReplicaSocketTimeout, markers: reply, index: i})
	}
	if reply.pending == 0 {
		b.w.Net.Send(b.id, from, reply.resp)
		return
	}
	// Only now move the high watermarks, so that the answer goes out once,
	// after every marker settled.
	for k, p := range r.Partitions {
		if reply.resp.Errors[k] == ErrNone {
			b.leaderAppended(b.replicas[p])
		}
	}
	b.armPurgatory()
}
