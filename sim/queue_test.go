package sim

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pushAll pushes events at the given times, numbering them in push order
// (seq and A both hold the push index, so the pop order is easy to read).
func pushAll(q *queue, times []Time) []Event {
	pushed := make([]Event, len(times))
	for i, at := range times {
		pushed[i] = Event{At: at, seq: uint64(i + 1), A: int64(i)}
		q.push(pushed[i])
	}
	return pushed
}

func popAll(q *queue) []Event {
	var out []Event
	for q.len() > 0 {
		out = append(out, q.pop())
	}
	return out
}

func order(evs []Event) []int64 {
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.A)
	}
	return ids
}

func TestQueuePopsByTimeThenInsertionOrder(t *testing.T) {
	ms := Millisecond
	tests := []struct {
		name  string
		times []Time
		want  []int64 // push indexes in pop order
	}{
		{"empty", nil, nil},
		{"single", []Time{5 * ms}, []int64{0}},
		{"already sorted", []Time{1 * ms, 2 * ms, 3 * ms}, []int64{0, 1, 2}},
		{"reversed", []Time{3 * ms, 2 * ms, 1 * ms}, []int64{2, 1, 0}},
		{
			"ties keep push order",
			[]Time{2 * ms, 1 * ms, 2 * ms, 1 * ms, 2 * ms},
			[]int64{1, 3, 0, 2, 4},
		},
		{
			"many at one time come out in push order",
			[]Time{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
			[]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		},
		{
			"a late event pushed first waits for the burst",
			[]Time{9, 1, 1, 1, 1, 1, 1, 0},
			[]int64{7, 1, 2, 3, 4, 5, 6, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q queue
			pushAll(&q, tt.times)
			require.Equal(t, len(tt.times), q.len())

			assert.Equal(t, tt.want, order(popAll(&q)))
			assert.Zero(t, q.len())
		})
	}
}

func TestQueuePeekIsTheNextPop(t *testing.T) {
	var q queue
	pushAll(&q, []Time{30, 10, 20, 10})

	for q.len() > 0 {
		next := *q.peek()
		assert.Equal(t, next, q.pop())
	}
}

// byAt sorts events by time alone; sort.Stable then keeps push order among
// equal times, which is exactly the order the queue promises.
type byAt []Event

func (s byAt) Len() int           { return len(s) }
func (s byAt) Less(i, j int) bool { return s[i].At < s[j].At }
func (s byAt) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

func TestQueueMatchesStableSortOfRandomTimes(t *testing.T) {
	// Few distinct times among many events, so ties are common.
	rng := rand.New(rand.NewPCG(2024, 7))
	for round := 0; round < 50; round++ {
		n := 1 + rng.IntN(300)
		times := make([]Time, n)
		for i := range times {
			times[i] = Time(rng.IntN(40))
		}

		var q queue
		want := pushAll(&q, times)
		sort.Stable(byAt(want))

		got := popAll(&q)
		require.Equal(t, order(want), order(got), "round %d, %d events", round, n)
	}
}

func TestQueueInterleavedPushAndPopMatchesModel(t *testing.T) {
	// The engine pops and pushes in turns; the heap must stay ordered through
	// that, not only when everything is pushed first.
	rng := rand.New(rand.NewPCG(99, 1))
	var q queue
	var model []Event // kept sorted by (At, seq)
	seq := uint64(0)
	for step := 0; step < 5000; step++ {
		if q.len() == 0 || rng.IntN(3) > 0 {
			seq++
			e := Event{At: Time(rng.IntN(100)), seq: seq, A: int64(seq)}
			q.push(e)
			i := sort.Search(len(model), func(i int) bool {
				return model[i].At > e.At // after every equal time: pushed later
			})
			model = append(model, Event{})
			copy(model[i+1:], model[i:])
			model[i] = e
			continue
		}
		got := q.pop()
		require.Equal(t, model[0], got, "step %d", step)
		model = model[1:]
	}
	assert.Equal(t, len(model), q.len())
	assert.Equal(t, order(model), order(popAll(&q)))
}

// BenchmarkQueue pops the earliest of 64 queued events and pushes one a
// pseudo-random time later, as a run's steady state does.
func BenchmarkQueue(b *testing.B) {
	var q queue
	rng := rand.New(rand.NewPCG(1, 2))
	seq := uint64(0)
	for range 64 {
		seq++
		q.push(Event{At: Time(rng.Int64N(1e6)), seq: seq})
	}
	for b.Loop() {
		e := q.pop()
		seq++
		q.push(Event{At: e.At + Time(rng.Int64N(1e5)), seq: seq})
	}
}
