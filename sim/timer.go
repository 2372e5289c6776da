package sim

// Timer is one logical timer of a node: a deadline that can be set, moved
// and stopped often without flooding the queue. The event queue cannot
// delete or move an event, so a naive timer leaves a stale event behind on
// every change; a retransmission timer re-armed on every request would keep
// thousands of them queued. Timer remembers which of its events are still
// queued and only queues a new one when none of them fires in time.
//
// The owner handles its events like this:
//
//	case kindMyTimer:
//		if t.Fire(w, e) { ...the deadline passed... }
//
// A Timer belongs to one incarnation of a node: after a crash its queued
// events are gone, so a restarted node must start with fresh Timers.
type Timer struct {
	Node     NodeID
	Kind     Kind
	A        int64 // passed in the event, to tell timers of one kind apart
	deadline Time  // Never when stopped
	queued   []Time
}

// NewTimer makes a stopped timer whose events go to node with kind and a.
func NewTimer(node NodeID, kind Kind, a int64) Timer {
	return Timer{Node: node, Kind: kind, A: a, deadline: Never}
}

// Deadline is when the timer is due, or Never.
func (t *Timer) Deadline() Time { return t.deadline }

// Set makes the timer due at at.
func (t *Timer) Set(w *World, at Time) {
	t.deadline = at
	t.ensure(w)
}

// Stop cancels the deadline. Queued events still arrive and are ignored.
func (t *Timer) Stop() { t.deadline = Never }

func (t *Timer) ensure(w *World) {
	if t.deadline == Never || (len(t.queued) > 0 && t.queued[0] <= t.deadline) {
		return
	}
	t.queued = append(t.queued, 0)
	copy(t.queued[1:], t.queued)
	t.queued[0] = t.deadline
	w.Schedule(t.deadline, t.Node, t.Kind, t.A, 0)
}

// Fire consumes one of the timer's events and reports whether the deadline
// has passed; if so the timer stops. If not, it makes sure an event is
// queued for the deadline.
func (t *Timer) Fire(w *World, e Event) bool {
	n := 0
	for n < len(t.queued) && t.queued[n] <= e.At {
		n++
	}
	t.queued = t.queued[:copy(t.queued, t.queued[n:])]
	if t.deadline <= e.At {
		t.deadline = Never
		return true
	}
	t.ensure(w)
	return false
}
