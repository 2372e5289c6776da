package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The explanations read the trace's typed fields, never its text: flipping
// the Unclean flag of the election, or the error code of a retry, changes
// the story told, with no detail text involved.
func TestExplanationsReadFields(t *testing.T) {
	s, err := Load("unclean-election-loss", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	r := res.run
	var lost *Anomaly
	for i := range res.Report.Anomalies {
		if res.Report.Anomalies[i].Kind == "lost" {
			lost = &res.Report.Anomalies[i]
			break
		}
	}
	require.NotNil(t, lost, "the lesson loses acknowledged records")
	require.Contains(t, lost.Explanation, "by unclean election (it was not in the ISR)")
	explain := func() string { return newExplainer(r).lost(lost.Record).Explanation }
	assert.Equal(t, lost.Explanation, explain(), "explaining again tells the same story")

	entries := r.w.Trace.Entries()
	for i := range entries {
		if entries[i].Kind == event.Elect {
			entries[i].Flags &^= event.Unclean
		}
	}
	clean := explain()
	assert.Contains(t, clean, "(clean election from the ISR)")
	assert.NotContains(t, clean, "unclean")

	for i := range entries {
		if entries[i].Kind == event.Elect {
			entries[i].Flags |= event.FromElr
		}
	}
	assert.Contains(t, explain(), "(clean election from the eligible leader replicas: it holds every committed record; records only the old leader had were never committed)")
	for i := range entries {
		if entries[i].Kind == event.Elect {
			entries[i].Flags = event.Unclean | event.LastKnownLeader
		}
	}
	assert.Contains(t, explain(), "as the last known leader (the ISR and the eligible leader replicas were empty)")
}

// TestLostAfterElectionFromELR: on Kafka 4.1 with acks=1, records the lone
// leader acknowledged after broker 2 stopped fetching never committed; the
// replica elected from the ELR does not have them, and the explanation says
// why that election was still clean.
func TestLostAfterElectionFromELR(t *testing.T) {
	s, err := Load("last-replica-standing", []string{"producer.acks=1"})
	require.NoError(t, err)
	r := s.Run(RunOptions{}).Report
	require.NotEmpty(t, r.Anomalies)
	assert.Equal(t, "lost", r.Anomalies[0].Kind)
	assert.Contains(t, r.Anomalies[0].Explanation, "broker-2 became leader in epoch 2")
	assert.Contains(t, r.Anomalies[0].Explanation, "clean election from the eligible leader replicas")
}

func TestHistoryNamesTheRetryErrorFromItsCode(t *testing.T) {
	s, err := Load("retry-duplicates", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	r := res.run
	entries := r.w.Trace.Entries()
	i := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Retry })
	require.GreaterOrEqual(t, i, 0, "the lesson retries a batch")
	e := &entries[i]
	x := newExplainer(r)
	before := strings.Join(x.history(e.Batch, e.At-1, e.At+1), "; ")
	require.Contains(t, before, "the producer retried it after "+broker.Error(e.Err).String())

	e.Err = int16(broker.ErrNotEnoughReplicasAfterAppend)
	after := strings.Join(newExplainer(r).history(e.Batch, e.At-1, e.At+1), "; ")
	assert.Equal(t, "the producer retried it after NOT_ENOUGH_REPLICAS_AFTER_APPEND (the data was already appended) at "+e.At.String(), after)
}

// TestExplanationNamesAPartition: a partition that cuts a leader off is
// told as the leader being cut off, as isolate is.
func TestExplanationNamesAPartition(t *testing.T) {
	src, err := os.ReadFile("catalog/02-acks1-leader-failover.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(src), "do: isolate\n    broker: leader orders-0\n    from: [brokers]",
		"do: partition\n    between: [leader orders-0]\n    and: [brokers]", 1)
	require.NotEqual(t, string(src), text, "the lesson's isolate is where this test expects it")
	s, err := Parse("t.yaml", []byte(text), nil)
	require.NoError(t, err)
	rep := s.Run(RunOptions{}).Report
	require.NotEmpty(t, rep.Anomalies)
	assert.Contains(t, rep.Anomalies[0].Explanation, "broker-1 was cut off at 1.000s (links between leader orders-0 and brokers)")
}

// TestAnomaliesAreComplete: Result.Anomalies explains every anomaly the
// counts cover, the report the first RunOptions.Anomalies of them, in the
// same order.
func TestAnomaliesAreComplete(t *testing.T) {
	s, err := Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	for _, tt := range []struct{ opt, want int }{{0, DefaultAnomalies}, {5, 5}, {AllAnomalies, -1}} {
		res := s.Run(RunOptions{Anomalies: tt.opt})
		all := res.Anomalies()
		require.Greater(t, len(all), DefaultAnomalies, "the lesson has more anomalies than a report shows by default")
		assert.Len(t, all, res.Report.AnomalyCount)
		want := tt.want
		if want < 0 {
			want = len(all)
		}
		assert.Equal(t, all[:want], res.Report.Anomalies)
		c := res.Report.Records
		kinds := map[string]int64{}
		for _, a := range all {
			kinds[a.Kind]++
			assert.NotEmpty(t, a.Explanation)
		}
		assert.Equal(t, map[string]int64{"lost": c.Lost}, kinds, "acks=1 failover loses records and nothing else")
	}
}

// TestLostNamesTheISRShrink: an acks=all record lost after the ISR shrank
// names the ISR the controller had committed when it was acknowledged,
// read from the isr entry's broker list.
func TestLostNamesTheISRShrink(t *testing.T) {
	s, err := Load("unclean-election-loss", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	require.NotEmpty(t, res.Report.Anomalies)
	lost := res.Report.Anomalies[0]
	require.Equal(t, "lost", lost.Kind)
	assert.Contains(t, lost.Explanation, "the ISR had shrunk to [1] at 7.501089s, so acks=all waited for broker-1 alone (1 of 3 replicas; min.insync.replicas=1 allowed it)")

	entries := res.run.w.Trace.Entries()
	i := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Isr && e.At.String() == "7.501089s" })
	require.GreaterOrEqual(t, i, 0, "the shrink is in the trace")
	entries[i].Ext.List = []int32{1, 3}
	assert.Contains(t, newExplainer(res.run).lost(lost.Record).Explanation,
		"the ISR had shrunk to [1 3] at 7.501089s, so acks=all waited for broker-1 and broker-3 (2 of 3 replicas")
	entries[i].Ext.List = []int32{1, 2, 3}
	assert.NotContains(t, newExplainer(res.run).lost(lost.Record).Explanation, "ISR had shrunk")
}

// TestKeysSplitExample: the example key's first record is in From, the
// record named went to To, and the fault that moved it is named.
func TestKeysSplitExample(t *testing.T) {
	for _, tt := range []struct{ lesson, after string }{
		{"partition-count-change", "add-partitions at 2.000s"},
		{"client-partitioner-mismatch", "restart-producer at 2.000s"},
	} {
		t.Run(tt.lesson, func(t *testing.T) {
			s, err := Load(tt.lesson, nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{})
			ks := res.Report.Records.KeysSplitExample
			require.NotNil(t, ks)
			assert.Equal(t, tt.after, ks.After)
			r := res.run
			in := func(name string) []broker.RecordID { // the example key's records in a partition
				var ids []broker.RecordID
				for p := range r.pl.dataPartitions() {
					if r.pl.topo.Name(broker.PartitionID(p)) != name {
						continue
					}
					log := r.finalLog(broker.PartitionID(p))
					for o := int64(0); o < log.HW(); o++ {
						if id := log.Record(o); id != 0 && "key-"+strconv.Itoa(int(r.recs[id].key)) == ks.Key {
							ids = append(ids, id)
						}
					}
				}
				return ids
			}
			from, to := in(ks.From), in(ks.To)
			require.NotEmpty(t, from)
			assert.Contains(t, to, ks.Record)
			assert.Less(t, slices.Min(from), ks.Record, "the key went to From first")
			assert.NotEqual(t, ks.From, ks.To)
		})
	}
}

// TestDuplicateInTwoPartitionsNamesBoth: a record the restarted
// application sent again, which the new client's partitioner put in
// another partition, is explained copy by copy, each with its partition.
func TestDuplicateInTwoPartitionsNamesBoth(t *testing.T) {
	s, err := Load("client-partitioner-mismatch", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	all := res.Anomalies()
	require.NotEmpty(t, all)
	spread := 0
	for _, a := range all {
		require.Equal(t, "duplicated", a.Kind)
		if a.Copies == nil {
			assert.Len(t, a.Offsets, 2, "record %d: both copies in %s", a.Record, a.Partition)
			assert.NotContains(t, a.Explanation, " of "+a.Partition)
			continue
		}
		spread++
		require.Len(t, a.Copies, 2, "record %d", a.Record)
		first, second := a.Copies[0], a.Copies[1]
		assert.NotEqual(t, first.Partition, second.Partition)
		assert.Contains(t, a.Explanation, "appended it at offset "+strconv.FormatInt(first.Offset, 10)+" of "+first.Partition)
		assert.Contains(t, a.Explanation, "appended it again at offset "+strconv.FormatInt(second.Offset, 10)+" of "+second.Partition)
		assert.Contains(t, a.Explanation, "this time its key went to "+second.Partition+", not "+first.Partition+" (restart-producer at 2.000s)")
	}
	assert.Equal(t, 3, spread, "three of the four re-sent records moved")
}

// TestWireNamesTheHeldResponseOfItsRequest: with requests in flight a cut
// holds several responses; an explanation names the one answering the
// batch's own request (the held entry's request id), not the first held
// after the send.
func TestWireNamesTheHeldResponseOfItsRequest(t *testing.T) {
	s, err := Load("request-timeout-closes-connection", []string{"workload.rate=5000", "producer.linger.ms=0"})
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	r := res.run
	entries := r.w.Trace.Entries()
	others := 0 // explanations where another request's response was held first
	for _, a := range res.Anomalies() {
		require.Equal(t, "duplicated", a.Kind)
		p := broker.PartitionID(-1)
		for q := range r.pl.topo.Partitions {
			if r.pl.topo.Name(broker.PartitionID(q)) == a.Partition {
				p = broker.PartitionID(q)
			}
		}
		require.GreaterOrEqual(t, int(p), 0)
		ref := newExplainer(r).batchAt(p, a.Offsets[0])
		i := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Send && e.Batch == ref })
		require.GreaterOrEqual(t, i, 0)
		send := entries[i]
		own := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Held && e.Req == send.Req })
		require.GreaterOrEqual(t, own, 0, "record %d: its response was held", a.Record)
		assert.Contains(t, a.Explanation, "at "+entries[own].At.String()+" its response from")
		first := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Held && e.At >= send.At })
		if first != own {
			others++
			assert.NotContains(t, a.Explanation, "at "+entries[first].At.String()+" its response from")
		}
	}
	assert.Positive(t, others, "some batch's response was not the first held after its send")
}

// TestLostToAStaleLeader: a controlled shutdown moves orders-1's leadership
// from broker-2 at 1.984108s, but broker-2 learns it only later and
// acknowledges an acks=1 write in its old epoch; the explanation names the
// shutdown and the election that came before the append (a schedule
// simulate hunt found).
func TestLostToAStaleLeader(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "stale-leader-after-shutdown.yaml"))
	require.NoError(t, err)
	s, err := Parse("stale-leader-after-shutdown.yaml", data, nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	require.Equal(t, int64(1), res.Report.Records.Lost)
	ex := res.Report.Anomalies[0].Explanation
	assert.Contains(t, ex, "broker-2 began a controlled shutdown at 1.983s")
	assert.Contains(t, ex, "the controller had already made broker-1 leader in epoch 1 at 1.984108s (clean election from the ISR) with log end offset 759, but broker-2 had not yet learned it and acted as leader in epoch 0")
}
