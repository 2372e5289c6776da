package scenarios

import (
	"sort"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

type recStatus uint8

const (
	statusPending recStatus = iota
	statusAcked
	statusFailed
)

// recState is the ledger's entry for one record: what the application was
// told. A run holds one per record (at ten million records, the largest
// thing it holds), so it keeps only what differs from record to record in
// 24 bytes; what a whole batch shares (its partition, when its callback
// ran) is in the ledger's batch table, what follows from the record id
// (its topic) is worked out, and the send time keeps its low 32 bits
// (sentAt has the rest). Offsets and batch numbers are 32 bits: a run
// whose ledger fits in memory has fewer than 2^31 records, hence fewer
// batches and fewer offsets in any partition.
type recState struct {
	sentLow uint32 // the send time's low 32 bits
	offset  int32
	batch   int32 // the batch of its last callback; 0: none yet
	key     int32
	session uint32 // the instance that sent it last (a uint16 would wrap after 65,535 restarts)
	err     broker.Error
	status  recStatus
}

// batchFacts is what the records of one batch share.
type batchFacts struct {
	doneAt    sim.Time // when its callback ran
	partition int32
	done      bool // its callback ran
}

// sendEpoch is the send time's high 32 bits from one record id on: send
// times never decrease with the id, so the high bits change once every
// 4.3 s of virtual time at most.
type sendEpoch struct {
	from broker.RecordID
	high int64
}

// ledger is what the application was told about each record.
type ledger struct {
	recs    []recState   // by record id; 0 unused
	batches []batchFacts // by batch id, up to the last one a callback named; 0: no batch
	epochs  []sendEpoch  // in id order
	// doneAlone is the callback time of a record told apart from any
	// batch (failed in send()), or told again after its batch's callback
	// had already run; the batch table has the others'.
	doneAlone map[broker.RecordID]sim.Time
	// recGroups is each record's group in r.groups, by record id, once a
	// record has one (workload.transactions); nil: every record's group is -1.
	recGroups []int32
	topicIdx  []int // the topics records go to, in the order of their ids (pl.topics)
}

// ledgerEntryBytes is what the memory budget counts per ledger entry: the
// size an entry had when the budgets were set, kept so that a run stops
// where it always has (runner.memoryUsed).
const ledgerEntryBytes = 48

func (r *runner) newLedger(capacity int) {
	r.recs = make([]recState, 1, capacity)
	r.batches = []batchFacts{{partition: -1}}
	r.doneAlone = map[broker.RecordID]sim.Time{}
	r.topicIdx = r.pl.topics
	if r.pl.txnRecords > 0 {
		r.recGroups = make([]int32, 1, capacity)
	}
}

// addRecord enters record id, sent now.
func (r *runner) addRecord(id broker.RecordID, now sim.Time, key int32, session uint32, group int32) {
	if high := int64(now) >> 32; len(r.epochs) == 0 || r.epochs[len(r.epochs)-1].high != high {
		r.epochs = append(r.epochs, sendEpoch{from: id, high: high})
	}
	if group >= 0 && r.recGroups == nil {
		// Not sized up front (no workload.transactions): the records
		// before it had no group.
		r.recGroups = make([]int32, len(r.recs), cap(r.recs))
		for i := range r.recGroups {
			r.recGroups[i] = -1
		}
	}
	r.recs = append(r.recs, recState{sentLow: uint32(now), offset: -1, key: key, session: session})
	if r.recGroups != nil {
		r.recGroups = append(r.recGroups, group)
	}
}

// sentAt is when the application sent record id.
func (r *ledger) sentAt(id broker.RecordID) sim.Time {
	i := sort.Search(len(r.epochs), func(i int) bool { return r.epochs[i].from > id }) - 1
	return sim.Time(r.epochs[i].high<<32 | int64(r.recs[id].sentLow))
}

// doneAt is when the application was last told record id's outcome; 0:
// never.
func (r *ledger) doneAt(id broker.RecordID) sim.Time {
	if len(r.doneAlone) > 0 {
		if t, ok := r.doneAlone[id]; ok {
			return t
		}
	}
	return r.batches[r.recs[id].batch].doneAt
}

// partitionOf is the partition of record id's last callback; -1: none.
func (r *ledger) partitionOf(id broker.RecordID) int32 {
	return r.batches[r.recs[id].batch].partition
}

// topicOf is the topic record id was sent to.
func (r *ledger) topicOf(id broker.RecordID) int {
	return r.topicIdx[int(id-1)%len(r.topicIdx)]
}

// groupOf is record id's group in r.groups; -1: none.
func (r *ledger) groupOf(id broker.RecordID) int32 {
	if r.recGroups == nil {
		return -1
	}
	return r.recGroups[id]
}

// batchDone enters the callback of batch id, on partition p, at now, and
// reports whether the batch table holds it: a second callback for the
// same batch at another time leaves the first in the table, and its
// records' times go to doneAlone.
func (r *ledger) batchDone(id int64, p int32, now sim.Time) bool {
	for int64(len(r.batches)) <= id {
		r.batches = append(r.batches, batchFacts{partition: -1})
	}
	b := &r.batches[id]
	if b.done && (b.doneAt != now || b.partition != p) {
		return false
	}
	b.doneAt, b.partition, b.done = now, p, true
	return true
}
