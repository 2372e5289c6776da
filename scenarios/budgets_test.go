package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroRetryBackoffTransactions: with retry.backoff.ms=0 the sender
// sleeps while a transactional request is in flight, as it does with the
// default backoff (regression: it woke every nanosecond of virtual time,
// 131 million events for transactions-atomic).
func TestZeroRetryBackoffTransactions(t *testing.T) {
	for _, name := range []string{"transactions-atomic", "transaction-timeout-abort", "zombie-fencing"} {
		t.Run(name, func(t *testing.T) {
			base, err := Load(name, nil)
			require.NoError(t, err)
			zero, err := Load(name, []string{"producer.retry.backoff.ms=0"})
			require.NoError(t, err)
			want := base.Run(RunOptions{}).Events
			got := zero.Run(RunOptions{}).Events
			assert.Less(t, got, 3*want, "a zero backoff costs about as many events as the default")
		})
	}
}
