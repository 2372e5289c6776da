package scenarios

import (
	"fmt"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/sim"
)

// An app is one instance of the application: a producer and, with
// workload.transactions, where it stands in the transaction loop. The
// runner drives the current instance; an older one may live on as a
// zombie (start-zombie) until it is fenced.
type app struct {
	r       *runner
	prod    *producer.Producer
	session uint32 // 1 for the first instance
	txn     bool   // the producer has a transactional.id
	phase   appPhase
	group   int32 // the open group (transaction), -1 if none
	inGroup int   // application records sent in the open group
	// redo is a group to send again in a new transaction: its
	// transaction aborted after an error, or the instance before this one
	// left it open.
	redo   int32
	zombie bool
	// frozen: the whole instance is stopped (freeze-app): no sends from the
	// application, nothing from its producer.
	frozen bool
	// endAfterSend is set when the open group is complete while send() is
	// still blocked: the commit or abort waits for it to return.
	endAfterSend bool
	// Once closed: the group it left unfinished (-1 if none), the call
	// whose failure closed it, or the restart-producer fault that did.
	left    int32
	closeOp producer.TxnOp
	restart *plannedFault
}

type appPhase uint8

const (
	phaseNew    appPhase = iota // initTransactions not called yet
	phaseInit                   // in initTransactions()
	phaseIdle                   // between transactions
	phaseInTxn                  // sending the open group's records
	phaseEnding                 // in commitTransaction() or abortTransaction()
	phaseClosed                 // closed after a fatal error
)

// groupOutcome is what the application was told about a group.
type groupOutcome uint8

const (
	groupOpen      groupOutcome = iota
	groupCommitted              // commitTransaction() returned
	groupAborted                // the application aborted it on purpose (abort.every)
	groupAbandoned              // the instance died with it open and nobody sent it again
)

// group is one transaction's worth of records: a business event's writes.
type group struct {
	session uint32
	index   int // the application's transaction number, from 0
	ids     []broker.RecordID
	outcome groupOutcome
	// abort: the application means to abort it (abort.every).
	abort bool
}

func (r *runner) newApp() *app {
	name := fmt.Sprintf("producer-%d", len(r.producers)+1)
	brokers := make([]sim.NodeID, r.pl.topo.Brokers)
	for i := range brokers {
		brokers[i] = sim.NodeID(i + 1)
	}
	a := &app{r: r, session: uint32(len(r.producers) + 1), txn: r.cfg.TransactionalID != "", group: -1, redo: -1}
	a.prod = producer.New(r.w, name, r.cfg, brokers, a, &r.batchIDs)
	r.producers = append(r.producers, a.prod.ID())
	r.prodObjs = append(r.prodObjs, a.prod)
	r.apps = append(r.apps, a)
	r.app, r.prod = a, a.prod
	for _, u := range r.undos {
		if !u.done {
			r.producerJoins(u, a.prod.ID())
		}
	}
	return a
}

// owns reports whether a group is this instance's to record: another
// instance may have taken it over (start-zombie), and then a late answer to
// the old one says nothing about it.
func (a *app) owns(g int32) bool { return g >= 0 && a.r.groups[g].session == a.session }

// busy reports whether an instance still has work the run must wait for:
// records without a callback, or a transactional call under way.
func (a *app) busy() bool {
	if a.phase == phaseClosed {
		return a.prod.Incomplete() // until the callbacks of its close ran
	}
	return a.prod.Incomplete() || a.phase == phaseInit || a.phase == phaseEnding || a.redo >= 0
}

// ---- producer callbacks ----

// Completed is the producer callback for a batch. Records another
// instance has taken over are left alone.
func (a *app) Completed(b *producer.Batch, base int64, err broker.Error) {
	r := a.r
	now := r.w.Now()
	inTable := r.batchDone(b.ID, int32(b.Partition), now)
	for i, id := range b.Records {
		rec := &r.recs[id]
		if rec.session != a.session {
			continue
		}
		rec.batch = int32(b.ID)
		if !inTable {
			r.doneAlone[id] = now
		} else if len(r.doneAlone) > 0 {
			delete(r.doneAlone, id)
		}
		rec.err = err
		if err == broker.ErrNone {
			r.stepAcked++
			r.stepBytes += int64(r.recordBytes(rec))
			rec.status = statusAcked
			rec.offset = -1
			if base >= 0 {
				rec.offset = int32(base + int64(i))
			}
		} else {
			rec.status = statusFailed
		}
	}
}

// Rejected is a record that failed in send().
func (a *app) Rejected(rec producer.Record, err broker.Error) {
	s := &a.r.recs[rec.ID]
	if s.session != a.session {
		return
	}
	s.status, s.err = statusFailed, err
	a.r.doneAlone[rec.ID] = a.r.w.Now()
}

// Unblocked is send() returning after it blocked: the application catches
// up on the records it could not send meanwhile, back to back.
func (a *app) Unblocked() {
	if a.endAfterSend && a.phase != phaseClosed {
		a.endGroup()
	}
	if a == a.r.app {
		a.r.resume()
	}
}

// TransactionDone continues the transaction loop after a blocking call,
// the way an exactly-once application handles each outcome: commit
// errors that allow it lead to abortTransaction() and the transaction is
// sent again; a fenced or otherwise fatal producer is closed, and the
// current instance is replaced by a new one that sends the open
// transaction again.
func (a *app) TransactionDone(op producer.TxnOp, err broker.Error) {
	r := a.r
	fatal := a.prod.TransactionFatal()
	switch {
	case fatal || (err != broker.ErrNone && op != producer.OpCommitTransaction):
		a.close(op, err)
		return
	case op == producer.OpInitTransactions:
		a.phase = phaseIdle
	case op == producer.OpCommitTransaction && err == broker.ErrNone:
		if a.owns(a.group) {
			r.groups[a.group].outcome = groupCommitted
		}
		a.group, a.phase = -1, phaseIdle
	case op == producer.OpCommitTransaction:
		// An abortable error: abort, then send the transaction again.
		e := r.entry(event.AppAbort, a.prod.ID())
		e.Err = int16(err)
		r.w.Trace.Add(e)
		a.phase = phaseEnding
		a.prod.AbortTransaction()
		return
	case op == producer.OpAbortTransaction:
		if a.owns(a.group) {
			g := &r.groups[a.group]
			r.markAborted(g)
			if g.abort {
				g.outcome = groupAborted
			} else {
				a.redo = a.group
			}
		}
		a.group, a.phase = -1, phaseIdle
	}
	if a.zombie {
		if a.redo >= 0 && r.groups[a.redo].session == a.session {
			// A zombie that lives on retries like any instance.
			a.sendAgain()
		}
		return
	}
	r.continueApp(a)
}

// close ends an instance after a fatal error (ProducerFencedException and
// the like): KafkaProducer.close(). A current instance is replaced once
// close() returned (Closed).
func (a *app) close(op producer.TxnOp, err broker.Error) {
	r := a.r
	e := r.entry(event.AppClose, a.prod.ID())
	e.X().Label, e.Err = op.String(), int16(err)
	r.w.Trace.Add(e)
	a.shutDown(op, nil)
}

// shutDown closes the instance's producer. close() blocks the application
// thread until the callbacks of every incomplete record ran
// (KafkaProducer.close joins the I/O thread); the application goes on in
// Closed. op is the call whose failure made it close, restart the fault
// that restarts it.
func (a *app) shutDown(op producer.TxnOp, restart *plannedFault) {
	a.phase = phaseClosed
	a.left = a.group
	if a.redo >= 0 {
		a.left = a.redo
	}
	a.group, a.redo = -1, -1
	a.closeOp, a.restart = op, restart
	a.prod.CloseNow()
}

// Closed is close() returning: the application goes on without the
// instance.
func (a *app) Closed() {
	r := a.r
	if a.restart != nil {
		r.restarted(a)
		return
	}
	open := a.left
	if a == r.app && a.closeOp == producer.OpInitTransactions {
		// The producer cannot even start (INVALID_TRANSACTION_TIMEOUT, say):
		// a new one would fail the same way, so the application stops.
		r.w.Trace.Add(r.entry(event.AppStop, a.prod.ID()))
		r.workDone = true
		return
	}
	if a != r.app || r.workDone && open < 0 {
		if open >= 0 && r.groups[open].session == a.session {
			r.groups[open].outcome = groupAbandoned
		}
		return
	}
	// The application starts over with a new producer, which fences the
	// old epoch, and sends the open transaction again.
	b := r.newApp()
	b.redo = open
	r.continueApp(b)
}

// continueApp goes on with an instance after a blocking call returned or
// the instance was created: a transaction left to send again goes first,
// even after the workload's end; otherwise the workload resumes.
func (r *runner) continueApp(a *app) {
	if a.redo >= 0 && (a.phase == phaseNew || a.phase == phaseIdle) {
		a.sendAgain()
		return
	}
	r.resume()
}

// markAborted records that a group's records were discarded with its
// transaction: their callbacks said success, but no read_committed
// consumer will see them.
func (r *runner) markAborted(g *group) {
	for _, id := range g.ids {
		rec := &r.recs[id]
		if rec.session == g.session && rec.status != statusFailed {
			rec.status, rec.err = statusFailed, broker.ErrTransactionAborted
		}
	}
}

// sendAgain sends a group's records again in a new transaction and
// commits it.
func (a *app) sendAgain() {
	r := a.r
	g := &r.groups[a.redo]
	a.redo = -1
	if a.txn && a.phase == phaseNew {
		a.redo = int32(g.index)
		a.initTransactions()
		return
	}
	if a.txn && r.committedInLog(g) {
		// The old instance's commit went through after all. An
		// exactly-once application learns this from the input offsets it
		// committed in the same transaction, and goes on from there.
		e := r.entry(event.AppSkip, a.prod.ID())
		e.X().Index = int32(g.index)
		r.w.Trace.Add(e)
		g.outcome = groupCommitted
		for _, id := range g.ids {
			r.recs[id].status, r.recs[id].err = statusAcked, broker.ErrNone
		}
		r.resume()
		return
	}
	if a.txn {
		if err := a.prod.BeginTransaction(); err != broker.ErrNone {
			a.close(producer.OpCommitTransaction, err)
			return
		}
	}
	g.session = a.session
	r.retried++
	a.group, a.phase = int32(g.index), phaseInTxn
	e := r.entry(event.AppRetry, a.prod.ID())
	e.X().Index, e.Count = int32(g.index), int32(len(g.ids))
	r.w.Trace.Add(e)
	for _, id := range g.ids {
		r.resend(a, id)
	}
	a.endGroup()
}

func (a *app) initTransactions() {
	a.phase = phaseInit
	a.prod.InitTransactions()
}

// endGroup ends the open group: commit, or abort when the application
// means to abort this one. Without a transactional.id the group simply
// ends.
func (a *app) endGroup() {
	if a.txn && a.prod.Blocked() {
		// The application thread is still inside send(), which blocks for
		// memory or metadata (KafkaProducer.doSend): it cannot call
		// commitTransaction() before that returns, and a record it sent
		// must not be refused for a transaction already committing.
		a.endAfterSend = true
		return
	}
	a.endAfterSend = false
	r := a.r
	g := &r.groups[a.group]
	a.inGroup = 0
	if !a.txn {
		a.group, a.phase = -1, phaseIdle
		return
	}
	a.phase = phaseEnding
	if g.abort {
		a.prod.AbortTransaction()
		return
	}
	a.prod.CommitTransaction()
}

// ---- zombies ----

// startZombie freezes the current instance (a long GC pause, a stalled
// VM) and starts a replacement with the same configuration, as an
// orchestrator does when it thinks the first one died. The replacement
// takes over what was not done: the open transaction, or, without
// transactions, every record not yet acknowledged.
func (r *runner) startZombie(f *plannedFault) {
	old := r.app
	old.zombie = true
	r.w.Pause(old.prod.ID())
	r.w.Trace.Add(r.faultEntry(event.StartZombie, old.prod.ID(), f))
	u := &undo{fault: f, zombie: old}
	r.addUndo(u, r.w.Now()+sim.FromDuration(f.For.Duration))
	b := r.newApp()
	if old.txn {
		open := old.group
		if old.redo >= 0 {
			open = old.redo
		}
		if open >= 0 && r.groups[open].outcome == groupOpen {
			b.redo = open
			r.groups[open].session = b.session
		}
		old.redo = -1 // the replacement has it now
		r.continueApp(b)
		return
	}
	var again []broker.RecordID
	for id := 1; id < len(r.recs); id++ {
		if rec := &r.recs[id]; rec.session == old.session && rec.status == statusPending {
			again = append(again, broker.RecordID(id))
		}
	}
	e := r.entry(event.Resend, b.prod.ID())
	e.Count, e.Flags = int32(len(again)), event.Replacement
	r.w.Trace.Add(e)
	for _, id := range again {
		r.resend(b, id)
	}
	r.resume()
}

// wakeZombie resumes a frozen instance. It carries on where it stopped:
// an open transaction is committed, queued batches go out.
func (r *runner) wakeZombie(a *app) {
	r.w.Resume(a.prod.ID())
	r.w.Trace.Add(r.entry(event.ZombieResumes, a.prod.ID()))
	if a.txn && a.phase == phaseInTxn {
		a.endGroup()
	}
}

// freezeApp stops the current instance whole, as a long garbage
// collection or a stalled VM does: the application sends nothing and the
// producer's I/O thread runs nothing, its timers and the answers that
// arrive wait for the thaw (sim.World.Pause). No replacement starts:
// brokers and the coordinator see only silence, and their timeouts
// (transaction.timeout.ms, request.timeout.ms on their side) run on.
func (r *runner) freezeApp(f *plannedFault) {
	a := r.app
	if a.frozen || a.phase == phaseClosed {
		e := r.entry(event.FaultSkipped, r.id)
		e.Ext = &event.Ext{Index: int32(f.index), Note: f.Do, Label: "the application is already frozen, or closed"}
		r.w.Trace.Add(e)
		return
	}
	a.frozen = true
	r.w.Pause(a.prod.ID())
	r.w.Trace.Add(r.faultEntry(event.AppFreeze, a.prod.ID(), f))
	r.addUndo(&undo{fault: f, frozen: a}, r.w.Now()+sim.FromDuration(f.For.Duration))
}

// thawApp resumes a frozen instance where it stopped, with the clock now
// late: the producer handles what fell due in the meantime, in the order it
// arrived, as a JVM does after a pause; the application catches up on the
// records it could not send.
func (r *runner) thawApp(a *app) {
	a.frozen = false
	r.w.Resume(a.prod.ID())
	r.w.Trace.Add(r.entry(event.AppThaw, a.prod.ID()))
	if a != r.app {
		return
	}
	if a.endAfterSend && !a.prod.Blocked() && a.phase != phaseClosed {
		a.endGroup()
	}
	if r.finishOnThaw {
		r.finishOnThaw = false
		r.finishWork()
		return
	}
	r.resume()
}

// resend sends a record again from instance a, with its id, key and topic.
func (r *runner) resend(a *app, id broker.RecordID) {
	rec := &r.recs[id]
	rec.status, rec.err, rec.session = statusPending, broker.ErrNone, a.session
	var key []byte
	if rec.key >= 0 {
		key = r.keys[rec.key]
	}
	wl := &r.s.Workload
	a.prod.Send(producer.Record{ID: id, Topic: r.topicOf(id), Key: key, Value: wl.ValueBytes, Payload: r.pl.payload})
}

// committedInLog reports whether a group's transaction is committed in the
// logs: some record of it in a batch that a COMMIT marker ended.
func (r *runner) committedInLog(g *group) bool {
	if len(g.ids) == 0 {
		return false
	}
	want := g.ids[0]
	for p := range r.pl.topo.Partitions {
		log := r.finalLog(broker.PartitionID(p))
		_, outcomes := log.TxnEnds()
		for bi, b := range log.Batches() {
			if outcomes[bi] != broker.MarkerCommit {
				continue
			}
			for _, id := range log.Records(b.BaseOffset, b.LastOffset()+1) {
				if id == want {
					return true
				}
			}
		}
	}
	return false
}
