package broker

import (
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// Transaction verification at the partition leader (KIP-890). Before a
// producer's first transactional write to a partition in a transaction,
// the leader asks the transaction coordinator, and appends only if the
// coordinator agrees and nothing of the producer's was written there
// meanwhile (ReplicaManager.handleProduceAppend,
// AddPartitionsToTxnManager, UnifiedLog.maybeStartTransactionVerification).
// With transaction.version 2 the question adds the partition to the
// transaction (the producer no longer sends AddPartitionsToTxn for it);
// with version 0 or 1 it only checks that the producer added it, when
// transaction.partition.verification.enable is on (KIP-890 part 1).
//
// Kafka's AddPartitionsToTxnManager gathers the questions of many produce
// requests into one request per coordinator; the simulator sends one per
// produce request.

// With transaction.version 2 a leader asks again while the coordinator
// answers CONCURRENT_TRANSACTIONS (the last transaction's markers are
// still going out), every 20 ms for up to 100 ms: the defaults of
// add.partitions.to.txn.retry.backoff.ms and
// add.partitions.to.txn.retry.backoff.max.ms (AddPartitionsToTxnConfig,
// KAFKA-18654), which the simulator does not let a scenario change.
const (
	addPartitionsRetryBackoff    = 20 * sim.Millisecond
	addPartitionsRetryBackoffMax = 100 * sim.Millisecond
)

// txnVerification is a produce request waiting for the coordinator.
type txnVerification struct {
	id     int64 // the AddPartitionsToTxn's request id
	to     sim.NodeID
	client sim.NodeID
	conn   uint32
	req    *ProduceRequest
	asked  []int // batch indexes asked about, in the request's order
	start  sim.Time
}

// verifyResult is what the coordinator said about each batch of a produce
// request: an error to answer with, or the guard its append must still
// hold (0: no verification was needed).
type verifyResult struct {
	errs   []Error
	guards []uint64
}

// verifying reports whether r's transactional batches need the
// coordinator's word first; if so it asks and keeps the request (and its
// connection busy) until the answer.
func (b *Broker) verifying(client sim.NodeID, cc *clientConn, r *ProduceRequest) bool {
	if r.verified != nil || r.TransactionalID == "" || !(b.cfg.TransactionV2() || b.cfg.TransactionPartitionVerification) {
		return false
	}
	res := &verifyResult{errs: make([]Error, len(r.Batches)), guards: make([]uint64, len(r.Batches))}
	var asked []int
	for i := range r.Batches {
		pb := &r.Batches[i]
		rep := b.replicas[pb.Partition]
		if !pb.Transactional || pb.ProducerID < 0 || rep == nil || !rep.IsLeader() || rep.producers.ongoingTxn(pb.ProducerID, pb.ProducerEpoch) {
			continue
		}
		if r.rule != nil && r.rule.matches(b.topo, pb.Partition) {
			continue // a request rule answers it before any handling
		}
		res.guards[i] = rep.producers.startVerification(pb.ProducerID)
		asked = append(asked, i)
	}
	if len(asked) == 0 {
		return false
	}
	r.verified = res
	coordinator := NoLeader
	if p, ok := b.coord.statePartition(r.TransactionalID); ok {
		coordinator = b.metadataLeader(p)
	}
	if coordinator == NoLeader {
		for _, i := range asked {
			res.errs[i] = b.verificationError(ErrCoordinatorNotAvailable)
		}
		return false
	}
	v := &txnVerification{to: coordinator, client: client, conn: cc.conn, req: r, asked: asked, start: b.w.Now()}
	b.verifications = append(b.verifications, v)
	cc.busy = true
	b.askCoordinator(v)
	return true
}

// askCoordinator sends v's AddPartitionsToTxn. Kafka bounds the wait with
// the broker's request.timeout.ms; the simulator has no such broker
// property and uses replica.socket.timeout.ms, which has the same 30 s
// default.
func (b *Broker) askCoordinator(v *txnVerification) {
	r := v.req
	first := &r.Batches[v.asked[0]]
	parts := make([]PartitionID, len(v.asked))
	for k, i := range v.asked {
		parts[k] = r.Batches[i].Partition
	}
	b.nextID++
	v.id = b.nextID
	b.w.Schedule(b.w.Now()+b.cfg.ReplicaSocketTimeout, b.id, kindTxnVerifyTimeout, v.id, 0)
	b.send(v.to, &AddPartitionsToTxnRequest{ID: v.id, TransactionalID: r.TransactionalID,
		ProducerID: first.ProducerID, ProducerEpoch: first.ProducerEpoch, Partitions: parts,
		FromLeader: true, VerifyOnly: !b.cfg.TransactionV2()})
}

// askAgain sends verification id again after its backoff.
func (b *Broker) askAgain(id int64) {
	if i := slices.IndexFunc(b.verifications, func(v *txnVerification) bool { return v.id == id }); i >= 0 {
		b.askCoordinator(b.verifications[i])
	}
}

// verificationError is the coordinator's answer as the producer hears it
// (AddPartitionsToTxnManager and ReplicaManager.handleProduceAppend): a
// fenced epoch is INVALID_PRODUCER_EPOCH, which lets the producer abort,
// and an error of the coordinator's own becomes NOT_ENOUGH_REPLICAS, which
// every client retries; with transaction.version 2 (produce v12)
// CONCURRENT_TRANSACTIONS stays itself (KAFKA-18662).
func (b *Broker) verificationError(err Error) Error {
	switch err {
	case ErrProducerFenced:
		return ErrInvalidProducerEpoch
	case ErrConcurrentTransactions:
		if b.cfg.TransactionV2() {
			return err
		}
		return ErrNotEnoughReplicas
	case ErrNetworkException, ErrCoordinatorLoadInProgress, ErrCoordinatorNotAvailable, ErrNotCoordinator:
		return ErrNotEnoughReplicas
	}
	return err
}

// verificationAnswered resumes the produce request the coordinator
// answered (errs nil: no answer in time, or the connection to it closed).
func (b *Broker) verificationAnswered(id int64, errs []Error) {
	i := slices.IndexFunc(b.verifications, func(v *txnVerification) bool { return v.id == id })
	if i < 0 {
		return
	}
	v := b.verifications[i]
	if b.cfg.TransactionV2() && slices.Contains(errs, ErrConcurrentTransactions) &&
		b.w.Now()+addPartitionsRetryBackoff-v.start <= addPartitionsRetryBackoffMax {
		b.w.Schedule(b.w.Now()+addPartitionsRetryBackoff, b.id, kindTxnVerifyTimeout, v.id, 1)
		return
	}
	b.verifications = slices.Delete(b.verifications, i, i+1)
	for k, bi := range v.asked {
		err := ErrNetworkException
		if k < len(errs) {
			err = errs[k]
		}
		v.req.verified.errs[bi] = b.verificationError(err)
	}
	b.finishProduce(v.client, v.conn, v.req)
}

// verificationsLost fails the verifications waiting on a broker whose
// connection closed.
func (b *Broker) verificationsLost(peer sim.NodeID) {
	var lost []int64
	for _, v := range b.verifications {
		if v.to == peer {
			lost = append(lost, v.id)
		}
	}
	for _, id := range lost {
		b.verificationAnswered(id, nil)
	}
}

// appendVerified appends batch i of r unless its verification failed or
// its guard was lost: a marker or another transactional batch of the
// producer came first, so the transaction it was verified for may be over
// (UnifiedLog.append: "Record was not part of an ongoing transaction").
func (b *Broker) appendVerified(client sim.NodeID, r *ProduceRequest, i int) (Error, int64, int64) {
	pb := &r.Batches[i]
	if res := r.verified; res != nil {
		err := res.errs[i]
		if err == ErrNone && res.guards[i] != 0 {
			if rep := b.replicas[pb.Partition]; rep != nil && !rep.producers.verified(pb.ProducerID, res.guards[i]) &&
				!rep.producers.ongoingTxn(pb.ProducerID, pb.ProducerEpoch) {
				err = ErrInvalidTxnState
			}
		}
		if err != ErrNone {
			k := event.Reject // the coordinator could not answer: the producer retries
			if err == ErrInvalidProducerEpoch || err == ErrInvalidTxnState || err == ErrTransactionAbortable || err == ErrInvalidProducerIDMapping {
				k = event.TxnVerifyRefused
			}
			e := b.entry(k, pb.Partition, pb.Ref, -1, -1, -1, client)
			e.Err, e.Seq = int16(err), pb.BaseSequence
			e.ProducerID, e.ProducerEpoch = pb.ProducerID, pb.ProducerEpoch
			b.w.Trace.Add(e)
			return err, -1, -1
		}
	}
	return b.appendAsLeader(client, pb, r.Acks)
}
