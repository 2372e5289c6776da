package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Test kinds. kAction runs a scripted step (see recorder.at); the others are
// plain timers the recorder only writes down.
const (
	kAction Kind = FirstUserKind + iota
	kTick
	kOther
)

// delivery is one message a node received.
type delivery struct {
	At   Time
	From NodeID
	Msg  Message
}

// handled is one event a node handled.
type handled struct {
	At   Time
	Kind Kind
	A, B int64
}

// recorder is a Handler that writes down everything it is given. Scripted
// steps (kAction events) run a closure instead of being recorded.
type recorder struct {
	w       *World
	id      NodeID
	msgs    []delivery
	events  []handled
	actions []func()
}

func (r *recorder) HandleEvent(e Event) {
	if e.Kind == kAction {
		r.actions[e.A]()
		return
	}
	r.events = append(r.events, handled{At: e.At, Kind: e.Kind, A: e.A, B: e.B})
}

func (r *recorder) HandleMessage(from NodeID, m Message) {
	r.msgs = append(r.msgs, delivery{At: r.w.Now(), From: from, Msg: m})
}

// at makes the node run f at virtual time t, as part of the run.
func (r *recorder) at(t Time, f func()) {
	r.actions = append(r.actions, f)
	r.w.Schedule(t, r.id, kAction, int64(len(r.actions)-1), 0)
}

// addRecorders adds one recording node per name.
func addRecorders(w *World, names ...string) []*recorder {
	rs := make([]*recorder, len(names))
	for i, name := range names {
		rs[i] = &recorder{w: w}
		rs[i].id = w.AddNode(name, rs[i])
	}
	return rs
}

// ping is a test message.
type ping struct {
	N    int
	Wire int // bytes on the wire
}

func (ping) Name() string { return "ping" }
func (p ping) Size() int  { return p.Wire }

// pong is a second type of test message.
type pong struct{}

// chat travels on a channel of its own.
type chat struct{ N int }

func (chat) Name() string     { return "chat" }
func (chat) Size() int        { return 0 }
func (chat) Channel() Channel { return 3 }

func (pong) Name() string { return "pong" }
func (pong) Size() int    { return 0 }

// pings lists the sequence numbers of the pings among msgs, in order.
func pings(msgs []delivery) []int {
	var ns []int
	for _, d := range msgs {
		if p, ok := d.Msg.(ping); ok {
			ns = append(ns, p.N)
		}
	}
	return ns
}

// panicMessage runs f and returns what it panicked with, as text.
func panicMessage(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		require.NotNil(t, r, "expected a panic")
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}
