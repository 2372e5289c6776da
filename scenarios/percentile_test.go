package scenarios

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kafkasim/kafkasim/sim"
)

// TestSelectNth checks the percentiles' selection against a sort, on
// distinct values, runs of equal ones, sorted and reversed input.
func TestSelectNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name   string
		n      int
		values func(i int) sim.Time
	}{
		{"distinct", 1000, func(int) sim.Time { return sim.Time(rng.Int64N(1 << 40)) }},
		{"few values", 1000, func(int) sim.Time { return sim.Time(rng.IntN(4)) }},
		{"all equal", 300, func(int) sim.Time { return 7 }},
		{"sorted", 500, func(i int) sim.Time { return sim.Time(i) }},
		{"reversed", 500, func(i int) sim.Time { return sim.Time(-i) }},
		{"one", 1, func(int) sim.Time { return 5 }},
	} {
		for k := range tc.n {
			if tc.n > 50 && k%37 != 0 && k != tc.n-1 {
				continue
			}
			a := make([]sim.Time, tc.n)
			for i := range a {
				a[i] = tc.values(i)
			}
			sorted := slices.Sorted(slices.Values(a))
			selectNth(a, k)
			assert.Equal(t, sorted[k], a[k], "%s: k=%d", tc.name, k)
			for i := range a {
				if i < k {
					assert.LessOrEqual(t, a[i], a[k], "%s: k=%d, i=%d", tc.name, k, i)
				} else {
					assert.GreaterOrEqual(t, a[i], a[k], "%s: k=%d, i=%d", tc.name, k, i)
				}
			}
		}
	}
}
