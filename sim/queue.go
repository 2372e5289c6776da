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

// queue is a binary min-heap of events ordered by (At, seq). It is written out
// by hand rather than through container/heap so that pushes and pops do not
// box events in interfaces.
type queue struct {
	ev []Event
}

func (q *queue) len() int { return len(q.ev) }

func (q *queue) less(i, j int) bool {
	a, b := &q.ev[i], &q.ev[j]
	if a.At != b.At {
		return a.At < b.At
	}
	return a.seq < b.seq
}

func (q *queue) push(e Event) {
	q.ev = append(q.ev, e)
	i := len(q.ev) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.ev[i], q.ev[parent] = q.ev[parent], q.ev[i]
		i = parent
	}
}

func (q *queue) peek() *Event { return &q.ev[0] }

func (q *queue) pop() Event {
	top := q.ev[0]
	last := len(q.ev) - 1
	q.ev[0] = q.ev[last]
	q.ev = q.ev[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= last {
			break
		}
		m := l
		if r := l + 1; r < last && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			break
		}
		q.ev[i], q.ev[m] = q.ev[m], q.ev[i]
		i = m
	}
	return top
}
