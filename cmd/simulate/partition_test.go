package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPartitionTable: the full table for "hejsan" over 6 partitions. The
// java, librdkafka and sarama defaults are the §3.5 placement table
// (1 / 0 / 2); the hashes are librdkafka test 0048's murmur2, CRC-32 and
// FNV-1a values.
func TestPartitionTable(t *testing.T) {
	code, stdout, stderr := simulate("partition", "--key", "hejsan", "--partitions", "6")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, `key "hejsan" over 6 partitions
client      partitioner                          hash        partition
java        default (murmur2)                    0x5ec19395  1
librdkafka  consistent_random (default, CRC-32)  0xd077037e  0
sarama      hash (default, FNV-1a)               0xe84e1d86  2
librdkafka  murmur2, murmur2_random              0x5ec19395  1
librdkafka  fnv1a, fnv1a_random                  0x17b1e27a  2
sarama      reference-hash (FNV-1a)              0x684e1d86  0
hash: the value taken modulo the partition count (sarama hash reads it as a signed int32).
`, stdout)
}

// TestPartitionEmptyKey: an empty key is hashed by java (murmur2 of no
// bytes, 0x106e08d9) and sarama, but librdkafka's default treats it as no
// key, and the output says so.
func TestPartitionEmptyKey(t *testing.T) {
	code, stdout, _ := simulate("partition", "--key", "", "--partitions", "6")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "java        default (murmur2)                    0x106e08d9  3\n")
	assert.Contains(t, stdout, "librdkafka  consistent_random (default, CRC-32)  -           random\n")
	assert.Contains(t, stdout, "sarama      hash (default, FNV-1a)               0x811c9dc5  3\n")
	assert.Contains(t, stdout, "like a null key, to a random sticky partition")
}

// TestPartitionClient: --client prints bare numbers, one line per key
// (facts 24 and 25 and the §3.5 table).
func TestPartitionClient(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--key", "key", "--partitions", "6", "--client", "sarama"}, "4\n"},
		{[]string{"--key", "key", "--partitions", "6", "--client", "java"}, "1\n"},
		{[]string{"--key", "hejsan", "--partitions", "7", "--client", "librdkafka"}, "3\n"},
		{[]string{"--key", "hejsan", "--partitions", "17", "--client", "librdkafka"}, "14\n"},
		{[]string{"--key", "hejsan", "--partitions", "17", "--client", "java"}, "5\n"},
		{[]string{"--key", "foo", "--key", "order-1001", "--key", "hello", "--partitions", "12", "--client", "java"}, "8\n6\n9\n"},
		{[]string{"--key", "foo", "--key", "", "--partitions", "12", "--client", "librdkafka"}, "5\nrandom\n"},
		// FNV-1a of no bytes, 0x811c9dc5, is -2128831035 as an int32:
		// remainder -3, negated.
		{[]string{"--key", "", "--partitions", "12", "--client", "sarama"}, "3\n"},
		// The largest count Kafka allows: every client still gives a
		// partition below it (sarama: int32 FNV-1a -397533818, remainder negated).
		{[]string{"--key", "hejsan", "--partitions", "2147483647", "--client", "sarama"}, "397533818\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := simulate(append([]string{"partition"}, tt.args...)...)
			assert.Equal(t, 0, code, stderr)
			assert.Equal(t, tt.want, stdout)
		})
	}
}

// TestPartitionBadInput: like TestBadInput, status 2, one line on stderr,
// nothing on stdout.
func TestPartitionBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing key", []string{"partition", "--partitions", "3"}, "partition needs --key KEY"},
		{"missing partitions", []string{"partition", "--key", "a"}, "--partitions 0: use 1 to 2147483647 (Kafka's partition count is an int32)"},
		{"negative partitions", []string{"partition", "--key", "a", "--partitions", "-2"}, "--partitions -2: use 1 to 2147483647"},
		// Regression: 2^32 truncated to a uint32 of 0 divided by zero, and
		// 2^31 and above printed wrong partitions.
		{"partitions 2^32", []string{"partition", "--key", "a", "--partitions", "4294967296"}, "--partitions 4294967296: use 1 to 2147483647"},
		{"partitions 2^31", []string{"partition", "--key", "a", "--partitions", "2147483648"}, "--partitions 2147483648: use 1 to 2147483647"},
		{"bad partitions", []string{"partition", "--key", "a", "--partitions", "six"}, `--partitions: "six" is not a whole number`},
		{"unknown client", []string{"partition", "--key", "a", "--partitions", "3", "--client", "kafkajs"}, `--client: unknown client "kafkajs"; use one of: java, librdkafka, sarama`},
		{"positional key", []string{"partition", "a", "--partitions", "3"}, "partition takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			badInput(t, tt.want, tt.args...)
		})
	}
}
