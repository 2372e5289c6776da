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

func ExampleRegisterPartitioner() {
	err := producer.RegisterPartitioner("com.example.VipPartitioner", func(rng *rand.Rand) producer.Partitioner {
		return &vipPartitioner{rng: rng}
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A scenario with partitioner.class: com.example.VipPartitioner makes
	// the producer do this once, with its own seeded stream.
	newFn, _ := producer.LookupPartitioner("com.example.VipPartitioner")
	p := newFn(rand.New(rand.NewPCG(1, 2)))
	for _, key := range []string{"vip-alice", "vip-bob", "order-1001", "hejsan"} {
		r := producer.PartitionRequest{Topic: "orders", Key: []byte(key), Partitions: 6, Available: []int{0, 1, 2, 3, 4, 5}}
		fmt.Printf("%-10s -> %d\n", key, p.Partition(r))
	}
	// Output:
	// vip-alice  -> 0
	// vip-bob    -> 0
	// order-1001 -> 4
	// hejsan     -> 4
}
