package producer

import (
	"github.com/kafkasim/kafkasim/broker"
)

// Callbacks never run inside the producer. A batch completes, a send()
// fails or unblocks, a transactional call ends while the producer is in
// the middle of an operation (a sender pass, a response, a call of the
// application); the listener call is queued, and one event at the same
// virtual time delivers the queue in order. Whatever the listener does
// then (send, commit, abort, close) is a new operation of the producer,
// never a nested one. franz-go runs promises on a separate goroutine so
// that a callback can never re-enter the client; in the Java producer a
// blocking call (send() waiting for memory, commitTransaction()) returns
// on the application thread, which acts once the I/O thread moved on.

type callbackKind uint8

const (
	cbCompleted callbackKind = iota + 1
	cbRejected
	cbUnblocked
	cbTransactionDone
)

// listenerCall is one listener call waiting for delivery. Only the fields of
// its kind are set.
type listenerCall struct {
	kind  callbackKind
	batch *Batch
	base  int64
	err   broker.Error
	rec   Record
	op    TxnOp
}

// queueCallback adds a listener call to the queue and makes sure an event
// will deliver it.
func (p *Producer) queueCallback(c listenerCall) {
	p.callbacks = append(p.callbacks, c)
	p.scheduleDelivery()
}

func (p *Producer) scheduleDelivery() {
	if !p.deliveryDue {
		p.deliveryDue = true
		p.w.Schedule(p.w.Now(), p.id, kindCallbacks, 0, 0)
	}
}

// deliverCallbacks runs the queued listener calls in order, including any
// queued by what the listener did meanwhile. A producer closed by
// CloseNow goes away once its last callbacks ran, as close() aborts the
// incomplete batches before it closes the network client (Sender.run),
// and then close() returns (Closed).
func (p *Producer) deliverCallbacks() {
	for i := 0; i < len(p.callbacks); i++ {
		c := p.callbacks[i]
		p.callbacks[i] = listenerCall{} // let the batch go
		switch c.kind {
		case cbCompleted:
			p.listener.Completed(c.batch, c.base, c.err)
		case cbRejected:
			p.listener.Rejected(c.rec, c.err)
		case cbUnblocked:
			p.listener.Unblocked()
		case cbTransactionDone:
			p.listener.TransactionDone(c.op, c.err)
		}
	}
	p.callbacks = p.callbacks[:0]
	p.deliveryDue = false
	if p.closed {
		p.w.Crash(p.id)
		p.listener.Closed()
	}
}

// enter starts an operation of the producer: an event, a message, or a
// call of the application. Operations never nest: the listener runs only
// from its own event, so a call it makes into the producer starts a new
// operation. A nested one means a callback ran inside the producer.
func (p *Producer) enter() {
	if p.inOperation {
		panic("producer: re-entered during an operation (a listener callback ran inside the producer)")
	}
	p.inOperation = true
}

func (p *Producer) leave() { p.inOperation = false }
