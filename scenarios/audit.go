package scenarios

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/sim"
)

// DefaultAnomalies is how many anomalies a report explains unless
// RunOptions.Anomalies says otherwise; the counts cover them all.
const DefaultAnomalies = 20

// AllAnomalies, as RunOptions.Anomalies, explains every anomaly.
const AllAnomalies = -1

// NoAnomalies, as RunOptions.Anomalies, explains none: for a run judged
// only by its report's counts (a hunt's search).
const NoAnomalies = -2

// found is every anomalous record the audit found, by kind, in record
// order.
type found struct {
	lost, dups, ambiguous []broker.RecordID
	reorders              []reorder
}

// explainAnomalies explains the first n anomalies (every one when n is
// AllAnomalies, DefaultAnomalies when 0), taking the kinds in turn, most
// severe first, so that every kind shows in a short list.
func (r *runner) explainAnomalies(n int) []Anomaly {
	f := &r.found
	total := len(f.lost) + len(f.dups) + len(f.reorders) + len(f.ambiguous)
	switch n {
	case 0:
		n = DefaultAnomalies
	case AllAnomalies:
		n = total
	case NoAnomalies:
		n = 0
	}
	out := make([]Anomaly, 0, min(n, total))
	if total == 0 {
		return out
	}
	x := newExplainer(r)
	for i := 0; len(out) < n; i++ {
		added := false
		add := func(ok bool, a func() Anomaly) {
			if ok && len(out) < n {
				out = append(out, a())
				added = true
			}
		}
		add(i < len(f.lost), func() Anomaly { return x.lost(f.lost[i]) })
		add(i < len(f.dups), func() Anomaly { return x.duplicated(f.dups[i]) })
		add(i < len(f.reorders), func() Anomaly { return x.reordered(f.reorders[i]) })
		add(i < len(f.ambiguous), func() Anomaly { return x.ambiguous(f.ambiguous[i]) })
		if !added {
			break
		}
	}
	return out
}

// finalLog is the log the audit reads for a partition: the leader's, below
// its high watermark (what a read_uncommitted consumer can read). If the
// partition has no leader, the replica with the highest high watermark.
func (r *runner) finalLog(p broker.PartitionID) *broker.Log {
	if l := r.cl.Leader(p); l != broker.NoLeader {
		if rep := r.cl.Brokers[l].Replica(p); rep.IsLeader() {
			return &rep.Log
		}
	}
	var best *broker.Log
	for _, b := range r.pl.topo.Partitions[p].Replicas {
		l := &r.cl.Brokers[b].Replica(p).Log
		if best == nil || l.HW() > best.HW() {
			best = l
		}
	}
	return best
}

type reorder struct {
	id, witness broker.RecordID
	part        broker.PartitionID // where the witness landed first
}

// audit compares the final committed logs with what the application was
// told (contract 2's definitions).
func (r *runner) audit() *Report {
	r.settleTransactions()
	rep := &Report{Scenario: r.s.Name, Errors: map[string]int64{}, Metrics: map[string]float64{}}
	rep.Config = r.configReport()
	for _, f := range r.pl.ruleFaults() {
		rep.Rules = append(rep.Rules, RuleReport{Fault: f, Fired: r.ruleFired(f)})
	}
	rep.Converged = r.cl.Converged()
	n := len(r.recs)
	copies := make([]uint16, n)
	var reorders []reorder
	// With workload.transactions, the read_uncommitted view is counted
	// apart; the records audit reads what a read_committed consumer reads
	// (the same as the high watermark's view without transactions).
	var uncommitted []uint16
	var views *ConsumersReport
	if r.pl.txnRecords > 0 {
		uncommitted = make([]uint16, n)
		views = &ConsumersReport{}
	}
	coordinator := r.coordinatorPartition()
	for p := range r.pl.topo.Partitions {
		pid := broker.PartitionID(p)
		log := r.finalLog(pid)
		if r.pl.topo.Topics[r.pl.topo.Partitions[p].Topic].Name == broker.TransactionStateTopic {
			if pid == coordinator {
				rep.Partitions = append(rep.Partitions, r.partitionReport(pid, log, 0))
			}
			continue
		}
		hw, lso := log.HW(), log.LastStableOffset()
		_, outcomes := log.TxnEnds()
		maxID := broker.RecordID(0)
		records, markers := int64(0), int64(0)
		batches := log.Batches()
		for bi := range batches {
			b := &batches[bi]
			if b.BaseOffset >= hw {
				break
			}
			if b.IsControl() {
				markers++
				continue
			}
			aborted := outcomes[bi] == broker.MarkerAbort
			for o := b.BaseOffset; o <= b.LastOffset() && o < hw; o++ {
				id := log.Record(o)
				records++
				if views != nil {
					uncommitted[id]++
					views.ReadUncommitted.Visible++
					if aborted || r.abortedByApp(id) {
						views.ReadUncommitted.AbortedRead++
					}
				}
				if o >= lso || aborted {
					continue // a read_committed consumer does not read it
				}
				if views != nil {
					views.ReadCommitted.Visible++
					if r.abortedByApp(id) {
						views.ReadCommitted.AbortedRead++
					}
				}
				if copies[id] == 0 {
					// A later-sent record already landed before this one.
					if id < maxID {
						reorders = append(reorders, reorder{id: id, witness: maxID, part: pid})
					}
					maxID = max(maxID, id)
				}
				if copies[id] < math.MaxUint16 {
					copies[id]++
				}
			}
		}
		pr := r.partitionReport(pid, log, records)
		pr.LastStableOffset, pr.Markers = lso, markers
		for _, b := range batches {
			if b.BaseOffset < hw {
				pr.Bytes += int64(b.Bytes)
			}
		}
		rep.Partitions = append(rep.Partitions, pr)
	}
	if views != nil {
		rep.Transactions = r.transactionsReport()
		r.groupViews(&views.ReadCommitted, copies)
		r.groupViews(&views.ReadUncommitted, uncommitted)
		rep.Consumers = views
	}

	var lost, dups, ambiguous []broker.RecordID
	c := &rep.Records
	c.Sent = int64(n - 1)
	for id := 1; id < n; id++ {
		rec := &r.recs[id]
		switch rec.status {
		case statusAcked:
			c.Acked++
			if copies[id] == 0 {
				c.Lost++
				lost = append(lost, broker.RecordID(id))
			}
		case statusFailed:
			c.Failed++
		default:
			c.Pending++
		}
		if rec.status != statusAcked && copies[id] > 0 {
			c.Ambiguous++
			ambiguous = append(ambiguous, broker.RecordID(id))
		}
		if copies[id] > 1 {
			c.Duplicated += int64(copies[id] - 1)
			dups = append(dups, broker.RecordID(id))
		}
	}
	c.Reordered = int64(len(reorders))
	// Per topic: a key written to two topics is in two partitions by design.
	// Only the (topic, key) pairs sent are kept, whatever workload.keys is.
	type topicKey struct{ topic, key int32 }
	keyPart := map[topicKey]int32{} // the partition, or -2 once counted split
	// Without workload.keys every record is keyless: the walk, a random
	// read of the ledger per record, would find nothing.
	keyed := r.s.Workload.Keys > 0
	for p := 0; keyed && p < len(r.pl.topo.Partitions); p++ {
		log := r.finalLog(broker.PartitionID(p))
		topic := int32(r.pl.topo.Partitions[p].Topic)
		for o := int64(0); o < log.HW(); o++ {
			if log.Record(o) == 0 {
				continue // a transaction marker, or a __transaction_state record
			}
			k := r.recs[log.Record(o)].key
			if k < 0 {
				continue
			}
			tk := topicKey{topic, k}
			switch part, seen := keyPart[tk]; {
			case !seen:
				keyPart[tk] = int32(p)
			case part >= 0 && part != int32(p):
				keyPart[tk] = -2 // counted once
				c.KeysSplit++
			}
		}
	}
	if c.KeysSplit > 0 {
		c.KeysSplitExample = r.keySplitExample()
	}
	slices.SortFunc(reorders, func(a, b reorder) int { return int(a.id) - int(b.id) })
	rep.AnomalyCount = len(lost) + len(dups) + len(reorders) + len(ambiguous)

	r.found = found{lost: lost, dups: dups, reorders: reorders, ambiguous: ambiguous}
	rep.Anomalies = r.explainAnomalies(r.opt.Anomalies)
	r.metrics(rep)
	rep.Timeline = r.timeline()
	return rep
}

// keySplitExample is the key whose records split earliest in send order:
// the partition of its first record, the partition a later record went
// to instead, and the last fault before that copy was appended (add-partitions
// changes what the key hashes to; restart-producer may bring another
// client's partitioner).
func (r *runner) keySplitExample() *KeySplit {
	type topicKey struct{ topic, key int32 }
	type copyAt struct {
		id broker.RecordID
		p  int32
		o  int64
	}
	first := map[topicKey]copyAt{} // the key's earliest-sent record
	visit := func(f func(tk topicKey, at copyAt)) {
		for p := range r.pl.dataPartitions() {
			log := r.finalLog(broker.PartitionID(p))
			topic := int32(r.pl.topo.Partitions[p].Topic)
			for o := int64(0); o < log.HW(); o++ {
				if id := log.Record(o); id != 0 && r.recs[id].key >= 0 {
					f(topicKey{topic, r.recs[id].key}, copyAt{id, int32(p), o})
				}
			}
		}
	}
	visit(func(tk topicKey, at copyAt) {
		if f, ok := first[tk]; !ok || at.id < f.id {
			first[tk] = at
		}
	})
	var moved copyAt
	var from int32
	visit(func(tk topicKey, at copyAt) {
		if f := first[tk]; at.p != f.p && (moved.id == 0 || at.id < moved.id) {
			moved, from = at, f.p
		}
	})
	if moved.id == 0 {
		return nil
	}
	ks := &KeySplit{Key: "key-" + strconv.Itoa(int(r.recs[moved.id].key)), From: r.pl.topo.Name(broker.PartitionID(from)),
		To: r.pl.topo.Name(broker.PartitionID(moved.p)), Record: moved.id}
	// The copies' appends, not their sends: the application may have sent
	// the record again after the fault.
	appended := func(at copyAt) sim.Time {
		log := r.finalLog(broker.PartitionID(at.p))
		return log.Batches()[log.BatchIndex(at.o)].Timestamp
	}
	if e := r.partitionMover(appended(first[topicKey{int32(r.pl.topo.Partitions[moved.p].Topic), r.recs[moved.id].key}]), appended(moved)); e != nil {
		ks.After = e.Kind.String() + " at " + e.At.String()
	}
	return ks
}

// moverSlack is how long before a key's earlier copy was appended a fault
// may have happened and still be what moved the key: a batch in flight
// when the fault came is appended just after it.
const moverSlack = sim.Second

// partitionMover is the last fault that changes which partition a record
// goes to (add-partitions: a key hashes over a new count; restart-producer:
// another client's partitioner may choose), in the window from moverSlack
// before a record's earlier copy was appended (from) to the later copy's
// append (to); nil if none. The trace is in time order.
func (r *runner) partitionMover(from, to sim.Time) *sim.Entry {
	entries := r.w.Trace.Entries()
	i := sort.Search(len(entries), func(i int) bool { return entries[i].At > to })
	for i--; i >= 0 && entries[i].At >= from-moverSlack; i-- {
		if e := &entries[i]; e.Kind == event.AddPartitions || e.Kind == event.RestartProducer {
			return e
		}
	}
	return nil
}

// maxTimeline caps the timeline; a long flapping run would drown the story.
const maxTimeline = 40

// timeline picks the cluster-changing events out of the trace.
func (r *runner) timeline() []TimelineEntry {
	out := []TimelineEntry{}
	skipped := 0
	coordinator := r.coordinatorPartition()
	entries := r.w.Trace.Entries()
	for i := range entries {
		e := &entries[i]
		if e.Kind.Timeline() == event.Hidden {
			continue // most entries: skip them before anything else
		}
		if e.Subject >= 0 && int(e.Subject) < len(r.pl.topo.Partitions) && broker.PartitionID(e.Subject) != coordinator &&
			r.pl.topo.Topics[r.pl.topo.Partitions[e.Subject].Topic].Name == broker.TransactionStateTopic {
			continue // the other __transaction_state partitions are not part of the story
		}
		if len(out) == maxTimeline {
			skipped++ // counted, not worded: a long run has thousands
			continue
		}
		var what string
		switch e.Kind.Timeline() {
		case event.Plain:
			what = e.Kind.String()
			if e.Peer >= 0 {
				what += " " + r.w.NodeName(e.Peer)
			}
			if detail := event.Detail(&e.Fields, r.cl); detail != "" {
				what += ": " + detail
			}
		case event.Election:
			what = r.cl.SubjectName(e.Subject) + " leader is " + r.w.NodeName(e.Peer) + " in epoch " + strconv.Itoa(int(e.Epoch)) + " (" + event.Detail(&e.Fields, r.cl) + ")"
		case event.NoLeader:
			what = r.cl.SubjectName(e.Subject) + " has no leader: " + event.Detail(&e.Fields, r.cl)
		case event.Change:
			what = r.cl.SubjectName(e.Subject) + " " + event.Detail(&e.Fields, r.cl)
		}
		out = append(out, TimelineEntry{At: e.At.String(), Node: r.w.NodeName(e.Node), What: what})
	}
	if skipped > 0 {
		out = append(out, TimelineEntry{At: "", Node: "", What: fmt.Sprintf("… %d more (see --trace)", skipped)})
	}
	return out
}

// settleTransactions gives the records of every transaction the
// application was not told is committed the outcome it has: their
// callbacks said success, but the transaction never committed as far as
// the application knows, so they count as failed (TransactionAborted),
// not as acknowledged. A record of such a transaction that a
// read_committed consumer reads anyway is then ambiguous, as it should be.
func (r *runner) settleTransactions() {
	if r.pl.producerCfg.TransactionalID == "" {
		return
	}
	for i := range r.groups {
		if g := &r.groups[i]; g.outcome != groupCommitted {
			r.markAborted(g)
		}
	}
}

// coordinatorPartition is the __transaction_state partition of the
// producer's transactional.id, or -1.
func (r *runner) coordinatorPartition() broker.PartitionID {
	t := r.pl.topo.TopicIndex(broker.TransactionStateTopic)
	if t < 0 || r.pl.producerCfg.TransactionalID == "" {
		return -1
	}
	tp := &r.pl.topo.Topics[t]
	return tp.First + broker.PartitionID(broker.TxnCoordinatorPartition(r.pl.producerCfg.TransactionalID, tp.Partitions))
}

// abortedByApp reports whether a record belongs to a transaction the
// application aborted on purpose: no consumer reading committed data may
// see it, whatever the markers say.
func (r *runner) abortedByApp(id broker.RecordID) bool {
	g := r.groupOf(id)
	return g >= 0 && r.groups[g].outcome == groupAborted
}

// transactionsReport counts the application's transactions by outcome.
func (r *runner) transactionsReport() *TransactionsReport {
	facts := r.errorFacts()
	t := &TransactionsReport{Total: int64(len(r.groups)), Retried: r.retried,
		TimedOut: int64(facts.coordinatorAborts), FencedOpen: int64(facts.newInstances)}
	for i := range r.groups {
		switch r.groups[i].outcome {
		case groupCommitted:
			t.Committed++
		case groupAborted:
			t.Aborted++
		case groupAbandoned:
			t.Failed++
		default:
			switch {
			case r.pl.producerCfg.TransactionalID != "":
				t.Open++
			case r.allAcked(&r.groups[i]):
				t.Committed++ // without a transactional.id: every write acknowledged
			default:
				t.Failed++
			}
		}
	}
	return t
}

func (r *runner) allAcked(g *group) bool {
	for _, id := range g.ids {
		if r.recs[id].status != statusAcked {
			return false
		}
	}
	return len(g.ids) > 0
}

// groupViews counts, for one consumer view (copies of each record it
// reads), the transactions it sees only part of and the committed records
// it misses.
func (r *runner) groupViews(v *ConsumerView, copies []uint16) {
	for i := range r.groups {
		g := &r.groups[i]
		seen := 0
		for _, id := range g.ids {
			if copies[id] > 0 {
				seen++
			}
		}
		if seen > 0 && seen < len(g.ids) && g.outcome != groupAborted {
			// A group the application aborted is not torn: what shows of
			// it is counted as aborted reads.
			v.Torn++
		}
		committed := g.outcome == groupCommitted || (g.outcome == groupOpen && r.pl.producerCfg.TransactionalID == "" && r.allAcked(g))
		if committed {
			v.CommittedLost += int64(len(g.ids) - seen)
		}
	}
}

func (r *runner) partitionReport(p broker.PartitionID, log *broker.Log, records int64) PartitionReport {
	pt := r.pl.topo.Partitions[p]
	st := r.cl.Controller.State(p)
	stats := r.cl.Controller.Stats(p)
	pr := PartitionReport{
		Topic: r.pl.topo.Topics[pt.Topic].Name, Partition: pt.Index, Leader: int32(st.Leader),
		LogEndOffset: log.LEO(), HighWatermark: log.HW(), LastStableOffset: log.HW(), Records: records,
		OfflineMs: stats.OfflineTime.Ms(), LeaderElections: stats.Elections, UncleanElections: stats.UncleanElections,
		Replicas: []int32{}, ISR: []int32{},
	}
	for _, b := range pt.Replicas {
		pr.Replicas = append(pr.Replicas, int32(b))
	}
	for _, b := range st.ISR {
		pr.ISR = append(pr.ISR, int32(b))
	}
	return pr
}

func (r *runner) configReport() ConfigReport {
	s := r.s
	cr := ConfigReport{
		Producer: r.pl.producerCfg.Effective(), ProducerNotes: r.pl.producerCfg.Notes, Broker: r.pl.brokerProps,
		Cluster: ClusterReport{Brokers: s.Cluster.Brokers, Version: s.Cluster.Version, Features: r.pl.features,
			Latency: s.Cluster.Network.Latency.Duration.String(), Jitter: s.Cluster.Network.Jitter.Duration.String(),
			Bandwidth: s.Cluster.Network.Bandwidth.Text},
		Faults: []string{}, Sets: s.sets,
	}
	if c := r.pl.producerCfg.Client; c != producer.ClientJava {
		cr.ProducerClient = c
	}
	for _, t := range r.pl.topo.Topics {
		// The file's count; add-partitions faults raise it during the run.
		cr.Topics = append(cr.Topics, TopicReport{Name: t.Name, Partitions: t.StartPartitions(), ReplicationFactor: t.ReplicationFactor,
			Config: map[string]string{
				"min.insync.replicas":            strconv.Itoa(t.MinInsyncReplicas),
				"unclean.leader.election.enable": strconv.FormatBool(t.UncleanElection),
			}})
	}
	wl := s.Workload
	dur := "until records are sent"
	if s.Duration.Set {
		dur = s.Duration.Duration.String()
	}
	cr.Workload = WorkloadReport{Topic: wl.Topic, Records: wl.Records, Rate: wl.Rate, Duration: dur, Keys: wl.Keys,
		KeyDistribution: wl.KeyDistribution, ValueBytes: wl.ValueBytes, Value: r.pl.payload.String()}
	if r.pl.txnRecords > 0 {
		tx := &TxnWorkloadReport{Records: r.pl.txnRecords, AbortEvery: wl.Transactions.AbortEvery}
		for _, t := range r.pl.topics {
			tx.Topics = append(tx.Topics, r.pl.topo.Topics[t].Name)
		}
		cr.Workload.Transactions = tx
	}
	for _, f := range s.plan.faults {
		d := describeFault(&f)
		if f.Do == "request-rule" {
			d += fmt.Sprintf("; fired %s", plural(r.ruleFired(f.index), "time"))
		}
		cr.Faults = append(cr.Faults, d)
	}
	return cr
}

// producerMetrics are the producer metrics the report carries, one entry
// each: the name the Java client gives it (producer-metrics group) and its
// value from the run's summed Stats over secs seconds of virtual time.
// Rates are averages over the whole run rather than Kafka's 30-second
// windows (a simplification; LESSONS.md). Sorted by name, as
// Report.Numbers visits them.
var producerMetrics = []struct {
	name  string
	value func(st *producer.Stats, secs float64) float64
}{
	{"batch-size-avg", func(st *producer.Stats, _ float64) float64 {
		return ratio(float64(st.BatchBytes), float64(st.BatchesSent))
	}},
	{"batch-split-rate", func(st *producer.Stats, secs float64) float64 { return ratio(float64(st.BatchSplits), secs) }},
	{"batch-split-total", func(st *producer.Stats, _ float64) float64 { return float64(st.BatchSplits) }},
	// Kafka reports this one in nanoseconds.
	{"bufferpool-wait-time-total", func(st *producer.Stats, _ float64) float64 { return float64(st.BufferWaitTotal) }},
	{"compression-rate-avg", func(st *producer.Stats, _ float64) float64 { return ratio(st.CompressionSum, float64(st.BatchesSent)) }},
	// Selector.SelectorMetrics: every connection closed, by either side or
	// by a failed attempt.
	{"connection-close-total", func(st *producer.Stats, _ float64) float64 { return float64(st.ConnectionsClosed) }},
	{"outgoing-byte-rate", func(st *producer.Stats, secs float64) float64 { return ratio(float64(st.BytesSent), secs) }},
	{"record-error-rate", func(st *producer.Stats, secs float64) float64 { return ratio(float64(st.RecordsErrored), secs) }},
	{"record-error-total", func(st *producer.Stats, _ float64) float64 { return float64(st.RecordsErrored) }},
	{"record-queue-time-avg", func(st *producer.Stats, _ float64) float64 {
		return ratio(st.QueueTimeTotal.Ms(), float64(st.QueueTimeBatches))
	}},
	{"record-retry-rate", func(st *producer.Stats, secs float64) float64 { return ratio(float64(st.RecordsRetried), secs) }},
	{"record-retry-total", func(st *producer.Stats, _ float64) float64 { return float64(st.RecordsRetried) }},
	{"record-send-rate", func(st *producer.Stats, secs float64) float64 { return ratio(float64(st.RecordsSent), secs) }},
	{"record-send-total", func(st *producer.Stats, _ float64) float64 { return float64(st.RecordsSent) }},
	{"record-size-avg", func(st *producer.Stats, _ float64) float64 {
		return ratio(float64(st.RecordSizeMaxSum), float64(st.BatchesSent))
	}},
	{"records-per-request-avg", func(st *producer.Stats, _ float64) float64 {
		return ratio(float64(st.RecordsSent), float64(st.Requests))
	}},
	{"request-latency-avg", func(st *producer.Stats, _ float64) float64 { return ratio(st.LatencyTotal.Ms(), float64(st.Responses)) }},
	{"request-latency-max", func(st *producer.Stats, _ float64) float64 { return round3(st.LatencyMax.Ms()) }},
}

// errorFacts counts, from the trace, the causes that errors share.
func (r *runner) errorFacts() errorFacts {
	var f errorFacts
	for _, e := range r.w.Trace.Entries() {
		switch e.Kind {
		case event.TxnTimeout:
			f.coordinatorAborts++
		case event.TxnFence:
			f.newInstances++
		case event.Reject:
			// NOT_ENOUGH_REPLICAS not from a request rule: the ISR check
			// carries the ISR and min.insync.replicas, the transactional
			// verification (broker.verificationError) nothing.
			if broker.Error(e.Err) == broker.ErrNotEnoughReplicas && !e.Has(event.Injected) {
				if e.Ext != nil && e.Ext.Limit > 0 {
					f.belowMinISR++
				} else {
					f.unverified++
				}
			}
		}
	}
	return f
}

// ratio is a/b to three decimals, 0 when there is nothing to divide by.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round3(a / b)
}

// metrics fills in Kafka-named producer metrics and latency percentiles,
// summed over every producer instance of the run.
func (r *runner) metrics(rep *Report) {
	var st producer.Stats
	for _, p := range r.prodObjs {
		st.Add(p.Stats())
	}
	from := map[string][]errorFrom{} // error name: where the producer met it
	for src, n := range st.Errors {  // filling maps: sorted below
		rep.Errors[src.Err.String()] += n
		from[src.Err.String()] = append(from[src.Err.String()], errorFrom{src.From, n})
	}
	injected := map[string]injection{} // error name: the first request rule that answered with it
	for _, f := range r.pl.faults {
		if name := f.rule.Error.String(); f.Do == "request-rule" && f.rule.Error != broker.ErrNone && injected[name].fault == 0 && r.ruleFired(f.index) > 0 {
			injected[name] = injection{fault: f.index, api: f.rule.API.String(), fired: int64(r.ruleFired(f.index))}
		}
	}
	facts := r.errorFacts()
	for name, srcs := range from { // filling a map: the order does not matter
		if rep.ErrorNotes == nil {
			rep.ErrorNotes = map[string]string{}
		}
		rep.ErrorNotes[name] = errorNoteText(name, sortFrom(srcs), injected[name], rep.Errors[name], facts)
	}
	lat := make([]sim.Time, 0, len(r.recs))
	end := sim.Time(0)
	for id := broker.RecordID(1); int(id) < len(r.recs); id++ {
		done := r.doneAt(id)
		end = max(end, done)
		if r.recs[id].status == statusAcked {
			lat = append(lat, done-r.sentAt(id))
		}
	}
	secs := math.Max(end.Ms(), 1) / 1000
	for _, pm := range producerMetrics {
		rep.Metrics[pm.name] = pm.value(&st, secs)
	}
	rep.CompressionCPUMs = round3(st.CompressionCPU.Ms())
	if len(lat) > 0 {
		// Selection, not a sort: each rank is found in the part above the
		// next lower one, linear time in all.
		rank := func(i int) float64 { return round3(lat[i].Ms()) }
		at := func(q float64) int { return int(math.Ceil(q*float64(len(lat)))) - 1 }
		sum, top := sim.Time(0), lat[0]
		for _, l := range lat {
			sum += l
			top = max(top, l)
		}
		qs := [...]float64{0.5, 0.9, 0.99, 0.999}
		var ps [len(qs)]float64
		from := 0
		for i, q := range qs {
			k := max(at(q), 0)
			selectNth(lat[from:], k-from)
			ps[i], from = rank(k), k
		}
		rep.LatencyMs = Latency{Avg: round3(sum.Ms() / float64(len(lat))), P50: ps[0], P90: ps[1], P99: ps[2],
			P999: ps[3], Max: round3(top.Ms())}
	}
}

// selectNth reorders a so that a[k] is the value a sort would put there,
// with nothing greater before it and nothing smaller after it
// (quickselect: a median-of-three pivot and a three-way partition, so
// runs of equal latencies cost no more than distinct ones).
func selectNth(a []sim.Time, k int) {
	lo, hi := 0, len(a) // the window [lo, hi) holds index k
	for hi-lo > 1 {
		x, y, z := a[lo], a[lo+(hi-lo)/2], a[hi-1]
		pivot := max(min(x, y), min(max(x, y), z))
		// a[lo:lt] < pivot, a[lt:i] == pivot, a[gt:hi] > pivot.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case a[i] < pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] > pivot:
				gt--
				a[gt], a[i] = a[i], a[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return
		}
	}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
