package scenarios

import (
	"runtime"
	"testing"
)

// benchScenario is the speed target of the spine issue: one million records,
// acks=all, replication factor 3, default batching.
const benchScenario = `
name: bench-million
duration: 100s
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
  records: 1000000
  rate: 100000
  value.bytes: 100
`

// BenchmarkMillionRecords runs 1,000,000 records through the full model and
// reports simulated records per wall-clock second and heap bytes per record.
func BenchmarkMillionRecords(b *testing.B) {
	s, err := Parse("bench", []byte(benchScenario), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := s.Run(RunOptions{})
		if res.Report.Records.Acked != 1_000_000 {
			b.Fatalf("acked %d of 1000000", res.Report.Records.Acked)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	records := float64(b.N) * 1_000_000
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/records, "heap-B/record")
}
