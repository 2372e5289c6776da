package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// TestQueuedRequestStartsInItsOwnEvent: a connection handles one request
// at a time. The request queued behind an acks=all produce starts after
// the first one's response went out, from an event of its own
// (SocketServer.Processor unmutes the channel once the response is sent
// and reads the next request in a later poll), never inside the handler
// that answered the first.
func TestQueuedRequestStartsInItsOwnEvent(t *testing.T) {
	h := newHarness(t, DefaultConfig(), testTopic(1, false))
	h.connect(1)
	first := h.produce(1, -1, requestTimeout, h.batch(2))
	second := h.produce(1, -1, requestTimeout, h.batch(3))
	cc := h.c.Brokers[1].client(h.cid)
	h.runUntil(sim.Second, "the second request queued", func() bool { return len(cc.queue) == 1 })
	require.Equal(t, int64(2), h.leo(1), "the first request is appended and waits for the followers")
	require.Less(t, h.hw(1), int64(2))

	// Step event by event: the event that answers the first request (the
	// HW reaches 2) must not append the second.
	answered := false
	for !answered && h.w.Step(h.now()+sim.Second) {
		if h.hw(1) >= 2 {
			answered = true
			assert.Equal(t, int64(2), h.leo(1), "the second request was appended in the event that answered the first")
			assert.True(t, cc.busy, "the connection stays muted until its next request starts")
			assert.Len(t, cc.queue, 1)
		}
	}
	require.True(t, answered, "the first request was never answered")
	h.runUntil(sim.Second, "the second request appended", func() bool { return h.leo(1) == 5 })
	assert.Empty(t, cc.queue)
	assert.Equal(t, ErrNone, h.await(first, sim.Second).Error)
	assert.Equal(t, ErrNone, h.await(second, sim.Second).Error)
}
