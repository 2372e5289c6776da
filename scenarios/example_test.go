package scenarios_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/scenarios"
)

// Load a built-in lesson, run it and read what the audit found.
func ExampleLoad() {
	s, err := scenarios.Load("acks1-leader-failover", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := s.Run(scenarios.RunOptions{}).Report
	fmt.Println("acks=1: records lost:", rep.Records.Lost)

	// The same lesson with the fix, as `simulate run --set` would set it.
	s, err = scenarios.Load("acks1-leader-failover", []string{"producer.acks=all", "topic.min.insync.replicas=2"})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep = s.Run(scenarios.RunOptions{}).Report
	fmt.Println("acks=all: records lost:", rep.Records.Lost)
	// Output:
	// acks=1: records lost: 266
	// acks=all: records lost: 0
}

// A scenario from YAML text, with one setting overridden as --set does.
func ExampleParse() {
	yaml := `
name: two-in-flight
seed: 1
duration: 2s
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 3
    replication.factor: 3
producer:
  acks: all
workload:
  topic: orders
  records: 1000
  rate: 1000
  keys: 10
expect:
  records.lost: 0
`
	s, err := scenarios.Parse("two-in-flight.yaml", []byte(yaml), []string{"producer.linger.ms=20"})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := s.Run(scenarios.RunOptions{}).Report
	fmt.Println("linger.ms:", rep.Config.Producer["linger.ms"])
	fmt.Println("sent:", rep.Records.Sent, "acked:", rep.Records.Acked)
	for _, e := range rep.Expectations {
		fmt.Println(e.Path, e.Want, "holds:", e.OK)
	}

	// A bad override is an error naming what is allowed, not a panic.
	_, err = scenarios.Parse("two-in-flight.yaml", []byte(yaml), []string{"producer.acks=2"})
	fmt.Println(err)
	// Output:
	// linger.ms: 20
	// sent: 1000 acked: 1000
	// records.lost 0 holds: true
	// two-in-flight.yaml: --set producer.acks: Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1
}

// evenOnly is a student's partitioner: records go to the even partitions
// only, a different one each millisecond. It answers the same when asked
// twice for one record, as KafkaProducer does when the record opens a new
// batch (see the lesson round-robin-starvation).
type evenOnly struct{}

func (evenOnly) Partition(r producer.PartitionRequest) int {
	ms := int(r.Now / time.Millisecond)
	return 2 * (ms % (r.Partitions / 2))
}

// A partitioner of your own is passed as a value to Load (or Parse), under
// the class name the scenario's partitioner.class gives; nothing global is
// registered, so tests using it may run in parallel and repeatedly.
func ExampleLoad_partitioner() {
	class := producer.PartitionerClass{
		Name: "com.example.EvenOnly",
		New:  func(*rand.Rand) producer.Partitioner { return evenOnly{} },
	}
	s, err := scenarios.Load("sticky-vs-round-robin", []string{"producer.partitioner.class=com.example.EvenOnly", "workload.records=1200"}, class)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := s.Run(scenarios.RunOptions{}).Report
	fmt.Println("partitioner.class:", rep.Config.Producer["partitioner.class"])
	for _, p := range rep.Partitions[:4] {
		fmt.Printf("%s-%d: %d records\n", p.Topic, p.Partition, p.Records)
	}
	// Output:
	// partitioner.class: com.example.EvenOnly
	// logs-0: 180 records
	// logs-1: 0 records
	// logs-2: 180 records
	// logs-3: 0 records
}
