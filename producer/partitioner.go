package producer

import (
	"math/rand/v2"
	"sort"
)

// stickyPartitioner is the Java client's built-in partitioner for records
// without a key (BuiltInPartitioner, KIP-794, Kafka 3.3+). It sends every
// keyless record to one partition until about batch.size bytes went there,
// then picks the next partition at random: uniformly among partitions with a
// leader, or, with partitioner.adaptive.partitioning.enable, weighted
// towards partitions with shorter queues.
type stickyPartitioner struct {
	batchSize int
	rng       *rand.Rand
	current   int // -1 before the first pick
	produced  int // bytes appended to current

	// Load stats from the last readiness check (updatePartitionLoadStats):
	// a cumulative frequency table over partition ids, or nil for uniform.
	cft []int
	ids []int
}

func newStickyPartitioner(batchSize int, rng *rand.Rand) *stickyPartitioner {
	return &stickyPartitioner{batchSize: max(1, batchSize), rng: rng, current: -1}
}

// random is Utils.toPositive(ThreadLocalRandom.nextInt()), from the
// simulator's seeded stream.
func (s *stickyPartitioner) random() int { return int(toPositive(int32(s.rng.Uint32()))) }

// peek is peekCurrentPartitionInfo: the sticky partition, picking one if
// there is none yet.
func (s *stickyPartitioner) peek(available func() []int, all int) int {
	if s.current < 0 {
		s.current = s.next(available(), all)
		s.produced = 0
	}
	return s.current
}

// next is nextPartition. Unlike the older KIP-480 sticky partitioner it may
// pick the same partition again.
func (s *stickyPartitioner) next(available []int, all int) int {
	r := s.random()
	if s.cft == nil {
		if len(available) > 0 {
			return available[r%len(available)]
		}
		return r % all
	}
	weighted := r % s.cft[len(s.cft)-1]
	// The first entry strictly greater than weighted.
	i := sort.Search(len(s.cft), func(i int) bool { return s.cft[i] > weighted })
	return s.ids[i]
}

// update is updatePartitionInfo: count appended bytes and switch once
// batch.size bytes went to the partition and its last batch is full, or
// unconditionally at twice batch.size. peek and update list the available
// partitions only when they pick one, a few times a batch rather than for
// every record, as BuiltInPartitioner.nextPartition asks the cluster for
// them only then.
func (s *stickyPartitioner) update(appended int, enableSwitch bool, available func() []int, all int) {
	s.produced += appended
	if (s.produced >= s.batchSize && enableSwitch) || s.produced >= 2*s.batchSize {
		s.current = s.next(available(), all)
		s.produced = 0
	}
}

// updateLoadStats is updatePartitionLoadStats. queueSizes[i] is the deque
// length of partition ids[i], for the partitions that have a leader; total
// is the number of partitions with a deque. With fewer than two partitions,
// or all queues equal, the choice stays uniform. Otherwise each partition
// is weighted by (longest queue + 1 - its queue).
func (s *stickyPartitioner) updateLoadStats(queueSizes, ids []int, total int) {
	n := len(queueSizes)
	s.cft, s.ids = s.cft[:0], s.ids[:0]
	if queueSizes == nil || n < 1 || total < 2 {
		s.cft = nil
		return
	}
	maxPlus1, allEqual := queueSizes[0], true
	for _, q := range queueSizes[1:] {
		if q != maxPlus1 {
			allEqual = false
		}
		maxPlus1 = max(maxPlus1, q)
	}
	maxPlus1++
	if allEqual && n == total {
		s.cft = nil
		return
	}
	sum := 0
	for i, q := range queueSizes {
		sum += maxPlus1 - q
		s.cft = append(s.cft, sum)
		s.ids = append(s.ids, ids[i])
	}
}
