package scenarios

import "github.com/kafkasim/kafkasim/broker"

// Charts is the data behind every plot of one run, in plain numbers, so that
// it can be golden-tested without drawing anything. plots/ draws it.
type Charts struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Partitions is the record and byte count per partition of the final
	// logs (the partition histogram).
	Partitions []PartitionCount `json:"partitions"`
	// LatencyMs is send() to success callback for every acknowledged record,
	// in send order.
	LatencyMs []float64 `json:"latency_ms"`
	// BatchBytes is the size on the wire of every batch the producer sent
	// (retries included), in send order.
	BatchBytes []float64 `json:"batch_bytes"`
	// Series is sampled every SampleMs of virtual time.
	SampleMs float64  `json:"sample_ms"`
	Series   []Sample `json:"series"`
	// Order is, per partition, every record copy in the final log: its
	// offset and when the application sent it.
	Order []OrderSeries `json:"order"`
	// Faults are the fault events, for marking the time axis.
	Faults []FaultMark `json:"faults"`
	// Lost is every acknowledged record missing from the final logs (the
	// report's lost records), in record order.
	Lost []LostRecord `json:"lost"`
}

// LostRecord is an acknowledged record the final logs do not hold: where
// the acknowledgement said it was, and when.
type LostRecord struct {
	Record    broker.RecordID `json:"record"`
	Partition string          `json:"partition"` // the partition its callback named
	Offset    int64           `json:"offset"`    // the offset its callback named; -1 with acks=0
	SentMs    float64         `json:"sent_ms"`
	AckedMs   float64         `json:"acked_ms"`
}

// PartitionCount is one bar of the partition histogram.
type PartitionCount struct {
	Partition string `json:"partition"` // "orders-0"
	Records   int64  `json:"records"`
	Bytes     int64  `json:"bytes"`
}

// Sample is the state over one step of virtual time, ending at AtMs.
type Sample struct {
	AtMs float64 `json:"at_ms"`
	// AckedRecords and AckedBytes were acknowledged during the step.
	AckedRecords int64 `json:"acked_records"`
	AckedBytes   int64 `json:"acked_bytes"`
	// InFlight is the produce requests outstanding at the end of the step.
	InFlight int `json:"in_flight"`
	// BufferBytes is buffer.memory in use at the end of the step.
	BufferBytes int64 `json:"buffer_bytes"`
	// ISR is the ISR size of each partition at the end of the step, in
	// partition order (the controller's view).
	ISR []int `json:"isr"`
	// Unstable is, with transactions, the offsets below the high watermark
	// that a read_committed consumer cannot read yet (high watermark minus
	// last stable offset, summed over the partitions' leaders).
	Unstable int64 `json:"unstable,omitempty"`
}

// OrderSeries is one partition's final log against send order.
type OrderSeries struct {
	Partition string       `json:"partition"`
	Points    []OrderPoint `json:"points"`
}

// OrderPoint is one record copy in a final log.
type OrderPoint struct {
	Offset  int64           `json:"offset"`
	Record  broker.RecordID `json:"record"`    // the record id: the order of send() calls
	SentMs  float64         `json:"sent_ms"`   // when send() was called for it
	Copy    int             `json:"copy"`      // 1 for the first copy, 2+ for duplicates
	Reorder bool            `json:"reordered"` // a later-sent record landed before it
	// Aborted: its transaction aborted, so only read_uncommitted consumers
	// read it; it is not counted as a copy.
	Aborted bool `json:"aborted,omitempty"`
}

// FaultMark is one fault event on the time axis.
type FaultMark struct {
	AtMs  float64 `json:"at_ms"`
	Label string  `json:"label"` // "crash broker-1"
}
