package broker

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

const requestTimeout = 30 * sim.Second

var isr123 = []sim.NodeID{1, 2, 3}

// commit produces n records with acks=all through broker b and waits until
// every replica has them below its high watermark.
func (h *harness) commit(b sim.NodeID, n int) ([]RecordID, PartitionResponse) {
	h.t.Helper()
	batch := h.batch(n)
	r := h.await(h.produce(b, -1, requestTimeout, batch), 5*sim.Second)
	require.Equal(h.t, ErrNone, r.Error)
	h.runUntil(5*sim.Second, "high watermark everywhere", func() bool {
		for _, id := range h.state().ISR {
			if h.hw(id) != h.leo(b) {
				return false
			}
		}
		return true
	})
	return batch.Records, r
}

func TestStoryBootstrap(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))

	st := h.state()
	assert.Equal(t, sim.NodeID(1), st.Leader)
	assert.Equal(t, int32(0), st.LeaderEpoch)
	assert.Equal(t, isr123, st.ISR)
	assert.Equal(t, isr123, h.c.Topo.Partitions[p0].Replicas)
	for _, b := range all {
		assert.Equal(t, b == 1, h.rep(b).IsLeader(), "broker %d", b)
		assert.Equal(t, int32(0), h.rep(b).LeaderEpoch(), "broker %d", b)
		assert.Equal(t, int64(0), h.leo(b))
	}
	assert.Equal(t, []epochEntry{{0, 0}}, h.epochs(1), "the leader records its epoch on taking over")
	assert.Equal(t, []sim.NodeID{2, 3}, h.c.Followers(p0))
	assert.True(t, h.c.Converged())

	// A quiet cluster stays as it is: heartbeats keep every broker unfenced,
	// and followers at the leader's log end never fall out of the ISR.
	h.runChecked(2 * DefaultConfig().ReplicaLagTimeMax)
	assert.Equal(t, st, h.state())
	for _, b := range all {
		assert.False(t, h.c.Controller.Fenced(b))
	}
}

// TestStoryAcksAllSteadyState: an acks=all produce is answered only once the
// followers have fetched it; the leader's HW then equals its LEO and the
// followers learn the HW on their next fetch.
func TestStoryAcksAllSteadyState(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(2, false))
	h.run(100 * sim.Millisecond) // the followers' first fetches are parked at the leader
	h.connect(1)

	batch := h.batch(3)
	id := h.produce(1, -1, requestTimeout, batch)
	h.runUntil(sim.Second, "leader append", func() bool { return h.leo(1) == 3 })
	assert.Nil(t, h.answered(id), "acks=all must wait for the followers")
	assert.Equal(t, int64(0), h.hw(1))
	assert.Equal(t, int64(0), h.leo(2))
	assert.Equal(t, int64(0), h.leo(3))

	r := h.await(id, sim.Second)
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(0), r.BaseOffset)
	for _, b := range all {
		assert.Equal(t, int64(3), h.leo(b), "broker %d", b)
		assert.Equal(t, batch.Records, h.contents(b), "broker %d", b)
	}
	assert.Equal(t, int64(3), h.hw(1), "leader HW is the LEO of the whole ISR")
	assert.Equal(t, int64(0), h.hw(2), "follower learns the HW on its next fetch")
	assert.Equal(t, int64(0), h.hw(3))

	h.run(cfg.ReplicaFetchWaitMax + 10*sim.Millisecond)
	for _, b := range all {
		assert.Equal(t, int64(3), h.hw(b), "broker %d", b)
	}
	assert.True(t, h.c.Converged())

	// The leader's batch carries its epoch; the followers copy it verbatim.
	for _, b := range all {
		require.Len(t, h.rep(b).Log.Batches(), 1)
		assert.Equal(t, int32(0), h.rep(b).Log.Batches()[0].LeaderEpoch)
	}
}

// TestStoryAcksOneLoss is reference §6 "acks=1 loss" and fact 38: the old
// leader truncates what it acknowledged alone, to the new leader's end of
// epoch 0, not to its own (lagging) high watermark.
func TestStoryAcksOneLoss(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	committed, _ := h.commit(1, 2)

	// The followers' fetches stop reaching the leader; its answers still
	// reach them. They copy an acks=1 batch, but the leader never hears
	// they did, so its HW stays at 2.
	h.run(10 * sim.Millisecond) // their next fetches are parked at the leader
	h.w.Net.Cut(2, 1, false)
	h.w.Net.Cut(3, 1, false)
	replicated := h.batch(2)
	r := h.await(h.produce(1, 1, requestTimeout, replicated), sim.Second)
	require.Equal(t, ErrNone, r.Error)
	h.runUntil(sim.Second, "followers copy", func() bool { return h.leo(2) == 4 && h.leo(3) == 4 })
	assert.Equal(t, int64(2), h.hw(1))

	// Now the leader is cut off entirely (the controller still hears it) and
	// acknowledges an acks=1 write at once.
	h.w.Net.Cut(1, 2, false)
	h.w.Net.Cut(1, 3, false)
	lost := h.batch(3)
	sent := h.now()
	r = h.await(h.produce(1, 1, requestTimeout, lost), sim.Second)
	require.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(4), r.BaseOffset)
	assert.LessOrEqual(t, h.now()-sent, 2*sim.Millisecond, "acks=1 is answered at once")
	assert.Equal(t, int64(7), h.leo(1))
	assert.Equal(t, int64(2), h.hw(1))
	assert.Equal(t, int64(4), h.leo(2))
	assert.Equal(t, int64(4), h.leo(3))

	// It dies. After broker.session.timeout.ms the controller fences it and
	// elects the next replica in assignment order.
	crashed := h.now()
	h.c.Crash(1)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "a new leader", func() bool { return h.state().Leader != 1 })
	assert.LessOrEqual(t, h.now()-crashed, cfg.BrokerSessionTimeout)
	assert.Greater(t, h.now()-crashed, cfg.BrokerSessionTimeout-cfg.BrokerHeartbeatInterval)
	assert.True(t, h.c.Controller.Fenced(1))
	st := h.state()
	assert.Equal(t, sim.NodeID(2), st.Leader)
	assert.Equal(t, int32(1), st.LeaderEpoch)
	assert.Equal(t, []sim.NodeID{2, 3}, st.ISR)
	assert.Equal(t, 1, h.c.Controller.Stats(p0).Elections)
	assert.Equal(t, 0, h.c.Controller.Stats(p0).UncleanElections)

	h.runUntil(sim.Second, "broker 2 takes over", func() bool { return h.rep(2).IsLeader() && h.rep(3).LeaderEpoch() == 1 })
	assert.Equal(t, int32(1), h.rep(2).LeaderEpoch())
	assert.Equal(t, []epochEntry{{0, 0}, {1, 4}}, h.epochs(2))

	// The new leader writes different records at the offsets broker 1 used.
	h.connect(2)
	fresh, r := h.commit(2, 2)
	assert.Equal(t, int64(4), r.BaseOffset)

	// The old leader restarts on its old disk and the network heals: it
	// truncates offsets 4-6, keeps 2-3, and copies the new leader.
	h.c.Restart(1)
	h.heal(1)
	h.runUntil(cfg.ReplicaSocketTimeout+10*sim.Second, "convergence", h.c.Converged)
	want := append(append(slices.Clone(committed), replicated.Records...), fresh...)
	for _, b := range all {
		assert.Equal(t, want, h.contents(b), "broker %d", b)
		assert.Equal(t, []epochEntry{{0, 0}, {1, 4}}, h.epochs(b), "broker %d", b)
	}
	for _, id := range lost.Records {
		assert.NotContains(t, h.contents(1), id, "the acks=1 record is gone")
	}
	var truncs []sim.Entry
	for _, e := range h.w.Trace.Entries() {
		if e.Kind == event.Truncate {
			truncs = append(truncs, e)
		}
	}
	require.Len(t, truncs, 1)
	assert.Equal(t, sim.NodeID(1), truncs[0].Node)
	assert.Equal(t, int64(4), truncs[0].First, "truncated to the end of epoch 0 on the new leader, not to the HW 2")
	assert.Equal(t, int64(6), truncs[0].Last)
	assert.Equal(t, isr123, h.state().ISR)
	assert.Equal(t, sim.NodeID(2), h.state().Leader)
	assert.NoError(t, h.c.CheckInvariants())
}

// TestStoryMinISRRejectsBeforeAppend is facts 34 and 36: once the ISR is
// below min.insync.replicas, acks=all is refused before the append.
func TestStoryMinISRRejectsBeforeAppend(t *testing.T) {
	tests := []struct {
		name           string
		sessionTimeout sim.Time
		leaderShrinks  bool // ISR shrink by the leader's AlterPartition, not by fencing
	}{
		{"paused followers are fenced by the controller", DefaultConfig().BrokerSessionTimeout, false},
		{"paused followers fall behind past replica.lag.time.max.ms", 10 * sim.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.BrokerSessionTimeout = tc.sessionTimeout
			h := newHarness(t, cfg, testTopic(2, false))
			h.connect(1)
			h.commit(1, 1)

			h.run(sim.Second)
			h.c.Pause(2)
			h.c.Pause(3)
			if tc.leaderShrinks {
				// A follower at the leader's log end is in sync however long
				// ago it fetched (ReplicaState.isCaughtUp).
				h.run(2 * cfg.ReplicaLagTimeMax)
				assert.Equal(t, isr123, h.state().ISR, "silent followers at the log end stay in the ISR")
			}
			behind := h.now()
			// The leader moves ahead with acks=1: the followers cannot keep up.
			r := h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
			require.Equal(t, ErrNone, r.Error)
			require.Equal(t, int64(2), h.leo(1))

			// Their last fetch is now over replica.lag.time.max.ms old, so the
			// next isr-expiration check (every replica.lag.time.max.ms/2)
			// drops them as soon as the leader is ahead.
			h.runUntil(2*cfg.ReplicaLagTimeMax, "ISR shrink", func() bool { return len(h.rep(1).ISR()) == 1 })
			assert.Equal(t, []sim.NodeID{1}, h.state().ISR)
			assert.Equal(t, []sim.NodeID{1}, h.rep(1).ISR())
			if tc.leaderShrinks {
				assert.LessOrEqual(t, h.now()-behind, cfg.ReplicaLagTimeMax/2+10*sim.Millisecond)
				assert.Equal(t, 1, h.traced(1, event.IsrShrink, proposing(1)))
				assert.Equal(t, 1, h.traced(ControllerID, event.Isr, func(e *sim.Entry) bool { return e.Has(event.AlterPartition) && proposing(1)(e) }))
				assert.False(t, h.c.Controller.Fenced(2))
				assert.False(t, h.c.Controller.Fenced(3))
			} else {
				assert.LessOrEqual(t, h.now()-behind, cfg.BrokerSessionTimeout)
				assert.True(t, h.c.Controller.Fenced(2))
				assert.True(t, h.c.Controller.Fenced(3))
			}
			assert.Equal(t, sim.NodeID(1), h.state().Leader, "the leader keeps leading")

			// acks=all: refused before the append.
			leo, hw := h.leo(1), h.hw(1)
			r = h.await(h.produce(1, -1, requestTimeout, h.batch(2)), 10*sim.Millisecond)
			assert.Equal(t, ErrNotEnoughReplicas, r.Error)
			assert.Equal(t, int64(-1), r.BaseOffset)
			assert.Equal(t, leo, h.leo(1), "nothing appended")
			assert.Equal(t, hw, h.hw(1))

			// acks=1 is still taken.
			r = h.await(h.produce(1, 1, requestTimeout, h.batch(1)), 10*sim.Millisecond)
			assert.Equal(t, ErrNone, r.Error)
			assert.Equal(t, leo, r.BaseOffset)

			// The followers come back, catch up and rejoin; acks=all works again.
			h.c.Resume(2)
			h.c.Resume(3)
			h.runUntil(10*sim.Second, "ISR expansion", func() bool { return len(h.state().ISR) == 3 })
			r = h.await(h.produce(1, -1, requestTimeout, h.batch(1)), sim.Second)
			assert.Equal(t, ErrNone, r.Error)
			assert.Equal(t, leo+1, r.BaseOffset)
		})
	}
}

// TestStoryKafka37 is fact 35: since 3.7 the HW does not
// advance while the ISR is below min.insync.replicas, so an acks=all request
// waiting when the ISR shrank times out; before 3.7 the HW moved and the
// request completed with NOT_ENOUGH_REPLICAS_AFTER_APPEND.
func TestStoryKafka37(t *testing.T) {
	for _, strict := range []bool{true, false} {
		name := "before 3.7"
		if strict {
			name = "3.7 and later"
		}
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			if !strict {
				cfg.Version = Version{3, 6}
			}
			h := newHarness(t, cfg, testTopic(2, false))
			h.connect(1)
			h.commit(1, 1)

			h.run(5 * sim.Second)
			h.c.Pause(2)
			h.c.Pause(3)
			timeout := 60 * sim.Second
			sent := h.now()
			id := h.produce(1, -1, timeout, h.batch(2))
			h.runUntil(sim.Second, "append", func() bool { return h.leo(1) == 3 })
			assert.Nil(t, h.answered(id))

			// The controller fences the silent followers: ISR {1}.
			h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "ISR shrink", func() bool { return len(h.rep(1).ISR()) == 1 })
			h.run(10 * sim.Millisecond)

			if strict {
				assert.Nil(t, h.answered(id), "the HW is frozen, so the request keeps waiting")
				assert.Equal(t, int64(1), h.hw(1))

				r := h.await(id, timeout)
				assert.Equal(t, ErrRequestTimedOut, r.Error)
				// One millisecond to the broker, the timeout, one millisecond back.
				assert.Equal(t, sent+timeout+2*sim.Millisecond, h.now(), "answered when request.timeout.ms ran out")
				assert.Equal(t, int64(3), h.leo(1), "the records stay in the log")
				assert.Equal(t, int64(1), h.hw(1))

				// Even acks=1 writes are acknowledged but stay invisible.
				r = h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
				assert.Equal(t, ErrNone, r.Error)
				assert.Equal(t, int64(4), h.leo(1))
				assert.Equal(t, int64(1), h.hw(1))
			} else {
				require.NotNil(t, h.answered(id), "the ISR shrink moves the HW and settles the request")
				r := h.answered(id).Partitions[0]
				assert.Equal(t, ErrNotEnoughReplicasAfterAppend, r.Error)
				assert.Equal(t, int64(1), r.BaseOffset)
				assert.Equal(t, int64(3), h.hw(1), "the records are in the log and committed")
				assert.Less(t, h.now()-sent, timeout)

				r = h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
				assert.Equal(t, ErrNone, r.Error)
				assert.Equal(t, int64(4), h.hw(1), "acks=1 writes commit on the leader alone")
			}

			// The followers return: the HW catches up with the log.
			h.c.Resume(2)
			h.c.Resume(3)
			h.runUntil(10*sim.Second, "ISR expansion", func() bool { return len(h.state().ISR) == 3 })
			h.runUntil(sim.Second, "HW", func() bool { return h.hw(1) == 4 })
		})
	}
}

// TestStoryAcksAllRequestTimeout: with the followers stalled but the ISR not
// changed yet, an acks=all request is answered REQUEST_TIMED_OUT after its
// timeout; the records stay in the leader's log and commit later.
func TestStoryAcksAllRequestTimeout(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	committed, _ := h.commit(1, 1)

	h.run(sim.Second)
	h.c.Pause(2)
	h.c.Pause(3)
	timeout := 2 * sim.Second
	pending := h.batch(2)
	sent := h.now()
	id := h.produce(1, -1, timeout, pending)
	// A second request on the same connection waits behind the first: the
	// broker mutes a connection while a request is in progress.
	queued := h.batch(1)
	id2 := h.produce(1, 1, requestTimeout, queued)
	h.runUntil(sim.Second, "append", func() bool { return h.leo(1) == 3 })
	h.run(timeout / 2)
	assert.Nil(t, h.answered(id))
	assert.Nil(t, h.answered(id2))
	assert.Equal(t, int64(3), h.leo(1), "the queued request is not handled yet")

	r := h.await(id, timeout)
	assert.Equal(t, ErrRequestTimedOut, r.Error)
	assert.Equal(t, sent+timeout+2*sim.Millisecond, h.now(), "answered at the produce timeout")
	assert.Equal(t, isr123, h.state().ISR, "no ISR change yet")
	assert.False(t, h.c.Controller.Fenced(2))
	assert.Equal(t, int64(1), h.hw(1))
	assert.Equal(t, append(slices.Clone(committed), pending.Records...), h.contents(1)[:3], "the data stays in the log")

	// The queued request ran as soon as the first was answered.
	r2 := h.await(id2, 10*sim.Millisecond)
	assert.Equal(t, ErrNone, r2.Error)
	assert.Equal(t, int64(3), r2.BaseOffset)

	// The followers wake up before being fenced: the timed-out records commit.
	h.c.Resume(2)
	h.c.Resume(3)
	h.runUntil(sim.Second, "HW", func() bool { return h.hw(1) == 4 })
	assert.Equal(t, isr123, h.state().ISR)
	h.run(sim.Second)
	want := append(append(slices.Clone(committed), pending.Records...), queued.Records...)
	for _, b := range all {
		assert.Equal(t, want, h.contents(b), "broker %d", b)
	}
	assert.True(t, h.c.Converged())
}

// TestStoryLastISRMemberDies is fact 37 and reference §6 "acks=all,
// min.insync=1, ISR={leader}": with unclean.leader.election.enable an
// out-of-sync replica takes over and the ISR becomes just it; without it
// the partition is offline until the leader returns.
func TestStoryLastISRMemberDies(t *testing.T) {
	for _, unclean := range []bool{true, false} {
		name := "unclean election disabled"
		if unclean {
			name = "unclean election enabled"
		}
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			h := newHarness(t, cfg, testTopic(1, unclean))
			h.connect(1)
			committed, _ := h.commit(1, 2)

			// The leader is cut off from its followers, which keep heartbeating.
			h.isolate(1)
			// acks=all waits for the followers until the leader drops them
			// from the ISR (replica.lag.time.max.ms plus up to one check period),
			// then completes: acks=all means the current ISR (Jepsen 2013).
			onlyOnLeader := h.batch(3)
			id := h.produce(1, -1, 2*sim.Minute, onlyOnLeader)
			h.run(cfg.ReplicaLagTimeMax)
			assert.Nil(t, h.answered(id))
			r := h.await(id, cfg.ReplicaLagTimeMax)
			require.Equal(t, ErrNone, r.Error, "acks=all completes once the ISR is just the leader")
			assert.Equal(t, []sim.NodeID{1}, h.state().ISR)
			assert.Equal(t, 1, h.traced(ControllerID, event.Isr, func(e *sim.Entry) bool { return e.Has(event.AlterPartition) && proposing(1)(e) }))
			assert.False(t, h.c.Controller.Fenced(2))
			assert.False(t, h.c.Controller.Fenced(3))
			assert.Equal(t, int64(5), h.hw(1), "committed on the leader alone")
			assert.Equal(t, int64(2), h.leo(2))

			h.c.Crash(1)
			crashed := h.now()
			h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 1 fenced", func() bool { return h.c.Controller.Fenced(1) })
			st := h.state()
			stats := h.c.Controller.Stats(p0)

			if unclean {
				assert.Equal(t, sim.NodeID(2), st.Leader, "first live replica in assignment order")
				assert.Equal(t, int32(1), st.LeaderEpoch)
				assert.Equal(t, []sim.NodeID{2}, st.ISR)
				assert.Equal(t, 1, stats.Elections)
				assert.Equal(t, 1, stats.UncleanElections)
				assert.Equal(t, sim.Time(0), stats.OfflineTime)

				// The new leader serves; broker 3 joins it; the acknowledged,
				// committed records are gone.
				h.runUntil(5*sim.Second, "ISR expansion", func() bool { return len(h.state().ISR) == 2 })
				assert.Equal(t, []sim.NodeID{2, 3}, h.state().ISR)
				h.connect(2)
				fresh, r := h.commit(2, 1)
				assert.Equal(t, int64(2), r.BaseOffset)
				want := append(slices.Clone(committed), fresh...)
				assert.Equal(t, want, h.contents(2))
				assert.Equal(t, want, h.contents(3))

				// The old leader returns and truncates to the new leader.
				h.c.Restart(1)
				h.heal(1)
				h.runUntil(2*cfg.ReplicaSocketTimeout+5*sim.Second, "convergence", h.c.Converged)
				assert.Equal(t, want, h.contents(1))
				assert.Equal(t, 1, h.c.Controller.Stats(p0).UncleanElections)
				return
			}

			assert.Equal(t, NoLeader, st.Leader)
			assert.Equal(t, []sim.NodeID{1}, st.ISR, "without ELR the ISR keeps its last member")
			assert.Equal(t, 0, stats.Elections)
			assert.Equal(t, 0, stats.UncleanElections)
			assert.False(t, h.rep(2).IsLeader())
			assert.False(t, h.rep(3).IsLeader())

			// Offline time grows while the partition has no leader.
			h.run(5 * sim.Second)
			later := h.c.Controller.Stats(p0)
			assert.Equal(t, stats.OfflineTime+5*sim.Second, later.OfflineTime)

			// A produce to a follower is refused with no leader to point at.
			h.connect(2)
			r = h.await(h.produce(2, -1, requestTimeout, h.batch(1)), sim.Second)
			assert.Equal(t, ErrNotLeaderOrFollower, r.Error)
			assert.Equal(t, NoLeader, r.Leader)

			// The leader returns on its disk: it leads again, nothing lost.
			h.c.Restart(1)
			h.runUntil(sim.Second, "broker 1 leads", func() bool { return h.state().Leader == 1 && h.rep(1).IsLeader() })
			offline := h.c.Controller.Stats(p0).OfflineTime
			assert.Greater(t, offline, 5*sim.Second)
			assert.LessOrEqual(t, offline, h.now()-crashed)
			assert.Greater(t, h.state().LeaderEpoch, int32(0), "a new leader epoch")
			assert.Equal(t, h.state().LeaderEpoch, h.rep(1).LeaderEpoch())
			assert.Equal(t, []sim.NodeID{1}, h.state().ISR)
			assert.Equal(t, 1, h.c.Controller.Stats(p0).Elections)
			h.run(5 * sim.Second)
			assert.Equal(t, offline, h.c.Controller.Stats(p0).OfflineTime, "offline time stops when a leader is back")

			h.heal(1)
			// The followers' fetches were lost on the cut links: they wait
			// out replica.socket.timeout.ms before asking again.
			h.runUntil(2*cfg.ReplicaSocketTimeout+5*sim.Second, "convergence", h.c.Converged)
			want := append(slices.Clone(committed), onlyOnLeader.Records...)
			for _, b := range all {
				assert.Equal(t, want, h.contents(b), "broker %d", b)
			}
		})
	}
}

// TestStoryIdempotentDuplicate is fact 28: a batch sent again is not
// appended again; the answer carries the original base offset. The state is
// replicated, so a new leader recognises the duplicate too.
func TestStoryIdempotentDuplicate(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	pid := h.initPID(1)

	first := h.idemBatch(pid, 0, 0, 3)
	second := h.idemBatch(pid, 0, 3, 2)
	r := h.await(h.produce(1, -1, requestTimeout, first), sim.Second)
	require.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(0), r.BaseOffset)
	r = h.await(h.produce(1, -1, requestTimeout, second), sim.Second)
	require.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(3), r.BaseOffset)
	require.Equal(t, int64(5), h.leo(1))

	// The same batch again: success, original offset, nothing appended.
	r = h.await(h.produce(1, -1, requestTimeout, first), sim.Second)
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(0), r.BaseOffset)
	assert.Equal(t, int64(5), h.leo(1))
	assert.Equal(t, 1, h.traced(1, event.Duplicate, nil))

	// acks=1 duplicates are answered the same way.
	r = h.await(h.produce(1, 1, requestTimeout, second), sim.Second)
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(3), r.BaseOffset)
	assert.Equal(t, int64(5), h.leo(1))

	// A gap is refused.
	r = h.await(h.produce(1, -1, requestTimeout, h.idemBatch(pid, 0, 6, 1)), sim.Second)
	assert.Equal(t, ErrOutOfOrderSequenceNumber, r.Error)
	assert.Equal(t, int64(5), h.leo(1))

	// Failover: broker 2 learned the producer state by replication.
	h.run(sim.Second)
	h.c.Crash(1)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 2 leads", func() bool { return h.rep(2).IsLeader() })
	h.connect(2)
	r = h.await(h.produce(2, -1, requestTimeout, second), sim.Second)
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(3), r.BaseOffset)
	assert.Equal(t, int64(5), h.leo(2))
	r = h.await(h.produce(2, -1, requestTimeout, h.idemBatch(pid, 0, 5, 1)), sim.Second)
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, int64(5), r.BaseOffset)

	want := append(append(slices.Clone(first.Records), second.Records...), RecordID(h.nextRe-1))
	assert.Equal(t, want, h.contents(2))
}

// TestStoryIdempotentDuplicateWhileWaiting: a duplicate of an acks=all batch
// still waiting for replication waits too, and both answers carry the same
// offset.
func TestStoryIdempotentDuplicateWhileWaiting(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.connect(1)
	other := &fakeClient{connected: map[sim.NodeID]bool{}, responses: map[int64]*ProduceResponse{}, pids: map[int64]*InitProducerIDResponse{}}
	oid := h.w.AddNode("client-2", other)
	h.w.Net.Send(oid, 1, Connect{Conn: testConn})
	h.run(10 * sim.Millisecond)
	require.True(t, other.connected[1])

	h.commit(1, 1)
	h.c.Pause(2)
	h.c.Pause(3)
	b := h.idemBatch(77, 0, 0, 2)
	id := h.produce(1, -1, requestTimeout, b)
	h.run(10 * sim.Millisecond)
	h.w.Net.Send(oid, 1, NewProduceRequest(testConn, 1, -1, requestTimeout, []ProduceBatch{b}))
	h.run(10 * sim.Millisecond)
	assert.Equal(t, int64(3), h.leo(1), "appended once")
	assert.Nil(t, h.answered(id))
	assert.Empty(t, other.responses, "the duplicate waits for the HW too")

	h.c.Resume(2)
	h.c.Resume(3)
	r := h.await(id, sim.Second)
	h.run(10 * sim.Millisecond)
	require.Contains(t, other.responses, int64(1))
	r2 := other.responses[1].Partitions[0]
	assert.Equal(t, ErrNone, r.Error)
	assert.Equal(t, ErrNone, r2.Error)
	assert.Equal(t, int64(1), r.BaseOffset)
	assert.Equal(t, int64(1), r2.BaseOffset)
	assert.Equal(t, int64(3), h.leo(1))
}

// TestStoryReplacedLeaderWithEmptyEpoch: broker 2 becomes leader (epoch 1 at
// its log end) and is replaced before appending anything. Back as a
// follower, the leader reports divergence for epoch 1; the truncation
// removes no record but drops the empty epoch entry (UnifiedLog.truncateTo),
// so the next fetch goes through and the replica rejoins the ISR.
func TestStoryReplacedLeaderWithEmptyEpoch(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	committed, _ := h.commit(1, 2)

	h.c.Crash(1)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 2 leads", func() bool {
		return h.rep(2).IsLeader() && h.rep(2).LeaderEpoch() == 1
	})
	require.Equal(t, []epochEntry{{0, 0}, {1, 2}}, h.epochs(2))

	h.c.Crash(2)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 3 leads", func() bool { return h.state().Leader == 3 })
	assert.Equal(t, int32(2), h.state().LeaderEpoch)
	assert.Equal(t, []sim.NodeID{3}, h.state().ISR)
	h.run(10 * sim.Millisecond)
	require.True(t, h.rep(3).IsLeader())
	assert.Equal(t, []epochEntry{{0, 0}, {2, 2}}, h.epochs(3))

	h.c.Restart(2)
	events := h.w.Events()
	h.runUntil(5*sim.Second, "broker 2 rejoins the ISR", func() bool { return slices.Contains(h.state().ISR, 2) })
	assert.Equal(t, []sim.NodeID{2, 3}, h.state().ISR)
	assert.Equal(t, []epochEntry{{0, 0}}, h.epochs(2), "the empty epoch 1 entry is gone")
	assert.Equal(t, committed, h.contents(2), "no record was removed")
	assert.Zero(t, h.traced(2, event.Truncate, nil), "no record truncation")
	assert.Less(t, h.w.Events()-events, uint64(200), "no fetch/diverge loop")

	// New writes replicate to it under epoch 2.
	h.connect(3)
	fresh, r := h.commit(3, 1)
	assert.Equal(t, int64(2), r.BaseOffset)
	assert.Equal(t, append(slices.Clone(committed), fresh...), h.contents(2))
	assert.Equal(t, []epochEntry{{0, 0}, {2, 2}}, h.epochs(2))
	assert.NoError(t, h.c.CheckInvariants())
}

// TestStorySequenceWrapAcrossBatch: the producer numbers a 3-record batch
// MAX-1, MAX, 0 and the next batch from 1 (DefaultRecordBatch.incrementSequence,
// producer.incrementSequence). The broker must accept the next batch.
func TestStorySequenceWrapAcrossBatch(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.connect(1)
	pid := h.initPID(1)
	r := h.await(h.produce(1, -1, requestTimeout, h.idemBatch(pid, 0, math.MaxInt32-1, 3)), sim.Second)
	require.Equal(t, ErrNone, r.Error, "no state for the producer id: any sequence")
	r = h.await(h.produce(1, -1, requestTimeout, h.idemBatch(pid, 0, 1, 2)), sim.Second)
	assert.Equal(t, ErrNone, r.Error, "sequence 1 follows a batch whose last sequence is 0")
	assert.Equal(t, int64(3), r.BaseOffset)
}

// TestStoryOfflinePartitionBumpsLeaderEpoch: in KRaft every leader change
// bumps the leader epoch, including the change to no leader
// (PartitionRegistration.merge: any record.leader() other than
// NO_LEADER_CHANGE gives leaderEpoch + 1). Going offline is epoch 1; the old
// leader's return is epoch 2.
func TestStoryOfflinePartitionBumpsLeaderEpoch(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.isolate(1)
	h.connect(1)
	h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
	h.runUntil(2*cfg.ReplicaLagTimeMax, "ISR shrink", func() bool { return len(h.state().ISR) == 1 })

	h.c.Crash(1)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "offline", func() bool { return h.state().Leader == NoLeader })
	assert.Equal(t, int32(1), h.state().LeaderEpoch, "leader 1 -> none is a leader change")

	h.c.Restart(1)
	h.runUntil(sim.Second, "broker 1 leads", func() bool { return h.state().Leader == 1 })
	assert.Equal(t, int32(2), h.state().LeaderEpoch, "none -> leader 1 is another")
}

// TestStoryFollowerHighWatermarkFollowsLeader: a follower's HW is the
// leader's HW from the fetch response capped at its own LEO (reference §6;
// UnifiedLog.updateHighWatermark sets it even when that is lower, logging
// "Non-monotonic update of high watermark"). Here broker 3 learned HW 3 from
// the old leader but broker 2, which takes over, did not; with min.insync=3
// and strict min-ISR the new leader's HW stays 2, so broker 3's must too.
func TestStoryFollowerHighWatermarkFollowsLeader(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(3, false))
	h.connect(1)
	h.commit(1, 2)

	id := h.produce(1, -1, requestTimeout, h.batch(1))
	h.runUntil(sim.Second, "leader HW 3", func() bool { return h.hw(1) == 3 })
	h.w.Net.Cut(1, 2, false) // broker 2 never hears of HW 3
	h.await(id, sim.Second)
	h.run(cfg.ReplicaFetchWaitMax + 10*sim.Millisecond)
	require.Equal(t, int64(3), h.hw(3))
	require.Equal(t, int64(2), h.hw(2))
	require.Equal(t, int64(3), h.leo(2))

	h.c.Crash(1)
	h.w.Net.Uncut(1, 2, false)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 2 leads", func() bool { return h.rep(2).IsLeader() })
	assert.Equal(t, []sim.NodeID{2, 3}, h.state().ISR)
	h.run(2 * sim.Second)
	assert.Equal(t, int64(2), h.hw(2), "the new leader's HW is frozen below min.insync.replicas")
	assert.Equal(t, h.hw(2), h.hw(3), "the follower takes the leader's HW")
}

// TestStoryISRExpansionWaitsForEpochStart: a follower joins the ISR only
// once its log end reaches both the HW and the start of the leader's epoch
// (Partition.isFollowerInSync, KIP-320 rule 4). Here the new leader's HW is
// frozen below its epoch start (min.insync=2, ISR {2}), so the HW alone
// would let broker 3 in one record early.
func TestStoryISRExpansionWaitsForEpochStart(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(2, false))
	h.connect(1)
	h.commit(1, 2)

	// Broker 3 loses the leader but keeps its controller session, so it is
	// never fenced: the leader drops it from the ISR by AlterPartition.
	h.w.Net.Cut(1, 3, false)
	h.w.Net.Cut(3, 1, false)
	id := h.produce(1, -1, 2*sim.Minute, h.batch(1))
	h.runUntil(2*cfg.ReplicaLagTimeMax, "leader HW 3", func() bool { return h.hw(1) == 3 })
	require.Equal(t, []sim.NodeID{1, 2}, h.state().ISR)
	h.w.Net.Cut(1, 2, false) // broker 2 has offset 2 but never hears of HW 3
	h.await(id, sim.Second)

	h.c.Crash(1)
	h.runUntil(cfg.BrokerSessionTimeout+sim.Second, "broker 2 leads", func() bool { return h.rep(2).IsLeader() })
	require.Equal(t, []sim.NodeID{2}, h.state().ISR)
	require.False(t, h.c.Controller.Fenced(3))
	require.Equal(t, int64(2), h.hw(2), "HW frozen under min.insync.replicas")
	require.Equal(t, int64(3), h.rep(2).Log.EpochStart())
	require.Equal(t, int64(2), h.leo(3))

	h.runUntil(5*sim.Second, "broker 3 joins", func() bool { return len(h.state().ISR) == 2 })
	var expands []sim.Entry
	for _, e := range h.w.Trace.Entries() {
		if e.Kind == event.IsrExpand && e.Node == 2 {
			expands = append(expands, e)
		}
	}
	require.Len(t, expands, 1)
	assert.Equal(t, sim.NodeID(3), expands[0].Peer)
	assert.Equal(t, int64(3), expands[0].First, "joined at the epoch start, not at the HW")
	h.runUntil(sim.Second, "HW", func() bool { return h.hw(2) == 3 })
}

// TestStoryMultiPartitionRequest: one request with a batch for a partition
// this broker leads and one it does not. The second gets
// NOT_LEADER_OR_FOLLOWER with the leader hint (KIP-951); the acks=all answer
// waits for the first batch's replication and carries both results.
func TestStoryMultiPartitionRequest(t *testing.T) {
	h := newHarness(t, DefaultConfig(), Topic{Name: "t", Partitions: 3, ReplicationFactor: 3, MinInsyncReplicas: 2})
	require.Equal(t, sim.NodeID(2), h.c.Leader(1), "partition 1 starts on broker 2")
	h.connect(1)

	mine := h.batch(2)
	other := h.batch(1)
	other.Partition = 1
	h.nextID++
	id := h.nextID
	h.w.Net.Send(h.cid, 1, NewProduceRequest(testConn, id, -1, requestTimeout, []ProduceBatch{mine, other}))
	h.runUntil(sim.Second, "append", func() bool { return h.leo(1) == 2 })
	assert.Nil(t, h.answered(id), "waits for partition 0's followers")
	h.runUntil(sim.Second, "answer", func() bool { return h.answered(id) != nil })
	resp := h.answered(id)
	require.Len(t, resp.Partitions, 2)
	assert.Equal(t, PartitionResponse{Partition: 0, Error: ErrNone, BaseOffset: 0, Leader: NoLeader, LeaderEpoch: -1, Ref: mine.Ref}, resp.Partitions[0])
	assert.Equal(t, PartitionResponse{Partition: 1, Error: ErrNotLeaderOrFollower, BaseOffset: -1, Leader: 2, LeaderEpoch: 0, Ref: other.Ref}, resp.Partitions[1])
	assert.Equal(t, int64(0), h.c.Brokers[2].Replica(1).Log.LEO())
	assert.Equal(t, int64(2), h.hw(1))
}

// TestStoryAcksZero is fact 19: with acks=0 the broker never answers; when
// the produce fails it closes the connection instead.
func TestStoryAcksZero(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.connect(1)
	h.connect(2)

	id := h.produce(1, 0, requestTimeout, h.batch(2))
	h.run(100 * sim.Millisecond)
	assert.Nil(t, h.answered(id))
	assert.Equal(t, int64(2), h.leo(1), "appended")
	assert.Empty(t, h.client.disconnected)

	id = h.produce(2, 0, requestTimeout, h.batch(1))
	h.run(100 * sim.Millisecond)
	assert.Nil(t, h.answered(id))
	assert.Equal(t, []sim.NodeID{2}, h.client.disconnected, "a failed acks=0 produce closes the connection")
	assert.Equal(t, int64(2), h.leo(2))

	// The broker ignores later requests on the closed connection.
	h.client.connected[2] = true
	id = h.produce(2, 1, requestTimeout, h.batch(1))
	h.run(100 * sim.Millisecond)
	assert.Nil(t, h.answered(id))
}

func TestStoryAddPartitions(t *testing.T) {
	topic := testTopic(1, false)
	topic.Partitions, topic.Initial = 6, 3
	h := newHarness(t, DefaultConfig(), topic)
	require.Equal(t, []int{3}, h.c.Brokers[2].meta.TopicPartitions, "brokers start with the initial count")

	// The operator raises the count: every broker's metadata lists 6
	// partitions once the controller's push arrives.
	h.run(sim.Second)
	h.c.AddPartitions(0, 6)
	assert.Equal(t, 6, h.c.Controller.PartitionCount(0))
	h.run(10 * sim.Millisecond)
	for _, b := range all {
		assert.Equal(t, []int{6}, h.c.Brokers[b].meta.TopicPartitions, "broker %d", b)
	}
	assert.Equal(t, 1, h.traced(ControllerID, event.AddPartitions, func(e *sim.Entry) bool { return e.X().Note == "t" && e.X().Prev == 3 && e.Count == 6 }))

	// Shrinking, or growing past what the topology laid out, does nothing.
	h.c.AddPartitions(0, 4)
	h.c.AddPartitions(0, 7)
	assert.Equal(t, 6, h.c.Controller.PartitionCount(0))
	assert.Equal(t, 1, h.traced(ControllerID, event.AddPartitions, nil))
}

// TestStoryRestartBeforeSessionExpires: a leader crashes with a record its
// followers never fetched and restarts before broker.session.timeout.ms.
// The controller refuses the new incarnation while the old session lives
// (ClusterControlManager.registerBroker, DUPLICATE_BROKER_REGISTRATION), and
// the new process takes no role until registered, even when a metadata
// version that still names it leader reaches it. So it never leads again in
// epoch 0 with its tail: the fencing elects a follower in epoch 1, and the
// returning broker truncates the tail and follows.
func TestStoryRestartBeforeSessionExpires(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	committed, _ := h.commit(1, 2)

	h.isolate(1)
	r := h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
	require.Equal(t, ErrNone, r.Error)
	require.Equal(t, int64(3), h.leo(1), "a tail only broker 1 holds")

	h.c.Crash(1)
	h.run(sim.Second)
	h.c.Restart(1)
	h.heal(1)
	h.connect(1)
	// Any metadata change elsewhere pushes a new version to every broker;
	// this one still has broker 1 leading in epoch 0.
	h.c.Controller.publish(true)
	h.run(sim.Second)
	require.False(t, h.c.Controller.Fenced(1), "the old session is still valid")
	require.Equal(t, sim.NodeID(1), h.state().Leader)
	assert.False(t, h.rep(1).IsLeader(), "no role before registration")
	r = h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second)
	assert.Equal(t, ErrNotLeaderOrFollower, r.Error)

	h.runUntil(cfg.BrokerSessionTimeout, "a new leader", func() bool { return h.state().Leader != 1 })
	assert.Equal(t, int32(1), h.state().LeaderEpoch)
	h.runUntil(2*cfg.ReplicaSocketTimeout+5*sim.Second, "convergence", h.c.Converged)
	assert.Equal(t, committed, h.contents(1), "the unreplicated tail is gone")
	assert.Equal(t, committed, h.contents(h.state().Leader))
	assert.NoError(t, h.c.CheckInvariants())
}

// TestStoryControlledShutdown: a leader asked to stop (SIGTERM) sends a
// heartbeat that wants to shut down; the controller moves its leadership
// to the next ISR member and takes it out of the ISR at once
// (handleBrokerInControlledShutdown), without waiting for
// broker.session.timeout.ms. The broker keeps running, no longer fetching,
// and stops only once every active broker has applied that change
// (BrokerHeartbeatManager: CONTROLLED_SHUTDOWN until lowestActiveOffset
// passes it, then SHUTDOWN_NOW, which fences it). Meanwhile it may not
// rejoin the ISR, and acks=all writes complete without it. A restart brings
// it back as a follower.
func TestStoryControlledShutdown(t *testing.T) {
	cfg := DefaultConfig()
	h := newHarness(t, cfg, testTopic(1, false))
	h.connect(1)
	committed, _ := h.commit(1, 2)

	asked := h.now()
	h.c.Shutdown(1)
	h.runUntil(100*sim.Millisecond, "a new leader", func() bool { return h.state().Leader != 1 })
	assert.Less(t, h.now()-asked, 10*sim.Millisecond, "one heartbeat's round trip, not a session timeout")
	st := h.state()
	assert.Equal(t, sim.NodeID(2), st.Leader)
	assert.Equal(t, []sim.NodeID{2, 3}, st.ISR)
	assert.False(t, h.c.Controller.Fenced(1), "not fenced while it shuts down")
	assert.True(t, h.c.W.Up(1))
	assert.True(t, h.c.ShuttingDown(1))

	// The new leader takes acks=all writes with the ISR [2 3].
	h.runUntil(sim.Second, "broker 2 leads", func() bool { return h.rep(2).IsLeader() })
	h.connect(2)
	fresh, r := h.commit(2, 2)
	assert.Equal(t, int64(2), r.BaseOffset)
	h.run(sim.Second)
	assert.Equal(t, committed, h.contents(1), "it stopped fetching")
	assert.Equal(t, []sim.NodeID{2, 3}, h.state().ISR, "it cannot rejoin the ISR")

	h.runUntil(2*cfg.BrokerHeartbeatInterval+sim.Second, "the broker stops", func() bool { return !h.c.W.Up(1) })
	assert.True(t, h.c.Controller.Fenced(1))
	assert.Equal(t, 1, h.traced(1, event.Stop, nil))
	assert.Equal(t, 1, h.traced(ControllerID, event.Fence, func(e *sim.Entry) bool { return e.Has(event.InShutdown) }))
	assert.True(t, h.c.Brokers[1].cleanShutdown, "a clean stop: it registers again without an unclean shutdown")

	h.c.Restart(1)
	h.runUntil(cfg.ReplicaSocketTimeout, "convergence", h.c.Converged)
	assert.Equal(t, append(slices.Clone(committed), fresh...), h.contents(1))
	assert.Equal(t, isr123, h.state().ISR)
	assert.NoError(t, h.c.CheckInvariants())
}

// TestStoryControlledShutdownTimesOut: a broker whose heartbeats do not
// reach the controller is fenced when its session expires, like a crashed
// one, but never hears that it may stop: it stops anyway after the five
// minutes KafkaBroker.shutdown gives it.
func TestStoryControlledShutdownTimesOut(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.w.Net.Cut(1, ControllerID, false)
	h.c.Shutdown(1)
	h.run(4 * sim.Minute)
	assert.True(t, h.c.W.Up(1), "still waiting")
	h.runUntil(2*sim.Minute, "the broker stops", func() bool { return !h.c.W.Up(1) })
	assert.Equal(t, 1, h.traced(1, event.Stop, nil))
}
