package producer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// The producer's own test harness: a real Producer on a sim.World, talking
// to fake brokers whose answers the test scripts. Everything the producer
// puts on the wire and every callback the application gets is written to a
// transcript, one line each, stamped with the virtual time:
//
//	1ms     produce #3 to broker-1: t-0 batch 1 records 1..5 seq 0..4 pid 1000 epoch 0
//	1ms     broker-1 answers #3: t-0 NOT_LEADER_OR_FOLLOWER
//	85ms    produce #4 to broker-1: t-0 batch 1 records 1..5 seq 0..4 pid 1000 epoch 0
//	85ms    broker-1 answers #4: t-0 offset 0
//	86ms    callback batch 1 (t-0 records 1..5): offset 0
//
// Requests are written down when a broker receives them, answers when it
// sends them, callbacks when the application gets them.
//
// The harness looks only at the protocol messages and the Listener, never
// at the producer's fields, so it tests what a Kafka user and a broker
// would see. Connections and metadata requests are answered but not
// written down. The fake brokers keep no replicas: unless a script says
// otherwise, a produce succeeds at the partition's next offset and a
// coordinator request succeeds.

// latency is the one-way delay of every link: a request answered at once
// takes 2 ms.
const latency = sim.Millisecond

// txnProducerID is the producer id the fake coordinator gives the
// transactional id; an idempotent producer gets 1000, 1001, ...
const txnProducerID = 2000

// Fake broker timer kinds.
const kindAnswer sim.Kind = sim.FirstUserKind + 100 // a delayed answer falls due

// rule is one scripted answer: the next request of api (to a partition,
// for produce) gets err, no answer, a late answer or a leader hint. A rule
// serves times requests, then is spent.
type rule struct {
	api       string             // produce, init-producer-id, find-coordinator, add-partitions, end-txn
	partition broker.PartitionID // produce only: the partition, or anyPartition
	broker    sim.NodeID         // 0 for any
	err       broker.Error
	drop      bool     // never answer (the request or its answer is lost)
	delay     sim.Time // answer this much later
	leader    sim.NodeID
	epoch     int32 // the leader hint's epoch (KIP-951), with leader
	times     int
}

// anyPartition makes a produce rule match a batch of any partition.
const anyPartition broker.PartitionID = -1

// answerPlan is what the broker does with one request, from the rules.
type answerPlan struct {
	drop  bool
	delay sim.Time
}

func (a *answerPlan) apply(r *rule) {
	a.drop = a.drop || r.drop
	a.delay = max(a.delay, r.delay)
}

// sentBatch is one batch the producer sent, as a broker received it.
type sentBatch struct {
	at        sim.Time
	request   int64
	broker    sim.NodeID
	partition broker.PartitionID
	batch     int64
	records   []broker.RecordID
	pid       int64
	epoch     int16
	seq       int32
	txn       bool
}

// callback is one Completed or Rejected call.
type callback struct {
	at      sim.Time
	batch   int64 // 0 for a record rejected in send()
	records []broker.RecordID
	offset  int64
	err     broker.Error
}

type harness struct {
	w        *sim.World
	p        *Producer
	topo     *broker.Topology
	leaders  []sim.NodeID // by partition
	epochs   []int32      // leader epochs, by partition
	keys     [][]byte     // a key that lands in each partition
	offsets  []int64      // each partition's next offset
	rules    []*rule
	batchIDs int64
	t0       sim.Time // the end of the warm-up: transcript times count from here

	nextRecord  broker.RecordID
	nextPID     int64
	txnEpoch    int16 // the transactional id's epoch at the fake coordinator
	txnVersion  int16 // the cluster's transaction.version, told in ConnectAck
	coordinator sim.NodeID

	lines     []string // transcript lines not yet taken
	sent      []sentBatch
	callbacks []callback
	txnDone   []string   // "initTransactions: NONE", ...
	txnDoneAt []sim.Time // when each of txnDone happened
}

// newHarness starts a producer with props against brokers fake brokers
// 1..n, and one topic t with partitions partitions; partition p is led by
// broker p mod n + 1. It returns once the producer is warmed up.
func newHarness(t *testing.T, seed uint64, brokers, partitions int, txnVersion int16, props map[string]string) *harness {
	t.Helper()
	cfg, err := NewConfig(props)
	require.NoError(t, err)
	w := sim.NewWorld(seed)
	w.Net.Configure(sim.LinkConfig{Latency: latency})
	h := &harness{w: w, nextRecord: 1, nextPID: 1000, txnEpoch: -1, coordinator: 1, txnVersion: txnVersion}
	h.topo = broker.NewTopology(brokers, []broker.Topic{{Name: "t", Partitions: partitions, ReplicationFactor: 1}})
	w.AddNode("unused", idle{}) // node 0, so broker ids are 1..n as in a Topology
	ids := make([]sim.NodeID, brokers)
	for i := range ids {
		fb := &fakeBroker{h: h}
		fb.id = w.AddNode("broker-"+strconv.Itoa(i+1), fb)
		ids[i] = fb.id
	}
	for p := range partitions {
		h.leaders = append(h.leaders, h.topo.Partitions[p].Replicas[0])
		h.epochs = append(h.epochs, 0)
		h.offsets = append(h.offsets, 0)
		h.keys = append(h.keys, keyFor(p, partitions))
	}
	h.p = New(w, "producer", cfg, ids, h, &h.batchIDs)
	// Warm up: the producer connects, learns the metadata and, when
	// idempotent, its producer id. Stories start after that, at 0 ms.
	h.run(warmUp)
	h.lines = nil
	h.t0 = w.Now()
	return h
}

// warmUp is long enough for a connection, a metadata request and an
// InitProducerId, each one round trip.
const warmUp = 10 * sim.Millisecond

// keyFor finds a key that the default partitioner puts in partition p.
func keyFor(p, partitions int) []byte {
	for i := 0; ; i++ {
		k := []byte("k" + strconv.Itoa(i))
		if KeyPartition(k, partitions) == p {
			return k
		}
	}
}

type idle struct{}

func (idle) HandleEvent(sim.Event)                 {}
func (idle) HandleMessage(sim.NodeID, sim.Message) {}

// logf adds a transcript line at the current time.
func (h *harness) logf(format string, args ...any) {
	h.lines = append(h.lines, fmt.Sprintf("%-8s", h.now().Duration())+fmt.Sprintf(format, args...))
}

// now is the time since the warm-up.
func (h *harness) now() sim.Time { return h.w.Now() - h.t0 }

// take returns the transcript written since the last take.
func (h *harness) take() string {
	s := strings.Join(h.lines, "\n")
	h.lines = nil
	return s
}

// run advances virtual time by d.
func (h *harness) run(d sim.Time) { h.w.RunUntil(h.w.Now() + d) }

// script adds a rule; rules are matched in the order they were added.
func (h *harness) script(r rule) {
	if r.times == 0 {
		r.times = 1
	}
	h.rules = append(h.rules, &r)
}

// match spends the first live rule for a request, or returns nil.
func (h *harness) match(api string, to sim.NodeID, part broker.PartitionID) *rule {
	for _, r := range h.rules {
		if r.times > 0 && r.api == api && (r.broker == 0 || r.broker == to) &&
			(api != "produce" || r.partition == anyPartition || r.partition == part) {
			r.times--
			return r
		}
	}
	return nil
}

// send hands n records for partition p to the producer, as send() calls
// from the application thread. Records are numbered from 1.
func (h *harness) send(p, n int) {
	for range n {
		h.p.Send(Record{ID: h.nextRecord, Key: h.keys[p], Value: 100})
		h.nextRecord++
	}
}

// moveLeader makes broker the leader of partition p with a new leader
// epoch, as the next metadata response will say.
func (h *harness) moveLeader(p int, to sim.NodeID) {
	h.leaders[p] = to
	h.epochs[p]++
}

// attempts lists the batches the brokers received for one batch id.
func (h *harness) attempts(batch int64) []sentBatch {
	var out []sentBatch
	for _, s := range h.sent {
		if s.batch == batch {
			out = append(out, s)
		}
	}
	return out
}

// txnAt is when the last blocking call op returned or threw, or -1.
func (h *harness) txnAt(op TxnOp) sim.Time {
	for i := len(h.txnDone) - 1; i >= 0; i-- {
		if strings.HasPrefix(h.txnDone[i], op.String()+":") {
			return h.txnDoneAt[i]
		}
	}
	return -1
}

func (h *harness) snapshot() *broker.Snapshot {
	s := &broker.Snapshot{Version: 1, TopicPartitions: []int{len(h.leaders)}}
	for p, l := range h.leaders {
		s.Partitions = append(s.Partitions, broker.PartitionState{Leader: l, LeaderEpoch: h.epochs[p]})
	}
	return s
}

// ---- the application: the Listener ----

func (h *harness) Completed(b *Batch, baseOffset int64, err broker.Error) {
	h.callbacks = append(h.callbacks, callback{at: h.now(), batch: b.ID, records: slices.Clone(b.Records), offset: baseOffset, err: err})
	what := "offset " + strconv.FormatInt(baseOffset, 10)
	if err != broker.ErrNone {
		what = err.String()
	}
	h.logf("callback batch %d (%s records %s): %s", b.ID, h.topo.Name(b.Partition), recordList(b.Records), what)
}

func (h *harness) Rejected(r Record, err broker.Error) {
	h.callbacks = append(h.callbacks, callback{at: h.now(), records: []broker.RecordID{r.ID}, offset: -1, err: err})
	h.logf("callback record %d, rejected by send(): %s", r.ID, err)
}

func (h *harness) Unblocked() { h.logf("send() returns after blocking") }

func (h *harness) Closed() { h.logf("close() returns") }

func (h *harness) TransactionDone(op TxnOp, err broker.Error) {
	h.txnDone = append(h.txnDone, op.String()+": "+err.String())
	h.txnDoneAt = append(h.txnDoneAt, h.now())
	if err == broker.ErrNone {
		h.logf("%s() returns", op)
		return
	}
	h.logf("%s() throws %s", op, err)
}

// recordList prints record ids as ranges: "1..5", "1..3,7".
func recordList(ids []broker.RecordID) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		s := strconv.Itoa(int(ids[i]))
		if j > i {
			s += ".." + strconv.Itoa(int(ids[j]))
		}
		parts = append(parts, s)
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ---- the fake brokers ----

// fakeBroker answers the producer as the rules say. Its answers travel
// back over the same link as real ones, in order.
type fakeBroker struct {
	h       *harness
	id      sim.NodeID
	pending []pendingAnswer // delayed answers, by index
}

type pendingAnswer struct {
	to   sim.NodeID
	conn uint32
	m    sim.Message
	log  func() // writes the answer's transcript line when it is sent
	gone bool   // sent, or its connection closed
}

func (b *fakeBroker) HandleEvent(e sim.Event) {
	if e.Kind != kindAnswer {
		return
	}
	a := &b.pending[e.A]
	if a.gone {
		return
	}
	a.gone = true
	a.log()
	b.h.w.Net.Send(b.id, a.to, a.m)
}

func (b *fakeBroker) HandleMessage(from sim.NodeID, m sim.Message) {
	h := b.h
	switch m := m.(type) {
	case broker.Connect:
		h.w.Net.Send(b.id, from, broker.ConnectAck{Conn: m.Conn, TransactionVersion: h.txnVersion})
	case broker.Close:
		// The broker drops what it had not answered on that connection.
		h.logf("producer closes its connection to %s", b.name())
		for i := range b.pending {
			if b.pending[i].conn == m.Conn {
				b.pending[i].gone = true
			}
		}
	case *broker.MetadataRequest:
		h.w.Net.Send(b.id, from, &broker.MetadataResponse{ID: m.ID, Topology: h.topo, Snapshot: h.snapshot()})
	case *broker.ProduceRequest:
		b.produce(from, m)
	case *broker.InitProducerIDRequest:
		b.initProducerID(from, m)
	case *broker.FindCoordinatorRequest:
		h.logf("find-coordinator #%d to %s: %s", m.ID, b.name(), m.TransactionalID)
		r, plan := b.plan("find-coordinator", anyPartition)
		b.answer(from, m.Conn, plan, &broker.FindCoordinatorResponse{ID: m.ID, Error: r, Coordinator: h.coordinator},
			fmt.Sprintf("%s answers #%d: %s", b.name(), m.ID, orCoordinator(r, h.coordinator)))
	case *broker.AddPartitionsToTxnRequest:
		names := make([]string, len(m.Partitions))
		for i, p := range m.Partitions {
			names[i] = h.topo.Name(p)
		}
		h.logf("add-partitions-to-txn #%d to %s: %s pid %d epoch %d", m.ID, b.name(), strings.Join(names, ","), m.ProducerID, m.ProducerEpoch)
		r, plan := b.plan("add-partitions", anyPartition)
		b.answer(from, m.Conn, plan, &broker.AddPartitionsToTxnResponse{ID: m.ID, Error: r}, fmt.Sprintf("%s answers #%d: %s", b.name(), m.ID, r))
	case *broker.EndTxnRequest:
		what := "ABORT"
		if m.Commit {
			what = "COMMIT"
		}
		h.logf("end-txn #%d to %s: %s pid %d epoch %d", m.ID, b.name(), what, m.ProducerID, m.ProducerEpoch)
		r, plan := b.plan("end-txn", anyPartition)
		resp := &broker.EndTxnResponse{ID: m.ID, Error: r, ProducerID: -1, ProducerEpoch: -1}
		line := fmt.Sprintf("%s answers #%d: %s", b.name(), m.ID, r)
		if r == broker.ErrNone && h.txnVersion >= 2 {
			// EndTxn v5+: the coordinator bumped the epoch.
			h.txnEpoch++
			resp.ProducerID, resp.ProducerEpoch = txnProducerID, h.txnEpoch
			line += fmt.Sprintf(", next epoch %d", h.txnEpoch)
		}
		b.answer(from, m.Conn, plan, resp, line)
	}
}

func (b *fakeBroker) name() string { return "broker-" + strconv.Itoa(int(b.id)) }

func orCoordinator(err broker.Error, c sim.NodeID) string {
	if err != broker.ErrNone {
		return err.String()
	}
	return "coordinator broker-" + strconv.Itoa(int(c))
}

// plan spends the rule for one request and returns the error to answer with.
func (b *fakeBroker) plan(api string, part broker.PartitionID) (broker.Error, answerPlan) {
	var plan answerPlan
	r := b.h.match(api, b.id, part)
	if r == nil {
		return broker.ErrNone, plan
	}
	plan.apply(r)
	return r.err, plan
}

// answer sends m now, later, or never, as plan says.
func (b *fakeBroker) answer(to sim.NodeID, conn uint32, plan answerPlan, m sim.Message, line string) {
	h := b.h
	if plan.drop {
		h.logf("%s never answers", b.name())
		return
	}
	log := func() { h.logf("%s", line) }
	if plan.delay == 0 {
		log()
		h.w.Net.Send(b.id, to, m)
		return
	}
	b.pending = append(b.pending, pendingAnswer{to: to, conn: conn, m: m, log: log})
	h.w.After(plan.delay, b.id, kindAnswer, int64(len(b.pending)-1), 0)
}

func (b *fakeBroker) initProducerID(from sim.NodeID, m *broker.InitProducerIDRequest) {
	h := b.h
	if m.TransactionalID == "" {
		h.logf("init-producer-id #%d to %s", m.ID, b.name())
	} else {
		h.logf("init-producer-id #%d to %s: %s pid %d epoch %d", m.ID, b.name(), m.TransactionalID, m.ProducerID, m.ProducerEpoch)
	}
	err, plan := b.plan("init-producer-id", anyPartition)
	resp := &broker.InitProducerIDResponse{ID: m.ID, Error: err, ProducerID: -1, Epoch: -1}
	if err == broker.ErrNone && !plan.drop {
		// A non-transactional producer gets a new id with epoch 0; a
		// transactional id keeps its id and gets the next epoch
		// (TransactionCoordinator.handleInitProducerId).
		if m.TransactionalID == "" {
			resp.ProducerID, resp.Epoch = h.nextPID, 0
			h.nextPID++
		} else {
			h.txnEpoch++
			resp.ProducerID, resp.Epoch = txnProducerID, h.txnEpoch
		}
	}
	line := fmt.Sprintf("%s answers #%d: pid %d epoch %d", b.name(), m.ID, resp.ProducerID, resp.Epoch)
	if err != broker.ErrNone {
		line = fmt.Sprintf("%s answers #%d: %s", b.name(), m.ID, err)
	}
	b.answer(from, m.Conn, plan, resp, line)
}

func (b *fakeBroker) produce(from sim.NodeID, m *broker.ProduceRequest) {
	h := b.h
	resp := &broker.ProduceResponse{ID: m.ID}
	var plan answerPlan
	var results []string
	for _, pb := range m.Batches {
		h.sent = append(h.sent, sentBatch{at: h.now(), request: m.ID, broker: b.id, partition: pb.Partition, batch: pb.Ref,
			records: slices.Clone(pb.Records), pid: pb.ProducerID, epoch: pb.ProducerEpoch, seq: pb.BaseSequence, txn: pb.Transactional})
		line := fmt.Sprintf("produce #%d to %s: %s batch %d records %s", m.ID, b.name(), h.topo.Name(pb.Partition), pb.Ref, recordList(pb.Records))
		if pb.BaseSequence >= 0 {
			line += fmt.Sprintf(" seq %d..%d pid %d epoch %d", pb.BaseSequence, pb.BaseSequence+int32(len(pb.Records))-1, pb.ProducerID, pb.ProducerEpoch)
		}
		if pb.Transactional {
			line += " transactional"
		}
		h.logf("%s", line)

		pr := broker.PartitionResponse{Partition: pb.Partition, Ref: pb.Ref, Leader: broker.NoLeader, LeaderEpoch: -1}
		r := h.match("produce", b.id, pb.Partition)
		if r != nil {
			plan.apply(r)
			pr.Error = r.err
			if r.leader != 0 {
				pr.Leader, pr.LeaderEpoch = r.leader, r.epoch
			}
		}
		what := h.topo.Name(pb.Partition) + " "
		switch {
		case pr.Error != broker.ErrNone:
			what += pr.Error.String()
			if pr.Leader != broker.NoLeader {
				what += fmt.Sprintf(" (leader broker-%d, epoch %d)", pr.Leader, pr.LeaderEpoch)
			}
		case m.Acks == 0:
		default:
			if !(r != nil && r.drop) {
				pr.BaseOffset = h.offsets[pb.Partition]
				h.offsets[pb.Partition] += int64(len(pb.Records))
			}
			what += "offset " + strconv.FormatInt(pr.BaseOffset, 10)
		}
		results = append(results, what)
		resp.Partitions = append(resp.Partitions, pr)
	}
	if m.Acks == 0 {
		return // acks=0: no answer at all
	}
	b.answer(from, m.Conn, plan, resp, fmt.Sprintf("%s answers #%d: %s", b.name(), m.ID, strings.Join(results, ", ")))
}

// TestHarnessHappyPath checks the harness itself: with no script, an
// idempotent producer gets a producer id, sends a batch, and the
// application hears its offset.
func TestHarnessHappyPath(t *testing.T) {
	h := newHarness(t, 1, 1, 1, 0, map[string]string{"linger.ms": "0"})
	h.send(0, 3)
	h.run(100 * sim.Millisecond)
	require.Len(t, h.sent, 1)
	require.Len(t, h.callbacks, 1)
	require.Equal(t, broker.ErrNone, h.callbacks[0].err)
	require.Equal(t, int64(1000), h.sent[0].pid)
	require.Equal(t, int32(0), h.sent[0].seq)
	require.Equal(t, "1ms     produce #3 to broker-1: t-0 batch 1 records 1..3 seq 0..2 pid 1000 epoch 0", strings.Split(h.take(), "\n")[0])
}
