package sim

// Kind says what an event means to the node that handles it. Kinds below
// FirstUserKind are reserved for the engine.
type Kind uint16

const (
	kindDeliver    Kind = iota // a network message arrives; A is its slot
	kindRetransmit             // a stalled stream's retransmission timer; A: from<<32|to, B: the stream's generation
	kindProbe                  // a connection's retransmission toward a node that crashed behind a cut; A: from<<32|to, B: rto<<8|tries
	// FirstUserKind is the first kind a component may define.
	FirstUserKind
)

// Event is a timer or a message arrival, stored by value in the queue so that
// scheduling allocates nothing. A and B carry whatever the handler needs
// (an id, a generation number); their meaning belongs to the Kind.
type Event struct {
	At   Time
	seq  uint64
	Node NodeID
	inc  uint32 // the node's incarnation when scheduled; stale after a crash
	Kind Kind
	A, B int64
}

// queue is a binary min-heap of events ordered by (At, seq), with one slot
// in front of it. It is written out by hand rather than through
// container/heap so that pushes and pops do not box events in interfaces,
// and it moves a hole rather than swapping, so each level costs one copy of
// an event instead of three. Every seq is unique, so the order events come
// out in does not depend on the heap's layout.
//
// The front slot holds an event that runs before everything in the heap.
// Most handlers schedule their own next step soonest (a workload's next
// record, a timer re-armed a moment later), so that event goes to the front
// and comes out again without climbing to the root and sinking back: a
// pop then costs no heap work at all. The slot changes no order: it is
// only ever the minimum.
type queue struct {
	front    Event
	hasFront bool
	ev       []Event
}

func (q *queue) len() int {
	if q.hasFront {
		return len(q.ev) + 1
	}
	return len(q.ev)
}

// before reports whether a runs before b.
func before(a, b *Event) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	return a.seq < b.seq
}

func (q *queue) push(e Event) {
	switch {
	case q.hasFront:
		if before(&e, &q.front) {
			e, q.front = q.front, e
		}
	case len(q.ev) == 0 || before(&e, &q.ev[0]):
		q.front, q.hasFront = e, true
		return
	}
	q.heapPush(e)
}

func (q *queue) heapPush(e Event) {
	q.ev = append(q.ev, e)
	ev := q.ev
	i := len(ev) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !before(&e, &ev[parent]) {
			break
		}
		ev[i] = ev[parent]
		i = parent
	}
	ev[i] = e
}

// peek is the next event; the queue must not be empty.
func (q *queue) peek() *Event {
	if q.hasFront {
		return &q.front
	}
	return &q.ev[0]
}

func (q *queue) pop() Event {
	if q.hasFront {
		q.hasFront = false
		return q.front
	}
	ev := q.ev
	top := ev[0]
	n := len(ev) - 1
	last := ev[n]
	ev = ev[:n]
	q.ev = ev
	if n == 0 {
		return top
	}
	i := 0
	for {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && before(&ev[r], &ev[m]) {
			m = r
		}
		if !before(&ev[m], &last) {
			break
		}
		ev[i] = ev[m]
		i = m
	}
	ev[i] = last
	return top
}
