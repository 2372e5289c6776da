package broker

import (
	"fmt"
	"math"
	"unicode/utf16"
)

// TransactionStateTopic is the internal topic whose partition leaders act as
// transaction coordinators (Topic.TRANSACTION_STATE_TOPIC_NAME).
const TransactionStateTopic = "__transaction_state"

// DefaultTxnStatePartitions is the default of
// transaction.state.log.num.partitions
// (TransactionLogConfig.TRANSACTIONS_TOPIC_PARTITIONS_DEFAULT).
const DefaultTxnStatePartitions = 50

// MaxTxnStatePartitions bounds transaction.state.log.num.partitions in the
// simulator (Kafka takes any int32 from 1), as topics' partitions are.
const MaxTxnStatePartitions = 1000

// JavaStringHashCode is Java's String.hashCode of s: s[0]*31^(n-1) + ... +
// s[n-1] over the string's UTF-16 code units, wrapping like a Java int.
// Kafka hashes the Java string, not its UTF-8 bytes, so a rune above U+FFFF
// counts as its two surrogates. A Go string may hold invalid UTF-8, which
// ranging over it turns into one U+FFFD per bad byte. A single stray byte
// decodes the same way in Java, but Java's UTF-8 decoder may fold a cut-short
// multi-byte sequence into one U+FFFD (String.decodeUTF8_UTF16, malformed3
// and malformed4), so such ids can hash differently there. Real ids are
// valid text.
func JavaStringHashCode(s string) int32 {
	var h int32
	var units [2]uint16
	for _, r := range s {
		for _, u := range utf16.AppendRune(units[:0], r) {
			h = 31*h + int32(u) // Go's int32 wraps on overflow, as Java's int does
		}
	}
	return h
}

// javaAbs is Kafka's Utils.abs: Math.abs, except that Integer.MIN_VALUE,
// whose absolute value an int cannot hold, maps to 0 instead of staying
// negative.
func javaAbs(n int32) int32 {
	if n == math.MinInt32 {
		return 0
	}
	if n < 0 {
		return -n
	}
	return n
}

// TxnCoordinatorPartition is the partition of __transaction_state that holds
// transactionalID's state; its leader is the producer's transaction
// coordinator (TransactionStateManager.partitionFor: Utils.abs of the id's
// String.hashCode, modulo the partition count). Note Utils.abs, not the
// sign-bit mask (Utils.toPositive) the producer's partitioner uses: the two
// differ for every negative hash.
func TxnCoordinatorPartition(transactionalID string, partitions int) int {
	if partitions < 1 {
		panic(fmt.Sprintf("broker: %d partitions of %s; need at least 1", partitions, TransactionStateTopic))
	}
	return int(javaAbs(JavaStringHashCode(transactionalID))) % partitions
}
