package producer

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTxnTransitions checks every pair of transactional states against the
// moves TransactionManager.State.isTransitionValid allows (without the
// transaction.version 2 reset to UNINITIALIZED, which is not modelled).
func TestTxnTransitions(t *testing.T) {
	legal := map[[2]txnState]bool{}
	for _, m := range [][2]txnState{
		{txnUninitialized, txnInitializing}, {txnAborting, txnInitializing},
		{txnInitializing, txnReady}, {txnCommitting, txnReady}, {txnAborting, txnReady},
		{txnReady, txnInTransaction},
		{txnInTransaction, txnCommitting},
		{txnInTransaction, txnAborting}, {txnAbortableError, txnAborting},
		{txnInTransaction, txnAbortableError}, {txnCommitting, txnAbortableError},
		{txnAbortableError, txnAbortableError}, {txnInitializing, txnAbortableError},
	} {
		legal[m] = true
	}
	for from := txnUninitialized; from <= txnFatalError; from++ {
		legal[[2]txnState{from, txnFatalError}] = true // from anywhere
	}
	for from := txnUninitialized; from <= txnFatalError; from++ {
		for to := txnUninitialized; to <= txnFatalError; to++ {
			t.Run(fmt.Sprintf("%v to %v", from, to), func(t *testing.T) {
				tx := &transactions{id: "app", state: from}
				move := func() { tx.transitionTo(to) }
				if legal[[2]txnState{from, to}] {
					assert.NotPanics(t, move)
					assert.Equal(t, to, tx.state)
				} else {
					assert.PanicsWithValue(t, "producer: transactional.id app: invalid transition from "+from.String()+" to "+to.String(), move)
					assert.Equal(t, from, tx.state, "a refused move leaves the state")
				}
			})
		}
	}
}

// TestBatchTransitions checks every pair of batch states: a batch is
// drained from the accumulator, comes back for a retry only from a
// request, and never moves once finished.
func TestBatchTransitions(t *testing.T) {
	legal := map[[2]batchState]bool{
		{batchOpen, batchClosed}:   true,
		{batchOpen, batchInFlight}: true, {batchClosed, batchInFlight}: true, {batchRetrying, batchInFlight}: true,
		{batchInFlight, batchRetrying}: true,
	}
	for _, from := range []batchState{batchOpen, batchClosed, batchInFlight, batchRetrying} {
		legal[[2]batchState{from, batchSucceeded}] = true
		legal[[2]batchState{from, batchFailed}] = true
	}
	for from := batchOpen; from <= batchFailed; from++ {
		for to := batchOpen; to <= batchFailed; to++ {
			t.Run(fmt.Sprintf("%v to %v", from, to), func(t *testing.T) {
				b := &Batch{ID: 7, state: from}
				move := func() { b.become(to) }
				if legal[[2]batchState{from, to}] {
					assert.NotPanics(t, move)
					assert.Equal(t, to, b.state)
				} else {
					assert.PanicsWithValue(t, "producer: batch 7: invalid transition from "+from.String()+" to "+to.String(), move)
				}
			})
		}
	}
}

func TestBatchClose(t *testing.T) {
	for _, tc := range []struct {
		from, want batchState
	}{
		{batchOpen, batchClosed},
		{batchClosed, batchClosed},
		{batchRetrying, batchRetrying}, // a retried batch is closed already
	} {
		b := &Batch{state: tc.from}
		b.close()
		assert.Equal(t, tc.want, b.state, "close from %v", tc.from)
		assert.False(t, b.hasRoomFor(1), "a closed batch takes no appends")
	}
}
