package broker

import (
	"fmt"
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// ControllerID is the controller's node id; brokers are 1..N, so a broker's
// id is also its node id.
const ControllerID sim.NodeID = 0

// Cluster wires a controller and N brokers into a world and is the handle
// through which faults are applied and state is inspected.
type Cluster struct {
	W          *sim.World
	Topo       *Topology
	Cfg        *Config
	Controller *Controller
	Brokers    []*Broker // by broker id; Brokers[0] is nil

	agreed [][]agreement // by partition, by broker: see CheckInvariants
}

type agreement struct {
	epoch int32
	upTo  int64
}

// NewCluster adds the controller and brokers to w. They must be the first
// nodes of the world so that broker ids equal node ids. The cluster starts
// as if it had been running: every broker registered, every partition led by
// its first replica with all replicas in sync.
func NewCluster(w *sim.World, cfg Config, topo *Topology) *Cluster {
	if w.NumNodes() != 0 {
		panic("broker: the cluster must be created before any other node")
	}
	c := &Cluster{W: w, Topo: topo, Cfg: &cfg}
	c.Controller = newController(w, c.Cfg, topo)
	if id := w.AddNode("controller", c.Controller); id != ControllerID {
		panic("broker: the controller must be node 0")
	}
	c.Brokers = make([]*Broker, topo.Brokers+1)
	for id := 1; id <= topo.Brokers; id++ {
		b := newBroker(w, sim.NodeID(id), ControllerID, c.Cfg, topo)
		w.AddNode(fmt.Sprintf("broker-%d", id), b)
		c.Brokers[id] = b
	}
	// The replicas of a partition start with one record store between them
	// (Log.Share): replication copies the same ids to each.
	for p := range topo.Partitions {
		var first *Log
		for _, b := range c.Brokers[1:] {
			switch r := b.replicas[p]; {
			case r == nil:
			case first == nil:
				first = &r.Log
			default:
				r.Log.Share(first)
			}
		}
	}
	c.Controller.bootstrap()
	for _, b := range c.Brokers[1:] {
		b.registered = true
		b.applySnapshot(c.Controller.snap)
		b.start()
	}
	c.agreed = make([][]agreement, len(topo.Partitions))
	for p := range c.agreed {
		c.agreed[p] = make([]agreement, topo.Brokers+1)
	}
	return c
}

// NodeName and SubjectName name trace entries.
func (c *Cluster) NodeName(id sim.NodeID) string { return c.W.NodeName(id) }

// ErrorName is a Kafka error code's name.
func (c *Cluster) ErrorName(code int16) string { return Error(code).String() }

// SubjectName is a partition's "topic-partition" name.
func (c *Cluster) SubjectName(s int32) string {
	if s < 0 || int(s) >= len(c.Topo.Partitions) {
		return ""
	}
	return c.Topo.Name(PartitionID(s))
}

func (c *Cluster) traceFault(b sim.NodeID, k event.Kind) {
	c.W.Trace.Add(sim.E(c.W.Now(), b, k))
}

// Crash kills a broker process. Its log survives.
func (c *Cluster) Crash(b sim.NodeID) { c.crash(b, 0) }

// crash kills broker b's process; writeBack > 0 says its machine lost
// power too (PowerLoss), which the trace entry tells.
func (c *Cluster) crash(b sim.NodeID, writeBack sim.Time) {
	if !c.W.Up(b) {
		return
	}
	e := sim.E(c.W.Now(), b, event.Crash)
	if writeBack > 0 {
		e.X().Dur = writeBack.Duration()
	}
	c.W.Trace.Add(e)
	c.Brokers[b].cleanShutdown = false // a killed process writes no clean-shutdown file
	c.W.Crash(b)
}

// PowerLoss kills a broker with its machine (a power loss or a kernel
// crash): the page cache goes too, so each of its replica logs keeps only
// the batches the OS had written back, those written at least writeBack
// before now. Kafka does not fsync on append by default
// (log.flush.interval.messages and log.flush.interval.ms default to
// Long.MAX_VALUE: durability comes from replication), and Linux writes a
// dirty page back once it is dirty_expire_centisecs old (30 s). The cut is
// a follower truncation (UnifiedLog.truncateTo: epoch cache, producer
// state); the restart is an unclean shutdown as for Crash, so with
// KIP-966 the broker leaves the ELR when it registers again.
func (c *Cluster) PowerLoss(b sim.NodeID, writeBack sim.Time) {
	if !c.W.Up(b) {
		return
	}
	c.crash(b, writeBack)
	br := c.Brokers[b]
	for _, rep := range br.replicas {
		if rep == nil {
			continue
		}
		leo := rep.Log.LEO()
		to := rep.Log.Unflushed(c.W.Now() - writeBack)
		if rep.Log.Truncate(to) >= leo {
			continue
		}
		rep.producers.rebuild(&rep.Log, c.W.Now(), br.cfg.ProducerIDExpiration)
		e := br.entry(event.PowerLoss, rep.ID, 0, to, leo-1, rep.Log.LatestEpoch(), -1)
		e.X().Dur = writeBack.Duration()
		c.W.Trace.Add(e)
	}
}

// Shutdown begins a controlled shutdown of a broker: it stops once the
// controller has moved its leaderships away (Broker.beginControlledShutdown).
func (c *Cluster) Shutdown(b sim.NodeID) {
	if !c.W.Up(b) || c.W.Paused(b) {
		return
	}
	c.traceFault(b, event.Shutdown)
	c.Brokers[b].beginControlledShutdown()
}

// ShuttingDown reports whether broker b is in a controlled shutdown that
// has not finished.
func (c *Cluster) ShuttingDown(b sim.NodeID) bool { return c.Brokers[b].shuttingDown && c.W.Up(b) }

// FinishShutdown stops, cleanly, a broker whose controlled shutdown is
// still waiting for the controller's word (its leaderships have already
// moved away), as the shutdown's own timeout would: the run's final heal
// uses it so that such a broker is restarted rather than stopping after
// the heal and staying down.
func (c *Cluster) FinishShutdown(b sim.NodeID) {
	if c.ShuttingDown(b) {
		c.Brokers[b].stop("controlled shutdown cut short by the final heal")
	}
}

// Restart starts a crashed broker again on its old log.
func (c *Cluster) Restart(b sim.NodeID) {
	if c.W.Up(b) {
		return
	}
	c.W.Restart(b)
	c.traceFault(b, event.Restart)
	c.Brokers[b].restart()
}

// Pause stops a broker like SIGSTOP: no timers, no requests handled.
func (c *Cluster) Pause(b sim.NodeID) {
	if !c.W.Up(b) || c.W.Paused(b) {
		return
	}
	c.traceFault(b, event.Pause)
	c.W.Pause(b)
}

// Resume continues a paused broker.
func (c *Cluster) Resume(b sim.NodeID) {
	if !c.W.Paused(b) {
		return
	}
	c.traceFault(b, event.Resume)
	c.W.Resume(b)
}

// Heal clears every request rule.
func (c *Cluster) Heal() {
	for _, b := range c.Brokers[1:] {
		b.rules = nil
	}
}

// AddPartitions raises a topic's partition count to n (kafka-topics.sh
// --alter --partitions n). Clients see the new partitions when their next
// metadata refresh reaches a broker that has the new version.
func (c *Cluster) AddPartitions(topic, n int) {
	old := c.Controller.PartitionCount(topic)
	if !c.Controller.addPartitions(topic, n) {
		return
	}
	e := sim.E(c.W.Now(), ControllerID, event.AddPartitions)
	e.Count = int32(n)
	e.Ext = &event.Ext{Note: c.Topo.Topics[topic].Name, Prev: int32(old)}
	c.W.Trace.Add(e)
}

// Leader is the controller's leader for a partition (NoLeader if offline).
func (c *Cluster) Leader(p PartitionID) sim.NodeID { return c.Controller.State(p).Leader }

// Followers are a partition's replicas other than its current leader, in
// assignment order.
func (c *Cluster) Followers(p PartitionID) []sim.NodeID {
	leader := c.Leader(p)
	var out []sim.NodeID
	for _, b := range c.Topo.Partitions[p].Replicas {
		if b != leader {
			out = append(out, b)
		}
	}
	return out
}

// ReserveLog makes room in partition p's replicas for n records, the
// partition's share of what the workload will write (once, while they
// share their record store).
func (c *Cluster) ReserveLog(p PartitionID, n int) {
	for _, b := range c.Brokers[1:] {
		if r := b.replicas[p]; r != nil {
			r.Log.Reserve(n)
		}
	}
}

// Converged reports whether every partition has a leader, every replica is
// in its ISR, and every replica's log and high watermark equal the leader's.
func (c *Cluster) Converged() bool {
	for p := range c.Topo.Partitions {
		st := c.Controller.State(PartitionID(p))
		if st.Leader == NoLeader || len(st.ISR) != len(c.Topo.Partitions[p].Replicas) {
			return false
		}
		lead := c.Brokers[st.Leader].replicas[p]
		if !lead.IsLeader() || lead.Log.HW() != lead.Log.LEO() {
			return false
		}
		for _, b := range c.Topo.Partitions[p].Replicas {
			r := c.Brokers[b].replicas[p]
			if r.Log.LEO() != lead.Log.LEO() || r.Log.HW() != lead.Log.HW() {
				return false
			}
		}
	}
	return true
}

// LogSize is how many records and batches every replica's log holds, for
// a run's memory budget.
func (c *Cluster) LogSize() (records, batches int64) {
	for _, b := range c.Brokers[1:] {
		for _, r := range b.replicas {
			if r != nil {
				records += r.Log.LEO()
				batches += int64(len(r.Log.Batches()))
			}
		}
	}
	return records, batches
}

// TransactionsSettled reports whether every decided transaction is
// complete: no coordinator is still writing markers or a state change. A
// crashed broker's coordinator counts as settled; its successor has the
// log.
func (c *Cluster) TransactionsSettled() bool {
	for _, b := range c.Brokers[1:] {
		if c.W.Up(b.id) && !b.TransactionsSettled() {
			return false
		}
	}
	return true
}

// CheckInvariants checks the replication invariants the simulator must never
// break, whatever the faults:
//   - every replica's high watermark is at or below its log end;
//   - a partition's leader is in its ISR, in the controller's state and in
//     the leader's own view; its ELR never overlaps its ISR (KIP-966);
//   - every member of a leader's ISR holds exactly the leader's records
//     below the leader's high watermark.
//
// The last check is incremental: it remembers how far each replica was
// found to agree with the leader of the current epoch.
func (c *Cluster) CheckInvariants() error {
	for _, b := range c.Brokers[1:] {
		for _, r := range b.replicas {
			if r != nil && r.Log.HW() > r.Log.LEO() {
				return fmt.Errorf("broker %d %s: high watermark %d above log end offset %d", b.id, c.Topo.Name(r.ID), r.Log.HW(), r.Log.LEO())
			}
		}
	}
	for p := range c.Topo.Partitions {
		pid := PartitionID(p)
		st := c.Controller.State(pid)
		for _, b := range st.ELR {
			if slices.Contains(st.ISR, b) || !c.Cfg.EligibleLeaderReplicas {
				return fmt.Errorf("%s: ELR %v overlaps ISR %v or ELR is off", c.Topo.Name(pid), st.ELR, st.ISR)
			}
		}
		if st.Leader == NoLeader {
			continue
		}
		if !slices.Contains(st.ISR, st.Leader) {
			return fmt.Errorf("%s: controller has leader %d outside ISR %v", c.Topo.Name(pid), st.Leader, st.ISR)
		}
		lead := c.Brokers[st.Leader].replicas[p]
		if !lead.IsLeader() || lead.leaderEpoch != st.LeaderEpoch {
			continue // the new leader has not heard yet
		}
		if !slices.Contains(lead.isr, st.Leader) {
			return fmt.Errorf("%s: leader %d is not in its own ISR %v", c.Topo.Name(pid), st.Leader, lead.isr)
		}
		hw := lead.Log.HW()
		for _, m := range lead.isr {
			if m == st.Leader {
				continue
			}
			r := c.Brokers[m].replicas[p]
			a := &c.agreed[p][m]
			if a.epoch != st.LeaderEpoch || a.upTo > r.Log.LEO() {
				*a = agreement{epoch: st.LeaderEpoch}
			}
			if r.Log.LEO() < hw {
				return fmt.Errorf("%s: ISR member %d has log end %d below the leader's high watermark %d", c.Topo.Name(pid), m, r.Log.LEO(), hw)
			}
			for o := a.upTo; o < hw; o++ {
				if r.Log.Record(o) != lead.Log.Record(o) {
					return fmt.Errorf("%s: ISR member %d holds record %d at offset %d, leader %d holds %d (below high watermark %d)",
						c.Topo.Name(pid), m, r.Log.Record(o), o, st.Leader, lead.Log.Record(o), hw)
				}
			}
			a.upTo = max(a.upTo, hw)
		}
	}
	return nil
}
