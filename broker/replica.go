package broker

import (
	"fmt"
	"slices"

	"github.com/kafkasim/kafkasim/sim"
)

// followerState is what a leader knows about one follower of a partition
// (kafka.cluster.Replica / ReplicaState).
type followerState struct {
	id                 sim.NodeID
	leo                int64 // the follower's log end, from its last fetch; -1 unknown
	lastCaughtUp       sim.Time
	lastFetchLeaderLEO int64
	lastFetchTime      sim.Time
}

// neverCaughtUp is the lastCaughtUp of a follower outside the ISR when a
// leader takes over. Kafka uses 0, which is long ago in wall-clock time;
// virtual time starts at 0, so the simulator needs a time truly in the past.
const neverCaughtUp sim.Time = -sim.Never / 2

// caughtUp is ReplicaState.isCaughtUp: at the leader's log end, or caught up
// within the last replica.lag.time.max.ms.
func (f *followerState) caughtUp(leaderLEO int64, now, maxLag sim.Time) bool {
	return f.leo == leaderLEO || now-f.lastCaughtUp <= maxLag
}

// Replica is one broker's copy of a partition. The log and producer state
// survive a crash; the role fields are volatile.
type Replica struct {
	ID        PartitionID
	Log       Log
	producers producerStates

	role           replicaRole
	leader         sim.NodeID
	leaderEpoch    int32
	partitionEpoch int32
	isr            []sim.NodeID // committed ISR, as the metadata says

	// Leader side.
	followers    []followerState
	alterPending bool
	alterISR     []sim.NodeID
	alterSentAt  sim.Time

	// Follower side.
	fetchDelayUntil sim.Time
}

// IsLeader reports whether this replica believes it leads the partition.
func (r *Replica) IsLeader() bool { return r.role == roleLeader }

// LeaderEpoch is the newest leader epoch this replica knows.
func (r *Replica) LeaderEpoch() int32 { return r.leaderEpoch }

// ISR is the committed ISR this replica knows (meaningful on a leader).
func (r *Replica) ISR() []sim.NodeID { return r.isr }

// replicaRole is what a broker does for a partition it holds: lead it,
// follow its leader (Partition.makeLeader, Partition.makeFollower), or
// nothing until the metadata says, after a start or restart.
type replicaRole uint8

const (
	roleNone replicaRole = iota
	roleLeader
	roleFollower
)

func (r replicaRole) String() string { return [...]string{"none", "leader", "follower"}[r] }

// become takes up a role for a leader epoch (ReplicaManager.applyDelta's
// makeLeader and makeFollower). A broker may take any role from any other,
// but the leader epoch never goes back, and a leader leads again only for a
// newer epoch (Partition.makeLeader's isNewLeaderEpoch); roleNone, on a
// restart, forgets the epoch. A refused move is a bug in the simulator and
// panics.
func (r *Replica) become(role replicaRole, leader sim.NodeID, epoch int32) {
	if role != roleNone && (epoch < r.leaderEpoch || (role == roleLeader && r.role == roleLeader && epoch == r.leaderEpoch)) {
		panic(fmt.Sprintf("broker: partition %d: invalid move from %v at leader epoch %d to %v at leader epoch %d",
			r.ID, r.role, r.leaderEpoch, role, epoch))
	}
	r.role, r.leader, r.leaderEpoch = role, leader, epoch
}

func (r *Replica) resetRole() {
	r.become(roleNone, NoLeader, -1)
	r.partitionEpoch = -1
	r.isr = nil
	r.alterPending = false
	r.alterISR = nil
	r.fetchDelayUntil = 0
	for i := range r.followers {
		r.followers[i].leo = -1
	}
}

// maximalISR is the ISR used for the high watermark and for acks=all: the
// committed ISR, plus a replica whose addition is in flight (Kafka's
// "maximal ISR", KIP-497). A pending shrink does not count until committed.
func (r *Replica) maximalISR() []sim.NodeID {
	if r.alterPending && len(r.alterISR) > len(r.isr) {
		return r.alterISR
	}
	return r.isr
}

func (r *Replica) follower(id sim.NodeID) *followerState {
	for i := range r.followers {
		if r.followers[i].id == id {
			return &r.followers[i]
		}
	}
	return nil
}

// inReplicaOrder sorts an ISR by the partition's assignment order, so ISRs
// print and compare the same way every run.
func inReplicaOrder(isr []sim.NodeID, replicas []sim.NodeID) []sim.NodeID {
	out := make([]sim.NodeID, 0, len(isr))
	for _, b := range replicas {
		if slices.Contains(isr, b) {
			out = append(out, b)
		}
	}
	return out
}
