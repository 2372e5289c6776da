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

// Request is a message that belongs to a request: the request itself or
// its response, carrying the request's id. A held entry names it (Req),
// so that an explanation can tell whose response a cut held, and so does
// the message's record (MsgEntry.Req), so that a space-time diagram pairs
// a request with its response without reading their contents.
type Request interface {
	Message
	RequestID() int64
}

// Disconnected is delivered to a node when a peer closes or resets the
// connection between them: the peer crashed, or it restarted and no longer
// knows the connection. It stands for a TCP FIN or RST.
type Disconnected struct{ Peer NodeID }

func (Disconnected) Name() string { return "disconnected" }
func (Disconnected) Size() int    { return 0 }

// Channel says which connection between two nodes a message travels on.
// Each directed link carries one stream per channel, so a stream stalled
// by a cut holds only its own connection's messages. Messages that do not
// say travel on channel 0.
type Channel uint8

// MaxChannels bounds the channels a link carries.
const MaxChannels = 8

// Channeled is a message that names its channel.
type Channeled interface{ Channel() Channel }

func channelOf(m Message) Channel {
	if c, ok := m.(Channeled); ok {
		return c.Channel()
	}
	return 0
}

// LinkConfig is the default behaviour of every link.
type LinkConfig struct {
	Latency   Time  // one-way
	Jitter    Time  // extra one-way delay drawn uniformly from [0, Jitter)
	Bandwidth int64 // bits per second on each directed link; 0 is unlimited
}

// TCP's retransmission timer as Linux runs it (net/ipv4/tcp_timer.c,
// tcp_input.c __tcp_set_rto): the first timeout is the smoothed round trip
// plus a variance term floored at TCP_RTO_MIN (200 ms), each expiry doubles
// it up to TCP_RTO_MAX (120 s); after tcp_retries2 (15) retransmissions
// the next expiry gives up and the socket errors (about 15 minutes).
const (
	rtoMin     = 200 * Millisecond
	rtoMax     = 120 * Second
	tcpRetries = 15
)

type link struct {
	cut      int32    // active faults that cut this direction, dropping packets
	reject   int32    // active faults that cut it rejecting them (RST, ICMP unreachable)
	stalled  int32    // streams holding messages for a retransmission
	wireFree Time     // when the sender's side of the link finishes transmitting
	lastAt   Time     // last arrival, so a link delivers in order like TCP
	delay    Time     // extra one-way delay on this direction (a slowed link)
	resumeAt Time     // the latest stream's resumeAt
	streams  []stream // by Channel, made on the first hold
}

// stream is one connection's direction on a link, stalled by a drop cut:
// what met the cut and everything sent behind it, in order, waiting for
// the retransmission that gets through.
type stream struct {
	held   []int32
	rto    Time   // the current retransmission timeout
	retxAt Time   // when the pending retransmission is due
	tries  int32  // retransmissions that met the cut
	gen    uint32 // bumped when the stream restarts: an older retransmission timer is stale
	// resumeAt is when what the last successful retransmission carried
	// lands: anything of the stream arriving earlier waits for it.
	resumeAt Time
}

func (l *link) stream(c Channel) *stream {
	if l.streams == nil {
		l.streams = make([]stream, MaxChannels)
	}
	return &l.streams[c]
}

// restart empties a stream's retransmission state; its held messages are
// the caller's to deliver or release first.
func (l *link) restart(st *stream) {
	if len(st.held) > 0 {
		l.stalled--
	}
	st.held = st.held[:0]
	st.retxAt, st.rto, st.tries, st.resumeAt = 0, 0, 0, 0
	st.gen++
}

type envelope struct {
	from, to NodeID
	id       int64 // traced with the send, the receive or the drop; 0 for a Disconnected notice
	msg      Message
	sent     Time // when it was put on the wire, where its retransmission timer starts
	dead     bool // its connection closed while it was on the wire: it is discarded
	local    bool // a notice from the node's own kernel: no link carries it
}

// Network carries messages between nodes as TCP does. Every directed link
// delivers in order and loses nothing, and carries one stream per Channel
// (a connection of its own in Kafka); a message takes transmission time
// (size over bandwidth, queued behind earlier messages on the link), then
// latency plus jitter.
//
// A link cut in drop mode (a partition that drops packets) delays rather
// than loses: what meets the cut waits for TCP's retransmission, and
// everything behind it on the stream waits too; after the heal the stream
// resumes, in order, at the next retransmission. A link cut in reject mode
// (a firewall answering with RST or ICMP unreachable) breaks the
// connections across it at once, and refuses whatever is sent into it.
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

// Cut stops traffic from one node to another until Uncut: dropped packets
// (reject false), or refused ones (reject true), which also resets the
// connections between the two nodes at once. Cuts nest: a link cut by two
// faults needs two Uncuts.
func (n *Network) Cut(from, to NodeID, reject bool) {
	l := n.link(from, to)
	if !reject {
		l.cut++
		return
	}
	l.reject++
	n.Reset(from, to)
}

// Uncut undoes one Cut of the same mode.
func (n *Network) Uncut(from, to NodeID, reject bool) {
	l := n.link(from, to)
	switch {
	case reject && l.reject > 0:
		l.reject--
	case !reject && l.cut > 0:
		l.cut--
	}
}

// IsCut reports whether traffic from one node to another is cut, in either
// mode.
func (n *Network) IsCut(from, to NodeID) bool {
	l := n.link(from, to)
	return l.cut > 0 || l.reject > 0
}

// AddDelay adds d of one-way delay to every link into or out of a node
// (negative d removes it).
func (n *Network) AddDelay(node NodeID, d Time) { n.delay[node] += d }

// AddLinkDelay adds d of one-way delay to the link from one node to another
// (negative d removes it).
func (n *Network) AddLinkDelay(from, to NodeID, d Time) { n.link(from, to).delay += d }

// oneWay is the fixed part of a message's trip from one node to another.
func (n *Network) oneWay(from, to NodeID, l *link) Time {
	return n.cfg.Latency + n.delay[from] + n.delay[to] + l.delay
}

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
		w.Trace.addMsg(w.now, event.MsgSend, id, from, to, m)
	}
	l := n.link(from, to)
	slot := n.alloc(envelope{from: from, to: to, id: id, msg: m, sent: w.now})
	if l.reject > 0 {
		n.blocked(l, slot) // refused at once
		return
	}
	// A drop cut, or a stalled stream, is met where the message arrives,
	// so that it queues behind what was already on the wire; it will wait
	// for a retransmission, so its transmission time and jitter do not
	// matter, and none is drawn.
	if l.cut > 0 || l.stalled > 0 && len(l.stream(channelOf(m)).held) > 0 {
		at := max(w.now+n.oneWay(from, to, l), l.lastAt)
		l.lastAt = at
		w.Schedule(at, to, kindDeliver, int64(slot), 0)
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
	at := done + n.oneWay(from, to, l)
	if n.cfg.Jitter > 0 {
		at += Time(n.rng.Int64N(int64(n.cfg.Jitter)))
	}
	if at < l.lastAt {
		at = l.lastAt
	}
	l.lastAt = at
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
	slot := int32(ev.A)
	if e := &n.slots[slot]; !e.local {
		if e.dead {
			x := n.release(slot)
			n.traceDrop(x.from, x.to, x.id, x.msg, event.Closed)
			return
		}
		if l := n.link(e.from, e.to); (l.reject > 0 || l.cut > 0 || l.stalled > 0 || n.w.now < l.resumeAt) && n.blocked(l, slot) {
			// Cut while the message was on the wire, or behind a
			// segment of its stream that waits for its retransmission.
			return
		}
	}
	e := n.release(slot)
	if e.id > 0 {
		n.w.Trace.addMsg(n.w.now, event.MsgReceive, e.id, e.from, e.to, e.msg)
	}
	n.w.nodes[e.to].h.HandleMessage(e.from, e.msg)
}

// blocked handles a message on a link that is cut or has a stalled
// stream, and reports whether it took the message: a reject cut refuses it
// and the connection breaks; a drop cut, or its stream already waiting for
// a retransmission, holds it. A message on another stream goes on.
//
// Both ends learn of a refusal at once: the sender from the reset or ICMP
// error, the receiver because the other end's retransmission of the
// handshake or of its request would meet the same reset (a simplification:
// the simulator does not replay the handshake).
func (n *Network) blocked(l *link, slot int32) bool {
	e := &n.slots[slot]
	if l.reject > 0 {
		x := n.release(slot)
		n.traceDrop(x.from, x.to, x.id, x.msg, event.Rejected)
		if _, ok := x.msg.(Disconnected); !ok {
			n.notifyLocal(x.to, x.from)
			n.notifyLocal(x.from, x.to)
		}
		return true
	}
	c := channelOf(e.msg)
	if l.streams != nil && n.w.now < l.streams[c].resumeAt {
		// What a retransmission just let through lands first.
		n.w.Schedule(l.streams[c].resumeAt, e.to, kindDeliver, int64(slot), 0)
		return true
	}
	if l.cut == 0 && (l.streams == nil || len(l.streams[c].held) == 0) {
		return false
	}
	if !n.w.Up(e.from) {
		// Sent before its sender crashed: no kernel is left to
		// retransmit it.
		x := n.release(slot)
		n.traceDrop(x.from, x.to, x.id, x.msg, event.PeerDown)
		return true
	}
	n.hold(l, c, slot)
	return true
}

// hold queues a message on its stalled stream, arming the retransmission
// timer if none is pending: RTO after the segment was sent.
func (n *Network) hold(l *link, c Channel, slot int32) {
	e := &n.slots[slot]
	st := l.stream(c)
	if len(st.held) == 0 {
		l.stalled++
	}
	st.held = append(st.held, slot)
	if st.retxAt == 0 {
		st.rto = max(rtoMin+2*n.oneWay(e.from, e.to, l), rtoMin)
		st.retxAt = max(e.sent+st.rto, n.w.now+1)
		st.tries = 0
		n.w.Schedule(st.retxAt, e.from, kindRetransmit, int64(e.from)<<32|int64(e.to), int64(c)<<32|int64(st.gen))
	}
	if e.id == 0 {
		return // a Disconnected notice: no message of the trace
	}
	x := E(n.w.now, e.from, event.Held)
	x.Peer = e.to
	if r, ok := e.msg.(Request); ok {
		x.Req = r.RequestID()
	}
	x.Ext = &event.Ext{Label: e.msg.Name(), Msg: e.id, Dur: (st.retxAt - n.w.now).Duration()}
	n.w.Trace.Add(x)
}

// retransmit is a stalled stream's retransmission timer: still cut, the
// timeout doubles (and after tcp_retries2 expiries the connection breaks);
// healed, the held messages arrive in order, one trip later.
func (n *Network) retransmit(ev Event) {
	from, to := NodeID(ev.A>>32), NodeID(int32(ev.A))
	l := n.link(from, to)
	st := l.stream(Channel(ev.B >> 32))
	if uint32(ev.B) != st.gen || st.retxAt != ev.At || len(st.held) == 0 {
		return // the stream was closed or reset since
	}
	now := n.w.now
	x := E(now, from, event.Retransmit)
	x.Peer, x.Count = to, int32(len(st.held))
	if l.cut > 0 {
		st.tries++
		if st.tries > tcpRetries {
			x.Flags |= event.Closed
			n.w.Trace.Add(x)
			n.Reset(from, to)
			return
		}
		st.rto = min(2*st.rto, rtoMax)
		st.retxAt = now + st.rto
		x.X().Dur = st.rto.Duration()
		n.w.Trace.Add(x)
		n.w.Schedule(st.retxAt, from, kindRetransmit, ev.A, ev.B)
		return
	}
	x.Flags |= event.Delivered
	n.w.Trace.Add(x)
	at := max(now+n.oneWay(from, to, l), l.lastAt)
	for _, slot := range st.held {
		n.w.Schedule(at, to, kindDeliver, int64(slot), 0)
	}
	l.lastAt, l.wireFree = at, max(l.wireFree, now)
	l.restart(st)
	st.resumeAt, l.resumeAt = at, max(l.resumeAt, at)
}

// Reset breaks every connection between two nodes, as a reset does (a
// reject cut, or TCP giving up its retransmissions): what either sent that
// has not arrived is discarded, and each learns at once that its
// connections closed (a Disconnected from the other).
func (n *Network) Reset(a, b NodeID) {
	discarded := n.discard(a, b, nil, true)
	x := E(n.w.now, a, event.ConnReset)
	x.Peer, x.Count = b, int32(discarded)
	n.w.Trace.Add(x)
	n.notifyLocal(b, a)
	n.notifyLocal(a, b)
}

// Close is node a closing its connection to b whose messages from a travel
// on channel out and whose messages from b travel on channel in: what b
// sent on it that has not arrived is discarded, since a new connection is
// a new stream, and so is what a's stalled stream still holds (a
// simplification: Linux keeps retransmitting a closed socket's data for a
// while, tcp_orphan_retries). What a sent that is already on the wire
// still arrives. It returns how many it discarded.
func (n *Network) Close(a, b NodeID, out, in Channel) int {
	return n.discard(a, b, func(from NodeID, m Message) bool {
		if from == a {
			return channelOf(m) == out
		}
		return channelOf(m) == in
	}, false)
}

// discard drops what the connections between a and b that match picks
// hold or carry: toward a only, or both ways (a reset).
func (n *Network) discard(a, b NodeID, match func(from NodeID, m Message) bool, both bool) int {
	discarded := 0
	for _, d := range [2][2]NodeID{{a, b}, {b, a}} {
		l := n.link(d[0], d[1])
		for c := range l.streams {
			st := &l.streams[c]
			if len(st.held) == 0 {
				continue
			}
			kept := st.held[:0]
			for _, slot := range st.held {
				e := &n.slots[slot]
				if match != nil && !match(e.from, e.msg) {
					kept = append(kept, slot)
					continue
				}
				x := n.release(slot)
				n.traceDrop(x.from, x.to, x.id, x.msg, event.Closed)
				discarded++
			}
			if len(kept) == 0 {
				l.restart(st)
			} else {
				st.held = kept
			}
		}
	}
	for i := range n.slots {
		e := &n.slots[i]
		if e.msg == nil || e.dead || e.local || !(e.from == b && e.to == a || both && e.from == a && e.to == b) {
			continue
		}
		if _, notice := e.msg.(Disconnected); notice || match != nil && !match(e.from, e.msg) {
			continue
		}
		e.dead = true
		discarded++
	}
	return discarded
}

// deliverToDead handles a message whose destination crashed, or restarted,
// after it was sent: the destination's kernel answers with a reset.
func (n *Network) deliverToDead(ev Event) {
	e := n.release(int32(ev.A))
	n.traceDrop(e.from, e.to, e.id, e.msg, event.PeerDown)
	if _, ok := e.msg.(Disconnected); ok {
		return
	}
	n.notify(e.to, e.from)
}

// resetNode tells every node that can hear a crashed node that their
// connections to it closed. Its TCP streams are gone, so later messages on
// its links are not held behind earlier ones.
//
// A peer the notice cannot reach (the link from the crashed node is cut)
// learns of the crash as TCP would: if a drop cut held its data toward the
// crashed node, its kernel goes on retransmitting (a probe), and the
// retransmission that gets through after the heal meets the reset of the
// restarted, or still crashed, node. Without data in flight it learns
// nothing until it sends again, or its own timeout runs out.
func (n *Network) resetNode(crashed NodeID) {
	for peer := 0; peer < n.n; peer++ {
		if NodeID(peer) == crashed {
			continue
		}
		// The notice queues behind what the node sent before it died.
		heard := n.notify(crashed, NodeID(peer))
		for _, d := range [2][2]NodeID{{crashed, NodeID(peer)}, {NodeID(peer), crashed}} {
			l := n.link(d[0], d[1])
			var next *stream // the peer's stalled stream retransmitting soonest
			for c := range l.streams {
				st := &l.streams[c]
				if len(st.held) > 0 && (next == nil || st.retxAt < next.retxAt) {
					next = st
				}
			}
			if next != nil && !heard && d[1] == crashed {
				n.w.Schedule(next.retxAt, d[0], kindProbe, int64(d[0])<<32|int64(d[1]), int64(next.rto)<<8|int64(next.tries))
			}
			for c := range l.streams {
				st := &l.streams[c]
				for _, slot := range st.held {
					x := n.release(slot)
					n.traceDrop(x.from, x.to, x.id, x.msg, event.PeerDown)
				}
				l.restart(st)
			}
			l.lastAt, l.wireFree, l.resumeAt = 0, 0, 0
		}
	}
}

// probe is the retransmission timer of a connection whose far end crashed
// behind a drop cut, unknown to this end. While the link is cut the
// timeout doubles, and after tcp_retries2 expiries the connection breaks;
// once a retransmission gets through, the far end's kernel, which knows no
// such connection, answers with a reset, one round trip later.
func (n *Network) probe(ev Event) {
	from, to := NodeID(ev.A>>32), NodeID(int32(ev.A))
	rto, tries := Time(ev.B>>8), int32(ev.B&0xff)
	if !n.w.Up(from) {
		return // the probing end crashed too: its connections are gone
	}
	l, back := n.link(from, to), n.link(to, from)
	x := E(n.w.now, from, event.Retransmit)
	x.Peer = to
	switch {
	case l.reject > 0 || back.reject > 0:
		n.w.Trace.Add(x)
		n.notifyLocal(to, from)
	case l.cut > 0 || back.cut > 0:
		if tries++; tries > tcpRetries {
			x.Flags |= event.Closed
			n.w.Trace.Add(x)
			n.notifyLocal(to, from)
			return
		}
		rto = min(2*rto, rtoMax)
		x.X().Dur = rto.Duration()
		n.w.Trace.Add(x)
		n.w.Schedule(n.w.now+rto, from, kindProbe, ev.A, int64(rto)<<8|int64(tries))
	default:
		x.Flags |= event.Delivered
		n.w.Trace.Add(x)
		slot := n.alloc(envelope{from: to, to: from, msg: Disconnected{Peer: to}, local: true})
		n.w.Schedule(n.w.now+n.oneWay(from, to, l)+n.oneWay(to, from, back), from, kindDeliver, int64(slot), 0)
	}
}

// notify delivers a Disconnected from peer to node, unless a cut stops it,
// and reports whether it went.
func (n *Network) notify(peer, node NodeID) bool {
	l := n.link(peer, node)
	if !n.w.Up(node) || l.cut > 0 || l.reject > 0 {
		return false
	}
	at := n.w.now + n.oneWay(peer, node, l)
	if at < l.lastAt {
		at = l.lastAt
	}
	l.lastAt = at
	slot := n.alloc(envelope{from: peer, to: node, msg: Disconnected{Peer: peer}})
	n.w.Schedule(at, node, kindDeliver, int64(slot), 0)
	return true
}

// notifyLocal tells node that its connections to peer broke, from its own
// side: the reset or the ICMP error reaches it whatever the link from peer
// does, one trip after the packet that met the cut.
func (n *Network) notifyLocal(peer, node NodeID) {
	if !n.w.Up(node) {
		return
	}
	slot := n.alloc(envelope{from: peer, to: node, msg: Disconnected{Peer: peer}, local: true})
	n.w.Schedule(n.w.now+n.oneWay(node, peer, n.link(node, peer)), node, kindDeliver, int64(slot), 0)
}

// traceDrop records a lost message and why (event.PeerDown: the destination
// was down; event.Rejected: a reject cut refused it; event.Closed: its
// connection closed first).
func (n *Network) traceDrop(from, to NodeID, id int64, m Message, why event.Flag) {
	if id == 0 {
		return // a Disconnected notice, not a message between nodes
	}
	e := E(n.w.now, from, event.Drop)
	e.Peer = to
	e.Ext = &event.Ext{Label: m.Name(), Msg: id}
	e.Flags |= why
	n.w.Trace.Add(e)
}
