package scenarios

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchScenario is the speed target of the spine issue: RECORDS records,
// acks=all, replication factor 3, default batching.
const benchScenario = `
name: bench-million
duration: %ds
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 6
    replication.factor: 3
    config:
      min.insync.replicas: 2
producer:
  acks: all
workload:
  topic: orders
  records: %d
  rate: 100000
  value.bytes: 100
`

func benchRecords(b *testing.B, records int) *Scenario {
	b.Helper()
	s, err := Parse("bench", fmt.Appendf(nil, benchScenario, records/10_000, records), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// cpuTime is the process's CPU time so far, user and system, every thread:
// the garbage collector's work counts, whichever core it ran on. The
// machine's other load does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMillionRecords runs 1,000,000 records through the full model and
// reports simulated records per CPU second (the measure), per wall
// second, heap bytes allocated per record, and the engine's events per CPU
// second as a fraction of a bare heap loop's (heap-ratio), measured in the
// same process right after.
func BenchmarkMillionRecords(b *testing.B) {
	s := benchRecords(b, 1_000_000)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var events uint64
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		res := s.Run(RunOptions{})
		if res.Report.Records.Acked != 1_000_000 {
			b.Fatalf("acked %d of 1000000", res.Report.Records.Acked)
		}
		events += res.Events
	}
	cpu = cpuTime() - cpu
	b.StopTimer()
	runtime.ReadMemStats(&after)
	records := float64(b.N) * 1_000_000
	b.ReportMetric(records/cpu.Seconds(), "records/cpu-s")
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/records, "heap-B/record")
	engine := float64(events) / cpu.Seconds()
	b.ReportMetric(engine, "events/cpu-s")
	heapCPU := cpuTime()
	bareHeapLoop(events)
	bare := float64(events) / (cpuTime() - heapCPU).Seconds()
	b.ReportMetric(engine/bare, "heap-ratio")
}

// bareEvent has the size and ordering key of sim.Event.
type bareEvent struct {
	at, seq uint64
	node    int32
	inc     uint32
	kind    uint16
	a, b    int64
}

// bareHeapLoop is the floor an event engine is measured against: a
// hand-written value-typed binary min-heap (no container/heap, no
// interfaces) holding 64 events, each step popping the earliest and pushing
// one a pseudo-random time later, n steps.
func bareHeapLoop(n uint64) {
	h := make([]bareEvent, 0, 128)
	less := func(i, j int) bool {
		if h[i].at != h[j].at {
			return h[i].at < h[j].at
		}
		return h[i].seq < h[j].seq
	}
	push := func(e bareEvent) {
		h = append(h, e)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !less(i, p) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() bareEvent {
		top, last := h[0], len(h)-1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; {
			l := 2*i + 1
			if l >= last {
				break
			}
			m := l
			if r := l + 1; r < last && less(r, l) {
				m = r
			}
			if !less(m, i) {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
		return top
	}
	x, seq := uint64(88172645463325252), uint64(0)
	for range 64 {
		seq++
		push(bareEvent{at: seq * 1000, seq: seq})
	}
	var sum int64
	for range n {
		e := pop()
		sum += e.a
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		seq++
		push(bareEvent{at: e.at + x%100_000, seq: seq, a: int64(x & 7)})
	}
	if sum < 0 {
		panic("unreachable")
	}
}

// BenchmarkTenMillionRecords reports the peak heap per record of a
// ten-million-record run (the bound: 100 bytes): the most the
// heap's objects (live and not yet swept) held, sampled every millisecond,
// over the records. That peak is about twice what was live at the last
// collection (GOGC=100), so it also reports peak-live-B/record, the most
// a collection found live. It takes seconds and gigabytes, so it runs
// only with KAFKASIM_DEEP=1.
func BenchmarkTenMillionRecords(b *testing.B) {
	if os.Getenv("KAFKASIM_DEEP") == "" {
		b.Skip("set KAFKASIM_DEEP=1 for the ten-million-record run")
	}
	const records = 10_000_000
	s := benchRecords(b, records)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	heap := func() (objects, live uint64) {
		metrics.Read(sample)
		return sample[0].Value.Uint64(), sample[1].Value.Uint64()
	}
	base, baseLive := heap()
	var peak, peakLive atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				h, l := heap()
				peak.Store(max(peak.Load(), h))
				peakLive.Store(max(peakLive.Load(), l))
			}
		}
	}()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		res := s.Run(RunOptions{})
		if res.Report.Records.Acked != records {
			b.Fatalf("acked %d of %d", res.Report.Records.Acked, records)
		}
	}
	cpu = cpuTime() - cpu
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load()-base)/records, "peak-heap-B/record")
	b.ReportMetric(float64(peakLive.Load()-baseLive)/records, "peak-live-B/record")
	b.ReportMetric(float64(b.N)*records/cpu.Seconds(), "records/cpu-s")
}

// txnBench is a transactional run whose length the benchmark varies.
const txnBench = `
name: bench-txn
duration: %ds
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 6
    replication.factor: 3
    config:
      min.insync.replicas: 2
producer:
  transactional.id: bench
workload:
  topic: orders
  rate: 1000
  keys: 100
  transactions:
    records: 20
`

// BenchmarkTransactionalDuration runs a transactional scenario for 50 s and
// for 400 s of virtual time and reports the CPU time per record of the long
// run over the short one's (per-record-ratio): 1 when a run's cost is
// linear in its duration, growing with it when something is rebuilt at
// every step.
func BenchmarkTransactionalDuration(b *testing.B) {
	perRecord := func(secs int) float64 {
		s, err := Parse("bench-txn", fmt.Appendf(nil, txnBench, secs), nil)
		if err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime()
		res := s.Run(RunOptions{})
		if res.Report.Records.Sent == 0 || res.Report.Records.Lost != 0 {
			b.Fatalf("sent %d, lost %d", res.Report.Records.Sent, res.Report.Records.Lost)
		}
		return float64(cpuTime()-cpu) / float64(res.Report.Records.Sent)
	}
	var short, long float64
	for b.Loop() {
		short += perRecord(50)
		long += perRecord(400)
	}
	b.ReportMetric(long/short, "per-record-ratio")
	b.ReportMetric(1e9*float64(b.N)/long, "records/cpu-s-400s")
}
