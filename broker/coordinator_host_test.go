package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// Stories of the transaction coordinator alone: a fake host stands in for
// the broker, so each story decides when a log write is replicated and
// what the partition leaders answer, and reads what the coordinator asked
// of its host.

// fakeHost is a coordinatorHost that records every call. Log writes wait
// until the story settles them.
type fakeHost struct {
	leaders  map[PartitionID]sim.NodeID // the metadata's leaders
	led      map[PartitionID]bool       // partitions this broker leads
	writable Error                      // what txnLogWritable answers
	writes   []*txnWrite                // appended, not yet settled
	nextPID  int64
	answers  []sim.Message // respondTo and release, in order
	held     int           // connections held and not yet released
	sent     []*WriteTxnMarkersRequest
	sentTo   []sim.NodeID
	closed   []sim.NodeID // marker connections closed after a timeout
}

func (h *fakeHost) leads(p PartitionID) bool                { return h.led[p] }
func (h *fakeHost) metadataLeader(p PartitionID) sim.NodeID { return h.leaders[p] }
func (h *fakeHost) txnLogWritable(PartitionID) Error        { return h.writable }
func (h *fakeHost) appendTxnLog(w *txnWrite)                { h.writes = append(h.writes, w) }
func (h *fakeHost) newProducerID() int64                    { h.nextPID++; return h.nextPID - 1 }
func (h *fakeHost) respondTo(_ clientReply, m sim.Message)  { h.answers = append(h.answers, m) }
func (h *fakeHost) hold(clientReply)                        { h.held++ }
func (h *fakeHost) release(_ clientReply, m sim.Message) {
	h.held--
	h.answers = append(h.answers, m)
}
func (h *fakeHost) closeMarkers(to sim.NodeID) { h.closed = append(h.closed, to) }
func (h *fakeHost) send(to sim.NodeID, m sim.Message) {
	h.sentTo = append(h.sentTo, to)
	h.sent = append(h.sent, m.(*WriteTxnMarkersRequest))
}

// lastAnswer is the newest answer to a client.
func lastAnswer[T sim.Message](t *testing.T, h *fakeHost) T {
	t.Helper()
	require.NotEmpty(t, h.answers)
	m, ok := h.answers[len(h.answers)-1].(T)
	require.True(t, ok, "last answer is %T", h.answers[len(h.answers)-1])
	return m
}

// settle completes the oldest waiting write with err, as the broker's
// purgatory does once the high watermark passes it (ErrNone) or the
// broker stops leading (NOT_LEADER_OR_FOLLOWER).
func (h *fakeHost) settle(t *testing.T, c *txnCoordinator, err Error) *txnWrite {
	t.Helper()
	require.NotEmpty(t, h.writes, "a write waits")
	w := h.writes[0]
	h.writes = h.writes[1:]
	c.written(w, err)
	return w
}

// coordinatorAlone is a coordinator for my-transactional-id on broker 2,
// with the topic orders (2 partitions, led by brokers 1 and 3) and its
// __transaction_state partition loaded at coordinator epoch 4.
func coordinatorAlone(t *testing.T) (*txnCoordinator, *fakeHost, [2]PartitionID) {
	topo := NewTopology(3, []Topic{
		{Name: "orders", Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 1},
		{Name: TransactionStateTopic, Partitions: DefaultTxnStatePartitions, ReplicationFactor: 3, MinInsyncReplicas: 2},
	})
	w := sim.NewWorld(1)
	var id sim.NodeID
	for range 3 { // nodes 0, 1 and 2: the coordinator is broker 2
		id = w.AddNode("node", &fakeClient{})
	}
	orders := [2]PartitionID{topo.ID(0, 0), topo.ID(0, 1)}
	state := topo.ID(1, 46)
	host := &fakeHost{leaders: map[PartitionID]sim.NodeID{orders[0]: 1, orders[1]: 3, state: id},
		led: map[PartitionID]bool{state: true}, nextPID: 7000}
	cfg := tv1Config()
	c := newTxnCoordinator(w, id, &cfg, topo, host)
	c.load(state, 4, nil)
	return c, host, orders
}

var client = clientReply{client: 9, conn: 1}

// TestStoryCoordinatorAloneCommits drives one transaction from
// InitProducerId to CompleteCommit: every state change waits for its log
// write, EndTxn is answered at PrepareCommit, and the markers go to each
// partition's leader with the coordinator epoch.
func TestStoryCoordinatorAloneCommits(t *testing.T) {
	c, host, orders := coordinatorAlone(t)

	c.handleFindCoordinator(client, &FindCoordinatorRequest{ID: 1, TransactionalID: txnID})
	assert.Equal(t, &FindCoordinatorResponse{ID: 1, Coordinator: 2}, lastAnswer[*FindCoordinatorResponse](t, host))

	c.handleInitProducerID(client, &InitProducerIDRequest{ID: 2, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: -1, ProducerEpoch: -1})
	require.Len(t, host.writes, 1)
	assert.Equal(t, 1, host.held, "the answer waits for the write")
	assert.Equal(t, TxnLogEntry{TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, LastEpoch: -1, TimeoutMs: txnTimeoutMs, State: TxnEmpty},
		host.writes[0].entry)
	m := c.findTxn(txnID)
	assert.True(t, m.pending)
	host.settle(t, c, ErrNone)
	assert.Equal(t, &InitProducerIDResponse{ID: 2, ProducerID: 7000, Epoch: 0}, lastAnswer[*InitProducerIDResponse](t, host))
	assert.Equal(t, 0, host.held)

	c.handleAddPartitions(client, &AddPartitionsToTxnRequest{ID: 4, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Partitions: []PartitionID{orders[1], orders[0]}})
	c.handleEndTxn(client, &EndTxnRequest{ID: 3, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Commit: true})
	assert.Equal(t, &EndTxnResponse{ID: 3, Error: ErrConcurrentTransactions, ProducerID: -1, ProducerEpoch: -1}, lastAnswer[*EndTxnResponse](t, host), "one transition at a time")
	w := host.settle(t, c, ErrNone)
	assert.Equal(t, []PartitionID{orders[0], orders[1]}, w.entry.Partitions, "sorted")
	assert.Equal(t, &AddPartitionsToTxnResponse{ID: 4}, lastAnswer[*AddPartitionsToTxnResponse](t, host))
	assert.Equal(t, TxnOngoing, m.State)

	c.handleEndTxn(client, &EndTxnRequest{ID: 5, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Commit: true})
	assert.Empty(t, host.sent, "no marker before PrepareCommit is in the log")
	host.settle(t, c, ErrNone)
	assert.Equal(t, &EndTxnResponse{ID: 5, ProducerID: -1, ProducerEpoch: -1}, lastAnswer[*EndTxnResponse](t, host))
	assert.Equal(t, TxnPrepareCommit, m.State)
	require.Len(t, host.sent, 2, "one WriteTxnMarkers per leader")
	assert.Equal(t, []sim.NodeID{1, 3}, host.sentTo)
	for i, r := range host.sent {
		assert.Equal(t, MarkerCommit, r.Marker)
		assert.Equal(t, int32(4), r.CoordinatorEpoch)
		assert.Equal(t, []PartitionID{orders[i]}, r.Partitions)
	}

	// One leader answers; the transaction completes only with both.
	c.handleMarkersResponse(&WriteTxnMarkersResponse{ID: host.sent[0].ID, Errors: []Error{ErrNone}})
	assert.Empty(t, host.writes)
	c.handleMarkersResponse(&WriteTxnMarkersResponse{ID: host.sent[1].ID, Errors: []Error{ErrNone}})
	assert.False(t, c.settledAll(), "CompleteCommit is being written")
	w = host.settle(t, c, ErrNone)
	assert.Equal(t, TxnCompleteCommit, w.entry.State)
	assert.Equal(t, TxnCompleteCommit, m.State)
	assert.True(t, c.settledAll())
}

// TestStoryCoordinatorAloneFenceNotWritten: InitProducerId finds a
// transaction open and fences it (PrepareEpochFence, epoch bumped in
// memory), but the broker stops leading before the abort is replicated:
// the fence is undone, the old epoch stands, and the id is no longer
// coordinated here.
func TestStoryCoordinatorAloneFenceNotWritten(t *testing.T) {
	c, host, orders := coordinatorAlone(t)
	c.handleInitProducerID(client, &InitProducerIDRequest{ID: 1, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: -1, ProducerEpoch: -1})
	host.settle(t, c, ErrNone)
	c.handleAddPartitions(client, &AddPartitionsToTxnRequest{ID: 2, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Partitions: orders[:1]})
	host.settle(t, c, ErrNone)
	m := c.findTxn(txnID)
	require.Equal(t, TxnOngoing, m.State)

	c.handleInitProducerID(client, &InitProducerIDRequest{ID: 3, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: -1, ProducerEpoch: -1})
	assert.Equal(t, &InitProducerIDResponse{ID: 3, ProducerID: -1, Epoch: -1, Error: ErrConcurrentTransactions}, lastAnswer[*InitProducerIDResponse](t, host))
	assert.Equal(t, TxnPrepareEpochFence, m.State)
	require.Len(t, host.writes, 1)
	assert.Equal(t, TxnPrepareAbort, host.writes[0].entry.State)
	assert.Equal(t, int16(1), host.writes[0].entry.ProducerEpoch, "the abort is written with the bumped epoch")

	host.settle(t, c, ErrNotLeaderOrFollower)
	assert.Equal(t, TxnOngoing, m.State, "the fence did not stick")
	assert.Equal(t, int16(0), m.ProducerEpoch)
	assert.Empty(t, host.sent, "no marker for an abort never written")
	assert.Equal(t, 0, host.held)
}

// TestCoordinatorAloneLogNotWritable: a write the host refuses at once
// answers with the host's error and leaves the state as it was.
func TestCoordinatorAloneLogNotWritable(t *testing.T) {
	for _, err := range []Error{ErrNotCoordinator, ErrCoordinatorNotAvailable} {
		t.Run(err.String(), func(t *testing.T) {
			c, host, _ := coordinatorAlone(t)
			host.writable = err
			c.handleInitProducerID(client, &InitProducerIDRequest{ID: 1, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: -1, ProducerEpoch: -1})
			assert.Empty(t, host.writes)
			assert.Equal(t, 0, host.held, "answered and released")
			resp := lastAnswer[*InitProducerIDResponse](t, host)
			assert.Equal(t, err, resp.Error)
			m := c.findTxn(txnID)
			assert.False(t, m.pending)
			assert.Equal(t, int16(-1), m.ProducerEpoch, "nothing applied")
		})
	}
}

// coordinatorTimer hands the coordinator's timer events to it, as its
// broker does.
type coordinatorTimer struct {
	fakeClient
	c *txnCoordinator
}

func (h *coordinatorTimer) HandleEvent(e sim.Event) { h.c.handleTimer(e) }

// TestCoordinatorAloneMarkerTimeoutClosesTheConnection: a WriteTxnMarkers
// that goes unanswered past its timeout closes the marker connection to
// that broker (NetworkClient.handleTimedOutRequests), so an answer still
// on its way is not taken for the retry's, and the markers are sent again.
func TestCoordinatorAloneMarkerTimeoutClosesTheConnection(t *testing.T) {
	c, host, orders := coordinatorAlone(t)
	c.w.SetHandler(c.id, &coordinatorTimer{c: c})
	c.handleInitProducerID(client, &InitProducerIDRequest{ID: 1, TransactionalID: txnID, TransactionTimeoutMs: txnTimeoutMs, ProducerID: -1, ProducerEpoch: -1})
	host.settle(t, c, ErrNone)
	c.handleAddPartitions(client, &AddPartitionsToTxnRequest{ID: 2, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Partitions: orders[:]})
	host.settle(t, c, ErrNone)
	c.handleEndTxn(client, &EndTxnRequest{ID: 3, TransactionalID: txnID, ProducerID: 7000, ProducerEpoch: 0, Commit: true})
	host.settle(t, c, ErrNone)
	require.Len(t, host.sent, 2)
	c.handleMarkersResponse(&WriteTxnMarkersResponse{ID: host.sent[0].ID, Errors: []Error{ErrNone}})

	c.w.RunUntil(c.cfg.ReplicaSocketTimeout - 1)
	assert.Empty(t, host.closed, "within the timeout")
	c.w.RunUntil(c.cfg.ReplicaSocketTimeout + sim.Second)
	assert.Equal(t, []sim.NodeID{3}, host.closed, "only the connection of the unanswered request")
	require.Len(t, host.sent, 3, "the marker is sent again")
	assert.Equal(t, sim.NodeID(3), host.sentTo[2])
	c.handleMarkersResponse(&WriteTxnMarkersResponse{ID: host.sent[1].ID, Errors: []Error{ErrNone}})
	assert.Empty(t, host.writes, "a late answer to the closed connection's request completes nothing")
}
