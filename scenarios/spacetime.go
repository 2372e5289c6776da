package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// SpaceTime is the data of a space-time diagram of one partition over a
// window of a run: time flows down, each lane is a node (or a producer's
// connection), and arrows are messages between them. It is read from the
// trace's typed entries and message records, and from the final logs, so
// that plots/ (and the web view) only draw it.
type SpaceTime struct {
	Scenario  string  `json:"scenario"`
	Seed      uint64  `json:"seed"`
	Partition string  `json:"partition"`
	FromMs    float64 `json:"from_ms"`
	ToMs      float64 `json:"to_ms"`
	// Why says how the partition and the window were chosen.
	Why    string   `json:"why"`
	Lanes  []Lane   `json:"lanes"`
	Arrows []Arrow  `json:"arrows"`
	Steps  []Step   `json:"steps"`
	Bands  []Band   `json:"bands"`
	Marks  []Mark   `json:"marks"`
	Badges []Badge  `json:"badges"`
	Gaps   []Gap    `json:"gaps"`
	Notes  []string `json:"notes"`
}

// LaneKind is what a lane stands for.
type LaneKind string

const (
	LaneApp        LaneKind = "application" // the application and the producer's accumulator
	LaneConn       LaneKind = "connection"  // one producer's connection to one broker: its requests in flight
	LaneReplica    LaneKind = "replica"     // one broker's replica of the partition
	LaneController LaneKind = "controller"  // the controller, when it acts on the partition
)

// Lane is one column of the diagram, left to right.
type Lane struct {
	Kind LaneKind `json:"kind"`
	Name string   `json:"name"`
}

// ArrowKind is the message an arrow stands for.
type ArrowKind string

const (
	ArrowProduce         ArrowKind = "produce"
	ArrowProduceResponse ArrowKind = "produce-response"
	ArrowFetch           ArrowKind = "fetch"
	ArrowFetchResponse   ArrowKind = "fetch-response"
	ArrowAlter           ArrowKind = "alter-partition"
	ArrowAlterResponse   ArrowKind = "alter-partition-response"
	ArrowElection        ArrowKind = "election" // the controller's election, to the replica that becomes leader
)

// ArrowEnd is how a message ended.
type ArrowEnd string

const (
	EndReceived ArrowEnd = "received"
	EndDropped  ArrowEnd = "dropped" // lost: its connection closed, its peer was down, a reject cut refused it
	EndCut      ArrowEnd = "cut"     // still held by a cut when the window ends
)

// Arrow is one message, from its send to its receipt or its loss. A
// request and its response are a pair: the response's Pair is the
// request's index in Arrows.
type Arrow struct {
	Kind   ArrowKind `json:"kind"`
	From   int       `json:"from"` // lane index
	To     int       `json:"to"`
	SentMs float64   `json:"sent_ms"`
	EndMs  float64   `json:"end_ms"`
	End    ArrowEnd  `json:"end"`
	// HeldMs is when a drop cut held it (TCP retransmits it later), 0 if
	// never.
	HeldMs float64 `json:"held_ms,omitempty"`
	Pair   int     `json:"pair"` // the request a response answers, or -1
	// Batch is the producer batch a produce request carries for the
	// partition (its colour), Seq its base sequence (-1 without
	// idempotence), Attempt which attempt it is (1: the first).
	Batch   int64  `json:"batch,omitempty"`
	Seq     int32  `json:"seq"`
	Attempt int32  `json:"attempt,omitempty"`
	Label   string `json:"label"`
	Error   bool   `json:"error,omitempty"` // a response with a Kafka error
	// DoneMs is, for a produce request, when the producer stopped waiting
	// for it: its answer arrived, request.timeout.ms expired or its
	// connection broke; 0 if it still waited when the window ended.
	DoneMs float64 `json:"done_ms,omitempty"`
}

// Step is a replica's log end offset or, on the leader, its high watermark,
// as a step line: each point holds from its time to the next.
type Step struct {
	Lane   int         `json:"lane"`
	Line   string      `json:"line"` // "log-end-offset" or "high-watermark"
	Points []StepPoint `json:"points"`
}

// StepPoint is a value from a time on.
type StepPoint struct {
	AtMs   float64 `json:"at_ms"`
	Offset int64   `json:"offset"`
}

// BandKind is what a band on a lane means.
type BandKind string

const (
	BandISR    BandKind = "isr"    // in the controller's ISR
	BandLeader BandKind = "leader" // the broker leads the partition
	BandDown   BandKind = "down"   // crashed, paused or stopped
	BandCut    BandKind = "cut"    // isolated by a fault
)

// Band is an interval of a lane.
type Band struct {
	Lane   int      `json:"lane"`
	Kind   BandKind `json:"kind"`
	FromMs float64  `json:"from_ms"`
	ToMs   float64  `json:"to_ms"`
}

// MarkKind is the kind of a point event on a lane.
type MarkKind string

const (
	MarkFault  MarkKind = "fault"  // a fault the scenario injected
	MarkChange MarkKind = "change" // the cluster changed: election, ISR, truncation
	MarkError  MarkKind = "error"  // a broker refused, a request timed out, a producer was fenced
	MarkTxn    MarkKind = "txn"    // a transaction's step: commit, abort, a marker written
)

// Mark is a point event on a lane (Lane -1: on the time axis).
type Mark struct {
	Lane  int      `json:"lane"`
	AtMs  float64  `json:"at_ms"`
	Kind  MarkKind `json:"kind"`
	Label string   `json:"label"`
}

// BadgeKind is a record anomaly.
type BadgeKind string

const (
	BadgeLost       BadgeKind = "lost"
	BadgeDuplicated BadgeKind = "duplicated"
	BadgeReordered  BadgeKind = "reordered"
	BadgeAmbiguous  BadgeKind = "ambiguous"
)

// Badge marks the records of one batch that ended in an anomaly, where
// the diagram shows them: a lost or reordered record at its append, a
// duplicate at the append of its second copy, an ambiguous one where the
// producer gave up.
//
// Where one lane has more than maxBadges of a kind, neighbouring badges
// merge into one that spans from AtMs to ToMs and batches Batch to
// LastBatch.
type Badge struct {
	Lane      int       `json:"lane"`
	AtMs      float64   `json:"at_ms"`
	ToMs      float64   `json:"to_ms"`
	Kind      BadgeKind `json:"kind"`
	Batch     int64     `json:"batch"`
	LastBatch int64     `json:"last_batch"`
	Count     int       `json:"count"` // records
}

// maxBadges is the most badges of one kind on one lane before they merge.
const maxBadges = 8

// Gap is a quiet stretch of the window, with nothing to draw, that the
// picture shortens.
type Gap struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
}

// SpaceTimeOptions chooses what the diagram shows; unset, the partition
// and window of the first anomaly, else the second before the first fatal
// producer error, else the first retry, else the second around the first
// fault.
type SpaceTimeOptions struct {
	Partition string         // "orders-0"
	From, To  *time.Duration // virtual time
}

// Thinning: past these counts in the window, arrows are sampled evenly (an
// arrow that carries an error, a retry, a badge or a cut is always kept)
// and the picture says so.
const (
	maxProduceArrows = 40
	maxFetchArrows   = 24
)

// SpaceTime extracts the diagram's data from the run.
func (r *Result) SpaceTime(opt SpaceTimeOptions) (*SpaceTime, error) {
	rn := r.run
	if !r.Trace.KeepsMessages() {
		return nil, errors.New("the run kept no messages to draw: run it with RunOptions.Messages")
	}
	p, from, to, why, err := rn.spaceTimeWindow(r.Report, opt)
	if err != nil {
		return nil, err
	}
	b := &stBuilder{r: rn, p: p, from: from, to: to, st: &SpaceTime{
		Scenario: r.Report.Scenario, Seed: r.Report.Seed, Partition: rn.cl.SubjectName(int32(p)),
		FromMs: from.Ms(), ToMs: to.Ms(), Why: why,
		Arrows: []Arrow{}, Steps: []Step{}, Bands: []Band{}, Marks: []Mark{}, Badges: []Badge{}, Gaps: []Gap{}, Notes: []string{},
	}}
	b.build()
	return b.st, nil
}

// spaceTimeWindow picks the partition and the window.
func (r *runner) spaceTimeWindow(rep *Report, opt SpaceTimeOptions) (broker.PartitionID, sim.Time, sim.Time, string, error) {
	p := broker.PartitionID(-1)
	if opt.Partition != "" {
		for i := range r.pl.dataPartitions() {
			if r.cl.SubjectName(int32(i)) == opt.Partition {
				p = broker.PartitionID(i)
			}
		}
		if p < 0 {
			return 0, 0, 0, "", fmt.Errorf("--partition: %s is not a partition of this scenario; it has %s to %s",
				opt.Partition, r.cl.SubjectName(0), r.cl.SubjectName(int32(r.pl.dataPartitions()-1)))
		}
	}
	var from, to sim.Time
	var why string
	if a := r.firstAnomaly(rep); a != nil && (p < 0 || r.cl.SubjectName(int32(p)) == a.Partition) {
		from, to = r.anomalySpan(a)
		if p < 0 {
			p = r.partitionByName(a.Partition)
		}
		why = fmt.Sprintf("the first anomaly: %s record %d", a.Kind, a.Record)
	} else if e := r.firstFatal(); e != nil {
		// A producer told it cannot go on (a zombie fenced, say): the
		// second before it, where its cause lies.
		from, to = max(0, e.At-sim.Second), e.At+100*sim.Millisecond
		if p < 0 {
			p = r.pl.topo.Topics[r.pl.topic].First
		}
		why = fmt.Sprintf("the second before the first fatal error: %s at %s", r.cl.ErrorName(e.Err), e.At)
	} else if e := r.firstRetry(p); e != nil {
		from, to = r.retrySpan(e)
		p = broker.PartitionID(e.Subject)
		why = fmt.Sprintf("the first retry: %s on %s at %s", r.cl.ErrorName(e.Err), r.cl.SubjectName(e.Subject), e.At)
	} else if f := r.firstFault(); f != nil {
		from, to = max(0, f.At-sim.Second), f.At+sim.Second
		if p < 0 {
			p = r.faultPartition(f)
		}
		why = "the second around the first fault, " + f.Kind.String() + " at " + f.At.String()
	} else {
		from, to = 0, sim.Second
		why = "the first second of the run"
	}
	if p < 0 {
		p = r.pl.topo.Topics[r.pl.topic].First
	}
	if opt.From != nil {
		from = sim.Time(*opt.From)
		why = "the window asked for"
	}
	if opt.To != nil {
		to = sim.Time(*opt.To)
		why = "the window asked for"
	}
	if to <= from {
		return 0, 0, 0, "", fmt.Errorf("--from %s is not before --to %s", from.Duration(), to.Duration())
	}
	return p, from, to, why, nil
}

func (r *runner) partitionByName(name string) broker.PartitionID {
	for i := range r.pl.dataPartitions() {
		if r.cl.SubjectName(int32(i)) == name {
			return broker.PartitionID(i)
		}
	}
	return -1
}

func (r *runner) firstAnomaly(rep *Report) *Anomaly {
	for i := range rep.Anomalies {
		if r.partitionByName(rep.Anomalies[i].Partition) >= 0 {
			return &rep.Anomalies[i]
		}
	}
	return nil
}

// anomalySpan is the window that shows an anomalous record's story: from
// its send (or a fault at most 200 ms before it) to its callback, the appends of
// its copies and the truncation of its offsets, with a margin.
func (r *runner) anomalySpan(a *Anomaly) (sim.Time, sim.Time) {
	rec, sent := &r.recs[a.Record], r.sentAt(a.Record)
	from, to := sent, max(r.doneAt(a.Record), sent)
	p := int32(r.partitionByName(a.Partition))
	offsets := append(slices.Clone(a.Offsets), int64(rec.offset))
	for _, e := range r.w.Trace.Entries() {
		if e.Subject != p || (e.Kind != event.Append && e.Kind != event.Truncate) {
			continue
		}
		for _, o := range offsets {
			if o >= 0 && e.First <= o && o <= e.Last && (e.Kind == event.Truncate || e.At >= sent) {
				to = max(to, e.At)
			}
		}
	}
	for _, e := range r.w.Trace.Entries() {
		if e.At > from {
			break
		}
		if e.Kind.Fault() && e.Kind != event.Heal && sent-e.At <= 200*sim.Millisecond {
			from = min(sent, e.At) // a fault just before it
		}
	}
	pad := min(max(5*sim.Millisecond, (to-from)/20), 50*sim.Millisecond)
	return max(0, from-pad), to + pad
}

// firstFatal is the first error that closed a producer (txn-fatal).
func (r *runner) firstFatal() *sim.Entry {
	entries := r.w.Trace.Entries()
	for i := range entries {
		if entries[i].Kind == event.TxnFatal {
			return &entries[i]
		}
	}
	return nil
}

// firstRetry is the producer's first retry of a batch (of partition p,
// when p is set).
func (r *runner) firstRetry(p broker.PartitionID) *sim.Entry {
	entries := r.w.Trace.Entries()
	for i := range entries {
		e := &entries[i]
		if e.Kind == event.Retry && (p < 0 || e.Subject == int32(p)) && int(e.Subject) < r.pl.dataPartitions() {
			return e
		}
	}
	return nil
}

// retrySpan is the window that shows a retry: from the fault just before
// it (or a little before the retry) to when every batch of the
// partition retried in the same burst was answered at last.
func (r *runner) retrySpan(first *sim.Entry) (sim.Time, sim.Time) {
	from, to := first.At-50*sim.Millisecond, first.At
	retried := map[int64]bool{}
	done := map[int64]bool{}
	for _, e := range r.w.Trace.Entries() {
		switch {
		case e.At <= first.At && e.Kind.Fault() && e.Kind != event.Heal && first.At-e.At <= 2*sim.Second:
			from = min(first.At-50*sim.Millisecond, e.At) // the latest fault before it
		case e.Kind == event.Retry && e.Subject == first.Subject && e.At-first.At <= 100*sim.Millisecond && e.At >= first.At:
			retried[e.Batch] = true
		case (e.Kind == event.Ack || e.Kind == event.Fail || e.Kind == event.Expire) && retried[e.Batch] && !done[e.Batch]:
			done[e.Batch] = true
			to = max(to, e.At)
		}
	}
	pad := min(max(5*sim.Millisecond, (to-from)/20), 50*sim.Millisecond)
	return max(0, from-pad), to + pad
}

func (r *runner) firstFault() *sim.Entry {
	for i, e := range r.w.Trace.Entries() {
		if e.Kind.Fault() && e.Kind != event.Heal {
			return &r.w.Trace.Entries()[i]
		}
	}
	return nil
}

// faultPartition is the first partition of the workload's topic that the
// fault's broker holds a replica of, or partition 0.
func (r *runner) faultPartition(f *sim.Entry) broker.PartitionID {
	t := &r.pl.topo.Topics[r.pl.topic]
	for i := range t.Partitions {
		if slices.Contains(r.pl.topo.Partitions[t.First+broker.PartitionID(i)].Replicas, f.Node) {
			return t.First + broker.PartitionID(i)
		}
	}
	return t.First
}

// stBuilder gathers the diagram from the trace.
type stBuilder struct {
	r        *runner
	p        broker.PartitionID
	from, to sim.Time
	st       *SpaceTime

	replicas   []sim.NodeID // the partition's replica brokers, lane order
	replicaAt  map[sim.NodeID]int
	connLane   map[[2]sim.NodeID]int // (producer, broker) -> lane
	app        int
	controller int // lane, or -1 until the controller acts

	anomalies *[]anomalyRec
}

type nodeReq struct {
	node sim.NodeID
	req  int64
}

type nodeAt struct {
	node sim.NodeID
	at   sim.Time
}

type batchAt struct {
	batch int64
	at    sim.Time
}

func (b *stBuilder) in(t sim.Time) bool { return t >= b.from && t <= b.to }

func (b *stBuilder) name(n sim.NodeID) string { return b.r.w.NodeName(n) }

func (b *stBuilder) build() {
	r, st := b.r, b.st
	b.replicas = r.pl.topo.Partitions[b.p].Replicas
	b.replicaAt = map[sim.NodeID]int{}
	b.connLane = map[[2]sim.NodeID]int{}
	b.controller = -1
	entries := r.w.Trace.Entries()
	pid := int32(b.p)

	// What the producer sent for the partition, and what it made of the
	// answers; what the replicas did; which messages a cut held or lost.
	sends := map[nodeReq]*sim.Entry{}
	outcome := map[batchAt]*sim.Entry{}
	copied := map[nodeAt]bool{}   // a follower replicated or truncated the partition
	proposed := map[nodeAt]bool{} // a leader proposed an ISR change for it
	held := map[int64]sim.Time{}
	dropped := map[int64]sim.Time{}
	conns := map[[2]sim.NodeID]bool{}
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Kind == event.Held && e.Ext != nil:
			if _, ok := held[e.Ext.Msg]; !ok {
				held[e.Ext.Msg] = e.At
			}
		case e.Kind == event.Drop && e.Ext != nil:
			dropped[e.Ext.Msg] = e.At
		case !b.in(e.At):
		case e.Kind == event.Send && e.Subject == pid && r.isProducer(e.Node):
			sends[nodeReq{e.Node, e.Req}] = e
			conns[[2]sim.NodeID{e.Node, e.Peer}] = true
		case (e.Kind == event.Ack || e.Kind == event.Retry || e.Kind == event.Fail || e.Kind == event.Split) && e.Subject == pid:
			outcome[batchAt{e.Batch, e.At}] = e
		case (e.Kind == event.Replicate || e.Kind == event.Truncate) && e.Subject == pid:
			copied[nodeAt{e.Node, e.At}] = true
		case (e.Kind == event.IsrShrink || e.Kind == event.IsrExpand) && e.Subject == pid:
			proposed[nodeAt{e.Node, e.At}] = true
		case e.Node == broker.ControllerID && e.Subject == pid && (e.Kind == event.Elect || e.Kind == event.Isr || e.Kind == event.Offline):
			b.controller = 0
		}
	}

	// Lanes: the application, the producer's connections, the replicas,
	// the controller when it acts.
	st.Lanes = append(st.Lanes, Lane{Kind: LaneApp, Name: "application / accumulator"})
	keys := make([][2]sim.NodeID, 0, len(conns))
	for k := range conns {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]sim.NodeID) int { return int(x[0]-y[0])*1000 + int(x[1]-y[1]) })
	for _, k := range keys {
		b.connLane[k] = len(st.Lanes)
		st.Lanes = append(st.Lanes, Lane{Kind: LaneConn, Name: b.name(k[0]) + " → " + b.name(k[1])})
	}
	for _, n := range b.replicas {
		b.replicaAt[n] = len(st.Lanes)
		st.Lanes = append(st.Lanes, Lane{Kind: LaneReplica, Name: b.name(n) + " " + st.Partition})
	}
	// The controller acts through AlterPartition too.
	msgs := r.w.Trace.Messages()
	for i := range msgs {
		m := &msgs[i]
		if m.Kind == event.MsgSend && b.in(m.At) && r.w.Trace.MessageName(m.Type) == "alter-partition" && proposed[nodeAt{m.From, m.At}] {
			b.controller = 0
			break
		}
	}
	if b.controller == 0 {
		b.controller = len(st.Lanes)
		st.Lanes = append(st.Lanes, Lane{Kind: LaneController, Name: "controller"})
	}

	b.arrows(msgs, sends, outcome, copied, proposed, held, dropped)
	b.done(entries)
	b.elections(entries)
	b.states(entries)
	b.marks(entries, sends)
	b.badges()
	b.gaps()
}

// arrows pairs requests and responses by their request id and keeps those
// about the partition.
func (b *stBuilder) arrows(msgs []sim.MsgEntry, sends map[nodeReq]*sim.Entry, outcome map[batchAt]*sim.Entry,
	copied, proposed map[nodeAt]bool, held, dropped map[int64]sim.Time) {
	r, st := b.r, b.st
	byID := map[int64]int{}        // message id -> arrow
	reqArrow := map[[3]int64]int{} // (client, server, req) -> request arrow
	var fetches []int
	for i := range msgs {
		m := &msgs[i]
		if m.Kind == event.MsgReceive {
			if a, ok := byID[m.ID]; ok {
				st.Arrows[a].EndMs, st.Arrows[a].End = m.At.Ms(), EndReceived
			}
			continue
		}
		if !b.in(m.At) {
			continue
		}
		a := Arrow{SentMs: m.At.Ms(), Pair: -1, Seq: -1, End: EndCut, EndMs: b.to.Ms()}
		var client, server sim.NodeID
		request := true
		switch r.w.Trace.MessageName(m.Type) {
		case "produce-request":
			s := sends[nodeReq{m.From, m.Req}]
			if s == nil {
				continue
			}
			a.Kind, a.From, a.To = ArrowProduce, b.connLane[[2]sim.NodeID{m.From, m.To}], b.replicaLane(m.To)
			a.Batch, a.Seq, a.Attempt = s.Batch, s.Seq, s.Attempt
			a.Label = batchLabel(s)
			client, server = m.From, m.To
		case "produce-response":
			s := sends[nodeReq{m.To, m.Req}]
			if s == nil {
				continue
			}
			a.Kind, a.From, a.To = ArrowProduceResponse, b.replicaLane(m.From), b.connLane[[2]sim.NodeID{m.To, m.From}]
			a.Batch, a.Seq, a.Attempt = s.Batch, s.Seq, s.Attempt
			client, server, request = m.To, m.From, false
		case "fetch-request":
			if b.replicaLane(m.From) < 0 || b.replicaLane(m.To) < 0 {
				continue
			}
			a.Kind, a.From, a.To, a.Label = ArrowFetch, b.replicaLane(m.From), b.replicaLane(m.To), "fetch"
			client, server = m.From, m.To
		case "fetch-response":
			if b.replicaLane(m.From) < 0 || b.replicaLane(m.To) < 0 {
				continue
			}
			a.Kind, a.From, a.To = ArrowFetchResponse, b.replicaLane(m.From), b.replicaLane(m.To)
			client, server, request = m.To, m.From, false
		case "alter-partition":
			if !proposed[nodeAt{m.From, m.At}] || b.controller < 0 {
				continue
			}
			a.Kind, a.From, a.To, a.Label = ArrowAlter, b.replicaLane(m.From), b.controller, "AlterPartition"
			client, server = m.From, m.To
		case "alter-partition-response":
			if b.controller < 0 || b.replicaLane(m.To) < 0 {
				continue
			}
			a.Kind, a.From, a.To = ArrowAlterResponse, b.controller, b.replicaLane(m.To)
			client, server, request = m.To, m.From, false
		default:
			continue
		}
		if a.From < 0 || a.To < 0 {
			continue
		}
		key := [3]int64{int64(client), int64(server), m.Req}
		if !request {
			q, ok := reqArrow[key]
			if !ok {
				continue // its request was sent before the window
			}
			a.Pair = q
		}
		if t, ok := held[m.ID]; ok {
			a.HeldMs = t.Ms()
		}
		if t, ok := dropped[m.ID]; ok {
			a.End, a.EndMs = EndDropped, t.Ms()
		}
		byID[m.ID] = len(st.Arrows)
		if request {
			reqArrow[key] = len(st.Arrows)
		}
		if a.Kind == ArrowFetch || a.Kind == ArrowFetchResponse {
			fetches = append(fetches, len(st.Arrows))
		}
		st.Arrows = append(st.Arrows, a)
	}
	// Responses: what the producer made of them; fetch responses: whether
	// they carried the partition.
	for i := range st.Arrows {
		a := &st.Arrows[i]
		if a.Kind == ArrowProduceResponse && a.End == EndReceived {
			at := sim.Time(math.Round(a.EndMs * 1e6))
			if o := outcome[batchAt{a.Batch, at}]; o != nil {
				a.Label, a.Error = outcomeLabel(o, r.cl), o.Err != 0
			}
		}
		if a.Kind == ArrowAlterResponse {
			a.Label = "ISR changed"
		}
	}
	keep := make([]bool, len(st.Arrows))
	for i := range keep {
		keep[i] = true
	}
	for _, i := range fetches {
		a := &st.Arrows[i]
		if a.Kind != ArrowFetchResponse {
			continue
		}
		at := sim.Time(math.Round(a.EndMs * 1e6))
		carried := a.End == EndReceived && copied[nodeAt{b.replicas[a.To-b.replicaAt[b.replicas[0]]], at}]
		if carried {
			a.Label = "records"
		}
		q := &st.Arrows[a.Pair]
		if !carried && a.End == EndReceived && a.HeldMs == 0 && q.HeldMs == 0 && q.End == EndReceived {
			keep[i], keep[a.Pair] = false, false // an empty long poll: nothing for this partition
		}
	}
	// A fetch request whose answer never came is kept: the cut is the point.
	b.thin(keep, ArrowProduce, maxProduceArrows, "produce requests")
	b.thin(keep, ArrowFetch, maxFetchArrows, "fetches that carried records")
	b.compact(keep)
}

// done sets when the producer stopped waiting for each produce request.
func (b *stBuilder) done(entries []sim.Entry) {
	st := b.st
	for _, a := range st.Arrows {
		if a.Kind == ArrowProduceResponse && a.Pair >= 0 && a.End == EndReceived {
			st.Arrows[a.Pair].DoneMs = a.EndMs
		}
	}
	conn := map[int][2]sim.NodeID{}
	for k, l := range b.connLane {
		conn[l] = k
	}
	for i := range entries {
		e := &entries[i]
		if !b.in(e.At) || (e.Kind != event.RequestTimeout && e.Kind != event.Disconnect) || !b.r.isProducer(e.Node) {
			continue
		}
		for j := range st.Arrows {
			a := &st.Arrows[j]
			// A timeout ends its own request (and closes the connection:
			// the disconnect that follows ends the rest).
			if a.Kind == ArrowProduce && a.DoneMs == 0 && a.SentMs <= e.At.Ms() && conn[a.From] == [2]sim.NodeID{e.Node, e.Peer} {
				a.DoneMs = e.At.Ms()
			}
		}
	}
}

// thin keeps about max requests of a kind (and their responses), evenly
// spread, plus every one that stands out, and notes what it left out.
func (b *stBuilder) thin(keep []bool, kind ArrowKind, limit int, what string) {
	st := b.st
	var idx []int
	special := map[int]bool{}
	for i, a := range st.Arrows {
		if a.Kind == kind && keep[i] {
			idx = append(idx, i)
			if a.Attempt > 1 || a.HeldMs > 0 || a.End != EndReceived {
				special[i] = true
			}
		}
		if a.Pair >= 0 && (a.Error || a.HeldMs > 0 || a.End != EndReceived) {
			special[a.Pair] = true
		}
	}
	if len(idx) <= limit {
		return
	}
	every := (len(idx) + limit - 1) / limit
	dropped := 0
	for n, i := range idx {
		if n%every != 0 && !special[i] {
			keep[i] = false
			dropped++
		}
	}
	for i, a := range st.Arrows {
		if a.Pair >= 0 && !keep[a.Pair] {
			keep[i] = false
		}
	}
	st.Notes = append(st.Notes, fmt.Sprintf("%d of %d %s drawn (1 in %d, and every retry, error or cut)", len(idx)-dropped, len(idx), what, every))
}

// compact removes the arrows not kept, renumbering pairs.
func (b *stBuilder) compact(keep []bool) {
	st := b.st
	at := make([]int, len(st.Arrows))
	out := st.Arrows[:0]
	for i, a := range st.Arrows {
		at[i] = -1
		if !keep[i] {
			continue
		}
		if a.Pair >= 0 {
			a.Pair = at[a.Pair]
		}
		at[i] = len(out)
		out = append(out, a)
	}
	st.Arrows = out
}

func (b *stBuilder) replicaLane(n sim.NodeID) int {
	if l, ok := b.replicaAt[n]; ok {
		return l
	}
	return -1
}

func batchLabel(s *sim.Entry) string {
	l := fmt.Sprintf("b%d", s.Batch)
	if s.Seq >= 0 {
		l += fmt.Sprintf(" seq %d", s.Seq)
	}
	if s.Attempt > 1 {
		l += fmt.Sprintf(" try %d", s.Attempt)
	}
	return l
}

func outcomeLabel(o *sim.Entry, n event.Namer) string {
	switch o.Kind {
	case event.Ack:
		return fmt.Sprintf("ack @%d", o.First)
	case event.Retry:
		return n.ErrorName(o.Err) + ": retry"
	case event.Split:
		return "MESSAGE_TOO_LARGE: split"
	}
	return n.ErrorName(o.Err) + ": failed"
}

// elections draws the controller's elections as arrows to the replica that
// becomes leader, ending where it learns it (become-leader).
func (b *stBuilder) elections(entries []sim.Entry) {
	if b.controller < 0 {
		return
	}
	pid := int32(b.p)
	for i := range entries {
		e := &entries[i]
		if e.Kind != event.Elect || e.Subject != pid || !b.in(e.At) || b.replicaLane(e.Peer) < 0 {
			continue
		}
		a := Arrow{Kind: ArrowElection, From: b.controller, To: b.replicaLane(e.Peer), SentMs: e.At.Ms(), End: EndCut, EndMs: b.to.Ms(),
			Pair: -1, Seq: -1, Label: fmt.Sprintf("elect %s, epoch %d", b.name(e.Peer), e.Epoch)}
		if e.Has(event.Unclean) {
			a.Label = "unclean " + a.Label
		}
		for j := i; j < len(entries); j++ {
			f := &entries[j]
			if f.Kind == event.BecomeLeader && f.Subject == pid && f.Node == e.Peer {
				a.EndMs, a.End = f.At.Ms(), EndReceived
				break
			}
		}
		b.st.Arrows = append(b.st.Arrows, a)
	}
}

// states follows each replica's log end offset, the leader's high
// watermark, the ISR, leadership, and when each broker was down or cut
// off. The high watermark is derived as the leader computes it, the
// smallest log end offset in the ISR (Partition.maybeIncrementLeaderHW),
// with the followers' ends as the trace has them: the leader learns a
// follower's end at its next fetch, so the real one moves a fetch later.
func (b *stBuilder) states(entries []sim.Entry) {
	st, pid := b.st, int32(b.p)
	n := len(b.replicas)
	leo := make([]int64, n)
	isr := make([]bool, n)
	for i := range isr {
		isr[i] = true // every replica starts in the ISR
	}
	leader := -1
	down, cut := make([]sim.Time, n), make([]sim.Time, n)
	isrFrom, leadFrom := make([]sim.Time, n), sim.Time(0)
	for i := range down {
		down[i], cut[i] = -1, -1
	}
	leoSteps := make([]Step, n)
	for i := range leoSteps {
		leoSteps[i] = Step{Lane: b.replicaAt[b.replicas[i]], Line: "log-end-offset", Points: []StepPoint{}}
	}
	hw := Step{Lane: -1, Line: "high-watermark", Points: []StepPoint{}}
	var hwSteps []Step
	lastHW := int64(-1)
	idx := func(node sim.NodeID) int { return slices.Index(b.replicas, node) }
	clip := func(t sim.Time) float64 { return min(max(t, b.from), b.to).Ms() }
	band := func(i int, k BandKind, from, to sim.Time) {
		if to >= b.from && from <= b.to && to > from {
			st.Bands = append(st.Bands, Band{Lane: b.replicaAt[b.replicas[i]], Kind: k, FromMs: clip(from), ToMs: clip(to)})
		}
	}
	point := func(s *Step, t sim.Time, v int64) {
		at := clip(t)
		if k := len(s.Points); k > 0 && s.Points[k-1].AtMs == at {
			s.Points[k-1].Offset = v
			return
		}
		if k := len(s.Points); k > 0 && s.Points[k-1].Offset == v {
			return
		}
		s.Points = append(s.Points, StepPoint{AtMs: at, Offset: v})
	}
	updateHW := func(t sim.Time) {
		if leader < 0 || t > b.to {
			return
		}
		v := int64(math.MaxInt64)
		for i := range leo {
			if isr[i] {
				v = min(v, leo[i])
			}
		}
		if v == math.MaxInt64 || v == lastHW {
			return
		}
		lastHW = v
		point(&hw, t, v)
	}
	for i := range entries {
		e := &entries[i]
		if e.At > b.to {
			break
		}
		r := idx(e.Node)
		switch {
		case e.Node == broker.ControllerID && e.Subject == pid && (e.Kind == event.Elect || e.Kind == event.Isr || e.Kind == event.Offline):
			list := e.Ext.List
			if e.Kind == event.Offline && e.Has(event.FromElr) {
				list = list[:e.Count]
			}
			for j, node := range b.replicas {
				in := slices.Contains(list, int32(node))
				if isr[j] && !in {
					band(j, BandISR, isrFrom[j], e.At)
				} else if !isr[j] && in {
					isrFrom[j] = e.At
				}
				isr[j] = in
			}
			updateHW(e.At)
		case r < 0:
		case e.Subject == pid && e.Kind == event.BecomeLeader:
			if leader >= 0 && leader != r {
				band(leader, BandLeader, leadFrom, e.At)
			}
			if leader != r {
				leader, leadFrom, lastHW = r, e.At, -1
				if len(hw.Points) > 0 && hw.Lane >= 0 {
					hwSteps = append(hwSteps, hw)
				}
				hw = Step{Lane: b.replicaAt[b.replicas[r]], Line: "high-watermark", Points: []StepPoint{}}
			}
			leo[r] = e.Last
			point(&leoSteps[r], e.At, leo[r])
			point(&hw, e.At, e.First)
			lastHW = e.First
		case e.Subject == pid && e.Kind == event.BecomeFollower:
			if leader == r {
				band(leader, BandLeader, leadFrom, e.At)
				leader = -1
			}
			leo[r] = e.Last
			point(&leoSteps[r], e.At, leo[r])
		case e.Subject == pid && (e.Kind == event.Append || e.Kind == event.Replicate || e.Kind == event.Marker):
			end := e.Last + 1
			if e.Kind == event.Marker {
				end = e.First + 1
			}
			leo[r] = max(leo[r], end)
			point(&leoSteps[r], e.At, leo[r])
			updateHW(e.At)
		case e.Subject == pid && e.Kind == event.Truncate:
			leo[r] = e.First
			point(&leoSteps[r], e.At, leo[r])
		case e.Kind == event.Crash || e.Kind == event.Pause || e.Kind == event.Stop:
			if down[r] < 0 {
				down[r] = e.At
			}
			if leader == r {
				band(leader, BandLeader, leadFrom, e.At)
				leader = -1
			}
		case e.Kind == event.Restart || e.Kind == event.Resume:
			if down[r] >= 0 {
				band(r, BandDown, down[r], e.At)
				down[r] = -1
			}
		case e.Kind == event.Isolate:
			if cut[r] < 0 {
				cut[r] = e.At
			}
		case e.Kind == event.IsolateEnd:
			if cut[r] >= 0 {
				band(r, BandCut, cut[r], e.At)
				cut[r] = -1
			}
		}
	}
	for j := range b.replicas {
		if isr[j] {
			band(j, BandISR, isrFrom[j], b.to)
		}
		if down[j] >= 0 {
			band(j, BandDown, down[j], b.to)
		}
		if cut[j] >= 0 {
			band(j, BandCut, cut[j], b.to)
		}
	}
	if leader >= 0 {
		band(leader, BandLeader, leadFrom, b.to)
	}
	// Each line starts with its value when the window opens.
	for i := range leoSteps {
		if len(leoSteps[i].Points) == 0 || leoSteps[i].Points[0].AtMs > b.from.Ms() {
			leoSteps[i].Points = append([]StepPoint{{AtMs: b.from.Ms(), Offset: b.leoBefore(entries, b.replicas[i])}}, leoSteps[i].Points...)
		}
		st.Steps = append(st.Steps, leoSteps[i])
	}
	if len(hw.Points) > 0 && hw.Lane >= 0 {
		hwSteps = append(hwSteps, hw)
	}
	for _, s := range hwSteps {
		st.Steps = append(st.Steps, trimSteps(s, b.from.Ms()))
	}
}

// leoBefore is a replica's log end offset when the window opens.
func (b *stBuilder) leoBefore(entries []sim.Entry, node sim.NodeID) int64 {
	v, pid := int64(0), int32(b.p)
	for i := range entries {
		e := &entries[i]
		if e.At > b.from {
			break
		}
		if e.Node != node || e.Subject != pid {
			continue
		}
		switch e.Kind {
		case event.Append, event.Replicate:
			v = max(v, e.Last+1)
		case event.Marker:
			v = max(v, e.First+1)
		case event.Truncate:
			v = e.First
		case event.BecomeLeader, event.BecomeFollower:
			v = e.Last
		}
	}
	return v
}

// trimSteps keeps the points from the window's start on, the one before it
// moved to the start.
func trimSteps(s Step, from float64) Step {
	k := 0
	for k+1 < len(s.Points) && s.Points[k+1].AtMs <= from {
		k++
	}
	s.Points = s.Points[k:]
	if len(s.Points) > 0 && s.Points[0].AtMs < from {
		s.Points[0].AtMs = from
	}
	return s
}

// marks places the faults, the cluster's changes, the errors and the
// transactions' steps.
func (b *stBuilder) marks(entries []sim.Entry, sends map[nodeReq]*sim.Entry) {
	r, st, pid := b.r, b.st, int32(b.p)
	disconnected := map[int]bool{}
	add := func(lane int, e *sim.Entry, k MarkKind, label string) {
		st.Marks = append(st.Marks, Mark{Lane: lane, AtMs: e.At.Ms(), Kind: k, Label: label})
	}
	for i := range entries {
		e := &entries[i]
		if !b.in(e.At) {
			continue
		}
		lane := b.replicaLane(e.Node)
		switch {
		case e.Kind == event.ConnReset:
			// A reject cut or TCP giving up breaks a producer's connection:
			// what the broker still owed on it is never sent.
			for _, k := range [][2]sim.NodeID{{e.Node, e.Peer}, {e.Peer, e.Node}} {
				if l, ok := b.connLane[k]; ok {
					add(l, e, MarkError, "connection reset")
				}
			}
		case e.Kind.Fault():
			label := e.Kind.String()
			if lane < 0 && e.Node != r.id {
				label += " " + b.name(e.Node)
			}
			if lane < 0 && r.isProducer(e.Node) || e.Node == r.id && e.Kind != event.Heal {
				lane = b.app
			}
			add(lane, e, MarkFault, label)
		case e.Node == broker.ControllerID && e.Subject == pid && b.controller >= 0:
			switch e.Kind {
			case event.Isr:
				add(b.controller, e, MarkChange, "ISR "+nodes(e.Ext.List))
			case event.Offline:
				add(b.controller, e, MarkError, "offline: no leader")
			}
		case e.Node == broker.ControllerID && e.Kind == event.Fence && b.controller >= 0 && b.replicaLane(e.Peer) >= 0:
			add(b.controller, e, MarkChange, "fence "+b.name(e.Peer))
		case lane >= 0 && e.Subject == pid:
			switch e.Kind {
			case event.Truncate:
				add(lane, e, MarkError, fmt.Sprintf("truncate %d-%d", e.First, e.Last))
			case event.Duplicate:
				add(lane, e, MarkChange, fmt.Sprintf("b%d seq %d: duplicate, not appended", e.Batch, e.Seq))
			case event.Reject:
				add(lane, e, MarkError, fmt.Sprintf("b%d %s", e.Batch, r.cl.ErrorName(e.Err)))
			case event.Marker:
				add(lane, e, MarkTxn, fmt.Sprintf("%s marker @%d", strings.ToLower(e.Ext.Label), e.First))
			case event.BecomeLeader:
				add(lane, e, MarkChange, fmt.Sprintf("leader, epoch %d", e.Epoch))
			case event.ResponseDropped:
				add(lane, e, MarkError, fmt.Sprintf("b%d: answer lost", e.Batch))
			case event.RuleAnswer:
				add(lane, e, MarkFault, fmt.Sprintf("b%d: request-rule %s", e.Batch, ruleWhat(e, r.cl)))
			case event.TxnVerifyRefused:
				add(lane, e, MarkError, "refused: "+r.cl.ErrorName(e.Err))
			}
		case r.isProducer(e.Node):
			conn := b.connLane[[2]sim.NodeID{e.Node, e.Peer}]
			switch e.Kind {
			case event.RequestTimeout:
				if _, ok := sends[nodeReq{e.Node, e.Req}]; ok && conn > 0 {
					add(conn, e, MarkError, "request.timeout.ms")
				}
			case event.Disconnect:
				// The first one says it; a reconnect loop's repeats would hide the picture.
				if conn > 0 && !disconnected[conn] {
					disconnected[conn] = true
					add(conn, e, MarkError, "disconnected")
				}
			case event.Fail, event.Expire:
				if e.Subject == pid {
					add(b.app, e, MarkError, fmt.Sprintf("b%d %s", e.Batch, failLabel(e, r.cl)))
				}
			case event.TxnCommit, event.TxnAbort, event.TxnEnd:
				add(b.app, e, MarkTxn, b.name(e.Node)+" "+txnLabel(e))
			case event.TxnFatal, event.ProducerFatal, event.TxnAbortable:
				add(b.app, e, MarkError, b.name(e.Node)+" "+e.Kind.String()+": "+r.cl.ErrorName(e.Err))
			case event.EpochBump, event.InitProducerID:
				add(b.app, e, MarkChange, fmt.Sprintf("%s producer id %d epoch %d", b.name(e.Node), e.ProducerID, e.ProducerEpoch))
			}
		case e.Node == r.id && (e.Kind == event.AppAbort || e.Kind == event.AppClose || e.Kind == event.AppRetry || e.Kind == event.Resend):
			add(b.app, e, MarkTxn, e.Kind.String())
		}
	}
}

func ruleWhat(e *sim.Entry, n event.Namer) string {
	if e.Has(event.AnswerLost) {
		return "loses the answer"
	}
	return n.ErrorName(e.Err)
}

func failLabel(e *sim.Entry, n event.Namer) string {
	if e.Kind == event.Expire {
		return "delivery.timeout.ms"
	}
	return n.ErrorName(e.Err)
}

func txnLabel(e *sim.Entry) string {
	switch e.Kind {
	case event.TxnCommit:
		return "commitTransaction()"
	case event.TxnAbort:
		return "abortTransaction()"
	}
	if e.Has(event.Committed) {
		return "EndTxn: committed"
	}
	return "EndTxn: aborted"
}

func nodes(list []int32) string {
	parts := make([]string, len(list))
	for i, n := range list {
		parts[i] = fmt.Sprint(n)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// anomalyRec is one anomalous record copy: the record, the batch its copy
// sits in (the batch it was last sent in, for a lost one) and the offset.
type anomalyRec struct {
	kind   BadgeKind
	record broker.RecordID
	batch  int64
	offset int64
}

// anomalous lists the partition's anomalous records, read from the final
// logs as the order chart reads them (chartLogs) and from the ledger.
func (b *stBuilder) anomalous() []anomalyRec {
	if b.anomalies != nil {
		return *b.anomalies
	}
	r, name := b.r, b.st.Partition
	c := &Charts{}
	r.chartLogs(c)
	copies := make([]int, len(r.recs))
	var out []anomalyRec
	log := r.finalLog(b.p)
	refAt := func(o int64) int64 {
		for _, lb := range log.Batches() {
			if lb.BaseOffset <= o && o <= lb.LastOffset() {
				return lb.Ref
			}
		}
		return 0
	}
	for _, os := range c.Order {
		for _, pt := range os.Points {
			if pt.Aborted {
				continue
			}
			copies[pt.Record]++
			if os.Partition != name {
				continue
			}
			switch {
			case pt.Copy > 1:
				out = append(out, anomalyRec{BadgeDuplicated, broker.RecordID(pt.Record), refAt(pt.Offset), pt.Offset})
			case pt.Reorder:
				out = append(out, anomalyRec{BadgeReordered, broker.RecordID(pt.Record), refAt(pt.Offset), pt.Offset})
			}
			if rec := &r.recs[pt.Record]; pt.Copy == 1 && rec.status != statusAcked {
				out = append(out, anomalyRec{BadgeAmbiguous, broker.RecordID(pt.Record), int64(rec.batch), pt.Offset})
			}
		}
	}
	for id := 1; id < len(r.recs); id++ {
		rec := &r.recs[id]
		if rec.status == statusAcked && copies[id] == 0 && broker.PartitionID(r.partitionOf(broker.RecordID(id))) == b.p {
			out = append(out, anomalyRec{BadgeLost, broker.RecordID(id), int64(rec.batch), int64(rec.offset)})
		}
	}
	b.anomalies = &out
	return out
}

// badges places one badge per batch and kind: at the append of the copy
// (a lost record: the append it was acknowledged for), or, for an
// ambiguous record, where the producer gave up on it.
func (b *stBuilder) badges() {
	type key struct {
		kind  BadgeKind
		batch int64
	}
	count := map[key]int{}
	offset := map[key]int64{}
	var order []key
	for _, a := range b.anomalous() {
		k := key{a.kind, a.batch}
		if count[k] == 0 {
			order = append(order, k)
			offset[k] = a.offset
		}
		count[k]++
	}
	entries := b.r.w.Trace.Entries()
	pid := int32(b.p)
	for _, k := range order {
		var at *sim.Entry
		for i := range entries {
			e := &entries[i]
			if e.Batch != k.batch || e.Subject != pid {
				continue
			}
			if k.kind == BadgeAmbiguous && (e.Kind == event.Fail || e.Kind == event.Expire) && b.r.isProducer(e.Node) ||
				k.kind != BadgeAmbiguous && e.Kind == event.Append && e.First <= offset[k] && offset[k] <= e.Last {
				at = e
			}
			if k.kind == BadgeLost && e.Kind == event.Append {
				at = e
			}
		}
		if at == nil || !b.in(at.At) {
			continue
		}
		lane := b.replicaLane(at.Node)
		if lane < 0 {
			lane = b.app
		}
		b.st.Badges = append(b.st.Badges, Badge{Lane: lane, AtMs: at.At.Ms(), ToMs: at.At.Ms(), Kind: k.kind,
			Batch: k.batch, LastBatch: k.batch, Count: count[k]})
	}
	slices.SortStableFunc(b.st.Badges, func(x, y Badge) int { return cmp.Compare(x.AtMs, y.AtMs) })
	b.st.Badges = mergeBadges(b.st.Badges)
}

// mergeBadges merges runs of neighbouring badges of a kind on a lane so
// that each lane keeps at most maxBadges of each kind.
func mergeBadges(in []Badge) []Badge {
	type key struct {
		lane int
		kind BadgeKind
	}
	n := map[key]int{}
	for _, g := range in {
		n[key{g.Lane, g.Kind}]++
	}
	out := []Badge{}
	open := map[key]int{} // the index in out of the badge being merged into
	seen := map[key]int{}
	for _, g := range in {
		k := key{g.Lane, g.Kind}
		per := (n[k] + maxBadges - 1) / maxBadges
		if i, ok := open[k]; ok && seen[k]%per != 0 {
			m := &out[i]
			m.ToMs, m.LastBatch, m.Count = g.ToMs, g.LastBatch, m.Count+g.Count
		} else {
			open[k] = len(out)
			out = append(out, g)
		}
		seen[k]++
	}
	return out
}

// gaps finds the quiet stretches: longer than 100 ms and a hundredth of
// the window, with nothing drawn in them.
func (b *stBuilder) gaps() {
	st := b.st
	times := []float64{st.FromMs, st.ToMs}
	for _, a := range st.Arrows {
		times = append(times, a.SentMs, a.EndMs)
		if a.HeldMs > 0 {
			times = append(times, a.HeldMs)
		}
	}
	for _, m := range st.Marks {
		times = append(times, m.AtMs)
	}
	for _, g := range st.Badges {
		times = append(times, g.AtMs)
	}
	for _, s := range st.Steps {
		for _, p := range s.Points {
			times = append(times, p.AtMs)
		}
	}
	for i, t := range times {
		times[i] = min(max(t, st.FromMs), st.ToMs) // a response can arrive after the window
	}
	slices.Sort(times)
	span := st.ToMs - st.FromMs
	for i := 1; i < len(times); i++ {
		if d := times[i] - times[i-1]; d > span/100 && d > 100 {
			pad := min(d/10, 20) // a little room around what is drawn
			st.Gaps = append(st.Gaps, Gap{FromMs: times[i-1] + pad, ToMs: times[i] - pad})
		}
	}
}
