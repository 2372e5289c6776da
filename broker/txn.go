package broker

import (
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Transactions (KIP-98): the types the coordinator, the partition leaders
// and the producer share, and the requests between them.

// MarkerType is a control batch's record type (ControlRecordType). The
// zero value marks a data batch; Kafka's own codes are ABORT=0, COMMIT=1.
type MarkerType int8

const (
	MarkerAbort MarkerType = iota + 1
	MarkerCommit
)

func (m MarkerType) String() string {
	switch m {
	case MarkerAbort:
		return "ABORT"
	case MarkerCommit:
		return "COMMIT"
	}
	return "data"
}

// TxnState is a transaction's state at its coordinator (TransactionState).
type TxnState int8

const (
	TxnEmpty TxnState = iota
	TxnOngoing
	TxnPrepareCommit
	TxnPrepareAbort
	TxnCompleteCommit
	TxnCompleteAbort
	TxnPrepareEpochFence
	TxnDead // the id expired: its tombstone is being written
)

func (s TxnState) String() string {
	return [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "PrepareEpochFence", "Dead"}[s]
}

// txnSources are TransactionState.validPreviousStates, as
// TransactionMetadata.prepareTransition checks them: the states each state
// may follow. With
// transaction.version 2 an abort may also follow Empty or a completed
// transaction (an abortable error before anything was written: the abort
// bumps the epoch). One move is the simulator's own: PrepareEpochFence
// back to Ongoing when the fencing abort could not be written, where Kafka
// keeps Ongoing with a pending fence it drops (hasFailedEpochFence).
var txnSources = [...][]TxnState{
	TxnEmpty:             {TxnEmpty, TxnCompleteCommit, TxnCompleteAbort},
	TxnOngoing:           {TxnOngoing, TxnEmpty, TxnCompleteCommit, TxnCompleteAbort, TxnPrepareEpochFence},
	TxnPrepareCommit:     {TxnOngoing},
	TxnPrepareAbort:      {TxnOngoing, TxnPrepareEpochFence, TxnEmpty, TxnCompleteCommit, TxnCompleteAbort},
	TxnCompleteCommit:    {TxnPrepareCommit},
	TxnCompleteAbort:     {TxnPrepareAbort},
	TxnPrepareEpochFence: {TxnOngoing},
	TxnDead:              {TxnEmpty, TxnCompleteCommit, TxnCompleteAbort},
}

// checkTxnTransition panics on a move txnSources refuses (Kafka throws
// IllegalStateException): it is a bug in the coordinator.
func checkTxnTransition(id string, from, to TxnState) {
	if !slices.Contains(txnSources[to], from) {
		panic("broker: transactional.id " + id + ": invalid transition from " + from.String() + " to " + to.String())
	}
}

// TxnLogEntry is one record of __transaction_state (TransactionLogValue):
// the whole state of one transactional id after a transition. The newest
// entry for an id is its state.
type TxnLogEntry struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// LastEpoch is the epoch before the last InitProducerId bump
	// (lastProducerEpoch): a retried bump names it and gets the current one.
	LastEpoch int16
	// NextProducerID is the producer id a transaction.version 2 commit or
	// abort moves to once complete, when it used the last epoch
	// (nextProducerId); 0 otherwise (Kafka writes -1; no id is 0 here).
	NextProducerID int64
	TimeoutMs      int64
	State          TxnState
	Partitions     []PartitionID // sorted
	StartAt        sim.Time      // txnStartTimestamp
	UpdatedAt      sim.Time      // txnLastUpdateTimestamp: when the transition was written
}

// ---- client requests to the coordinator ----

// FindCoordinatorRequest asks any broker which broker coordinates a
// transactional id (key type TRANSACTION).
type FindCoordinatorRequest struct {
	Conn            uint32
	ID              int64
	TransactionalID string
}

// FindCoordinatorResponse names the leader of the id's __transaction_state
// partition, as the answering broker's metadata has it.
type FindCoordinatorResponse struct {
	ID          int64
	Error       Error
	Coordinator sim.NodeID
}

// AddPartitionsToTxnRequest registers partitions with the ongoing
// transaction: from a producer (versions 0-3) before it sends data to
// them with transaction.version 1; from a partition leader (versions 4+,
// AddPartitionsToTxnManager) before a producer's first transactional
// write to it, to verify that the partition is in the transaction
// (VerifyOnly, KIP-890 part 1) or, with transaction.version 2, to add it.
type AddPartitionsToTxnRequest struct {
	Conn            uint32
	ID              int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Partitions      []PartitionID
	FromLeader      bool // sent by a partition leader, not a client
	VerifyOnly      bool
}

// AddPartitionsToTxnResponse has one error for a producer's request (Kafka
// answers per partition, with the same error for all in this model), and
// one per partition for a leader's (Errors, in the request's order).
type AddPartitionsToTxnResponse struct {
	ID     int64
	Error  Error
	Errors []Error
}

// EndTxnRequest commits or aborts the ongoing transaction.
type EndTxnRequest struct {
	Conn            uint32
	ID              int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Commit          bool
}

// EndTxnResponse answers once PrepareCommit or PrepareAbort is in the
// transaction log; the markers are written after. With transaction.version
// 2 (EndTxn v5+) it carries the producer id and the epoch the next
// transaction uses; -1 otherwise.
type EndTxnResponse struct {
	ID            int64
	Error         Error
	ProducerID    int64
	ProducerEpoch int16
}

// ---- coordinator to partition leaders ----

// WriteTxnMarkersRequest asks a partition leader to append a transaction
// marker for a producer to each listed partition.
type WriteTxnMarkersRequest struct {
	ID               int64
	ProducerID       int64
	ProducerEpoch    int16
	Marker           MarkerType
	CoordinatorEpoch int32
	Partitions       []PartitionID
}

// WriteTxnMarkersResponse has one error per requested partition.
type WriteTxnMarkersResponse struct {
	ID     int64
	Errors []Error
}

func (*FindCoordinatorRequest) Name() string     { return "find-coordinator-request" }
func (*FindCoordinatorRequest) Size() int        { return 64 }
func (*FindCoordinatorResponse) Name() string    { return "find-coordinator-response" }
func (*FindCoordinatorResponse) Size() int       { return 64 }
func (*AddPartitionsToTxnRequest) Name() string  { return "add-partitions-to-txn-request" }
func (r *AddPartitionsToTxnRequest) Size() int   { return 64 + 8*len(r.Partitions) }
func (*AddPartitionsToTxnResponse) Name() string { return "add-partitions-to-txn-response" }
func (r *AddPartitionsToTxnResponse) Size() int  { return 64 + 2*len(r.Errors) }
func (*EndTxnRequest) Name() string              { return "end-txn-request" }
func (*EndTxnRequest) Size() int                 { return 64 }
func (*EndTxnResponse) Name() string             { return "end-txn-response" }
func (*EndTxnResponse) Size() int                { return 64 }
func (*WriteTxnMarkersRequest) Name() string     { return "write-txn-markers-request" }
func (r *WriteTxnMarkersRequest) Size() int      { return 64 + 8*len(r.Partitions) }
func (*WriteTxnMarkersResponse) Name() string    { return "write-txn-markers-response" }
func (r *WriteTxnMarkersResponse) Size() int     { return 64 + 2*len(r.Errors) }

// markerEntry starts a trace entry about a transaction marker for partition
// p, written at offset (or -1).
func (b *Broker) markerEntry(k event.Kind, p PartitionID, offset int64, epoch int32, from sim.NodeID, r *WriteTxnMarkersRequest) sim.Entry {
	e := b.entry(k, p, 0, offset, offset, epoch, from)
	e.X().Label, e.ProducerID, e.ProducerEpoch = r.Marker.String(), r.ProducerID, r.ProducerEpoch
	return e
}
