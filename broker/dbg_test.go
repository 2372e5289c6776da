package broker

import (
	"fmt"
	"testing"

	"github.com/kafkasim/kafkasim/sim"
)

type dbgClient struct{ h *harness }

func TestDbgTxn(t *testing.T) {
	w := sim.NewWorld(1)
	w.Net.Configure(sim.LinkConfig{Latency: sim.Millisecond})
	topo := NewTopology(3, []Topic{{Name: "t", Partitions: 1, ReplicationFactor: 3, MinInsyncReplicas: 1},
		{Name: TransactionStateTopic, Partitions: 50, ReplicationFactor: 3, MinInsyncReplicas: 2}})
	c := NewCluster(w, DefaultConfig(), topo)
	fc := &fakeClient{connected: map[sim.NodeID]bool{}, responses: map[int64]*ProduceResponse{}, pids: map[int64]*InitProducerIDResponse{}}
	cid := w.AddNode("client", fc)
	w.RunUntil(10 * sim.Millisecond)
	w.Net.Send(cid, 2, Connect{Conn: 1})
	w.RunUntil(12 * sim.Millisecond)
	w.Net.Send(cid, 2, &InitProducerIDRequest{Conn: 1, ID: 1, TransactionalID: "my-transactional-id", TransactionTimeoutMs: 60000})
	for i := 0; i < 60; i++ {
		w.RunUntil(w.Now() + 10*sim.Millisecond)
		if fc.pids[1] != nil {
			fmt.Println("answered at", w.Now(), fc.pids[1])
			break
		}
	}
	p := topo.Topics[1].First + 46
	for b := 1; b <= 3; b++ {
		fmt.Println(b, c.Brokers[b].replicas[p].Log.LEO(), c.Brokers[b].replicas[p].Log.HW(), c.Brokers[b].pending[1].active, c.Brokers[b].pending[3].active)
	}
}
