package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// TestInvariantsHoldThroughFailover checks Cluster.CheckInvariants after
// every event of a run with writes, a leader crash and a restart.
func TestInvariantsHoldThroughFailover(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(2, false))
	h.connect(1)
	for range 5 {
		h.produce(1, -1, requestTimeout, h.batch(2))
		h.produce(1, 1, requestTimeout, h.batch(1))
		h.runChecked(50 * sim.Millisecond)
	}
	h.runChecked(sim.Second)
	require.Len(t, h.client.responses, 10)
	h.c.Crash(1)
	h.runChecked(cfg.BrokerSessionTimeout + sim.Second)
	require.Equal(t, sim.NodeID(2), h.state().Leader)
	h.connect(2)
	h.produce(2, -1, requestTimeout, h.batch(3))
	h.runChecked(sim.Second)
	h.c.Restart(1)
	h.runChecked(5 * sim.Second)
	assert.True(t, h.c.Converged())
	assert.Equal(t, int64(18), h.leo(1))
}

// TestInvariantsCatchViolations corrupts a healthy cluster by hand and
// expects CheckInvariants to say so.
func TestInvariantsCatchViolations(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(h *harness)
		want    string
	}{
		{"follower record differs below the HW", func(h *harness) { h.rep(2).Log.setRecord(1, 9999) },
			"ISR member 2 holds record 9999 at offset 1"},
		{"follower log end below the leader's HW", func(h *harness) { h.rep(3).Log.Truncate(2) },
			"ISR member 3 has log end 0 below the leader's high watermark 3"},
		{"HW above the log end", func(h *harness) { h.rep(2).Log.hw = 7 },
			"high watermark 7 above log end offset 3"},
		{"controller leader outside its ISR", func(h *harness) { h.c.Controller.parts[p0].ISR = []sim.NodeID{2, 3} },
			"controller has leader 1 outside ISR [2 3]"},
		{"leader outside its own ISR", func(h *harness) { h.rep(1).isr = []sim.NodeID{2, 3} },
			"leader 1 is not in its own ISR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, DefaultConfig(), testTopic(1, false))
			h.connect(1)
			h.commit(1, 3)
			tc.corrupt(h)
			err := h.c.CheckInvariants()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("corruption of records checked before", func(t *testing.T) {
		// The record check is incremental, so a record a first check found
		// in agreement is not read again; new records are.
		h := newHarness(t, DefaultConfig(), testTopic(1, false))
		h.connect(1)
		h.commit(1, 3)
		require.NoError(t, h.c.CheckInvariants())
		h.commit(1, 2)
		h.rep(3).Log.setRecord(4, 4242)
		err := h.c.CheckInvariants()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ISR member 3 holds record 4242 at offset 4")
	})
}
