package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/producer"
)

// errorMeaning says, for one error name the report counts, why the
// producer met it and what the Java producer did about it; the report
// names the requests (or the client's own places) that returned it in the
// run. source is the Kafka code the simulator follows for both.
type errorMeaning struct {
	name     string
	why      string
	reaction string
	source   string
	// whyIf are other causes, chosen from the run (errorFacts, where the
	// error came from) when the error has several: those whose condition
	// holds replace why. reactionIf does the same for reaction.
	whyIf, reactionIf []variant
}

// variant is a cause of an error (or the producer's reaction) and the
// condition, on the run's facts and where the error came from, under which
// it applies.
type variant struct {
	when func(errorFacts, []errorFrom) bool
	text string
}

// errorFacts are what the run's trace says about causes that errors
// share: the coordinator's timeout aborts (TxnTimeout), new instances
// fencing an open transaction (TxnFence), and a leader's
// NOT_ENOUGH_REPLICAS refusals, for an ISR below min.insync.replicas or a
// transactional write it could not verify (Reject events).
type errorFacts struct {
	coordinatorAborts int
	newInstances      int
	belowMinISR       int
	unverified        int
}

func coordinatorAbort(f errorFacts, _ []errorFrom) bool { return f.coordinatorAborts > 0 }
func newInstance(f errorFacts, _ []errorFrom) bool      { return f.newInstances > 0 }
func belowMinISR(f errorFacts, _ []errorFrom) bool      { return f.belowMinISR > 0 }
func unverified(f errorFacts, _ []errorFrom) bool       { return f.unverified > 0 }
func fromDeliveryTimeout(_ errorFacts, from []errorFrom) bool {
	return slices.ContainsFunc(from, func(e errorFrom) bool { return e.from == producer.FromDeliveryTimeout })
}
func fromMaxBlock(_ errorFacts, from []errorFrom) bool {
	return slices.ContainsFunc(from, func(e errorFrom) bool { return e.from == producer.FromMaxBlock })
}

// fromAPIs is the condition that the error came from one of these requests.
func fromAPIs(apis ...string) func(errorFacts, []errorFrom) bool {
	return func(_ errorFacts, from []errorFrom) bool {
		return slices.ContainsFunc(from, func(e errorFrom) bool { return slices.Contains(apis, e.from) })
	}
}

// errorFrom is where the producer met an error (a request's API, or one
// of producer's From* places) and how many times.
type errorFrom struct {
	from string
	n    int64
}

// sortFrom orders where an error came from, most often first.
func sortFrom(from []errorFrom) []errorFrom {
	slices.SortFunc(from, func(a, b errorFrom) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return strings.Compare(a.from, b.from)
	})
	return from
}

// injection is the first request-rule fault that answered with an error
// and how often it fired.
type injection struct {
	fault int
	api   string
	fired int64
}

var errorMeanings = []errorMeaning{
	{name: "NOT_LEADER_OR_FOLLOWER",
		why:      "the broker had lost the partition's leadership",
		reaction: "retried at the new leader after a metadata refresh",
		source:   "ReplicaManager.appendRecords; Sender.completeBatch (InvalidMetadataException)"},
	{name: "REQUEST_TIMED_OUT",
		why:      "no answer within request.timeout.ms (the acks=all wait, or the producer gave up and closed the connection)",
		reaction: "retried; it may already have been written",
		source:   "DelayedProduce.onExpiration; NetworkClient.handleTimedOutRequests; Sender.handleProduceResponse"},
	{name: "NETWORK_EXCEPTION",
		why:      "the connection broke before the answer (a crash, a reject cut, a close)",
		reaction: "retried after reconnecting; it may already have been written",
		source:   "Sender.handleProduceResponse (wasDisconnected); NetworkClient"},
	{name: "NOT_ENOUGH_REPLICAS",
		why: "the ISR was below min.insync.replicas, so nothing was appended",
		whyIf: []variant{
			{belowMinISR, "the ISR was below min.insync.replicas, so nothing was appended"},
			{unverified, "the leader could not verify with the transaction coordinator that the partition is in the transaction (busy ending the last one, loading, moved or unreachable), so nothing was appended"},
		},
		reaction: "retried after retry.backoff.ms until accepted or delivery.timeout.ms ran out",
		source:   "Partition.appendRecordsToLeader; AddPartitionsToTxnManager; Sender.completeBatch"},
	{name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
		why:      "appended, but the ISR fell below min.insync.replicas before acks=all was met",
		reaction: "retried, so without idempotence the record is written twice",
		source:   "Partition.checkEnoughReplicasReachOffset; Sender.completeBatch"},
	{name: "MESSAGE_TOO_LARGE",
		why:      "the batch was larger than the broker's message.max.bytes",
		reaction: "split into smaller batches and sent again, not counted as a retry (a one-record batch fails: RecordTooLargeException)",
		source:   "UnifiedLog.analyzeAndValidateRecords; Sender.completeBatch (splitAndReenqueue)"},
	{name: "OUT_OF_ORDER_SEQUENCE_NUMBER",
		why:      "the batch's sequence number was not the next the leader expected for this producer id and epoch",
		reaction: "a batch behind the gap is retried; at the gap an idempotent producer bumps its epoch and resends, a transactional one aborts",
		source:   "ProducerAppendInfo.checkSequence; TransactionManager.canRetry, handleFailedBatch"},
	{name: "DUPLICATE_SEQUENCE_NUMBER",
		why:      "the leader already had these sequence numbers from this producer id and epoch",
		reaction: "taken as written",
		source:   "ProducerStateManager; Sender.completeBatch"},
	{name: "UNKNOWN_PRODUCER_ID",
		why:      "the partition's state for the producer id had expired (producer.id.expiration.ms) or was removed, so the leader no longer knew it",
		reaction: "an idempotent producer bumps its epoch and resends; a transactional one aborts",
		source:   "ProducerStateManager; TransactionManager.canRetry"},
	{name: "INVALID_PRODUCER_EPOCH",
		why: "the producer's epoch was older than the current one: the coordinator had bumped it",
		whyIf: []variant{
			{coordinatorAbort, "the producer's epoch was older than the current one: the coordinator had aborted the transaction after transaction.timeout.ms and bumped the epoch"},
			{newInstance, "the producer's epoch was older than the current one: a newer instance with the same transactional.id had taken a newer epoch"},
		},
		reaction: "on Produce the transaction must abort; from the coordinator it means fenced, as PRODUCER_FENCED",
		reactionIf: []variant{
			{fromAPIs("Produce"), "the transaction can only be aborted"},
			{fromAPIs("InitProducerId", "AddPartitionsToTxn", "EndTxn"), "from the coordinator it means fenced, as PRODUCER_FENCED"},
		},
		source: "ProducerAppendInfo.checkProducerEpoch; TransactionManager (KIP-588)"},
	{name: "PRODUCER_FENCED",
		why: "a newer instance with the same transactional.id took a newer epoch",
		whyIf: []variant{
			{coordinatorAbort, "the coordinator had aborted the transaction after transaction.timeout.ms and bumped the epoch, so this instance's epoch was old"},
			{newInstance, "a newer instance with the same transactional.id took a newer epoch"},
		},
		reaction: "fatal: pending batches fail and the application closes the producer",
		source:   "TransactionCoordinator; TransactionManager.maybeTransitionToErrorState (ProducerFencedException)"},
	{name: "CONCURRENT_TRANSACTIONS",
		why:      "the transactional.id's previous transaction was still ending (markers not yet written)",
		reaction: "asked again after retry.backoff.ms",
		reactionIf: []variant{
			{fromAPIs("InitProducerId", "EndTxn"), "InitProducerId and EndTxn asked again after retry.backoff.ms"},
			{fromAPIs("AddPartitionsToTxn"), "AddPartitionsToTxn asked again after 20 ms for a transaction's first (ADD_PARTITIONS_RETRY_BACKOFF_MS), else after retry.backoff.ms"},
			{fromAPIs("Produce"), "the batch was retried after retry.backoff.ms (with transaction.version 2 the partition leader first retries its verification itself)"},
		},
		source: "TransactionCoordinator.handleInitProducerId, handleAddPartitionsToTransaction; TransactionManager.AddPartitionsToTxnHandler; AddPartitionsToTxnManager"},
	{name: "NOT_COORDINATOR",
		why:      "the broker no longer coordinates the transactional.id",
		reaction: "FindCoordinator again, then the request again",
		source:   "TransactionCoordinator; TransactionManager.lookupCoordinator"},
	{name: "COORDINATOR_NOT_AVAILABLE",
		why:      "the transactional.id's __transaction_state partition had no leader",
		reaction: "looked up again after retry.backoff.ms",
		source:   "TransactionCoordinator; TransactionManager.lookupCoordinator"},
	{name: "COORDINATOR_LOAD_IN_PROGRESS",
		why:      "the new coordinator was still loading the transactional.id's state",
		reaction: "asked again after retry.backoff.ms",
		source:   "TransactionStateManager; TransactionManager handlers"},
	{name: "INVALID_PRODUCER_ID_MAPPING",
		why:      "the coordinator no longer knew the transactional.id with this producer id (transactional.id.expiration.ms)",
		reaction: "the transaction aborts and the producer asks for a producer id again",
		source:   "TransactionCoordinator; TransactionManager (TxnRequestHandler.abortableErrorIfPossible)"},
	{name: "INVALID_TXN_STATE",
		why:      "the request did not fit the transaction's state",
		reaction: "on Produce the transaction must abort; from the coordinator it is fatal",
		reactionIf: []variant{
			{fromAPIs("Produce"), "the transaction can only be aborted"},
			{fromAPIs("InitProducerId", "AddPartitionsToTxn", "EndTxn"), "from the coordinator it is fatal"},
		},
		source: "TransactionCoordinator; UnifiedLog.append; TransactionManager handlers"},
	{name: "TRANSACTION_ABORTABLE",
		why:      "the broker could not complete the transactional write (KIP-890)",
		reaction: "the application aborts the transaction",
		source:   "AddPartitionsToTxnManager; TransactionManager (KIP-890)"},
	{name: "TimeoutException",
		why: "a batch reached delivery.timeout.ms, or send() waited max.block.ms for metadata",
		whyIf: []variant{
			{fromDeliveryTimeout, "batches were not acknowledged within delivery.timeout.ms of their creation (one count per batch)"},
			{fromMaxBlock, "the topic's metadata did not come within max.block.ms (one count per record)"},
		},
		reaction: "failed; a batch already sent may be in the log (ambiguous)",
		source:   "Sender.sendProducerData (RecordAccumulator.expiredBatches); KafkaProducer.waitOnMetadata"},
	{name: "BufferExhaustedException",
		why:      "no room came free in buffer.memory within max.block.ms (one count per record)",
		reaction: "that record failed, never sent",
		source:   "BufferPool.allocate"},
	{name: "KafkaException",
		why:      "close(Duration.ZERO) when the application replaced the instance (\"Producer is closed forcefully.\")",
		reaction: "unacknowledged batches failed; one already sent may still be written",
		source:   "Sender.run (forceClose); RecordAccumulator.abortIncompleteBatches"},
	{name: "RecordTooLargeException",
		why:      "the record is larger than max.request.size or buffer.memory",
		reaction: "failed at once, never sent",
		source:   "KafkaProducer.ensureValidRecordSize"},
	{name: "IllegalArgumentException",
		// Kafka throws it in send() only for a negative partition
		// (KafkaProducer.partition); a partition >= the count is not checked
		// there and the record fails later, with TimeoutException at
		// delivery.timeout.ms. The simulator fails both in send()
		// (producer.customPartition; LESSONS.md, where the simulator
		// simplifies).
		why:      "partitioner.class chose a partition the topic does not have (a negative one in Kafka; the simulator fails one past the count here too)",
		reaction: "failed at once, never sent",
		source:   "KafkaProducer.partition"},
	{name: "TransactionAbortedException",
		why:      "the abort discarded a batch not yet sent",
		reaction: "failed, never written",
		source:   "Sender.maybeSendAndPollTransactionalRequest; RecordAccumulator.abortUndrainedBatches"},
}

// errorNoteText is the line the report prints under an error's count
// (total): where it came from in this run, why, and what the producer did.
// When a request-rule fault answered with the error, the fault names the
// request, and what it does not account for came about on its own.
func errorNoteText(name string, from []errorFrom, inj injection, total int64, facts errorFacts) string {
	i := slices.IndexFunc(errorMeanings, func(n errorMeaning) bool { return n.name == name })
	if inj.fault > 0 {
		by := fmt.Sprintf("answered by fault %d (request-rule on %s)", inj.fault, inj.api)
		if i < 0 {
			return by + "; " + errorClassReaction(name) + "."
		}
		n := errorMeanings[i]
		if inj.fired < total {
			return fmt.Sprintf("at least %d %s; the rest from %s: %s; %s.", inj.fired, by, fromText(from), n.cause(facts, from), n.reactionTo(facts, from))
		}
		return by + "; " + n.reactionTo(facts, from) + "."
	}
	if i < 0 {
		return fromText(from) + ": a request-rule fault's answer; " + errorClassReaction(name) + "."
	}
	n := errorMeanings[i]
	return fromText(from) + ": " + n.cause(facts, from) + "; " + n.reactionTo(facts, from) + "."
}

// cause is the error's cause in this run: every variant whose condition
// holds, else the general one.
func (n errorMeaning) cause(facts errorFacts, from []errorFrom) string {
	return choose(n.whyIf, n.why, "; or ", facts, from)
}

// reactionTo is what the producer did in this run: every variant whose
// condition holds, else the general reaction.
func (n errorMeaning) reactionTo(facts errorFacts, from []errorFrom) string {
	return choose(n.reactionIf, n.reaction, "; ", facts, from)
}

// choose joins the texts of the variants whose condition holds, or is def
// when none does.
func choose(variants []variant, def, sep string, facts errorFacts, from []errorFrom) string {
	var texts []string
	for _, v := range variants {
		if v.when(facts, from) && !slices.Contains(texts, v.text) {
			texts = append(texts, v.text)
		}
	}
	if len(texts) == 0 {
		return def
	}
	return strings.Join(texts, sep)
}

// fromText names where an error came from, with counts when there are
// several places ("Produce 30, EndTxn 2").
func fromText(from []errorFrom) string {
	if len(from) == 1 {
		return from[0].from
	}
	parts := make([]string, len(from))
	for i, f := range from {
		parts[i] = fmt.Sprintf("%s %d", f.from, f.n)
	}
	return strings.Join(parts, ", ")
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
