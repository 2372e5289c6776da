package broker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// cutOff cuts every link of broker b, the controller's included, so that
// the controller fences it; reconnect undoes it.
func (h *harness) cutOff(b sim.NodeID) {
	h.isolate(b)
	h.w.Net.Cut(b, ControllerID, false)
	h.w.Net.Cut(ControllerID, b, false)
}

func (h *harness) reconnect(b sim.NodeID) {
	h.heal(b)
	h.w.Net.Uncut(b, ControllerID, false)
	h.w.Net.Uncut(ControllerID, b, false)
}

func (h *harness) awaitFenced(b sim.NodeID) {
	h.t.Helper()
	h.runUntil(h.c.Cfg.BrokerSessionTimeout+2*sim.Second, "fenced", func() bool { return h.c.Controller.Fenced(b) })
}

func (h *harness) awaitUnfenced(b sim.NodeID) {
	h.t.Helper()
	h.runUntil(h.c.Cfg.BrokerHeartbeatInterval+2*sim.Second, "unfenced", func() bool { return !h.c.Controller.Fenced(b) })
}

func elrConfig(on bool) Config {
	cfg := DefaultConfig()
	cfg.EligibleLeaderReplicas = on
	return cfg
}

func ids(b ...sim.NodeID) []sim.NodeID { return b }

// TestStoryLastReplicaStanding is KIP-966's "last replica standing": RF 3,
// min.insync.replicas=2. Broker 3 drops out, so records committed next
// are on brokers 1 and 2 only; broker 2 drops out, leaving the leader
// alone in the ISR (acks=all now refused, the high watermark frozen); the
// leader dies. Broker 3 comes back first, then broker 2. Without ELR (Kafka
// 4.0's default) the ISR keeps the dead leader and the partition stays
// offline until it returns. With ELR the controller knows broker 2 left
// the ISR while it was below min.insync.replicas, so it holds every
// committed record: broker 2 leads as soon as it is back, and nothing is
// lost. Broker 3, out of date, is never elected.
func TestStoryLastReplicaStanding(t *testing.T) {
	for _, elr := range []bool{false, true} {
		t.Run(map[bool]string{false: "ELR off", true: "ELR on"}[elr], func(t *testing.T) {
			h := newHarness(t, elrConfig(elr), testTopic(2, false))
			h.connect(1)
			early, _ := h.commit(1, 2)

			h.cutOff(3)
			h.awaitFenced(3)
			assert.Equal(t, ids(1, 2), h.state().ISR)
			assert.Empty(t, h.state().ELR, "the ISR still holds min.insync.replicas")
			late, _ := h.commit(1, 3)
			committed := append(slices.Clone(early), late...)

			h.cutOff(2)
			h.awaitFenced(2)
			st := h.state()
			assert.Equal(t, ids(1), st.ISR)
			if elr {
				assert.Equal(t, ids(2), st.ELR)
				assert.Equal(t, 1, h.traced(ControllerID, event.Elr, func(e *sim.Entry) bool { return slices.Equal(e.X().List, []int32{2}) }))
			} else {
				assert.Empty(t, st.ELR)
			}
			r := h.await(h.produce(1, -1, requestTimeout, h.batch(1)), sim.Second)
			assert.Equal(t, ErrNotEnoughReplicas, r.Error)
			// acks=1 still appends, but the high watermark stays put.
			r = h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
			require.Equal(t, ErrNone, r.Error)
			assert.Equal(t, int64(len(committed)), h.hw(1))

			h.c.Crash(1)
			h.awaitFenced(1)
			st = h.state()
			assert.Equal(t, NoLeader, st.Leader)
			if elr {
				assert.Empty(t, st.ISR, "with ELR the ISR may be empty")
				assert.Equal(t, ids(1, 2), st.ELR)
				assert.Equal(t, ids(1), st.LastKnownElr)
				assert.Equal(t, 1, h.traced(ControllerID, event.Offline, func(e *sim.Entry) bool { return e.Has(event.FromElr) }))
			} else {
				assert.Equal(t, ids(1), st.ISR, "without ELR the ISR keeps its last member")
			}

			// Broker 3 is back first: it is in neither list and must not lead.
			h.reconnect(3)
			h.awaitUnfenced(3)
			h.run(sim.Second)
			assert.Equal(t, NoLeader, h.state().Leader)

			h.reconnect(2)
			h.awaitUnfenced(2) // the election comes with the unfencing
			st = h.state()
			stats := h.c.Controller.Stats(p0)
			if !elr {
				assert.Equal(t, NoLeader, st.Leader, "offline until broker 1 returns")
				assert.Equal(t, 0, stats.Elections)
				return
			}
			assert.Equal(t, sim.NodeID(2), st.Leader)
			assert.Equal(t, ids(2), st.ISR)
			assert.Equal(t, ids(1), st.ELR)
			assert.Empty(t, st.LastKnownElr)
			assert.Equal(t, 1, stats.Elections)
			assert.Equal(t, 0, stats.UncleanElections, "an election from the ELR is clean")
			assert.Equal(t, 1, h.traced(ControllerID, event.Elect, func(e *sim.Entry) bool { return e.Has(event.FromElr) && e.Peer == 2 }))

			// Broker 3 catches up from broker 2; with the ISR back at
			// min.insync.replicas the ELR empties and writes commit again.
			h.runUntil(10*sim.Second, "ISR [2 3]", func() bool { return len(h.state().ISR) == 2 })
			assert.Equal(t, ids(2, 3), h.state().ISR)
			assert.Empty(t, h.state().ELR)
			h.connect(2)
			fresh, _ := h.commit(2, 1)
			want := append(slices.Clone(committed), fresh...)
			assert.Equal(t, want, h.contents(2))
			assert.Equal(t, want, h.contents(3))

			// The old leader returns after its unclean shutdown and
			// truncates what only it had.
			h.c.Restart(1)
			h.heal(1)
			h.runUntil(2*h.c.Cfg.ReplicaSocketTimeout+5*sim.Second, "convergence", h.c.Converged)
			assert.Equal(t, want, h.contents(1))
		})
	}
}

// TestStoryUncleanShutdownLeavesELR: a replica that registers after an
// unclean shutdown (a crash: no clean-shutdown file, so no previous broker
// epoch) is no longer trusted to lead: the controller takes it out of the
// ELR (ReplicationControlManager.handleBrokerShutdown). Without ELR there is
// no list to leave.
func TestStoryUncleanShutdownLeavesELR(t *testing.T) {
	h := newHarness(t, elrConfig(true), testTopic(2, false))
	h.connect(1)
	h.commit(1, 2)
	h.c.Crash(2)
	h.awaitFenced(2)
	assert.Equal(t, ids(1, 3), h.state().ISR, "ISR still at min.insync.replicas")
	h.c.Crash(3)
	h.awaitFenced(3)
	assert.Equal(t, ids(1), h.state().ISR)
	assert.Equal(t, ids(3), h.state().ELR, "only the replica leaving a below-minimum ISR")

	h.c.Restart(3)
	h.awaitUnfenced(3)
	assert.Empty(t, h.state().ELR)
	assert.Equal(t, 1, h.traced(ControllerID, event.Elr, func(e *sim.Entry) bool {
		return e.Has(event.UncleanShutdown) && e.Peer == 3 && len(e.X().List) == 0
	}))
	// It rejoins the ISR the ordinary way, by catching up.
	h.runUntil(10*sim.Second, "ISR [1 3]", func() bool { return len(h.state().ISR) == 2 })
	assert.Equal(t, ids(1, 3), h.state().ISR)
}

// TestStoryLastKnownLeader: with min.insync.replicas=1 the ISR may shrink
// to the leader without anyone entering the ELR; when the leader dies it is
// the ELR, and its unclean shutdown takes it out again. With ISR and ELR
// empty, the controller falls back to the last known leader, as Kafka did
// before ELR, but Kafka counts that election unclean
// (PartitionChangeBuilder.canElectLastKnownLeader).
func TestStoryLastKnownLeader(t *testing.T) {
	for _, elr := range []bool{false, true} {
		t.Run(map[bool]string{false: "ELR off", true: "ELR on"}[elr], func(t *testing.T) {
			h := newHarness(t, elrConfig(elr), testTopic(1, false))
			h.connect(1)
			h.commit(1, 2)
			h.cutOff(2)
			h.cutOff(3)
			h.awaitFenced(2)
			h.awaitFenced(3)
			assert.Equal(t, ids(1), h.state().ISR)
			assert.Empty(t, h.state().ELR)

			h.c.Crash(1)
			h.awaitFenced(1)
			if elr {
				assert.Empty(t, h.state().ISR)
				assert.Equal(t, ids(1), h.state().ELR)
				assert.Equal(t, ids(1), h.state().LastKnownElr)
			}
			h.c.Restart(1)
			h.awaitUnfenced(1)
			st := h.state()
			assert.Equal(t, sim.NodeID(1), st.Leader)
			assert.Equal(t, ids(1), st.ISR)
			assert.Empty(t, st.ELR)
			assert.Empty(t, st.LastKnownElr)
			if elr {
				assert.Equal(t, 1, h.c.Controller.Stats(p0).UncleanElections)
				assert.Equal(t, 1, h.traced(ControllerID, event.Elect, func(e *sim.Entry) bool { return e.Has(event.LastKnownLeader) }))
			} else {
				assert.Equal(t, 0, h.c.Controller.Stats(p0).UncleanElections)
			}
		})
	}
}

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		version Version
		given   map[string]string
		want    bool
		err     string
	}{
		{version: Version{4, 0}, want: false},
		{version: Version{4, 1}, want: true},
		{version: Version{4, 4}, want: true},
		{version: Version{3, 9}, want: false},
		{version: Version{4, 0}, given: map[string]string{"eligible.leader.replicas.version": "1"}, want: true},
		{version: Version{4, 1}, given: map[string]string{"eligible.leader.replicas.version": " 0 "}, want: false},
		{version: Version{3, 9}, given: map[string]string{"eligible.leader.replicas.version": "0"}, want: false},
		{version: Version{3, 9}, given: map[string]string{"eligible.leader.replicas.version": "1"},
			err: "eligible.leader.replicas.version=1 needs cluster.version 4.0 or later (Eligible Leader Replicas (KIP-966) need metadata.version 4.0-IV1); this cluster is 3.9"},
		{version: Version{4, 1}, given: map[string]string{"eligible.leader.replicas.version": "2"},
			err: `"2" is not a level of eligible.leader.replicas.version; use 0 to 1`},
		{version: Version{4, 1}, given: map[string]string{"eligible.leader.replicas.version": "yes"},
			err: `"yes" is not a level of eligible.leader.replicas.version; use 0 to 1`},
		{version: Version{4, 1}, given: map[string]string{"transaction.versions": "2"},
			err: "unknown feature; the simulator models: eligible.leader.replicas.version, transaction.version"},
	} {
		c := DefaultConfig()
		c.Version = tc.version
		err := c.SetFeatures(tc.given)
		if tc.err != "" {
			require.Error(t, err, "%v %v", tc.version, tc.given)
			assert.Equal(t, tc.err, err.Error())
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.EligibleLeaderReplicas, "%v %v", tc.version, tc.given)
	}
	assert.Equal(t, map[string]string{"eligible.leader.replicas.version": "1", "transaction.version": "2"}, FeatureDefaults(Version{4, 1}))
	assert.Equal(t, map[string]string{"eligible.leader.replicas.version": "0", "transaction.version": "2"}, FeatureDefaults(Version{4, 0}))
	assert.Equal(t, map[string]string{"eligible.leader.replicas.version": "0", "transaction.version": "0"}, FeatureDefaults(Version{3, 9}))
}
