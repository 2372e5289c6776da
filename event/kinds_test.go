package event

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names is a Namer over fixed tables.
type names struct{}

func (names) SubjectName(p int32) string { return "t-" + strconv.Itoa(int(p)) }

func (names) ErrorName(code int16) string {
	return map[int16]string{6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 13: "NETWORK_EXCEPTION",
		19: "NOT_ENOUGH_REPLICAS", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 47: "INVALID_PRODUCER_EPOCH",
		90: "PRODUCER_FENCED", 48: "INVALID_TXN_STATE", 0: "NONE", 10: "MESSAGE_TOO_LARGE", 15: "COORDINATOR_NOT_AVAILABLE",
		87: "INVALID_RECORD", 120: "TRANSACTION_ABORTABLE"}[code]
}

// with returns Fields of kind k changed by set.
func with(k Kind, set func(f *Fields)) Fields {
	f := None(k)
	if set != nil {
		set(&f)
	}
	return f
}

// detailCases renders every kind, and every form of the kinds with several,
// as the trace has always written them.
var detailCases = []struct {
	name   string
	fields Fields
	want   string
}{
	{"drop", with(Drop, func(f *Fields) { f.X().Label = "produce-request" }), "produce-request lost: link cut"},
	{"drop peer down", with(Drop, func(f *Fields) { f.X().Label, f.Flags = "fetch-response", PeerDown }), "fetch-response lost: peer down"},
	{"drop rejected", with(Drop, func(f *Fields) { f.X().Label, f.Flags = "connect", Rejected }), "connect refused: the link rejects (reset / ICMP unreachable)"},
	{"drop closed", with(Drop, func(f *Fields) { f.X().Label, f.Flags = "produce-response", Closed }), "produce-response discarded: its connection was closed"},
	{"held", with(Held, func(f *Fields) { f.X().Label, f.X().Dur = "produce-response", 201*time.Millisecond }),
		"produce-response held by a cut link; TCP retransmits it in 201ms"},
	{"retransmit", with(Retransmit, func(f *Fields) { f.Count, f.X().Dur = 3, 402*time.Millisecond }),
		"retransmission of 3 held messages meets the cut; next in 402ms"},
	{"retransmit delivered", with(Retransmit, func(f *Fields) { f.Count, f.Flags = 3, Delivered }),
		"retransmission of 3 held messages gets through: the stream resumes, in order"},
	{"retransmit gives up", with(Retransmit, func(f *Fields) { f.Count, f.Flags = 3, Closed }),
		"retransmission of 3 held messages meets the cut again: tcp_retries2 reached, the connection breaks"},
	{"conn-reset", with(ConnReset, func(f *Fields) { f.Count = 2 }), "connections reset (a reject cut or TCP giving up); 2 messages on the way discarded"},
	{"fetch-timeout", with(FetchTimeout, func(f *Fields) { f.Req, f.X().Limit = 7, 30000 }),
		"fetch 7 got no response within replica.socket.timeout.ms=30000; the follower closes the connection and backs off replica.fetch.backoff.ms"},

	{"msg-send", None(MsgSend), ""},
	{"producer-fatal", with(ProducerFatal, func(f *Fields) { f.Err = 19 }),
		"NOT_ENOUGH_REPLICAS: the idempotent producer fails every batch and send, and must be closed"},
	{"topic-error", with(TopicError, func(f *Fields) { f.Err, f.X().Note, f.X().Broker = 6, "orders", 2 }),
		"metadata for orders from broker-2 answers NOT_LEADER_OR_FOLLOWER"},
	{"split", with(Split, func(f *Fields) { f.Count, f.Bytes, f.First, f.Last = 40, 4301, 12, 14 }),
		"MESSAGE_TOO_LARGE: its 40 records (4301 bytes) go again in batches 12-14, no retry counted"},
	{"msg-receive", None(MsgReceive), ""},

	{"append", with(Append, func(f *Fields) { f.Acks = -1 }), "acks=all"},
	{"reject", with(Reject, func(f *Fields) { f.Err = 6 }), "NOT_LEADER_OR_FOLLOWER"},
	{"reject injected", with(Reject, func(f *Fields) { f.Err, f.Flags = 7, Injected }), "REQUEST_TIMED_OUT before the append (request-rule): nothing appended"},
	{"reject injected after", with(Reject, func(f *Fields) { f.Err, f.Flags = 10, Injected|AfterHandling }), "MESSAGE_TOO_LARGE replaces the answer after the append (request-rule)"},
	{"reject min isr", with(Reject, func(f *Fields) { f.Err, f.X().List, f.X().Limit = 19, []int32{1}, 2 }),
		"NOT_ENOUGH_REPLICAS: ISR [1] is smaller than min.insync.replicas=2"},
	{"reject too large", with(Reject, func(f *Fields) { f.Err, f.Bytes, f.X().Limit = 10, 16384, 4096 }),
		"MESSAGE_TOO_LARGE: the batch's 16384 bytes are more than message.max.bytes=4096"},
	{"reject sequence", with(Reject, func(f *Fields) { f.Err, f.Seq = 45, 12 }), "OUT_OF_ORDER_SEQUENCE_NUMBER (sequence 12)"},
	{"reject marker", with(Reject, func(f *Fields) { f.Err, f.X().Label, f.ProducerID, f.ProducerEpoch = 47, "COMMIT", 4000, 2 }),
		"INVALID_PRODUCER_EPOCH for COMMIT marker for producer 4000 epoch 2"},
	{"duplicate", with(Duplicate, func(f *Fields) { f.Seq = 5 }), "sequence 5 already in the log; answered with the original offset"},
	{"response-dropped", with(ResponseDropped, func(f *Fields) { f.Err, f.Flags = 0, Injected|AfterHandling }), "NONE response lost (request-rule); the connection delivers nothing more"},
	{"request dropped", with(ResponseDropped, func(f *Fields) { f.Flags = Injected }), "request lost before the append (request-rule); the connection delivers nothing more"},
	{"rule-answer", with(RuleAnswer, func(f *Fields) { f.Err, f.X().Label = 87, "AddPartitionsToTxn" }), "AddPartitionsToTxn request answered with INVALID_RECORD"},
	{"rule-answer after", with(RuleAnswer, func(f *Fields) { f.Err, f.Flags, f.X().Label = 15, AfterHandling, "EndTxn" }),
		"EndTxn request handled, its answer replaced by COORDINATOR_NOT_AVAILABLE"},
	{"rule-answer lost", with(RuleAnswer, func(f *Fields) { f.Flags, f.X().Label = AnswerLost, "FindCoordinator" }), "FindCoordinator request lost before it was handled (request-rule)"},
	{"rule-answer lost after", with(RuleAnswer, func(f *Fields) { f.Flags, f.X().Label = AnswerLost|AfterHandling, "InitProducerId" }),
		"InitProducerId request handled, its answer lost (request-rule)"},
	{"response-dropped behind", with(ResponseDropped, func(f *Fields) { f.Err, f.Flags = 6, Behind }),
		"NOT_LEADER_OR_FOLLOWER response lost behind an earlier lost response"},
	{"purgatory-timeout", None(PurgatoryTimeout), "acks=all wait expired: offsets stay in the log"},
	{"isr-shrink", with(IsrShrink, func(f *Fields) { f.X().List, f.Count = []int32{2, 3, 1}, 2 }),
		"replicas [2 3] not caught up for replica.lag.time.max.ms; proposing ISR [1]"},
	{"producer-state-expired", with(ProducerExpired, func(f *Fields) { f.ProducerID, f.X().Limit = 1000, 5000 }),
		"producer id 1000 wrote nothing for producer.id.expiration.ms=5000: its sequences are forgotten, so the next batch is accepted whatever its sequence"},
	{"txn-id-expired", with(TxnIDExpired, func(f *Fields) { f.X().TxnID, f.X().Limit, f.ProducerID = "tx", 5000, 1000 }),
		"tx: no transaction for transactional.id.expiration.ms=5000; producer id 1000"},
	{"fence shutdown", with(Fence, func(f *Fields) { f.Flags = InShutdown }),
		"controlled shutdown granted: it leads nothing and every broker knows the new leaders; it may stop"},
	{"isr shutdown", with(Isr, func(f *Fields) { f.X().List, f.Flags = []int32{2, 3}, InShutdown }), "broker in controlled shutdown removed: ISR [2 3]"},
	{"controlled-shutdown", None(ControlledShutdown), "the broker asked to shut down: its leaderships move to other ISR members and it leaves every ISR"},
	{"shutdown", None(Shutdown), "controlled shutdown begins: the broker asks the controller to move its leaderships away"},
	{"stop", with(Stop, func(f *Fields) { f.X().Label = "controlled shutdown complete" }), "controlled shutdown complete"},
	{"isr-expand", with(IsrExpand, func(f *Fields) { f.X().List = []int32{1, 2} }), "caught up; proposing ISR [1 2]"},
	{"become-leader", with(BecomeLeader, func(f *Fields) { f.First, f.Last = 3, 7 }), "log end offset 7, high watermark 3"},
	{"become-follower", with(BecomeFollower, func(f *Fields) { f.First, f.Last = 3, 7 }), "log end offset 7"},
	{"truncate", with(Truncate, func(f *Fields) { f.Epoch, f.First, f.Last = 1, 4, 6 }), "log diverged from leader at epoch 1; removed offsets 4-6"},
	{"power-loss", with(PowerLoss, func(f *Fields) { f.First, f.Last, f.X().Dur = 4, 6, 30*time.Second }), "lost unflushed offsets 4-6, written in the last 30s"},
	{"replicate", None(Replicate), ""},

	{"unfence", None(Unfence), ""},
	{"fence", None(Fence), "no heartbeat for broker.session.timeout.ms"},
	{"isr fenced", with(Isr, func(f *Fields) { f.X().List = []int32{2, 3} }), "fenced broker removed: ISR [2 3]"},
	{"isr alter", with(Isr, func(f *Fields) { f.X().List, f.Flags = []int32{1}, AlterPartition }), "AlterPartition from leader: ISR [1]"},
	{"offline", with(Offline, func(f *Fields) { f.X().List = []int32{} }), "no live replica in ISR []"},
	{"elect", with(Elect, func(f *Fields) { f.X().List = []int32{2} }), "clean; ISR [2]"},
	{"elect unclean", with(Elect, func(f *Fields) { f.X().List, f.Flags = []int32{3}, Unclean }),
		"unclean: replica outside the ISR, data not in its log is lost; ISR [3]"},
	{"offline with ELR", with(Offline, func(f *Fields) { f.X().List, f.Count, f.Flags = []int32{1, 2}, 0, FromElr }),
		"no live replica in ISR [] or ELR [1 2]"},
	{"elect from ELR", with(Elect, func(f *Fields) { f.X().List, f.Flags = []int32{2}, FromElr }),
		"clean, from the eligible leader replicas: it left the ISR while the ISR was below min.insync.replicas, so it holds every committed record; ISR [2]"},
	{"elect last known leader", with(Elect, func(f *Fields) { f.X().List, f.Flags = []int32{1}, Unclean|LastKnownLeader }),
		"the last known leader, as the ISR and ELR are empty: Kafka counts it unclean, as its log may lack records it never flushed; ISR [1]"},
	{"elr", with(Elr, func(f *Fields) { f.X().List, f.X().Limit = []int32{2}, 2 }),
		"eligible leader replicas [2]: they left the ISR while it was below min.insync.replicas=2, so they hold every committed record"},
	{"elr empty", with(Elr, func(f *Fields) { f.X().List = []int32{} }), "eligible leader replicas: none"},
	{"elr unclean shutdown", with(Elr, func(f *Fields) { f.X().List, f.X().Broker, f.Flags = []int32{}, 1, UncleanShutdown }),
		"broker-1 registered after an unclean shutdown (its log may lack records it never flushed): out of the ISR and ELR; eligible leader replicas: none"},

	{"txn-fence", with(TxnFence, func(f *Fields) { f.X().TxnID = "tx" }), "tx: InitProducerId while a transaction is open: bump the epoch and abort it"},
	{"txn-init", with(TxnInit, func(f *Fields) { f.X().TxnID, f.ProducerID, f.ProducerEpoch = "tx", 1000, 0 }), "tx: producer id 1000 epoch 0"},
	{"txn-init fencing", with(TxnInit, func(f *Fields) { f.X().TxnID, f.ProducerID, f.ProducerEpoch = "tx", 1000, 1 }),
		"tx: producer id 1000 epoch 1; instances with an older epoch are fenced"},
	{"txn-epoch-fence", with(TxnEpochFence, func(f *Fields) { f.X().TxnID, f.X().Label, f.ProducerEpoch = "tx", "PrepareEpochFence", 3 }),
		"tx: PrepareEpochFence: epoch 3 -> 4"},
	{"txn-prepare", with(TxnPrepare, func(f *Fields) { f.X().TxnID, f.X().Label, f.X().List = "tx", "PrepareCommit", []int32{0, 2} }),
		"tx: PrepareCommit for t-0, t-2"},
	{"txn-load", with(TxnLoad, func(f *Fields) { f.X().TxnID, f.X().Label = "tx", "Ongoing" }), "tx: loaded in state Ongoing by the new coordinator"},
	{"txn-complete", with(TxnComplete, func(f *Fields) { f.X().TxnID, f.X().Label = "tx", "CompleteAbort" }), "tx: CompleteAbort: every marker written"},
	{"txn-timeout", with(TxnTimeout, func(f *Fields) { f.X().TxnID, f.X().Limit = "tx", 60000 }),
		"tx: open longer than transaction.timeout.ms=60000: aborting and bumping the epoch"},
	{"marker", with(Marker, func(f *Fields) { f.X().Label, f.ProducerID, f.ProducerEpoch = "ABORT", 1000, 0 }), "ABORT marker for producer 1000 epoch 0"},

	{"crash", None(Crash), "process killed; log kept"},
	{"crash with power loss", with(Crash, func(f *Fields) { f.X().Dur = 30 * time.Second }), "machine lost power; writes of the last 30s were not on disk"},
	{"restart", None(Restart), ""},
	{"pause", None(Pause), ""},
	{"resume", None(Resume), ""},
	{"add-partitions", with(AddPartitions, func(f *Fields) { f.X().Note, f.X().Prev, f.Count = "t", 3, 6 }), "t: 3 -> 6 partitions"},

	{"epoch-bump", None(EpochBump), "producer epoch bumped locally; affected partitions restart their sequences at 0"},
	{"send", with(Send, func(f *Fields) { f.Attempt, f.Count, f.Bytes, f.Req = 2, 10, 1100, 17 }), "attempt 2, 10 records, 1100 bytes, request 17"},
	{"retry", with(Retry, func(f *Fields) { f.Err, f.Attempt, f.X().Dur = 13, 2, 81*time.Millisecond }),
		"NETWORK_EXCEPTION; attempt 2 after a 81ms backoff"},
	{"ack", with(Ack, func(f *Fields) { f.Acks = 1 }), "acks=1"},
	{"fail", with(Fail, func(f *Fields) { f.Err = 90 }), "PRODUCER_FENCED"},
	{"expire", with(Expire, func(f *Fields) { f.X().Limit = 120000 }), "delivery.timeout.ms=120000 passed since batch creation"},
	{"buffer-exhausted", with(BufferExhausted, func(f *Fields) { f.X().Limit, f.Bytes = 60000, 33554432 }),
		"send() waited max.block.ms=60000 for buffer.memory=33554432"},
	{"disconnect", with(Disconnect, func(f *Fields) { f.X().Label, f.Count, f.Err = "request timed out", 2, 7 }),
		"request timed out; 2 requests in flight fail with REQUEST_TIMED_OUT"},
	{"request-timeout", with(RequestTimeout, func(f *Fields) { f.Req, f.X().Limit = 9, 30000 }),
		"request 9 got no response within request.timeout.ms=30000"},
	{"partitions", with(Partitions, func(f *Fields) { f.X().Note, f.Count, f.X().Prev, f.X().Broker = "t", 6, 3, 2 }),
		"t has 6 partitions (was 3), metadata from broker-2"},
	{"leader", with(Leader, func(f *Fields) { f.X().Broker = 3 }), "metadata from broker-3"},
	{"leader hint", with(Leader, func(f *Fields) { f.Flags = LeaderHint }), "leader hint in produce response (KIP-951)"},
	{"init-producer-id", with(InitProducerID, func(f *Fields) { f.ProducerID, f.ProducerEpoch = 1000, 0 }), "producer id 1000, epoch 0"},
	{"init-producer-id transactional", with(InitProducerID, func(f *Fields) { f.X().TxnID, f.ProducerID, f.ProducerEpoch = "tx", 1000, 1 }),
		"tx: producer id 1000, epoch 1"},
	{"close", None(Close), "close(Duration.ZERO): incomplete batches failed"},
	{"txn-commit", with(TxnCommit, func(f *Fields) { f.X().TxnID = "tx" }), "tx: commitTransaction(): flushing, then EndTxn(COMMIT)"},
	{"txn-abort", with(TxnAbort, func(f *Fields) { f.X().TxnID = "tx" }), "tx: abortTransaction(): unsent batches fail, then EndTxn(ABORT)"},
	{"txn-abortable", with(TxnAbortable, func(f *Fields) { f.X().TxnID, f.Err = "tx", 48 }), "tx: INVALID_TXN_STATE: the transaction can only be aborted"},
	{"txn-fatal", with(TxnFatal, func(f *Fields) { f.X().TxnID, f.Err = "tx", 90 }), "tx: PRODUCER_FENCED: the producer cannot continue and must be closed"},
	{"txn-coordinator", with(TxnCoordinator, func(f *Fields) { f.X().TxnID, f.X().Broker = "tx", 2 }), "tx: coordinator is broker-2"},
	{"txn-add-partitions", with(TxnAddPartitions, func(f *Fields) { f.X().TxnID, f.X().List = "tx", []int32{1} }), "tx: added t-1"},
	{"txn-end", with(TxnEnd, func(f *Fields) { f.X().TxnID = "tx" }), "tx: transaction aborted"},
	{"txn-end committed", with(TxnEnd, func(f *Fields) { f.X().TxnID, f.Flags = "tx", Committed }), "tx: transaction committed"},
	{"txn-end epoch", with(TxnEnd, func(f *Fields) { f.X().TxnID, f.ProducerEpoch = "tx", 3 }), "tx: transaction aborted; the next transaction uses epoch 3"},
	{"txn-verify-refused epoch", with(TxnVerifyRefused, func(f *Fields) { f.ProducerID, f.ProducerEpoch, f.Err = 7, 2, 47 }),
		"refuses a transactional write of producer 7 epoch 2 with INVALID_PRODUCER_EPOCH: the coordinator has a newer epoch, so the write belongs to a transaction that is over"},
	{"txn-verify-refused guard", with(TxnVerifyRefused, func(f *Fields) { f.ProducerID, f.ProducerEpoch, f.Err = 7, 2, 48 }),
		"refuses a transactional write of producer 7 epoch 2 with INVALID_TXN_STATE: the producer's transaction at this partition ended while the write was being checked"},
	{"txn-verify-refused partition", with(TxnVerifyRefused, func(f *Fields) { f.ProducerID, f.ProducerEpoch, f.Err = 7, 2, 120 }),
		"refuses a transactional write of producer 7 epoch 2 with TRANSACTION_ABORTABLE: the coordinator does not count this partition in the producer's ongoing transaction"},

	{"app-abort", with(AppAbort, func(f *Fields) { f.Err = 48 }),
		"commitTransaction() failed with INVALID_TXN_STATE; the application aborts and retries the transaction"},
	{"app-close", with(AppClose, func(f *Fields) { f.X().Label, f.Err = "commitTransaction", 90 }),
		"commitTransaction() failed with PRODUCER_FENCED; the application closes the producer"},
	{"app-stop", None(AppStop), "initTransactions() failed; the application gives up"},
	{"app-skip", with(AppSkip, func(f *Fields) { f.X().Index = 3 }), "transaction 3 was committed before its instance went away; not sent again"},
	{"app-retry", with(AppRetry, func(f *Fields) { f.X().Index, f.Count = 3, 10 }), "transaction 3 sent again (10 records)"},
	{"start-zombie", with(StartZombie, func(f *Fields) { f.X().For = 2 * time.Second }),
		"the instance freezes for 2s; a replacement with the same configuration starts and takes over its work"},
	{"resend", with(Resend, func(f *Fields) { f.Count = 4 }), "4 unacknowledged records sent again by the application"},
	{"resend by replacement", with(Resend, func(f *Fields) { f.Count, f.Flags = 4, Replacement }),
		"4 unacknowledged records sent again by the replacement"},
	{"zombie-resumes", None(ZombieResumes), "the frozen instance resumes, unaware it was replaced"},
	{"freeze-app", with(AppFreeze, func(f *Fields) { f.X().For = 2 * time.Second }), "the application and its producer freeze for 2s, like a long garbage collection: nothing sent, nothing handled"},
	{"app-thaws", None(AppThaw), "the frozen application and its producer go on, their clock now late"},
	{"fault-skipped why", with(FaultSkipped, func(f *Fields) {
		f.X().Index, f.X().Note, f.X().Label = 3, "freeze-app", "the application is already frozen"
	}),
		"fault 3 (freeze-app): the application is already frozen"},
	{"fault-skipped", with(FaultSkipped, func(f *Fields) { f.X().Index, f.X().Note = 2, "crash leader of t-0" }),
		"fault 2 (crash leader of t-0): no broker matches now"},
	{"delay", with(Delay, func(f *Fields) { f.X().Broker, f.X().Dur = 2, 50*time.Millisecond }), "every link of broker-2 gets 0.050s more one-way latency"},
	{"delay for", with(Delay, func(f *Fields) {
		f.X().Broker, f.X().Dur, f.Flags, f.X().For = 2, 1500*time.Microsecond, HasFor, 3*time.Second
	}),
		"every link of broker-2 gets 0.001500s more one-way latency for 3s"},
	{"request-rule for", with(RequestRule, func(f *Fields) { f.Err, f.Flags, f.X().For, f.X().Label = 6, HasFor, time.Second, "Produce" }),
		"for 1s, every Produce request is answered with NOT_LEADER_OR_FOLLOWER, nothing appended"},
	{"request-rule once lost after", with(RequestRule, func(f *Fields) { f.Flags, f.Count, f.X().Label = AnswerLost|AfterHandling, 1, "Produce" }),
		"the next Produce request is handled, and the answer lost; that connection delivers nothing more until the client reconnects"},
	{"request-rule count about", with(RequestRule, func(f *Fields) { f.Err, f.Count, f.X().Label, f.X().Note = 10, 2, "Produce", "orders-0" }),
		"the next 2 Produce requests about orders-0 are answered with MESSAGE_TOO_LARGE, nothing appended"},
	{"request-rule after", with(RequestRule, func(f *Fields) { f.Err, f.Flags, f.Count, f.X().Label = 15, AfterHandling, 1, "EndTxn" }),
		"the next EndTxn request is handled, and the answer replaced by COORDINATOR_NOT_AVAILABLE"},
	{"request-rule fetch lost", with(RequestRule, func(f *Fields) { f.Flags, f.Count, f.X().Label = AnswerLost, 1, "Fetch" }),
		"the next Fetch request is lost before it is handled, with no answer"},
	{"partition", with(Partition, func(f *Fields) { f.X().Note = "between 1 and producer, rejecting" }), "links between 1 and producer, rejecting"},
	{"partition-end", None(PartitionEnd), "links restored"},
	{"isolate reject", with(Isolate, func(f *Fields) { f.X().Note, f.Flags = "producer", Outbound|Rejected }),
		"links to producer cut outbound only, rejecting (reset / ICMP unreachable)"},
	{"isolate both", with(Isolate, func(f *Fields) { f.X().Note, f.Flags = "brokers, controller", Inbound|Outbound }),
		"links to brokers, controller cut in both directions"},
	{"isolate in for", with(Isolate, func(f *Fields) { f.X().Note, f.Flags, f.X().For = "producer", Inbound|HasFor, 5*time.Second }),
		"links to producer cut inbound only for 5s"},
	{"isolate out", with(Isolate, func(f *Fields) { f.X().Note, f.Flags = "producer", Outbound }), "links to producer cut outbound only"},
	{"delay-end", None(DelayEnd), "extra latency removed"},
	{"isolate-end", None(IsolateEnd), "links restored"},
	{"restart-producer", None(RestartProducer), "the application closes its producer and creates a new one (new producer id)"},
	{"restart-producer transactional as another client", with(RestartProducer, func(f *Fields) { f.X().Note, f.Flags = "librdkafka", Transactional }),
		"the application closes its producer and creates a librdkafka one (same transactional.id: same producer id, next epoch)"},
	{"heal", None(Heal), "end of run: every fault undone, crashed brokers restarted"},
	{"budget-stop", with(BudgetStop, func(f *Fields) { f.X().Label = "events" }), "the run reached its events budget and stops here"},
	{"trace-cut", with(TraceCut, func(f *Fields) { f.Count = 1000 }), "the trace keeps its first 1000 records; later ones are counted, not kept, so explanations of what follows may be partial"},
}

func TestDetailIsRenderedFromFields(t *testing.T) {
	for _, tt := range detailCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Detail(&tt.fields, names{}))
		})
	}
}

func TestEveryKindHasAUniqueNameAndAnExample(t *testing.T) {
	examples := map[Kind]bool{}
	for _, tt := range detailCases {
		examples[tt.fields.Kind] = true
	}
	seen := map[string]Kind{}
	for _, k := range Kinds() {
		name := k.String()
		require.NotEmpty(t, name, "kind %d", k)
		if other, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d are both named %q", other, k, name)
		}
		seen[name] = k
		assert.True(t, examples[k], "%s has no case in detailCases: add one showing its detail", name)
	}
	assert.Len(t, Kinds(), int(numKinds)-1, "Kinds lists every kind but Invalid")
	assert.Equal(t, "kind(250)", Kind(250).String())
}

// Faults are what a scenario injects (and undoes); the cluster's reactions
// to them are not.
func TestFaultKinds(t *testing.T) {
	for _, k := range []Kind{Crash, Restart, Pause, Resume, Isolate, IsolateEnd, Delay, DelayEnd,
		RequestRule, RestartProducer, Heal, AddPartitions, StartZombie, ZombieResumes} {
		assert.True(t, k.Fault(), "%s", k)
	}
	for _, k := range []Kind{Elect, Elr, Isr, Fence, Offline, Truncate, Append, FaultSkipped, Resend, RuleAnswer} {
		assert.False(t, k.Fault(), "%s", k)
	}
}

func TestAppendSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.000s", 2003 * time.Millisecond: "2.003s", -5 * time.Millisecond: "-0.005s",
		1500 * time.Microsecond: "0.001500s", 1500: "0.000001s",
	} {
		assert.Equal(t, want, string(AppendSeconds(nil, d)), "%d", d)
	}
}
