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
// The protocol is transaction.version 1 (KIP-98): the producer adds
// partitions with AddPartitionsToTxn and keeps its epoch across
// transactions. Kafka 4.0 clusters default to version 2 (KIP-890), where
// partitions are added by the partition leaders and every commit bumps the
// epoch; the guarantees this simulator shows are the same.

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

// markerRequest is a WriteTxnMarkers the coordinator is waiting on.
type markerRequest struct {
	id       int64
	to       sim.NodeID
	txn      *txnMeta
	parts    []PartitionID
	deadline sim.Time // no answer by then (a cut link): send again
}

type coordinator struct {
	txns     []*txnMeta // sorted by transactional id
	epochs   []int32    // coordinator epoch by __transaction_state partition index; -1 if not loaded
	requests []*markerRequest
	nextID   int64
	retry    sim.Timer
}

// logWait is an internal append waiting, like an acks=all produce, for the
// high watermark to pass it (DelayedProduce for coordinator writes).
type logWait struct {
	part     PartitionID
	need     int64
	deadline sim.Time
	done     func(Error)
}

func (b *Broker) txnTopic() *Topic {
	if b.txnTopicIndex < 0 {
		return nil
	}
	return &b.topo.Topics[b.txnTopicIndex]
}

// statePartition is the __transaction_state partition of a transactional id.
func (b *Broker) statePartition(id string) (PartitionID, bool) {
	t := b.txnTopic()
	if t == nil {
		return 0, false
	}
	return t.First + PartitionID(TxnCoordinatorPartition(id, t.Partitions)), true
}

func (b *Broker) isTxnStatePartition(p PartitionID) bool {
	return b.txnTopicIndex >= 0 && b.topo.Partitions[p].Topic == b.txnTopicIndex
}

func (b *Broker) findTxn(id string) *txnMeta {
	i, ok := slices.BinarySearchFunc(b.coord.txns, id, func(m *txnMeta, id string) int { return strings.Compare(m.TransactionalID, id) })
	if !ok {
		return nil
	}
	return b.coord.txns[i]
}

func (b *Broker) addTxn(m *txnMeta) {
	i, _ := slices.BinarySearchFunc(b.coord.txns, m.TransactionalID, func(m *txnMeta, id string) int { return strings.Compare(m.TransactionalID, id) })
	b.coord.txns = slices.Insert(b.coord.txns, i, m)
}

// txnEntry starts a trace entry about a transactional id's state.
func (b *Broker) txnEntry(k event.Kind, m *txnMeta) sim.Entry {
	e := sim.E(b.w.Now(), b.id, k)
	e.Subject = int32(m.statePart)
	e.First, e.ProducerID = m.ProducerID, m.ProducerID
	e.Epoch, e.ProducerEpoch = int32(m.ProducerEpoch), m.ProducerEpoch
	e.X().TxnID = m.TransactionalID
	return e
}

// traceTxnState records an entry whose text names a transaction state.
func (b *Broker) traceTxnState(k event.Kind, m *txnMeta, s TxnState) {
	e := b.txnEntry(k, m)
	e.X().Label = s.String()
	b.w.Trace.Add(e)
}

// coordinatorFor checks that this broker coordinates id now. A broker that
// leads the partition but has not loaded it answers
// COORDINATOR_LOAD_IN_PROGRESS; loading is immediate here, so that does
// not happen.
func (b *Broker) coordinatorFor(id string) (PartitionID, Error) {
	p, ok := b.statePartition(id)
	if !ok {
		return 0, ErrCoordinatorNotAvailable
	}
	rep := b.replicas[p]
	if rep == nil || !rep.isLeader || b.coord.epochs[b.topo.Partitions[p].Index] < 0 {
		return p, ErrNotCoordinator
	}
	return p, ErrNone
}

// ---- requests from producers ----

func (b *Broker) handleFindCoordinator(from sim.NodeID, cc *clientConn, m *FindCoordinatorRequest) {
	resp := &FindCoordinatorResponse{ID: m.ID, Coordinator: NoLeader, Error: ErrCoordinatorNotAvailable}
	if p, ok := b.statePartition(m.TransactionalID); ok && b.meta != nil {
		if l := b.meta.Partitions[p].Leader; l != NoLeader {
			resp.Coordinator, resp.Error = l, ErrNone
		}
	}
	b.respond(from, cc.conn, resp)
}

// txnReply sends a coordinator's answer once its log write settled and
// frees the connection for the next request.
func (b *Broker) txnReply(from sim.NodeID, conn uint32, m sim.Message) {
	b.respond(from, conn, m)
	b.requestDone(from, conn)
}

// handleInitTxnProducerID is InitProducerId with a transactional id
// (TransactionCoordinator.handleInitProducerId): a new producer id for a
// new id; otherwise the same id with the epoch bumped, which fences any
// older instance. A transaction still open is aborted first, and the
// caller is told to retry.
func (b *Broker) handleInitTxnProducerID(from sim.NodeID, cc *clientConn, r *InitProducerIDRequest) {
	fail := func(err Error) {
		b.respond(from, cc.conn, &InitProducerIDResponse{ID: r.ID, ProducerID: -1, Epoch: -1, Error: err})
	}
	if sim.Millis(r.TransactionTimeoutMs) > b.cfg.TransactionMaxTimeout || r.TransactionTimeoutMs <= 0 {
		fail(ErrInvalidTransactionTimeout) // checked first, on any broker
		return
	}
	p, err := b.coordinatorFor(r.TransactionalID)
	if err != ErrNone {
		fail(err)
		return
	}
	m := b.findTxn(r.TransactionalID)
	if m == nil {
		m = &txnMeta{TxnLogEntry: TxnLogEntry{TransactionalID: r.TransactionalID, ProducerID: b.nextPID, ProducerEpoch: -1, LastEpoch: -1}, statePart: p}
		b.nextPID++
		b.addTxn(m)
	}
	if m.pending {
		fail(ErrConcurrentTransactions)
		return
	}
	if r.ProducerID >= 0 {
		// A bump asked for by a running instance (KIP-360,
		// TransactionMetadata.prepareIncrementProducerEpoch): a retry of
		// one that went through gets the current epoch again; an instance
		// that is no longer current must not fence the one that is.
		retry := r.ProducerID == m.ProducerID && r.ProducerEpoch == m.LastEpoch && m.LastEpoch >= 0 &&
			(m.State == TxnEmpty || m.State == TxnCompleteCommit || m.State == TxnCompleteAbort)
		if retry {
			b.respond(from, cc.conn, &InitProducerIDResponse{ID: r.ID, ProducerID: m.ProducerID, Epoch: m.ProducerEpoch})
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
		b.w.Trace.Add(b.txnEntry(event.TxnFence, m))
		b.endTxn(m, false, true, nil)
		fail(ErrConcurrentTransactions)
		return
	}
	next := m.TxnLogEntry
	next.LastEpoch = m.ProducerEpoch
	if m.ProducerEpoch >= math.MaxInt16-1 {
		// The epoch is exhausted (TransactionMetadata.isProducerEpochExhausted;
		// a fence may have taken it to the very last value): a new producer
		// id starts again at 0.
		next.ProducerID, next.ProducerEpoch, next.LastEpoch = b.nextPID, 0, -1
		b.nextPID++
	} else {
		next.ProducerEpoch++
	}
	next.TimeoutMs = r.TransactionTimeoutMs
	next.State = TxnEmpty
	next.Partitions = nil
	cc.busy = true
	conn := cc.conn
	b.writeTxnLog(m, next, func(err Error) {
		resp := &InitProducerIDResponse{ID: r.ID, ProducerID: m.ProducerID, Epoch: m.ProducerEpoch, Error: err}
		if err == ErrNone {
			b.w.Trace.Add(b.txnEntry(event.TxnInit, m))
		}
		b.txnReply(from, conn, resp)
	})
}

// txnFor finds the transaction a request from a producer is about, after
// the checks every such request passes first: this broker coordinates the
// id, and the producer id and epoch are the current ones (an older epoch is
// a fenced instance).
func (b *Broker) txnFor(id string, pid int64, epoch int16) (*txnMeta, Error) {
	if _, err := b.coordinatorFor(id); err != ErrNone {
		return nil, err
	}
	m := b.findTxn(id)
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
func (b *Broker) handleAddPartitions(from sim.NodeID, cc *clientConn, r *AddPartitionsToTxnRequest) {
	fail := func(err Error) { b.respond(from, cc.conn, &AddPartitionsToTxnResponse{ID: r.ID, Error: err}) }
	m, err := b.txnFor(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
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
	next := m.TxnLogEntry
	if m.State != TxnOngoing {
		next.StartAt = b.w.Now()
		next.Partitions = nil
	}
	next.State = TxnOngoing
	next.Partitions = slices.Clone(next.Partitions)
	for _, p := range r.Partitions {
		if !slices.Contains(next.Partitions, p) {
			next.Partitions = append(next.Partitions, p)
		}
	}
	slices.Sort(next.Partitions)
	cc.busy = true
	conn := cc.conn
	b.writeTxnLog(m, next, func(err Error) {
		b.txnReply(from, conn, &AddPartitionsToTxnResponse{ID: r.ID, Error: err})
	})
}

// handleEndTxn is TransactionCoordinator.handleEndTransaction.
func (b *Broker) handleEndTxn(from sim.NodeID, cc *clientConn, r *EndTxnRequest) {
	fail := func(err Error) { b.respond(from, cc.conn, &EndTxnResponse{ID: r.ID, Error: err}) }
	m, err := b.txnFor(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if err != ErrNone {
		fail(err)
		return
	}
	switch m.State {
	case TxnOngoing:
	case TxnCompleteCommit, TxnCompleteAbort, TxnPrepareCommit, TxnPrepareAbort:
		committed := m.State == TxnCompleteCommit || m.State == TxnPrepareCommit
		switch {
		case committed != r.Commit:
			fail(ErrInvalidTxnState) // the opposite decision
		case m.State == TxnCompleteCommit || m.State == TxnCompleteAbort:
			fail(ErrNone) // a retry of an EndTxn that went through
		default:
			fail(ErrConcurrentTransactions) // its markers are still being written
		}
		return
	default:
		fail(ErrInvalidTxnState)
		return
	}
	cc.busy = true
	conn := cc.conn
	b.endTxn(m, r.Commit, false, func(err Error) {
		b.txnReply(from, conn, &EndTxnResponse{ID: r.ID, Error: err})
	})
}

// endTxn moves an ongoing transaction to PrepareCommit or PrepareAbort,
// then writes its markers and completes it. With fence, the producer's
// epoch is bumped first (prepareFenceProducerEpoch), so the markers fence
// the old instance at every partition. done, if set, hears when the
// prepare state is in the log, which is when EndTxn is answered.
func (b *Broker) endTxn(m *txnMeta, commit, fence bool, done func(Error)) {
	next := m.TxnLogEntry
	next.State = TxnPrepareAbort
	if commit {
		next.State = TxnPrepareCommit
	}
	if fence {
		// PrepareEpochFence (TransactionMetadata.prepareFenceProducerEpoch):
		// the epoch moves on in memory, and the abort is written with it,
		// so every marker fences the old instance.
		b.traceTxnState(event.TxnEpochFence, m, TxnPrepareEpochFence)
		m.State = TxnPrepareEpochFence
		next.ProducerEpoch++
	}
	b.writeTxnLog(m, next, func(err Error) {
		if err != ErrNone && m.State == TxnPrepareEpochFence {
			m.State = TxnOngoing // the fence did not stick; the old epoch stands
		}
		if done != nil {
			done(err)
		}
		if err != ErrNone {
			return
		}
		e := b.txnEntry(event.TxnPrepare, m)
		e.X().Label = next.State.String()
		e.X().List = partitionList(m.Partitions)
		b.w.Trace.Add(e)
		b.startMarkers(m)
	})
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
func (b *Broker) writeTxnLog(m *txnMeta, next TxnLogEntry, done func(Error)) {
	rep := b.replicas[m.statePart]
	if rep == nil || !rep.isLeader || m.unloaded {
		done(ErrNotCoordinator)
		return
	}
	if len(rep.isr) < b.minISR(m.statePart) {
		// NOT_ENOUGH_REPLICAS becomes COORDINATOR_NOT_AVAILABLE for the client.
		done(ErrCoordinatorNotAvailable)
		return
	}
	m.pending = true
	entry := next
	appended := rep.Log.Append(LogBatch{LeaderEpoch: rep.leaderEpoch, ProducerID: -1, BaseSequence: -1, Bytes: 128, Txn: &entry}, []RecordID{0})
	b.leaderAppended(rep)
	finish := func(err Error) {
		m.pending = false
		switch {
		case m.unloaded:
			// The partition moved (or was reloaded) while the write waited:
			// the loaded state decides, not this copy.
			err = ErrNotCoordinator
		case err == ErrNone:
			m.TxnLogEntry = entry
		case err == ErrNotLeaderOrFollower:
			err = ErrNotCoordinator
		default:
			err = ErrCoordinatorNotAvailable
		}
		done(err)
	}
	need := appended.LastOffset() + 1
	if rep.Log.HW() >= need {
		finish(ErrNone)
		return
	}
	b.waits = append(b.waits, &logWait{part: m.statePart, need: need, deadline: b.w.Now() + b.cfg.ReplicaSocketTimeout, done: finish})
	b.armPurgatory()
}

// settleWaits completes internal appends on a partition whose high
// watermark moved, or fails them all with err.
func (b *Broker) settleWaits(p PartitionID, hw int64, err Error) {
	var ready []*logWait
	keep := b.waits[:0]
	for _, w := range b.waits {
		if w.part == p && (err != ErrNone || hw >= w.need) {
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	clear(b.waits[len(keep):])
	b.waits = keep
	for _, w := range ready {
		w.done(err)
	}
}

func (b *Broker) expireWaits(now sim.Time) {
	var ready []*logWait
	keep := b.waits[:0]
	for _, w := range b.waits {
		if w.deadline <= now {
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	clear(b.waits[len(keep):])
	b.waits = keep
	for _, w := range ready {
		w.done(ErrRequestTimedOut)
	}
}

// ---- loading and unloading ----

// loadTxns makes this broker the coordinator of the ids in a
// __transaction_state partition it now leads
// (TransactionStateManager.loadTransactionsForTxnTopicPartition): the
// newest entry per id is its state, and transactions caught between
// prepare and complete get their markers again (TransactionCoordinator.onElection).
func (b *Broker) loadTxns(rep *Replica) {
	b.unloadTxns(rep.ID)
	b.coord.epochs[b.topo.Partitions[rep.ID].Index] = rep.leaderEpoch
	var loaded []*txnMeta
	batches := rep.Log.Batches()
	for i := range batches {
		e := batches[i].Txn
		if e == nil {
			continue
		}
		m := b.findTxn(e.TransactionalID)
		if m == nil {
			m = &txnMeta{statePart: rep.ID}
			m.TransactionalID = e.TransactionalID
			b.addTxn(m)
			loaded = append(loaded, m)
		}
		m.TxnLogEntry = *e
	}
	for _, m := range loaded {
		b.traceTxnState(event.TxnLoad, m, m.State)
		if m.State == TxnPrepareCommit || m.State == TxnPrepareAbort {
			b.startMarkers(m)
		}
	}
}

// unloadTxns forgets the ids of a partition this broker no longer leads.
// Writes still waiting fail with NOT_COORDINATOR.
func (b *Broker) unloadTxns(p PartitionID) {
	if !b.isTxnStatePartition(p) {
		return
	}
	b.coord.epochs[b.topo.Partitions[p].Index] = -1
	b.coord.txns = slices.DeleteFunc(b.coord.txns, func(m *txnMeta) bool {
		if m.statePart == p {
			m.unloaded = true
			return true
		}
		return false
	})
}

// ---- markers ----

func (b *Broker) startMarkers(m *txnMeta) {
	m.markers = slices.Clone(m.Partitions)
	m.inflight = make([]bool, len(m.markers))
	b.sendMarkers(m)
}

// sendMarkers sends WriteTxnMarkers for every partition whose marker is
// neither written nor in flight, grouped by leader, as this broker's
// metadata has it. Partitions without a leader wait for the next retry.
func (b *Broker) sendMarkers(m *txnMeta) {
	if m.unloaded {
		return
	}
	if len(m.markers) == 0 {
		b.completeTxn(m)
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
		leader := NoLeader
		if b.meta != nil {
			leader = b.meta.Partitions[p].Leader
		}
		if leader == NoLeader {
			b.retryMarkersLater(m)
			continue
		}
		j := slices.IndexFunc(byLeader, func(r *markerRequest) bool { return r.to == leader })
		if j < 0 {
			b.coord.nextID++
			byLeader = append(byLeader, &markerRequest{id: b.coord.nextID, to: leader, txn: m})
			j = len(byLeader) - 1
		}
		byLeader[j].parts = append(byLeader[j].parts, p)
		m.inflight[i] = true
	}
	coordEpoch := b.coord.epochs[b.topo.Partitions[m.statePart].Index]
	for _, r := range byLeader {
		r.deadline = b.w.Now() + b.cfg.ReplicaSocketTimeout
		b.armCoordinatorTimer(r.deadline)
		b.coord.requests = append(b.coord.requests, r)
		b.w.Net.Send(b.id, r.to, &WriteTxnMarkersRequest{ID: r.id, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
			Marker: marker, CoordinatorEpoch: coordEpoch, Partitions: r.parts})
	}
}

func (b *Broker) retryMarkersLater(m *txnMeta) {
	if m.retryAt > b.w.Now() {
		return
	}
	m.retryAt = b.w.Now() + txnMarkerRetry
	b.armCoordinatorTimer(m.retryAt)
}

func (b *Broker) armCoordinatorTimer(at sim.Time) {
	if d := b.coord.retry.Deadline(); d > b.w.Now() && d <= at {
		return
	}
	b.coord.retry.Set(b.w, at)
}

// coordinatorTimer runs when the retry timer fires: marker requests that
// went unanswered too long are given up, and every transaction due for a
// retry sends again.
func (b *Broker) coordinatorTimer() {
	now := b.w.Now()
	var late []*markerRequest
	b.coord.requests = slices.DeleteFunc(b.coord.requests, func(r *markerRequest) bool {
		if r.deadline <= now {
			late = append(late, r)
			return true
		}
		return false
	})
	for _, r := range late {
		b.markersAnswered(r, nil)
	}
	for _, m := range slices.Clone(b.coord.txns) {
		if m.retryAt != 0 && m.retryAt <= now {
			m.retryAt = 0
			if len(m.markers) == 0 && (m.State == TxnPrepareCommit || m.State == TxnPrepareAbort) {
				b.completeTxn(m)
			} else {
				b.sendMarkers(m)
			}
		}
	}
	next := sim.Never
	for _, r := range b.coord.requests {
		next = min(next, r.deadline)
	}
	for _, m := range b.coord.txns {
		if m.retryAt != 0 {
			next = min(next, m.retryAt)
		}
	}
	if next < sim.Never {
		b.coord.retry.Set(b.w, next)
	}
}

func (b *Broker) handleMarkersResponse(r *WriteTxnMarkersResponse) {
	i := slices.IndexFunc(b.coord.requests, func(q *markerRequest) bool { return q.id == r.ID })
	if i < 0 {
		return
	}
	req := b.coord.requests[i]
	b.coord.requests = slices.Delete(b.coord.requests, i, i+1)
	b.markersAnswered(req, r.Errors)
}

// markersAnswered settles one WriteTxnMarkers: written partitions leave
// the list, the others are tried again after a pause.
func (b *Broker) markersAnswered(req *markerRequest, errs []Error) {
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
		b.retryMarkersLater(m)
		return
	}
	if len(m.markers) == 0 {
		b.completeTxn(m)
	}
}

// markersLost fails the marker requests to a broker whose connection
// closed, so they are sent again.
func (b *Broker) markersLost(peer sim.NodeID) {
	var lost []*markerRequest
	b.coord.requests = slices.DeleteFunc(b.coord.requests, func(r *markerRequest) bool {
		if r.to == peer {
			lost = append(lost, r)
			return true
		}
		return false
	})
	for _, r := range lost {
		b.markersAnswered(r, nil)
	}
}

// completeTxn writes CompleteCommit or CompleteAbort once every marker is
// in (TransactionMarkerChannelManager.tryAppendToLog), retrying until it
// sticks or the coordinator moves.
func (b *Broker) completeTxn(m *txnMeta) {
	next := m.TxnLogEntry
	next.State = TxnCompleteAbort
	if m.State == TxnPrepareCommit {
		next.State = TxnCompleteCommit
	}
	b.writeTxnLog(m, next, func(err Error) {
		switch err {
		case ErrNone:
			b.traceTxnState(event.TxnComplete, m, next.State)
		case ErrNotCoordinator:
			// The new coordinator loads PrepareX and finishes.
		default:
			b.retryMarkersLater(m)
		}
	})
}

// TransactionsSettled reports whether this broker's coordinator has no
// transaction between prepare and complete and no write waiting.
func (b *Broker) TransactionsSettled() bool {
	for _, m := range b.coord.txns {
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
func (b *Broker) abortTimedOut() {
	now := b.w.Now()
	for _, m := range slices.Clone(b.coord.txns) {
		if m.State == TxnOngoing && !m.pending && now > m.StartAt+sim.Millis(m.TimeoutMs) {
			e := b.txnEntry(event.TxnTimeout, m)
			e.X().Limit = m.TimeoutMs
			b.w.Trace.Add(e)
			b.endTxn(m, false, true, nil)
		}
	}
}

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
		case rep == nil || !rep.isLeader:
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
			BaseSequence: -1, Bytes: 78, Marker: r.Marker, CoordinatorEpoch: r.CoordinatorEpoch}, []RecordID{0})
		rep.producers.update(&appended)
		b.w.Trace.Add(b.markerEntry(event.Marker, p, appended.BaseOffset, rep.leaderEpoch, from, r))
		reply.pending++
		b.waits = append(b.waits, &logWait{part: p, need: appended.BaseOffset + 1, deadline: b.w.Now() + b.cfg.ReplicaSocketTimeout,
			done: func(err Error) {
				reply.resp.Errors[i] = err
				reply.pending--
				if reply.pending == 0 {
					b.w.Net.Send(b.id, reply.from, reply.resp)
				}
			}})
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
