// Package event is the vocabulary of the trace: what can happen in a run
// (a Kind) and the typed facts recorded with it (Fields). It sits at the
// bottom of the import graph so that every layer, from sim's network up to
// the scenario runner, records the same typed values; the trace's text is
// rendered from those values and never parsed.
//
// sim owns the trace mechanics (the Entry with its time and node, the
// append-only Trace, the JSON lines); this package owns the names.
package event

import "time"

// Fields are the typed facts of one trace entry, apart from when it happened
// and on which node (sim.Entry adds those and the peer). Which fields a kind
// fills is part of its table entry; unset fields keep the values of None.
type Fields struct {
	Kind  Kind
	Acks  int8 // the request's acks, when the kind names it
	Flags Flag
	Err   int16 // a Kafka error code (broker.Error), 0 for none

	ProducerEpoch int16 // or -1
	Subject       int32 // a partition (a dense id named through Namer), or -1
	Epoch         int32 // leader epoch (producer epoch for coordinator entries), or -1
	Seq           int32 // a batch's base sequence, or -1
	Attempt       int32 // which attempt of a batch this is (1 is the first)
	Count         int32 // how many: records, requests, partitions, ...

	Batch      int64 // the producer batch involved, or 0
	First      int64 // first offset of a range (the producer id for producer id grants), or -1
	Last       int64 // last offset of the range, inclusive, or -1
	ProducerID int64 // or -1
	Req        int64 // a request id, or 0
	Bytes      int64 // a size in bytes

	Ext *Ext // what only rare kinds need, out of line so that the frequent entries stay small
}

// Ext holds the fields only rare kinds (faults, transactions, ISR changes)
// fill. Set them through Fields.X.
type Ext struct {
	Prev   int32 // the count before a change
	Index  int32 // a position the text names: a fault's, a transaction's
	Broker int32 // a broker the text names (metadata source, coordinator, delayed broker)
	Limit  int64 // the configuration value a check used (timeouts in ms, min.insync.replicas, buffer.memory)

	Dur time.Duration // a length of time: backoff, added latency
	For time.Duration // how long a fault lasts (with HasFor)

	Msg int64 // the network's id of a lost message (drop): its msg-send has the same

	TxnID string  // transactional.id; the text starts with it when set
	Label string  // a constant name: a transaction state, marker type, message, reason or client operation
	List  []int32 // broker ids (ISR) or partitions the text lists
	Note  string  // words from the scenario file (topic, selectors, client); read by nobody
}

// X returns the entry's Ext, adding an empty one if it has none.
func (x *Fields) X() *Ext {
	if x.Ext == nil {
		x.Ext = &Ext{}
	}
	return x.Ext
}

var noExt Ext

// ext returns the entry's Ext for reading: an empty one if it has none.
func (x *Fields) ext() *Ext {
	if x.Ext == nil {
		return &noExt
	}
	return x.Ext
}

// Flag is a yes/no fact about an entry.
type Flag uint32

const (
	Unclean         Flag = 1 << iota // elect: the leader came from outside the ISR
	Injected                         // reject, response-dropped, rule-answer: a request rule did it
	Behind                           // response-dropped: lost behind an earlier lost response
	AlterPartition                   // isr: changed by the leader's AlterPartition, not by fencing
	LeaderHint                       // leader: learnt from a produce response (KIP-951), not metadata
	Committed                        // txn-end: the transaction committed (else it aborted)
	Transactional                    // restart-producer: the producer has a transactional.id
	Replacement                      // resend: by a zombie's replacement, not the application
	Inbound                          // isolate: inbound links cut
	Outbound                         // isolate: outbound links cut
	HasFor                           // a fault with a duration (For)
	PeerDown                         // drop: the destination was down (else the link was cut)
	FromElr                          // elect: the leader came from the Eligible Leader Replicas; offline: ELR is on
	LastKnownLeader                  // elect: the last known leader, the ISR and ELR being empty (KIP-966)
	UncleanShutdown                  // elr: changed because the peer registered after an unclean shutdown
	InShutdown                       // isr, fence: a controlled shutdown, not a lost session
	Rejected                         // drop: refused by a reject cut; isolate, partition: reject mode
	Closed                           // drop: discarded, its connection closed; retransmit: TCP gave up, the connection breaks
	Delivered                        // retransmit: the retransmission got through
	AfterHandling                    // request rule: it fires after the broker handled the request
	AnswerLost                       // request rule: the answer is lost rather than an error
)

// None returns Fields of kind k with every optional field unset.
func None(k Kind) Fields {
	return Fields{Kind: k, Subject: -1, Epoch: -1, First: -1, Last: -1, ProducerID: -1, ProducerEpoch: -1, Seq: -1}
}

// Has reports whether every flag in f is set.
func (x *Fields) Has(f Flag) bool { return x.Flags&f == f }

// Namer names the dense ids that entries hold.
type Namer interface {
	SubjectName(int32) string // a partition's "topic-partition"
	ErrorName(int16) string   // a Kafka error code's name
}

// AppendDetail appends the entry's text detail, rendered from its fields.
func AppendDetail(b []byte, f *Fields, n Namer) []byte {
	r := kinds[f.Kind].detail
	if r == nil {
		return b
	}
	if id := f.ext().TxnID; id != "" {
		b = append(b, id...)
		b = append(b, ": "...)
	}
	return r(b, f, n)
}

// Detail is the entry's text detail, for people.
func Detail(f *Fields, n Namer) string { return string(AppendDetail(nil, f, n)) }
