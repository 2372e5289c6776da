package sim

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
)

// newNet makes a world with the given link behaviour and recording nodes.
func newNet(seed uint64, cfg LinkConfig, names ...string) (*World, []*recorder) {
	w := NewWorld(seed)
	w.Net.Configure(cfg)
	return w, addRecorders(w, names...)
}

func arrivals(msgs []delivery) []Time {
	var ts []Time
	for _, d := range msgs {
		ts = append(ts, d.At)
	}
	return ts
}

func TestLatencyIsAppliedToEveryMessage(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 7 * ms}, "a", "b")
	a, b := rs[0], rs[1]

	w.Net.Send(a.id, b.id, ping{N: 1})
	a.at(10*ms, func() { w.Net.Send(a.id, b.id, ping{N: 2}) })
	b.at(12*ms, func() { w.Net.Send(b.id, a.id, ping{N: 3}) })
	w.RunUntil(Second)

	assert.Equal(t, []delivery{{7 * ms, a.id, ping{N: 1}}, {17 * ms, a.id, ping{N: 2}}}, b.msgs)
	assert.Equal(t, []delivery{{19 * ms, b.id, ping{N: 3}}}, a.msgs)
}

func TestJitterStaysInRangeAndIsReproducible(t *testing.T) {
	tests := []struct {
		name        string
		cfg         LinkConfig
		minDistinct int
	}{
		{"milliseconds of jitter", LinkConfig{Latency: 10 * ms, Jitter: 4 * ms}, 100},
		{"two nanoseconds of jitter: 0 or 1", LinkConfig{Latency: 10 * ms, Jitter: 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each message goes on its own link, so FIFO clamping cannot move
			// it: what arrives is latency plus the drawn jitter.
			run := func(seed uint64) []Time {
				names := []string{"src"}
				for i := 0; i < 200; i++ {
					names = append(names, "dst")
				}
				w, rs := newNet(seed, tt.cfg, names...)
				for _, dst := range rs[1:] {
					w.Net.Send(rs[0].id, dst.id, ping{})
				}
				w.RunUntil(Second)
				var ts []Time
				for _, dst := range rs[1:] {
					require.Len(t, dst.msgs, 1)
					ts = append(ts, dst.msgs[0].At)
				}
				return ts
			}

			first := run(42)
			distinct := map[Time]bool{}
			for _, at := range first {
				assert.GreaterOrEqual(t, at, tt.cfg.Latency)
				assert.Less(t, at, tt.cfg.Latency+tt.cfg.Jitter)
				distinct[at] = true
			}
			assert.GreaterOrEqual(t, len(distinct), tt.minDistinct, "jitter must actually vary the delay")

			assert.Equal(t, first, run(42), "the same seed gives the same delays")
			assert.NotEqual(t, first, run(43), "another seed gives other delays")
		})
	}
}

func TestLinkDeliversInSendOrderDespiteJitter(t *testing.T) {
	cfg := LinkConfig{Latency: 10 * ms, Jitter: 5 * ms}
	w, rs := newNet(3, cfg, "a", "b")
	a, b := rs[0], rs[1]

	// 50 messages, 100µs apart: jitter alone would reorder many of them.
	for i := 0; i < 50; i++ {
		a.at(Time(i)*100*Microsecond, func() { w.Net.Send(a.id, b.id, ping{N: i}) })
	}
	w.RunUntil(Second)

	require.Len(t, b.msgs, 50)
	want := make([]int, 50)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, pings(b.msgs), "a link is a TCP stream: send order is kept")
	ts := arrivals(b.msgs)
	assert.IsNonDecreasing(t, ts)
	assert.Less(t, ts[len(ts)-1], 49*100*Microsecond+cfg.Latency+cfg.Jitter,
		"holding a message behind earlier ones never adds more than the jitter")
}

func TestBandwidthAddsTransmissionTimeAndQueuesOnTheLink(t *testing.T) {
	tests := []struct {
		name      string
		bandwidth int64
		sizes     []int
		want      []Time
	}{
		{
			name:      "unlimited bandwidth costs nothing",
			bandwidth: 0,
			sizes:     []int{1000, 1000},
			want:      []Time{10 * ms, 10 * ms},
		},
		{
			name:      "100 bytes at 8000 bps take 100ms each, one after the other",
			bandwidth: 8000,
			sizes:     []int{100, 100, 100},
			want:      []Time{110 * ms, 210 * ms, 310 * ms},
		},
		{
			name:      "a small message waits behind a big one",
			bandwidth: 8000,
			sizes:     []int{1000, 1},
			want:      []Time{1010 * ms, 1011 * ms},
		},
		{
			name:      "transmission time is rounded up to a whole nanosecond",
			bandwidth: 3,
			sizes:     []int{1},
			want:      []Time{10*ms + 2666666667},
		},
		{
			name:      "an empty message takes no wire time",
			bandwidth: 8000,
			sizes:     []int{0, 0},
			want:      []Time{10 * ms, 10 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := newNet(1, LinkConfig{Latency: 10 * ms, Bandwidth: tt.bandwidth}, "a", "b")
			for i, size := range tt.sizes {
				w.Net.Send(rs[0].id, rs[1].id, ping{N: i, Wire: size})
			}
			w.RunUntil(Minute)

			assert.Equal(t, tt.want, arrivals(rs[1].msgs))
		})
	}
}

func TestBandwidthIsPerDirectedLink(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms, Bandwidth: 8000}, "a", "b", "c")
	a, b, c := rs[0], rs[1], rs[2]

	w.Net.Send(a.id, b.id, ping{N: 1, Wire: 100})
	w.Net.Send(a.id, c.id, ping{N: 2, Wire: 100}) // another link: does not queue
	w.Net.Send(b.id, a.id, ping{N: 3, Wire: 100}) // the reverse direction: does not queue
	// Once a->b is idle again, a new message does not wait for the old one.
	a.at(500*ms, func() { w.Net.Send(a.id, b.id, ping{N: 4, Wire: 100}) })
	w.RunUntil(Second)

	assert.Equal(t, []Time{110 * ms, 610 * ms}, arrivals(b.msgs))
	assert.Equal(t, []Time{110 * ms}, arrivals(c.msgs))
	assert.Equal(t, []Time{110 * ms}, arrivals(a.msgs))
}

func TestCutDropsOneDirectionOnly(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 5 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Cut(a.id, b.id, false)
	require.True(t, w.Net.IsCut(a.id, b.id))
	require.False(t, w.Net.IsCut(b.id, a.id))

	w.Net.Send(a.id, b.id, ping{N: 1})
	w.Net.Send(b.id, a.id, ping{N: 2})
	w.RunUntil(Second)

	assert.Empty(t, b.msgs, "a->b is cut")
	assert.Equal(t, []int{2}, pings(a.msgs), "b->a still works")
}

func TestCutsNest(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 5 * ms}, "a", "b")
	a, b := rs[0], rs[1]

	w.Net.Cut(a.id, b.id, false) // one fault...
	w.Net.Cut(a.id, b.id, false) // ...and another on the same link
	w.Net.Uncut(a.id, b.id, false)
	assert.True(t, w.Net.IsCut(a.id, b.id), "one fault is still active")
	w.Net.Uncut(a.id, b.id, false)
	assert.False(t, w.Net.IsCut(a.id, b.id))
	w.Net.Uncut(a.id, b.id, false) // an extra uncut does not bank credit
	w.Net.Cut(a.id, b.id, false)
	assert.True(t, w.Net.IsCut(a.id, b.id), "a cut after an extra uncut still cuts")
	w.Net.Cut(a.id, b.id, true)
	w.Net.Uncut(a.id, b.id, false)
	assert.True(t, w.Net.IsCut(a.id, b.id), "a reject cut is undone by a reject uncut only")
	w.Net.Uncut(a.id, b.id, true)
	assert.False(t, w.Net.IsCut(a.id, b.id))
}

// A segment that meets a drop cut is retransmitted with Linux's RTO (200 ms
// plus the round trip, doubling); the stream resumes at the first
// retransmission after the heal, with everything sent behind it, in order.
func TestDropCutDelaysTheStreamInOrder(t *testing.T) {
	tests := []struct {
		name    string
		uncutAt Time
		resume  Time // when the retransmission gets through
	}{
		{"healed before the first retransmission", 100 * ms, 220 * ms},
		{"healed after it: the next one, twice as late", 300 * ms, 660 * ms},
		{"healed before it arrives: nothing held", 8 * ms, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
			a, b := rs[0], rs[1]
			w.Net.Send(a.id, b.id, ping{N: 1})
			a.at(5*ms, func() { w.Net.Cut(a.id, b.id, false) })
			a.at(tt.uncutAt, func() { w.Net.Uncut(a.id, b.id, false) })
			for i := 2; i <= 4; i++ {
				a.at(Time(i)*100*ms, func() { w.Net.Send(a.id, b.id, ping{N: i}) })
			}
			w.RunUntil(Second)

			assert.Equal(t, []int{1, 2, 3, 4}, pings(b.msgs), "nothing lost, nothing reordered")
			if tt.resume == 0 {
				assert.Equal(t, 10*ms, b.msgs[0].At)
				assert.Empty(t, w.Trace.Entries())
				return
			}
			for _, d := range b.msgs {
				if d.At < tt.resume+10*ms {
					t.Errorf("ping %v arrived at %v, before the retransmission at %v got through", d.Msg, d.At, tt.resume)
				}
			}
			assert.Equal(t, tt.resume+10*ms, b.msgs[0].At, "one trip after the retransmission")
			kinds := map[event.Kind]int{}
			for _, e := range w.Trace.Entries() {
				kinds[e.Kind]++
				assert.NotEqual(t, event.Drop, e.Kind, "a held message is not a drop")
			}
			assert.Positive(t, kinds[event.Held])
			last := w.Trace.Entries()[len(w.Trace.Entries())-1]
			assert.Equal(t, event.Retransmit, last.Kind)
			assert.True(t, last.Has(event.Delivered))
			assert.Equal(t, tt.resume, last.At)
		})
	}
}

// Each channel of a link is its own stream: one stalled since a long cut
// (its retransmission timeout grown) holds only its own messages, and a
// connection on another channel that meets the cut later resumes on its
// own, shorter, timer.
func TestStreamsOfALinkStallApart(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Cut(a.id, b.id, false)
	w.Net.Send(a.id, b.id, ping{N: 1}) // retransmitted at 0.22, 0.66, 1.54, 3.30, 6.82 s
	a.at(5*Second, func() { w.Net.Send(a.id, b.id, chat{N: 2}) })
	a.at(5100*ms, func() { w.Net.Uncut(a.id, b.id, false) })
	w.RunUntil(10 * Second)

	assert.Equal(t, []delivery{
		{5230 * ms, a.id, chat{N: 2}},       // its own first retransmission, 5 s + 220 ms
		{6820*ms + 10*ms, a.id, ping{N: 1}}, // the old stream's next one
	}, b.msgs)
}

func TestRetransmissionTimeoutDoublesToItsCapThenTheConnectionBreaks(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Cut(a.id, b.id, false)
	w.Net.Send(a.id, b.id, ping{N: 1})
	w.RunUntil(60 * Minute)

	var at []Time
	var gaveUp bool
	for _, e := range w.Trace.Entries() {
		if e.Kind == event.Retransmit {
			at = append(at, e.At)
			gaveUp = e.Has(event.Closed)
		}
	}
	require.Len(t, at, 16, "tcp_retries2: 15 retransmissions, and the 16th expiry breaks the connection")
	assert.Equal(t, 220*ms, at[0])
	assert.Equal(t, 220*ms+440*ms, at[1])
	assert.Equal(t, 120*Second, at[15]-at[14], "TCP_RTO_MAX")
	assert.True(t, gaveUp)
	assert.Equal(t, []delivery{{at[15] + 10*ms, b.id, Disconnected{Peer: b.id}}}, a.msgs, "the sender learns its connection broke")
	assert.Equal(t, []delivery{{at[15] + 10*ms, a.id, Disconnected{Peer: a.id}}}, b.msgs)
}

func TestRejectCutResetsConnectionsAndRefusesWhatIsSent(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Send(a.id, b.id, ping{N: 1}) // on the wire when the cut comes
	a.at(5*ms, func() { w.Net.Cut(a.id, b.id, true) })
	a.at(100*ms, func() { w.Net.Send(a.id, b.id, ping{N: 2}) })
	a.at(200*ms, func() { w.Net.Send(b.id, a.id, ping{N: 3}) }) // the other direction still carries
	w.RunUntil(Second)

	assert.Equal(t, []delivery{
		{15 * ms, b.id, Disconnected{Peer: b.id}},
		{110 * ms, b.id, Disconnected{Peer: b.id}},
		{210 * ms, b.id, ping{N: 3}},
	}, a.msgs)
	assert.Equal(t, []delivery{
		{15 * ms, a.id, Disconnected{Peer: a.id}},
		{110 * ms, a.id, Disconnected{Peer: a.id}}, // 2 refused: its connection broke on both ends
	}, b.msgs)
	var why []event.Flag
	for _, e := range w.Trace.Entries() {
		if e.Kind == event.Drop {
			why = append(why, e.Flags)
		}
	}
	assert.Equal(t, []event.Flag{event.Closed, event.Rejected}, why, "1 discarded by the reset, 2 refused")
}

func TestCloseDiscardsOnlyTheClosedConnection(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Send(a.id, b.id, ping{N: 1})
	w.Net.Send(a.id, b.id, pong{})
	w.Net.Send(b.id, a.id, ping{N: 2})
	w.Net.Send(b.id, a.id, otherChannel{})
	a.at(5*ms, func() {
		n := w.Net.Close(a.id, b.id, 0, 0)
		assert.Equal(t, 1, n, "b's answer on the closed connection")
		w.Net.Send(a.id, b.id, ping{N: 3}) // the new connection
	})
	w.RunUntil(Second)

	assert.Equal(t, []delivery{{10 * ms, a.id, ping{N: 1}}, {10 * ms, a.id, pong{}}, {15 * ms, a.id, ping{N: 3}}}, b.msgs,
		"what a sent before it closed was on the wire and arrives")
	assert.Equal(t, []delivery{{10 * ms, b.id, otherChannel{}}}, a.msgs, "another connection between the two goes on")
}

// otherChannel travels on a connection of its own.
type otherChannel struct{}

func (otherChannel) Name() string     { return "other" }
func (otherChannel) Size() int        { return 0 }
func (otherChannel) Channel() Channel { return 1 }

func TestAddDelayAppliesToEveryLinkOfTheNode(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b", "c")
	a, b, c := rs[0], rs[1], rs[2]

	w.Net.AddDelay(b.id, 20*ms)
	w.Net.Send(a.id, b.id, ping{N: 1}) // into b: +20
	w.Net.Send(b.id, c.id, ping{N: 2}) // out of b: +20
	w.Net.Send(a.id, c.id, ping{N: 3}) // not b's link: plain latency

	a.at(100*ms, func() {
		w.Net.AddDelay(a.id, 5*ms)
		w.Net.Send(a.id, b.id, ping{N: 4}) // both ends delayed: +25
	})
	a.at(200*ms, func() {
		w.Net.AddDelay(b.id, -20*ms)
		w.Net.AddDelay(a.id, -5*ms)
		w.Net.Send(a.id, b.id, ping{N: 5}) // removed: plain latency again
	})
	w.RunUntil(Second)

	assert.Equal(t, []delivery{
		{30 * ms, a.id, ping{N: 1}},
		{135 * ms, a.id, ping{N: 4}},
		{210 * ms, a.id, ping{N: 5}},
	}, b.msgs)
	assert.Equal(t, []delivery{
		{10 * ms, a.id, ping{N: 3}},
		{30 * ms, b.id, ping{N: 2}},
	}, c.msgs)
}

func TestAddLinkDelayAppliesToOneDirectionOfOneLink(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b", "c")
	a, b, c := rs[0], rs[1], rs[2]

	w.Net.AddLinkDelay(a.id, b.id, 20*ms)
	w.Net.Send(a.id, b.id, ping{N: 1}) // the delayed link: +20
	w.Net.Send(b.id, a.id, ping{N: 2}) // the other direction: plain latency
	w.Net.Send(c.id, b.id, ping{N: 3}) // another link into b: plain latency
	a.at(100*ms, func() {
		w.Net.AddLinkDelay(a.id, b.id, -20*ms)
		w.Net.Send(a.id, b.id, ping{N: 4}) // removed: plain latency again
	})
	w.RunUntil(Second)

	assert.Equal(t, []delivery{
		{10 * ms, c.id, ping{N: 3}},
		{30 * ms, a.id, ping{N: 1}},
		{110 * ms, a.id, ping{N: 4}},
	}, b.msgs)
	assert.Equal(t, []delivery{{10 * ms, b.id, ping{N: 2}}}, a.msgs)
}

func TestMessageToACrashedNodeIsAnsweredWithAReset(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want []delivery // what the sender receives after the crash notice
	}{
		{
			name: "a message gets a reset one latency after it arrives",
			msg:  ping{N: 1},
			want: []delivery{{100*ms + 10*ms + 10*ms, 1, Disconnected{Peer: 1}}},
		},
		{
			name: "a Disconnected is not answered",
			msg:  Disconnected{Peer: 0},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "client", "server")
			client, server := rs[0], rs[1]
			require.Equal(t, NodeID(1), server.id)
			w.Crash(server.id)
			w.RunUntil(50 * ms)
			require.Equal(t, []delivery{{10 * ms, server.id, Disconnected{Peer: server.id}}}, client.msgs,
				"the crash itself closes the connection")
			client.msgs = nil

			client.at(100*ms, func() { w.Net.Send(client.id, server.id, tt.msg) })
			w.RunUntil(Second)

			assert.Equal(t, tt.want, client.msgs)
			assert.Empty(t, server.msgs)
		})
	}
}

func TestResetsAreNotSentToCrashedSenders(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "client", "server")
	client, server := rs[0], rs[1]

	w.Net.Send(client.id, server.id, ping{N: 1}) // arrives at 10ms
	w.RunUntil(1 * ms)
	w.Crash(server.id)
	w.Crash(client.id)
	w.RunUntil(Second)

	assert.Empty(t, client.msgs, "a crashed node hears nothing")
	assert.Empty(t, server.msgs)
}

func TestCrashNotifiesEveryLivePeerItCanReach(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "crasher", "a", "b", "cutoff", "down", "deaf")
	crasher, a, b, cutoff, down, deaf := rs[0], rs[1], rs[2], rs[3], rs[4], rs[5]

	w.Crash(down.id)
	w.Net.Cut(crasher.id, cutoff.id, false) // crasher cannot reach cutoff
	w.Net.Cut(deaf.id, crasher.id, false)   // only the other direction is cut: deaf still hears
	w.Pause(b.id)                           // a paused node is up: it hears once resumed
	w.RunUntil(100 * ms)
	a.msgs = nil // drop the notices about down's crash
	w.Resume(b.id)
	w.RunUntil(100 * ms)
	b.msgs, cutoff.msgs, deaf.msgs, crasher.msgs = nil, nil, nil, nil
	w.Pause(b.id)

	w.Crash(crasher.id)
	// Whether a peer hears is decided at the crash: healing the cut or
	// restarting the down node right after does not produce a notice.
	w.Net.Uncut(crasher.id, cutoff.id, false)
	w.Restart(down.id)
	w.RunUntil(200 * ms)
	w.Resume(b.id)
	w.RunUntil(Second)

	notice := func(at Time) []delivery { return []delivery{{at, crasher.id, Disconnected{Peer: crasher.id}}} }
	assert.Equal(t, notice(110*ms), a.msgs)
	assert.Equal(t, notice(200*ms), b.msgs, "deferred while paused, handled on resume")
	assert.Equal(t, notice(110*ms), deaf.msgs)
	assert.Empty(t, cutoff.msgs, "the link from the crashed node was cut")
	assert.Empty(t, down.msgs, "a node that was down is not told")
	assert.Empty(t, crasher.msgs)
}

func TestCrashResetsTheLinksOfTheCrashedNode(t *testing.T) {
	// A big message keeps a->b busy; after b crashes and restarts, a's new
	// connection does not queue behind the dead one.
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms, Bandwidth: 8000}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Send(a.id, b.id, ping{N: 1, Wire: 10000}) // 10s on the wire
	w.RunUntil(1 * ms)
	w.Crash(b.id)
	w.Restart(b.id)
	w.Net.Send(a.id, b.id, ping{N: 2, Wire: 100})
	w.RunUntil(Minute)

	assert.Equal(t, []delivery{{111 * ms, a.id, ping{N: 2, Wire: 100}}}, b.msgs)
}

func TestDropsAreTraced(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b", "c")
	a, b, c := rs[0], rs[1], rs[2]

	w.Net.Cut(a.id, b.id, true)
	w.Net.Send(a.id, b.id, ping{N: 1}) // refused at once: a reject cut
	w.Crash(c.id)
	w.Net.Send(a.id, c.id, ping{N: 2})               // dropped on arrival: peer down
	w.Net.Send(a.id, c.id, Disconnected{Peer: a.id}) // not traced
	w.Net.Send(c.id, a.id, ping{N: 3})               // c is down: nothing is sent
	w.RunUntil(Second)

	var drops []Entry
	for _, e := range w.Trace.Entries() {
		if e.Kind == event.Drop {
			drops = append(drops, e)
		}
	}
	cut := E(0, a.id, event.Drop)
	cut.Peer, cut.Flags = b.id, event.Rejected
	cut.X().Label, cut.X().Msg = "ping", 1
	down := E(10*ms, a.id, event.Drop)
	down.Peer = c.id
	down.X().Label, down.X().Msg, down.Flags = "ping", 2, event.PeerDown
	assert.Equal(t, []Entry{cut, down}, drops)
	var sent []int64
	for _, m := range w.Trace.Messages() {
		assert.Equal(t, event.MsgSend, m.Kind, "a lost message is never received")
		sent = append(sent, m.ID)
	}
	assert.Equal(t, []int64{1, 2}, sent, "each drop has its send's id")
}

// Every message is a msg-send and a msg-receive with the same id, in the
// JSON lines in the order they happened among the other entries.
func TestMessagesAreTracedAsSendAndReceive(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Send(a.id, b.id, ping{N: 1})
	a.at(5*ms, func() { w.Trace.Add(E(w.Now(), a.id, event.Pause)) })
	b.at(20*ms, func() { w.Net.Send(b.id, a.id, pong{}) })
	w.RunUntil(Second)

	var buf bytes.Buffer
	require.NoError(t, w.Trace.WriteJSONL(&buf, names{nodes: []string{"a", "b"}}))
	assert.Equal(t, `{"at_ms":0,"node":"a","event":"msg-send","peer":"b","msg":"ping","id":1}
{"at_ms":5,"node":"a","event":"pause"}
{"at_ms":10,"node":"b","event":"msg-receive","peer":"a","msg":"ping","id":1}
{"at_ms":20,"node":"b","event":"msg-send","peer":"a","msg":"pong","id":2}
{"at_ms":30,"node":"a","event":"msg-receive","peer":"b","msg":"pong","id":2}
`, buf.String())
	assert.Equal(t, 5, w.Trace.Len(), "entries and messages")
	assert.Equal(t, "pong", w.Trace.MessageName(w.Trace.Messages()[2].Type))
}

func TestSlotsAreReusedAfterDelivery(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 1 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	for i := 0; i < 100; i++ {
		a.at(Time(i)*10*ms, func() { w.Net.Send(a.id, b.id, ping{N: i}) })
	}
	w.RunUntil(Minute)

	require.Len(t, b.msgs, 100)
	assert.Len(t, w.Net.slots, 1, "one message in flight at a time needs one slot")
}

func TestAddingNodesKeepsLinkState(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Cut(b.id, a.id, false)

	c := addRecorders(w, "c")[0]
	assert.True(t, w.Net.IsCut(b.id, a.id), "a cut survives the network growing")
	assert.False(t, w.Net.IsCut(a.id, b.id))
	assert.False(t, w.Net.IsCut(b.id, c.id))

	w.Net.Send(b.id, c.id, ping{N: 1})
	w.Net.Send(c.id, a.id, ping{N: 2})
	w.RunUntil(Second)
	assert.Equal(t, []int{1}, pings(c.msgs))
	assert.Equal(t, []int{2}, pings(a.msgs))
}

// A Disconnected stands for the FIN or RST that closes a TCP stream, and a
// directed link delivers in send order. So a peer must never receive, after
// the Disconnected, data that the crashed node sent before it crashed.
//
// Known bug: resetNode clears the crashed node's lastAt before notify uses it,
// so the notice is scheduled at now+latency and overtakes a message that is
// still being transmitted or was held up by jitter.
func TestCrashNoticeDoesNotOvertakeDataSentBeforeTheCrash(t *testing.T) {
	tests := []struct {
		name string
		cfg  LinkConfig
		size int
	}{
		{"behind a message still being transmitted", LinkConfig{Latency: 10 * ms, Bandwidth: 8000}, 1000},
		{"behind a message delayed by jitter", LinkConfig{Latency: 10 * ms, Jitter: 50 * ms}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seed uint64
			if tt.cfg.Jitter > 0 {
				seed = jitterSeedAbove(t, tt.cfg, 2*ms)
			}
			w, rs := newNet(seed, tt.cfg, "client", "server")
			client, server := rs[0], rs[1]
			w.Net.Send(server.id, client.id, ping{N: 1, Wire: tt.size}) // a response
			w.RunUntil(1 * ms)
			w.Crash(server.id)
			w.RunUntil(Minute)

			// Either fix is consistent: the ping arrives before the notice,
			// or it dies with the crash. It must not come after the notice.
			closed := -1
			for i, d := range client.msgs {
				if _, ok := d.Msg.(Disconnected); ok {
					closed = i
					break
				}
			}
			require.NotEqual(t, -1, closed, "the client is told the server crashed")
			assert.Empty(t, pings(client.msgs[closed+1:]),
				"data from the server after its Disconnected; client heard %v", client.msgs)
		})
	}
}

// jitterSeedAbove finds a seed whose first network jitter draw is at least
// min, so a test can rely on a message being held up.
func jitterSeedAbove(t *testing.T, cfg LinkConfig, min Time) uint64 {
	t.Helper()
	for seed := uint64(1); seed < 100; seed++ {
		if Time(NewWorld(seed).Stream("network").Int64N(int64(cfg.Jitter))) >= min {
			return seed
		}
	}
	require.FailNow(t, "no seed found")
	return 0
}

// Crashing a paused node discards what it had received but not handled. The
// envelopes of those messages must go back to the pool, and the losses must
// show in the trace like every other lost message.
//
// Known bug: World.Crash truncates nd.deferred without passing the deferred
// deliveries to Network (release + "drop" trace entry), so their slots leak
// and the losses are missing from the trace.
func TestCrashWhilePausedReleasesAndTracesDeferredMessages(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 1 * ms}, "client", "server")
	client, server := rs[0], rs[1]
	w.Pause(server.id)
	for i := 0; i < 3; i++ {
		w.Net.Send(client.id, server.id, ping{N: i})
	}
	w.RunUntil(10 * ms)
	w.Crash(server.id)
	w.RunUntil(Second)

	inUse := len(w.Net.slots) - len(w.Net.free)
	assert.Zero(t, inUse, "envelopes never returned to the pool")
	drops := 0
	for _, e := range w.Trace.Entries() {
		if e.Kind == event.Drop {
			drops++
		}
	}
	assert.Equal(t, 3, drops, "each lost ping is traced")
	assert.Empty(t, server.msgs)
}

// A message its sender sent before crashing that meets a cut on the way is
// lost: no kernel is left to retransmit it, even once the sender restarts.
func TestNoRetransmissionForACrashedSender(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Send(a.id, b.id, ping{N: 1})
	w.Crash(a.id)
	w.Net.Cut(a.id, b.id, false)
	w.RunUntil(20 * ms)
	w.Restart(a.id)
	w.Net.Uncut(a.id, b.id, false)
	w.RunUntil(Second)

	assert.Empty(t, pings(b.msgs))
	require.NotEmpty(t, w.Trace.Entries())
	last := w.Trace.Entries()[len(w.Trace.Entries())-1]
	assert.Equal(t, event.Drop, last.Kind)
	assert.True(t, last.Has(event.PeerDown))
}

// What is sent into a cut never overtakes what was already on the wire
// when the cut came, nor what a retransmission that just got through
// carries: the stream keeps its order.
func TestHeldStreamKeepsItsOrder(t *testing.T) {
	t.Run("sent during the cut, behind a message still on the wire", func(t *testing.T) {
		w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
		a, b := rs[0], rs[1]
		w.Net.Send(a.id, b.id, ping{N: 1})
		a.at(5*ms, func() { w.Net.Cut(a.id, b.id, false) })
		a.at(6*ms, func() { w.Net.Send(a.id, b.id, ping{N: 2}) })
		a.at(100*ms, func() { w.Net.Uncut(a.id, b.id, false) })
		w.RunUntil(Second)
		assert.Equal(t, []int{1, 2}, pings(b.msgs))
	})
	t.Run("on the wire when the retransmission gets through", func(t *testing.T) {
		w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
		a, b := rs[0], rs[1]
		w.Net.Cut(a.id, b.id, false)
		a.at(1*ms, func() { w.Net.Send(a.id, b.id, ping{N: 1}) }) // held at 11 ms, retransmitted at 221 ms
		a.at(50*ms, func() { w.Net.Uncut(a.id, b.id, false) })
		a.at(215*ms, func() { w.Net.Send(a.id, b.id, ping{N: 2}) }) // arrives at 225 ms, before the retransmission lands
		w.RunUntil(Second)
		assert.Equal(t, []delivery{{231 * ms, a.id, ping{N: 1}}, {231 * ms, a.id, ping{N: 2}}}, b.msgs)
	})
}

// TestCrashBehindADropCutIsLearntAtTheRetransmission: a peer whose data
// toward a node is held by a drop cut, and whom the crash notice cannot
// reach, learns of the crash when its retransmission gets through after
// the heal and meets the restarted node's reset; the held data is not
// delivered to the new incarnation.
func TestCrashBehindADropCutIsLearntAtTheRetransmission(t *testing.T) {
	w, rs := newNet(1, LinkConfig{Latency: 10 * ms}, "a", "b")
	a, b := rs[0], rs[1]
	w.Net.Cut(a.id, b.id, false)
	w.Net.Cut(b.id, a.id, false)
	w.Net.Send(a.id, b.id, ping{N: 1}) // held; retransmissions at 220ms, 660ms, 1540ms
	w.RunUntil(50 * ms)
	w.Crash(b.id)
	w.RunUntil(100 * ms)
	w.Restart(b.id)
	w.RunUntil(Second)
	require.Empty(t, a.msgs, "the notice could not cross the cut")
	w.Net.Uncut(a.id, b.id, false)
	w.Net.Uncut(b.id, a.id, false)
	w.RunUntil(3 * Second)

	assert.Empty(t, pings(b.msgs), "the new incarnation never sees the old connection's data")
	assert.Equal(t, []delivery{{1540*ms + 10*ms + 10*ms, b.id, Disconnected{Peer: b.id}}}, a.msgs)
}
