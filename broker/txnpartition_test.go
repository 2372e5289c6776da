package broker

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTxnCoordinatorPartition checks String.hashCode and the
// __transaction_state partition (50 partitions) against values worked out
// from Java's definition, h = 31*h + unit over UTF-16 code units, wrapped to
// a signed 32-bit int, then Utils.abs(h) % 50.
func TestTxnCoordinatorPartition(t *testing.T) {
	tests := []struct {
		id   string
		hash int32
		part int
	}{
		// Java's own values. The sign-bit mask would give
		// (-959806496 & 0x7fffffff) % 50 = 2, not 46.
		{"my-transactional-id", -959806496, 46},
		{"txn-1", 110810510, 10},
		// No code units: h stays 0.
		{"", 0, 0},
		// One unit, 'a' = 97; 97 % 50 = 47.
		{"a", 97, 47},
		// "orders-" = -1207109144; then 'a' 97, 'p' 112, 'p' 112:
		// -1207109144*31^3 + 97*961 + 112*31 + 112 = -35960988412103,
		// + 8373*2^32 = 772757305; % 50 = 5.
		{"orders-app", 772757305, 5},
		// 'ü' is U+00FC, one unit (252) though two UTF-8 bytes:
		// "zahlungs-" = 1097247741; *31 + 252 = 34014680223,
		// - 8*2^32 = -345058145; abs % 50 = 45.
		{"zahlungs-ü", -345058145, 45},
		// U+1F600 is the surrogate pair 0xD83D 0xDE00: "pay-" = 3433605;
		// *31 + 55357 = 106497112; *31 + 56832 = 3301467304,
		// - 2^32 = -993499992; abs % 50 = 42.
		{"pay-😀", -993499992, 42},
		// A stray byte decodes to U+FFFD, 65533, in Java too; 65533 % 50 = 33.
		{"\xff", 65533, 33},
		// 65533*31 + 'A' 65 = 2031588; % 50 = 38.
		{"\xffA", 2031588, 38},
		// A well-known string whose hashCode is Integer.MIN_VALUE: Math.abs
		// would leave it negative (-2147483648 % 50 = -48 in Java);
		// Utils.abs makes it 0.
		{"polygenelubricants", math.MinInt32, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.id), func(t *testing.T) {
			assert.Equal(t, tt.hash, JavaStringHashCode(tt.id))
			assert.Equal(t, tt.part, TxnCoordinatorPartition(tt.id, DefaultTxnStatePartitions))
		})
	}
}

func TestJavaAbs(t *testing.T) {
	tests := []struct{ in, want int32 }{
		{0, 0},
		{5, 5},
		{-5, 5},
		{math.MaxInt32, math.MaxInt32},
		{math.MinInt32 + 1, math.MaxInt32},
		{math.MinInt32, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, javaAbs(tt.in), "abs(%d)", tt.in)
	}
}

func TestTxnCoordinatorPartitionNeedsPartitions(t *testing.T) {
	assert.Panics(t, func() { TxnCoordinatorPartition("a", 0) })
}

func FuzzTxnCoordinatorPartition(f *testing.F) {
	for _, id := range []string{"", "my-transactional-id", "polygenelubricants", "pay-😀", "\xff\xe2\x82"} {
		f.Add(id, uint8(50))
	}
	f.Fuzz(func(t *testing.T, id string, n uint8) {
		partitions := int(n)%100 + 1 // 1..100
		p := TxnCoordinatorPartition(id, partitions)
		assert.GreaterOrEqual(t, p, 0)
		assert.Less(t, p, partitions)
	})
}
