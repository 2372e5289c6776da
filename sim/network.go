package sim

import (
	"math/rand/v2"

	"github.com/kafkasim/kafkasim/event"
)

// Message is anything sent between nodes. Size is its length on the wire in
// bytes (it costs transmission time when the network has a bandwidth), and
// Name labels it in the trace.
type Message interface {
	Name() string
	Size() int
}

// Disconnected is delivered to a node when a peer closes or resets the
// connection between them: the peer crashed, or it restarted and no longer
// knows the connection. It stands for a TCP FIN or RST.
type Disconnected struct{ Peer NodeID }

func (Disconnected) Name() string { return "disconnected" }
func (Disconnected) Size() int    { return 0 }

// LinkConfig is the default behaviour of every link.
type LinkConfig struct {
	Latency   Time  // one-way
	Jitter    Time  // extra one-way delay drawn uniformly from [0, Jitter)
	Bandwidth int64 // bits per second on each directed link; 0 is unlimited
}

type link struct {
	cut      int32 // how many active faults cut this direction
	wireFree Time  // when the sender's side of the link finishes transmitting
	lastAt   Time  // last arrival, so a link delivers in order like TCP
	delay    Time  // extra one-way delay on this link alone
}

type envelope struct {
	from, to NodeID
	id       int64 // traced with the send, the receive or the drop; 0 for a Disconnected notice
	msg      Message
}

// Network carries messages between nodes. Every directed link delivers in
// send order (a TCP stream); a message takes transmission time (size over
// bandwidth, queued behind earlier messages on the link), then latency plus
// jitter. A cut link silently loses what crosses it, as a partition does.
type Network struct {
	w     *World
	cfg   LinkConfig
	n     int
	links [][]link // links[from][to], each row as long as its highest peer
	delay []Time   // extra one-way delay on every link of a node
	slots []envelope
	free  []int32
	rng   *rand.Rand
	msgs  int64 // messages sent so far: the last message id
}

func newNetwork(w *World) *Network {
	return &Network{w: w, rng: w.Stream("network")}
}

// Configure sets the default link behaviour.
func (n *Network) Configure(c LinkConfig) { n.cfg = c }

func (n *Network) grow(nodes int) {
	n.links = append(n.links, make([][]link, nodes-len(n.links))...)
	n.delay = append(n.delay, make([]Time, nodes-len(n.delay))...)
	n.n = nodes
}

// link is the directed link from one node to another. Rows grow on first
// use, amortised: a run that creates thousands of short-lived producers
// holds the links they used, not a matrix of every pair.
func (n *Network) link(from, to NodeID) *link {
	row := &n.links[from]
	if int(to) >= len(*row) {
		*row = append(*row, make([]link, int(to)+1-len(*row))...)
	}
	return &(*row)[to]
}

// Cut stops traffic from one node to another until Uncut. Cuts nest: a link
// cut by two faults needs two Uncuts.
func (n *Network) Cut(from, to NodeID) { n.link(from, to).cut++ }

// Uncut undoes one Cut.
func (n *Network) Uncut(from, to NodeID) {
	if l := n.link(from, to); l.cut > 0 {
		l.cut--
	}
}

// IsCut reports whether traffic from one node to another is lost.
func (n *Network) IsCut(from, to NodeID) bool { return n.link(from, to).cut > 0 }

// AddDelay adds d of one-way delay to every link into or out of a node
// (negative d removes it).
func (n *Network) AddDelay(node NodeID, d Time) { n.delay[node] += d }

// AddLinkDelay adds d of one-way delay to the link from one node to
// another (negative d removes it).
func (n *Network) AddLinkDelay(from, to NodeID, d Time) { n.link(from, to).delay += d }

// Send puts m on the wire from one node to another.
func (n *Network) Send(from, to NodeID, m Message) {
	w := n.w
	if !w.Up(from) {
		return
	}
	var id int64
	if _, notice := m.(Disconnected); !notice {
		n.msgs++
		id = n.msgs
		w.Trace.addMsg(w.now, event.MsgSend, id, from, to, m.Name())
	}
	l := n.link(from, to)
	if l.cut > 0 {
		n.traceDrop(from, to, id, m, false)
		return
	}
	start := w.now
	if l.wireFree > start {
		start = l.wireFree
	}
	done := start
	if n.cfg.Bandwidth > 0 {
		// Bits over bits-per-second, in nanoseconds, rounded up.
		bits := int64(m.Size()) * 8
		done += Time((bits*int64(Second) + n.cfg.Bandwidth - 1) / n.cfg.Bandwidth)
	}
	l.wireFree = done
	at := done + n.cfg.Latency + n.delay[from] + n.delay[to] + l.delay
	if n.cfg.Jitter > 0 {
		at += Time(n.rng.Int64N(int64(n.cfg.Jitter)))
	}
	if at < l.lastAt {
		at = l.lastAt
	}
	l.lastAt = at
	slot := n.alloc(envelope{from: from, to: to, id: id, msg: m})
	w.Schedule(at, to, kindDeliver, int64(slot), 0)
}

func (n *Network) alloc(e envelope) int32 {
	if k := len(n.free); k > 0 {
		slot := n.free[k-1]
		n.free = n.free[:k-1]
		n.slots[slot] = e
		return slot
	}
	n.slots = append(n.slots, e)
	return int32(len(n.slots) - 1)
}

func (n *Network) release(slot int32) envelope {
	e := n.slots[slot]
	n.slots[slot] = envelope{}
	n.free = append(n.free, slot)
	return e
}

func (n *Network) deliver(ev Event) {
	e := n.release(int32(ev.A))
	if n.link(e.from, e.to).cut > 0 {
		// Cut while the message was on the wire.
		n.traceDrop(e.from, e.to, e.id, e.msg, false)
		return
	}
	if e.id > 0 {
		n.w.Trace.addMsg(n.w.now, event.MsgReceive, e.id, e.from, e.to, e.msg.Name())
	}
	n.w.nodes[e.to].h.HandleMessage(e.from, e.msg)
}

// deliverToDead handles a message whose destination crashed, or restarted,
// after it was sent: the destination's kernel answers with a reset.
func (n *Network) deliverToDead(ev Event) {
	e := n.release(int32(ev.A))
	n.traceDrop(e.from, e.to, e.id, e.msg, true)
	if _, ok := e.msg.(Disconnected); ok {
		return
	}
	n.notify(e.to, e.from)
}

// resetNode tells every node that can hear a crashed node that their
// connections to it closed. Its TCP streams are gone, so later messages on
// its links are not held behind earlier ones.
func (n *Network) resetNode(crashed NodeID) {
	for peer := 0; peer < n.n; peer++ {
		if NodeID(peer) == crashed {
			continue
		}
		// The notice queues behind what the node sent before it died.
		n.notify(crashed, NodeID(peer))
		for _, l := range []*link{n.link(crashed, NodeID(peer)), n.link(NodeID(peer), crashed)} {
			l.lastAt, l.wireFree = 0, 0
		}
	}
}

// notify delivers a Disconnected from peer to node, unless a cut stops it.
func (n *Network) notify(peer, node NodeID) {
	if !n.w.Up(node) || n.link(peer, node).cut > 0 {
		return
	}
	at := n.w.now + n.cfg.Latency + n.delay[peer] + n.delay[node]
	l := n.link(peer, node)
	if at < l.lastAt {
		at = l.lastAt
	}
	l.lastAt = at
	slot := n.alloc(envelope{from: peer, to: node, msg: Disconnected{Peer: peer}})
	n.w.Schedule(at, node, kindDeliver, int64(slot), 0)
}

// traceDrop records a lost message; peerDown says the destination was down
// (else the link was cut).
func (n *Network) traceDrop(from, to NodeID, id int64, m Message, peerDown bool) {
	if id == 0 {
		return // a Disconnected notice, not a message between nodes
	}
	e := E(n.w.now, from, event.Drop)
	e.Peer = to
	e.Ext = &event.Ext{Label: m.Name(), Msg: id}
	if peerDown {
		e.Flags |= event.PeerDown
	}
	n.w.Trace.Add(e)
}
