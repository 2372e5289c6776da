// Package broker models a Kafka cluster: brokers holding replica logs (log end
// offset, high watermark, leader-epoch cache), followers fetching from
// leaders, ISR maintenance, the idempotent-producer state window, acks
// handling with the produce purgatory, and a KRaft-style controller that
// fences silent brokers and elects leaders. It also defines the protocol
// messages and error codes that the producer shares.
//
// Everything runs on sim's single-threaded engine. A broker never calls the
// producer or another broker directly: every request and response travels
// over sim's network.
package broker

// Error is a Kafka error code (org.apache.kafka.common.protocol.Errors).
// The codes and names are Kafka's. Codes below zero are client-side
// exceptions that never cross the wire; they are named after the Java
// exception a producer callback receives.
type Error int16

// Broker error codes, numbered as in Errors.java.
const (
	ErrNone                         Error = 0
	ErrCorruptMessage               Error = 2
	ErrUnknownTopicOrPartition      Error = 3
	ErrLeaderNotAvailable           Error = 5
	ErrNotLeaderOrFollower          Error = 6
	ErrRequestTimedOut              Error = 7
	ErrMessageTooLarge              Error = 10
	ErrNetworkException             Error = 13
	ErrCoordinatorLoadInProgress    Error = 14
	ErrCoordinatorNotAvailable      Error = 15
	ErrNotCoordinator               Error = 16
	ErrNotEnoughReplicas            Error = 19
	ErrNotEnoughReplicasAfterAppend Error = 20
	ErrInvalidRequiredAcks          Error = 21
	ErrOutOfOrderSequenceNumber     Error = 45
	ErrDuplicateSequenceNumber      Error = 46
	ErrInvalidProducerEpoch         Error = 47
	ErrInvalidTxnState              Error = 48
	ErrInvalidProducerIDMapping     Error = 49
	ErrInvalidTransactionTimeout    Error = 50
	ErrConcurrentTransactions       Error = 51
	ErrTransactionCoordinatorFenced Error = 52
	ErrKafkaStorageError            Error = 56
	ErrUnknownProducerID            Error = 59
	ErrFencedLeaderEpoch            Error = 74
	ErrUnknownLeaderEpoch           Error = 75
	ErrInvalidUpdateVersion         Error = 95
	ErrProducerFenced               Error = 90
	ErrIneligibleReplica            Error = 107
	ErrTransactionAbortable         Error = 120
)

// Client-side outcomes (never sent by a broker).
const (
	// ErrTimeout is the TimeoutException a callback gets when a batch
	// reaches delivery.timeout.ms, or a send waits max.block.ms for metadata.
	ErrTimeout Error = -100
	// ErrProducerClosed is the KafkaException "Producer is closed
	// forcefully." given to incomplete batches by close(Duration.ZERO).
	ErrProducerClosed Error = -101
	// ErrRecordTooLarge is the RecordTooLargeException for a record larger
	// than max.request.size or buffer.memory.
	ErrRecordTooLarge Error = -102
	// ErrBufferExhausted is the BufferExhaustedException (a TimeoutException)
	// a callback gets when send() waited max.block.ms for buffer.memory.
	ErrBufferExhausted Error = -103
	// ErrIllegalPartition is the IllegalArgumentException send() throws
	// when partitioner.class returns a partition the topic does not have.
	ErrIllegalPartition Error = -104
	// ErrTransactionAborted is the TransactionAbortedException a callback
	// gets when abortTransaction() discards a batch that was never sent.
	ErrTransactionAborted Error = -105
)

type errorInfo struct {
	name      string
	retriable bool // extends RetriableException
	metadata  bool // extends InvalidMetadataException: refresh metadata
}

var errorTable = map[Error]errorInfo{
	ErrNone:                         {name: "NONE"},
	ErrCorruptMessage:               {name: "CORRUPT_MESSAGE", retriable: true},
	ErrUnknownTopicOrPartition:      {name: "UNKNOWN_TOPIC_OR_PARTITION", retriable: true, metadata: true},
	ErrLeaderNotAvailable:           {name: "LEADER_NOT_AVAILABLE", retriable: true, metadata: true},
	ErrNotLeaderOrFollower:          {name: "NOT_LEADER_OR_FOLLOWER", retriable: true, metadata: true},
	ErrRequestTimedOut:              {name: "REQUEST_TIMED_OUT", retriable: true},
	ErrMessageTooLarge:              {name: "MESSAGE_TOO_LARGE"},
	ErrNetworkException:             {name: "NETWORK_EXCEPTION", retriable: true, metadata: true},
	ErrCoordinatorLoadInProgress:    {name: "COORDINATOR_LOAD_IN_PROGRESS", retriable: true},
	ErrCoordinatorNotAvailable:      {name: "COORDINATOR_NOT_AVAILABLE", retriable: true},
	ErrNotCoordinator:               {name: "NOT_COORDINATOR", retriable: true},
	ErrNotEnoughReplicas:            {name: "NOT_ENOUGH_REPLICAS", retriable: true},
	ErrNotEnoughReplicasAfterAppend: {name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", retriable: true},
	ErrInvalidRequiredAcks:          {name: "INVALID_REQUIRED_ACKS"},
	ErrOutOfOrderSequenceNumber:     {name: "OUT_OF_ORDER_SEQUENCE_NUMBER"},
	ErrDuplicateSequenceNumber:      {name: "DUPLICATE_SEQUENCE_NUMBER"},
	ErrInvalidProducerEpoch:         {name: "INVALID_PRODUCER_EPOCH"},
	ErrInvalidTxnState:              {name: "INVALID_TXN_STATE"},
	ErrInvalidProducerIDMapping:     {name: "INVALID_PRODUCER_ID_MAPPING"},
	ErrInvalidTransactionTimeout:    {name: "INVALID_TRANSACTION_TIMEOUT"},
	ErrConcurrentTransactions:       {name: "CONCURRENT_TRANSACTIONS", retriable: true},
	ErrTransactionCoordinatorFenced: {name: "TRANSACTION_COORDINATOR_FENCED"},
	ErrProducerFenced:               {name: "PRODUCER_FENCED"},
	ErrKafkaStorageError:            {name: "KAFKA_STORAGE_ERROR", retriable: true, metadata: true},
	ErrUnknownProducerID:            {name: "UNKNOWN_PRODUCER_ID"},
	ErrFencedLeaderEpoch:            {name: "FENCED_LEADER_EPOCH", retriable: true, metadata: true},
	ErrUnknownLeaderEpoch:           {name: "UNKNOWN_LEADER_EPOCH", retriable: true},
	ErrInvalidUpdateVersion:         {name: "INVALID_UPDATE_VERSION"},
	ErrIneligibleReplica:            {name: "INELIGIBLE_REPLICA"},
	ErrTransactionAbortable:         {name: "TRANSACTION_ABORTABLE"},
	ErrTimeout:                      {name: "TimeoutException"},
	ErrProducerClosed:               {name: "KafkaException"},
	ErrRecordTooLarge:               {name: "RecordTooLargeException"},
	ErrBufferExhausted:              {name: "BufferExhaustedException"},
	ErrIllegalPartition:             {name: "IllegalArgumentException"},
	ErrTransactionAborted:           {name: "TransactionAbortedException"},
}

// String is Kafka's name for the error.
func (e Error) String() string {
	if info, ok := errorTable[e]; ok {
		return info.name
	}
	return "UNKNOWN_SERVER_ERROR"
}

// Retriable reports whether Kafka's exception for this code extends
// RetriableException, so the producer may send the batch again.
func (e Error) Retriable() bool { return errorTable[e].retriable }

// InvalidMetadata reports whether the exception extends
// InvalidMetadataException, which makes the producer refresh metadata.
func (e Error) InvalidMetadata() bool { return errorTable[e].metadata }

// ParseError finds an error code by its Kafka name (broker codes and the
// client-side exception names alike).
func ParseError(name string) (Error, bool) {
	for _, code := range errorCodes {
		if errorTable[code].name == name {
			return code, true
		}
	}
	return 0, false
}

// errorCodes lists errorTable's keys in order, so lookups never range over
// the map.
var errorCodes = []Error{
	ErrNone, ErrCorruptMessage, ErrUnknownTopicOrPartition, ErrLeaderNotAvailable, ErrNotLeaderOrFollower,
	ErrRequestTimedOut, ErrMessageTooLarge, ErrNetworkException, ErrCoordinatorLoadInProgress,
	ErrCoordinatorNotAvailable, ErrNotCoordinator, ErrNotEnoughReplicas,
	ErrNotEnoughReplicasAfterAppend, ErrInvalidRequiredAcks, ErrOutOfOrderSequenceNumber,
	ErrDuplicateSequenceNumber, ErrInvalidProducerEpoch, ErrInvalidTxnState, ErrInvalidProducerIDMapping,
	ErrInvalidTransactionTimeout, ErrConcurrentTransactions, ErrTransactionCoordinatorFenced,
	ErrKafkaStorageError, ErrUnknownProducerID,
	ErrFencedLeaderEpoch, ErrUnknownLeaderEpoch, ErrProducerFenced, ErrInvalidUpdateVersion, ErrIneligibleReplica,
	ErrTransactionAbortable,
	ErrTimeout, ErrProducerClosed, ErrRecordTooLarge, ErrBufferExhausted, ErrIllegalPartition,
	ErrTransactionAborted,
}

// InjectableErrors are the codes a fail-requests fault may answer with,
// sorted by name: the transient, retriable errors a healthy cluster returns.
// (MESSAGE_TOO_LARGE is left out: the Java client splits the batch in answer,
// which the simulator does not model yet.)
func InjectableErrors() []string {
	return []string{
		"CORRUPT_MESSAGE", "KAFKA_STORAGE_ERROR", "LEADER_NOT_AVAILABLE",
		"NETWORK_EXCEPTION", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
		"NOT_LEADER_OR_FOLLOWER", "REQUEST_TIMED_OUT", "UNKNOWN_TOPIC_OR_PARTITION",
	}
}
