package broker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Stories of the transaction coordinator (transaction.version 1): a
// transactional producer, played by hand, talks to the coordinator of
// txnID and to the partition leaders, and each step checks what the
// coordinator wrote to __transaction_state and what the markers did to
// the data partitions.

// tv1Config is the broker defaults with transaction.version 1, the
// protocol of the stories below (those of version 2 are in
// coordinator_v2_test.go).
func tv1Config() Config {
	c := DefaultConfig()
	c.TransactionVersion = 1
	return c
}

// txnID hashes to __transaction_state partition 46, which broker
// (46 mod 3)+1 = 2 leads when the cluster starts.
const txnID = "my-transactional-id"

// txnTimeoutMs is transaction.timeout.ms for stories that are not about
// the timeout: long enough never to fire.
const txnTimeoutMs = 60000

// txnClient is a client node that records everything it receives: every
// response by request id, every message by type, every disconnection.
type txnClient struct {
	node         sim.NodeID
	nextID       int64
	connected    map[sim.NodeID]bool
	got          map[int64]sim.Message // responses by request id
	byType       map[string]int        // every message received, counted by name
	duplicates   []sim.Message         // a second answer to one request id
	disconnected []sim.NodeID
}

func (c *txnClient) HandleEvent(sim.Event) {}

func (c *txnClient) HandleMessage(from sim.NodeID, m sim.Message) {
	c.byType[m.Name()]++
	var id int64
	switch m := m.(type) {
	case ConnectAck:
		c.connected[from] = true
		return
	case sim.Disconnected:
		c.disconnected = append(c.disconnected, m.Peer)
		delete(c.connected, m.Peer)
		return
	case *FindCoordinatorResponse:
		id = m.ID
	case *InitProducerIDResponse:
		id = m.ID
	case *AddPartitionsToTxnResponse:
		id = m.ID
	case *EndTxnResponse:
		id = m.ID
	case *ProduceResponse:
		id = m.ID
	default:
		return // counted in byType; nothing else a client should get
	}
	if c.got[id] != nil {
		c.duplicates = append(c.duplicates, m)
		return
	}
	c.got[id] = m
}

// txnHarness is a 3-broker cluster with the topic orders (2 partitions,
// RF 3, min.insync.replicas 1) and __transaction_state (50 partitions, RF 3,
// min.insync.replicas 2). Cluster.CheckInvariants runs after every event.
type txnHarness struct {
	t       *testing.T
	w       *sim.World
	c       *Cluster
	a       *txnClient // the first client; stories add more with addClient
	clients []*txnClient
	orders  [2]PartitionID
	state   PartitionID // __transaction_state-46, txnID's partition
	nextRe  RecordID
	invErr  error
	checkOn bool
}

func newTxnHarness(t *testing.T, cfg Config) *txnHarness {
	t.Helper()
	w := sim.NewWorld(1)
	w.Net.Configure(sim.LinkConfig{Latency: sim.Millisecond})
	topo := NewTopology(3, []Topic{
		{Name: "orders", Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 1},
		{Name: TransactionStateTopic, Partitions: DefaultTxnStatePartitions, ReplicationFactor: 3, MinInsyncReplicas: 2},
	})
	c := NewCluster(w, cfg, topo)
	h := &txnHarness{t: t, w: w, c: c, nextRe: 1, checkOn: true}
	h.orders = [2]PartitionID{topo.ID(0, 0), topo.ID(0, 1)}
	h.state = topo.ID(1, TxnCoordinatorPartition(txnID, DefaultTxnStatePartitions))
	require.Equal(t, topo.ID(1, 46), h.state)
	require.Equal(t, sim.NodeID(2), c.Leader(h.state), "broker 2 coordinates txnID")
	require.Equal(t, sim.NodeID(1), c.Leader(h.orders[0]))
	require.Equal(t, sim.NodeID(2), c.Leader(h.orders[1]))
	w.AfterEvent = func() {
		if h.checkOn && h.invErr == nil {
			if err := c.CheckInvariants(); err != nil {
				h.invErr = fmt.Errorf("at %v: %w", w.Now(), err)
			}
		}
	}
	t.Cleanup(func() {
		assert.NoError(t, h.invErr, "cluster invariants")
		for _, cl := range h.clients {
			assert.Empty(t, cl.duplicates, "client %d got two answers to one request", cl.node)
		}
	})
	h.a = h.addClient("client-a")
	return h
}

// addClient adds a client node and connects it to every broker.
func (h *txnHarness) addClient(name string) *txnClient {
	h.t.Helper()
	cl := &txnClient{connected: map[sim.NodeID]bool{}, got: map[int64]sim.Message{}, byType: map[string]int{}}
	cl.node = h.w.AddNode(name, cl)
	h.clients = append(h.clients, cl)
	for _, b := range all {
		h.w.Net.Send(cl.node, b, Connect{Conn: testConn})
	}
	h.runUntil(sim.Second, name+" connected", func() bool { return len(cl.connected) == len(all) })
	return cl
}

func (h *txnHarness) now() sim.Time  { return h.w.Now() }
func (h *txnHarness) run(d sim.Time) { h.w.RunUntil(h.w.Now() + d) }

// runUntil handles events until cond holds, for at most d of virtual time.
func (h *txnHarness) runUntil(d sim.Time, what string, cond func() bool) {
	h.t.Helper()
	require.True(h.t, h.w.RunWhile(h.w.Now()+d, func() bool { return !cond() }), "timed out after %v waiting for %s", d, what)
}

// send sends the request build makes with a fresh request id and returns
// the id.
func (h *txnHarness) send(cl *txnClient, to sim.NodeID, build func(id int64) sim.Message) int64 {
	h.t.Helper()
	require.True(h.t, cl.connected[to], "client %d is not connected to broker %d", cl.node, to)
	cl.nextID++
	h.w.Net.Send(cl.node, to, build(cl.nextID))
	return cl.nextID
}

// await runs until request id is answered, within a second, and returns
// the answer.
func await[T sim.Message](h *txnHarness, cl *txnClient, id int64) T {
	h.t.Helper()
	h.runUntil(sim.Second, fmt.Sprintf("the answer to request %d", id), func() bool { return cl.got[id] != nil })
	r, ok := cl.got[id].(T)
	require.True(h.t, ok, "request %d answered with %T", id, cl.got[id])
	return r
}

func (h *txnHarness) findCoordinator(cl *txnClient, to sim.NodeID) *FindCoordinatorResponse {
	h.t.Helper()
	id := h.send(cl, to, func(id int64) sim.Message {
		return &FindCoordinatorRequest{Conn: testConn, ID: id, TransactionalID: txnID}
	})
	return await[*FindCoordinatorResponse](h, cl, id)
}

func (h *txnHarness) sendInit(cl *txnClient, to sim.NodeID, timeoutMs int64) int64 {
	return h.send(cl, to, func(id int64) sim.Message {
		return &InitProducerIDRequest{Conn: testConn, ID: id, TransactionalID: txnID, TransactionTimeoutMs: timeoutMs, ProducerID: -1, ProducerEpoch: -1}
	})
}

func (h *txnHarness) initPID(cl *txnClient, to sim.NodeID, timeoutMs int64) *InitProducerIDResponse {
	h.t.Helper()
	return await[*InitProducerIDResponse](h, cl, h.sendInit(cl, to, timeoutMs))
}

func (h *txnHarness) addPartitions(cl *txnClient, to sim.NodeID, pid int64, epoch int16, parts ...PartitionID) *AddPartitionsToTxnResponse {
	h.t.Helper()
	id := h.send(cl, to, func(id int64) sim.Message {
		return &AddPartitionsToTxnRequest{Conn: testConn, ID: id, TransactionalID: txnID, ProducerID: pid, ProducerEpoch: epoch, Partitions: parts}
	})
	return await[*AddPartitionsToTxnResponse](h, cl, id)
}

func (h *txnHarness) endTxn(cl *txnClient, to sim.NodeID, pid int64, epoch int16, commit bool) *EndTxnResponse {
	h.t.Helper()
	return await[*EndTxnResponse](h, cl, h.sendEndTxn(cl, to, pid, epoch, commit))
}

func (h *txnHarness) sendEndTxn(cl *txnClient, to sim.NodeID, pid int64, epoch int16, commit bool) int64 {
	return h.send(cl, to, func(id int64) sim.Message {
		return &EndTxnRequest{Conn: testConn, ID: id, TransactionalID: txnID, ProducerID: pid, ProducerEpoch: epoch, Commit: commit}
	})
}

// produce sends one batch of n fresh records to p's current leader with
// acks=all and returns the answer. pid -1 is a plain producer.
func (h *txnHarness) produce(cl *txnClient, p PartitionID, pid int64, epoch int16, seq int32, n int) PartitionResponse {
	h.t.Helper()
	b := ProduceBatch{BatchHeader: BatchHeader{Partition: p, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq,
		Bytes: int32(100 * n), Transactional: pid >= 0}, Records: recs(h.nextRe, n)}
	if pid < 0 {
		b.ProducerEpoch, b.BaseSequence = -1, -1
	}
	h.nextRe += RecordID(n)
	id := h.send(cl, h.c.Leader(p), func(id int64) sim.Message {
		return NewProduceRequest(testConn, id, -1, requestTimeout, []ProduceBatch{b})
	})
	resp := await[*ProduceResponse](h, cl, id)
	require.Len(h.t, resp.Partitions, 1)
	return resp.Partitions[0]
}

// log is broker b's log of partition p.
func (h *txnHarness) log(b sim.NodeID, p PartitionID) *Log { return &h.c.Brokers[b].Replica(p).Log }

// leaderLog is the log of p at its current leader.
func (h *txnHarness) leaderLog(p PartitionID) *Log { return h.log(h.c.Leader(p), p) }

// entries is broker b's __transaction_state-46 log, entry by entry.
func (h *txnHarness) entries(b sim.NodeID) []TxnLogEntry {
	var out []TxnLogEntry
	for _, lb := range h.log(b, h.state).Batches() {
		require.NotNil(h.t, lb.Txn, "a __transaction_state batch without an entry")
		out = append(out, *lb.Txn)
	}
	return out
}

// states is the State of each of broker b's __transaction_state-46 entries.
func (h *txnHarness) states(b sim.NodeID) []TxnState {
	var out []TxnState
	for _, e := range h.entries(b) {
		out = append(out, e.State)
	}
	return out
}

// epochs is the ProducerEpoch of each of broker b's __transaction_state-46
// entries.
func (h *txnHarness) epochs(b sim.NodeID) []int16 {
	var out []int16
	for _, e := range h.entries(b) {
		out = append(out, e.ProducerEpoch)
	}
	return out
}

// markers is the control batches of a log.
func markers(l *Log) []LogBatch {
	var out []LogBatch
	for _, b := range l.Batches() {
		if b.IsControl() {
			out = append(out, b)
		}
	}
	return out
}

// replicated reports whether a log's high watermark is at its end.
func replicated(l *Log) bool { return l.HW() == l.LEO() }

// completed reports whether the coordinator's newest entry, on its leader,
// is state and replicated.
func (h *txnHarness) completed(state TxnState) bool {
	l := h.leaderLog(h.state)
	n := len(l.Batches())
	return n > 0 && l.Batches()[n-1].Txn.State == state && replicated(l)
}

// settled waits until the coordinator wrote state (a Complete state) and
// every partition of ps has k markers below its high watermark.
func (h *txnHarness) settled(state TxnState, k int, ps ...PartitionID) {
	h.t.Helper()
	h.runUntil(5*sim.Second, "the transaction to settle", func() bool {
		for _, p := range ps {
			l := h.leaderLog(p)
			if len(markers(l)) < k || !replicated(l) {
				return false
			}
		}
		return h.completed(state)
	})
}

// followersCaughtUp waits until every replica of __transaction_state-46
// in its ISR holds the leader's whole log.
func (h *txnHarness) followersCaughtUp() {
	h.t.Helper()
	h.runUntil(5*sim.Second, "the followers of "+h.c.Topo.Name(h.state), func() bool {
		leo := h.leaderLog(h.state).LEO()
		for _, b := range h.c.Controller.State(h.state).ISR {
			if h.log(b, h.state).LEO() != leo {
				return false
			}
		}
		return true
	})
}

// traced is the trace entries of node of kind k that match (nil: any).
func (h *txnHarness) traced(node sim.NodeID, k event.Kind, match func(*sim.Entry) bool) []sim.Entry {
	var out []sim.Entry
	for _, e := range h.w.Trace.Entries() {
		if e.Node == node && e.Kind == k && (match == nil || match(&e)) {
			out = append(out, e)
		}
	}
	return out
}

// inState matches an entry naming transaction state s.
func inState(s TxnState) func(*sim.Entry) bool {
	return func(e *sim.Entry) bool { return e.X().Label == s.String() }
}

// ofTxn matches an entry about transactional id id.
func ofTxn(id string) func(*sim.Entry) bool {
	return func(e *sim.Entry) bool { return e.X().TxnID == id }
}

// TestStoryTransactionCommit is the whole happy path: find the
// coordinator, InitProducerId, AddPartitionsToTxn, transactional writes,
// EndTxn(COMMIT), and COMMIT markers that make the data stable.
func TestStoryTransactionCommit(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	o0, o1 := h.orders[0], h.orders[1]

	// Any broker answers FindCoordinator from its metadata: the leader of
	// __transaction_state-46.
	for _, b := range all {
		r := h.findCoordinator(h.a, b)
		require.Equal(t, ErrNone, r.Error, "broker %d", b)
		assert.Equal(t, sim.NodeID(2), r.Coordinator, "asked broker %d", b)
	}

	// A new transactional id gets a fresh producer id at epoch 0. The
	// answer comes once the Empty entry is replicated.
	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	assert.GreaterOrEqual(t, init.ProducerID, int64(0))
	assert.Equal(t, int16(0), init.Epoch)
	pid := init.ProducerID
	first := h.entries(2)
	require.Len(t, first, 1)
	assert.Positive(t, first[0].UpdatedAt, "txnLastUpdateTimestamp: when the coordinator wrote it")
	assert.Less(t, first[0].UpdatedAt, h.now())
	first[0].UpdatedAt = 0
	require.Equal(t, []TxnLogEntry{{TransactionalID: txnID, ProducerID: pid, ProducerEpoch: 0, LastEpoch: -1, TimeoutMs: txnTimeoutMs, State: TxnEmpty}},
		first)
	assert.Equal(t, int64(1), h.log(2, h.state).HW(), "answered once replicated")

	// Both partitions join the transaction in one Ongoing entry.
	added := h.now()
	r := h.addPartitions(h.a, 2, pid, 0, o1, o0)
	require.Equal(t, ErrNone, r.Error)
	require.Len(t, h.entries(2), 2)
	ongoing := h.entries(2)[1]
	assert.Equal(t, TxnOngoing, ongoing.State)
	assert.Equal(t, []PartitionID{o0, o1}, ongoing.Partitions, "sorted")
	assert.Greater(t, ongoing.StartAt, added, "the transaction starts when the coordinator handles the request")
	assert.Less(t, ongoing.StartAt, h.now())

	// Adding a partition already in the transaction is answered at once,
	// with nothing written.
	r = h.addPartitions(h.a, 2, pid, 0, o0)
	require.Equal(t, ErrNone, r.Error)
	assert.Len(t, h.entries(2), 2)

	// A transactional batch to each partition's leader, acks=all. Until the
	// transaction ends, read_committed sees nothing of it.
	for _, p := range h.orders {
		pr := h.produce(h.a, p, pid, 0, 0, 3)
		require.Equal(t, ErrNone, pr.Error, "%s", h.c.Topo.Name(p))
		assert.Equal(t, int64(0), pr.BaseOffset)
		l := h.leaderLog(p)
		assert.Equal(t, int64(3), l.HW())
		assert.Equal(t, int64(0), l.LastStableOffset(), "%s: the open transaction holds the LSO", h.c.Topo.Name(p))
	}

	// EndTxn(COMMIT) is answered once PrepareCommit is replicated: from
	// then on the commit is decided, whatever happens to the coordinator.
	// The markers are only on their way.
	e := h.endTxn(h.a, 2, pid, 0, true)
	require.Equal(t, ErrNone, e.Error)
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing, TxnPrepareCommit}, h.states(2))
	assert.Equal(t, int64(3), h.log(2, h.state).HW())

	// The coordinator writes a COMMIT marker to each partition's leader,
	// then CompleteCommit.
	h.settled(TxnCompleteCommit, 1, h.orders[:]...)
	for _, p := range h.orders {
		name := h.c.Topo.Name(p)
		l := h.leaderLog(p)
		bs := l.Batches()
		require.Len(t, bs, 2, name)
		assert.True(t, bs[0].Transactional, name)
		assert.False(t, bs[0].IsControl(), name)
		assert.True(t, bs[1].IsControl(), "%s: the marker follows the data", name)
		assert.Equal(t, MarkerCommit, bs[1].Marker, name)
		assert.Equal(t, pid, bs[1].ProducerID, name)
		assert.Equal(t, int16(0), bs[1].ProducerEpoch, name)
		assert.Equal(t, int32(0), bs[1].CoordinatorEpoch, "%s: the leader epoch of %s", name, h.c.Topo.Name(h.state))
		assert.Equal(t, int64(3), bs[1].BaseOffset, name)
		ends, outcomes := l.TxnEnds()
		assert.Equal(t, []int64{3, -1}, ends, name)
		assert.Equal(t, []MarkerType{MarkerCommit, 0}, outcomes, name)
		assert.Equal(t, int64(4), l.HW(), name)
		assert.Equal(t, l.HW(), l.LastStableOffset(), "%s: decided and replicated, so stable", name)
	}

	// The transaction log ends in CompleteCommit, with the partitions kept,
	// and every follower holds the same entries.
	want := []TxnState{TxnEmpty, TxnOngoing, TxnPrepareCommit, TxnCompleteCommit}
	assert.Equal(t, want, h.states(2))
	last := h.entries(2)[3]
	assert.Equal(t, []PartitionID{o0, o1}, last.Partitions)
	assert.Equal(t, []int16{0, 0, 0, 0}, h.epochs(2), "a commit keeps the epoch (transaction.version 1)")
	h.followersCaughtUp()
	for _, b := range []sim.NodeID{3, 1} {
		assert.Equal(t, h.entries(2), h.entries(b), "broker %d", b)
	}
	assert.Len(t, h.traced(2, event.TxnComplete, inState(TxnCompleteCommit)), 1)

	// Nothing else reached the client: one answer per request.
	assert.Equal(t, 3, h.a.byType["find-coordinator-response"])
	assert.Equal(t, 1, h.a.byType["end-txn-response"])
	assert.Zero(t, h.a.byType["write-txn-markers-response"])
}

// TestStoryTransactionAbortLeavesDataInvisible: EndTxn(ABORT) writes ABORT
// markers. The data stays in the log, but the transaction is decided, so
// the LSO moves past it; read_committed skips the aborted records.
func TestStoryTransactionAbortLeavesDataInvisible(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, h.orders[:]...).Error)
	written := map[PartitionID][]RecordID{}
	for _, p := range h.orders {
		first := h.nextRe
		require.Equal(t, ErrNone, h.produce(h.a, p, pid, 0, 0, 2).Error)
		written[p] = []RecordID{first, first + 1}
	}

	e := h.endTxn(h.a, 2, pid, 0, false)
	require.Equal(t, ErrNone, e.Error)
	assert.Equal(t, TxnPrepareAbort, h.entries(2)[2].State)

	h.settled(TxnCompleteAbort, 1, h.orders[:]...)
	for _, p := range h.orders {
		name := h.c.Topo.Name(p)
		l := h.leaderLog(p)
		bs := l.Batches()
		require.Len(t, bs, 2, name)
		assert.Equal(t, MarkerAbort, bs[1].Marker, name)
		assert.Equal(t, int16(0), bs[1].ProducerEpoch, "%s: the producer's own abort keeps its epoch", name)
		assert.Equal(t, written[p], l.Records(0, 2), "%s: the aborted records stay in the log", name)
		ends, outcomes := l.TxnEnds()
		assert.Equal(t, int64(2), ends[0], name)
		assert.Equal(t, MarkerAbort, outcomes[0], name)
		assert.Equal(t, int64(3), l.HW(), name)
		assert.Equal(t, l.HW(), l.LastStableOffset(), "%s: an abort is a decision too", name)
	}
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing, TxnPrepareAbort, TxnCompleteAbort}, h.states(2))
	assert.Equal(t, []int16{0, 0, 0, 0}, h.epochs(2))
	h.followersCaughtUp()
	for _, b := range []sim.NodeID{3, 1} {
		assert.Equal(t, h.entries(2), h.entries(b), "broker %d", b)
	}

	// The id is back to a state where a new transaction may start; EndTxn
	// retried with the same decision succeeds again, the opposite fails.
	assert.Equal(t, ErrNone, h.endTxn(h.a, 2, pid, 0, false).Error)
	assert.Equal(t, ErrInvalidTxnState, h.endTxn(h.a, 2, pid, 0, true).Error)
	assert.Len(t, h.entries(2), 4, "answering a retry writes nothing")
}

// TestStoryOpenTransactionHoldsLastStableOffset: records after an open
// transaction's first batch are replicated (the HW passes them) but not
// stable; the LSO stays at the transaction's first offset until the marker
// is replicated.
func TestStoryOpenTransactionHoldsLastStableOffset(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	o0 := h.orders[0]
	// Two plain records first, so that the transaction does not start at 0.
	require.Equal(t, ErrNone, h.produce(h.a, o0, -1, -1, -1, 2).Error)

	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, o0).Error)
	data := h.produce(h.a, o0, pid, 0, 0, 3)
	require.Equal(t, ErrNone, data.Error)
	assert.Equal(t, int64(2), data.BaseOffset)
	// More plain records after it: replicated, but behind the open
	// transaction.
	require.Equal(t, ErrNone, h.produce(h.a, o0, -1, -1, -1, 2).Error)

	h.run(sim.Second) // the followers learn the HW too
	for _, b := range all {
		l := h.log(b, o0)
		assert.Equal(t, int64(7), l.HW(), "broker %d", b)
		assert.Equal(t, data.BaseOffset, l.LastStableOffset(), "broker %d: held at the open transaction's first offset", b)
		ends, outcomes := l.TxnEnds()
		assert.Equal(t, []int64{-1, -1, -1}, ends, "broker %d", b)
		assert.Equal(t, []MarkerType{0, 0, 0}, outcomes, "broker %d", b)
	}
	assert.Equal(t, TxnOngoing, h.entries(2)[1].State)

	// The commit releases it: the marker at 7, then the LSO is the HW.
	require.Equal(t, ErrNone, h.endTxn(h.a, 2, pid, 0, true).Error)
	h.settled(TxnCompleteCommit, 1, o0)
	l := h.leaderLog(o0)
	assert.Equal(t, int64(8), l.HW())
	assert.Equal(t, int64(8), l.LastStableOffset())
	ends, outcomes := l.TxnEnds()
	assert.Equal(t, []int64{-1, 7, -1, -1}, ends)
	assert.Equal(t, []MarkerType{0, MarkerCommit, 0, 0}, outcomes)
	// orders-1 was never added: no marker there.
	assert.Empty(t, h.leaderLog(h.orders[1]).Batches())
}

// TestStoryInitProducerIDFencesOpenTransaction is zombie fencing: a second
// instance with the same transactional id bumps the epoch, which aborts
// the first instance's open transaction and fences it everywhere.
func TestStoryInitProducerIDFencesOpenTransaction(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	o0 := h.orders[0]

	// Instance A starts a transaction on orders-0.
	a := h.a
	ia := h.initPID(a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, ia.Error)
	pid := ia.ProducerID
	require.Equal(t, int16(0), ia.Epoch)
	require.Equal(t, ErrNone, h.addPartitions(a, 2, pid, 0, o0).Error)
	require.Equal(t, ErrNone, h.produce(a, o0, pid, 0, 0, 2).Error)

	// Instance B (say, A's replacement after A seemed dead) calls
	// initTransactions with the same id. The coordinator will not hand out
	// a new epoch over an open transaction: it bumps the epoch itself, aborts
	// A's transaction with it, and tells B to retry.
	b := h.addClient("client-b")
	ib := h.initPID(b, 2, txnTimeoutMs)
	assert.Equal(t, ErrConcurrentTransactions, ib.Error)
	assert.Equal(t, int64(-1), ib.ProducerID)
	assert.Len(t, h.traced(2, event.TxnFence, ofTxn(txnID)), 1)

	// Retrying at once, while the abort is still being written, gets the
	// same answer.
	ib = h.initPID(b, 2, txnTimeoutMs)
	assert.Equal(t, ErrConcurrentTransactions, ib.Error)
	assert.Len(t, h.traced(2, event.TxnFence, ofTxn(txnID)), 1, "one fence")

	// The ABORT marker carries the bumped epoch 1, so orders-0 refuses
	// epoch 0 from now on.
	h.settled(TxnCompleteAbort, 1, o0)
	l := h.leaderLog(o0)
	ms := markers(l)
	require.Len(t, ms, 1)
	assert.Equal(t, MarkerAbort, ms[0].Marker)
	assert.Equal(t, pid, ms[0].ProducerID)
	assert.Equal(t, int16(1), ms[0].ProducerEpoch)
	ends, outcomes := l.TxnEnds()
	assert.Equal(t, int64(2), ends[0])
	assert.Equal(t, MarkerAbort, outcomes[0])
	assert.Equal(t, l.HW(), l.LastStableOffset())
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing, TxnPrepareAbort, TxnCompleteAbort}, h.states(2))
	assert.Equal(t, []int16{0, 0, 1, 1}, h.epochs(2))

	// B's retry after the abort completes: same producer id, epoch 2.
	ib = h.initPID(b, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, ib.Error)
	assert.Equal(t, pid, ib.ProducerID)
	assert.Equal(t, int16(2), ib.Epoch)

	// A, the zombie, is fenced at the coordinator...
	assert.Equal(t, ErrProducerFenced, h.endTxn(a, 2, pid, 0, true).Error)
	assert.Equal(t, ErrProducerFenced, h.addPartitions(a, 2, pid, 0, o0).Error)
	// ...and at the partition, which knows epoch 1 from the marker.
	leo := l.LEO()
	pr := h.produce(a, o0, pid, 0, 2, 1)
	assert.Equal(t, ErrInvalidProducerEpoch, pr.Error)
	assert.Equal(t, leo, l.LEO(), "nothing appended")

	// B works with epoch 2: a bumped epoch starts at sequence 0.
	require.Equal(t, ErrNone, h.addPartitions(b, 2, pid, 2, o0).Error)
	pr = h.produce(b, o0, pid, 2, 0, 2)
	require.Equal(t, ErrNone, pr.Error)
	require.Equal(t, ErrNone, h.endTxn(b, 2, pid, 2, true).Error)
	h.settled(TxnCompleteCommit, 2, o0)
	ends, outcomes = l.TxnEnds()
	require.Len(t, ends, 4)
	assert.Equal(t, []MarkerType{MarkerAbort, 0, MarkerCommit, 0}, outcomes, "A's records aborted, B's committed")
	assert.Equal(t, l.HW(), l.LastStableOffset())
	assert.Equal(t, int16(2), markers(l)[1].ProducerEpoch)
	assert.Equal(t, []int16{0, 0, 1, 1, 2, 2, 2, 2}, h.epochs(2))
}

// TestStoryCoordinatorFailoverCompletesCommit: the coordinator dies right
// after PrepareCommit is replicated, before any marker is written. The
// commit is decided: the next leader of __transaction_state-46 loads
// PrepareCommit and writes the markers itself.
func TestStoryCoordinatorFailoverCompletesCommit(t *testing.T) {
	cfg := tv1Config()
	h := newTxnHarness(t, cfg)
	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, h.orders[:]...).Error)
	for _, p := range h.orders {
		require.Equal(t, ErrNone, h.produce(h.a, p, pid, 0, 0, 2).Error)
	}

	// EndTxn(COMMIT). Broker 2 is killed in the very event in which the HW
	// of __transaction_state-46 passes PrepareCommit: the EndTxn answer and
	// the WriteTxnMarkers requests are on the wire, no marker is written.
	endID := h.sendEndTxn(h.a, 2, pid, 0, true)
	st := h.log(2, h.state)
	h.runUntil(sim.Second, "PrepareCommit replicated", func() bool {
		n := len(st.Batches())
		return n == 3 && st.Batches()[2].Txn.State == TxnPrepareCommit && st.HW() == 3
	})
	h.c.Crash(2)
	for _, p := range h.orders {
		assert.Empty(t, markers(h.leaderLog(p)), "%s: no marker yet", h.c.Topo.Name(p))
	}
	for _, b := range []sim.NodeID{3, 1} {
		assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing, TxnPrepareCommit}, h.states(b), "broker %d has PrepareCommit", b)
	}
	// The answer sent before the crash still arrives.
	assert.Equal(t, ErrNone, await[*EndTxnResponse](h, h.a, endID).Error)

	// After broker.session.timeout.ms the controller fences broker 2 and
	// elects the next replica in assignment order (2, 3, 1) for
	// __transaction_state-46 and orders-1. Broker 3 loads the partition,
	// finds PrepareCommit, and sends the markers with its coordinator
	// epoch, the partition's new leader epoch.
	h.run(cfg.BrokerSessionTimeout + 3*sim.Second)
	require.True(t, h.c.Controller.Fenced(2))
	coord := h.c.Leader(h.state)
	require.Equal(t, sim.NodeID(3), coord)
	require.Equal(t, sim.NodeID(3), h.c.Leader(h.orders[1]))
	newEpoch := h.c.Controller.State(h.state).LeaderEpoch
	require.Equal(t, int32(1), newEpoch)
	assert.Len(t, h.traced(3, event.TxnLoad, inState(TxnPrepareCommit)), 1)
	m := h.c.Brokers[3].coord.findTxn(txnID)
	require.NotNil(t, m, "broker 3 loaded the id")
	assert.Equal(t, TxnCompleteCommit, m.State)
	assert.Equal(t, pid, m.ProducerID)
	assert.Equal(t, int16(0), m.ProducerEpoch)

	// The old coordinator's marker for orders-0 was on the wire when it
	// died, and broker 1 appended it; the new coordinator, not knowing,
	// writes it again. A second COMMIT marker ends nothing, so it is
	// harmless. orders-1's marker was for broker 2 itself and was lost.
	wantEpochs := [][]int32{{0, newEpoch}, {newEpoch}}
	for i, p := range h.orders {
		name := h.c.Topo.Name(p)
		l := h.leaderLog(p)
		ms := markers(l)
		var coordEpochs []int32
		for _, mk := range ms {
			assert.Equal(t, MarkerCommit, mk.Marker, name)
			coordEpochs = append(coordEpochs, mk.CoordinatorEpoch)
		}
		assert.Equal(t, wantEpochs[i], coordEpochs, "%s: coordinator epochs of the markers", name)
		ends, outcomes := l.TxnEnds()
		assert.Equal(t, int64(2), ends[0], "%s: the first marker after the data ends it", name)
		assert.Equal(t, MarkerCommit, outcomes[0], name)
		assert.True(t, replicated(l), name)
		assert.Equal(t, l.HW(), l.LastStableOffset(), name)
	}
	want := []TxnState{TxnEmpty, TxnOngoing, TxnPrepareCommit, TxnCompleteCommit}
	assert.Equal(t, want, h.states(3))
	h.followersCaughtUp()
	assert.Equal(t, h.entries(3), h.entries(1))
	assert.Len(t, h.entries(2), 3, "the dead coordinator never wrote CompleteCommit")

	// The client finds the new coordinator; a retried EndTxn(COMMIT) is
	// answered NONE without a new entry, the opposite decision is refused,
	// and the other live broker is not the coordinator.
	fc := h.findCoordinator(h.a, 1)
	require.Equal(t, ErrNone, fc.Error)
	assert.Equal(t, sim.NodeID(3), fc.Coordinator)
	assert.Equal(t, ErrNone, h.endTxn(h.a, 3, pid, 0, true).Error)
	assert.Equal(t, ErrInvalidTxnState, h.endTxn(h.a, 3, pid, 0, false).Error)
	assert.Equal(t, ErrNotCoordinator, h.endTxn(h.a, 1, pid, 0, true).Error)
	assert.Len(t, h.entries(3), 4)

	// The producer goes on with its epoch at the new coordinator.
	assert.Equal(t, ErrNone, h.addPartitions(h.a, 3, pid, 0, h.orders[0]).Error)
	assert.Equal(t, TxnOngoing, h.entries(3)[4].State)
}

// TestStoryTransactionTimeoutAborts: a transaction open longer than its
// transaction.timeout.ms is aborted by the coordinator, which bumps the
// epoch so that the producer is fenced.
func TestStoryTransactionTimeoutAborts(t *testing.T) {
	cfg := tv1Config()
	cfg.TransactionAbortCheckPeriod = 500 * sim.Millisecond
	h := newTxnHarness(t, cfg)
	o0 := h.orders[0]
	init := h.initPID(h.a, 2, 1000)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, o0).Error)
	require.Equal(t, ErrNone, h.produce(h.a, o0, pid, 0, 0, 2).Error)
	start := h.entries(2)[1].StartAt

	// At exactly transaction.timeout.ms nothing has happened yet.
	h.w.RunUntil(start + sim.Second)
	assert.Empty(t, markers(h.leaderLog(o0)))
	assert.Equal(t, TxnOngoing, h.entries(2)[len(h.entries(2))-1].State)

	// The next check (every 500ms) finds it expired and aborts it.
	h.run(2 * sim.Second)
	aborts := h.traced(2, event.TxnTimeout, ofTxn(txnID))
	require.Len(t, aborts, 1)
	assert.Greater(t, aborts[0].At, start+sim.Second)
	assert.LessOrEqual(t, aborts[0].At, start+sim.Second+cfg.TransactionAbortCheckPeriod)
	require.True(t, h.completed(TxnCompleteAbort))
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing, TxnPrepareAbort, TxnCompleteAbort}, h.states(2))
	assert.Equal(t, []int16{0, 0, 1, 1}, h.epochs(2))

	l := h.leaderLog(o0)
	ms := markers(l)
	require.Len(t, ms, 1)
	assert.Equal(t, MarkerAbort, ms[0].Marker)
	assert.Equal(t, int16(1), ms[0].ProducerEpoch)
	assert.Equal(t, l.HW(), l.LastStableOffset())

	// The producer learns it was fenced when it tries to go on.
	assert.Equal(t, ErrProducerFenced, h.endTxn(h.a, 2, pid, 0, true).Error)
	assert.Equal(t, ErrInvalidProducerEpoch, h.produce(h.a, o0, pid, 0, 2, 1).Error)

	// A new InitProducerId starts over at epoch 2.
	again := h.initPID(h.a, 2, 1000)
	require.Equal(t, ErrNone, again.Error)
	assert.Equal(t, pid, again.ProducerID)
	assert.Equal(t, int16(2), again.Epoch)
}

// TestCoordinatorRequestValidation checks the coordinator's answers to
// requests it must refuse, and that a refused request writes nothing.
func TestCoordinatorRequestValidation(t *testing.T) {
	const initFirst, noInit = true, false
	tests := []struct {
		name string
		init bool // InitProducerId (epoch 0) at broker 2 first
		// send makes the request and returns the answer's error.
		send func(h *txnHarness, pid int64) Error
		want Error
	}{
		{"transaction timeout 0", noInit, func(h *txnHarness, _ int64) Error {
			r := h.initPID(h.a, 2, 0)
			assert.Equal(h.t, int64(-1), r.ProducerID)
			assert.Equal(h.t, int16(-1), r.Epoch)
			return r.Error
		}, ErrInvalidTransactionTimeout},
		{"negative transaction timeout", noInit, func(h *txnHarness, _ int64) Error {
			return h.initPID(h.a, 2, -1).Error
		}, ErrInvalidTransactionTimeout},
		{"transaction timeout above transaction.max.timeout.ms", noInit, func(h *txnHarness, _ int64) Error {
			return h.initPID(h.a, 2, 900001).Error
		}, ErrInvalidTransactionTimeout},
		{"transaction timeout at transaction.max.timeout.ms", noInit, func(h *txnHarness, _ int64) Error {
			return h.initPID(h.a, 2, 900000).Error
		}, ErrNone},
		{"AddPartitions with another producer id", initFirst, func(h *txnHarness, pid int64) Error {
			return h.addPartitions(h.a, 2, pid+1, 0, h.orders[0]).Error
		}, ErrInvalidProducerIDMapping},
		{"AddPartitions for an id never initialised", noInit, func(h *txnHarness, _ int64) Error {
			return h.addPartitions(h.a, 2, 0, 0, h.orders[0]).Error
		}, ErrInvalidProducerIDMapping},
		{"AddPartitions with another epoch", initFirst, func(h *txnHarness, pid int64) Error {
			return h.addPartitions(h.a, 2, pid, 1, h.orders[0]).Error
		}, ErrProducerFenced},
		{"EndTxn with another producer id", initFirst, func(h *txnHarness, pid int64) Error {
			return h.endTxn(h.a, 2, pid+1, 0, true).Error
		}, ErrInvalidProducerIDMapping},
		{"EndTxn(COMMIT) with no transaction", initFirst, func(h *txnHarness, pid int64) Error {
			return h.endTxn(h.a, 2, pid, 0, true).Error
		}, ErrInvalidTxnState},
		{"EndTxn(ABORT) with no transaction", initFirst, func(h *txnHarness, pid int64) Error {
			return h.endTxn(h.a, 2, pid, 0, false).Error
		}, ErrInvalidTxnState},
		{"InitProducerId at broker 1", noInit, func(h *txnHarness, _ int64) Error {
			return h.initPID(h.a, 1, txnTimeoutMs).Error
		}, ErrNotCoordinator},
		{"InitProducerId at broker 3", noInit, func(h *txnHarness, _ int64) Error {
			return h.initPID(h.a, 3, txnTimeoutMs).Error
		}, ErrNotCoordinator},
		{"AddPartitions at broker 1", initFirst, func(h *txnHarness, pid int64) Error {
			return h.addPartitions(h.a, 1, pid, 0, h.orders[0]).Error
		}, ErrNotCoordinator},
		{"EndTxn at broker 3", initFirst, func(h *txnHarness, pid int64) Error {
			return h.endTxn(h.a, 3, pid, 0, true).Error
		}, ErrNotCoordinator},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTxnHarness(t, tv1Config())
			pid := int64(-1)
			if tc.init {
				r := h.initPID(h.a, 2, txnTimeoutMs)
				require.Equal(t, ErrNone, r.Error)
				pid = r.ProducerID
			}
			before := len(h.entries(2))
			assert.Equal(t, tc.want, tc.send(h, pid))
			h.run(100 * sim.Millisecond)
			written := len(h.entries(2)) - before
			if tc.want == ErrNone {
				assert.Equal(t, 1, written)
			} else {
				assert.Zero(t, written, "a refused request writes nothing")
				for _, b := range []sim.NodeID{1, 3} {
					assert.Len(t, h.log(b, h.state).Batches(), before, "broker %d", b)
				}
			}
		})
	}
}

// TestStoryFenceAtLastEpochStartsNewProducerID: when fencing an open
// transaction bumps the epoch to Short.MAX_VALUE (32767), the next
// InitProducerId must rotate to a new producer id at epoch 0
// (TransactionMetadata.isProducerEpochExhausted: epoch >= Short.MAX_VALUE-1).
func TestStoryFenceAtLastEpochStartsNewProducerID(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	o0 := h.orders[0]
	// Take the id to epoch 32766 with 32767 InitProducerIds (the
	// invariants are not checked here: it is many events of nothing new).
	h.checkOn = false
	first := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, first.Error)
	pid := first.ProducerID
	r := first
	for r.Epoch < 32766 {
		r = h.initPID(h.a, 2, txnTimeoutMs)
		require.Equal(t, ErrNone, r.Error)
		require.Equal(t, pid, r.ProducerID, "epoch %d", r.Epoch)
	}
	h.checkOn = true
	require.Equal(t, int16(32766), r.Epoch)

	// A transaction at epoch 32766, fenced by a second InitProducerId: the
	// abort carries epoch 32767.
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 32766, o0).Error)
	require.Equal(t, ErrNone, h.produce(h.a, o0, pid, 32766, 0, 1).Error)
	require.Equal(t, ErrConcurrentTransactions, h.initPID(h.a, 2, txnTimeoutMs).Error)
	h.settled(TxnCompleteAbort, 1, o0)
	ms := markers(h.leaderLog(o0))
	require.Len(t, ms, 1)
	require.Equal(t, int16(32767), ms[0].ProducerEpoch)

	// The retry: the epoch is exhausted, so a new producer id at epoch 0.
	r = h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, r.Error)
	assert.NotEqual(t, pid, r.ProducerID, "a new producer id")
	assert.Equal(t, int16(0), r.Epoch)
}

// TestStoryTransactionalIDExpires: an id whose last transaction completed
// more than transactional.id.expiration.ms ago is forgotten at the next
// cleanup (TransactionStateManager.removeExpiredTransactionalIds): a
// tombstone is written, and its producer then gets
// INVALID_PRODUCER_ID_MAPPING from AddPartitionsToTxn and EndTxn. Its
// InitProducerId bump is not fenced: the id is created again with a new
// producer id at epoch 0 (prepareInitProducerIdTransit, isValidProducerId).
// An open transaction keeps its id alive.
func TestStoryTransactionalIDExpires(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TransactionalIDExpiration = 5 * sim.Second
	cfg.TransactionalIDExpirationCheck = sim.Second
	h := newTxnHarness(t, cfg)
	o0 := h.orders[0]
	h.findCoordinator(h.a, 2)
	init := h.initPID(h.a, 2, txnTimeoutMs)
	require.Equal(t, ErrNone, init.Error)
	pid := init.ProducerID

	// An open transaction does not expire, however long it stays open.
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, o0).Error)
	h.run(8 * sim.Second)
	assert.Equal(t, []TxnState{TxnEmpty, TxnOngoing}, h.states(2))
	require.Equal(t, ErrNone, h.endTxn(h.a, 2, pid, 0, true).Error)
	h.settled(TxnCompleteCommit, 1, o0)

	h.run(7 * sim.Second)
	assert.Equal(t, TxnDead, h.entries(2)[len(h.entries(2))-1].State, "the tombstone is the id's last entry")
	require.Len(t, h.traced(2, event.TxnIDExpired, nil), 1)
	assert.Equal(t, ErrInvalidProducerIDMapping, h.addPartitions(h.a, 2, pid, 0, o0).Error)
	assert.Equal(t, ErrInvalidProducerIDMapping, h.endTxn(h.a, 2, pid, 0, false).Error)

	id := h.send(h.a, 2, func(id int64) sim.Message {
		return &InitProducerIDRequest{Conn: testConn, ID: id, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: pid, ProducerEpoch: 0}
	})
	again := await[*InitProducerIDResponse](h, h.a, id)
	require.Equal(t, ErrNone, again.Error)
	assert.NotEqual(t, pid, again.ProducerID, "a new producer id")
	assert.Equal(t, int16(0), again.Epoch)
	require.Equal(t, ErrNone, h.addPartitions(h.a, 2, again.ProducerID, 0, o0).Error)

	// A coordinator that loads the partition after the tombstone does not
	// bring the old entry back.
	h.c.Crash(2)
	h.runUntil(30*sim.Second, "a new coordinator", func() bool { return h.c.Leader(h.state) != 2 && h.c.Leader(h.state) != NoLeader })
	h.run(sim.Second)
	nb := h.c.Leader(h.state)
	m := h.c.Brokers[nb].coord.findTxn(txnID)
	require.NotNil(t, m)
	assert.Equal(t, again.ProducerID, m.ProducerID)
}
