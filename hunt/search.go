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
	// run; it runs on the workers' goroutines, outside the search's
	// lock, so calls may overlap.
	Progress func(ran int)

	pool pool
	ran  map[int]int // index -> why its violation fell outside the promise (scenarios.HuntOutside), -1 if it did not
}

// Found is what a search found.
type Found struct {
	// Tried is the number of the shard's schedules up to and including
	// the violating one, or, when none violated, all those the search
	// covered without a gap.
	Tried     int
	Violation int // the lowest violating index, -1 if none
	// Unconfirmed is a violating index found while lower ones have not
	// all run (an interrupted search), -1 for none.
	Unconfirmed int
	// Outside lists the schedules among those tried that broke the
	// property only with faults beyond what Kafka promises it under, by
	// reason (scenarios.HuntOutside), in increasing order.
	Outside [][]int
}

// Run searches the shard's indices below Budget in increasing order on
// Parallel workers; the answer is the lowest violating index whatever
// the number of workers (see pool).
func (s *Search) Run() Found {
	p := &s.pool
	p.mu.Lock()
	p.next, p.step, p.end, p.best, p.runs, p.stop, p.stopped = s.Shard.Index, s.Shard.Of, s.Budget, -1, 0, s.Stop, false
	s.ran = map[int]int{}
	p.mu.Unlock()
	s.pool.run(s.Parallel, func(i int) scenarios.Trial { return s.Hunt.Judge(s.Hunt.Draw(i)) },
		func(i int, t scenarios.Trial) { s.ran[i] = slices.Index(scenarios.HuntOutside, t.Outside) }, s.Progress)
	return s.found()
}

// pool runs judged schedules at indices next, next+step, ... below end
// on workers, in increasing order: a worker takes the next index unless
// a violation at a lower one is known; when one is found, every lower
// index still runs, so best is the lowest violating index whatever the
// number of workers.
type pool struct {
	mu         sync.Mutex
	next, step int
	end        int
	best       int // the lowest violating index so far, -1 for none
	runs       int
	stop       func() bool
	stopped    bool
	panicked   *sweep.Panic
}

// run runs the pool on n workers until it is done; record hears of each
// run with the pool's lock held, after (if set) of the number of runs
// so far without it. A panic in a run stops the pool and is raised
// again on the caller's goroutine, where the CLI reports it.
func (p *pool) run(n int, judge func(i int) scenarios.Trial, record func(i int, t scenarios.Trial), after func(runs int)) {
	defer sweep.FewerCollections()()
	var wg sync.WaitGroup
	for range max(1, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := p.take(); ok; i, ok = p.take() {
				var t scenarios.Trial
				panicked := sweep.Catch(func() { t = judge(i) })
				p.mu.Lock()
				if panicked != nil && p.panicked == nil {
					p.panicked = panicked
				}
				if t.Violated && (p.best < 0 || i < p.best) {
					p.best = i
				}
				p.runs++
				runs := p.runs
				if record != nil {
					record(i, t)
				}
				p.mu.Unlock()
				if after != nil {
					after(runs)
				}
			}
		}()
	}
	wg.Wait()
	if p.panicked != nil {
		panic(p.panicked)
	}
}

func (p *pool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped && p.stop != nil && p.stop() {
		p.stopped = true
	}
	if p.stopped || p.panicked != nil || p.next >= p.end || (p.best >= 0 && p.next > p.best) {
		return 0, false
	}
	i := p.next
	p.next += p.step
	return i, true
}

// Snapshot is what the search has found so far (for an interrupt): the
// lowest violating index may still be beaten by a lower one under way.
func (s *Search) Snapshot() Found {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	if s.ran == nil {
		return newFound()
	}
	return s.found()
}

// newFound is a search's answer before any schedule ran.
func newFound() Found {
	return Found{Violation: -1, Unconfirmed: -1, Outside: make([][]int, len(scenarios.HuntOutside))}
}

// found reads the state; s.pool.mu is held or the workers are done. Only the
// unbroken run of indices from the shard's first counts: past a gap (a
// stop while lower ones ran) a schedule's result is not yet an answer.
func (s *Search) found() Found {
	f := newFound()
	f.Violation = s.pool.best
	end := s.Shard.Index
	for {
		why, ok := s.ran[end]
		if !ok || (s.pool.best >= 0 && end > s.pool.best) {
			break
		}
		f.Tried++
		if why >= 0 {
			f.Outside[why] = append(f.Outside[why], end)
		}
		end += s.Shard.Of
	}
	if s.pool.best >= 0 && end <= s.pool.best {
		f.Violation, f.Unconfirmed = -1, s.pool.best // a lower index has not run yet
	}
	return f
}

// firstViolating runs the schedules on n workers and returns the index of
// the first that violates, -1 for none: the answer a single worker
// gives (see pool). ran, if set, hears of each run; calls may overlap.
func firstViolating(h *scenarios.Hunt, ss []scenarios.Schedule, n int, ran func()) int {
	p := pool{step: 1, end: len(ss), best: -1}
	var after func(int)
	if ran != nil {
		after = func(int) { ran() }
	}
	p.run(min(n, len(ss)), func(i int) scenarios.Trial { return h.Judge(ss[i]) }, nil, after)
	return p.best
}
