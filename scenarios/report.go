package scenarios

import "github.com/kafkasim/kafkasim/broker"

// Report is contract 2 of ARCHITECTURE.md: the JSON report of one run. Field names
// are snake_case except Kafka's own names (metrics, error codes,
// properties). Nothing here depends on the wall clock.
type Report struct {
	Scenario string       `json:"scenario"`
	Seed     uint64       `json:"seed"`
	Config   ConfigReport `json:"config"`
	Records  Counts       `json:"records"`
	// Transactions and Consumers are there with workload.transactions.
	Transactions *TransactionsReport `json:"transactions,omitempty"`
	Consumers    *ConsumersReport    `json:"consumers,omitempty"`
	Errors       map[string]int64    `json:"errors"`
	Anomalies    []Anomaly           `json:"anomalies"`
	AnomalyCount int                 `json:"anomaly_count"`
	Metrics      map[string]float64  `json:"metrics"`
	LatencyMs    Latency             `json:"latency_ms"`
	Partitions   []PartitionReport   `json:"partitions"`
	Timeline     []TimelineEntry     `json:"timeline"`
	// Rules counts how often each request-rule fault fired.
	Rules     []RuleReport `json:"rules,omitempty"`
	Converged bool         `json:"converged"`
	// NotConverged names what kept the cluster from settling after the
	// heal (at most maxBlockers entries), when it did not.
	NotConverged []broker.Blocker `json:"not_converged,omitempty"`
	// StoppedByBudget is set when a budget stopped the run before its end.
	StoppedByBudget *BudgetStop `json:"stopped_by_budget,omitempty"`
	// TraceCut says the trace reached its cap: later records were counted,
	// not kept, and explanations may be partial.
	TraceCut     bool           `json:"trace_cut,omitempty"`
	Expectations []ExpectResult `json:"expectations,omitempty"`

	// ErrorNotes says, for each error counted, which request returned it,
	// why, and how the producer reacted (errornotes.go).
	ErrorNotes map[string]string `json:"error_notes,omitempty"`
	// CompressionCPUMs is the producer's CPU time compressing records, in
	// virtual ms, from the codec cost table (codec/cost.go): what
	// compression.type costs. Kafka has no metric for it.
	CompressionCPUMs float64 `json:"compression_cpu_ms"`
}

// RuleReport is how often one request-rule fault fired, over the brokers
// it applied to. Fault is its position in the file, from 1.
type RuleReport struct {
	Fault int `json:"fault"`
	Fired int `json:"fired"`
}

// ConfigReport is the effective configuration, defaults filled in.
type ConfigReport struct {
	Producer      map[string]string `json:"producer"`
	ProducerNotes []string          `json:"producer_notes,omitempty"`
	Broker        map[string]string `json:"broker"`
	Cluster       ClusterReport     `json:"cluster"`
	Topics        []TopicReport     `json:"topics"`
	Workload      WorkloadReport    `json:"workload"`
	Faults        []string          `json:"faults"`
	// ProducerClient is producer.client when it is not the Java client.
	ProducerClient string `json:"producer_client,omitempty"`
	// Sets are the --set arguments the run took, in order.
	Sets []string `json:"sets,omitempty"`
}

// ClusterReport describes the cluster and network.
type ClusterReport struct {
	Brokers int    `json:"brokers"`
	Version string `json:"version"`
	// Features are the feature levels in effect, by Kafka's feature name.
	Features  map[string]string `json:"features"`
	Latency   string            `json:"latency"`
	Jitter    string            `json:"jitter"`
	Bandwidth string            `json:"bandwidth"`
}

// TopicReport is one topic's layout and config.
type TopicReport struct {
	Name              string            `json:"name"`
	Partitions        int               `json:"partitions"`
	ReplicationFactor int               `json:"replication.factor"`
	Config            map[string]string `json:"config"`
}

// WorkloadReport is the workload as run.
type WorkloadReport struct {
	Topic           string  `json:"topic"`
	Records         int     `json:"records"`
	Rate            float64 `json:"rate"`
	Duration        string  `json:"duration"`
	Keys            int     `json:"keys"`
	KeyDistribution string  `json:"key.distribution"`
	ValueBytes      int     `json:"value.bytes"`
	// Value is workload.value: what the values look like (json, text,
	// random), which decides how well they compress.
	Value string `json:"value"`
	// Transactions is workload.transactions, when set.
	Transactions *TxnWorkloadReport `json:"transactions,omitempty"`
}

// Counts are per-record outcomes (contract 2's definitions).
type Counts struct {
	Sent       int64 `json:"sent"`
	Acked      int64 `json:"acked"`
	Failed     int64 `json:"failed"`
	Pending    int64 `json:"pending"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	Reordered  int64 `json:"reordered"`
	Ambiguous  int64 `json:"ambiguous"`
	// KeysSplit counts keys whose records are in more than one partition
	// of the final logs: their per-key order is gone.
	KeysSplit int64 `json:"keys_split"`
	// KeysSplitExample is one split key, when there are any.
	KeysSplitExample *KeySplit `json:"keys_split_example,omitempty"`
}

// KeySplit is a key whose records went to two partitions: its first
// record's, and the one a later record (Record) went to instead.
type KeySplit struct {
	Key    string          `json:"key"`
	From   string          `json:"from"`
	To     string          `json:"to"`
	Record broker.RecordID `json:"record"`
	// After names the last fault before Record was appended to To
	// ("add-partitions at 2.000s"), if any.
	After string `json:"after,omitempty"`
}

// TxnWorkloadReport is workload.transactions as run.
type TxnWorkloadReport struct {
	Records    int      `json:"records"`
	Topics     []string `json:"topics"`
	AbortEvery int      `json:"abort.every"`
}

// TransactionsReport is what the application was told about its
// transactions (its groups of records, with or without a transactional.id).
type TransactionsReport struct {
	Total     int64 `json:"total"`
	Committed int64 `json:"committed"` // commitTransaction() returned; without a transactional.id, every record acknowledged
	Aborted   int64 `json:"aborted"`   // the application aborted them (abort.every)
	Retried   int64 `json:"retried"`   // sent again after an abort or by a new instance
	Failed    int64 `json:"failed"`    // never committed: some write failed (without a transactional.id), or its instance died with it open
	Open      int64 `json:"open"`      // a transaction not finished when the run ended
	// The coordinator's own aborts (trace events), whatever the
	// application was told: transactions open longer than
	// transaction.timeout.ms (TxnTimeout), and open ones a new instance's
	// InitProducerId fenced (TxnFence).
	TimedOut   int64 `json:"coordinator_timed_out"`
	FencedOpen int64 `json:"coordinator_fenced_open"`
}

// ConsumersReport is what a consumer reading every partition of the final
// logs sees, for each isolation.level.
type ConsumersReport struct {
	ReadCommitted   ConsumerView `json:"read_committed"`
	ReadUncommitted ConsumerView `json:"read_uncommitted"`
}

// ConsumerView is one consumer's view of the final logs.
// read_uncommitted reads up to the high watermark; read_committed up to
// the last stable offset, skipping records of aborted transactions.
// Transaction markers are not records and are never counted.
type ConsumerView struct {
	Visible int64 `json:"visible"` // record copies it reads
	// AbortedRead counts record copies it reads that belong to aborted
	// transactions (Jepsen's G1a, aborted read).
	AbortedRead int64 `json:"aborted_read"`
	// Torn counts transactions it sees only part of: some records of the
	// group visible, others not.
	Torn int64 `json:"torn_transactions"`
	// CommittedLost counts records of committed transactions it does not see.
	CommittedLost int64 `json:"committed_lost"`
}

// Anomaly is one lost, duplicated, reordered or ambiguous record, with the
// chain of events that caused it.
type Anomaly struct {
	Kind      string          `json:"kind"`
	Record    broker.RecordID `json:"record"`
	Key       *string         `json:"key"`
	Partition string          `json:"partition"`
	Offsets   []int64         `json:"offsets"`
	// Copies lists every copy of a duplicated record whose copies sit in
	// more than one partition (Partition and Offsets name one of them).
	Copies      []RecordCopy `json:"copies,omitempty"`
	Explanation string       `json:"explanation"`
}

// RecordCopy is one copy of a record in a final log.
type RecordCopy struct {
	Partition string `json:"partition"`
	Offset    int64  `json:"offset"`
}

// TimelineEntry is one event that changed the cluster: a fault, a fencing,
// an election, an ISR change, a truncation. The trace has everything; the
// timeline has what a reader needs to follow the story.
type TimelineEntry struct {
	At   string `json:"at"`
	Node string `json:"node"`
	What string `json:"what"`
}

// Latency is send() to callback for acknowledged records, in virtual ms.
type Latency struct {
	Avg  float64 `json:"avg"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// PartitionReport is a partition's final state and history.
type PartitionReport struct {
	Topic            string  `json:"topic"`
	Partition        int     `json:"partition"`
	Replicas         []int32 `json:"replicas"`
	Leader           int32   `json:"leader"`
	ISR              []int32 `json:"isr"`
	LogEndOffset     int64   `json:"log_end_offset"`
	HighWatermark    int64   `json:"high_watermark"`
	Records          int64   `json:"records"` // data records below the HW (markers excluded)
	LastStableOffset int64   `json:"last_stable_offset"`
	Markers          int64   `json:"markers"` // transaction markers (control records) below the HW
	Bytes            int64   `json:"bytes"`   // batch bytes on the wire below the HW
	OfflineMs        float64 `json:"offline_ms"`
	LeaderElections  int     `json:"leader_elections"`
	UncleanElections int     `json:"unclean_elections"`
}

// Passed reports whether every expectation held.
func (r *Report) Passed() bool {
	for _, e := range r.Expectations {
		if !e.OK {
			return false
		}
	}
	return true
}
