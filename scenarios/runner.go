package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/sim"
)

// RunOptions change how a scenario runs without changing the scenario.
type RunOptions struct {
	// Seed replaces the scenario's seed when set.
	Seed *uint64
	// CheckInvariants checks the cluster's replication invariants after
	// every event and at the end (slower; for tests).
	CheckInvariants bool
	// MaxEvents replaces the event budget derived from the scenario's size
	// when set.
	MaxEvents uint64
	// MaxMemory replaces the memory budget (bytes) derived from the
	// scenario's size when set: a server bounds what one run may hold.
	MaxMemory int64
	// Stop, when set, is asked every few thousand events whether the run
	// must stop (the CLI's wall-clock budget: the core never reads the
	// clock); StopLimit describes that budget for the report.
	Stop      func() bool
	StopLimit string
	// Anomalies is how many anomalies Report.Anomalies explains: 0 for
	// DefaultAnomalies, AllAnomalies for every one, NoAnomalies for
	// none. Result.Anomalies gives every one whatever this says.
	Anomalies int
	// Messages keeps every message the network carries in the trace, for
	// a space-time diagram (Result.SpaceTime) or the JSON-lines trace.
	// Without it the trace counts them only: a run of a million records
	// sends hundreds of thousands, and a report needs none of them.
	// Nothing else changes.
	Messages bool
	// TraceEntries reserves room for this many trace entries: a hint, for
	// runs of a known size (a hunt's schedules, a sweep's next seed); nothing
	// else changes.
	TraceEntries int
}

// TraceRoom is how many trace entries to reserve (RunOptions.TraceEntries)
// for another run of the same scenario, with another seed or schedule:
// this run's, and an eighth more.
func (r *Result) TraceRoom() int {
	n := len(r.Trace.Entries())
	return n + n/8
}

// Result is a finished run.
type Result struct {
	Report *Report
	Trace  *sim.Trace
	Names  sim.Namer
	// InvariantErr is the first broken replication invariant, when checked.
	InvariantErr error
	// MaxBrokersDown is the most brokers crashed, paused or isolated at once.
	MaxBrokersDown int
	// Sessions is how many producer instances the run used.
	Sessions int
	// Cluster is the cluster after the run, for tests that inspect logs.
	Cluster *broker.Cluster
	// Events is how many events the run handled.
	Events uint64

	run *runner // for Charts and Anomalies
}

// Anomalies is every lost, duplicated, reordered and ambiguous record of
// the run with its explanation, in the report's order; Report.Anomalies
// is its first RunOptions.Anomalies entries. The explanations are worked
// out on each call.
func (r *Result) Anomalies() []Anomaly { return r.run.explainAnomalies(AllAnomalies) }

// Runner node event kinds.
const (
	kindSend sim.Kind = sim.FirstUserKind + iota
	kindFault
	kindUndo
	kindSample
)

// maxLedger is the most records whose ledger entries a run allocates up
// front (about 1.8 GB).
const maxLedger = 1 << 25

// convergeTime is how long the cluster has to settle after the final heal.
const convergeTime = 10 * sim.Minute

// sampleStep is the time series' resolution; maxSamples bounds a long run's
// series (2000 s of virtual time).
const (
	sampleStep = 100 * sim.Millisecond
	maxSamples = 20000
)

// undo is a fault effect waiting to be reversed, by its `for` or by the
// final heal; its fault's kind knows how (faultKind.heal).
type undo struct {
	fault  *plannedFault
	broker sim.NodeID
	cuts   [][2]sim.NodeID // isolate, partition: links cut or slowed, to restore; delay with from: links slowed
	delay  sim.Time        // delay: the latency added
	zombie *app            // start-zombie: the frozen instance to resume
	frozen *app            // freeze-app: the instance to thaw
	done   bool
	// sides are the nodes an isolate or partition stands between, and
	// prodSide which side the producers are on (1 or 2; 0: neither), so
	// that producers created later are cut too.
	sides    [2][]sim.NodeID
	prodSide int8
}

type runner struct {
	s   *Scenario
	opt RunOptions
	// rules are the brokers' copies of the request rules, with the fault
	// each came from: the report counts their firings.
	rules []firedRule

	budget  budget
	stopped *BudgetStop // the budget that stopped the run, if one did

	pl  *plan
	w   *sim.World
	cl  *broker.Cluster
	id  sim.NodeID
	rng *rand.Rand

	prod      *producer.Producer // the current instance's producer
	app       *app               // the current instance of the application
	apps      []*app
	groups    []group          // by index: the application's transactions
	events    int              // application records sent (each goes to every topic in pl.topics)
	retried   int64            // transactions sent again
	cfg       *producer.Config // the current instance's configuration
	producers []sim.NodeID
	prodObjs  []*producer.Producer
	batchIDs  int64

	ledger
	found    found            // the audit's anomalies
	keys     map[int32][]byte // the key bytes of each key sent, by key number
	zipf     *rand.Zipf
	sent     int
	stopAt   sim.Time
	workDone bool
	// waiting: the application thread is stuck in a blocking send().
	waiting bool
	// finishOnThaw: the workload ended while the application was frozen
	// (freeze-app); it finishes its work when it thaws.
	finishOnThaw bool

	// The time series: one Sample per sampleStep until the final heal.
	series     []Sample
	stepAcked  int64
	stepBytes  int64
	sampleDone bool

	undos         []*undo
	faultsPending int
	maxDown       int
	invariantErr  error
}

// Run runs the scenario and audits the result.
func (s *Scenario) Run(opt RunOptions) *Result {
	seed := s.Seed
	if opt.Seed != nil {
		seed = *opt.Seed
	}
	r := &runner{s: s, opt: opt, pl: s.plan, cfg: s.plan.producerCfg}
	r.w = sim.NewWorld(seed)
	if !opt.Messages {
		r.w.Trace.DropMessages()
	}
	r.w.Trace.Reserve(opt.TraceEntries)
	net := &s.Cluster.Network
	r.w.Net.Configure(sim.LinkConfig{
		Latency: sim.FromDuration(net.Latency.Duration), Jitter: sim.FromDuration(net.Jitter.Duration),
		Bandwidth: net.Bandwidth.BitsPerSecond,
	})
	r.cl = broker.NewCluster(r.w, r.pl.brokerCfg, r.pl.topo)
	r.id = r.w.AddNode("runner", r)
	r.rng = r.w.Stream("workload")
	r.newApp()

	wl := &s.Workload
	// Room for the records the workload will send: up to a million when
	// only the rate and duration bound them, up to maxLedger when
	// workload.records does too (growing a slice of millions copies it
	// again and again, and holds both copies at the peak); more grow the
	// slice as they come.
	size := s.Size()
	limit := float64(1 << 20)
	if wl.Records > 0 {
		limit = maxLedger
	}
	capacity := int(min(size.Records, limit)) + 1
	r.newLedger(capacity)
	// The same for each replica's log: an even share of each topic's
	// records, plus a tenth for a partitioner's unevenness. A partition
	// given more grows as it needs.
	for _, t := range r.pl.topics {
		tp := r.pl.topo.Topics[t]
		share := capacity / tp.Partitions
		for p := range tp.Partitions {
			r.cl.ReserveLog(r.pl.topo.ID(t, p), share+share/10)
		}
	}
	if wl.Keys > 0 {
		// Only the keys the workload uses: workload.keys may be far more
		// than the records sent.
		r.keys = map[int32][]byte{}
		if wl.KeyDistribution == "zipf" {
			r.zipf = rand.NewZipf(r.rng, wl.ZipfS, 1, uint64(wl.Keys-1))
		}
	}
	r.stopAt = sim.Never
	if s.Duration.Set {
		r.stopAt = sim.FromDuration(s.Duration.Duration)
	}
	for i := range r.pl.faults {
		r.w.Schedule(sim.FromDuration(r.pl.faults[i].At.Duration), r.id, kindFault, int64(i), 0)
	}
	r.faultsPending = len(r.pl.faults)
	if opt.CheckInvariants {
		r.w.AfterEvent = r.checkInvariants
	}
	r.w.Schedule(0, r.id, kindSend, 0, 0)
	r.w.Schedule(sampleStep, r.id, kindSample, 0, 0)

	// 1. The workload runs until it has sent its records or its time is up,
	// even if the application is stuck in a blocking call then (a commit
	// waiting for an unreachable coordinator). Without a duration, a stuck
	// application gives up after twice the time its records should take.
	workLimit := r.stopAt
	if workLimit == sim.Never {
		workLimit = sim.FromDuration(time.Duration(2*float64(wl.Records)/wl.Rate*float64(time.Second))) + 60*sim.Second
	} else {
		r.w.Schedule(r.stopAt, r.id, kindSend, 0, 0)
	}
	cfg := r.pl.producerCfg
	drain := sim.Millis(int64(cfg.DeliveryTimeoutMs)+cfg.MaxBlockMs) + 60*sim.Second
	lastFault := sim.Time(0)
	for i := range r.pl.faults {
		lastFault = max(lastFault, sim.FromDuration(r.pl.faults[i].At.Duration))
	}
	r.budget = newBudget(size.Writes, len(r.pl.topo.Partitions)+r.pl.topo.Brokers,
		max(workLimit, lastFault)+drain+convergeTime)
	if opt.MaxEvents > 0 {
		r.budget.events = opt.MaxEvents
	}
	if opt.MaxMemory > 0 {
		r.budget.memory = opt.MaxMemory
	}
	r.w.Trace.SetLimit(r.budget.trace)
	r.w.RunWhile(workLimit, func() bool { return r.within() && !r.workDone })
	r.workDone = true
	// A budget's stop leaves the cluster as it was, for the audit to read.
	drainLimit := sim.Never
	if r.stopped == nil {
		// 2. close() flushes: the producer finishes every record, by
		// callback or delivery timeout, while the fault schedule plays out.
		r.finishWork()
		drainLimit = r.w.Now() + drain
		r.w.RunWhile(sim.Never, func() bool {
			return r.within() && (r.faultsPending > 0 || ((r.appsBusy() || r.shuttingDown()) && r.w.Now() < drainLimit))
		})
	}
	if r.stopped == nil {
		// 3. Heal every fault and restart every crashed broker. The time
		// series ends here, with the step in progress closed, so what was
		// acknowledged since the last sample is on the charts.
		r.closeStep()
		r.sampleDone = true
		r.healAll()
		// 4. Let replication converge, so the audit reads settled logs.
		convergeLimit := r.w.Now() + convergeTime
		r.w.RunWhile(convergeLimit, func() bool {
			return r.within() && (!r.cl.Converged() || !r.cl.TransactionsSettled() || (r.appsBusy() && r.w.Now() < drainLimit))
		})
	}
	if opt.CheckInvariants {
		r.checkInvariants()
	}

	rep := r.audit()
	rep.Seed = seed
	if rep.StoppedByBudget = r.stopped; r.stopped != nil {
		rep.Converged = false // it never reached the post-heal phase
	} else if !rep.Converged {
		rep.NotConverged = r.blockers()
	}
	rep.TraceCut = r.w.Trace.Cut()
	s.evaluate(rep)
	return &Result{Report: rep, Trace: r.w.Trace, Names: r.cl, InvariantErr: r.invariantErr,
		MaxBrokersDown: r.maxDown, Sessions: len(r.producers), Cluster: r.cl, Events: r.w.Events(), run: r}
}

// finishWork is the application reaching the end of its input: it
// commits the open transaction, and close() flushes the rest.
func (r *runner) finishWork() {
	if r.app.frozen {
		r.finishOnThaw = true // the application thread is not running
		return
	}
	switch a := r.app; {
	case a.phase == phaseInTxn:
		a.endGroup()
	case a.redo >= 0:
		r.continueApp(a)
	}
	r.prod.Flush()
}

// appsBusy reports whether any instance still has work under way.
func (r *runner) appsBusy() bool {
	for _, a := range r.apps {
		if a.busy() {
			return true
		}
	}
	return false
}

// HandleEvent runs the workload, the fault schedule and invariant checks.
func (r *runner) HandleEvent(e sim.Event) {
	switch e.Kind {
	case kindSend:
		r.sendNext()
	case kindFault:
		f := &r.pl.faults[e.A]
		f.kind.fire(r, f)
		r.faultsPending--
	case kindUndo:
		r.undo(r.undos[e.A])
	case kindSample:
		r.sample()
	}
}

// sample closes one step of the time series and schedules the next.
func (r *runner) sample() {
	if r.sampleDone || len(r.series) >= maxSamples {
		return
	}
	r.closeStep()
	r.w.After(sampleStep, r.id, kindSample, 0, 0)
}

// closeStep appends the state now and what was acknowledged since the last
// step to the time series.
func (r *runner) closeStep() {
	if r.sampleDone || len(r.series) >= maxSamples {
		return
	}
	s := Sample{AtMs: r.w.Now().Ms(), AckedRecords: r.stepAcked, AckedBytes: r.stepBytes,
		InFlight: r.prod.InFlightRequests(), BufferBytes: r.prod.BufferUsed(), ISR: make([]int, r.pl.dataPartitions())}
	for p := range s.ISR {
		s.ISR[p] = len(r.cl.Controller.State(broker.PartitionID(p)).ISR)
		if r.pl.producerCfg.TransactionalID != "" {
			log := r.finalLog(broker.PartitionID(p))
			s.Unstable += log.HW() - log.LastStableOffset()
		}
	}
	r.series = append(r.series, s)
	r.stepAcked, r.stepBytes = 0, 0
}

// HandleMessage is unused: the runner is not on the network.
func (r *runner) HandleMessage(sim.NodeID, sim.Message) {}

func (r *runner) checkInvariants() {
	if r.invariantErr != nil {
		return // the first violation is the one to read
	}
	if err := r.cl.CheckInvariants(); err != nil {
		r.invariantErr = fmt.Errorf("at %v: %w", r.w.Now(), err)
	}
}

// ---- workload ----

// sendNext sends one record and schedules the next, evenly spaced at the
// workload rate.
func (r *runner) sendNext() {
	wl := &r.s.Workload
	now := r.w.Now()
	if (wl.Records > 0 && r.events >= wl.Records) || now >= r.stopAt {
		r.workDone = true
		return
	}
	if r.app.phase == phaseClosed || r.app.frozen {
		// In close(): the loop goes on with the next instance (Closed).
		// Frozen: it goes on when it thaws.
		r.waiting = true
		return
	}
	if r.prod.Blocked() {
		// send() has not returned; the next one waits for it (Unblocked).
		r.waiting = true
		return
	}
	if busy := r.prod.AppBusyUntil(); busy > now {
		// The application thread is still compressing the last record.
		r.w.Schedule(busy, r.id, kindSend, 0, 0)
		return
	}
	a := r.app
	if r.pl.txnRecords > 0 && !r.openGroup(a) {
		// In initTransactions(), commitTransaction() or abortTransaction():
		// the loop goes on when it returns (TransactionDone).
		r.waiting = true
		return
	}
	key := int32(-1)
	var keyBytes []byte
	if wl.Keys > 0 {
		var k int
		switch wl.KeyDistribution {
		case "sequential":
			k = r.events % wl.Keys
		case "zipf":
			k = int(r.zipf.Uint64())
		default:
			k = r.rng.IntN(wl.Keys)
		}
		key = int32(k)
		keyBytes = r.keys[key]
		if keyBytes == nil {
			keyBytes = []byte("key-" + strconv.Itoa(k))
			r.keys[key] = keyBytes
		}
	}
	for _, t := range r.pl.topics {
		id := broker.RecordID(r.sent + 1)
		r.addRecord(id, now, key, a.session, a.group)
		r.sent++
		if a.group >= 0 {
			r.groups[a.group].ids = append(r.groups[a.group].ids, id)
		}
		r.prod.Send(producer.Record{ID: id, Topic: t, Key: keyBytes, Value: wl.ValueBytes, Payload: r.pl.payload})
	}
	r.events++
	if a.group >= 0 {
		if a.inGroup++; a.inGroup == r.pl.txnRecords {
			a.endGroup()
		}
	}
	next := sim.Time(float64(r.events) * float64(sim.Second) / wl.Rate)
	if next < now {
		next = now
	}
	if (wl.Records > 0 && r.events >= wl.Records) || next >= r.stopAt {
		r.workDone = true // done now, not at the time of a send that will not happen
		return
	}
	r.w.Schedule(next, r.id, kindSend, 0, 0)
}

// openGroup makes sure the instance has an open group (with a
// transactional.id, a transaction begun) and reports whether records may
// be sent. It starts initTransactions(), or a transaction left to send
// again, when those come first.
func (r *runner) openGroup(a *app) bool {
	switch a.phase {
	case phaseInTxn:
		return true
	case phaseNew, phaseIdle:
		if a.txn && a.phase == phaseNew {
			a.initTransactions()
			return false
		}
		if a.redo >= 0 {
			a.sendAgain()
			return false
		}
		if a.txn {
			if err := a.prod.BeginTransaction(); err != broker.ErrNone {
				a.close(producer.OpCommitTransaction, err)
				return false
			}
		}
		idx := len(r.groups)
		every := r.s.Workload.Transactions.AbortEvery
		r.groups = append(r.groups, group{session: a.session, index: idx, abort: every > 0 && (idx+1)%every == 0})
		a.group, a.phase = int32(idx), phaseInTxn
		return true
	}
	return false
}

// resume wakes the application thread if it waits (a blocking call
// returned): it catches up on the records due meanwhile, back to back.
func (r *runner) resume() {
	if r.waiting {
		r.waiting = false
		r.w.Schedule(r.w.Now(), r.id, kindSend, 0, 0)
	}
}

// recordBytes is a record's key and value size.
func (r *runner) recordBytes(rec *recState) int {
	n := r.s.Workload.ValueBytes
	if rec.key >= 0 {
		n += len(r.keys[rec.key])
	}
	return n
}

// ---- faults ----

// targets resolves a selector now.
func (r *runner) targets(sel selector) []sim.NodeID {
	switch sel.kind {
	case selBroker:
		return []sim.NodeID{sel.broker}
	case selAll:
		var out []sim.NodeID
		for b := 1; b <= r.pl.topo.Brokers; b++ {
			out = append(out, sim.NodeID(b))
		}
		return out
	case selCrashed:
		var out []sim.NodeID
		for b := 1; b <= r.pl.topo.Brokers; b++ {
			if !r.w.Up(sim.NodeID(b)) {
				out = append(out, sim.NodeID(b))
			}
		}
		return out
	case selLeader:
		if l := r.cl.Leader(sel.partition); l != broker.NoLeader {
			return []sim.NodeID{l}
		}
		return nil
	case selFollower:
		if f := r.cl.Followers(sel.partition); len(f) > 0 {
			return f[:1]
		}
		return nil
	case selFollowers:
		return r.cl.Followers(sel.partition)
	}
	return nil
}

// entry starts a trace entry; the caller adds the fields its kind needs and
// records it with r.w.Trace.Add.
func (r *runner) entry(k event.Kind, node sim.NodeID) sim.Entry { return sim.E(r.w.Now(), node, k) }

// faultEntry starts a trace entry for fault f, with its duration if it has one.
func (r *runner) faultEntry(k event.Kind, node sim.NodeID, f *plannedFault) sim.Entry {
	e := r.entry(k, node)
	if f.set["for"] {
		e.Flags |= event.HasFor
		e.X().For = f.For.Duration
	}
	e.Count = int32(f.Count)
	return e
}

func (r *runner) addUndo(u *undo, until sim.Time) {
	r.undos = append(r.undos, u)
	if until > 0 {
		r.w.Schedule(until, r.id, kindUndo, int64(len(r.undos)-1), 0)
	}
}

// isolate cuts a broker's links to the groups named in from, in the chosen
// direction: the partition between the broker and those groups.
func (r *runner) isolate(u *undo) {
	f, b := u.fault, u.broker
	if slices.Contains(f.from, "producer") {
		u.prodSide = 2
	}
	u.sides = [2][]sim.NodeID{{b}, r.peers(f, b)}
	r.cutLinks(u, u.sides[0], u.sides[1])
	e := r.faultEntry(event.Isolate, b, f)
	e.X().Note = strings.Join(f.from, ", ")
	e.Flags |= directionFlags[f.direction]
	if f.mode == "reject" {
		e.Flags |= event.Rejected
	}
	r.w.Trace.Add(e)
}

// peers are the nodes in a fault's from groups, other than broker b: the
// other ends of the links it affects (producers as of now).
func (r *runner) peers(f *plannedFault, b sim.NodeID) []sim.NodeID {
	var peers []sim.NodeID
	for _, group := range f.from {
		switch group {
		case "brokers":
			for o := 1; o <= r.pl.topo.Brokers; o++ {
				if sim.NodeID(o) != b {
					peers = append(peers, sim.NodeID(o))
				}
			}
		case "controller":
			peers = append(peers, broker.ControllerID)
		case "producer":
			peers = append(peers, r.producers...)
		}
	}
	return peers
}

// partition cuts or slows the links between two groups of nodes, resolved
// when it fires.
func (r *runner) partition(f *plannedFault) {
	u := &undo{fault: f, broker: sim.NoNode}
	for i, side := range f.sides {
		for _, m := range side {
			var nodes []sim.NodeID
			switch m.group {
			case "controller":
				nodes = []sim.NodeID{broker.ControllerID}
			case "producer":
				u.prodSide = int8(i + 1)
				nodes = r.producers
			default:
				nodes = r.targets(m.sel)
			}
			for _, n := range nodes {
				if !slices.Contains(u.sides[i], n) {
					u.sides[i] = append(u.sides[i], n)
				}
			}
		}
	}
	r.cutLinks(u, u.sides[0], u.sides[1])
	e := r.faultEntry(event.Partition, r.id, f)
	e.X().Note = describePartition(f)
	// The brokers it cuts off from something, for explanations.
	for b := 1; b <= r.pl.topo.Brokers; b++ {
		if !f.set["by"] && cutsNode(u, sim.NodeID(b)) {
			e.X().List = append(e.X().List, int32(b))
		}
	}
	r.w.Trace.Add(e)
	until := sim.Time(0)
	if f.set["for"] {
		until = r.w.Now() + sim.FromDuration(f.For.Duration)
	}
	r.addUndo(u, until)
	r.countDown()
}

// cutLinks cuts (in the fault's mode) or slows (by) the links from the
// nodes of a to those of b, and back, as the fault's direction says: in is
// traffic into a, out is traffic out of it. A link is affected once, and
// never a node's link to itself.
func (r *runner) cutLinks(u *undo, a, b []sim.NodeID) {
	f := u.fault
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			if f.direction != "out" {
				r.cutLink(u, y, x)
			}
			if f.direction != "in" {
				r.cutLink(u, x, y)
			}
		}
	}
}

func (r *runner) cutLink(u *undo, from, to sim.NodeID) {
	l := [2]sim.NodeID{from, to}
	if slices.Contains(u.cuts, l) {
		return
	}
	u.cuts = append(u.cuts, l)
	if u.fault.set["by"] {
		r.w.Net.AddLinkDelay(from, to, sim.FromDuration(u.fault.By.Duration))
		return
	}
	r.w.Net.Cut(from, to, u.fault.mode == "reject")
}

// restoreLinks undoes what cutLinks did.
func (r *runner) restoreLinks(u *undo) {
	for _, c := range u.cuts {
		if u.fault.set["by"] {
			r.w.Net.AddLinkDelay(c[0], c[1], -sim.FromDuration(u.fault.By.Duration))
			continue
		}
		r.w.Net.Uncut(c[0], c[1], u.fault.mode == "reject")
	}
}

// producerJoins cuts a producer instance created while a link fault with
// producers on one side is active, as that side's other members are.
func (r *runner) producerJoins(u *undo, p sim.NodeID) {
	switch u.prodSide {
	case 1:
		u.sides[0] = append(u.sides[0], p)
		r.cutLinks(u, []sim.NodeID{p}, u.sides[1])
	case 2:
		u.sides[1] = append(u.sides[1], p)
		r.cutLinks(u, u.sides[0], []sim.NodeID{p})
	}
}

// cutsNode reports whether a fault's cuts touch a node's links.
func cutsNode(u *undo, id sim.NodeID) bool {
	for _, c := range u.cuts {
		if c[0] == id || c[1] == id {
			return true
		}
	}
	return false
}

func (r *runner) undo(u *undo) {
	if u.done {
		return
	}
	u.done = true
	u.fault.kind.heal(r, u)
	r.countDown()
}

// countDown tracks the most brokers out of service at once (crashed,
// paused, or cut off from anything; a delay does not count), for the
// invariant tests.
func (r *runner) countDown() {
	down := 0
	for b := 1; b <= r.pl.topo.Brokers; b++ {
		id := sim.NodeID(b)
		out := !r.w.Up(id) || r.w.Paused(id) || r.cl.ShuttingDown(id)
		for _, u := range r.undos {
			out = out || (!u.done && !u.fault.set["by"] && cutsNode(u, id))
		}
		if out {
			down++
		}
	}
	r.maxDown = max(r.maxDown, down)
}

// shuttingDown reports whether a broker's controlled shutdown is under
// way: the run lets it finish before the final heal.
func (r *runner) shuttingDown() bool {
	for b := 1; b <= r.pl.topo.Brokers; b++ {
		if r.cl.ShuttingDown(sim.NodeID(b)) {
			return true
		}
	}
	return false
}

// restartProducer closes the producer at once and starts a new instance,
// which gets a new producer id. With resend, the application sends again
// every record the old instance left without an answer.
func (r *runner) restartProducer(f *plannedFault) {
	old := r.app
	e := r.entry(event.RestartProducer, old.prod.ID())
	if old.txn {
		e.Flags = event.Transactional
	}
	if f.producerCfg != nil {
		r.cfg = f.producerCfg
		e.X().Note = f.Client
	}
	r.w.Trace.Add(e)
	old.shutDown(0, f)
}

// restarted goes on with a restart-producer fault once the old instance's
// close() returned: a new instance takes over.
func (r *runner) restarted(old *app) {
	resend := old.restart.ResendUnacked
	open := old.left
	b := r.newApp()
	if open >= 0 {
		if resend && b.txn {
			// The open transaction is sent again in the new instance's first.
			b.redo = open
			r.continueApp(b)
			return
		}
		r.groups[open].outcome = groupAbandoned
	}
	if !resend {
		r.resume()
		return
	}
	var again []broker.RecordID
	for id := range r.recs {
		if rec := &r.recs[id]; id > 0 && rec.status == statusFailed && rec.err == broker.ErrProducerClosed {
			again = append(again, broker.RecordID(id))
		}
	}
	e := r.entry(event.Resend, b.prod.ID())
	e.Count = int32(len(again))
	r.w.Trace.Add(e)
	for _, id := range again {
		r.resend(b, id)
	}
	r.resume()
}

// healAll ends every fault: links restored, delays removed, paused brokers
// resumed, crashed brokers restarted (and those still in a controlled
// shutdown stopped and restarted), injected errors and drops cleared.
func (r *runner) healAll() {
	for _, u := range r.undos {
		r.undo(u)
	}
	for b := 1; b <= r.pl.topo.Brokers; b++ {
		r.cl.FinishShutdown(sim.NodeID(b))
		if !r.w.Up(sim.NodeID(b)) {
			r.cl.Restart(sim.NodeID(b))
		}
	}
	r.cl.Heal()
	r.w.Trace.Add(r.entry(event.Heal, r.id))
}
