package event

import (
	"strconv"
	"time"
)

// Kind is what happened. Its String is the name the trace's JSON lines and
// the report use.
type Kind uint8

// The kinds, grouped by the layer that records them.
const (
	Invalid Kind = iota

	// sim's network.
	Drop
	MsgSend
	MsgReceive
	Held
	Retransmit
	ConnReset

	// Brokers (broker/broker.go).
	Append
	Reject
	Duplicate
	ResponseDropped
	PurgatoryTimeout
	IsrShrink
	IsrExpand
	BecomeLeader
	BecomeFollower
	Truncate
	Replicate
	RuleAnswer
	FetchTimeout
	ProducerExpired

	// The controller (broker/controller.go).
	Unfence
	Fence
	Isr
	Offline
	Elect
	ControlledShutdown
	Elr

	// The transaction coordinator (broker/coordinator.go).
	TxnFence
	TxnInit
	TxnEpochFence
	TxnPrepare
	TxnLoad
	TxnComplete
	TxnTimeout
	Marker
	TxnVerifyRefused
	TxnIDExpired

	// Cluster faults (broker/cluster.go).
	Crash
	PowerLoss
	Restart
	Pause
	Resume
	AddPartitions
	Shutdown
	Stop

	// The producer (producer/).
	EpochBump
	Send
	Retry
	Split
	Ack
	Fail
	Expire
	BufferExhausted
	Disconnect
	RequestTimeout
	Partitions
	Leader
	InitProducerID
	Close
	TxnCommit
	TxnAbort
	TxnAbortable
	TxnFatal
	ProducerFatal
	TopicError
	TxnCoordinator
	TxnAddPartitions
	TxnEnd

	// The scenario's application and faults (scenarios/).
	AppAbort
	AppClose
	AppStop
	AppSkip
	AppRetry
	StartZombie
	Resend
	ZombieResumes
	AppFreeze
	AppThaw
	FaultSkipped
	Delay
	RequestRule
	Isolate
	Partition
	DelayEnd
	IsolateEnd
	PartitionEnd
	RestartProducer
	Heal
	TraceCut
	BudgetStop

	numKinds
)

// Timeline says how the report's timeline shows a kind.
type Timeline uint8

const (
	Hidden   Timeline = iota // not in the timeline
	Plain                    // the name, the peer and the detail
	Election                 // "<partition> leader is <peer> in epoch <epoch> (<detail>)"
	NoLeader                 // "<partition> has no leader: <detail>"
	Change                   // "<partition> <detail>"
)

type kindInfo struct {
	name     string
	fault    bool     // a fault the scenario injected: charts mark it on the time axis
	timeline Timeline // how the report's timeline shows it
	detail   func(b []byte, f *Fields, n Namer) []byte
}

// kinds is the vocabulary, one entry per kind: its name, whether it is an
// injected fault, how the timeline shows it and how its text detail is
// rendered from the fields (nil: no detail).
//
// To add an event: add a constant above, one entry here that renders its
// detail from Fields (add a field or Flag only if no existing one says it),
// and record it with sim.E(now, node, event.X) plus the fields. Nothing
// parses the text, so the detail's words can change freely; code that
// needs a fact reads the field.
var kinds = [numKinds]kindInfo{
	Invalid: {name: "invalid"},

	// The trace reached its cap (sim.Trace.SetLimit): what happens later is
	// counted, not recorded.
	BudgetStop: {name: "budget-stop", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		return append(append(append(b, "the run reached its "...), f.ext().Label...), " budget and stops here"...)
	}},
	TraceCut: {name: "trace-cut", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "the trace keeps its first "...), int64(f.Count))
		return append(b, " records; later ones are counted, not kept, so explanations of what follows may be partial"...)
	}},

	// Every message between nodes is a msg-send and, unless lost, a
	// msg-receive with the same id (sim.MsgEntry); a lost one is a drop
	// with that id.
	MsgSend:    {name: "msg-send"},
	MsgReceive: {name: "msg-receive"},
	Drop: {name: "drop", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = append(b, f.ext().Label...)
		switch {
		case f.Has(PeerDown):
			return append(b, " lost: peer down"...)
		case f.Has(Rejected):
			return append(b, " refused: the link rejects (reset / ICMP unreachable)"...)
		case f.Has(Closed):
			return append(b, " discarded: its connection was closed"...)
		}
		return append(b, " lost: link cut"...)
	}},
	// A message that meets a cut that drops packets is not lost: TCP
	// retransmits it (Dur: until the retransmission is due), and the
	// messages behind it on the stream wait with it.
	Held: {name: "held", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = append(append(b, f.ext().Label...), " held by a cut link; TCP retransmits it in "...)
		return append(b, f.ext().Dur.String()...)
	}},
	Retransmit: {name: "retransmit", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "retransmission of "...), int64(f.Count))
		switch {
		case f.Has(Delivered):
			return append(b, " held messages gets through: the stream resumes, in order"...)
		case f.Has(Closed):
			return append(b, " held messages meets the cut again: tcp_retries2 reached, the connection breaks"...)
		}
		b = append(b, " held messages meets the cut; next in "...)
		return append(b, f.ext().Dur.String()...)
	}},
	ConnReset: {name: "conn-reset", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "connections reset (a reject cut or TCP giving up); "...), int64(f.Count))
		return append(b, " messages on the way discarded"...)
	}},

	FetchTimeout: {name: "fetch-timeout", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "fetch "...), f.Req)
		b = num(append(b, " got no response within replica.socket.timeout.ms="...), f.ext().Limit)
		return append(b, "; the follower closes the connection and backs off replica.fetch.backoff.ms"...)
	}},
	Append: {name: "append", detail: acks},
	Reject: {name: "reject", detail: func(b []byte, f *Fields, n Namer) []byte {
		b = append(b, n.ErrorName(f.Err)...)
		switch {
		case f.Has(Injected | AfterHandling):
			return append(b, " replaces the answer after the append (request-rule)"...)
		case f.Has(Injected):
			return append(b, " before the append (request-rule): nothing appended"...)
		case f.ext().Label != "":
			return marker(append(b, " for "...), f)
		case f.ext().Limit > 0 && f.Bytes > 0:
			b = num(append(b, ": the batch's "...), f.Bytes)
			return num(append(b, " bytes are more than message.max.bytes="...), f.ext().Limit)
		case f.ext().Limit > 0:
			b = isr(append(b, ": ISR "...), f.ext().List)
			return num(append(b, " is smaller than min.insync.replicas="...), f.ext().Limit)
		case f.Seq >= 0:
			return append(num(append(b, " (sequence "...), int64(f.Seq)), ')')
		}
		return b
	}},
	Duplicate: {name: "duplicate", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return append(num(append(b, "sequence "...), int64(f.Seq)), " already in the log; answered with the original offset"...)
	}},
	ResponseDropped: {name: "response-dropped", detail: func(b []byte, f *Fields, n Namer) []byte {
		if f.Has(Injected) && !f.Has(AfterHandling) {
			return append(b, "request lost before the append (request-rule); the connection delivers nothing more"...)
		}
		b = append(b, n.ErrorName(f.Err)...)
		if f.Has(Behind) {
			return append(b, " response lost behind an earlier lost response"...)
		}
		return append(b, " response lost (request-rule); the connection delivers nothing more"...)
	}},
	RuleAnswer: {name: "rule-answer", detail: func(b []byte, f *Fields, n Namer) []byte {
		b = append(b, f.ext().Label...)
		switch {
		case f.Has(AnswerLost | AfterHandling):
			return append(b, " request handled, its answer lost (request-rule)"...)
		case f.Has(AnswerLost):
			return append(b, " request lost before it was handled (request-rule)"...)
		case f.Has(AfterHandling):
			return append(append(b, " request handled, its answer replaced by "...), n.ErrorName(f.Err)...)
		}
		return append(append(b, " request answered with "...), n.ErrorName(f.Err)...)
	}},
	PurgatoryTimeout: {name: "purgatory-timeout", detail: text("acks=all wait expired: offsets stay in the log")},
	IsrShrink: {name: "isr-shrink", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = isr(append(b, "replicas "...), f.ext().List[:f.Count])
		return isr(append(b, " not caught up for replica.lag.time.max.ms; proposing ISR "...), f.ext().List[f.Count:])
	}},
	IsrExpand: {name: "isr-expand", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return isr(append(b, "caught up; proposing ISR "...), f.ext().List)
	}},
	BecomeLeader: {name: "become-leader", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return num(append(num(append(b, "log end offset "...), f.Last), ", high watermark "...), f.First)
	}},
	BecomeFollower: {name: "become-follower", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return num(append(b, "log end offset "...), f.Last)
	}},
	Truncate: {name: "truncate", timeline: Change, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "log diverged from leader at epoch "...), int64(f.Epoch))
		if f.First == f.Last {
			return num(append(b, "; removed offset "...), f.First)
		}
		return num(append(num(append(b, "; removed offsets "...), f.First), '-'), f.Last)
	}},
	Replicate: {name: "replicate"},
	ProducerExpired: {name: "producer-state-expired", timeline: Change, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "producer id "...), f.ProducerID)
		b = num(append(b, " wrote nothing for producer.id.expiration.ms="...), f.ext().Limit)
		return append(b, ": its sequences are forgotten, so the next batch is accepted whatever its sequence"...)
	}},

	Unfence: {name: "unfence", timeline: Plain},
	Fence: {name: "fence", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.Has(InShutdown) {
			return append(b, "controlled shutdown granted: it leads nothing and every broker knows the new leaders; it may stop"...)
		}
		return append(b, "no heartbeat for broker.session.timeout.ms"...)
	}},
	ControlledShutdown: {name: "controlled-shutdown", timeline: Plain,
		detail: text("the broker asked to shut down: its leaderships move to other ISR members and it leaves every ISR")},
	Isr: {name: "isr", timeline: Change, detail: func(b []byte, f *Fields, _ Namer) []byte {
		switch {
		case f.Has(AlterPartition):
			return isr(append(b, "AlterPartition from leader: ISR "...), f.ext().List)
		case f.Has(InShutdown):
			return isr(append(b, "broker in controlled shutdown removed: ISR "...), f.ext().List)
		}
		return isr(append(b, "fenced broker removed: ISR "...), f.ext().List)
	}},
	Offline: {name: "offline", timeline: NoLeader, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if !f.Has(FromElr) {
			return isr(append(b, "no live replica in ISR "...), f.ext().List)
		}
		// List is the ISR, then the ELR (Count: the ISR's length).
		b = isr(append(b, "no live replica in ISR "...), f.ext().List[:f.Count])
		return isr(append(b, " or ELR "...), f.ext().List[f.Count:])
	}},
	Elect: {name: "elect", timeline: Election, detail: func(b []byte, f *Fields, _ Namer) []byte {
		switch {
		case f.Has(LastKnownLeader):
			b = append(b, "the last known leader, as the ISR and ELR are empty: Kafka counts it unclean, as its log may lack records it never flushed"...)
		case f.Has(Unclean):
			b = append(b, "unclean: replica outside the ISR, data not in its log is lost"...)
		case f.Has(FromElr):
			b = append(b, "clean, from the eligible leader replicas: it left the ISR while the ISR was below min.insync.replicas, so it holds every committed record"...)
		default:
			b = append(b, "clean"...)
		}
		return isr(append(b, "; ISR "...), f.ext().List)
	}},
	// The controller's Eligible Leader Replicas changed (KIP-966).
	Elr: {name: "elr", timeline: Change, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.Has(UncleanShutdown) {
			b = num(append(b, "broker-"...), int64(f.ext().Broker))
			b = append(b, " registered after an unclean shutdown (its log may lack records it never flushed): out of the ISR and ELR; "...)
		}
		if len(f.ext().List) == 0 {
			return append(b, "eligible leader replicas: none"...)
		}
		b = isr(append(b, "eligible leader replicas "...), f.ext().List)
		b = num(append(b, ": they left the ISR while it was below min.insync.replicas="...), f.ext().Limit)
		return append(b, ", so they hold every committed record"...)
	}},

	TxnIDExpired: {name: "txn-id-expired", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "no transaction for transactional.id.expiration.ms="...), f.ext().Limit)
		return num(append(b, "; producer id "...), f.ProducerID)
	}},
	TxnFence: {name: "txn-fence", timeline: Plain, detail: text("InitProducerId while a transaction is open: bump the epoch and abort it")},
	TxnInit: {name: "txn-init", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(num(append(b, "producer id "...), f.ProducerID), " epoch "...), int64(f.ProducerEpoch))
		if f.ProducerEpoch > 0 {
			b = append(b, "; instances with an older epoch are fenced"...)
		}
		return b
	}},
	TxnEpochFence: {name: "txn-epoch-fence", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(append(b, f.ext().Label...), ": epoch "...), int64(f.ProducerEpoch))
		return num(append(b, " -> "...), int64(f.ProducerEpoch)+1)
	}},
	TxnPrepare: {name: "txn-prepare", detail: func(b []byte, f *Fields, n Namer) []byte {
		return partitions(append(append(b, f.ext().Label...), " for "...), f.ext().List, n)
	}},
	TxnLoad: {name: "txn-load", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		return append(append(append(b, "loaded in state "...), f.ext().Label...), " by the new coordinator"...)
	}},
	TxnComplete: {name: "txn-complete", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return append(append(b, f.ext().Label...), ": every marker written"...)
	}},
	TxnTimeout: {name: "txn-timeout", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "open longer than transaction.timeout.ms="...), f.ext().Limit)
		return append(b, ": aborting and bumping the epoch"...)
	}},
	Marker: {name: "marker", detail: func(b []byte, f *Fields, _ Namer) []byte { return marker(b, f) }},

	// A crash with a write-back delay (Dur) is a power loss: see PowerLoss.
	Crash: {name: "crash", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if d := f.ext().Dur; d > 0 {
			return append(append(append(b, "machine lost power; writes of the last "...), d.String()...), " were not on disk"...)
		}
		return append(b, "process killed; log kept"...)
	}},
	// PowerLoss is one replica's loss of the batches its broker had not
	// written back to disk when it lost power (Cluster.PowerLoss).
	PowerLoss: {name: "power-loss", timeline: Change, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.First == f.Last {
			b = num(append(b, "lost unflushed offset "...), f.First)
		} else {
			b = num(append(num(append(b, "lost unflushed offsets "...), f.First), '-'), f.Last)
		}
		return append(append(b, ", written in the last "...), f.ext().Dur.String()...)
	}},
	Restart: {name: "restart", fault: true, timeline: Plain},
	Pause:   {name: "pause", fault: true, timeline: Plain},
	Resume:  {name: "resume", fault: true, timeline: Plain},
	Shutdown: {name: "shutdown", fault: true, timeline: Plain,
		detail: text("controlled shutdown begins: the broker asks the controller to move its leaderships away")},
	Stop: {name: "stop", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte { return append(b, f.ext().Label...) }},
	AddPartitions: {name: "add-partitions", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(append(b, f.ext().Note...), ": "...), int64(f.ext().Prev))
		return append(num(append(b, " -> "...), int64(f.Count)), " partitions"...)
	}},

	EpochBump: {name: "epoch-bump", detail: text("producer epoch bumped locally; affected partitions restart their sequences at 0")},
	Send: {name: "send", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "attempt "...), int64(f.Attempt))
		b = num(append(b, ", "...), int64(f.Count))
		b = num(append(b, " records, "...), f.Bytes)
		return num(append(b, " bytes, request "...), f.Req)
	}},
	Retry: {name: "retry", detail: func(b []byte, f *Fields, n Namer) []byte {
		b = num(append(append(b, n.ErrorName(f.Err)...), "; attempt "...), int64(f.Attempt))
		return append(append(append(b, " after a "...), f.ext().Dur.String()...), " backoff"...)
	}},
	Split: {name: "split", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(num(append(b, "MESSAGE_TOO_LARGE: its "...), int64(f.Count)), " records ("...), f.Bytes)
		b = num(append(b, " bytes) go again in batches "...), f.First)
		return append(num(append(b, '-'), f.Last), ", no retry counted"...)
	}},
	Ack:  {name: "ack", detail: acks},
	Fail: {name: "fail", detail: func(b []byte, f *Fields, n Namer) []byte { return append(b, n.ErrorName(f.Err)...) }},
	Expire: {name: "expire", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return append(num(append(b, "delivery.timeout.ms="...), f.ext().Limit), " passed since batch creation"...)
	}},
	BufferExhausted: {name: "buffer-exhausted", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		return num(append(num(append(b, "send() waited max.block.ms="...), f.ext().Limit), " for buffer.memory="...), f.Bytes)
	}},
	Disconnect: {name: "disconnect", detail: func(b []byte, f *Fields, n Namer) []byte {
		b = num(append(append(b, f.ext().Label...), "; "...), int64(f.Count))
		return append(append(b, " requests in flight fail with "...), n.ErrorName(f.Err)...)
	}},
	RequestTimeout: {name: "request-timeout", detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "request "...), f.Req)
		return num(append(b, " got no response within request.timeout.ms="...), f.ext().Limit)
	}},
	Partitions: {name: "partitions", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(append(b, f.ext().Note...), " has "...), int64(f.Count))
		b = num(append(b, " partitions (was "...), int64(f.ext().Prev))
		return num(append(b, "), metadata from broker-"...), int64(f.ext().Broker))
	}},
	Leader: {name: "leader", detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.Has(LeaderHint) {
			return append(b, "leader hint in produce response (KIP-951)"...)
		}
		return num(append(b, "metadata from broker-"...), int64(f.ext().Broker))
	}},
	InitProducerID: {name: "init-producer-id", detail: func(b []byte, f *Fields, _ Namer) []byte {
		return num(append(num(append(b, "producer id "...), f.ProducerID), ", epoch "...), int64(f.ProducerEpoch))
	}},
	Close:         {name: "close", detail: text("close(Duration.ZERO): incomplete batches failed")},
	TxnCommit:     {name: "txn-commit", detail: text("commitTransaction(): flushing, then EndTxn(COMMIT)")},
	TxnAbort:      {name: "txn-abort", detail: text("abortTransaction(): unsent batches fail, then EndTxn(ABORT)")},
	TxnAbortable:  {name: "txn-abortable", timeline: Plain, detail: errorThen(": the transaction can only be aborted")},
	TxnFatal:      {name: "txn-fatal", timeline: Plain, detail: errorThen(": the producer cannot continue and must be closed")},
	ProducerFatal: {name: "producer-fatal", timeline: Plain, detail: errorThen(": the idempotent producer fails every batch and send, and must be closed")},
	TopicError: {name: "topic-error", detail: func(b []byte, f *Fields, n Namer) []byte {
		b = append(append(append(b, "metadata for "...), f.ext().Note...), " from broker-"...)
		return append(append(num(b, int64(f.ext().Broker)), " answers "...), n.ErrorName(f.Err)...)
	}},
	TxnCoordinator: {name: "txn-coordinator", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		return num(append(b, "coordinator is broker-"...), int64(f.ext().Broker))
	}},
	TxnVerifyRefused: {name: "txn-verify-refused", timeline: Change, detail: func(b []byte, f *Fields, n Namer) []byte {
		b = num(append(num(append(b, "refuses a transactional write of producer "...), f.ProducerID), " epoch "...), int64(f.ProducerEpoch))
		b = append(append(b, " with "...), n.ErrorName(f.Err)...)
		switch f.Err {
		case 47: // INVALID_PRODUCER_EPOCH
			return append(b, ": the coordinator has a newer epoch, so the write belongs to a transaction that is over"...)
		case 48: // INVALID_TXN_STATE
			return append(b, ": the producer's transaction at this partition ended while the write was being checked"...)
		}
		return append(b, ": the coordinator does not count this partition in the producer's ongoing transaction"...)
	}},
	TxnAddPartitions: {name: "txn-add-partitions", detail: func(b []byte, f *Fields, n Namer) []byte {
		return partitions(append(b, "added "...), f.ext().List, n)
	}},
	TxnEnd: {name: "txn-end", detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.Has(Committed) {
			b = append(b, "transaction committed"...)
		} else {
			b = append(b, "transaction aborted"...)
		}
		if f.ProducerEpoch >= 0 {
			// transaction.version 2: EndTxn's answer carries the next epoch.
			b = num(append(b, "; the next transaction uses epoch "...), int64(f.ProducerEpoch))
		}
		return b
	}},

	AppAbort: {name: "app-abort", timeline: Plain, detail: func(b []byte, f *Fields, n Namer) []byte {
		b = append(append(b, "commitTransaction() failed with "...), n.ErrorName(f.Err)...)
		return append(b, "; the application aborts and retries the transaction"...)
	}},
	AppClose: {name: "app-close", timeline: Plain, detail: func(b []byte, f *Fields, n Namer) []byte {
		b = append(append(append(b, f.ext().Label...), "() failed with "...), n.ErrorName(f.Err)...)
		return append(b, "; the application closes the producer"...)
	}},
	AppStop: {name: "app-stop", timeline: Plain, detail: text("initTransactions() failed; the application gives up")},
	AppSkip: {name: "app-skip", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "transaction "...), int64(f.ext().Index))
		return append(b, " was committed before its instance went away; not sent again"...)
	}},
	AppRetry: {name: "app-retry", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "transaction "...), int64(f.ext().Index))
		return append(num(append(b, " sent again ("...), int64(f.Count)), " records)"...)
	}},
	StartZombie: {name: "start-zombie", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = append(append(b, "the instance freezes for "...), f.ext().For.String()...)
		return append(b, "; a replacement with the same configuration starts and takes over its work"...)
	}},
	Resend: {name: "resend", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(b, int64(f.Count))
		if f.Has(Replacement) {
			return append(b, " unacknowledged records sent again by the replacement"...)
		}
		return append(b, " unacknowledged records sent again by the application"...)
	}},
	ZombieResumes: {name: "zombie-resumes", fault: true, timeline: Plain, detail: text("the frozen instance resumes, unaware it was replaced")},
	AppFreeze: {name: "freeze-app", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = append(append(b, "the application and its producer freeze for "...), f.ext().For.String()...)
		return append(b, ", like a long garbage collection: nothing sent, nothing handled"...)
	}},
	AppThaw: {name: "app-thaws", fault: true, timeline: Plain, detail: text("the frozen application and its producer go on, their clock now late")},
	FaultSkipped: {name: "fault-skipped", timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = num(append(b, "fault "...), int64(f.ext().Index))
		b = append(append(append(b, " ("...), f.ext().Note...), "): "...)
		if f.ext().Label != "" {
			return append(b, f.ext().Label...) // why, for a fault that names no broker
		}
		return append(b, "no broker matches now"...)
	}},
	Delay: {name: "delay", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		verb := " get "
		if f.ext().Note == "" {
			b, verb = num(append(b, "every link of broker-"...), int64(f.ext().Broker)), " gets "
		} else {
			b = append(append(append(b, "links to "...), f.ext().Note...), " "...)
			b = direction(b, f)
		}
		return forText(append(AppendSeconds(append(b, verb...), f.ext().Dur), " more one-way latency"...), f)
	}},
	RequestRule: {name: "request-rule", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, n Namer) []byte {
		api := f.ext().Label
		is := " is"
		switch {
		case f.Has(HasFor):
			b = append(append(b, "for "...), f.ext().For.String()...)
			b = append(append(append(b, ", every "...), api...), " request"...)
		case f.Count == 1:
			b = append(append(append(b, "the next "...), api...), " request"...)
		default:
			b = append(append(num(append(b, "the next "...), int64(f.Count)), ' '), api...)
			b, is = append(b, " requests"...), " are"
		}
		if note := f.ext().Note; note != "" {
			b = append(append(b, " about "...), note...)
		}
		switch {
		case f.Has(AnswerLost | AfterHandling):
			b = append(append(b, is...), " handled, and the answer lost"...)
		case f.Has(AnswerLost):
			b = append(append(b, is...), " lost before it is handled, with no answer"...)
		case f.Has(AfterHandling):
			b = append(append(append(b, is...), " handled, and the answer replaced by "...), n.ErrorName(f.Err)...)
		default:
			b = append(append(append(b, is...), " answered with "...), n.ErrorName(f.Err)...)
			if api == "Produce" {
				b = append(b, ", nothing appended"...)
			}
		}
		if f.Has(AnswerLost) && api != "Fetch" {
			b = append(b, "; that connection delivers nothing more until the client reconnects"...)
		}
		return b
	}},
	Isolate: {name: "isolate", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		b = append(append(append(b, "links to "...), f.ext().Note...), " cut "...)
		b = direction(b, f)
		if f.Has(Rejected) {
			b = append(b, ", rejecting (reset / ICMP unreachable)"...)
		}
		return forText(b, f)
	}},
	Partition: {name: "partition", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		return forText(append(append(b, "links "...), f.ext().Note...), f)
	}},
	PartitionEnd: {name: "partition-end", fault: true, timeline: Plain, detail: text("links restored")},
	DelayEnd:     {name: "delay-end", fault: true, timeline: Plain, detail: text("extra latency removed")},
	IsolateEnd:   {name: "isolate-end", fault: true, timeline: Plain, detail: text("links restored")},
	RestartProducer: {name: "restart-producer", fault: true, timeline: Plain, detail: func(b []byte, f *Fields, _ Namer) []byte {
		if f.ext().Note == "" {
			b = append(b, "the application closes its producer and creates a new one "...)
		} else {
			b = append(append(append(b, "the application closes its producer and creates a "...), f.ext().Note...), " one "...)
		}
		if f.Has(Transactional) {
			return append(b, "(same transactional.id: same producer id, next epoch)"...)
		}
		return append(b, "(new producer id)"...)
	}},
	Heal: {name: "heal", fault: true, timeline: Plain, detail: text("end of run: every fault undone, crashed brokers restarted")},
}

func (k Kind) String() string {
	if k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kinds[k].name
}

// Fault reports whether the kind is a fault the scenario injected (or its
// end), which charts mark on the time axis.
func (k Kind) Fault() bool { return k < numKinds && kinds[k].fault }

// Timeline says how the report's timeline shows the kind.
func (k Kind) Timeline() Timeline {
	if k >= numKinds {
		return Hidden
	}
	return kinds[k].timeline
}

// Kinds lists every kind, in order.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Invalid + 1; k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// ---- rendering helpers ----

func text(s string) func([]byte, *Fields, Namer) []byte {
	return func(b []byte, _ *Fields, _ Namer) []byte { return append(b, s...) }
}

func errorThen(s string) func([]byte, *Fields, Namer) []byte {
	return func(b []byte, f *Fields, n Namer) []byte { return append(append(b, n.ErrorName(f.Err)...), s...) }
}

func num(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

func acks(b []byte, f *Fields, _ Namer) []byte {
	b = append(b, "acks="...)
	if f.Acks == -1 {
		return append(b, "all"...)
	}
	return num(b, int64(f.Acks))
}

// isr renders broker ids as Kafka logs an ISR: "[1 2 3]".
func isr(b []byte, ids []int32) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = num(b, int64(id))
	}
	return append(b, ']')
}

func partitions(b []byte, ps []int32, n Namer) []byte {
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, n.SubjectName(p)...)
	}
	return b
}

func marker(b []byte, f *Fields) []byte {
	b = num(append(append(b, f.ext().Label...), " marker for producer "...), f.ProducerID)
	return num(append(b, " epoch "...), int64(f.ProducerEpoch))
}

// AppendSeconds appends d as the simulator writes instants and simulated
// lengths of time: seconds with millisecond precision ("2.003s"), or with
// microseconds when d is not a whole millisecond.
func AppendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	if d%time.Millisecond == 0 {
		b = strconv.AppendFloat(b, float64(d/time.Millisecond)/1000, 'f', 3, 64)
	} else {
		b = strconv.AppendFloat(b, float64(d/time.Microsecond)/1e6, 'f', 6, 64)
	}
	return append(b, 's')
}

func forText(b []byte, f *Fields) []byte {
	if f.Has(HasFor) {
		return append(append(b, " for "...), f.ext().For.String()...)
	}
	return b
}

// direction appends which way a link fault acts.
func direction(b []byte, f *Fields) []byte {
	switch {
	case f.Has(Inbound | Outbound):
		return append(b, "in both directions"...)
	case f.Has(Inbound):
		return append(b, "inbound only"...)
	case f.Has(Outbound):
		return append(b, "outbound only"...)
	}
	return b
}
