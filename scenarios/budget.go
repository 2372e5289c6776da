package scenarios

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// A run's budgets, derived from the scenario's size with a wide margin: the
// lessons use well under a hundredth of them. They keep every accepted
// scenario finite when a setting (a zero timeout, a session shorter than a
// round trip) makes the simulated cluster spin.
const (
	// eventsPerRecord and eventsPerPartitionSecond size the event budget:
	// a record costs tens of events, and each partition's replication and
	// each broker's heartbeats cost some per virtual second.
	eventsPerRecord          = 1000
	eventsPerPartitionSecond = 2000
	minEvents                = 5_000_000
	// traceLimit bounds the trace's records (about 100 bytes each).
	minTraceRecords = 2_000_000
	maxTraceRecords = 4_000_000
	tracePerRecord  = 200
	// minMemory and memoryPerRecord size the memory budget, counted from
	// the trace, the ledger, the replicas' logs and the queued events.
	minMemory       = 2 << 30
	memoryPerRecord = 512
	// checkEvery is how often, in events, the memory budget and the
	// caller's Stop hook are checked.
	checkEvery = 1 << 14
)

// budget is one run's limits.
type budget struct {
	events uint64
	memory int64 // bytes, approximately
	trace  int
}

// newBudget sizes the budgets from the records the workload sends (over
// all its topics), the partitions and the virtual time the run may take.
func newBudget(records float64, partitions int, virtual sim.Time) budget {
	secs := float64(virtual)/float64(sim.Second) + 1
	events := records*eventsPerRecord + float64(partitions+1)*secs*eventsPerPartitionSecond
	return budget{
		events: uint64(max(events, minEvents)),
		memory: minMemory + int64(records*memoryPerRecord),
		trace:  int(min(max(records*tracePerRecord, minTraceRecords), maxTraceRecords)),
	}
}

// BudgetStop says why and when a budget stopped a run, and what the run
// was busy with then.
type BudgetStop struct {
	// Budget is "events", "memory" or "wall clock".
	Budget string  `json:"budget"`
	Limit  string  `json:"limit"`
	AtMs   float64 `json:"at_ms"`
	// Busiest is the most frequent things in the last records of the run,
	// most frequent first.
	Busiest []string `json:"busiest"`
	// Hint names a setting that explains the loop, when one is recognised.
	Hint string `json:"hint,omitempty"`
}

// String is the one-line summary the text report, run and check print.
func (b *BudgetStop) String() string {
	return fmt.Sprintf("stopped by the %s budget (%s) at %s ms of virtual time", b.Budget, b.Limit, FormatNumber(b.AtMs))
}

// within reports whether the run is still inside its budgets; the first
// time it is not, it records why in r.stopped.
func (r *runner) within() bool {
	if r.stopped != nil {
		return false
	}
	n := r.w.Events()
	switch {
	case n > r.budget.events:
		r.stop("events", fmt.Sprintf("%d events", r.budget.events))
	case n%checkEvery != 0:
	case r.memoryUsed() > r.budget.memory:
		r.stop("memory", fmt.Sprintf("about %d MiB", r.budget.memory>>20))
	case r.opt.Stop != nil && r.opt.Stop():
		r.stop("wall clock", r.opt.StopLimit)
	}
	return r.stopped == nil
}

// memoryUsed approximates the run's memory deterministically from the
// counts of what grows with it: the trace, the ledger, the replicas' logs
// and the queued events. The trace counts by number (messages kept or
// not, RunOptions.Messages; entries whatever room was reserved,
// RunOptions.TraceEntries), so that a run stops at the same point
// whatever it keeps.
func (r *runner) memoryUsed() int64 {
	t := r.w.Trace
	records, batches := r.cl.LogSize()
	return int64(len(t.Entries()))*int64(unsafe.Sizeof(sim.Entry{})+32) +
		int64(t.Len()-len(t.Entries()))*int64(unsafe.Sizeof(sim.MsgEntry{})) +
		int64(cap(r.recs))*ledgerEntryBytes +
		records*int64(unsafe.Sizeof(broker.RecordID(0))) + batches*int64(unsafe.Sizeof(broker.LogBatch{})) +
		int64(r.w.Pending())*int64(unsafe.Sizeof(sim.Event{})+64)
}

func (r *runner) stop(which, limit string) {
	r.stopped = &BudgetStop{Budget: which, Limit: limit, AtMs: r.w.Now().Ms(), Busiest: r.busiest(), Hint: r.loopHint()}
	e := r.entry(event.BudgetStop, r.id)
	e.X().Label = which
	r.w.Trace.Add(e)
}

// busiest counts the latest records by what happened, on which node, to
// which peer: the loop a budget stopped shows as a few lines.
func (r *runner) busiest() []string {
	type key struct {
		kind       event.Kind
		node, peer sim.NodeID
		msg        string
	}
	counts := map[key]int{}
	for _, rec := range r.w.Trace.RecentRecords() {
		counts[key{rec.Kind, rec.Node, rec.Peer, rec.Msg}]++
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.node != b.node {
			return a.node < b.node
		}
		if a.peer != b.peer {
			return a.peer < b.peer
		}
		return a.msg < b.msg
	})
	var out []string
	for _, k := range keys[:min(len(keys), 5)] {
		what := k.kind.String()
		if k.msg != "" {
			what += " " + k.msg
		}
		line := fmt.Sprintf("%s %s", r.w.NodeName(k.node), what)
		if k.peer >= 0 {
			line += " (peer " + r.w.NodeName(k.peer) + ")"
		}
		out = append(out, fmt.Sprintf("%s: %d of the last %d records", line, counts[k], len(r.w.Trace.RecentRecords())))
	}
	return out
}

// loopHint names a setting that makes the cluster or the producer spin,
// when the scenario has one.
func (r *runner) loopHint() string {
	rtt := 2 * sim.FromDuration(r.s.Cluster.Network.Latency.Duration)
	cfg := r.pl.brokerCfg
	switch session, hb := cfg.BrokerSessionTimeout, cfg.BrokerHeartbeatInterval; {
	case session <= rtt+hb:
		// KRaft's BrokerHeartbeatManager fences a broker whose last
		// heartbeat is older than broker.session.timeout.ms.
		return fmt.Sprintf("broker.session.timeout.ms=%s is not above broker.heartbeat.interval.ms=%s plus one network round trip (%v): the controller fences brokers between their heartbeats",
			FormatNumber(session.Ms()), FormatNumber(hb.Ms()), rtt)
	case r.cfg.RequestTimeoutMs <= 0 || sim.Millis(int64(r.cfg.RequestTimeoutMs)) <= rtt:
		// NetworkClient.handleTimedOutRequests closes the connection of a
		// request older than request.timeout.ms.
		return fmt.Sprintf("request.timeout.ms=%d is not above one network round trip (%v): every request times out and the producer reconnects",
			r.cfg.RequestTimeoutMs, rtt)
	case cfg.ReplicaFetchMinBytes > 1 && sim.Millis(int64(r.cfg.RequestTimeoutMs)) <= cfg.ReplicaFetchWaitMax+rtt:
		// A follower's fetch waits up to replica.fetch.wait.max.ms for
		// replica.fetch.min.bytes (DelayedFetch); an acks=all write or a
		// transaction state change waits for that fetch.
		return fmt.Sprintf("request.timeout.ms=%d is not above replica.fetch.wait.max.ms=%s plus a round trip, and replica.fetch.min.bytes=%d makes followers wait that long for small writes: acks=all writes and transaction state changes outlast the producer's requests, which time out and are sent again",
			r.cfg.RequestTimeoutMs, FormatNumber(cfg.ReplicaFetchWaitMax.Ms()), cfg.ReplicaFetchMinBytes)
	}
	return ""
}

// maxBlockers bounds the cluster's part of the report's list of what
// blocked convergence.
const maxBlockers = 20

// blockers says what kept the run's post-heal phase from settling: the
// cluster's blockers, the producer if it still had work, what the run was
// busiest with at the end, and a setting that explains the loop when one
// is recognised.
func (r *runner) blockers() []broker.Blocker {
	out := r.cl.Blockers()
	if len(out) > maxBlockers {
		more := len(out) - maxBlockers + 1
		out = append(out[:maxBlockers-1], broker.Blocker{What: "and more", Reason: fmt.Sprintf("%d more like these", more)})
	}
	if r.appsBusy() {
		out = append(out, broker.Blocker{What: "producer", Reason: "still had records or a transaction in progress when the run ended"})
	}
	busiest := r.busiest()
	for _, line := range busiest[:min(3, len(busiest))] {
		out = append(out, broker.Blocker{What: "busiest at the end", Reason: line})
	}
	if hint := r.loopHint(); hint != "" {
		out = append(out, broker.Blocker{What: "likely cause", Reason: hint})
	}
	return out
}
