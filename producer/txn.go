package producer

import (
	"slices"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The transactional producer (TransactionManager with a transactional.id):
// initTransactions, beginTransaction, commit and abort, and the abortable
// and fatal error states. With transaction.version 1 it sends
// AddPartitionsToTxn before a partition's first batch and keeps its epoch
// across transactions; with version 2 (KIP-890 part 2) it sends data at
// once, the partition leaders add the partitions, and each EndTxn answer
// hands it the epoch of the next transaction.

// TxnOp is a blocking transactional call of the application.
type TxnOp uint8

const (
	OpInitTransactions TxnOp = iota + 1
	OpCommitTransaction
	OpAbortTransaction
)

func (o TxnOp) String() string {
	return [...]string{"", "initTransactions", "commitTransaction", "abortTransaction"}[o]
}

// txnState is TransactionManager.State: UNINITIALIZED, INITIALIZING,
// READY, IN_TRANSACTION, COMMITTING_TRANSACTION, ABORTING_TRANSACTION,
// ABORTABLE_ERROR, FATAL_ERROR.
type txnState uint8

const (
	txnUninitialized txnState = iota
	txnInitializing
	txnReady
	txnInTransaction
	txnCommitting
	txnAborting
	txnAbortableError
	txnFatalError
)

func (s txnState) String() string {
	return [...]string{"UNINITIALIZED", "INITIALIZING", "READY", "IN_TRANSACTION", "COMMITTING_TRANSACTION",
		"ABORTING_TRANSACTION", "ABORTABLE_ERROR", "FATAL_ERROR"}[s]
}

// txnSources is TransactionManager.State.isTransitionValid: the states
// each state may be entered from. FATAL_ERROR may be entered from any
// state. UNINITIALIZED is never re-entered here: the simulator has no
// transaction.version 2 epoch reset that would need it.
var txnSources = [...][]txnState{
	txnInitializing:   {txnUninitialized, txnAborting},
	txnReady:          {txnInitializing, txnCommitting, txnAborting},
	txnInTransaction:  {txnReady},
	txnCommitting:     {txnInTransaction},
	txnAborting:       {txnInTransaction, txnAbortableError},
	txnAbortableError: {txnInTransaction, txnCommitting, txnAbortableError, txnInitializing},
}

// transitionTo is TransactionManager.transitionTo: it moves to state to,
// and panics on a move isTransitionValid refuses (Kafka throws
// IllegalStateException), which is a bug in the simulator.
func (t *transactions) transitionTo(to txnState) {
	if to != txnFatalError && !slices.Contains(txnSources[to], t.state) {
		panic("producer: transactional.id " + t.id + ": invalid transition from " + t.state.String() + " to " + to.String())
	}
	t.state = to
}

// txnRequest is the kind of transactional request the manager needs next.
type txnRequest uint8

const (
	txnReqNone txnRequest = iota
	txnReqFindCoordinator
	txnReqInitProducerID
	txnReqAddPartitions
	txnReqEndTxn
)

// addPartitionsFastRetry is the backoff after CONCURRENT_TRANSACTIONS on a
// transaction's first AddPartitionsToTxn: the last transaction's markers
// are usually about done (TransactionManager.ADD_PARTITIONS_RETRY_BACKOFF_MS).
const addPartitionsFastRetry = 20 * sim.Millisecond

type transactions struct {
	id        string
	state     txnState
	lastError broker.Error

	coordinator sim.NodeID // NoLeader until FindCoordinator answers
	lastFound   sim.NodeID // the last coordinator found, for the trace
	inTxn       []bool     // partitionsInTransaction, by partition id
	newParts    []broker.PartitionID
	addInflight []broker.PartitionID
	started     bool // some partition was added: EndTxn must be sent
	commit      bool // the decision being completed
	// bumpAfterAbort: a produce error left the sequences in doubt, so
	// abort goes on with InitProducerId to bump the epoch.
	bumpAfterAbort bool
	// clusterV2 is what the brokers say (transaction.version 2 or more
	// finalized); v2 is the protocol of the current transaction, taken
	// from clusterV2 when it begins (isTransactionV2Enabled: a producer
	// does not change protocol mid-transaction).
	clusterV2, v2 bool
	nextEpoch     int16 // the epoch an EndTxn answer gave, -1 if none

	inflight  bool     // one transactional request at a time
	retryAt   sim.Time // a retried request waits until then
	findAt    sim.Time // a FindCoordinator that failed is tried again then
	fastRetry bool

	op TxnOp // the application's blocking call waiting, or 0
}

func newTransactions(id string) *transactions {
	return &transactions{id: id, coordinator: broker.NoLeader, lastFound: broker.NoLeader, nextEpoch: -1}
}

// TransactionFatal reports whether the transactional producer is in its
// fatal error state (FATAL_ERROR): the application can only close it.
func (p *Producer) TransactionFatal() bool { return p.txn != nil && p.txn.state == txnFatalError }

// txnEntry starts a trace entry about the transaction.
func (p *Producer) txnEntry(k event.Kind) sim.Entry {
	e := sim.E(p.w.Now(), p.id, k)
	e.X().TxnID = p.txn.id
	return e
}

// traceTxnError records a transaction error.
func (p *Producer) traceTxnError(k event.Kind, err broker.Error) {
	e := p.txnEntry(k)
	e.Err = int16(err)
	p.w.Trace.Add(e)
}

// InitTransactions is KafkaProducer.initTransactions: find the
// coordinator and get the producer id with a bumped epoch, which fences
// older instances with the same transactional.id. The application thread
// blocks until the listener hears TransactionDone.
func (p *Producer) InitTransactions() {
	p.enter()
	defer p.leave()
	t := p.txn
	if t.state != txnUninitialized {
		p.txnDone(OpInitTransactions, t.failure())
		return
	}
	t.op = OpInitTransactions
	t.transitionTo(txnInitializing)
	p.wake()
}

// BeginTransaction is KafkaProducer.beginTransaction: local only.
func (p *Producer) BeginTransaction() broker.Error {
	p.enter()
	defer p.leave()
	t := p.txn
	if t.state != txnReady {
		return t.failure()
	}
	t.transitionTo(txnInTransaction)
	t.v2 = t.clusterV2
	return broker.ErrNone
}

// CommitTransaction is KafkaProducer.commitTransaction: flush, wait for
// every batch, then EndTxn(COMMIT). In an error state it fails at once
// with the error that caused it.
func (p *Producer) CommitTransaction() {
	p.enter()
	defer p.leave()
	t := p.txn
	if t.state != txnInTransaction {
		p.txnDone(OpCommitTransaction, t.failure())
		return
	}
	t.op = OpCommitTransaction
	t.transitionTo(txnCommitting)
	t.commit = true
	p.w.Trace.Add(p.txnEntry(event.TxnCommit))
	p.wake()
}

// AbortTransaction is KafkaProducer.abortTransaction, allowed in a
// transaction and after an abortable error: batches never sent fail, the
// ones in flight finish, then EndTxn(ABORT).
func (p *Producer) AbortTransaction() {
	p.enter()
	defer p.leave()
	t := p.txn
	if t.state != txnInTransaction && t.state != txnAbortableError {
		p.txnDone(OpAbortTransaction, t.failure())
		return
	}
	t.op = OpAbortTransaction
	t.transitionTo(txnAborting)
	t.commit = false
	t.newParts = nil
	p.w.Trace.Add(p.txnEntry(event.TxnAbort))
	p.wake()
}

// failure is the error a call gets in a state that does not allow it
// (maybeFailWithError): the error behind an error state, else
// INVALID_TXN_STATE standing for Kafka's IllegalStateException.
func (t *transactions) failure() broker.Error {
	if t.lastError != broker.ErrNone {
		return t.lastError
	}
	return broker.ErrInvalidTxnState
}

func (p *Producer) txnDone(op TxnOp, err broker.Error) {
	if p.txn.op == op {
		p.txn.op = 0
	}
	p.queueCallback(listenerCall{kind: cbTransactionDone, op: op, err: err})
}

// completing reports whether the transaction is being committed or
// aborted, which makes every batch ready at once (RecordAccumulator.ready).
func (t *transactions) completing() bool {
	return t.state == txnCommitting || t.state == txnAborting
}

// sendAllowed is isSendToPartitionAllowed: data goes to a partition only
// once AddPartitionsToTxn added it.
func (t *transactions) sendAllowed(part broker.PartitionID) bool {
	return t.state != txnFatalError && int(part) < len(t.inTxn) && t.inTxn[part]
}

// addPartition is maybeAddPartition, on the send() path. It refuses a
// record outside a transaction or in an error state.
func (p *Producer) addPartition(part broker.PartitionID) broker.Error {
	t := p.txn
	if t.state != txnInTransaction {
		return t.failure()
	}
	for len(t.inTxn) <= int(part) {
		t.inTxn = append(t.inTxn, false)
	}
	if t.v2 {
		// The leader adds the partition when the first batch arrives
		// (maybeAddPartition with transaction.version 2).
		t.inTxn[part], t.started = true, true
		return broker.ErrNone
	}
	if !t.inTxn[part] && !slices.Contains(t.newParts, part) && !slices.Contains(t.addInflight, part) {
		t.newParts = append(t.newParts, part)
		p.wake()
	}
	return broker.ErrNone
}

// abortable moves to ABORTABLE_ERROR; fatal to FATAL_ERROR, where every
// batch not yet finished fails (Sender.maybeAbortBatches).
func (p *Producer) txnAbortable(err broker.Error) {
	t := p.txn
	if t.state == txnAborting || t.state == txnFatalError {
		return
	}
	if t.state != txnAbortableError {
		p.traceTxnError(event.TxnAbortable, err)
	}
	t.transitionTo(txnAbortableError)
	t.lastError = err
	// A commitTransaction() under way fails, but only once no batch is
	// incomplete (nextTxnRequest).
}

func (p *Producer) txnFatal(err broker.Error) {
	t := p.txn
	if t.state == txnFatalError {
		return
	}
	p.traceTxnError(event.TxnFatal, err)
	t.transitionTo(txnFatalError)
	t.lastError = err
	p.abortBatches(err)
	if op := t.op; op != 0 {
		p.txnDone(op, err)
	}
}

// txnBatchFailed is TransactionManager.maybeTransitionToErrorState for a
// batch that failed for good: PRODUCER_FENCED, CLUSTER_AUTHORIZATION_FAILED,
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED and UNSUPPORTED_VERSION are fatal,
// anything else makes the transaction abortable. With transaction.version 1
// the client bumps the epoch after the abort, since sequences may have gaps
// (needToTriggerEpochBumpFromClient); with version 2 the abort itself
// bumps it.
func (p *Producer) txnBatchFailed(err broker.Error) {
	switch {
	case err.Fatal():
		p.txnFatal(err)
	case err == broker.ErrTransactionAborted:
	default:
		// With transaction.version 2 an INVALID_PRODUCER_ID_MAPPING (the
		// coordinator forgot the transactional id) reaches the producer
		// through the leader that tried to add the partition; the abort
		// then asks for a producer id again, as after the same answer to
		// AddPartitionsToTxn, since EndTxn would only hear it again.
		if p.txn.state != txnAborting && (!p.txn.v2 || err == broker.ErrInvalidProducerIDMapping) {
			p.txn.bumpAfterAbort = true
		}
		p.txnAbortable(err)
	}
}

// abortUndrained fails every queued batch that was never sent
// (RecordAccumulator.abortUndrainedBatches), while the transaction is
// aborting or must abort.
func (p *Producer) abortUndrained() {
	t := p.txn
	err := t.lastError
	if t.state == txnAborting && err == broker.ErrNone {
		err = broker.ErrTransactionAborted
	}
	if err == broker.ErrNone {
		return
	}
	for i := range p.parts {
		part := &p.parts[i]
		keep := part.deque[:0]
		for _, b := range part.deque {
			if b.hasSequence() {
				keep = append(keep, b)
				continue
			}
			p.finish(b, -1, err)
		}
		clear(part.deque[len(keep):])
		part.deque = keep
	}
}

// nextTxnRequest is TransactionManager.nextRequest: what to send now, if
// anything. EndTxn waits until every batch of the transaction finished.
func (p *Producer) nextTxnRequest() txnRequest {
	t := p.txn
	var want txnRequest
	switch {
	case t.state == txnInitializing:
		want = txnReqInitProducerID
	case len(t.newParts) > 0 && (t.state == txnInTransaction || t.state == txnCommitting):
		want = txnReqAddPartitions
	case t.state == txnAbortableError && t.op == OpCommitTransaction && !p.hasIncomplete():
		// The EndTxn(COMMIT) that commitTransaction() queued waits for
		// every batch, then fails with the error instead of going out
		// (TransactionManager.nextRequest: maybeTerminateRequestWithError).
		p.txnDone(OpCommitTransaction, t.lastError)
		return txnReqNone
	case t.completing() && !p.hasIncomplete():
		if !t.started || (!t.commit && t.lastError == broker.ErrInvalidProducerIDMapping) {
			// Nothing was added: no EndTxn is needed (TransactionManager.nextRequest).
			// Nor after INVALID_PRODUCER_ID_MAPPING, which the coordinator
			// would answer again: the abort goes straight to InitProducerId
			// (TransactionManager.beginCompletingTransaction).
			p.completeTransaction()
			if t.state != txnInitializing {
				return txnReqNone
			}
			want = txnReqInitProducerID // the epoch bump the abort ends with
		} else {
			want = txnReqEndTxn
		}
	default:
		return txnReqNone
	}
	if t.coordinator == broker.NoLeader {
		return txnReqFindCoordinator
	}
	return want
}

// maybeSendTxnRequest is Sender.maybeSendAndPollTransactionalRequest. It
// reports true while a transactional request is out or was just sent: the
// sender then sends no produce data this pass.
func (p *Producer) maybeSendTxnRequest(now sim.Time) bool {
	t := p.txn
	if t.state == txnAbortableError || t.state == txnAborting {
		p.abortUndrained()
	}
	if t.inflight {
		return true
	}
	req := p.nextTxnRequest()
	if req == txnReqNone {
		return false
	}
	if (req == txnReqFindCoordinator && now < t.findAt) || (req != txnReqFindCoordinator && now < t.retryAt) {
		return true
	}
	if req == txnReqFindCoordinator {
		t.inflight = p.sendToLeastLoaded(now, reqFindCoordinator, func(conn uint32, id int64) sim.Message {
			return &broker.FindCoordinatorRequest{Conn: conn, ID: id, TransactionalID: t.id}
		})
		return true
	}
	node := t.coordinator
	if !p.clientReady(node, now) {
		if p.conns[node].state == connDown {
			// The coordinator cannot be reached: look it up again after a
			// backoff (Sender.maybeSendAndPollTransactionalRequest,
			// maybeFindCoordinatorAndRetry).
			t.coordinator = broker.NoLeader
			t.findAt = now + sim.Millis(p.cfg.RetryBackoffMs)
		}
		return true // connecting, or at the in-flight limit
	}
	var m sim.Message
	var kind reqKind
	c := &p.conns[node]
	p.nextReqID++
	id := p.nextReqID
	switch req {
	case txnReqInitProducerID:
		kind = reqInitPID
		// After initTransactions, a bump names the current id and epoch
		// (KIP-360), so that a fenced instance cannot fence its successor.
		pid, epoch := p.idem.pid, p.idem.epoch
		if pid < 0 {
			epoch = -1
		}
		m = &broker.InitProducerIDRequest{Conn: c.gen, ID: id, TransactionalID: t.id, TransactionTimeoutMs: int64(p.cfg.TransactionTimeoutMs),
			ProducerID: pid, ProducerEpoch: epoch}
	case txnReqAddPartitions:
		kind = reqAddPartitions
		t.addInflight = t.newParts
		t.newParts = nil
		m = &broker.AddPartitionsToTxnRequest{Conn: c.gen, ID: id, TransactionalID: t.id,
			ProducerID: p.idem.pid, ProducerEpoch: p.idem.epoch, Partitions: t.addInflight}
	case txnReqEndTxn:
		kind = reqEndTxn
		m = &broker.EndTxnRequest{Conn: c.gen, ID: id, TransactionalID: t.id,
			ProducerID: p.idem.pid, ProducerEpoch: p.idem.epoch, Commit: t.commit}
	}
	c.inflight = append(c.inflight, &request{id: id, kind: kind, sentAt: now, deadline: now + sim.Millis(int64(p.cfg.RequestTimeoutMs))})
	p.w.Net.Send(p.id, node, m)
	t.inflight = true
	return true
}

// txnRetry puts the request back: after a coordinator lookup when the
// coordinator moved or is unknown, else after retry.backoff.ms.
func (p *Producer) txnRetry(lookup bool) {
	t := p.txn
	t.inflight = false
	if t.addInflight != nil {
		t.newParts = append(t.addInflight, t.newParts...)
		t.addInflight = nil
	}
	backoff := sim.Millis(p.cfg.RetryBackoffMs)
	if t.fastRetry {
		backoff = min(backoff, addPartitionsFastRetry)
		t.fastRetry = false
	}
	t.retryAt = p.w.Now() + backoff
	if lookup {
		// FindCoordinator goes first and at once; the request itself is
		// a retry and waits its backoff (Sender.maybeSendAndPollTransactionalRequest).
		t.coordinator = broker.NoLeader
	}
	p.wake()
}

// txnRequestFailed handles a transactional request lost with its
// connection: look the coordinator up again and retry.
func (p *Producer) txnRequestFailed(kind reqKind) {
	if kind == reqFindCoordinator {
		p.txn.inflight = false
		p.txn.findAt = p.w.Now() + sim.Millis(p.cfg.RetryBackoffMs)
		return
	}
	p.txnRetry(true)
}

func (p *Producer) handleFindCoordinator(from sim.NodeID, m *broker.FindCoordinatorResponse) {
	if p.takeRequest(from, m.ID) == nil {
		return
	}
	t := p.txn
	t.inflight = false
	if m.Error != broker.ErrNone {
		// FindCoordinatorHandler: retriable errors look again after
		// retry.backoff.ms; TRANSACTION_ABORTABLE aborts; anything else
		// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ...) is fatal.
		switch {
		case m.Error == broker.ErrTransactionAbortable && slices.Contains(txnSources[txnAbortableError], t.state):
			p.txnAbortable(m.Error)
		case m.Error.Retriable() || m.Error == broker.ErrTransactionAbortable:
			// Also TRANSACTION_ABORTABLE with no transaction to abort
			// (Kafka would throw IllegalStateException): look again.
			t.findAt = p.w.Now() + sim.Millis(p.cfg.RetryBackoffMs)
		default:
			p.txnFatal(m.Error)
		}
		return
	}
	if t.lastFound != m.Coordinator {
		e := p.txnEntry(event.TxnCoordinator)
		e.X().Broker = int32(m.Coordinator)
		p.w.Trace.Add(e)
	}
	t.coordinator, t.lastFound = m.Coordinator, m.Coordinator
}

// txnResponseError sorts a coordinator's error as the request's handler
// does (TransactionManager's InitProducerIdHandler, AddPartitionsToTxnHandler,
// EndTxnHandler): retry after a lookup when the coordinator moved, retry
// after a backoff on any other retriable error, fatal for a fenced
// producer; the rest depends on the request. It reports whether the error
// was handled.
func (p *Producer) txnResponseError(kind reqKind, err broker.Error) bool {
	if err != broker.ErrNone {
		p.stats.countError(err, kind.api())
	}
	switch err {
	case broker.ErrNone:
		return false
	case broker.ErrNotCoordinator, broker.ErrCoordinatorNotAvailable:
		p.txnRetry(true)
		return true
	case broker.ErrProducerFenced, broker.ErrInvalidProducerEpoch:
		// Both mean ProducerFencedException from the coordinator.
		p.txn.inflight = false
		p.txnFatal(broker.ErrProducerFenced)
		return true
	}
	if err.Retriable() {
		// CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS and the like.
		p.txnRetry(false)
		return true
	}
	p.txn.inflight = false
	abortable := false
	switch {
	case err == broker.ErrTransactionAbortable:
		abortable = true
	case kind == reqInitPID:
		// Authorization errors are abortable; anything else is unexpected.
		abortable = err == broker.ErrTransactionalIDAuthFailed || err == broker.ErrClusterAuthorizationFailed
	case err == broker.ErrTransactionalIDAuthFailed || err == broker.ErrInvalidTxnState:
	case err == broker.ErrUnknownProducerID || err == broker.ErrInvalidProducerIDMapping:
		// The coordinator forgot the transactional id
		// (transactional.id.expiration.ms) or the producer id: abortable,
		// and the abort gets a producer id again with InitProducerId
		// (TxnRequestHandler.abortableErrorIfPossible sets epochBumpRequired).
		p.txn.bumpAfterAbort = true
		abortable = true
	case kind == reqAddPartitions:
		// TOPIC_AUTHORIZATION_FAILED, or a partition error the handler
		// does not expect: the transaction can only be aborted.
		abortable = true
	}
	if !abortable {
		p.txnFatal(err)
		return true
	}
	p.txnAbortable(err)
	if op := p.txn.op; op != 0 && op != OpCommitTransaction {
		// The blocking call the request serves fails (TxnRequestHandler.abortableError).
		p.txnDone(op, err)
	}
	return true
}

func (p *Producer) handleTxnInitProducerID(m *broker.InitProducerIDResponse) {
	t := p.txn
	if p.txnResponseError(reqInitPID, m.Error) {
		return
	}
	t.inflight = false
	p.idem.pid, p.idem.epoch = m.ProducerID, m.Epoch
	// A new producer id or epoch starts every partition's sequence again
	// (TransactionManager: txnPartitionMap.reset on InitProducerId).
	for i := range p.idem.parts {
		p.idem.parts[i] = seqState{pid: -1, lastAcked: -1}
	}
	p.traceProducerID(m, t.coordinator)
	t.transitionTo(txnReady)
	t.lastError = broker.ErrNone
	t.bumpAfterAbort = false
	switch t.op {
	case OpInitTransactions, OpAbortTransaction:
		p.txnDone(t.op, broker.ErrNone)
	}
}

func (p *Producer) handleAddPartitions(from sim.NodeID, m *broker.AddPartitionsToTxnResponse) {
	if p.takeRequest(from, m.ID) == nil {
		return
	}
	t := p.txn
	if m.Error == broker.ErrConcurrentTransactions && !slices.Contains(t.inTxn, true) {
		t.fastRetry = true
	}
	if p.txnResponseError(reqAddPartitions, m.Error) {
		t.addInflight = nil
		return
	}
	t.inflight = false
	for _, part := range t.addInflight {
		t.inTxn[part] = true
	}
	t.started = true
	e := p.txnEntry(event.TxnAddPartitions)
	e.X().List = make([]int32, len(t.addInflight))
	for i, part := range t.addInflight {
		e.X().List[i] = int32(part)
	}
	p.w.Trace.Add(e)
	t.addInflight = nil
}

func (p *Producer) handleEndTxn(from sim.NodeID, m *broker.EndTxnResponse) {
	if p.takeRequest(from, m.ID) == nil {
		return
	}
	if p.txnResponseError(reqEndTxn, m.Error) {
		return
	}
	p.txn.inflight = false
	if m.ProducerID >= 0 {
		// EndTxn v5+ (transaction.version 2): the coordinator bumped the
		// epoch (or moved to a new producer id), and the next
		// transaction's sequences start again at 0 (EndTxnHandler,
		// resetSequenceNumbers).
		p.idem.pid, p.idem.epoch = m.ProducerID, m.ProducerEpoch
		for i := range p.idem.parts {
			p.idem.parts[i] = seqState{pid: -1, lastAcked: -1}
		}
		p.txn.nextEpoch = m.ProducerEpoch
	}
	p.completeTransaction()
}

// completeTransaction is TransactionManager.completeTransaction: back to
// READY, or on to an epoch bump after an abort that followed an error.
func (p *Producer) completeTransaction() {
	t := p.txn
	clear(t.inTxn)
	t.newParts, t.started = nil, false
	e := p.txnEntry(event.TxnEnd)
	if t.commit {
		e.Flags = event.Committed
	}
	if t.nextEpoch >= 0 {
		e.ProducerID, e.ProducerEpoch = p.idem.pid, t.nextEpoch
		t.nextEpoch = -1
	}
	p.w.Trace.Add(e)
	op := t.op
	if !t.commit && t.bumpAfterAbort {
		t.transitionTo(txnInitializing) // InitProducerId bumps the epoch; abort returns after it
		return
	}
	t.transitionTo(txnReady)
	t.lastError = broker.ErrNone
	if op != 0 {
		p.txnDone(op, broker.ErrNone)
	}
}
