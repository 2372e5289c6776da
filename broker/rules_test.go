package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// TestRuleProduce: a produce rule answers the batches it covers with its
// error before the append (nothing written) or after it (written, answer
// replaced), or loses the answer; it fires count times and counts each.
func TestRuleProduce(t *testing.T) {
	tests := []struct {
		name     string
		rule     Rule
		wantErr  Error
		answered bool
		leo      int64 // the leader's log end after the request
	}{
		{"before", Rule{Error: ErrInvalidRecord}, ErrInvalidRecord, true, 0},
		{"after", Rule{Error: ErrMessageTooLarge, After: true}, ErrMessageTooLarge, true, 2},
		{"lost before", Rule{Lost: true}, 0, false, 0},
		{"lost after", Rule{Lost: true, After: true}, 0, false, 2},
		{"other topic", Rule{Error: ErrInvalidRecord, Topic: 1}, ErrNone, true, 2},
		{"other partition", Rule{Error: ErrInvalidRecord, Topic: 0, Partition: 1}, ErrNone, true, 2},
		{"other API", Rule{Error: ErrInvalidRecord, API: APIEndTxn}, ErrNone, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, DefaultConfig(), testTopic(1, false))
			h.connect(1)
			r := tt.rule
			if r.API == 0 {
				r.API = APIProduce
			}
			if r.Topic == 0 && r.Partition == 0 {
				r.Topic, r.Partition = -1, -1
			}
			r.Count = 1
			h.c.AddRule(1, &r)
			id := h.produce(1, 1, requestTimeout, h.batch(2))
			h.run(sim.Second)
			if !tt.answered {
				assert.Nil(t, h.answered(id), "the answer is lost")
			} else {
				require.NotNil(t, h.answered(id))
				assert.Equal(t, tt.wantErr, h.answered(id).Partitions[0].Error)
			}
			assert.Equal(t, tt.leo, h.leo(1))
			fired := 1
			if tt.wantErr == ErrNone && tt.answered {
				fired = 0
			}
			assert.Equal(t, fired, r.Fired)
			if fired == 1 && tt.answered {
				// Used up: the next request goes through.
				next := h.produce(1, 1, requestTimeout, h.batch(1))
				assert.Equal(t, ErrNone, h.await(next, sim.Second).Error)
			}
		})
	}
}

// TestRuleUntil: a rule with a duration fires on every match until it ends.
func TestRuleUntil(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.connect(1)
	r := Rule{API: APIProduce, Topic: -1, Partition: -1, Error: ErrNotEnoughReplicas, Until: h.now() + sim.Second}
	h.c.AddRule(1, &r)
	for range 3 {
		assert.Equal(t, ErrNotEnoughReplicas, h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second).Error)
	}
	h.run(sim.Second)
	assert.Equal(t, ErrNone, h.await(h.produce(1, 1, requestTimeout, h.batch(1)), sim.Second).Error)
	assert.Equal(t, 3, r.Fired)
	h.c.Heal()
	assert.Empty(t, h.c.Brokers[1].rules, "the heal clears every rule")
}

// TestRuleInitProducerID: a rule on another API answers its requests.
func TestRuleInitProducerID(t *testing.T) {
	for _, after := range []bool{false, true} {
		h := newHarness(t, DefaultConfig(), testTopic(1, false))
		h.connect(2)
		r := Rule{API: APIInitProducerID, Topic: -1, Partition: -1, Error: ErrClusterAuthorizationFailed, After: after, Count: 1}
		h.c.AddRule(2, &r)
		h.nextID++
		h.w.Net.Send(h.cid, 2, &InitProducerIDRequest{Conn: testConn, ID: h.nextID})
		h.run(sim.Second)
		require.NotNil(t, h.client.pids[h.nextID])
		assert.Equal(t, ErrClusterAuthorizationFailed, h.client.pids[h.nextID].Error)
		assert.Equal(t, 1, r.Fired)
		assert.Equal(t, int64(-1), h.client.pids[h.nextID].ProducerID)
		pid := h.initPID(2)
		if after {
			assert.Equal(t, int64(2_000_001), pid, "the lost answer's id was allocated")
		} else {
			assert.Equal(t, int64(2_000_000), pid, "nothing was allocated before")
		}
	}
}

// TestRuleAcksAllPartial: with acks=all, a rule that refuses one batch of
// a request leaves the others to wait for replication, and the answer
// comes once they are replicated, or at request.timeout.ms.
func TestRuleAcksAllPartial(t *testing.T) {
	for _, timeout := range []sim.Time{requestTimeout, 50 * sim.Millisecond} {
		h := newHarness(t, DefaultConfig(), Topic{Name: "t", Partitions: 2, ReplicationFactor: 3, MinInsyncReplicas: 2})
		h.connect(1)
		r := Rule{API: APIProduce, Topic: 0, Partition: 1, Error: ErrTopicAuthorizationFailed, Count: 1}
		h.c.AddRule(1, &r)
		mine, other := h.batch(2), h.batch(1)
		other.Partition = 1
		h.nextID++
		id := h.nextID
		if timeout < requestTimeout {
			h.isolate(2)
			h.isolate(3)
		}
		h.w.Net.Send(h.cid, 1, NewProduceRequest(testConn, id, -1, timeout, []ProduceBatch{mine, other}))
		h.runUntil(sim.Second, "answer", func() bool { return h.answered(id) != nil })
		resp := h.answered(id)
		require.Len(t, resp.Partitions, 2)
		assert.Equal(t, ErrTopicAuthorizationFailed, resp.Partitions[1].Error)
		if timeout < requestTimeout {
			assert.Equal(t, ErrRequestTimedOut, resp.Partitions[0].Error, "the followers are cut off")
		} else {
			assert.Equal(t, ErrNone, resp.Partitions[0].Error)
		}
		assert.Equal(t, 1, r.Fired)
	}
}

// TestRuleAddPartitionsAfterFilters: a rule on AddPartitionsToTxn answers
// that fires after the coordinator handled the request still matches only
// requests that name its partition.
func TestRuleAddPartitionsAfterFilters(t *testing.T) {
	h := newTxnHarness(t, tv1Config())
	pid := h.initPID(h.a, 2, txnTimeoutMs).ProducerID
	o1 := h.orders[1] // orders-1: topic 0, partition 1
	r := Rule{API: APIAddPartitionsToTxn, Topic: 0, Partition: 1,
		Error: ErrTopicAuthorizationFailed, After: true, Count: 1}
	h.c.AddRule(2, &r)
	assert.Equal(t, ErrNone, h.addPartitions(h.a, 2, pid, 0, h.orders[0]).Error, "another partition")
	assert.Zero(t, r.Fired)
	assert.Equal(t, ErrTopicAuthorizationFailed, h.addPartitions(h.a, 2, pid, 0, o1).Error)
	assert.Equal(t, 1, r.Fired)
}
