package broker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/sim"
)

// Blocker is one reason the cluster has not converged: what is stuck (a
// partition, a broker, a transaction coordinator) and why, in words for a
// learner.
type Blocker struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// Blockers lists what keeps Converged and TransactionsSettled false: brokers
// the controller still fences, then each partition that lacks a leader, a
// full ISR or agreeing replicas, then coordinators still completing a
// transaction. It is empty when the cluster has converged.
func (c *Cluster) Blockers() []Blocker {
	var out []Blocker
	for id := 1; id < len(c.Brokers); id++ {
		b := sim.NodeID(id)
		switch {
		case !c.W.Up(b):
			out = append(out, Blocker{c.NodeName(b), "is down"})
		case c.Controller.Fenced(b):
			out = append(out, Blocker{c.NodeName(b), "is still fenced by the controller: its heartbeats do not arrive within broker.session.timeout.ms, so it leads nothing and cannot rejoin an ISR"})
		}
	}
	for p := range c.Topo.Partitions {
		if reason := c.partitionBlocker(PartitionID(p)); reason != "" {
			out = append(out, Blocker{c.Topo.Name(PartitionID(p)), reason})
		}
	}
	for _, b := range c.Brokers[1:] {
		if c.W.Up(b.id) && !b.TransactionsSettled() {
			out = append(out, Blocker{"transaction coordinator on " + c.NodeName(b.id),
				"a transaction is still completing: a state change in __transaction_state, or the commit or abort markers in the partitions it wrote to, are not yet written and replicated"})
		}
	}
	return out
}

// partitionBlocker says why one partition has not converged, or "".
func (c *Cluster) partitionBlocker(p PartitionID) string {
	st := c.Controller.State(p)
	part := &c.Topo.Partitions[p]
	topic := &c.Topo.Topics[part.Topic]
	if st.Leader == NoLeader {
		why := "no replica in its ISR " + nodes(st.ISR) + " is alive and unfenced"
		if c.Cfg.EligibleLeaderReplicas {
			why = "no replica in its ISR " + nodes(st.ISR) + " or ELR " + nodes(st.ELR) + " is alive and unfenced"
		}
		if !topic.UncleanElection {
			why += ", and unclean.leader.election.enable=false keeps the other replicas from being elected"
		}
		return "has no leader: " + why
	}
	var missing []sim.NodeID
	for _, r := range part.Replicas {
		if !slices.Contains(st.ISR, r) {
			missing = append(missing, r)
		}
	}
	lead := c.Brokers[st.Leader].replicas[p]
	if len(missing) > 0 {
		why := fmt.Sprintf("ISR %s lacks replicas %s", nodes(st.ISR), nodes(missing))
		if len(st.ISR) < topic.MinInsyncReplicas {
			why += fmt.Sprintf(", below min.insync.replicas=%d, so acks=all writes are refused", topic.MinInsyncReplicas)
		}
		for _, r := range missing {
			f := c.Brokers[r].replicas[p]
			switch {
			case !c.W.Up(r) || c.Controller.Fenced(r):
			case f.Log.LEO() < lead.Log.LEO():
				why += fmt.Sprintf("; broker-%d's log ends at offset %d, the leader's at %d: it has not caught up", r, f.Log.LEO(), lead.Log.LEO())
			default:
				why += fmt.Sprintf("; broker-%d is alive but the leader has not seen it fetch up to its log end within replica.lag.time.max.ms (a fetch round trip may take longer)", r)
			}
		}
		return why
	}
	if !lead.IsLeader() {
		return fmt.Sprintf("broker-%d has not yet taken the leadership the controller gave it", st.Leader)
	}
	if lead.Log.HW() != lead.Log.LEO() {
		return fmt.Sprintf("the leader broker-%d's high watermark %d is below its log end offset %d: its followers have not fetched everything", st.Leader, lead.Log.HW(), lead.Log.LEO())
	}
	for _, r := range part.Replicas {
		f := c.Brokers[r].replicas[p]
		if f.Log.LEO() != lead.Log.LEO() || f.Log.HW() != lead.Log.HW() {
			return fmt.Sprintf("broker-%d's log (end %d, high watermark %d) does not match the leader broker-%d's (end %d, high watermark %d): replication has not caught up",
				r, f.Log.LEO(), f.Log.HW(), st.Leader, lead.Log.LEO(), lead.Log.HW())
		}
	}
	return ""
}

// nodes writes broker ids as the trace and the timeline write an ISR
// (Kafka's log form): [1 2 3].
func nodes(ids []sim.NodeID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return "[" + strings.Join(s, " ") + "]"
}
