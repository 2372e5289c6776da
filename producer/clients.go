package producer

import (
	"fmt"
	"slices"
	"strings"
)

// ClientDefault is one producer property whose default differs between a
// client and the Java client.
type ClientDefault struct {
	Property string // Java property name
	Value    string // the other client's default, in Java's terms
	Source   string // where that default comes from
}

// Client names for producer.client.
const (
	ClientJava       = "java"
	ClientLibrdkafka = "librdkafka"
	ClientSarama     = "sarama"
)

// Clients lists the client names, "java" first.
func Clients() []string { return []string{ClientJava, ClientLibrdkafka, ClientSarama} }

// ClientDefaults returns, for a client, the Java-named producer properties
// whose default differs from the Java client's, with that client's value.
// The simulator always runs the Java producer's mechanics (accumulator,
// sender, idempotence rules, validation); choosing another client only
// swaps in its defaults and its partitioner. Behaviour with no Java
// property (librdkafka's batch.num.messages and queue.buffering.max.messages,
// its non-blocking produce() on a full queue, Sarama's per-broker flush
// triggers) is not modelled. Every combination returned passes Java's
// validation: both clients default to enable.idempotence=false, which is
// what allows librdkafka's max.in.flight above 5 and Sarama's acks=1.
// java returns none.
func ClientDefaults(client string) ([]ClientDefault, error) {
	switch client {
	case ClientJava:
		return nil, nil
	case ClientLibrdkafka:
		return slices.Clone(librdkafkaDefaults), nil
	case ClientSarama:
		return slices.Clone(saramaDefaults), nil
	}
	return nil, fmt.Errorf("unknown client %q; use one of: %s", client, strings.Join(Clients(), ", "))
}

// DefaultPartitionerName is the partitioner.class a client uses by
// default: for java PartitionerBuiltIn (murmur2 for keys, sticky for
// keyless records).
func DefaultPartitionerName(client string) string {
	switch client {
	case ClientLibrdkafka:
		return PartitionerLibrdkafkaConsistentRandom
	case ClientSarama:
		return PartitionerSaramaHash
	}
	return PartitionerBuiltIn
}

// librdkafkaDefaults: librdkafka CONFIGURATION.md, checked against Kafka
// 4.0's Java defaults (linger.ms 5, acks all, retries MAX_INT, retry
// backoff 100/1000 ms and compression none are the same in both).
// request.timeout.ms is 30000 in both; librdkafka only sends it to the
// broker and times requests out client-side after socket.timeout.ms
// (60000), which the simulator cannot express separately.
var librdkafkaDefaults = []ClientDefault{
	{"enable.idempotence", "false", "librdkafka CONFIGURATION.md enable.idempotence=false"},
	{"batch.size", "1000000", "librdkafka CONFIGURATION.md batch.size=1000000"},
	{"delivery.timeout.ms", "300000", "librdkafka CONFIGURATION.md message.timeout.ms (alias delivery.timeout.ms)=300000"},
	// Legal because idempotence is off; without idempotence Java only
	// needs at least 1. Retries can then reorder, as librdkafka warns.
	{"max.in.flight.requests.per.connection", "1000000", "librdkafka CONFIGURATION.md max.in.flight.requests.per.connection=1000000"},
	{"max.request.size", "1000000", "librdkafka CONFIGURATION.md message.max.bytes=1000000"},
	{"buffer.memory", "1073741824", "librdkafka CONFIGURATION.md queue.buffering.max.kbytes=1048576 (KiB)"},
	{"metadata.max.age.ms", "900000", "librdkafka CONFIGURATION.md metadata.max.age.ms=900000 (3 x topic.metadata.refresh.interval.ms)"},
	{"reconnect.backoff.ms", "100", "librdkafka CONFIGURATION.md reconnect.backoff.ms=100"},
	{"reconnect.backoff.max.ms", "10000", "librdkafka CONFIGURATION.md reconnect.backoff.max.ms=10000"},
	// librdkafka has one fixed setup timeout; Java's grows towards
	// socket.connection.setup.timeout.max.ms (30000), so 30000 pins it.
	{"socket.connection.setup.timeout.ms", "30000", "librdkafka CONFIGURATION.md socket.connection.setup.timeout.ms=30000"},
	{"partitioner.class", PartitionerLibrdkafkaConsistentRandom, "librdkafka CONFIGURATION.md partitioner=consistent_random"},
}

// saramaDefaults: IBM/sarama config.go NewConfig. Sarama's
// Net.MaxOpenRequests (5), Retry.Backoff start (100 ms) and compression
// (none) match Java. Its MaxMessageBytes is 1048576, the same as Java's
// max.request.size (older Sarama releases used 1000000). It has no
// delivery timeout: Retry.Max bounds delivery, so delivery.timeout.ms keeps
// Java's value. request.timeout.ms stays 30000: Producer.Timeout (10 s) is
// only the broker-side wait for acks=all, while Sarama gives up on a
// response after Net.ReadTimeout (30 s), the client-side role
// request.timeout.ms plays in the simulator.
var saramaDefaults = []ClientDefault{
	{"acks", "1", "sarama config.go Producer.RequiredAcks=WaitForLocal"},
	{"enable.idempotence", "false", "sarama config.go Producer.Idempotent=false"},
	{"retries", "3", "sarama config.go Producer.Retry.Max=3"},
	// Sarama waits a fixed Retry.Backoff; equal start and cap make Java's
	// exponential backoff flat (up to its jitter).
	{"retry.backoff.max.ms", "100", "sarama config.go Producer.Retry.Backoff=100ms, not exponential"},
	{"linger.ms", "0", "sarama config.go Producer.Flush.Frequency/Bytes/Messages=0: flush at once"},
	// produce_set.go wouldOverflow caps one partition's batch at
	// MaxMessageBytes; there is no smaller batch size.
	{"batch.size", "1048576", "sarama produce_set.go wouldOverflow: batch up to Producer.MaxMessageBytes=1048576"},
	{"metadata.max.age.ms", "600000", "sarama config.go Metadata.RefreshFrequency=10m"},
	{"partitioner.class", PartitionerSaramaHash, "sarama config.go Producer.Partitioner=NewHashPartitioner"},
}
