package broker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// p0 is the only partition of the test topic.
const p0 PartitionID = 0

// testConn is the connection number the fake client uses with every broker.
const testConn uint32 = 1

// fakeClient is a bare client node: it opens connections, sends broker
// protocol requests and records every answer.
type fakeClient struct {
	connected    map[sim.NodeID]bool
	responses    map[int64]*ProduceResponse
	pids         map[int64]*InitProducerIDResponse
	disconnected []sim.NodeID
}

func (c *fakeClient) HandleEvent(sim.Event) {}

func (c *fakeClient) HandleMessage(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case ConnectAck:
		c.connected[from] = true
	case *ProduceResponse:
		c.responses[m.ID] = m
	case *InitProducerIDResponse:
		c.pids[m.ID] = m
	case sim.Disconnected:
		c.disconnected = append(c.disconnected, m.Peer)
		delete(c.connected, m.Peer)
	}
}

// harness is a 3-broker cluster with one topic of one partition, RF 3, and a
// fake client.
type harness struct {
	t      *testing.T
	w      *sim.World
	c      *Cluster
	client *fakeClient
	cid    sim.NodeID
	nextID int64
	nextRe RecordID
}

func newHarness(t *testing.T, cfg Config, topic Topic) *harness {
	t.Helper()
	w := sim.NewWorld(1)
	w.Net.Configure(sim.LinkConfig{Latency: sim.Millisecond})
	topo := NewTopology(3, []Topic{topic})
	c := NewCluster(w, cfg, topo)
	fc := &fakeClient{connected: map[sim.NodeID]bool{}, responses: map[int64]*ProduceResponse{}, pids: map[int64]*InitProducerIDResponse{}}
	h := &harness{t: t, w: w, c: c, client: fc, nextRe: 1}
	h.cid = w.AddNode("client", fc)
	return h
}

func testTopic(minISR int, unclean bool) Topic {
	return Topic{Name: "t", Partitions: 1, ReplicationFactor: 3, MinInsyncReplicas: minISR, UncleanElection: unclean}
}

func (h *harness) now() sim.Time { return h.w.Now() }

// run advances virtual time by d.
func (h *harness) run(d sim.Time) { h.w.RunUntil(h.w.Now() + d) }

// runUntil handles events until cond holds, for at most d of virtual time.
func (h *harness) runUntil(d sim.Time, what string, cond func() bool) {
	h.t.Helper()
	require.True(h.t, h.w.RunWhile(h.w.Now()+d, func() bool { return !cond() }), "timed out after %v waiting for %s", d, what)
}

// runChecked is run with Cluster.CheckInvariants after every event.
func (h *harness) runChecked(d sim.Time) {
	h.t.Helper()
	limit := h.w.Now() + d
	for h.w.Step(limit) {
		require.NoError(h.t, h.c.CheckInvariants(), "at %v", h.w.Now())
	}
}

// connect opens connection 1 to a broker: Connect, then wait for ConnectAck.
func (h *harness) connect(b sim.NodeID) {
	h.t.Helper()
	h.w.Net.Send(h.cid, b, Connect{Conn: testConn})
	h.runUntil(sim.Second, "connect-ack", func() bool { return h.client.connected[b] })
}

// records returns n fresh record ids.
func (h *harness) records(n int) []RecordID {
	out := recs(h.nextRe, n)
	h.nextRe += RecordID(n)
	return out
}

// batch is a non-idempotent batch of n fresh records for p0.
func (h *harness) batch(n int) ProduceBatch {
	return ProduceBatch{BatchHeader: BatchHeader{Partition: p0, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Bytes: int32(100 * n)}, Records: h.records(n)}
}

// idemBatch is an idempotent batch of n fresh records for p0.
func (h *harness) idemBatch(pid int64, epoch int16, seq int32, n int) ProduceBatch {
	return ProduceBatch{BatchHeader: BatchHeader{Partition: p0, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Bytes: int32(100 * n)}, Records: h.records(n)}
}

// produce sends a produce request on connection 1 and returns its id.
func (h *harness) produce(b sim.NodeID, acks int8, timeout sim.Time, batches ...ProduceBatch) int64 {
	h.t.Helper()
	require.True(h.t, h.client.connected[b], "not connected to broker %d", b)
	h.nextID++
	h.w.Net.Send(h.cid, b, NewProduceRequest(testConn, h.nextID, acks, timeout, batches))
	return h.nextID
}

// answered is the response to request id, or nil.
func (h *harness) answered(id int64) *ProduceResponse { return h.client.responses[id] }

// await runs until request id is answered (within d) and returns the answer
// for its only partition.
func (h *harness) await(id int64, d sim.Time) PartitionResponse {
	h.t.Helper()
	h.runUntil(d, "produce response", func() bool { return h.answered(id) != nil })
	resp := h.answered(id)
	require.Len(h.t, resp.Partitions, 1)
	return resp.Partitions[0]
}

// initPID asks a broker for a producer id.
func (h *harness) initPID(b sim.NodeID) int64 {
	h.t.Helper()
	h.nextID++
	id := h.nextID
	h.w.Net.Send(h.cid, b, &InitProducerIDRequest{Conn: testConn, ID: id})
	h.runUntil(sim.Second, "init-producer-id", func() bool { return h.client.pids[id] != nil })
	require.Equal(h.t, int16(0), h.client.pids[id].Epoch)
	return h.client.pids[id].ProducerID
}

// rep is broker b's replica of p0.
func (h *harness) rep(b sim.NodeID) *Replica { return h.c.Brokers[b].Replica(p0) }

func (h *harness) leo(b sim.NodeID) int64 { return h.rep(b).Log.LEO() }
func (h *harness) hw(b sim.NodeID) int64  { return h.rep(b).Log.HW() }

func (h *harness) state() PartitionState { return h.c.Controller.State(p0) }

// all is every broker id.
var all = []sim.NodeID{1, 2, 3}

// isolate cuts every link between broker b and the other brokers, both
// ways; the controller still hears it.
func (h *harness) isolate(b sim.NodeID) {
	for _, o := range all {
		if o != b {
			h.w.Net.Cut(b, o, false)
			h.w.Net.Cut(o, b, false)
		}
	}
}

func (h *harness) heal(b sim.NodeID) {
	for _, o := range all {
		if o != b {
			h.w.Net.Uncut(b, o, false)
			h.w.Net.Uncut(o, b, false)
		}
	}
}

// contents is the record ids of broker b's log.
func (h *harness) contents(b sim.NodeID) []RecordID {
	l := &h.rep(b).Log
	return append([]RecordID{}, l.Records(0, l.LEO())...)
}

// traced counts trace entries of node of kind k that match (nil: any).
func (h *harness) traced(node sim.NodeID, k event.Kind, match func(*sim.Entry) bool) int {
	n := 0
	for _, e := range h.w.Trace.Entries() {
		if e.Node == node && e.Kind == k && (match == nil || match(&e)) {
			n++
		}
	}
	return n
}

// proposing matches an ISR change that proposes (or, from the controller,
// records) exactly isr.
func proposing(isr ...int32) func(*sim.Entry) bool {
	return func(e *sim.Entry) bool {
		list := e.X().List
		if e.Kind == event.IsrShrink {
			list = list[e.Count:]
		}
		return slices.Equal(list, isr)
	}
}

// epochs is broker b's leader-epoch cache.
func (h *harness) epochs(b sim.NodeID) []epochEntry {
	return append([]epochEntry{}, h.rep(b).Log.epochs...)
}
