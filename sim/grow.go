package sim

import "slices"

// Grow makes room for n more elements, doubling the capacity when it runs
// out. append alone grows a large slice by a quarter at a time, so a run's
// logs and trace, millions long, would be copied dozens of times, each new
// array cleared first; doubling copies each element about once.
func Grow[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	return slices.Grow(s, max(n, cap(s)))
}
