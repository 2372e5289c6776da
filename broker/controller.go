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
	newIncarnation := r.registered && r.incarnation != h.Incarnation
	if r.incarnation != h.Incarnation {
		r.shuttingDown = false // a new process
	}
	r.registered = true
	r.incarnation = h.Incarnation
	r.heartbeats++
	r.metadata = h.MetadataVersion
	c.w.After(c.cfg.BrokerSessionTimeout, c.id, kindSessionCheck, int64(h.Broker), r.heartbeats)
	if newIncarnation && h.UncleanShutdown && c.cfg.EligibleLeaderReplicas {
		c.uncleanShutdown(h.Broker)
	}
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
		c.removeBroker(b)
		c.publish(true)
		r.shutdownAt = c.snap.Version
		return false
	case r.shuttingDown && (c.hasLeaderships(b) || c.lowestActiveMetadata() < r.shutdownAt):
		return false
	}
	r.fenced = true
	c.trace(event.Fence, -1, b, -1, nil, event.InShutdown)
	c.removeBroker(b)
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
	c.removeBroker(b)
}

// removeBroker takes broker b out of every ISR it can leave, and
// partitions it led get a new leader (generateLeaderAndIsrUpdates with b
// as brokerToRemove), for a fenced broker or one in controlled shutdown.
func (c *Controller) removeBroker(b sim.NodeID) {
	for p := range c.parts {
		if slices.Contains(c.parts[p].ISR, b) {
			c.change(PartitionID(p), b, false)
		}
	}
}

// uncleanShutdown is a broker registering again after a process that did
// not stop cleanly (ReplicationControlManager.handleBrokerShutdown with
// isCleanShutdown false, ELR on): its log may have lost a tail it never
// flushed, so it leaves every ISR and ELR and leads nothing until it
// rejoins an ISR. (The simulator's crash keeps the whole log; Kafka's
// rule applies all the same.)
func (c *Controller) uncleanShutdown(b sim.NodeID) {
	for p := range c.parts {
		if st := &c.parts[p]; slices.Contains(st.ISR, b) || slices.Contains(st.ELR, b) {
			c.change(PartitionID(p), b, true)
		}
	}
	c.publish(true)
}

// elect picks a new leader for a partition whose leader left, or that has
// none (leaving is NoLeader then).
func (c *Controller) elect(p PartitionID, leaving sim.NodeID) { c.change(p, leaving, false) }

// change applies one partition change as PartitionChangeBuilder.build does:
// out leaves the ISR (without ELR, never its last member: "If ELR is
// enabled, the ISR is allowed to be empty"), and, after an unclean
// shutdown, the ELR too; the ELR and the last known leader follow; then, if
// the leader is gone, electAnyLeader picks the first replica in assignment
// order that is live and in the ISR, or, once the ISR is empty, in the ELR
// (that replica becomes the ISR); failing that, the last known leader; failing
// that, with unclean.leader.election.enable, any live replica, which then
// becomes the whole ISR; failing that, no leader.
func (c *Controller) change(p PartitionID, out sim.NodeID, unclean bool) {
	st := &c.parts[p]
	elrOn := c.cfg.EligibleLeaderReplicas
	acceptable := func(b sim.NodeID) bool { return b != out && c.live(b) }
	isr := st.ISR
	if out != NoLeader && slices.Contains(isr, out) && (len(isr) > 1 || elrOn) {
		isr = slices.DeleteFunc(slices.Clone(isr), func(b sim.NodeID) bool { return b == out })
	}
	excluded := NoLeader
	if unclean {
		excluded = out
	}
	elr := c.nextELR(p, isr, excluded)

	replicas := c.topo.Partitions[p].Replicas
	leader, how := st.Leader, event.Flag(0)
	if leader == NoLeader || !slices.Contains(isr, leader) || !acceptable(leader) {
		leader = NoLeader
		for _, b := range replicas {
			if acceptable(b) && (slices.Contains(isr, b) || (len(isr) == 0 && slices.Contains(elr, b))) {
				leader = b
				break
			}
		}
		switch lastKnown := st.LastKnownElr; {
		case leader != NoLeader && !slices.Contains(isr, leader):
			// From the ELR: a clean election (tryElection).
			how = event.FromElr
			isr = []sim.NodeID{leader}
			elr = slices.DeleteFunc(slices.Clone(elr), func(b sim.NodeID) bool { return b == leader })
		case leader != NoLeader:
		case elrOn && len(isr) == 0 && len(elr) == 0 && len(lastKnown) == 1 && acceptable(lastKnown[0]):
			// canElectLastKnownLeader: Kafka counts it as unclean.
			leader, how = lastKnown[0], event.Unclean|event.LastKnownLeader
		case c.topo.Topics[c.topo.Partitions[p].Topic].UncleanElection:
			for _, b := range replicas {
				if acceptable(b) {
					leader, how = b, event.Unclean
					break
				}
			}
		}
		if how&event.Unclean != 0 {
			// "we have to forcibly set the ISR to just the new leader";
			// an unclean election clears the ELR (maybeUpdateRecordElr).
			isr, elr = []sim.NodeID{leader}, nil
		}
	}
	// maybeUpdateLastKnownLeader: remember the leader when the ISR first
	// becomes empty; forget it once the partition has a leader.
	lastKnown := st.LastKnownElr
	switch {
	case !elrOn:
		lastKnown = nil
	case len(isr) == 0 && len(st.ISR) > 0:
		lastKnown = nil
		if st.Leader != NoLeader {
			lastKnown = []sim.NodeID{st.Leader}
		}
	case leader != NoLeader:
		lastKnown = nil
	}

	isrChanged, elrChanged := !slices.Equal(isr, st.ISR), !slices.Equal(elr, st.ELR)
	if leader == st.Leader && !isrChanged && !elrChanged && slices.Equal(lastKnown, st.LastKnownElr) {
		return // nothing changed
	}
	st.ISR, st.ELR, st.LastKnownElr = isr, elr, lastKnown
	st.PartitionEpoch++
	defer func() {
		if elrChanged {
			c.traceELR(p, out, unclean)
		}
	}()
	switch {
	case leader == st.Leader:
		if isrChanged {
			var why event.Flag
			if out != NoLeader && c.reg[out].shuttingDown {
				why = event.InShutdown // not fenced: leaving in a controlled shutdown
			}
			c.trace(event.Isr, int32(p), out, st.LeaderEpoch, st.ISR, why)
		}
		return
	case leader == NoLeader:
		// Any leader change bumps the epoch, going offline included
		// (PartitionRegistration.merge).
		st.Leader = NoLeader
		st.LeaderEpoch++
		c.stats[p].offlineSince = c.w.Now()
		c.traceOffline(p)
		return
	}
	st.Leader = leader
	st.LeaderEpoch++
	s := &c.stats[p]
	s.Elections++
	if how&event.Unclean != 0 {
		s.UncleanElections++
	}
	if s.offlineSince >= 0 {
		s.OfflineTime += c.w.Now() - s.offlineSince
		s.offlineSince = -1
	}
	c.trace(event.Elect, int32(p), leader, st.LeaderEpoch, st.ISR, how)
}

// nextELR is the ELR once a partition's ISR becomes isr
// (PartitionChangeBuilder.maybePopulateTargetElr): empty while the ISR
// holds min.insync.replicas (capped at the replication factor,
// getTopicEffectiveMinIsr); below it, the ELR gains every replica leaving
// the ISR, less one whose shutdown was unclean.
func (c *Controller) nextELR(p PartitionID, isr []sim.NodeID, unclean sim.NodeID) []sim.NodeID {
	st := &c.parts[p]
	topic := &c.topo.Topics[c.topo.Partitions[p].Topic]
	if !c.cfg.EligibleLeaderReplicas || len(isr) >= min(topic.MinInsyncReplicas, topic.ReplicationFactor) {
		return nil
	}
	var elr []sim.NodeID
	for _, b := range c.topo.Partitions[p].Replicas {
		was := slices.Contains(st.ELR, b) || slices.Contains(st.ISR, b)
		if was && !slices.Contains(isr, b) && b != unclean {
			elr = append(elr, b)
		}
	}
	return elr
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
	resp := &AlterPartitionResponse{ID: m.ID, Partition: m.Partition}
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
		elr := c.nextELR(m.Partition, m.ISR, NoLeader)
		elrChanged := !slices.Equal(elr, st.ELR)
		st.ISR, st.ELR = slices.Clone(m.ISR), elr
		st.PartitionEpoch++
		c.trace(event.Isr, int32(m.Partition), m.Leader, st.LeaderEpoch, st.ISR, event.AlterPartition)
		if elrChanged {
			c.traceELR(m.Partition, NoLeader, false)
		}
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

// traceOffline records a partition left without a leader, with its ISR and
// ELR (Count: how many of List are the ISR).
func (c *Controller) traceOffline(p PartitionID) {
	st := &c.parts[p]
	e := sim.E(c.w.Now(), c.id, event.Offline)
	e.Subject, e.Epoch, e.Count = int32(p), st.LeaderEpoch, int32(len(st.ISR))
	e.X().List = append(nodeList(st.ISR), nodeList(st.ELR)...)
	if c.cfg.EligibleLeaderReplicas {
		e.Flags = event.FromElr
	}
	c.w.Trace.Add(e)
}

// traceELR records a partition's new ELR; peer is the broker whose
// unclean shutdown removed it, if that was the cause.
func (c *Controller) traceELR(p PartitionID, peer sim.NodeID, unclean bool) {
	st := &c.parts[p]
	topic := &c.topo.Topics[c.topo.Partitions[p].Topic]
	e := sim.E(c.w.Now(), c.id, event.Elr)
	e.Subject, e.Epoch = int32(p), st.LeaderEpoch
	e.X().List = nodeList(st.ELR)
	e.Ext.Limit = int64(min(topic.MinInsyncReplicas, topic.ReplicationFactor))
	if unclean {
		e.Peer, e.Flags, e.Ext.Broker = peer, event.UncleanShutdown, int32(peer)
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
