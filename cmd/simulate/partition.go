package main

import (
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kafkasim/kafkasim/producer"
)

// keyRule is one keyed partitioner as the partition command shows it.
type keyRule struct {
	client, partitioner string
	// hash is the 32-bit value the partitioner reduces modulo the
	// partition count; part is the resulting partition.
	hash func(key []byte) uint32
	part func(key []byte, n int) int
	// emptyRandom: an empty (non-null) key is not hashed but treated
	// like no key at all.
	emptyRandom bool
}

// keyRules: each client's default first, in Clients() order, then the
// other keyed partitioners worth comparing.
var keyRules = []keyRule{
	// BuiltInPartitioner.partitionForKey: toPositive(murmur2) % n.
	{"java", "default (murmur2)",
		func(k []byte) uint32 { return uint32(producer.Murmur2(k)) & 0x7fffffff }, producer.KeyPartition, false},
	// librdkafka rdkafka_msg.c: consistent_random hashes with CRC-32 and,
	// in rd_kafka_msg_partitioner, sends zero-length keys to the sticky
	// partition like NULL keys.
	{"librdkafka", "consistent_random (default, CRC-32)", crc32.ChecksumIEEE, producer.CRC32Partition, true},
	// IBM/sarama partitioner.go NewHashPartitioner: int32(fnv1a) % n,
	// negated if negative. Only a nil key is random.
	{"sarama", "hash (default, FNV-1a)", producer.FNV1a32, producer.FNV1aPartitionSarama, false},
	{"librdkafka", "murmur2, murmur2_random",
		func(k []byte) uint32 { return uint32(producer.Murmur2(k)) & 0x7fffffff }, producer.KeyPartition, false},
	{"librdkafka", "fnv1a, fnv1a_random", producer.FNV1aLibrdkafka, producer.FNV1aPartitionLibrdkafka, false},
	{"sarama", "reference-hash (FNV-1a)",
		func(k []byte) uint32 { return producer.FNV1a32(k) & 0x7fffffff }, producer.FNV1aPartitionSaramaReference, false},
}

func cmdPartition(args []string, out, _ io.Writer) error {
	fs := newFlags("partition")
	keys := fs.StringArray("key", nil, "record key (repeatable; an empty string is an empty key, not a null one)")
	n := fs.Int("partitions", 0, "number of partitions of the topic")
	client := fs.String("client", "", "print only this client's default partition, as a bare number: "+strings.Join(producer.Clients(), ", "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"partition takes no arguments; give the key with --key"}
	}
	if len(*keys) == 0 {
		return &usageError{"partition needs --key KEY"}
	}
	// CreateTopicsRequest's NumPartitions is an int32; beyond it the
	// modulo would be taken over a count Kafka cannot have.
	if *n < 1 || *n > math.MaxInt32 {
		return &usageError{fmt.Sprintf("--partitions %d: use 1 to %d (Kafka's partition count is an int32)", *n, math.MaxInt32)}
	}
	if *client != "" {
		if _, err := producer.ClientDefaults(*client); err != nil {
			return &usageError{"--client: " + err.Error()}
		}
		// A client's first rule is its default.
		var rule keyRule
		for i := len(keyRules) - 1; i >= 0; i-- {
			if keyRules[i].client == *client {
				rule = keyRules[i]
			}
		}
		for _, k := range *keys {
			fmt.Fprintln(out, partitionOf(rule, []byte(k), *n))
		}
		return nil
	}
	for i, k := range *keys {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printKey(out, []byte(k), *n)
	}
	return nil
}

// partitionOf is the rule's partition for key, or "random" where the
// client does not hash it.
func partitionOf(rule keyRule, key []byte, n int) string {
	if len(key) == 0 && rule.emptyRandom {
		return "random"
	}
	return strconv.Itoa(rule.part(key, n))
}

func printKey(out io.Writer, key []byte, n int) {
	fmt.Fprintf(out, "key %q over %d partitions\n", key, n)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "client\tpartitioner\thash\tpartition")
	for _, r := range keyRules {
		hash := fmt.Sprintf("0x%08x", r.hash(key))
		if len(key) == 0 && r.emptyRandom {
			hash = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.client, r.partitioner, hash, partitionOf(r, key, n))
	}
	tw.Flush()
	fmt.Fprintln(out, "hash: the value taken modulo the partition count (sarama hash reads it as a signed int32).")
	if len(key) == 0 {
		fmt.Fprintln(out, "The empty key is a key for java, sarama and librdkafka's murmur2/fnv1a partitioners;")
		fmt.Fprintln(out, "librdkafka's consistent_random sends it, like a null key, to a random sticky partition.")
	}
}
