package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kafkasim/kafkasim/sim"
)

// TestBlockers: what keeps a cluster from converging is named in words: a
// broker down, an ISR below min.insync.replicas, a partition without a
// leader; a converged cluster has no blocker.
func TestBlockers(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(2, false))
	h.run(100 * sim.Millisecond)
	assert.True(t, h.c.Converged())
	assert.Empty(t, h.c.Blockers())

	h.c.Crash(2)
	h.c.Crash(3)
	h.run(cfg.BrokerSessionTimeout + sim.Second)
	assert.Equal(t, []Blocker{
		{"broker-2", "is down"},
		{"broker-3", "is down"},
		{"t-0", "ISR [1] lacks replicas [2 3], below min.insync.replicas=2, so acks=all writes are refused"},
	}, h.c.Blockers())

	h.c.Crash(1)
	h.run(cfg.BrokerSessionTimeout + sim.Second)
	assert.Contains(t, h.c.Blockers(), Blocker{"t-0",
		"has no leader: no replica in its ISR [1] is alive and unfenced, and unclean.leader.election.enable=false keeps the other replicas from being elected"})

	h.c.Restart(2)
	h.c.Pause(2)
	h.run(cfg.BrokerSessionTimeout + sim.Second)
	assert.Contains(t, h.c.Blockers(), Blocker{"broker-2",
		"is still fenced by the controller: its heartbeats do not arrive within broker.session.timeout.ms, so it leads nothing and cannot rejoin an ISR"})
}

// TestBlockersWithELR: with Eligible Leader Replicas the ISR of an offline
// partition may be empty; the blocker names the ELR too. Broker 1, fenced
// first, left an ISR still at min.insync.replicas, so it is not eligible.
func TestBlockersWithELR(t *testing.T) {
	h := newHarness(t, elrConfig(true), testTopic(2, false))
	h.c.Crash(2)
	h.c.Crash(3)
	h.c.Crash(1)
	h.run(h.c.Cfg.BrokerSessionTimeout + sim.Second)
	assert.Contains(t, h.c.Blockers(), Blocker{"t-0",
		"has no leader: no replica in its ISR [] or ELR [2 3] is alive and unfenced, and unclean.leader.election.enable=false keeps the other replicas from being elected"})
}
