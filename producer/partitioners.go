package producer

import (
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

// PartitionRequest is what a partitioner sees for one record.
type PartitionRequest struct {
	Topic      string
	Key        []byte        // nil: the record has no key; empty but non-nil is a key
	Partitions int           // all partitions of the topic, at least 1
	Available  []int         // partitions that have a leader now, ascending; may be empty
	Now        time.Duration // virtual time since the run started
}

// Partitioner picks a partition for a record (Kafka's
// org.apache.kafka.clients.producer.Partitioner, the partitioner.class
// setting). The result must be in [0, Partitions).
type Partitioner interface {
	Partition(r PartitionRequest) int
}

// NewBatchListener is an optional extension of Partitioner. With a
// partitioner.class set, KafkaProducer.doSend appends with
// abortOnNewBatch=true: when the chosen partition needs a new batch, the
// append is abandoned, Partitioner.onNewBatch is called with the chosen
// partition, and partition() is asked again. So a record that opens a batch
// is partitioned twice.
type NewBatchListener interface {
	OnNewBatch(r PartitionRequest, prev int)
}

// Names of the built-in partitioners, as a scenario's partitioner.class.
const (
	// PartitionerBuiltIn is the Java client's default, partitioner.class
	// left null: KafkaProducer partitions with its BuiltInPartitioner
	// (KIP-794), murmur2 of the key for keyed records and the uniform
	// sticky partition, adaptive by default, for keyless ones. Kafka has
	// no class name for it (BuiltInPartitioner is internal and not a
	// Partitioner); the simulator names it so that --set and --vary can
	// choose it against the others.
	PartitionerBuiltIn = "built-in"

	// PartitionerRoundRobin is Kafka's RoundRobinPartitioner as fixed by
	// KAFKA-17632 (4.0, later backported to the 3.9 branch): one counter step per record,
	// even when the record is partitioned twice.
	PartitionerRoundRobin = "org.apache.kafka.clients.producer.RoundRobinPartitioner"
	// PartitionerRoundRobinPreFix is RoundRobinPartitioner up to 3.8
	// (KAFKA-9965, KAFKA-16283): every partition() call advances the
	// counter. A record that opens a new batch is partitioned twice and
	// only the second answer counts, so with linger.ms=0, where nearly
	// every record opens a batch, the counter moves by 2 per record and
	// with an even partition count half the partitions get nothing.
	PartitionerRoundRobinPreFix = PartitionerRoundRobin + "@3.8"

	// librdkafka's partitioner setting (src/rdkafka_msg.c).
	PartitionerLibrdkafkaRandom           = "librdkafka:random"
	PartitionerLibrdkafkaConsistent       = "librdkafka:consistent"
	PartitionerLibrdkafkaConsistentRandom = "librdkafka:consistent_random"
	PartitionerLibrdkafkaMurmur2          = "librdkafka:murmur2"
	PartitionerLibrdkafkaMurmur2Random    = "librdkafka:murmur2_random"
	PartitionerLibrdkafkaFNV1a            = "librdkafka:fnv1a"
	PartitionerLibrdkafkaFNV1aRandom      = "librdkafka:fnv1a_random"

	// Sarama's Producer.Partitioner constructors (IBM/sarama partitioner.go).
	PartitionerSaramaHash          = "sarama:hash"
	PartitionerSaramaReferenceHash = "sarama:reference-hash"
	PartitionerSaramaRandom        = "sarama:random"
	PartitionerSaramaRoundRobin    = "sarama:roundrobin"
)

// librdkafkaStickyLinger is sticky.partitioning.linger.ms's default
// (librdkafka CONFIGURATION.md).
const librdkafkaStickyLinger = 10 * time.Millisecond

// NewPartitioner makes a producer's partitioner. It is called once per
// producer instance with the producer's seeded random stream, which is the
// only randomness a partitioner may use.
type NewPartitioner func(rng *rand.Rand) Partitioner

// PartitionerClass is a partitioner that is not built in (a student's own,
// for example), passed as a value to the configuration of one run
// (scenarios.Load or Parse) under the name its partitioner.class gives.
// Nothing is registered globally, so runs with different classes, or the
// same test run twice, do not meet.
type PartitionerClass struct {
	Name string
	New  NewPartitioner
}

// builtinPartitioners are the partitioner.class names the simulator
// models, with their constructors; PartitionerBuiltIn has none (the
// producer partitions itself).
var builtinPartitioners = map[string]NewPartitioner{
	PartitionerBuiltIn: nil,
	PartitionerRoundRobin: func(*rand.Rand) Partitioner {
		return &fixedRoundRobin{roundRobin: roundRobin{counters: map[string]int32{}}}
	},
	PartitionerRoundRobinPreFix: func(*rand.Rand) Partitioner {
		return &roundRobin{counters: map[string]int32{}}
	},
	PartitionerLibrdkafkaRandom:           librdkafkaFactory(rdRandom),
	PartitionerLibrdkafkaConsistent:       librdkafkaFactory(rdConsistent),
	PartitionerLibrdkafkaConsistentRandom: librdkafkaFactory(rdConsistentRandom),
	PartitionerLibrdkafkaMurmur2:          librdkafkaFactory(rdMurmur2),
	PartitionerLibrdkafkaMurmur2Random:    librdkafkaFactory(rdMurmur2Random),
	PartitionerLibrdkafkaFNV1a:            librdkafkaFactory(rdFNV1a),
	PartitionerLibrdkafkaFNV1aRandom:      librdkafkaFactory(rdFNV1aRandom),
	PartitionerSaramaHash: func(rng *rand.Rand) Partitioner {
		return &saramaHash{rng: rng, hash: FNV1aPartitionSarama}
	},
	PartitionerSaramaReferenceHash: func(rng *rand.Rand) Partitioner {
		return &saramaHash{rng: rng, hash: FNV1aPartitionSaramaReference}
	},
	PartitionerSaramaRandom: func(rng *rand.Rand) Partitioner {
		return &saramaRandom{rng: rng}
	},
	PartitionerSaramaRoundRobin: func(*rand.Rand) Partitioner {
		return &saramaRoundRobin{next: map[string]int{}}
	},
}

// PartitionerNames lists the built-in partitioner.class names, sorted.
func PartitionerNames() []string { return slices.Sorted(maps.Keys(builtinPartitioners)) }

// checkClasses refuses a class without a name or constructor, one named
// like a built-in partitioner, and a name given twice.
func checkClasses(classes []PartitionerClass) error {
	for i, c := range classes {
		switch {
		case c.Name == "":
			return fmt.Errorf("a partitioner class has no name")
		case c.New == nil:
			return fmt.Errorf("partitioner class %s has a nil New", c.Name)
		case slices.Contains(PartitionerNames(), c.Name):
			return fmt.Errorf("partitioner class %s is built in; give yours another name", c.Name)
		case slices.ContainsFunc(classes[:i], func(o PartitionerClass) bool { return o.Name == c.Name }):
			return fmt.Errorf("partitioner class %s is given twice", c.Name)
		}
	}
	return nil
}

// lookupPartitioner finds name among the built-in partitioners and
// classes; a nil constructor with ok is the built-in partitioner.
func lookupPartitioner(name string, classes []PartitionerClass) (newFn NewPartitioner, ok bool) {
	if newFn, ok = builtinPartitioners[name]; ok {
		return newFn, true
	}
	for _, c := range classes {
		if c.Name == name {
			return c.New, true
		}
	}
	return nil, false
}

// roundRobin is RoundRobinPartitioner before KAFKA-17632: a counter per
// topic, advanced on every call, indexes the available partitions, or all
// partitions when none is available. The counter is a Java int, so it
// wraps, and Utils.toPositive keeps the index non-negative.
type roundRobin struct {
	counters map[string]int32
}

func (p *roundRobin) Partition(r PartitionRequest) int {
	v := p.counters[r.Topic]
	p.counters[r.Topic] = v + 1 // AtomicInteger.getAndIncrement
	if len(r.Available) > 0 {
		return r.Available[int(toPositive(v))%len(r.Available)]
	}
	return int(toPositive(v)) % r.Partitions
}

// fixedRoundRobin is RoundRobinPartitioner from KAFKA-17632 (PR #17620,
// Kafka 4.0, backported to the 3.9 branch): onNewBatch remembers the partition just chosen,
// and the partition() call that follows for the same topic returns it
// without touching the counter. Kafka keeps that memory per thread; the
// simulated producer has one sending thread.
type fixedRoundRobin struct {
	roundRobin
	pending      bool
	pendingTopic string
	pendingPart  int
}

func (p *fixedRoundRobin) Partition(r PartitionRequest) int {
	if p.pending {
		p.pending = false
		if p.pendingTopic == r.Topic {
			return p.pendingPart
		}
	}
	return p.roundRobin.Partition(r)
}

func (p *fixedRoundRobin) OnNewBatch(r PartitionRequest, prev int) {
	p.pending, p.pendingTopic, p.pendingPart = true, r.Topic, prev
}

// rdKind is one value of librdkafka's partitioner setting.
type rdKind int

const (
	rdRandom rdKind = iota
	rdConsistent
	rdConsistentRandom
	rdMurmur2
	rdMurmur2Random
	rdFNV1a
	rdFNV1aRandom
)

func librdkafkaFactory(kind rdKind) func(rng *rand.Rand) Partitioner {
	return func(rng *rand.Rand) Partitioner {
		return &librdkafka{kind: kind, rng: rng, linger: librdkafkaStickyLinger, stickyTopic: map[string]*rdSticky{}}
	}
}

// librdkafka is rd_kafka_msg_partitioner with one of the partitioner
// functions of src/rdkafka_msg.c.
type librdkafka struct {
	kind        rdKind
	rng         *rand.Rand
	linger      time.Duration // sticky.partitioning.linger.ms; 0 disables stickiness
	stickyTopic map[string]*rdSticky
}

// rdSticky is a topic's rkt_sticky_partition and rkt_sticky_intvl.
type rdSticky struct {
	partition int
	since     time.Duration
}

func (p *librdkafka) Partition(r PartitionRequest) int {
	if p.sticky() && (r.Key == nil || (len(r.Key) == 0 && p.kind == rdConsistentRandom)) {
		return p.stickyPartition(r)
	}
	return p.partition(r)
}

// sticky is !rkt_conf.random_partitioner (rdkafka_topic.c): the keyless
// records of every partitioner except consistent, murmur2 and fnv1a go to
// the sticky partition, unless sticky.partitioning.linger.ms is 0.
func (p *librdkafka) sticky() bool {
	return p.linger > 0 && p.kind != rdConsistent && p.kind != rdMurmur2 && p.kind != rdFNV1a
}

// partition is the configured partitioner function itself. The hashing
// ones hash a NULL key as zero bytes: consistent sends it to partition 0
// (CRC-32 of nothing is 0). Only the *_random variants treat a NULL key,
// and consistent_random an empty key, as random.
func (p *librdkafka) partition(r PartitionRequest) int {
	switch p.kind {
	case rdConsistent:
		return CRC32Partition(r.Key, r.Partitions)
	case rdConsistentRandom:
		if len(r.Key) == 0 {
			return p.random(r)
		}
		return CRC32Partition(r.Key, r.Partitions)
	case rdMurmur2:
		return KeyPartition(r.Key, r.Partitions)
	case rdMurmur2Random:
		if r.Key == nil {
			return p.random(r)
		}
		return KeyPartition(r.Key, r.Partitions)
	case rdFNV1a:
		return FNV1aPartitionLibrdkafka(r.Key, r.Partitions)
	case rdFNV1aRandom:
		if r.Key == nil {
			return p.random(r)
		}
		return FNV1aPartitionLibrdkafka(r.Key, r.Partitions)
	default:
		return p.random(r)
	}
}

// random is rd_kafka_msg_partitioner_random: a uniform pick over all
// partitions, drawn once more, unchecked, if the first has no leader.
func (p *librdkafka) random(r PartitionRequest) int {
	part := p.rng.IntN(r.Partitions)
	if !slices.Contains(r.Available, part) {
		return p.rng.IntN(r.Partitions)
	}
	return part
}

// stickyPartition is rd_kafka_msg_sticky_partition: keep the topic's sticky
// partition until more than linger has passed since it was chosen, or at
// once if it lost its leader (rd_interval_expedite), then pick at random.
func (p *librdkafka) stickyPartition(r PartitionRequest) int {
	s := p.stickyTopic[r.Topic]
	if s == nil || !slices.Contains(r.Available, s.partition) || r.Now-s.since > p.linger {
		s = &rdSticky{partition: p.random(r), since: r.Now}
		p.stickyTopic[r.Topic] = s
	}
	return s.partition
}

// saramaHash is Sarama's hashPartitioner: a key is hashed over all
// partitions; a nil key goes to a random writable partition
// (MessageRequiresConsistency is false for it, so async_producer.go
// partitionMessage offers only WritablePartitions).
type saramaHash struct {
	rng  *rand.Rand
	hash func(key []byte, n int) int
}

func (p *saramaHash) Partition(r PartitionRequest) int {
	if r.Key == nil {
		return saramaPick(p.rng.IntN, r)
	}
	return p.hash(r.Key, r.Partitions)
}

// saramaRandom is NewRandomPartitioner: uniform over writable partitions.
type saramaRandom struct{ rng *rand.Rand }

func (p *saramaRandom) Partition(r PartitionRequest) int { return saramaPick(p.rng.IntN, r) }

// saramaRoundRobin is NewRoundRobinPartitioner: one per topic, stepping
// through the writable partitions and restarting at 0 when the index runs
// past their current count.
type saramaRoundRobin struct{ next map[string]int }

func (p *saramaRoundRobin) Partition(r PartitionRequest) int {
	return saramaPick(func(n int) int {
		i := p.next[r.Topic]
		if i >= n {
			i = 0
		}
		p.next[r.Topic] = i + 1
		return i
	}, r)
}

// saramaPick maps a choice among the writable partitions to a partition
// id. With none writable Sarama fails the message with
// ErrLeaderNotAvailable and retries; the simulator, which needs a
// partition, chooses among all partitions instead.
func saramaPick(choose func(n int) int, r PartitionRequest) int {
	if len(r.Available) == 0 {
		return choose(r.Partitions)
	}
	return r.Available[choose(len(r.Available))]
}

// Murmur2 is Kafka's Utils.murmur2 of key, as a Java int.
func Murmur2(key []byte) int32 { return murmur2(key) }

// CRC32Partition is librdkafka's consistent partitioner
// (rd_kafka_msg_partitioner_consistent): the zlib CRC-32 of the key,
// unsigned, modulo the partition count.
func CRC32Partition(key []byte, n int) int {
	return int(crc32.ChecksumIEEE(key) % uint32(n))
}

// FNV1a32 is the 32-bit FNV-1a hash (Go's hash/fnv New32a, librdkafka
// rdfnv1a.c before its sign fix-up).
func FNV1a32(key []byte) uint32 {
	h := uint32(0x811c9dc5)
	for _, b := range key {
		h ^= uint32(b)
		h *= 0x01000193
	}
	return h
}

// FNV1aLibrdkafka is librdkafka's rd_fnv1a (src/rdfnv1a.c): FNV-1a taken
// as an int32 and negated if negative, to agree with Sarama's default.
// math.MinInt32 stays as it is, as in C.
func FNV1aLibrdkafka(key []byte) uint32 {
	h := int32(FNV1a32(key))
	if h < 0 {
		h = -h
	}
	return uint32(h)
}

// FNV1aPartitionLibrdkafka is librdkafka's fnv1a partitioner:
// rd_fnv1a(key) % n, unsigned.
func FNV1aPartitionLibrdkafka(key []byte, n int) int {
	return int(FNV1aLibrdkafka(key) % uint32(n))
}

// FNV1aPartitionSarama is Sarama's NewHashPartitioner for a non-nil key:
// int32(fnv1a) % n, negated if negative. It agrees with
// FNV1aPartitionLibrdkafka.
func FNV1aPartitionSarama(key []byte, n int) int {
	p := int32(FNV1a32(key)) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

// FNV1aPartitionSaramaReference is Sarama's NewReferenceHashPartitioner for
// a non-nil key: the sign bit is cleared before the modulo, so negative
// hashes land elsewhere than with FNV1aPartitionSarama.
func FNV1aPartitionSaramaReference(key []byte, n int) int {
	return int((int32(FNV1a32(key)) & 0x7fffffff) % int32(n))
}
