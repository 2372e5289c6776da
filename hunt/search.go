// Package hunt searches for a fault schedule that breaks a property of a
// scenario (simulate hunt): schedules drawn from the hunt's seed and their
// index alone, run on a pool of workers, the lowest violating index kept,
// then shrunk. The answer is the same on any number of cores, and N shards
// of the index space merge into the answer one machine gives. Each run is
// single-threaded and deterministic; the pool, like sweep's, lives here,
// above the core.
package hunt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kafkasim/kafkasim/scenarios"
	"github.com/kafkasim/kafkasim/sweep"
)

// MaxBudget bounds --budget, so that a typo does not start a hunt that
// never ends.
const MaxBudget = 10_000_000

// Shard is the part of the schedule space one process covers: the indices
// i with i mod Of == Index.
type Shard struct {
	Index, Of int
}

// Whole is the shard of a hunt on one machine.
var Whole = Shard{0, 1}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Of) }

// ParseShard reads --shard I/N.
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: use I/N with 0 <= I < N, e.g. 0/4 for the first of four shards", v)
	}
	return Shard{i, n}, nil
}

// Search is one hunt's search over its budget of schedule indices.
type Search struct {
	Hunt     *scenarios.Hunt
	Budget   int   // the indices 0 to Budget-1, of which the shard's
	Shard    Shard // the indices this process covers
	Parallel int   // workers
	// Stop, if set, is asked before each new schedule: true stops the
	// search (a time limit). The schedules under way finish.
	Stop func() bool
	// Progress, if set, is called after each schedule with the number
	// run; it runs on the workers' goroutines, one at a time.
	Progress func(ran int)

	mu       sync.Mutex
	next     int
	best     int         // the lowest violating index so far, -1 for none
	ran      map[int]int // index -> why its violation fell outside the promise (scenarios.HuntOutside), -1 if it did not
	stopped  bool
	panicked *sweep.Panic
}

// Found is what a search found.
type Found struct {
	// Tried is the number of the shard's schedules up to and including
	// the violating one, or, when none violated, all those the search
	// covered without a gap.
	Tried     int
	Violation int // the lowest violating index, -1 if none
	// Outside counts the schedules among those tried that broke the
	// property only with faults beyond what Kafka promises it under, by
	// reason (scenarios.HuntOutside).
	Outside []int
	// FirstOutside is, by reason, the lowest such schedule's index (-1
	// for none).
	FirstOutside []int
}

// Run searches the shard's indices below Budget in increasing order on
// Parallel workers. A worker takes the next index unless a violation at
// a lower one is known; when one is found, every lower index still runs,
// so the answer is the lowest violating index whatever the number of
// workers.
func (s *Search) Run() Found {
	s.next, s.best, s.ran = s.Shard.Index, -1, map[int]int{}
	defer sweep.FewerCollections()()
	var wg sync.WaitGroup
	for range max(1, s.Parallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := s.take()
				if !ok {
					return
				}
				var t scenarios.Trial
				p := sweep.Catch(func() { t = s.Hunt.Judge(s.Hunt.Draw(i)) })
				s.mu.Lock()
				if p != nil && s.panicked == nil {
					s.panicked = p
				}
				if t.Violated && (s.best < 0 || i < s.best) {
					s.best = i
				}
				s.ran[i] = slices.Index(scenarios.HuntOutside, t.Outside)
				if s.Progress != nil {
					s.Progress(len(s.ran))
				}
				s.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if s.panicked != nil {
		panic(s.panicked) // on the caller's goroutine, where the CLI reports it
	}
	return s.found()
}

func (s *Search) take() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped && s.Stop != nil && s.Stop() {
		s.stopped = true
	}
	if s.stopped || s.panicked != nil || s.next >= s.Budget || (s.best >= 0 && s.next > s.best) {
		return 0, false
	}
	i := s.next
	s.next += s.Shard.Of
	return i, true
}

// Snapshot is what the search has found so far (for an interrupt): the
// lowest violating index may still be beaten by a lower one under way.
func (s *Search) Snapshot() Found {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ran == nil {
		return newFound()
	}
	return s.found()
}

// newFound is a search's answer before any schedule ran.
func newFound() Found {
	f := Found{Violation: -1, Outside: make([]int, len(scenarios.HuntOutside)), FirstOutside: make([]int, len(scenarios.HuntOutside))}
	for i := range f.FirstOutside {
		f.FirstOutside[i] = -1
	}
	return f
}

// found reads the state; s.mu is held or the workers are done. Only the
// unbroken run of indices from the shard's first counts: past a gap (a
// stop while lower ones ran) a schedule's result is not yet an answer.
func (s *Search) found() Found {
	f := newFound()
	f.Violation = s.best
	end := s.Shard.Index
	for {
		why, ok := s.ran[end]
		if !ok || (s.best >= 0 && end > s.best) {
			break
		}
		f.Tried++
		if why >= 0 {
			if f.Outside[why] == 0 {
				f.FirstOutside[why] = end
			}
			f.Outside[why]++
		}
		end += s.Shard.Of
	}
	if s.best >= 0 && end <= s.best {
		f.Violation = -1 // a lower index has not run yet
	}
	return f
}

// firstViolating runs the schedules on n workers and returns the index of
// the first that violates, -1 for none: a worker takes the next schedule
// unless a lower one is known to violate, so the answer is the one a
// single worker gives. ran, if set, hears of each run, one at a time.
func firstViolating(h *scenarios.Hunt, ss []scenarios.Schedule, n int, ran func()) int {
	var (
		mu       sync.Mutex
		next     int
		best     = -1
		panicked *sweep.Panic
		wg       sync.WaitGroup
	)
	defer sweep.FewerCollections()()
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(ss) || (best >= 0 && next > best) || panicked != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(max(1, n), len(ss)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				var violated bool
				p := sweep.Catch(func() { violated = h.Judge(ss[i]).Violated })
				mu.Lock()
				if p != nil && panicked == nil {
					panicked = p
				}
				if violated && (best < 0 || i < best) {
					best = i
				}
				if ran != nil {
					ran()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return best
}
