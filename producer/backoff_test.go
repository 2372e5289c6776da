package producer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/sim"
)

// backoffProducer is just enough of a Producer to call backoff: the
// configuration and the seeded random stream the real one gets from its
// world.
func backoffProducer(t *testing.T, seed uint64, props map[string]string) *Producer {
	t.Helper()
	cfg, err := NewConfig(props)
	require.NoError(t, err)
	return &Producer{cfg: cfg, rng: sim.NewWorld(seed).Stream("producer-1")}
}

// TestBackoffDefaults: with retry.backoff.ms=100 and retry.backoff.max.ms=1000,
// ExponentialBackoff(100, 2, 1000, 0.2).backoff(n) is
// (long)(U[0.8,1.2) x 100 x 2^min(n, log2(10))) capped at 1000: about 100,
// 200, 400, 800, then 1000 (KIP-580; CommonClientConfigs
// RETRY_BACKOFF_EXP_BASE=2, RETRY_BACKOFF_JITTER=0.2; fact 16).
func TestBackoffDefaults(t *testing.T) {
	tests := []struct {
		attempts int
		lo, hi   int64 // every draw in [lo, hi] ms
	}{
		{0, 80, 119},
		{1, 160, 239},
		{2, 320, 479},
		{3, 640, 959},
		// 100 x 2^log2(10) = 1000 ms, jittered to [800, 1200), capped.
		{4, 800, 1000},
		{5, 800, 1000},
		{6, 800, 1000},
	}
	p := backoffProducer(t, 42, nil)
	for _, tt := range tests {
		lo, hi := sim.Millis(tt.lo), sim.Millis(tt.hi)
		minSeen, maxSeen := sim.Never, sim.Time(0)
		for range 2000 {
			d := p.backoff(tt.attempts)
			require.Zero(t, d%sim.Millisecond, "backoffs are whole milliseconds (a long)")
			minSeen, maxSeen = min(minSeen, d), max(maxSeen, d)
		}
		assert.GreaterOrEqual(t, minSeen, lo, "attempts %d", tt.attempts)
		assert.LessOrEqual(t, maxSeen, hi, "attempts %d", tt.attempts)
		// The jitter is really there: the draws spread over the range.
		spread := (tt.hi - tt.lo) / 10
		assert.Less(t, minSeen, lo+sim.Millis(spread), "attempts %d: no low draws", tt.attempts)
		assert.Greater(t, maxSeen, hi-sim.Millis(spread), "attempts %d: no high draws", tt.attempts)
		if tt.attempts >= 4 {
			assert.Equal(t, sim.Millis(1000), maxSeen, "capped at retry.backoff.max.ms")
		}
	}
}

// TestBackoffConstantWhenInitialReachesMax: ExponentialBackoff with
// initialInterval >= maxInterval has expMax = 0 and always returns
// min(initial, max), without jitter ("A static backoff with value
// retry.backoff.max.ms will be applied", CommonClientConfigs.warnDisablingExponentialBackoff).
func TestBackoffConstantWhenInitialReachesMax(t *testing.T) {
	tests := []struct {
		name    string
		initial string
		max     string
		want    sim.Time
	}{
		{"initial above max", "2000", "1000", sim.Millis(1000)},
		{"initial equals max", "500", "500", sim.Millis(500)},
		{"both zero", "0", "0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backoffProducer(t, 7, map[string]string{"retry.backoff.ms": tt.initial, "retry.backoff.max.ms": tt.max})
			for n := range 8 {
				assert.Equal(t, tt.want, p.backoff(n), "attempts %d", n)
			}
		})
	}
}

// TestBackoffZeroInitial: retry.backoff.ms=0 makes every term 0, so no
// backoff at all whatever the max.
func TestBackoffZeroInitial(t *testing.T) {
	p := backoffProducer(t, 7, map[string]string{"retry.backoff.ms": "0"})
	for n := range 8 {
		assert.Equal(t, sim.Time(0), p.backoff(n), "attempts %d", n)
	}
}

// TestBackoffDeterministic: the jitter comes from the world's seeded stream,
// so a seed replays the same backoffs and another seed gives others.
func TestBackoffDeterministic(t *testing.T) {
	draw := func(seed uint64) []sim.Time {
		p := backoffProducer(t, seed, nil)
		out := make([]sim.Time, 20)
		for i := range out {
			out[i] = p.backoff(i % 4)
		}
		return out
	}
	assert.Equal(t, draw(1), draw(1))
	assert.NotEqual(t, draw(1), draw(2))
}
