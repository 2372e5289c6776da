package producer

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// TestProduceErrors: what the producer does with each error a produce
// response can carry, once (Sender.completeBatch, canRetry,
// TransactionManager.handleFailedBatch, maybeTransitionToErrorState):
// retry it, split it, fail the batch, or fail everything (fatal). The
// idempotent producer is the default; a transactional one is in
// TestTransactionalProduceErrors.
func TestProduceErrors(t *testing.T) {
	const (
		retried = "retried"
		split   = "split"
		failed  = "failed"
		fatal   = "fatal"
	)
	tests := []struct {
		err  broker.Error
		want string
	}{
		{broker.ErrNotLeaderOrFollower, retried},
		{broker.ErrNotEnoughReplicas, retried},
		{broker.ErrNotEnoughReplicasAfterAppend, retried},
		{broker.ErrRequestTimedOut, retried},
		{broker.ErrCorruptMessage, retried},
		{broker.ErrKafkaStorageError, retried},
		{broker.ErrUnknownTopicOrPartition, retried},
		{broker.ErrThrottlingQuotaExceeded, retried},
		{broker.ErrMessageTooLarge, split},
		{broker.ErrInvalidRecord, failed},
		{broker.ErrInvalidTimestamp, failed},
		{broker.ErrRecordListTooLarge, failed},
		{broker.ErrTopicAuthorizationFailed, failed},
		{broker.ErrInvalidRequiredAcks, failed},
		{broker.ErrPolicyViolation, failed},
		{broker.ErrUnknownServerError, failed},
		{broker.ErrInvalidProducerEpoch, failed},
		{broker.ErrClusterAuthorizationFailed, fatal},
		{broker.ErrTransactionalIDAuthFailed, fatal},
		{broker.ErrProducerFenced, fatal},
		{broker.ErrUnsupportedVersion, fatal},
	}
	for _, tt := range tests {
		t.Run(tt.err.String(), func(t *testing.T) {
			h := newHarness(t, 1, 1, 2, 0, map[string]string{"linger.ms": "0"})
			h.script(rule{api: "produce", partition: 0, err: tt.err})
			h.send(0, 2)
			h.run(500 * sim.Millisecond)
			h.send(1, 1) // another partition, after the error
			h.run(500 * sim.Millisecond)
			require.Len(t, h.callbacks, 2, "each batch completes once")
			first, other := h.callbacks[0], h.callbacks[1]
			switch tt.want {
			case retried:
				assert.Equal(t, broker.ErrNone, first.err)
				assert.Len(t, h.attempts(1), 2, "sent twice")
			case split:
				assert.Equal(t, broker.ErrNone, first.err)
				assert.Len(t, h.attempts(1), 1, "the batch itself goes once; its pieces go again")
				assert.NotEqual(t, int64(1), first.batch, "a piece completes, not the big batch")
			case failed:
				assert.Equal(t, tt.err, first.err)
				assert.Len(t, h.attempts(1), 1)
			case fatal:
				assert.Equal(t, tt.err, first.err)
			}
			if tt.want == fatal {
				assert.Equal(t, tt.err, other.err, "send() fails once the producer is fatal")
			} else {
				assert.Equal(t, broker.ErrNone, other.err, "the other partition is not affected")
			}
		})
	}
}

// TestTransactionalProduceErrors: in a transaction a batch that fails for
// good makes the transaction abortable, so commitTransaction throws the
// error; the four fatal errors end the producer instead
// (maybeTransitionToErrorState).
func TestTransactionalProduceErrors(t *testing.T) {
	for _, tt := range []struct {
		err   broker.Error
		fatal bool
	}{
		{broker.ErrInvalidRecord, false},
		{broker.ErrTopicAuthorizationFailed, false},
		{broker.ErrInvalidProducerEpoch, false},
		{broker.ErrClusterAuthorizationFailed, true},
		{broker.ErrProducerFenced, true},
	} {
		for _, version := range []int16{1, 2} {
			t.Run(tt.err.String()+" transaction.version="+strconv.Itoa(int(version)), func(t *testing.T) {
				h := newHarness(t, 1, 1, 1, version, map[string]string{"linger.ms": "0", "transactional.id": "app"})
				h.p.InitTransactions()
				h.run(100 * sim.Millisecond)
				require.Equal(t, broker.ErrNone, h.p.BeginTransaction())
				h.script(rule{api: "produce", partition: anyPartition, err: tt.err})
				h.send(0, 1)
				h.run(100 * sim.Millisecond)
				h.p.CommitTransaction()
				h.run(100 * sim.Millisecond)
				assert.Equal(t, tt.fatal, h.p.TransactionFatal())
				require.NotEmpty(t, h.txnDone)
				assert.Equal(t, OpCommitTransaction.String()+": "+tt.err.String(), h.txnDone[len(h.txnDone)-1])
			})
		}
	}
}
