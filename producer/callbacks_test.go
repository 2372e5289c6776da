package producer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// reentrantApp is an application that takes its next step from inside
// each callback, as the scenarios' application does: it sends, commits,
// aborts and closes from callbacks. Every callback checks that the
// producer is not in the middle of an operation; every call it makes
// would also panic (Producer.enter) if the callback ran inside one.
type reentrantApp struct {
	t *testing.T
	h *harness
	// next is what the application does after each callback, by its
	// transcript line; nil does nothing.
	next func(a *reentrantApp, line string)
}

func (a *reentrantApp) outside(what string) {
	assert.False(a.t, a.h.p.inOperation, "%s ran inside an operation of the producer", what)
}

func (a *reentrantApp) react() {
	if a.next != nil {
		a.next(a, lineText(a.h.lines[len(a.h.lines)-1]))
	}
}

func (a *reentrantApp) Completed(b *Batch, baseOffset int64, err broker.Error) {
	a.outside("Completed")
	a.h.Completed(b, baseOffset, err)
	a.react()
}

func (a *reentrantApp) Rejected(r Record, err broker.Error) {
	a.outside("Rejected")
	a.h.Rejected(r, err)
	a.react()
}

func (a *reentrantApp) Unblocked() {
	a.outside("Unblocked")
	a.h.Unblocked()
	a.react()
}

func (a *reentrantApp) Closed() {
	a.outside("Closed")
	a.h.Closed()
}

func (a *reentrantApp) TransactionDone(op TxnOp, err broker.Error) {
	a.outside("TransactionDone")
	a.h.TransactionDone(op, err)
	a.react()
}

// TestCallbacksNeverReenter runs applications that call back into the
// producer from every kind of callback, and checks the transcript: each
// call made from a callback took effect, in order.
func TestCallbacksNeverReenter(t *testing.T) {
	tests := []struct {
		name   string
		props  map[string]string
		script []rule
		start  func(h *harness)
		next   func(a *reentrantApp, line string)
		want   []string
	}{{
		// A transaction loop run from TransactionDone: commit fails,
		// abort, send again, commit, close.
		name:   "transaction loop",
		props:  map[string]string{"transactional.id": "app", "linger.ms": "0"},
		script: []rule{{api: "produce", partition: anyPartition, err: broker.ErrMessageTooLarge}},
		start:  func(h *harness) { h.p.InitTransactions() },
		next: func(a *reentrantApp, line string) {
			p := a.h.p
			switch line {
			case "initTransactions() returns", "abortTransaction() returns":
				require.Equal(a.t, broker.ErrNone, p.BeginTransaction())
				a.h.send(0, 1)
				p.CommitTransaction()
			case "commitTransaction() throws MESSAGE_TOO_LARGE":
				p.AbortTransaction()
			case "commitTransaction() returns":
				p.CloseNow()
			}
		},
		want: []string{
			"initTransactions() returns",
			"callback batch 1 (t-0 records 1): MESSAGE_TOO_LARGE",
			"commitTransaction() throws MESSAGE_TOO_LARGE",
			"abortTransaction() returns",
			"callback batch 2 (t-0 records 2): offset 0",
			"commitTransaction() returns",
			"close() returns",
		},
	}, {
		// Sends from Completed, Rejected and Unblocked: a record too
		// large is rejected in send(), and buffer.memory has room for
		// one batch, so a send() blocks until the batch before completes.
		name:  "sends from record callbacks",
		props: map[string]string{"linger.ms": "0", "buffer.memory": "16384", "max.request.size": "1000"},
		start: func(h *harness) {
			h.p.Send(Record{ID: 1, Key: h.keys[0], Value: 2000})
			h.nextRecord = 2
		},
		next: func(a *reentrantApp, line string) {
			switch line {
			case "callback record 1, rejected by send(): RecordTooLargeException":
				a.h.send(0, 1) // record 2 takes the whole buffer
				a.h.send(1, 1) // record 3 blocks for memory
			case "send() returns after blocking":
				if a.h.nextRecord == 4 {
					a.h.send(0, 1) // record 4, once
				}
			}
		},
		want: []string{
			"callback record 1, rejected by send(): RecordTooLargeException",
			"callback batch 1 (t-0 records 2): offset 0",
			"send() returns after blocking",
			"callback batch 2 (t-1 records 3): offset 0",
			"send() returns after blocking",
			"callback batch 3 (t-0 records 4): offset 1",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 1, 2, 2, 0, tt.props)
			for _, r := range tt.script {
				h.script(r)
			}
			h.p.listener = &reentrantApp{t: t, h: h, next: tt.next}
			tt.start(h)
			h.run(sim.Second)
			var got []string // the application's side of the transcript
			for _, l := range h.lines {
				if c := lineText(l); !strings.Contains(c, " #") {
					got = append(got, c)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// lineText is a transcript line without its time stamp.
func lineText(l string) string {
	_, text, _ := strings.Cut(l, " ")
	return strings.TrimLeft(text, " ")
}
