package scenarios

import (
	"math"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// SampleMs is the step of the sampled time series, in virtual ms: fine
// enough to show a failover of a few hundred ms, coarse enough that a long
// run stays a few thousand points.
const SampleMs = 100

// Charts gathers the data behind the plots of this run. It reads the final
// logs exactly as the audit does, so the order chart and the report's
// duplicated and reordered counts agree. The series are resampled to steps
// of sampleMs, rounded up to a multiple of SampleMs; 0 keeps SampleMs.
func (r *Result) Charts(sampleMs float64) *Charts {
	rn := r.run
	c := &Charts{
		Scenario:   r.Report.Scenario,
		Seed:       r.Report.Seed,
		Partitions: []PartitionCount{},
		LatencyMs:  []float64{},
		BatchBytes: []float64{},
		Series:     []Sample{},
		Order:      []OrderSeries{},
		Faults:     []FaultMark{},
		Lost:       []LostRecord{},
	}
	for id := broker.RecordID(1); int(id) < len(rn.recs); id++ {
		if rn.recs[id].status == statusAcked {
			c.LatencyMs = append(c.LatencyMs, (rn.doneAt(id) - rn.sentAt(id)).Ms())
		}
	}
	for _, id := range rn.found.lost {
		rec := &rn.recs[id]
		p := rn.partitionOf(id)
		if p < 0 {
			continue // no partition known: nothing to place it on (a lost record was acknowledged, so this should not happen)
		}
		c.Lost = append(c.Lost, LostRecord{Record: id, Partition: rn.pl.topo.Name(broker.PartitionID(p)),
			Offset: int64(rec.offset), SentMs: rn.sentAt(id).Ms(), AckedMs: rn.doneAt(id).Ms()})
	}
	c.SampleMs, c.Series = resample(rn.series, sampleMs)
	rn.chartLogs(c)
	rn.chartTrace(c)
	return c
}

// chartLogs fills the partition counts and the order series from the final
// logs, the way audit counts copies and reorders.
func (r *runner) chartLogs(c *Charts) {
	// Copies are counted across partitions, as the audit does: a record the
	// application re-sent may land in another partition the second time.
	copies := make([]int, len(r.recs))
	for p := range r.pl.dataPartitions() {
		pid := broker.PartitionID(p)
		name := r.cl.SubjectName(int32(p))
		log := r.finalLog(pid)
		pc := PartitionCount{Partition: name}
		for _, b := range log.Batches() {
			if b.LastOffset() < log.HW() {
				pc.Bytes += int64(b.Bytes)
				if !b.IsControl() {
					pc.Records += int64(b.Count) // markers are not records
				}
			}
		}
		c.Partitions = append(c.Partitions, pc)

		os := OrderSeries{Partition: name, Points: make([]OrderPoint, 0, log.HW())}
		maxID := broker.RecordID(0)
		_, outcomes := log.TxnEnds()
		batches := log.Batches()
		bi := 0
		for o := int64(0); o < log.HW(); o++ {
			id := log.Record(o)
			for batches[bi].LastOffset() < o {
				bi++
			}
			if id == 0 {
				continue // a transaction marker takes an offset but is not a record
			}
			if outcomes[bi] == broker.MarkerAbort {
				os.Points = append(os.Points, OrderPoint{Offset: o, Record: id, SentMs: r.sentAt(id).Ms(), Aborted: true})
				continue
			}
			copies[id]++
			pt := OrderPoint{Offset: o, Record: id, SentMs: r.sentAt(id).Ms(), Copy: copies[id]}
			if copies[id] == 1 {
				pt.Reorder = id < maxID
				maxID = max(maxID, id)
			}
			os.Points = append(os.Points, pt)
		}
		c.Order = append(c.Order, os)
	}
}

// chartTrace fills the batch sizes and the fault marks from the trace.
//
// The producer's "send" entries carry no byte size, so a batch's size is
// read from the replica logs, which keep it per batch. A batch that never
// reached any log, or was truncated from all of them, has no known size and
// is left out of BatchBytes; in a run without faults that is none.
func (r *runner) chartTrace(c *Charts) {
	sizes := r.batchSizes()
	for _, e := range r.w.Trace.Entries() {
		switch {
		case e.Kind == event.Send && r.isProducer(e.Node):
			if e.Batch < int64(len(sizes)) && sizes[e.Batch] > 0 {
				c.BatchBytes = append(c.BatchBytes, float64(sizes[e.Batch]))
			}
		case e.Kind == event.Heal && len(c.Faults) == 0:
			// The end of a run without faults heals nothing: no mark.
		case e.Kind.Fault():
			// Faults are marks on the time axis; the cluster's reactions
			// (elections, ISR changes) are drawn as data instead.
			label := e.Kind.String()
			if e.Node != r.id {
				label += " " + r.w.NodeName(e.Node)
			}
			c.Faults = append(c.Faults, FaultMark{AtMs: e.At.Ms(), Label: label})
		}
	}
}

// batchSizes is the size of every batch in any replica log, by batch number
// (dense: the runner numbers batches from 1 across producer instances).
func (r *runner) batchSizes() []int32 {
	sizes := make([]int32, r.batchIDs+1)
	for p, pt := range r.pl.topo.Partitions {
		for _, b := range pt.Replicas {
			for _, lb := range r.cl.Brokers[b].Replica(broker.PartitionID(p)).Log.Batches() {
				if lb.Ref > 0 && lb.Ref < int64(len(sizes)) {
					sizes[lb.Ref] = lb.Bytes
				}
			}
		}
	}
	return sizes
}

func (r *runner) isProducer(n sim.NodeID) bool {
	for _, p := range r.producers {
		if p == n {
			return true
		}
	}
	return false
}

// resample merges the runner's samples into steps of sampleMs, each ending
// at a multiple of the step: acked counts add up, levels (in flight, buffer,
// ISR) keep the step's last value.
func resample(in []Sample, sampleMs float64) (float64, []Sample) {
	step := SampleMs * max(1, math.Ceil(sampleMs/SampleMs))
	out := []Sample{}
	for _, s := range in {
		end := step * math.Ceil(s.AtMs/step)
		if len(out) == 0 || out[len(out)-1].AtMs != end {
			out = append(out, Sample{AtMs: end})
		}
		m := &out[len(out)-1]
		m.AckedRecords += s.AckedRecords
		m.AckedBytes += s.AckedBytes
		m.InFlight, m.BufferBytes, m.Unstable = s.InFlight, s.BufferBytes, s.Unstable
		m.ISR = append(m.ISR[:0], s.ISR...)
	}
	return step, out
}
