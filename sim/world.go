package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// NodeID names a node: a process that handles events and messages.
type NodeID int32

// NoNode is the absent node.
const NoNode NodeID = -1

// Handler is a node's behaviour. The engine calls it for the node's timers and
// for messages delivered to it, one at a time, in virtual-time order.
type Handler interface {
	HandleEvent(e Event)
	HandleMessage(from NodeID, m Message)
}

type nodeState uint8

const (
	nodeUp nodeState = iota
	nodePaused
	nodeDown
)

type node struct {
	name     string
	h        Handler
	state    nodeState
	inc      uint32  // incarnation: bumped by a crash, so old timers die
	deferred []Event // events that arrived while paused, in arrival order
}

// World is one simulation run: the clock, the queue, the nodes, the network
// and the trace. It is not safe for concurrent use; run many worlds in
// parallel instead.
type World struct {
	now    Time
	seq    uint64
	q      queue
	nodes  []node
	seed   uint64
	Net    *Network
	Trace  *Trace
	events uint64

	// AfterEvent, when set, runs after every handled event: a hook for
	// checking invariants continuously in tests. It must not schedule.
	AfterEvent func()
}

// NewWorld returns an empty world whose random streams derive from seed.
func NewWorld(seed uint64) *World {
	w := &World{seed: seed, Trace: &Trace{}}
	w.Net = newNetwork(w)
	return w
}

// Now is the current virtual time.
func (w *World) Now() Time { return w.now }

// Pending is how many events are queued or held for paused nodes.
func (w *World) Pending() int {
	n := w.q.len()
	for i := range w.nodes {
		n += len(w.nodes[i].deferred)
	}
	return n
}

// Events is how many events have been handled so far.
func (w *World) Events() uint64 { return w.events }

// AddNode registers a handler and returns its id. Ids are dense, from 0.
func (w *World) AddNode(name string, h Handler) NodeID {
	w.nodes = append(w.nodes, node{name: name, h: h})
	w.Net.grow(len(w.nodes))
	return NodeID(len(w.nodes) - 1)
}

// SetHandler replaces a node's handler, for a process restarted as a new
// object.
func (w *World) SetHandler(id NodeID, h Handler) { w.nodes[id].h = h }

// NodeName is the name given to AddNode.
func (w *World) NodeName(id NodeID) string {
	if id < 0 || int(id) >= len(w.nodes) {
		return "none"
	}
	return w.nodes[id].name
}

// NumNodes is how many nodes exist.
func (w *World) NumNodes() int { return len(w.nodes) }

// Stream returns a random stream for one component. Each name gets its own
// PCG stream derived from the world seed, so a new draw in one component
// never shifts the draws of another.
func (w *World) Stream(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(w.seed, h.Sum64()))
}

// Schedule queues an event for node at time at. Scheduling in the past is a
// broken invariant.
func (w *World) Schedule(at Time, n NodeID, kind Kind, a, b int64) {
	if at < w.now {
		panic(fmt.Sprintf("sim: event scheduled at %v, before now %v (time must not move backwards)", at, w.now))
	}
	w.seq++
	w.q.push(Event{At: at, seq: w.seq, Node: n, inc: w.nodes[n].inc, Kind: kind, A: a, B: b})
}

// After queues an event d from now.
func (w *World) After(d Time, n NodeID, kind Kind, a, b int64) {
	w.Schedule(w.now+d, n, kind, a, b)
}

// Step handles the next event. It returns false when the queue is empty or
// the next event is later than until; the clock then moves to until.
func (w *World) Step(until Time) bool {
	for w.q.len() > 0 {
		if w.q.peek().At > until {
			break
		}
		e := w.q.pop()
		w.now = e.At
		nd := &w.nodes[e.Node]
		if e.Kind == kindRetransmit || e.Kind == kindProbe {
			// The kernel retransmits for a paused process too; the
			// stream of a crashed one is gone (its generation moved).
			w.events++
			if e.Kind == kindProbe {
				w.Net.probe(e)
			} else {
				w.Net.retransmit(e)
			}
			return true
		}
		if e.inc != nd.inc || nd.state == nodeDown {
			// A timer or message for a process that has since crashed.
			w.dropEvent(e)
			continue
		}
		if nd.state == nodePaused {
			nd.deferred = append(nd.deferred, e)
			continue
		}
		w.events++
		w.dispatch(e)
		if w.AfterEvent != nil {
			w.AfterEvent()
		}
		return true
	}
	if until != Never && until > w.now {
		w.now = until
	}
	return false
}

// RunUntil handles every event up to and including time t, then sets the
// clock to t.
func (w *World) RunUntil(t Time) {
	for w.Step(t) {
	}
}

// RunWhile handles events while cond holds and time stays at or before
// limit. It reports whether cond stopped it (true) or the limit did.
func (w *World) RunWhile(limit Time, cond func() bool) bool {
	for cond() {
		if !w.Step(limit) {
			return !cond()
		}
	}
	return true
}

func (w *World) dispatch(e Event) {
	if e.Kind == kindDeliver {
		w.Net.deliver(e)
		return
	}
	w.nodes[e.Node].h.HandleEvent(e)
}

func (w *World) dropEvent(e Event) {
	if e.Kind == kindDeliver {
		w.Net.deliverToDead(e)
	}
}

// Up reports whether a node is running (not crashed; a paused node is up).
func (w *World) Up(n NodeID) bool { return w.nodes[n].state != nodeDown }

// Paused reports whether a node is paused.
func (w *World) Paused(n NodeID) bool { return w.nodes[n].state == nodePaused }

// Crash stops a node: its pending timers and undelivered messages are
// dropped, and peers that can hear it learn that their connections closed.
func (w *World) Crash(n NodeID) {
	nd := &w.nodes[n]
	if nd.state == nodeDown {
		return
	}
	nd.state = nodeDown
	nd.inc++
	// Messages that reached a stopped process but were never read die
	// with it: their senders get a reset.
	deferred := nd.deferred
	nd.deferred = nil
	for _, e := range deferred {
		w.dropEvent(e)
	}
	w.Net.resetNode(n)
}

// Restart brings a crashed node back as a new incarnation. The handler is
// responsible for resetting its own volatile state.
func (w *World) Restart(n NodeID) {
	nd := &w.nodes[n]
	if nd.state != nodeDown {
		return
	}
	nd.state = nodeUp
}

// Pause stops a node like SIGSTOP: nothing it should handle is lost, but
// nothing is handled until Resume.
func (w *World) Pause(n NodeID) {
	if nd := &w.nodes[n]; nd.state == nodeUp {
		nd.state = nodePaused
	}
}

// Resume restarts a paused node. Everything that arrived or fell due while
// it was stopped is handled now, in the order it arrived.
func (w *World) Resume(n NodeID) {
	nd := &w.nodes[n]
	if nd.state != nodePaused {
		return
	}
	nd.state = nodeUp
	for _, e := range nd.deferred {
		w.seq++
		e.At = w.now
		e.seq = w.seq
		w.q.push(e)
	}
	nd.deferred = nd.deferred[:0]
}
