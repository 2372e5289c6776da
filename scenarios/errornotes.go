package scenarios

import (
	"slices"

	"github.com/kafkasim/kafkasim/broker"
)

// errorMeaning says, for one error name the report counts, which request
// returned it (or, for the client's own exceptions, where the producer
// raised it), why, and what the Java producer did about it. source is the
// Kafka code the simulator follows for both.
type errorMeaning struct {
	name     string
	request  string
	why      string
	reaction string
	source   string
}

// errorMeanings has one entry per error the simulated cluster or producer
// raises on its own. An error only a request-rule fault can bring about
// gets a line from its class instead (genericErrorNote).
var errorMeanings = []errorMeaning{
	{name: "NOT_LEADER_OR_FOLLOWER", request: "Produce",
		why:      "the broker had lost the partition's leadership",
		reaction: "retried at the new leader after a metadata refresh",
		source:   "ReplicaManager.appendRecords; Sender.completeBatch (InvalidMetadataException)"},
	{name: "REQUEST_TIMED_OUT", request: "Produce",
		why:      "no answer within request.timeout.ms (the acks=all wait, or the producer gave up and closed the connection)",
		reaction: "retried; it may already have been written",
		source:   "DelayedProduce.onExpiration; NetworkClient.handleTimedOutRequests; Sender.handleProduceResponse"},
	{name: "NETWORK_EXCEPTION", request: "Produce or a transactional request",
		why:      "the connection broke before the answer (a crash, a reject cut, a close)",
		reaction: "retried after reconnecting; it may already have been written",
		source:   "Sender.handleProduceResponse (wasDisconnected); NetworkClient"},
	{name: "NOT_ENOUGH_REPLICAS", request: "Produce",
		why:      "the ISR was below min.insync.replicas (or, for a transactional write, the leader could not reach the coordinator), so nothing was appended",
		reaction: "retried after retry.backoff.ms until accepted or delivery.timeout.ms ran out",
		source:   "Partition.appendRecordsToLeader; AddPartitionsToTxnManager; Sender.completeBatch"},
	{name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", request: "Produce",
		why:      "appended, but the ISR fell below min.insync.replicas before acks=all was met",
		reaction: "retried, so without idempotence the record is written twice",
		source:   "Partition.checkEnoughReplicasReachOffset; Sender.completeBatch"},
	{name: "MESSAGE_TOO_LARGE", request: "Produce",
		why:      "the batch was larger than the broker's message.max.bytes",
		reaction: "split into smaller batches and sent again, not counted as a retry (a one-record batch fails: RecordTooLargeException)",
		source:   "UnifiedLog.analyzeAndValidateRecords; Sender.completeBatch (splitAndReenqueue)"},
	{name: "OUT_OF_ORDER_SEQUENCE_NUMBER", request: "Produce",
		why:      "the batch's sequence number was not the next the leader expected for this producer id and epoch",
		reaction: "a batch behind the gap is retried; at the gap an idempotent producer bumps its epoch and resends, a transactional one aborts",
		source:   "ProducerAppendInfo.checkSequence; TransactionManager.canRetry, handleFailedBatch"},
	{name: "DUPLICATE_SEQUENCE_NUMBER", request: "Produce",
		why:      "the leader already had these sequence numbers from this producer id and epoch",
		reaction: "taken as written",
		source:   "ProducerStateManager; Sender.completeBatch"},
	{name: "UNKNOWN_PRODUCER_ID", request: "Produce",
		why:      "the partition had no state left for the producer id",
		reaction: "an idempotent producer bumps its epoch and resends; a transactional one aborts",
		source:   "ProducerStateManager; TransactionManager.canRetry"},
	{name: "INVALID_PRODUCER_EPOCH", request: "Produce or a transactional request",
		why:      "the producer's epoch was older than the current one: the coordinator had bumped it (aborting a timed-out transaction, or for a new instance)",
		reaction: "on Produce the transaction must abort; from the coordinator it means fenced, as PRODUCER_FENCED",
		source:   "ProducerAppendInfo.checkProducerEpoch; TransactionManager (KIP-588)"},
	{name: "PRODUCER_FENCED", request: "InitProducerId, AddPartitionsToTxn or EndTxn",
		why:      "a newer instance with the same transactional.id took a newer epoch",
		reaction: "fatal: pending batches fail and the application closes the producer",
		source:   "TransactionCoordinator; TransactionManager.maybeTransitionToErrorState (ProducerFencedException)"},
	{name: "CONCURRENT_TRANSACTIONS", request: "InitProducerId, AddPartitionsToTxn or EndTxn (with transaction.version 2, Produce too)",
		why:      "the transactional.id's previous transaction was still ending (markers not yet written)",
		reaction: "asked again after retry.backoff.ms",
		source:   "TransactionCoordinator.handleInitProducerId, handleAddPartitionsToTransaction; TransactionManager handlers"},
	{name: "NOT_COORDINATOR", request: "a transactional request",
		why:      "the broker no longer coordinates the transactional.id",
		reaction: "FindCoordinator again, then the request again",
		source:   "TransactionCoordinator; TransactionManager.lookupCoordinator"},
	{name: "COORDINATOR_NOT_AVAILABLE", request: "FindCoordinator or a transactional request",
		why:      "the transactional.id's __transaction_state partition had no leader",
		reaction: "looked up again after retry.backoff.ms",
		source:   "TransactionCoordinator; TransactionManager.lookupCoordinator"},
	{name: "COORDINATOR_LOAD_IN_PROGRESS", request: "a transactional request",
		why:      "the new coordinator was still loading the transactional.id's state",
		reaction: "asked again after retry.backoff.ms",
		source:   "TransactionStateManager; TransactionManager handlers"},
	{name: "INVALID_PRODUCER_ID_MAPPING", request: "AddPartitionsToTxn, EndTxn or Produce",
		why:      "the coordinator no longer knew the transactional.id with this producer id (transactional.id.expiration.ms)",
		reaction: "the transaction aborts and the producer asks for a producer id again",
		source:   "TransactionCoordinator; TransactionManager (TxnRequestHandler.abortableErrorIfPossible)"},
	{name: "INVALID_TXN_STATE", request: "EndTxn, AddPartitionsToTxn or Produce",
		why:      "the request did not fit the transaction's state",
		reaction: "on Produce the transaction must abort; from the coordinator it is fatal",
		source:   "TransactionCoordinator; UnifiedLog.append; TransactionManager handlers"},
	{name: "TRANSACTION_ABORTABLE", request: "Produce or a transactional request",
		why:      "the broker could not complete the transactional write (KIP-890)",
		reaction: "the application aborts the transaction",
		source:   "AddPartitionsToTxnManager; TransactionManager (KIP-890)"},
	{name: "TimeoutException", request: "the producer itself",
		why:      "a batch reached delivery.timeout.ms, or send() waited max.block.ms for metadata",
		reaction: "failed; a batch already sent may be in the log (ambiguous)",
		source:   "Sender.sendProducerData (RecordAccumulator.expiredBatches); KafkaProducer.waitOnMetadata"},
	{name: "BufferExhaustedException", request: "send()",
		why:      "it waited max.block.ms for room in buffer.memory",
		reaction: "that record failed, never sent",
		source:   "BufferPool.allocate"},
	{name: "KafkaException", request: "the producer itself",
		why:      "close(Duration.ZERO) when the application replaced the instance (\"Producer is closed forcefully.\")",
		reaction: "unacknowledged batches failed; one already sent may still be written",
		source:   "Sender.run (forceClose); RecordAccumulator.abortIncompleteBatches"},
	{name: "RecordTooLargeException", request: "send()",
		why:      "the record is larger than max.request.size or buffer.memory",
		reaction: "failed at once, never sent",
		source:   "KafkaProducer.ensureValidRecordSize"},
	{name: "IllegalArgumentException", request: "send()",
		why:      "partitioner.class chose a partition the topic does not have",
		reaction: "failed at once, never sent",
		source:   "KafkaProducer.partition"},
	{name: "TransactionAbortedException", request: "abortTransaction()",
		why:      "the abort discarded a batch not yet sent",
		reaction: "failed, never written",
		source:   "Sender.maybeSendAndPollTransactionalRequest; RecordAccumulator.abortUndrainedBatches"},
}

// errorNoteText is the line the report prints under an error's count.
// injectedBy, when not empty, names the request-rule fault that answered
// with this error ("fault 2 (request-rule) on Produce").
func errorNoteText(name, injectedBy string) string {
	i := slices.IndexFunc(errorMeanings, func(n errorMeaning) bool { return n.name == name })
	if i < 0 {
		if injectedBy == "" {
			injectedBy = "a request-rule fault's answer"
		}
		return injectedBy + "; " + errorClassReaction(name) + "."
	}
	n := errorMeanings[i]
	if injectedBy != "" {
		return n.request + ": answered by " + injectedBy + "; " + n.reaction + "."
	}
	return n.request + ": " + n.why + "; " + n.reaction + "."
}

// errorClassReaction is what the producer does with an error the
// simulator raises only when a request-rule fault answers with it, from
// its class in Kafka's exception hierarchy (RetriableException,
// InvalidMetadataException).
func errorClassReaction(name string) string {
	code, ok := broker.ParseError(name)
	switch {
	case !ok:
		return "an error the report does not know"
	case code.Fatal():
		return "fatal: the producer failed every pending batch and stopped"
	case code.InvalidMetadata():
		return "retriable: the producer refreshed its metadata and sent the request again"
	case code.Retriable():
		return "retriable: the producer sent the request again"
	}
	return "not retriable: the batch failed and its callback got the error"
}
