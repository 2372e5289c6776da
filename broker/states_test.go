package broker

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTxnStateTransitions checks every pair of coordinator states against
// TransactionState's validPreviousStates, with the aborts that
// transaction.version 2 allows with nothing open, plus the simulator's
// return from a fence that was not written.
func TestTxnStateTransitions(t *testing.T) {
	legal := map[[2]TxnState]bool{}
	for to, froms := range map[TxnState][]TxnState{
		TxnEmpty:             {TxnEmpty, TxnCompleteCommit, TxnCompleteAbort},
		TxnOngoing:           {TxnOngoing, TxnEmpty, TxnCompleteCommit, TxnCompleteAbort, TxnPrepareEpochFence},
		TxnPrepareCommit:     {TxnOngoing},
		TxnPrepareAbort:      {TxnOngoing, TxnPrepareEpochFence, TxnEmpty, TxnCompleteCommit, TxnCompleteAbort},
		TxnCompleteCommit:    {TxnPrepareCommit},
		TxnCompleteAbort:     {TxnPrepareAbort},
		TxnPrepareEpochFence: {TxnOngoing},
	} {
		for _, from := range froms {
			legal[[2]TxnState{from, to}] = true
		}
	}
	require.Len(t, legal, 17)
	for from := TxnEmpty; from <= TxnPrepareEpochFence; from++ {
		for to := TxnEmpty; to <= TxnPrepareEpochFence; to++ {
			t.Run(fmt.Sprintf("%v to %v", from, to), func(t *testing.T) {
				m := &txnMeta{TxnLogEntry: TxnLogEntry{TransactionalID: "app", State: from}}
				move := func() { m.transitionTo(to) }
				if legal[[2]TxnState{from, to}] {
					assert.NotPanics(t, move)
					assert.Equal(t, to, m.State)
				} else {
					assert.PanicsWithValue(t, "broker: transactional.id app: invalid transition from "+from.String()+" to "+to.String(), move)
					assert.Equal(t, from, m.State, "a refused move leaves the state")
				}
			})
		}
	}
}

// TestReplicaRoles checks the role moves: any role may follow any other,
// but the leader epoch never goes back and a leader leads again only for a
// newer epoch; a restart (roleNone) forgets the epoch.
func TestReplicaRoles(t *testing.T) {
	for _, tc := range []struct {
		name      string
		from      replicaRole
		fromEpoch int32
		to        replicaRole
		epoch     int32
		ok        bool
	}{
		{"start as leader", roleNone, -1, roleLeader, 0, true},
		{"start as follower", roleNone, -1, roleFollower, 0, true},
		{"leader steps down", roleLeader, 3, roleFollower, 4, true},
		{"follower takes over", roleFollower, 3, roleLeader, 4, true},
		{"leader re-elected", roleLeader, 3, roleLeader, 4, true},
		{"follower of a new leader", roleFollower, 3, roleFollower, 4, true},
		{"follower told again", roleFollower, 3, roleFollower, 3, true},
		{"follower made leader in its epoch", roleFollower, 3, roleLeader, 3, true},
		{"restart", roleLeader, 3, roleNone, -1, true},
		{"leader again in the same epoch", roleLeader, 3, roleLeader, 3, false},
		{"leader with an older epoch", roleFollower, 3, roleLeader, 2, false},
		{"follower with an older epoch", roleLeader, 3, roleFollower, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Replica{ID: 5, role: tc.from, leaderEpoch: tc.fromEpoch}
			move := func() { r.become(tc.to, 1, tc.epoch) }
			if tc.ok {
				assert.NotPanics(t, move)
				assert.Equal(t, tc.to, r.role)
				assert.Equal(t, tc.epoch, r.leaderEpoch)
				return
			}
			assert.PanicsWithValue(t, fmt.Sprintf("broker: partition 5: invalid move from %v at leader epoch %d to %v at leader epoch %d",
				tc.from, tc.fromEpoch, tc.to, tc.epoch), move)
			assert.Equal(t, tc.from, r.role, "a refused move leaves the role")
		})
	}
}
