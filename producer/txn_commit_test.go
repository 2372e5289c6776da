package producer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// TestCommitFailsAfterInFlightBatches: a batch fails during
// commitTransaction while another batch of the transaction is still in
// flight. The transaction becomes abortable, but commitTransaction()
// throws only when the EndTxn it waits for would be sent, and
// TransactionManager.nextRequest holds EndTxn until the accumulator has
// no incomplete batch (maybeTerminateRequestWithError fails it then). So
// the application hears the failure after the in-flight batch completes,
// not at once.
func TestCommitFailsAfterInFlightBatches(t *testing.T) {
	h := newHarness(t, 1, 2, 2, 0, map[string]string{"transactional.id": "app", "linger.ms": "0"})
	h.p.InitTransactions()
	h.run(20 * sim.Millisecond)
	require.Equal(t, []string{"initTransactions: NONE"}, h.txnDone)
	require.Equal(t, broker.ErrNone, h.p.BeginTransaction())
	h.script(rule{api: "produce", partition: 0, err: broker.ErrMessageTooLarge})
	h.script(rule{api: "produce", partition: 1, delay: 100 * sim.Millisecond})
	h.send(0, 1)
	h.send(1, 1)
	h.p.CommitTransaction()
	h.run(200 * sim.Millisecond)

	require.Len(t, h.callbacks, 2)
	failed, late := h.callbacks[0], h.callbacks[1]
	require.Equal(t, broker.ErrMessageTooLarge, failed.err)
	require.Equal(t, broker.ErrNone, late.err)
	require.Greater(t, late.at, failed.at+50*sim.Millisecond, "t-1's answer is 100 ms late")
	require.Equal(t, []string{"initTransactions: NONE", "commitTransaction: MESSAGE_TOO_LARGE"}, h.txnDone)
	done := h.txnAt(OpCommitTransaction)
	assert.GreaterOrEqual(t, done, late.at, "commitTransaction() throws once no batch is incomplete, not at %v", done)
}
