package producer

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptedSource feeds rand.Rand the draws a test chooses: Rand.Uint32 is
// the top half of Source.Uint64, so each value v comes out of Uint32 as v.
type scriptedSource struct {
	vals []uint32
	used int
}

func (s *scriptedSource) Uint64() uint64 {
	v := s.vals[s.used] // out of range: the code drew more than the test expected
	s.used++
	return uint64(v) << 32
}

func scripted(vals ...uint32) (*rand.Rand, *scriptedSource) {
	src := &scriptedSource{vals: vals}
	return rand.New(src), src
}

// TestStickyUpdateSwitch: BuiltInPartitioner.updatePartitionInfo switches
// once producedBytes >= batch.size and the partition's last batch is full
// (enableSwitch), and unconditionally at 2 x batch.size (reference §3.3,
// fact 26). The produced count restarts at 0 after a switch.
func TestStickyUpdateSwitch(t *testing.T) {
	tests := []struct {
		name     string
		appends  []int // bytes of successive appends
		enable   bool
		switched bool
		produced int
	}{
		{"below batch.size", []int{99}, true, false, 99},
		{"at batch.size, last batch full", []int{100}, true, true, 0},
		{"accumulates to batch.size", []int{60, 40}, true, true, 0},
		{"at batch.size, last batch not full", []int{100}, false, false, 100},
		{"just below 2x, not full", []int{120, 79}, false, false, 199},
		{"forced at 2x batch.size", []int{120, 80}, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng, src := scripted(2)
			s := newStickyPartitioner(100, rng)
			s.current = 0
			for _, n := range tt.appends {
				s.update(n, tt.enable, availableList(0, 1, 2, 3), 4)
			}
			if tt.switched {
				assert.Equal(t, 2, s.current, "the draw 2 picks available[2]")
				assert.Equal(t, 1, src.used)
			} else {
				assert.Equal(t, 0, s.current)
				assert.Equal(t, 0, src.used, "no switch, no draw")
			}
			assert.Equal(t, tt.produced, s.produced)
		})
	}
}

// TestStickyBatchSizeZero: the accumulator gives the partitioner
// max(1, batch.size) (RecordAccumulator), so with batch.size=0 the
// zero-byte update of RecordAccumulator.partitionChanged does not switch
// (0 < 1), while the first appended byte does.
func TestStickyBatchSizeZero(t *testing.T) {
	rng, src := scripted(1)
	s := newStickyPartitioner(0, rng)
	s.current = 0
	s.update(0, true, availableList(0, 1), 2)
	assert.Equal(t, 0, s.current, "no bytes produced yet")
	assert.Equal(t, 0, src.used)
	s.update(1, true, availableList(0, 1), 2)
	assert.Equal(t, 1, s.current)
	assert.Equal(t, 1, src.used)
}

// TestStickyPeekPicksOnce: peekCurrentPartitionInfo picks a partition on
// first use and then keeps it.
func TestStickyPeekPicksOnce(t *testing.T) {
	rng, src := scripted(5)
	s := newStickyPartitioner(100, rng)
	assert.Equal(t, 2, s.peek(availableList(0, 1, 2), 3), "5 %% 3 = 2")
	assert.Equal(t, 2, s.peek(availableList(0, 1, 2), 3))
	assert.Equal(t, 1, src.used)
}

// TestStickyNextUniform: without load stats, BuiltInPartitioner.nextPartition
// takes availablePartitions[random % n], or random % all when none has a
// leader. random is Utils.toPositive(nextInt()), so a draw with the sign
// bit set loses that bit instead of being negated.
func TestStickyNextUniform(t *testing.T) {
	tests := []struct {
		name      string
		draw      uint32
		available []int
		all       int
		want      int
	}{
		{"first available", 0, []int{1, 3, 5}, 6, 1},
		{"second available", 1, []int{1, 3, 5}, 6, 3},
		{"wraps", 5, []int{1, 3, 5}, 6, 5},
		// toPositive(-2) = 2147483646, % 3 = 0; Math.abs would give 2.
		{"sign bit cleared", 0xFFFFFFFE, []int{1, 3, 5}, 6, 1},
		{"no available: all partitions", 7, nil, 4, 3},
		// Unlike KIP-480's StickyPartitionCache, the same partition may come
		// again: nothing excludes the current one.
		{"single available", 9, []int{4}, 6, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng, _ := scripted(tt.draw)
			s := newStickyPartitioner(100, rng)
			assert.Equal(t, tt.want, s.next(tt.available, tt.all))
		})
	}
}

// TestStickyLoadStatsExample: the example of reference §3.3 and
// BuiltInPartitioner.updatePartitionLoadStats: queue sizes 0 3 1 give
// weights 4 1 3 and the cumulative frequency table 4 5 8. nextPartition then
// takes the first entry greater than random % 8: 0-3 -> the first
// partition, 4 -> the second, 5-7 -> the third.
func TestStickyLoadStatsExample(t *testing.T) {
	s := newStickyPartitioner(100, nil)
	s.updateLoadStats([]int{0, 3, 1}, []int{10, 11, 12}, 3)
	require.Equal(t, []int{4, 5, 8}, s.cft)
	require.Equal(t, []int{10, 11, 12}, s.ids)

	wants := []int{10, 10, 10, 10, 11, 12, 12, 12, 10}
	for draw, want := range wants { // draw 8 wraps: 8 % 8 = 0
		rng, _ := scripted(uint32(draw))
		s.rng = rng
		assert.Equal(t, want, s.next([]int{10, 11, 12}, 3), "draw %d", draw)
	}
}

// TestStickyLoadStats: when updatePartitionLoadStats keeps uniform choice
// (cft nil) and when it builds a table.
func TestStickyLoadStats(t *testing.T) {
	tests := []struct {
		name   string
		queues []int
		ids    []int
		total  int
		cft    []int
	}{
		{"no stats", nil, nil, 3, nil},
		// "if we have less than 2 partitions, there is no need to do adaptive logic"
		{"one partition", []int{4}, []int{0}, 1, nil},
		{"no partition left", []int{}, []int{}, 3, nil},
		{"all queues equal", []int{2, 2, 2}, []int{0, 1, 2}, 3, nil},
		{"all empty", []int{0, 0, 0, 0}, []int{0, 1, 2, 3}, 4, nil},
		// Equal queues, but a partition with a deque was left out (no
		// leader): the table is still built, weight max+1-q = 1 each.
		{"equal but one excluded", []int{2, 2, 2}, []int{0, 1, 3}, 4, []int{1, 2, 3}},
		{"two partitions", []int{5, 0}, []int{0, 1}, 2, []int{1, 7}},
		// The all-equal test compares with the running maximum, as Java does.
		{"rising queues", []int{0, 1, 1}, []int{0, 1, 2}, 3, []int{2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStickyPartitioner(100, nil)
			s.updateLoadStats(tt.queues, tt.ids, tt.total)
			if tt.cft == nil {
				assert.Nil(t, s.cft)
			} else {
				assert.Equal(t, tt.cft, s.cft)
				assert.Equal(t, tt.ids, s.ids)
			}
		})
	}
}

// TestStickyLoadStatsReset: stats from an earlier readiness check are
// dropped when the queues even out, so the choice turns uniform again.
func TestStickyLoadStatsReset(t *testing.T) {
	s := newStickyPartitioner(100, nil)
	s.updateLoadStats([]int{0, 3, 1}, []int{0, 1, 2}, 3)
	require.NotNil(t, s.cft)
	s.updateLoadStats([]int{1, 1, 1}, []int{0, 1, 2}, 3)
	assert.Nil(t, s.cft)

	// Uniform again: draw 7 over three available partitions is 7 % 3 = 1;
	// the old table 4 5 8 would have mapped 7 % 8 = 7 to partition 2.
	rng, _ := scripted(7)
	s.rng = rng
	assert.Equal(t, 1, s.next([]int{0, 1, 2}, 3))
}

// TestStickyAdaptiveFavoursShortQueues: over many seeded draws the weighted
// choice follows the weights 4:1:3 of the §3.3 example.
func TestStickyAdaptiveFavoursShortQueues(t *testing.T) {
	s := newStickyPartitioner(100, rand.New(rand.NewPCG(1, 2)))
	s.updateLoadStats([]int{0, 3, 1}, []int{0, 1, 2}, 3)
	counts := make([]int, 3)
	const n = 80000
	for range n {
		counts[s.next([]int{0, 1, 2}, 3)]++
	}
	assert.InDelta(t, 4.0/8, float64(counts[0])/n, 0.01)
	assert.InDelta(t, 1.0/8, float64(counts[1])/n, 0.01)
	assert.InDelta(t, 3.0/8, float64(counts[2])/n, 0.01)
}

// availableList is a fixed list of available partitions, as peek and update ask for
// them.
func availableList(ids ...int) func() []int { return func() []int { return ids } }
