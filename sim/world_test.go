package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = Millisecond

func TestScheduleInThePastPanics(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	w.RunUntil(10 * ms)
	require.Equal(t, 10*ms, w.Now())

	msg := panicMessage(t, func() { w.Schedule(5*ms, n.id, kTick, 0, 0) })
	assert.Contains(t, msg, "time must not move backwards")
	assert.Contains(t, msg, "0.005s")
	assert.Contains(t, msg, "0.010s")

	msg = panicMessage(t, func() { w.After(-1, n.id, kTick, 0, 0) })
	assert.Contains(t, msg, "backwards")

	assert.NotPanics(t, func() { w.Schedule(10*ms, n.id, kTick, 0, 0) }, "now itself is not the past")
}

func TestRunUntilHandlesEventsUpToTheLimitAndMovesTheClock(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	for i, at := range []Time{3 * ms, 10 * ms, 10*ms + 1} {
		w.Schedule(at, n.id, kTick, int64(i), 0)
	}

	w.RunUntil(10 * ms)

	assert.Equal(t, []handled{{3 * ms, kTick, 0, 0}, {10 * ms, kTick, 1, 0}}, n.events,
		"an event exactly at the limit is handled, one just after it is not")
	assert.Equal(t, 10*ms, w.Now())

	w.RunUntil(Second)
	assert.Len(t, n.events, 3)
	assert.Equal(t, Second, w.Now(), "the clock reaches the limit even with nothing left to do")

	w.RunUntil(500 * ms)
	assert.Equal(t, Second, w.Now(), "an earlier limit does not turn the clock back")
}

func TestEventsAtOneTimeRunInScheduleOrderAcrossNodes(t *testing.T) {
	w := NewWorld(1)
	rs := addRecorders(w, "a", "b")
	var seen []int64
	for i := int64(0); i < 6; i++ {
		node := rs[i%2]
		node.at(5*ms, func() { seen = append(seen, i) })
	}

	w.RunUntil(5 * ms)

	assert.Equal(t, []int64{0, 1, 2, 3, 4, 5}, seen)
}

func TestEventsCarryTheirFields(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	w.RunUntil(2 * ms)
	w.After(3*ms, n.id, kOther, 42, -7)

	w.RunUntil(Second)

	assert.Equal(t, []handled{{5 * ms, kOther, 42, -7}}, n.events)
}

func TestStreamsAreReproducibleAndIndependent(t *testing.T) {
	draw := func(w *World, name string, k int) []uint64 {
		s := w.Stream(name)
		out := make([]uint64, k)
		for i := range out {
			out[i] = s.Uint64()
		}
		return out
	}

	t.Run("same seed and name give the same sequence", func(t *testing.T) {
		assert.Equal(t, draw(NewWorld(7), "producer", 20), draw(NewWorld(7), "producer", 20))
	})
	t.Run("a different name gives a different sequence", func(t *testing.T) {
		assert.NotEqual(t, draw(NewWorld(7), "producer", 20), draw(NewWorld(7), "broker", 20))
	})
	t.Run("a different seed gives a different sequence", func(t *testing.T) {
		assert.NotEqual(t, draw(NewWorld(7), "producer", 20), draw(NewWorld(8), "producer", 20))
	})
	t.Run("drawing from one stream does not shift another", func(t *testing.T) {
		want := draw(NewWorld(7), "broker", 20)

		w := NewWorld(7)
		producer := w.Stream("producer")
		broker := w.Stream("broker")
		got := make([]uint64, 0, 20)
		for i := 0; i < 20; i++ {
			// Interleave: the producer draws a varying amount between broker draws.
			for j := 0; j <= i%3; j++ {
				producer.Uint64()
			}
			got = append(got, broker.Uint64())
		}
		assert.Equal(t, want, got)
	})
}

func TestCrashDropsPendingTimersAndMessages(t *testing.T) {
	w := NewWorld(1)
	w.Net.Configure(LinkConfig{Latency: 5 * ms})
	rs := addRecorders(w, "client", "server")
	client, server := rs[0], rs[1]

	// Before the crash: a timer at 10ms and a message arriving at 5ms.
	w.Schedule(10*ms, server.id, kTick, 1, 0)
	w.Net.Send(client.id, server.id, ping{N: 1})

	w.RunUntil(2 * ms)
	w.Crash(server.id)
	require.False(t, w.Up(server.id))
	w.RunUntil(3 * ms)
	w.Restart(server.id)
	require.True(t, w.Up(server.id))
	// The new incarnation's own timer does fire.
	w.Schedule(20*ms, server.id, kTick, 2, 0)

	w.RunUntil(Second)

	assert.Equal(t, []handled{{20 * ms, kTick, 2, 0}}, server.events,
		"the old incarnation's timer at 10ms must not fire after the restart")
	assert.Empty(t, server.msgs, "the message sent to the old incarnation must not arrive")
	assert.Equal(t, []delivery{
		{7 * ms, server.id, Disconnected{Peer: server.id}},  // the crash closes the connection
		{10 * ms, server.id, Disconnected{Peer: server.id}}, // the ping hits a reset
	}, client.msgs)
}

func TestCrashAndRestartTwiceActOnce(t *testing.T) {
	w := NewWorld(1)
	rs := addRecorders(w, "a", "b")
	a, b := rs[0], rs[1]

	w.Crash(b.id)
	w.Crash(b.id)
	w.Restart(b.id)
	w.Restart(b.id)
	w.Schedule(5*ms, b.id, kTick, 0, 0)
	w.RunUntil(Second)

	assert.Len(t, a.msgs, 1, "one crash, one notification")
	assert.Len(t, b.events, 1, "the restarted node runs its timers")
}

func TestPauseDefersAndResumeReplaysInOriginalOrder(t *testing.T) {
	w := NewWorld(1)
	w.Net.Configure(LinkConfig{Latency: 5 * ms})
	rs := addRecorders(w, "client", "server")
	client, server := rs[0], rs[1]

	w.Schedule(10*ms, server.id, kTick, 10, 0)
	w.Schedule(3*ms, server.id, kTick, 3, 0)
	w.Net.Send(client.id, server.id, ping{N: 1}) // arrives at 5ms
	w.Schedule(20*ms, server.id, kTick, 20, 0)

	w.RunUntil(1 * ms)
	w.Pause(server.id)
	require.True(t, w.Paused(server.id))
	require.True(t, w.Up(server.id), "a paused node is still up")

	w.RunUntil(15 * ms)
	assert.Empty(t, server.events, "nothing is handled while paused")
	assert.Empty(t, server.msgs)
	assert.Zero(t, w.Events(), "deferred events are not counted as handled")

	w.Resume(server.id)
	require.False(t, w.Paused(server.id))
	w.RunUntil(Second)

	assert.Equal(t, []handled{
		{15 * ms, kTick, 3, 0},
		{15 * ms, kTick, 10, 0},
		{20 * ms, kTick, 20, 0},
	}, server.events, "deferred timers fire at the resume time; later ones at their own time")
	assert.Equal(t, []delivery{{15 * ms, client.id, ping{N: 1}}}, server.msgs)
	assert.Equal(t, uint64(4), w.Events())
	assert.Empty(t, client.msgs, "a pause does not close connections")
}

func TestResumeReplaysDeferredTimersAndMessagesInterleaved(t *testing.T) {
	// One handler sees both kinds, so the relative order is observable.
	w := NewWorld(1)
	w.Net.Configure(LinkConfig{Latency: 5 * ms})
	rs := addRecorders(w, "client", "server")
	client, server := rs[0], rs[1]
	var seen []string
	for _, step := range []struct {
		at   Time
		name string
	}{{3 * ms, "timer@3"}, {10 * ms, "timer@10"}} {
		server.at(step.at, func() { seen = append(seen, step.name) })
	}
	obs := &observer{recorder: server, seen: &seen}
	w.SetHandler(server.id, obs)
	w.Net.Send(client.id, server.id, ping{N: 5})

	w.Pause(server.id)
	w.RunUntil(12 * ms)
	require.Empty(t, seen)
	w.Resume(server.id)
	w.RunUntil(12 * ms)

	assert.Equal(t, []string{"timer@3", "ping@12ms", "timer@10"}, seen)
}

// observer records messages into the same list as the recorder's scripted steps.
type observer struct {
	*recorder
	seen *[]string
}

func (o *observer) HandleMessage(from NodeID, m Message) {
	*o.seen = append(*o.seen, m.Name()+"@"+o.w.Now().Duration().String())
}

func TestPauseAndResumeOnlyAffectRunningNodes(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	w.Crash(n.id)
	w.Pause(n.id)
	assert.False(t, w.Paused(n.id), "a crashed node cannot be paused")
	w.Resume(n.id)
	assert.False(t, w.Up(n.id), "resume does not bring a crashed node back")

	w.Restart(n.id)
	w.Resume(n.id)
	assert.True(t, w.Up(n.id))
	assert.False(t, w.Paused(n.id))

	w.Pause(n.id)
	w.Restart(n.id)
	assert.True(t, w.Paused(n.id), "restart does not wake a paused node")
}

func TestCrashWhilePausedDiscardsDeferredWork(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	w.Schedule(5*ms, n.id, kTick, 0, 0)
	w.Pause(n.id)
	w.RunUntil(10 * ms)
	w.Crash(n.id)
	w.Restart(n.id)
	// A later pause of the new incarnation must not replay the old one's work.
	w.Pause(n.id)
	w.RunUntil(20 * ms)
	w.Resume(n.id)

	w.RunUntil(Second)

	assert.Empty(t, n.events)
	assert.Zero(t, w.Events())
}

func TestEventsCountsOnlyHandledEvents(t *testing.T) {
	w := NewWorld(1)
	rs := addRecorders(w, "a", "b")
	a, b := rs[0], rs[1]
	w.Schedule(1*ms, a.id, kTick, 0, 0)
	w.Schedule(2*ms, a.id, kTick, 0, 0)
	w.Schedule(3*ms, b.id, kTick, 0, 0) // b crashes first: dropped, not handled
	w.Crash(b.id)
	w.Net.Send(b.id, a.id, ping{}) // from a crashed node: never sent

	require.Zero(t, w.Events())
	w.RunUntil(Second)

	// a's two timers plus the Disconnected that b's crash sent to a.
	assert.Equal(t, uint64(3), w.Events())
	assert.Len(t, a.events, 2)
	assert.Equal(t, []delivery{{0, b.id, Disconnected{Peer: b.id}}}, a.msgs)
}

func TestStepAndRunWhile(t *testing.T) {
	w := NewWorld(1)
	n := addRecorders(w, "n")[0]
	for i := 1; i <= 5; i++ {
		w.Schedule(Time(i)*ms, n.id, kTick, int64(i), 0)
	}

	require.True(t, w.Step(Never))
	assert.Equal(t, 1*ms, w.Now())
	assert.False(t, w.Step(1*ms+500*Microsecond), "the next event is after the limit")
	assert.Equal(t, 1*ms+500*Microsecond, w.Now())

	stopped := w.RunWhile(Second, func() bool { return len(n.events) < 3 })
	assert.True(t, stopped, "the condition stopped the run")
	assert.Equal(t, 3*ms, w.Now())

	stopped = w.RunWhile(4*ms, func() bool { return true })
	assert.False(t, stopped, "the limit stopped the run")
	assert.Equal(t, 4*ms, w.Now())
	assert.Len(t, n.events, 4)
}

func TestNodeNames(t *testing.T) {
	w := NewWorld(1)
	rs := addRecorders(w, "broker-0", "producer")
	assert.Equal(t, 2, w.NumNodes())
	assert.Equal(t, NodeID(0), rs[0].id)
	assert.Equal(t, NodeID(1), rs[1].id)
	assert.Equal(t, "producer", w.NodeName(1))
	assert.Equal(t, "none", w.NodeName(NoNode))
	assert.Equal(t, "none", w.NodeName(2))
}
