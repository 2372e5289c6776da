package producer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMurmur2UtilsTestVectors: the six cases of
// org.apache.kafka.common.utils.UtilsTest.testMurmur2, verbatim (reference
// §3.1, fact 22). They cover 2-, 3- and 0-byte tails and many blocks.
func TestMurmur2UtilsTestVectors(t *testing.T) {
	tests := []struct {
		key  []byte
		want int32
	}{
		{[]byte("21"), -973932308},
		{[]byte("foobar"), -790332482},
		{[]byte("a-little-bit-long-string"), -985981536},
		{[]byte("a-little-bit-longer-string"), -1486304829},
		{[]byte("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971},
		{[]byte{'a', 'b', 'c'}, 479470107},
	}
	for _, tt := range tests {
		t.Run(string(tt.key), func(t *testing.T) {
			assert.Equal(t, tt.want, murmur2(tt.key))
		})
	}
}

// TestMurmur2Librdkafka0048: librdkafka tests/0048-partitioner.c lists
// murmur2(key) & 0x7fffffff for its murmur2 partitioners (reference §3.5,
// fact 23), including the empty key.
func TestMurmur2Librdkafka0048(t *testing.T) {
	tests := []struct {
		key  string
		want int32
	}{
		{"", 0x106e08d9},
		{"23456", 0x058d780f},
		{"this is another string with more length to it perhaps", 0x4f7703da},
		{"hejsan", 0x5ec19395},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			assert.Equal(t, tt.want, toPositive(murmur2([]byte(tt.key))))
		})
	}
}

// TestMurmur2EmptyKeyUnmasked: the empty key's hash already has the sign
// bit clear, 275646681 (reference §3.1).
func TestMurmur2EmptyKeyUnmasked(t *testing.T) {
	assert.Equal(t, int32(275646681), murmur2(nil))
	assert.Equal(t, int32(275646681), murmur2([]byte{}))
}

// TestToPositiveIsNotAbs: Utils.toPositive clears the sign bit; Math.abs
// would give other partitions for negative hashes.
func TestToPositiveIsNotAbs(t *testing.T) {
	tests := []struct {
		in, want int32
	}{
		{0, 0},
		{5, 5},
		{-1, 0x7fffffff},
		{-973932308, -973932308 & 0x7fffffff}, // murmur2("21")
		{-2147483648, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, toPositive(tt.in), "toPositive(%d)", tt.in)
	}
}

// TestKeyPartition: the Java column of the placement table in reference
// §3.5, and fact 24's "hejsan" with 7 partitions (BuiltInPartitioner.partitionForKey:
// toPositive(murmur2(key)) % numPartitions).
func TestKeyPartition(t *testing.T) {
	tests := []struct {
		key        string
		partitions int
		want       int
	}{
		{"key", 6, 1},
		{"key", 12, 1},
		{"foo", 6, 2},
		{"foo", 12, 8},
		{"order-1001", 6, 0},
		{"order-1001", 12, 6},
		{"hejsan", 6, 1},
		{"hejsan", 12, 1},
		{"hello", 6, 3},
		{"hello", 12, 9},
		{"hejsan", 17, 5},
		{"hejsan", 7, 6},
		// murmur2("21") is negative: toPositive gives 1173551340 % 7 = 3,
		// Math.abs would give 973932308 % 7 = 6.
		{"21", 7, 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, KeyPartition([]byte(tt.key), tt.partitions), "%q over %d partitions", tt.key, tt.partitions)
	}
}
