package broker

import (
	"math"
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The controller is a single reliable node standing in for the KRaft quorum:
// it holds the partition states, fences brokers whose heartbeats stop, elects
// leaders, applies ISR changes, and pushes each new metadata version to the
// brokers. (Kafka's quorum is itself replicated; the simulator does not model
// controller failover.)

const (
	kindSessionCheck sim.Kind = sim.FirstUserKind + iota
)

type registration struct {
	registered  bool
	fenced      bool
	incarnation uint32
	heartbeats  int64 // heartbeats received, to recognise stale session checks
	// metadata is the metadata version the broker last said it applied.
	metadata int64
	// shuttingDown: in controlled shutdown (BrokerControlState
	// CONTROLLED_SHUTDOWN), no longer a candidate for leadership or the
	// ISR; it may stop once every active broker has applied shutdownAt,
	// the metadata version that moved its leaderships away.
	shuttingDown bool
	shutdownAt   int64
}

// PartitionStats counts what happened to a partition's leadership.
type PartitionStats struct {
	Elections        int
	UncleanElections int
	OfflineTime      sim.Time // total time with no leader
	offlineSince     sim.Time // -1 while online
}

// Controller is the cluster's controller node.
type Controller struct {
	w     *sim.World
	id    sim.NodeID
	cfg   *Config
	topo  *Topology
	reg   []registration // by broker id
	parts []PartitionState
	stats []PartitionStats
	snap  *Snapshot
	// counts is each topic's current partition count.
	counts []int
}

func newController(w *sim.World, cfg *Config, topo *Topology) *Controller {
	c := &Controller{w: w, cfg: cfg, topo: topo}
	c.reg = make([]registration, topo.Brokers+1)
	c.parts = make([]PartitionState, len(topo.Partitions))
	c.stats = make([]PartitionStats, len(topo.Partitions))
	for i := range topo.Topics {
		c.counts = append(c.counts, topo.Topics[i].StartPartitions())
	}
	return c
}

// bootstrap makes every broker registered and every partition led by its
// first replica with the full ISR, as a cluster that was already running
// when the scenario starts.
func (c *Controller) bootstrap() {
	for b := 1; b <= c.topo.Brokers; b++ {
		c.reg[b] = registration{registered: true}
		c.w.After(c.cfg.BrokerSessionTimeout, c.id, kindSessionCheck, int64(b), 0)
	}
	for p := range c.parts {
		replicas := c.topo.Partitions[p].Replicas
		c.parts[p] = PartitionState{Leader: replicas[0], ISR: slices.Clone(replicas)}
		c.stats[p].offlineSince = -1
	}
	c.publish(false)
}

// State is the controller's current state of a partition.
func (c *Controller) State(p PartitionID) PartitionState { return c.parts[p] }

// Stats is a partition's leadership history so far.
func (c *Controller) Stats(p PartitionID) PartitionStats {
	s := c.stats[p]
	if s.offlineSince >= 0 {
		s.OfflineTime += c.w.Now() - s.offlineSince
	}
	return s
}

// Fenced reports whether the controller has fenced a broker.
func (c *Controller) Fenced(b sim.NodeID) bool { return c.reg[b].fenced }

// HandleEvent handles the controller's timers.
func (c *Controller) HandleEvent(e sim.Event) {
	switch e.Kind {
	case kindSessionCheck:
		b := sim.NodeID(e.A)
		r := &c.reg[b]
		if r.heartbeats == e.B && !r.fenced {
			// No heartbeat for broker.session.timeout.ms.
			c.fence(b)
			c.publish(true)
		}
	}
}

// HandleMessage handles heartbeats and AlterPartition requests.
func (c *Controller) HandleMessage(from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *Heartbeat:
		c.heartbeat(m)
	case *AlterPartition:
		c.alterPartition(m)
	}
}

func (c *Controller) heartbeat(h *Heartbeat) {
	r := &c.reg[h.Broker]
	if r.registered && r.incarnation != h.Incarnation && !r.fenced {
		// A restarted broker cannot register while its old session is
		// still valid (ClusterControlManager.registerBroker refuses with
		// DUPLICATE_BROKER_REGISTRATION); it keeps trying. Its partitions
		// stay with the dead process until the session expires.
		return
	}
	if r.incarnation != h.Incarnation {
		r.shuttingDown = false // a new process
	}
	r.registered = true
	r.incarnation = h.Incarnation
	r.heartbeats++
	r.metadata = h.MetadataVersion
	c.w.After(c.cfg.BrokerSessionTimeout, c.id, kindSessionCheck, int64(h.Broker), r.heartbeats)
	resp := &HeartbeatResponse{}
	switch {
	case h.WantShutDown:
		resp.ShouldShutDown = c.controlledShutdown(h.Broker)
	case r.fenced:
		r.fenced = false
		c.trace(event.Unfence, -1, h.Broker, -1, nil, 0)
		c.electOffline()
		c.publish(true)
	}
	if h.MetadataVersion < c.snap.Version {
		resp.Snapshot = c.snap
	}
	c.w.Net.Send(c.id, h.Broker, resp)
}

// controlledShutdown answers a heartbeat that asks to shut down
// (BrokerHeartbeatManager.calculateNextBrokerState, then
// ReplicationControlManager.processBrokerHeartbeat): a broker that leads
// partitions enters controlled shutdown, which moves its leaderships to
// other ISR members and takes it out of every ISR
// (handleBrokerInControlledShutdown). It may stop once it leads nothing and
// every active broker has applied that change, so clients and followers
// are told of the new leaders by brokers that know them; then it is
// fenced (SHUTDOWN_NOW, handleBrokerFenced). It reports whether the broker
// may stop now.
func (c *Controller) controlledShutdown(b sim.NodeID) bool {
	r := &c.reg[b]
	switch {
	case r.fenced:
		return true
	case !r.shuttingDown && c.hasLeaderships(b):
		r.shuttingDown = true
		c.trace(event.ControlledShutdown, -1, b, -1, nil, 0)
		c.removeBroker(b, event.InShutdown)
		c.publish(true)
		r.shutdownAt = c.snap.Version
		return false
	case r.shuttingDown && (c.hasLeaderships(b) || c.lowestActiveMetadata() < r.shutdownAt):
		return false
	}
	r.fenced = true
	c.trace(event.Fence, -1, b, -1, nil, event.InShutdown)
	c.removeBroker(b, event.InShutdown)
	c.publish(true)
	return true
}

// hasLeaderships reports whether broker b leads any partition.
func (c *Controller) hasLeaderships(b sim.NodeID) bool {
	return slices.ContainsFunc(c.parts, func(st PartitionState) bool { return st.Leader == b })
}

// lowestActiveMetadata is the oldest metadata version an unfenced broker
// reported (BrokerHeartbeatManager.lowestActiveOffset).
func (c *Controller) lowestActiveMetadata() int64 {
	lowest := int64(math.MaxInt64)
	for b := 1; b < len(c.reg); b++ {
		if r := &c.reg[b]; r.registered && !r.fenced {
			lowest = min(lowest, r.metadata)
		}
	}
	return lowest
}

// fence takes a broker out of service after its session expired
// (ReplicationControlManager.handleBrokerFenced).
func (c *Controller) fence(b sim.NodeID) {
	c.reg[b].fenced = true
	c.trace(event.Fence, -1, b, -1, nil, 0)
	c.removeBroker(b, 0)
}

// removeBroker takes broker b out of every ISR it can leave, and
// partitions it led get a new leader (generateLeaderAndIsrUpdates with b
// as brokerToRemove). why is 0 for a fenced broker, event.InShutdown for a
// controlled shutdown.
func (c *Controller) removeBroker(b sim.NodeID, why event.Flag) {
	for p := range c.parts {
		st := &c.parts[p]
		if st.Leader == b {
			c.elect(PartitionID(p), b)
			continue
		}
		if i := slices.Index(st.ISR, b); i >= 0 && len(st.ISR) > 1 {
			st.ISR = slices.Delete(slices.Clone(st.ISR), i, i+1)
			st.PartitionEpoch++
			c.trace(event.Isr, int32(p), b, st.LeaderEpoch, st.ISR, why)
		}
	}
}

// elect picks a new leader for a partition whose leader left
// (PartitionChangeBuilder.electLeader): the first replica in assignment
// order that is in the ISR and not fenced; failing that, with
// unclean.leader.election.enable, the first live replica of all, which then
// becomes the whole ISR; failing that, no leader. Without Eligible Leader
// Replicas (KIP-966, not modelled) an ISR never becomes empty: it keeps its
// last member while the partition is offline.
func (c *Controller) elect(p PartitionID, leaving sim.NodeID) {
	st := &c.parts[p]
	isr := st.ISR
	if leaving != NoLeader && len(isr) > 1 {
		isr = slices.DeleteFunc(slices.Clone(isr), func(b sim.NodeID) bool { return b == leaving })
	}
	replicas := c.topo.Partitions[p].Replicas
	leader, unclean := NoLeader, false
	for _, b := range replicas {
		if b != leaving && slices.Contains(isr, b) && c.live(b) {
			leader = b
			break
		}
	}
	if leader == NoLeader && c.topo.Topics[c.topo.Partitions[p].Topic].UncleanElection {
		for _, b := range replicas {
			if b != leaving && c.live(b) {
				leader, unclean = b, true
				isr = []sim.NodeID{b}
				break
			}
		}
	}
	wasOffline := st.Leader == NoLeader
	if leader == NoLeader && wasOffline && slices.Equal(isr, st.ISR) {
		return // still offline, nothing changed
	}
	st.ISR = isr
	st.PartitionEpoch++
	if leader == NoLeader {
		if !wasOffline {
			// Any leader change bumps the epoch, going offline included
			// (PartitionRegistration.merge).
			st.Leader = NoLeader
			st.LeaderEpoch++
			c.stats[p].offlineSince = c.w.Now()
			c.trace(event.Offline, int32(p), -1, st.LeaderEpoch, isr, 0)
		}
		return
	}
	st.Leader = leader
	st.LeaderEpoch++
	s := &c.stats[p]
	s.Elections++
	var flags event.Flag
	if unclean {
		s.UncleanElections++
		flags = event.Unclean
	}
	if s.offlineSince >= 0 {
		s.OfflineTime += c.w.Now() - s.offlineSince
		s.offlineSince = -1
	}
	c.trace(event.Elect, int32(p), leader, st.LeaderEpoch, st.ISR, flags)
}

// electOffline tries again for every partition without a leader.
func (c *Controller) electOffline() {
	for p := range c.parts {
		if c.parts[p].Leader == NoLeader {
			c.elect(PartitionID(p), NoLeader)
		}
	}
}

// live reports whether a broker may lead or join an ISR: registered,
// unfenced and not in controlled shutdown (KIP-841: brokers shutting down
// are ineligible).
func (c *Controller) live(b sim.NodeID) bool {
	r := &c.reg[b]
	return r.registered && !r.fenced && !r.shuttingDown
}

func (c *Controller) alterPartition(m *AlterPartition) {
	st := &c.parts[m.Partition]
	resp := &AlterPartitionResponse{Partition: m.Partition}
	switch {
	case st.Leader != m.Leader || st.LeaderEpoch != m.LeaderEpoch:
		resp.Error = ErrFencedLeaderEpoch
	case st.PartitionEpoch != m.PartitionEpoch:
		resp.Error = ErrInvalidUpdateVersion
	default:
		for _, b := range m.ISR {
			if !slices.Contains(st.ISR, b) && !c.live(b) {
				resp.Error = ErrIneligibleReplica
			}
		}
	}
	if resp.Error == ErrNone {
		st.ISR = slices.Clone(m.ISR)
		st.PartitionEpoch++
		c.trace(event.Isr, int32(m.Partition), m.Leader, st.LeaderEpoch, st.ISR, event.AlterPartition)
		c.publish(true)
	}
	resp.State = *st
	c.w.Net.Send(c.id, m.Leader, resp)
}

// PartitionCount is a topic's current number of partitions.
func (c *Controller) PartitionCount(topic int) int { return c.counts[topic] }

// addPartitions raises a topic's partition count, as CreatePartitions does
// (ReplicationControlManager.createPartitions). The new partitions were laid
// out in the topology from the start and already have leaders; the
// simplification is invisible to clients, which cannot use a partition
// before metadata lists it. Returns false if n is not above the current count.
func (c *Controller) addPartitions(topic, n int) bool {
	if n <= c.counts[topic] || n > c.topo.Topics[topic].Partitions {
		return false
	}
	c.counts[topic] = n
	c.publish(true)
	return true
}

// publish makes the current state a new metadata version and pushes it.
func (c *Controller) publish(push bool) {
	snap := &Snapshot{Partitions: slices.Clone(c.parts), Fenced: make([]bool, len(c.reg)), ShuttingDown: make([]bool, len(c.reg)),
		TopicPartitions: slices.Clone(c.counts)}
	if c.snap != nil {
		snap.Version = c.snap.Version + 1
	}
	for b := range c.reg {
		snap.Fenced[b] = c.reg[b].fenced
		snap.ShuttingDown[b] = c.reg[b].shuttingDown
	}
	c.snap = snap
	if !push {
		return
	}
	for b := 1; b <= c.topo.Brokers; b++ {
		c.w.Net.Send(c.id, sim.NodeID(b), &MetadataUpdate{Snapshot: snap})
	}
}

func (c *Controller) trace(k event.Kind, p int32, peer sim.NodeID, epoch int32, isr []sim.NodeID, flags event.Flag) {
	e := sim.E(c.w.Now(), c.id, k)
	e.Subject, e.Peer, e.Epoch, e.Flags = p, peer, epoch, flags
	if isr != nil {
		e.X().List = nodeList(isr)
	}
	c.w.Trace.Add(e)
}

// nodeList is broker ids as the trace keeps them (a copy).
func nodeList(ids []sim.NodeID) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
