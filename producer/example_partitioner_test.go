package producer_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/kafkasim/kafkasim/producer"
)

// vipPartitioner keeps partition 0 for keys starting with "vip-" and
// spreads every other key over the remaining partitions by murmur2, as
// the Java client would over a topic one partition smaller. Keyless
// records go to a random non-VIP partition.
type vipPartitioner struct{ rng *rand.Rand }

func (p *vipPartitioner) Partition(r producer.PartitionRequest) int {
	if r.Partitions == 1 || bytes.HasPrefix(r.Key, []byte("vip-")) {
		return 0
	}
	if r.Key == nil {
		// Randomness only from the producer's seeded stream.
		return 1 + p.rng.IntN(r.Partitions-1)
	}
	return 1 + producer.KeyPartition(r.Key, r.Partitions-1)
}

// A partitioner of your own is a value: the configuration of the run that
// uses it names it, and nothing is registered for other runs to see.
func ExamplePartitionerClass() {
	vip := producer.PartitionerClass{
		Name: "com.example.VipPartitioner",
		New:  func(rng *rand.Rand) producer.Partitioner { return &vipPartitioner{rng: rng} },
	}
	cfg, err := producer.NewConfig(map[string]string{"partitioner.class": vip.Name}, vip)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("partitioner.class:", cfg.Effective()["partitioner.class"])

	// The producer calls New once, with its own seeded stream, and asks
	// the partitioner for each record's partition.
	p := vip.New(rand.New(rand.NewPCG(1, 2)))
	for _, key := range []string{"vip-alice", "vip-bob", "order-1001", "hejsan"} {
		r := producer.PartitionRequest{Topic: "orders", Key: []byte(key), Partitions: 6, Available: []int{0, 1, 2, 3, 4, 5}}
		fmt.Printf("%-10s -> %d\n", key, p.Partition(r))
	}

	// Without the value, the name is unknown.
	_, err = producer.NewConfig(map[string]string{"partitioner.class": vip.Name})
	fmt.Println(err != nil)
	// Output:
	// partitioner.class: com.example.VipPartitioner
	// vip-alice  -> 0
	// vip-bob    -> 0
	// order-1001 -> 4
	// hejsan     -> 4
	// true
}
