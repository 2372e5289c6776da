package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const kTimer = kOther + 1

// timerNode owns one Timer and handles its events the way components do:
// every event goes through Fire, and a true answer is the deadline passing.
type timerNode struct {
	*recorder
	t      Timer
	events []Time // every timer event handled
	fired  []Time // the ones where Fire said the deadline passed
}

func (n *timerNode) HandleEvent(e Event) {
	if e.Kind != kTimer {
		n.recorder.HandleEvent(e)
		return
	}
	n.events = append(n.events, e.At)
	if n.t.Fire(n.w, e) {
		n.fired = append(n.fired, e.At)
	}
}

func newTimerNode(t *testing.T) (*World, *timerNode) {
	t.Helper()
	w := NewWorld(1)
	n := &timerNode{recorder: &recorder{w: w}}
	n.id = w.AddNode("owner", n)
	n.t = NewTimer(n.id, kTimer, 9)
	require.Equal(t, Never, n.t.Deadline(), "a new timer is stopped")
	return w, n
}

func TestTimer(t *testing.T) {
	tests := []struct {
		name   string
		script func(w *World, n *timerNode)
		queued int    // events in the queue right after the script's first steps
		events []Time // timer events the owner handled
		fired  []Time
	}{
		{
			name:   "fires once at the deadline",
			script: func(w *World, n *timerNode) { n.t.Set(w, 10*ms) },
			queued: 1,
			events: []Time{10 * ms},
			fired:  []Time{10 * ms},
		},
		{
			name: "a stopped timer's event arrives and is ignored",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 10*ms)
				n.t.Stop()
			},
			queued: 1,
			events: []Time{10 * ms},
			fired:  nil,
		},
		{
			name: "moving the deadline later reuses the pending event",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 10*ms)
				n.t.Set(w, 20*ms)
			},
			queued: 1,
			events: []Time{10 * ms, 20 * ms},
			fired:  []Time{20 * ms},
		},
		{
			name: "moving the deadline earlier queues one more event",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 20*ms)
				n.t.Set(w, 10*ms)
			},
			queued: 2,
			events: []Time{10 * ms, 20 * ms},
			fired:  []Time{10 * ms},
		},
		{
			name: "setting the same deadline twice queues once",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 10*ms)
				n.t.Set(w, 10*ms)
			},
			queued: 1,
			events: []Time{10 * ms},
			fired:  []Time{10 * ms},
		},
		{
			name: "stop then set again reuses the pending event",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 10*ms)
				n.t.Stop()
				n.t.Set(w, 15*ms)
			},
			queued: 1,
			events: []Time{10 * ms, 15 * ms},
			fired:  []Time{15 * ms},
		},
		{
			name: "re-armed from its own firing, it fires again",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 10*ms)
				n.at(10*ms, func() { n.t.Set(w, 30*ms) }) // runs after the firing
			},
			queued: 2, // the timer event and the scripted step
			events: []Time{10 * ms, 30 * ms},
			fired:  []Time{10 * ms, 30 * ms},
		},
		{
			name: "moved earlier after a later event was queued: the later one is ignored",
			script: func(w *World, n *timerNode) {
				n.t.Set(w, 50*ms)
				n.at(5*ms, func() { n.t.Set(w, 20*ms) })
			},
			queued: 2,
			events: []Time{20 * ms, 50 * ms},
			fired:  []Time{20 * ms},
		},
		{
			name: "moved later while the event is due now, it waits for the new deadline",
			script: func(w *World, n *timerNode) {
				// Queued before the timer's event at the same time, so it runs first.
				n.at(10*ms, func() { n.t.Set(w, 25*ms) })
				n.t.Set(w, 10*ms)
			},
			queued: 2,
			events: []Time{10 * ms, 25 * ms},
			fired:  []Time{25 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, n := newTimerNode(t)
			tt.script(w, n)
			require.Equal(t, tt.queued, w.q.len())

			w.RunUntil(Second)

			assert.Equal(t, tt.events, n.events, "timer events handled")
			assert.Equal(t, tt.fired, n.fired, "deadlines passed")
			assert.Equal(t, Never, n.t.Deadline(), "a fired or stopped timer is stopped")
		})
	}
}

func TestTimerEventsCarryItsKindAndA(t *testing.T) {
	w := NewWorld(1)
	r := addRecorders(w, "n")[0]
	tm := NewTimer(r.id, kTick, 77)
	tm.Set(w, 3*ms)
	assert.Equal(t, 3*ms, tm.Deadline())

	w.RunUntil(Second)

	assert.Equal(t, []handled{{3 * ms, kTick, 77, 0}}, r.events)
}

func TestTimerFireBeforeTheDeadlineKeepsAnEventQueued(t *testing.T) {
	// An event the timer never queued (here: a stray one at 5ms) is still
	// handled through Fire; the timer answers false and keeps its deadline.
	w, n := newTimerNode(t)
	n.t.Set(w, 10*ms)
	w.Schedule(5*ms, n.id, kTimer, 9, 0)

	w.RunUntil(Second)

	assert.Equal(t, []Time{5 * ms, 10 * ms}, n.events)
	assert.Equal(t, []Time{10 * ms}, n.fired)
}

func TestTimerRearmedOftenKeepsTheQueueSmall(t *testing.T) {
	// A retransmission timer pushed 30ms ahead on every request, one request
	// a millisecond for a second: a naive timer would queue 1000 events.
	const requests = 1000
	w, n := newTimerNode(t)
	maxQueued := 0
	for i := 0; i < requests; i++ {
		n.at(Time(i)*ms, func() {
			n.t.Set(w, w.Now()+30*ms)
			maxQueued = max(maxQueued, len(n.t.queued))
		})
	}

	w.RunUntil(2 * Second)

	assert.Equal(t, []Time{(requests - 1 + 30) * ms}, n.fired, "fires once, 30ms after the last request")
	assert.LessOrEqual(t, len(n.events), requests/30+2, "about one timer event per 30ms")
	assert.LessOrEqual(t, maxQueued, 1, "never more than one event in flight for a later deadline")
	assert.Equal(t, uint64(requests+len(n.events)), w.Events())
}

func TestTimerStopThenRearmEarlierQueuesOnlyWhatIsNeeded(t *testing.T) {
	// Alternating between a near and a far deadline must not pile up events
	// either: once the near one is queued, the far one needs nothing new.
	w, n := newTimerNode(t)
	for i := 0; i < 100; i++ {
		n.at(Time(i)*ms, func() {
			n.t.Set(w, w.Now()+100*ms)
			n.t.Stop()
			n.t.Set(w, w.Now()+50*ms)
		})
	}

	w.RunUntil(Second)

	assert.Equal(t, []Time{149 * ms}, n.fired)
	assert.LessOrEqual(t, len(n.events), 6)
}
