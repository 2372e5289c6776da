package sweep_test

import (
	"fmt"
	"os"

	"github.com/kafkasim/kafkasim/sweep"
)

// A sweep from Go: acks=1 against acks=all on three seeds each, the
// lesson's own outcome (records.lost, its expect path) in the first column.
func ExampleNewGrid() {
	varies, err := sweep.ParseVaries([]string{"producer.acks=1,all"})
	if err != nil {
		fmt.Println(err)
		return
	}
	seeds, _ := sweep.ParseSeeds("1-3")
	g, err := sweep.NewGrid("acks1-leader-failover", []string{"workload.records=3000"}, varies, seeds)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := g.SetColumns([]string{"records.lost", "records.acked"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := g.Execute(2, nil); err != nil {
		fmt.Println(err)
		return
	}
	for i, st := range g.Stats() {
		lost := st["records.lost"]
		fmt.Printf("%s: records.lost mean %.1f over %d seeds, min %g, max %g\n", g.Combos[i][0], lost.Mean, lost.Runs, lost.Min, lost.Max)
	}
	g.WriteTable(os.Stdout)
	// Output:
	// producer.acks=1: records.lost mean 270.7 over 3 seeds, min 266, max 275
	// producer.acks=all: records.lost mean 0.0 over 3 seeds, min 0, max 0
	// acks1-leader-failover: each row is 3 runs, seeds 1-3; a cell is their mean ± standard deviation [min–max], or the one value every seed gave
	//   producer.acks  seeds  records.lost (records)  records.acked (records)
	//               1      3  270.7 ± 4.51 [266–275]                     3000
	//             all      3                       0                     3000
}
