package scenarios

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// explainer builds each anomaly's causal chain from the trace.
type explainer struct {
	r         *runner
	entries   []sim.Entry
	byBatch   map[int64][]int32 // looked up by batch id, never iterated
	bySubject [][]int32         // events about a partition
	byNode    [][]int32         // node-level events (crash, isolate, ...)
}

func newExplainer(r *runner) *explainer {
	x := &explainer{r: r, entries: r.w.Trace.Entries(), byBatch: map[int64][]int32{}}
	x.bySubject = make([][]int32, len(r.pl.topo.Partitions))
	x.byNode = make([][]int32, r.w.NumNodes())
	for i := range x.entries {
		e := &x.entries[i]
		if e.Kind == event.Split {
			// A split starts the history of each batch it made.
			for piece := e.First; piece <= e.Last; piece++ {
				x.byBatch[piece] = append(x.byBatch[piece], int32(i))
			}
		}
		switch {
		case e.Batch > 0:
			x.byBatch[e.Batch] = append(x.byBatch[e.Batch], int32(i))
			if e.Subject >= 0 {
				x.bySubject[e.Subject] = append(x.bySubject[e.Subject], int32(i))
			}
		case e.Subject >= 0:
			x.bySubject[e.Subject] = append(x.bySubject[e.Subject], int32(i))
		default:
			x.byNode[e.Node] = append(x.byNode[e.Node], int32(i))
		}
	}
	return x
}

func (x *explainer) name(n sim.NodeID) string { return x.r.w.NodeName(n) }

// find returns the last entry of list matching ok, or nil.
func (x *explainer) findLast(list []int32, ok func(*sim.Entry) bool) *sim.Entry {
	for i := len(list) - 1; i >= 0; i-- {
		if e := &x.entries[list[i]]; ok(e) {
			return e
		}
	}
	return nil
}

// findFirst returns the first entry of list matching ok, or nil.
func (x *explainer) findFirst(list []int32, ok func(*sim.Entry) bool) *sim.Entry {
	for _, i := range list {
		if e := &x.entries[i]; ok(e) {
			return e
		}
	}
	return nil
}

func covers(e *sim.Entry, o int64) bool { return e.First <= o && o <= e.Last }

func offsets(e *sim.Entry) string {
	if e.First == e.Last {
		return "offset " + strconv.FormatInt(e.First, 10)
	}
	return "offsets " + strconv.FormatInt(e.First, 10) + "-" + strconv.FormatInt(e.Last, 10)
}

func (x *explainer) key(id broker.RecordID) *string {
	if k := x.r.recs[id].key; k >= 0 {
		s := "key-" + strconv.Itoa(int(k))
		return &s
	}
	return nil
}

// appendOf finds the append that put batch ref at offset o of partition p.
func (x *explainer) appendOf(ref int64, p int32, o int64) *sim.Entry {
	return x.findLast(x.byBatch[ref], func(e *sim.Entry) bool {
		return e.Kind == event.Append && e.Subject == p && covers(e, o)
	})
}

// batchAt is the producer batch that wrote offset o of a partition's final log.
func (x *explainer) batchAt(p broker.PartitionID, o int64) int64 {
	log := x.r.finalLog(p)
	return log.Batches()[log.BatchIndex(o)].Ref
}

// partitionOf is where a record is: the partition its last callback named
// if that partition's final log holds it, else the first partition whose
// log does (a record another instance re-sent may have landed elsewhere,
// or been written by an instance whose callbacks no longer count), else
// the callback's partition.
func (x *explainer) partitionOf(id broker.RecordID) broker.PartitionID {
	named := x.r.partitionOf(id)
	if named >= 0 && len(x.offsetsOf(broker.PartitionID(named), id)) > 0 {
		return broker.PartitionID(named)
	}
	for p := range x.r.pl.dataPartitions() {
		if len(x.offsetsOf(broker.PartitionID(p), id)) > 0 {
			return broker.PartitionID(p)
		}
	}
	return broker.PartitionID(max(named, 0))
}

// offsetsOf lists every offset holding a record in the final log.
func (x *explainer) offsetsOf(p broker.PartitionID, id broker.RecordID) []int64 {
	log := x.r.finalLog(p)
	var out []int64
	for o := int64(0); o < log.HW(); o++ {
		if log.Record(o) == id {
			out = append(out, o)
		}
	}
	return out
}

// anomaly starts an anomaly entry for a record.
func (x *explainer) anomaly(kind string, id broker.RecordID, offsets []int64) Anomaly {
	p := x.partitionOf(id)
	return Anomaly{Kind: kind, Record: id, Key: x.key(id), Partition: x.r.pl.topo.Name(p), Offsets: offsets}
}

func (x *explainer) acks() string {
	return x.r.pl.producerCfg.Effective()["acks"]
}

func (x *explainer) idempotent() bool { return x.r.pl.producerCfg.EnableIdempotence }

// lost explains an acknowledged record missing from the final log.
func (x *explainer) lost(id broker.RecordID) Anomaly {
	rec, done := &x.r.recs[id], x.r.doneAt(id)
	p := x.partitionOf(id)
	a := x.anomaly("lost", id, []int64{})
	var parts []string
	ack := "acknowledged at " + done.String() + " (acks=" + x.acks()
	if rec.offset >= 0 {
		ack += ", offset " + strconv.FormatInt(int64(rec.offset), 10)
		a.Offsets = append(a.Offsets, int64(rec.offset))
	}
	parts = append(parts, ack+")")

	app := x.findLast(x.byBatch[int64(rec.batch)], func(e *sim.Entry) bool {
		return e.Kind == event.Append && e.At <= done && (rec.offset < 0 || covers(e, int64(rec.offset)))
	})
	if x.acks() == "0" {
		// Also appends after the "ack": with acks=0 the ack comes first.
		app = x.findFirst(x.byBatch[int64(rec.batch)], func(e *sim.Entry) bool { return e.Kind == event.Append })
	}
	if app == nil {
		send := x.findLast(x.byBatch[int64(rec.batch)], func(e *sim.Entry) bool { return e.Kind == event.Send })
		if send != nil {
			s := "the request went to " + x.name(send.Peer) + " at " + send.At.String() + " but no broker ever appended it"
			if down := x.nodeEvent(send.Peer, send.At-sim.Second, send.At+sim.Second, event.Crash, event.Pause, event.Isolate); down != nil {
				s += " (" + x.name(send.Peer) + " " + pastTense(down.Kind) + " at " + down.At.String() + ")"
			}
			if x.acks() == "0" {
				s += "; with acks=0 the producer counts a record as acknowledged once it is written to the socket"
			}
			if lie := x.findLast(x.byBatch[int64(rec.batch)], func(e *sim.Entry) bool {
				return e.Kind == event.Reject && e.Has(event.Injected) && broker.Error(e.Err) == broker.ErrDuplicateSequenceNumber
			}); lie != nil {
				s += "; a request rule made " + x.name(lie.Node) + " answer DUPLICATE_SEQUENCE_NUMBER at " + lie.At.String() +
					", which the producer takes for a batch already written (Sender.completeBatch)"
			}
			parts = append(parts, s)
		}
		a.Explanation = strings.Join(parts, "; ")
		return a
	}
	leader := app.Node
	appended := x.name(leader) + " appended it (batch " + strconv.FormatInt(app.Batch, 10) + ", " + offsets(app) +
		", leader epoch " + strconv.Itoa(int(app.Epoch)) + ") at " + app.At.String()
	if x.acks() == "0" {
		// acks=0: the "ack" came first, when the request left.
		parts[0] = "acknowledged at " + done.String() + " when the request was written to the socket (acks=0); " + appended
	} else {
		parts[0] = appended + "; " + parts[0]
	}

	if s := x.isrAtAck(p, done); s != "" {
		parts = append(parts, s)
	}

	// Did any follower copy it?
	var fetched []string
	for _, i := range x.bySubject[p] {
		e := &x.entries[i]
		if e.Kind == event.Replicate && e.At >= app.At && e.Peer == leader && e.First <= app.Last && app.First <= e.Last {
			fetched = append(fetched, x.name(e.Node))
		}
	}
	if len(fetched) == 0 {
		parts = append(parts, "no follower fetched it")
	} else {
		parts = append(parts, strings.Join(dedupe(fetched), " and ")+" fetched it but later lost it too")
	}
	if down := x.nodeEvent(leader, app.At-10*sim.Second, sim.Never, event.Isolate, event.Pause, event.Shutdown); down != nil && down.At <= app.At {
		parts = append(parts, x.name(leader)+" "+pastTense(down.Kind)+" at "+down.At.String()+" ("+event.Detail(&down.Fields, x.r.cl)+")")
	}
	if down := x.nodeEvent(leader, app.At, sim.Never, event.Crash, event.Pause, event.Isolate, event.Shutdown); down != nil {
		parts = append(parts, x.name(leader)+" "+pastTense(down.Kind)+" at "+down.At.String())
	}
	// The election that ended the appending broker's leadership: after the
	// append, or before it when the broker had not yet learned of it and
	// still acted as leader in its old epoch (a stale leader: the
	// controller's decision reaches brokers by metadata, KIP-631).
	elect := x.findFirst(x.bySubject[p], func(e *sim.Entry) bool {
		return e.Kind == event.Elect && e.Peer != leader && (e.At >= app.At || e.Epoch > app.Epoch)
	})
	if elect != nil {
		s := " leader in epoch " + strconv.Itoa(int(elect.Epoch)) + " at " + elect.At.String()
		switch {
		case elect.Has(event.LastKnownLeader):
			s += " as the last known leader (the ISR and the eligible leader replicas were empty)"
		case elect.Has(event.Unclean):
			s += " by unclean election (it was not in the ISR)"
		case elect.Has(event.FromElr):
			// KIP-966: an ELR member holds every record below the high
			// watermark, which stops while the ISR is below
			// min.insync.replicas; what it lacks was never committed.
			s += " (clean election from the eligible leader replicas: it holds every committed record; records only the old leader had were never committed)"
		default:
			s += " (clean election from the ISR)"
		}
		if bl := x.findFirst(x.bySubject[p], func(e *sim.Entry) bool {
			return e.Kind == event.BecomeLeader && e.Node == elect.Peer && e.Epoch == elect.Epoch
		}); bl != nil {
			s += " with log end offset " + strconv.FormatInt(bl.Last, 10)
		}
		if elect.At < app.At {
			s = "the controller had already made " + x.name(elect.Peer) + s + ", but " + x.name(leader) +
				" had not yet learned it and acted as leader in epoch " + strconv.Itoa(int(app.Epoch))
		} else {
			s = x.name(elect.Peer) + " became" + s
		}
		parts = append(parts, s)
	}
	if tr := x.findFirst(x.bySubject[p], func(e *sim.Entry) bool {
		return e.Kind == event.Truncate && e.Node == leader && e.At >= app.At && e.First <= app.Last && app.First <= e.Last
	}); tr != nil {
		parts = append(parts, x.name(leader)+" truncated "+offsets(tr)+" at "+tr.At.String()+" when it rejoined as a follower")
	}
	a.Explanation = strings.Join(parts, "; ")
	return a
}

// isrAtAck says, for acks=all, which ISR the controller had committed when
// the record was acknowledged, if it was smaller than the replica set: a
// leader answers acks=all once every ISR member has the record
// (Partition.checkEnoughReplicasReachOffset), so a shrunken ISR means fewer
// copies, and min.insync.replicas is the only floor.
func (x *explainer) isrAtAck(p broker.PartitionID, at sim.Time) string {
	if a := x.acks(); a != "all" && a != "-1" {
		return ""
	}
	last := x.findLast(x.bySubject[p], func(e *sim.Entry) bool {
		return (e.Kind == event.Isr || e.Kind == event.Elect) && e.At <= at
	})
	replicas := len(x.r.pl.topo.Partitions[p].Replicas)
	if last == nil || last.Ext == nil || len(last.Ext.List) >= replicas {
		return ""
	}
	isr := last.Ext.List
	since := "had shrunk to " + brokerIDs(isr) + " at " + last.At.String()
	if last.Kind == event.Elect {
		since = "was " + brokerIDs(isr) + " from the election at " + last.At.String()
	}
	names := make([]string, len(isr))
	for i, b := range isr {
		names[i] = x.name(sim.NodeID(b))
	}
	who := strings.Join(names, " and ")
	if len(isr) == 1 {
		who += " alone"
	}
	topic := x.r.pl.topo.Topics[x.r.pl.topo.Partitions[p].Topic]
	return "the ISR " + since + ", so acks=all waited for " + who + " (" + strconv.Itoa(len(isr)) + " of " +
		strconv.Itoa(replicas) + " replicas; min.insync.replicas=" + strconv.Itoa(topic.MinInsyncReplicas) + " allowed it)"
}

// brokerIDs is a list of broker ids as the timeline prints an ISR: [1 2].
func brokerIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(out) == 0 || !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func pastTense(k event.Kind) string {
	switch k {
	case event.Crash:
		return "crashed"
	case event.Pause:
		return "was paused"
	case event.Isolate, event.Partition:
		return "was cut off"
	case event.Shutdown:
		return "began a controlled shutdown"
	}
	return k.String()
}

// nodeEvent finds the first node-level event of the given kinds in [from, to].
// A partition that cuts the node off from something counts as its
// isolation.
func (x *explainer) nodeEvent(n sim.NodeID, from, to sim.Time, kinds ...event.Kind) *sim.Entry {
	if int(n) < 0 || int(n) >= len(x.byNode) {
		return nil
	}
	own := x.findFirst(x.byNode[n], func(e *sim.Entry) bool {
		return e.At >= from && e.At <= to && slices.Contains(kinds, e.Kind)
	})
	if !slices.Contains(kinds, event.Isolate) {
		return own
	}
	part := x.findFirst(x.byNode[x.r.id], func(e *sim.Entry) bool {
		return e.Kind == event.Partition && e.At >= from && e.At <= to && slices.Contains(e.Ext.List, int32(n))
	})
	if own == nil || part != nil && part.At < own.At {
		return part
	}
	return own
}

// errorNote says what an error means for whether the write happened.
func errorNote(err broker.Error) string {
	switch err {
	case broker.ErrNotEnoughReplicasAfterAppend:
		return " (the data was already appended)"
	case broker.ErrRequestTimedOut:
		return " (no answer within request.timeout.ms; the first attempt may have been appended)"
	case broker.ErrNetworkException:
		return " (the connection broke; the attempt may have been appended)"
	}
	return ""
}

// history describes what happened to a batch strictly between two times, in
// words. Repeats of the same thing are told once, with a count.
func (x *explainer) history(ref int64, from, to sim.Time) []string {
	type step struct {
		key, one, many string // many takes a count
		first, last    sim.Time
		n              int
		timed          bool // one already says when
	}
	var steps []step
	wired := 0
	for _, i := range x.byBatch[ref] {
		e := &x.entries[i]
		if e.At <= from || e.At >= to {
			continue
		}
		var st step
		switch e.Kind {
		case event.ResponseDropped:
			st = step{key: "drop" + x.name(e.Node), one: "its response from " + x.name(e.Node) + " was lost",
				many: " responses from " + x.name(e.Node) + " were lost"}
		case event.PurgatoryTimeout:
			st = step{key: "purgatory", one: x.name(e.Node) + " stopped waiting for replication (REQUEST_TIMED_OUT; the data stays in the log)",
				many: " times " + x.name(e.Node) + " stopped waiting for replication"}
		case event.Retry:
			err := broker.Error(e.Err)
			if n := len(steps); n > 0 && strings.HasPrefix(steps[n-1].key, "reject"+err.String()) {
				continue // the retry that follows a rejection is part of it
			}
			// What happened on the wire, for the first few retries: each
			// look is a scan, and a batch retried without end (a zero
			// request.timeout.ms) would make the history quadratic.
			wired++
			for _, w := range x.wireUpTo(wired, ref, e, from) {
				if n := len(steps); n > 0 && steps[n-1].key == w.key {
					continue
				}
				steps = append(steps, step{key: w.key, one: w.text, first: w.at, last: w.at, n: 1, timed: true})
			}
			st = step{key: "retry" + err.String(), one: "the producer retried it after " + err.String() + errorNote(err), many: " retries after " + err.String()}
		case event.Reject:
			err := broker.Error(e.Err).String()
			st = step{key: "reject" + err + x.name(e.Node), one: x.name(e.Node) + " rejected a retry with " + err,
				many: " retries rejected by " + x.name(e.Node) + " with " + err}
		case event.Expire:
			st = step{key: "expire", one: "it expired in the producer (delivery.timeout.ms)", many: " expiries"}
		default:
			continue
		}
		if n := len(steps); n > 0 && steps[n-1].key == st.key {
			steps[n-1].n++
			steps[n-1].last = e.At
			continue
		}
		st.first, st.last, st.n = e.At, e.At, 1
		steps = append(steps, st)
	}
	var out []string
	for _, st := range steps {
		if st.timed {
			out = append(out, st.one)
		} else if st.n == 1 {
			out = append(out, st.one+" at "+st.first.String())
		} else {
			out = append(out, strconv.Itoa(st.n)+st.many+" between "+st.first.String()+" and "+st.last.String())
		}
	}
	return out
}

// wireFact is something that happened on the wire, in words, and when.
type wireFact struct {
	key, text string
	at        sim.Time
}

// wire says what happened on the connection a batch's attempt went out on,
// between since and the retry that followed a network error: its response
// held by a cut (TCP retransmits it), the producer giving up on it after
// request.timeout.ms and closing the connection, or a reset.
// wireUpTo is wire for a batch's first maxWired retries, nothing after.
func (x *explainer) wireUpTo(n int, ref int64, retry *sim.Entry, since sim.Time) []wireFact {
	if n > maxWired {
		return nil
	}
	return x.wire(ref, retry, since)
}

// maxWired bounds how many of a batch's retries an explanation looks up on
// the wire.
const maxWired = 8

func (x *explainer) wire(ref int64, retry *sim.Entry, since sim.Time) []wireFact {
	err := broker.Error(retry.Err)
	if err != broker.ErrRequestTimedOut && err != broker.ErrNetworkException {
		return nil
	}
	send := x.findLast(x.byBatch[ref], func(e *sim.Entry) bool { return e.Kind == event.Send && e.At <= retry.At })
	if send == nil {
		return nil
	}
	prod, brk := send.Node, send.Peer
	between := func(n, peer sim.NodeID, k event.Kind) *sim.Entry {
		if int(n) < 0 || int(n) >= len(x.byNode) {
			return nil
		}
		return x.findFirst(x.byNode[n], func(e *sim.Entry) bool {
			return e.Kind == k && e.Peer == peer && e.At >= max(since, send.At) && e.At <= retry.At
		})
	}
	var out []wireFact
	// The cut may hold the responses of several requests in flight: the
	// one that counts answers this attempt's request (the produce
	// response carries its id).
	held := x.findFirst(x.byNode[brk], func(e *sim.Entry) bool {
		return e.Kind == event.Held && e.Peer == prod && e.Req == send.Req && e.At >= max(since, send.At) && e.At <= retry.At
	})
	if held != nil {
		out = append(out, wireFact{"held" + x.name(brk), "at " + held.At.String() + " its response from " + x.name(brk) +
			" met a cut link that drops packets, and TCP held it for retransmission (first in " +
			held.Ext.Dur.Round(time.Millisecond).String() + ")", held.At})
	}
	// The timeout is worth telling when a cut held the response: the
	// retry that follows names the error already.
	if t := between(prod, brk, event.RequestTimeout); t != nil && held != nil {
		out = append(out, wireFact{"timeout" + x.name(brk), "at " + t.At.String() + " the producer gave up waiting (request.timeout.ms=" +
			strconv.FormatInt(t.Ext.Limit, 10) + ") and closed the connection to " + x.name(brk) + ", discarding the held response", t.At})
	}
	reset := between(brk, prod, event.ConnReset)
	if reset == nil {
		reset = between(prod, brk, event.ConnReset)
	}
	if reset != nil {
		out = append(out, wireFact{"reset" + x.name(brk), "at " + reset.At.String() +
			" a cut that rejects (a TCP reset or ICMP unreachable) broke the connection to " + x.name(brk), reset.At})
	}
	return out
}

// duplicated explains a record with several copies in the final logs,
// in one partition or in several (a re-send the partitioner put elsewhere).
func (x *explainer) duplicated(id broker.RecordID) Anomaly {
	p := x.partitionOf(id)
	a := x.anomaly("duplicated", id, x.offsetsOf(p, id))
	type copyOf struct {
		p   broker.PartitionID
		o   int64
		ref int64
		app *sim.Entry
	}
	var copies []copyOf
	for q := range x.r.pl.dataPartitions() {
		for _, o := range x.offsetsOf(broker.PartitionID(q), id) {
			ref := x.batchAt(broker.PartitionID(q), o)
			copies = append(copies, copyOf{broker.PartitionID(q), o, ref, x.appendOf(ref, int32(q), o)})
		}
	}
	// In the order they were written (offsets within a partition); a copy
	// whose append a cut trace lacks goes last, untold.
	slices.SortStableFunc(copies, func(a, b copyOf) int {
		if a.app == nil || b.app == nil {
			return boolInt(a.app == nil) - boolInt(b.app == nil)
		}
		return int(a.app.At - b.app.At)
	})
	spread := slices.ContainsFunc(copies, func(c copyOf) bool { return c.p != copies[0].p })
	if spread {
		for _, c := range copies {
			a.Copies = append(a.Copies, RecordCopy{Partition: x.r.pl.topo.Name(c.p), Offset: c.o})
		}
	}
	var parts []string
	var prev *copyOf
	for n, c := range copies {
		app, ref := c.app, c.ref
		if app == nil {
			continue
		}
		if prev != nil {
			parts = append(parts, x.history(prev.ref, prev.app.At, app.At)...)
			if bump := x.nodeEvent(app.Peer, prev.app.At, app.At, event.EpochBump); bump != nil && ref == prev.ref {
				// KIP-360: the bump renumbers every unfinished batch from
				// sequence 0 under the new epoch
				// (TxnPartitionEntry.startSequencesAtBeginning), and the
				// broker only matches retries within one epoch.
				parts = append(parts, "the producer bumped its epoch to "+strconv.Itoa(int(bump.Epoch))+" at "+bump.At.String()+
					" and re-sent it at a new sequence number, which the broker cannot match to the copy written under the old epoch")
			}
			if ref != prev.ref {
				again := "the application sent it again in batch " + strconv.FormatInt(ref, 10)
				if fail := x.findFirst(x.byBatch[prev.ref], func(e *sim.Entry) bool {
					return e.Kind == event.Fail && e.At >= prev.app.At && e.At <= app.At
				}); fail != nil {
					again = "the producer reported " + broker.Error(fail.Err).String() + " for it at " + fail.At.String() + ", so " + again
				}
				parts = append(parts, again)
			}
			if c.p != prev.p {
				parts = append(parts, x.movedBy(id, prev.p, c.p, prev.app.At, app.At))
			}
			if gone := x.findFirst(x.bySubject[c.p], func(e *sim.Entry) bool {
				return e.Kind == event.ProducerExpired && e.Node == app.Node && e.At >= prev.app.At && e.At <= app.At
			}); gone != nil {
				// ProducerStateManager.removeExpiredProducers: with no state
				// for the producer id, any sequence is accepted.
				parts = append(parts, x.name(app.Node)+" had forgotten producer id "+strconv.FormatInt(gone.ProducerID, 10)+" at "+gone.At.String()+
					" (no write for producer.id.expiration.ms="+strconv.FormatInt(gone.Ext.Limit, 10)+"), so it could not recognise the retry")
			}
		}
		word := "appended it"
		if prev != nil {
			word = "appended it again"
		}
		where := "offset " + strconv.FormatInt(c.o, 10)
		if spread {
			where += " of " + x.r.pl.topo.Name(c.p)
		}
		parts = append(parts, x.name(app.Node)+" "+word+" at "+where+" at "+app.At.String()+" (batch "+strconv.FormatInt(ref, 10)+")")
		prev = &copies[n]
	}
	switch {
	case spread:
		parts = append(parts, "the copies are in two partitions, where no producer id and sequence can tie them together; idempotence only holds within one partition of one producer session")
	case len(copies) > 1 && copies[0].ref != copies[len(copies)-1].ref:
		parts = append(parts, "the copies came from different producer instances or batches, so no producer id and sequence tie them together; idempotence only holds within one producer session")
	case !x.idempotent():
		parts = append(parts, "with enable.idempotence=false the broker has no producer id and sequence number to recognise a retry")
	}
	a.Explanation = strings.Join(parts, "; ")
	return a
}

// movedBy says why a record sent again landed in another partition: the
// last add-partitions or restart-producer between the two appends
// (partitionMover).
func (x *explainer) movedBy(id broker.RecordID, from, to broker.PartitionID, after, before sim.Time) string {
	s := "this time the partitioner chose " + x.r.pl.topo.Name(to) + ", not " + x.r.pl.topo.Name(from)
	if x.key(id) != nil {
		s = "this time its key went to " + x.r.pl.topo.Name(to) + ", not " + x.r.pl.topo.Name(from)
	}
	if cause := x.r.partitionMover(after, before); cause != nil {
		s += " (" + cause.Kind.String() + " at " + cause.At.String() + ")"
	}
	return s
}

// reordered explains a record that landed after one sent later.
func (x *explainer) reordered(ro reorder) Anomaly {
	p := ro.part
	o1 := x.offsetsOf(p, ro.id)[0]
	o2 := x.offsetsOf(p, ro.witness)[0]
	a := x.anomaly("reordered", ro.id, []int64{o1})
	a.Partition = x.r.pl.topo.Name(p)
	ref1, ref2 := x.batchAt(p, o1), x.batchAt(p, o2)
	parts := []string{"sent before record " + strconv.Itoa(int(ro.witness)) + " but stored after it (offset " +
		strconv.FormatInt(o1, 10) + " > " + strconv.FormatInt(o2, 10) + ")"}
	app1, app2 := x.appendOf(ref1, int32(p), o1), x.appendOf(ref2, int32(p), o2)
	split := x.splitRoot(ref1)
	if app1 != nil && app2 != nil {
		if split != nil {
			parts = append(parts, "its batch "+strconv.FormatInt(split.Batch, 10)+" was refused with MESSAGE_TOO_LARGE at "+
				split.At.String()+" and split into smaller batches, sent again")
		} else if retry := x.findFirst(x.byBatch[ref1], func(e *sim.Entry) bool { return e.Kind == event.Retry && e.At <= app2.At }); retry != nil {
			parts = append(parts, "its batch "+strconv.FormatInt(ref1, 10)+" failed with "+broker.Error(retry.Err).String()+
				" at "+retry.At.String()+" and waited to retry")
		}
		parts = append(parts, "meanwhile batch "+strconv.FormatInt(ref2, 10)+" was appended at offset "+strconv.FormatInt(o2, 10)+" at "+app2.At.String())
		if split != nil {
			parts = append(parts, "batch "+strconv.FormatInt(ref1, 10)+", a piece of it, was appended at offset "+strconv.FormatInt(o1, 10)+" at "+app1.At.String())
		} else {
			parts = append(parts, "the retry of batch "+strconv.FormatInt(ref1, 10)+" was appended at offset "+strconv.FormatInt(o1, 10)+" at "+app1.At.String())
		}
	}
	cfg := x.r.pl.producerCfg
	switch {
	case !x.idempotent() && cfg.MaxInFlight > 1 && split != nil:
		parts = append(parts, "with max.in.flight.requests.per.connection="+strconv.Itoa(cfg.MaxInFlight)+
			" and idempotence off, later batches are already in flight while the pieces of a split batch wait to go again")
	case !x.idempotent() && cfg.MaxInFlight > 1:
		parts = append(parts, "with max.in.flight.requests.per.connection="+strconv.Itoa(cfg.MaxInFlight)+
			" and idempotence off, later batches are already in flight while an earlier one waits to retry")
	}
	a.Explanation = strings.Join(parts, "; ")
	return a
}

// splitRoot is the first split that made batch ref, following pieces of
// pieces back to the batch the producer built, or nil when ref is no piece.
func (x *explainer) splitRoot(ref int64) *sim.Entry {
	var root *sim.Entry
	for {
		e := x.findFirst(x.byBatch[ref], func(e *sim.Entry) bool { return e.Kind == event.Split && e.Batch != ref })
		if e == nil {
			return root
		}
		root, ref = e, e.Batch
	}
}

// ambiguous explains a record the producer reported as failed (or never
// answered) that is in the log anyway.
func (x *explainer) ambiguous(id broker.RecordID) Anomaly {
	rec, done := &x.r.recs[id], x.r.doneAt(id)
	p := x.partitionOf(id)
	offs := x.offsetsOf(p, id)
	a := x.anomaly("ambiguous", id, offs)
	var told string
	switch {
	case rec.status == statusPending:
		told = "the producer never reported an outcome"
	case rec.err == broker.ErrTimeout:
		told = "the producer reported TimeoutException at " + done.String() + ": delivery.timeout.ms=" +
			strconv.Itoa(x.r.pl.producerCfg.DeliveryTimeoutMs) + " passed since its batch was created"
	case rec.err == broker.ErrProducerClosed:
		told = "the producer failed it with KafkaException when it was closed at " + done.String()
	default:
		told = "the producer reported " + rec.err.String() + " at " + done.String()
	}
	parts := []string{told}
	ref := x.batchAt(p, offs[0])
	if app := x.appendOf(ref, int32(p), offs[0]); app != nil {
		parts = append(parts, "but "+x.name(app.Node)+" had appended it at offset "+strconv.FormatInt(offs[0], 10)+
			" at "+app.At.String()+" and it committed")
		parts = append(parts, x.history(ref, 0, done+1)...)
	}
	parts = append(parts, "an application that re-sends on failure would write it twice")
	a.Explanation = strings.Join(parts, "; ")
	return a
}
