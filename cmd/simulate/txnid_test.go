package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTransactionID: the full output. The hashes and partitions are Java's
// (see broker.TestTxnCoordinatorPartition).
func TestTransactionID(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"with brokers", []string{"my-transactional-id", "--brokers", "3"}, `transactional.id "my-transactional-id"
  String.hashCode   -959806496
  coordinator       __transaction_state-46  (abs(hashCode) % 50)
  leader at start   broker-2  ((46 mod 3)+1; it moves on failover)
`},
		{"default partitions, no brokers", []string{"txn-1"}, `transactional.id "txn-1"
  String.hashCode   110810510
  coordinator       __transaction_state-10  (abs(hashCode) % 50)
`},
		// 110810510 % 7 = 6; (6 mod 5)+1 = 2.
		{"other partition count", []string{"--partitions", "7", "--brokers", "5", "txn-1"}, `transactional.id "txn-1"
  String.hashCode   110810510
  coordinator       __transaction_state-6  (abs(hashCode) % 7)
  leader at start   broker-2  ((6 mod 5)+1; it moves on failover)
`},
		// hashCode Integer.MIN_VALUE: Utils.abs makes it 0.
		{"min int hash", []string{"polygenelubricants", "--brokers", "1"}, `transactional.id "polygenelubricants"
  String.hashCode   -2147483648
  coordinator       __transaction_state-0  (abs(hashCode) % 50)
  leader at start   broker-1  ((0 mod 1)+1; it moves on failover)
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := simulate(append([]string{"transaction-id"}, tt.args...)...)
			assert.Equal(t, 0, code, stderr)
			assert.Equal(t, tt.want, stdout)
		})
	}
}

// TestTransactionIDBadInput: like TestBadInput, status 2, one line on
// stderr, nothing on stdout.
func TestTransactionIDBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no id", []string{}, "transaction-id needs the transactional.id as its argument"},
		{"only flags", []string{"--brokers", "3"}, "transaction-id needs the transactional.id as its argument"},
		{"two ids", []string{"a", "b"}, "transaction-id takes one transactional.id, got 2 arguments"},
		{"empty id", []string{""}, "transaction-id: a transactional.id cannot be empty"},
		{"zero partitions", []string{"a", "--partitions", "0"}, "--partitions 0: use 1 to 1000"},
		{"negative partitions", []string{"a", "--partitions", "-3"}, "--partitions -3: use 1 to 1000"},
		{"too many partitions", []string{"a", "--partitions", "1001"}, "--partitions 1001: use 1 to 1000"},
		{"bad partitions", []string{"a", "--partitions", "fifty"}, `--partitions: "fifty" is not a whole number`},
		{"negative brokers", []string{"a", "--brokers", "-1"}, "--brokers -1: need at least 1 broker, or leave it out"},
		{"unknown flag", []string{"a", "--topic", "x"}, "unknown flag: --topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			badInput(t, tt.want, append([]string{"transaction-id"}, tt.args...)...)
		})
	}
}
