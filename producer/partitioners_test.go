package producer

import (
	"cmp"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newPartitioner(t *testing.T, name string, seed uint64) Partitioner {
	t.Helper()
	newFn, ok := lookupPartitioner(name, nil)
	require.True(t, ok, "%s is built in", name)
	require.NotNil(t, newFn, "%s has a constructor", name)
	return newFn(rand.New(rand.NewPCG(seed, 0)))
}

func allOf(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// TestHashes0048: the hash values librdkafka tests/0048-partitioner.c
// expects (reference §3.5): CRC-32 for consistent, FNV-1a made
// non-negative for fnv1a. The empty key's FNV-1a is rdfnv1a.c's unit test
// value.
func TestHashes0048(t *testing.T) {
	tests := []struct {
		key        string
		crc, fnv1a uint32
	}{
		{"", 0, 0x7ee3623b},
		{"23456", 0xb1b451d7, 0x27e6f469},
		{"this is another string with more length to it perhaps", 0xb0150df7, 0x155e3e5f},
		{"hejsan", 0xd077037e, 0x17b1e27a},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			// Bound 2^32-1 so that the modulo is the identity.
			assert.Equal(t, int(tt.crc), CRC32Partition([]byte(tt.key), 1<<32-1))
			assert.Equal(t, tt.fnv1a, FNV1aLibrdkafka([]byte(tt.key)))
		})
	}
}

// TestClientDefaultPlacements: the placement table of reference §3.5 for
// 6 and 12 partitions, plus "hejsan" over 17 and 7 (fact 24) and "key"
// over 6 (fact 25: Sarama 4, Java 1).
func TestClientDefaultPlacements(t *testing.T) {
	tests := []struct {
		key                      string
		n                        int
		java, librdkafka, sarama int
	}{
		{"key", 6, 1, 1, 4},
		{"key", 12, 1, 1, 4},
		{"foo", 6, 2, 5, 1},
		{"foo", 12, 8, 5, 1},
		{"order-1001", 6, 0, 3, 0},
		{"order-1001", 12, 6, 9, 0},
		{"hejsan", 6, 1, 0, 2},
		{"hejsan", 12, 1, 6, 2},
		{"hello", 6, 3, 4, 3},
		{"hello", 12, 9, 10, 3},
		{"hejsan", 17, 5, 14, 4},
		{"hejsan", 7, 6, 3, 3},
	}
	for _, tt := range tests {
		r := PartitionRequest{Topic: "t", Key: []byte(tt.key), Partitions: tt.n, Available: allOf(tt.n)}
		lk := newPartitioner(t, DefaultPartitionerName(ClientLibrdkafka), 1)
		sa := newPartitioner(t, DefaultPartitionerName(ClientSarama), 1)
		assert.Equal(t, tt.java, KeyPartition(r.Key, tt.n), "java %q/%d", tt.key, tt.n)
		assert.Equal(t, tt.librdkafka, lk.Partition(r), "librdkafka %q/%d", tt.key, tt.n)
		assert.Equal(t, tt.sarama, sa.Partition(r), "sarama %q/%d", tt.key, tt.n)
	}
}

// TestLibrdkafka0048: the expected partitions of every librdkafka
// partitioner in tests/0048-partitioner.c, for 17 and 7 partitions
// (-1: random, any partition). The keys cover NULL, empty and two
// lengths, which is where the partitioners differ.
func TestLibrdkafka0048(t *testing.T) {
	keys := [][]byte{nil, {}, []byte("23456"), []byte("this is another string with more length to it perhaps"), []byte("hejsan")}
	tests := []struct {
		name   string
		hashes [5]int64 // expected hash per key, -1 for random
	}{
		{PartitionerLibrdkafkaRandom, [5]int64{-1, -1, -1, -1, -1}},
		{PartitionerLibrdkafkaConsistent, [5]int64{0, 0, 0xb1b451d7, 0xb0150df7, 0xd077037e}},
		{PartitionerLibrdkafkaConsistentRandom, [5]int64{-1, -1, 0xb1b451d7, 0xb0150df7, 0xd077037e}},
		{PartitionerLibrdkafkaMurmur2, [5]int64{0x106e08d9, 0x106e08d9, 0x058d780f, 0x4f7703da, 0x5ec19395}},
		{PartitionerLibrdkafkaMurmur2Random, [5]int64{-1, 0x106e08d9, 0x058d780f, 0x4f7703da, 0x5ec19395}},
		{PartitionerLibrdkafkaFNV1a, [5]int64{0x7ee3623b, 0x7ee3623b, 0x27e6f469, 0x155e3e5f, 0x17b1e27a}},
		{PartitionerLibrdkafkaFNV1aRandom, [5]int64{-1, 0x7ee3623b, 0x27e6f469, 0x155e3e5f, 0x17b1e27a}},
	}
	for _, tt := range tests {
		for _, n := range []int{17, 7} {
			p := newPartitioner(t, tt.name, 7)
			for i, key := range keys {
				got := p.Partition(PartitionRequest{Topic: "t", Key: key, Partitions: n, Available: allOf(n)})
				if tt.hashes[i] < 0 {
					assert.True(t, got >= 0 && got < n, "%s key %q over %d: %d out of range", tt.name, key, n, got)
					continue
				}
				assert.Equal(t, int(tt.hashes[i]%int64(n)), got, "%s key %q over %d", tt.name, key, n)
			}
		}
	}
}

// TestLibrdkafkaRandomKeysAreRandom: the -1 entries above really vary:
// a keyed record under random, and an empty key under consistent_random
// without stickiness, spread over the partitions.
func TestLibrdkafkaRandomKeysAreRandom(t *testing.T) {
	tests := []struct {
		name   string
		kind   rdKind
		key    []byte
		linger time.Duration
	}{
		{"random keyed", rdRandom, []byte("k"), librdkafkaStickyLinger},
		{"consistent_random empty key, sticky off", rdConsistentRandom, []byte{}, 0},
		{"murmur2_random NULL key, sticky off", rdMurmur2Random, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &librdkafka{kind: tt.kind, rng: rand.New(rand.NewPCG(3, 0)), linger: tt.linger, stickyTopic: map[string]*rdSticky{}}
			seen := map[int]bool{}
			for range 200 {
				seen[p.Partition(PartitionRequest{Topic: "t", Key: tt.key, Partitions: 4, Available: allOf(4)})] = true
			}
			assert.Len(t, seen, 4)
		})
	}
}

// TestLibrdkafkaStickyFollowsTime: a keyless record (and, for
// consistent_random, an empty key) keeps the sticky partition for
// sticky.partitioning.linger.ms (10 ms) and gets a new random one after.
func TestLibrdkafkaStickyFollowsTime(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"NULL key", nil},
		{"empty key", []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPartitioner(t, PartitionerLibrdkafkaConsistentRandom, 11)
			at := func(now time.Duration) int {
				return p.Partition(PartitionRequest{Topic: "t", Key: tt.key, Partitions: 12, Available: allOf(12), Now: now})
			}
			first := at(0)
			for now := time.Duration(0); now <= librdkafkaStickyLinger; now += time.Millisecond {
				require.Equal(t, first, at(now), "sticky within linger, at %v", now)
			}
			// Over 100 later 11 ms windows the sticky partition must move:
			// a uniform pick over 12 repeats itself each time with
			// probability 1/12 only.
			seen := map[int]bool{first: true}
			for i := 1; i <= 100; i++ {
				seen[at(time.Duration(i)*(librdkafkaStickyLinger+time.Millisecond))] = true
			}
			assert.Greater(t, len(seen), 6)
		})
	}
}

// TestLibrdkafkaStickyLeavesLeaderlessPartition: a sticky partition that
// lost its leader is re-picked on the next record (rd_interval_expedite),
// without waiting for the linger to pass. The pick may land on the
// leaderless partition again (the random partitioner's retry is
// unchecked), but then the next record re-picks once more, so within a
// few records the sticky partition is a led one and stays.
func TestLibrdkafkaStickyLeavesLeaderlessPartition(t *testing.T) {
	p := newPartitioner(t, PartitionerLibrdkafkaConsistentRandom, 5)
	first := p.Partition(PartitionRequest{Topic: "t", Partitions: 3, Available: []int{0, 1, 2}})
	var rest []int
	for _, id := range []int{0, 1, 2} {
		if id != first {
			rest = append(rest, id)
		}
	}
	var got []int
	for i := range 20 {
		got = append(got, p.Partition(PartitionRequest{Topic: "t", Partitions: 3, Available: rest, Now: time.Duration(i) * time.Microsecond}))
	}
	settled := got[10:]
	assert.Contains(t, rest, settled[0])
	for _, g := range settled {
		assert.Equal(t, settled[0], g, "sticky once led: %v", got)
	}
}

// TestLibrdkafkaRandomRetriesOnce: rd_kafka_msg_partitioner_random draws
// again only once if its first pick has no leader, so with one partition
// of four available, about 1/4 + 3/4 * 1/4 of picks land there, not all.
func TestLibrdkafkaRandomRetriesOnce(t *testing.T) {
	p := newPartitioner(t, PartitionerLibrdkafkaRandom, 9)
	hits := 0
	const n = 4000
	for range n {
		if p.Partition(PartitionRequest{Topic: "t", Key: []byte("k"), Partitions: 4, Available: []int{2}}) == 2 {
			hits++
		}
	}
	assert.InDelta(t, 7.0/16, float64(hits)/n, 0.03)
}

// roundRobinCounts sends records through p the way KafkaProducer.doSend
// does with abortOnNewBatch and linger.ms=0: every record needs a new
// batch, so it is partitioned, OnNewBatch is called, and it is
// partitioned again; the second answer counts.
func roundRobinCounts(p Partitioner, partitions []int, n, records int) []int {
	counts := make([]int, n)
	r := PartitionRequest{Topic: "t", Partitions: n, Available: partitions}
	for range records {
		first := p.Partition(r)
		if l, ok := p.(NewBatchListener); ok {
			l.OnNewBatch(r, first)
		}
		counts[p.Partition(r)]++
	}
	return counts
}

// TestRoundRobinDoubleCall: KAFKA-16283. With 4 partitions and every
// record opening a batch, the pre-fix partitioner skips every other
// partition; the KAFKA-17632 fix gives each partition a quarter.
func TestRoundRobinDoubleCall(t *testing.T) {
	tests := []struct {
		name string
		want []int
	}{
		{PartitionerRoundRobin, []int{25, 25, 25, 25}},
		{PartitionerRoundRobinPreFix, []int{0, 50, 0, 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPartitioner(t, tt.name, 1)
			assert.Equal(t, tt.want, roundRobinCounts(p, allOf(4), 4, 100))
		})
	}
}

// TestRoundRobinSingleCall: records that fit the open batch are
// partitioned once; both versions then step through the partitions.
func TestRoundRobinSingleCall(t *testing.T) {
	for _, name := range []string{PartitionerRoundRobin, PartitionerRoundRobinPreFix} {
		p := newPartitioner(t, name, 1)
		var got []int
		for range 6 {
			got = append(got, p.Partition(PartitionRequest{Topic: "t", Partitions: 3, Available: allOf(3)}))
		}
		assert.Equal(t, []int{0, 1, 2, 0, 1, 2}, got, name)
	}
}

// TestRoundRobinAvailability: the counter indexes the available
// partitions, or all of them when none has a leader
// (RoundRobinPartitioner.partition).
func TestRoundRobinAvailability(t *testing.T) {
	p := newPartitioner(t, PartitionerRoundRobin, 1)
	var got []int
	for _, avail := range [][]int{{1, 4}, {1, 4}, {1, 4}, nil, nil} {
		got = append(got, p.Partition(PartitionRequest{Topic: "t", Partitions: 5, Available: avail}))
	}
	// Counter values 0..4: 0%2→1, 1%2→4, 2%2→1, then 3%5, 4%5.
	assert.Equal(t, []int{1, 4, 1, 3, 4}, got)
}

// TestRoundRobinFixForgetsOtherTopic: the remembered partition belongs to
// one topic; a partition() call for another topic clears it and counts
// normally (KAFKA-17632 keys it by TopicPartition).
func TestRoundRobinFixForgetsOtherTopic(t *testing.T) {
	p := newPartitioner(t, PartitionerRoundRobin, 1)
	a := PartitionRequest{Topic: "a", Partitions: 4, Available: allOf(4)}
	b := PartitionRequest{Topic: "b", Partitions: 4, Available: allOf(4)}
	require.Equal(t, 0, p.Partition(a))
	p.(NewBatchListener).OnNewBatch(a, 0)
	assert.Equal(t, 0, p.Partition(b), "b's own counter")
	assert.Equal(t, 1, p.Partition(a), "a's memory was dropped, its counter moves on")
}

// TestRoundRobinCounterWraps: the Java int counter overflows to negative
// values and Utils.toPositive maps them back into range.
func TestRoundRobinCounterWraps(t *testing.T) {
	p := &roundRobin{counters: map[string]int32{"t": 2147483647}}
	r := PartitionRequest{Topic: "t", Partitions: 3, Available: allOf(3)}
	assert.Equal(t, 2147483647%3, p.Partition(r))
	assert.Equal(t, 0, p.Partition(r), "toPositive(MinInt32) = 0")
}

// TestSaramaHashVariants: NewHashPartitioner negates a negative remainder,
// NewReferenceHashPartitioner clears the sign bit first, so they part
// ways on keys whose FNV-1a is negative as an int32.
func TestSaramaHashVariants(t *testing.T) {
	tests := []struct {
		key             string
		n               int
		hash, reference int
	}{
		// Values computed independently with Python's FNV-1a 32.
		{"key", 6, 4, 4},        // 0x6815c86c, positive: both agree
		{"23456", 7, 5, 5},      // 0x27e6f469
		{"kafka", 10, 5, 5},     // 0x0d33c4e1
		{"hejsan", 17, 4, 5},    // 0xe84e1d86, negative as int32
		{"hejsan", 7, 3, 6},     // same hash
		{"", 6, 3, 5},           // 0x811c9dc5, the FNV offset basis
		{"order-1001", 6, 0, 2}, // 0x916f3d8c
	}
	for _, tt := range tests {
		assert.Equal(t, tt.hash, FNV1aPartitionSarama([]byte(tt.key), tt.n), "hash %q/%d", tt.key, tt.n)
		assert.Equal(t, tt.reference, FNV1aPartitionSaramaReference([]byte(tt.key), tt.n), "reference %q/%d", tt.key, tt.n)
		// rdfnv1a.c says its fnv1a matches Sarama's default.
		assert.Equal(t, tt.hash, FNV1aPartitionLibrdkafka([]byte(tt.key), tt.n), "librdkafka %q/%d", tt.key, tt.n)
	}
}

// TestSaramaKeylessUsesWritable: Sarama offers keyless (hash) and
// random/round-robin records only the writable partitions.
func TestSaramaKeylessUsesWritable(t *testing.T) {
	for _, name := range []string{PartitionerSaramaHash, PartitionerSaramaReferenceHash, PartitionerSaramaRandom, PartitionerSaramaRoundRobin} {
		p := newPartitioner(t, name, 2)
		seen := map[int]bool{}
		for range 100 {
			seen[p.Partition(PartitionRequest{Topic: "t", Partitions: 6, Available: []int{1, 3}})] = true
		}
		assert.Equal(t, map[int]bool{1: true, 3: true}, seen, name)
	}
}

// TestSaramaRoundRobin: NewRoundRobinPartitioner steps through the
// writable partitions and restarts at index 0 when their count shrinks
// below its index.
func TestSaramaRoundRobin(t *testing.T) {
	p := newPartitioner(t, PartitionerSaramaRoundRobin, 1)
	var got []int
	for _, avail := range [][]int{{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}, {2, 5}, {2, 5}} {
		got = append(got, p.Partition(PartitionRequest{Topic: "t", Key: []byte("ignored"), Partitions: 6, Available: avail}))
	}
	assert.Equal(t, []int{0, 1, 2, 2, 5}, got)
}

func TestPartitionerClasses(t *testing.T) {
	mine := func(*rand.Rand) Partitioner { return &roundRobin{counters: map[string]int32{}} }
	class := PartitionerClass{Name: "com.example.Mine", New: mine}
	tests := []struct {
		name    string
		class   string
		classes []PartitionerClass
		wantErr string
	}{
		{"built-in by default", "", nil, ""},
		{"built-in by name", PartitionerBuiltIn, nil, ""},
		{"a class passed in", "com.example.Mine", []PartitionerClass{class}, ""},
		{"a class not passed in", "com.example.Mine", nil,
			"Invalid value com.example.Mine for configuration partitioner.class: Class com.example.Mine could not be found; the partitioners: built-in, librdkafka:"},
		{"the list names the classes passed in", "com.example.Other", []PartitionerClass{class}, "sarama:roundrobin, com.example.Mine"},
		{"no name", "", []PartitionerClass{{New: mine}}, "a partitioner class has no name"},
		{"no constructor", "", []PartitionerClass{{Name: "com.example.Nil"}}, "partitioner class com.example.Nil has a nil New"},
		{"a built-in name", "", []PartitionerClass{{Name: PartitionerSaramaHash, New: mine}}, "partitioner class sarama:hash is built in"},
		{"twice", "", []PartitionerClass{class, class}, "partitioner class com.example.Mine is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{}
			if tt.class != "" {
				props["partitioner.class"] = tt.class
			}
			c, err := NewConfig(props, tt.classes...)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, cmp.Or(tt.class, PartitionerBuiltIn), c.Effective()["partitioner.class"])
			assert.Equal(t, tt.class == "com.example.Mine", c.newPartitioner != nil, "only a class has a constructor")
		})
	}
}

func TestPartitionerNames(t *testing.T) {
	names := PartitionerNames()
	assert.IsNonDecreasing(t, names)
	for _, want := range []string{
		PartitionerBuiltIn, PartitionerRoundRobin, PartitionerRoundRobinPreFix,
		"librdkafka:random", "librdkafka:consistent", "librdkafka:consistent_random",
		"librdkafka:murmur2", "librdkafka:murmur2_random", "librdkafka:fnv1a", "librdkafka:fnv1a_random",
		"sarama:hash", "sarama:reference-hash", "sarama:random", "sarama:roundrobin",
	} {
		assert.Contains(t, names, want)
	}
	assert.Equal(t, "org.apache.kafka.clients.producer.RoundRobinPartitioner", PartitionerRoundRobin)
	assert.Equal(t, "org.apache.kafka.clients.producer.RoundRobinPartitioner@3.8", PartitionerRoundRobinPreFix)
}

// TestPartitionersAreDeterministic: the same seed gives the same choices.
func TestPartitionersAreDeterministic(t *testing.T) {
	for _, name := range PartitionerNames() {
		if name == PartitionerBuiltIn {
			continue // the producer's own: TestStories and the lessons pin it
		}
		run := func() []int {
			p := newPartitioner(t, name, 42)
			var got []int
			for i := range 50 {
				var key []byte
				if i%3 == 0 {
					key = []byte{byte(i)}
				}
				got = append(got, p.Partition(PartitionRequest{Topic: "t", Key: key, Partitions: 5, Available: []int{0, 2, 4}, Now: time.Duration(i) * time.Millisecond}))
			}
			return got
		}
		assert.Equal(t, run(), run(), name)
	}
}
