package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpaceTimePairsAndBadges: on acks1-leader-failover the default window
// is the first lost record's story; every response is paired with its
// request (same batch, reversed lanes), the election reaches the new
// leader, and the lost badges count every lost record of the partition.
func TestSpaceTimePairsAndBadges(t *testing.T) {
	s, err := Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{Messages: true})
	st, err := res.SpaceTime(SpaceTimeOptions{})
	require.NoError(t, err)
	assert.Equal(t, "orders-0", st.Partition)
	assert.Contains(t, st.Why, "the first anomaly: lost record")
	kinds := map[ArrowKind]int{}
	for _, a := range st.Arrows {
		kinds[a.Kind]++
		if a.Pair < 0 {
			continue
		}
		q := st.Arrows[a.Pair]
		assert.Equal(t, q.From, a.To, "a response goes back to where its request came from")
		assert.Equal(t, q.To, a.From)
		assert.Equal(t, q.Batch, a.Batch)
		assert.LessOrEqual(t, q.SentMs, a.SentMs)
	}
	assert.Positive(t, kinds[ArrowProduce])
	assert.Equal(t, kinds[ArrowProduce], kinds[ArrowProduceResponse], "acks=1: every request answered, the answer paired")
	assert.Equal(t, 1, kinds[ArrowElection])
	lost := 0
	for _, b := range st.Badges {
		if b.Kind == BadgeLost {
			lost += b.Count
		}
	}
	assert.Equal(t, res.Report.Records.Lost, int64(lost))
}

// TestSpaceTimeOptions: a partition and window asked for are used; a
// partition the scenario lacks or an empty window is refused.
func TestSpaceTimeOptions(t *testing.T) {
	s, err := Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{Messages: true})
	from, to := 200*time.Millisecond, 400*time.Millisecond
	st, err := res.SpaceTime(SpaceTimeOptions{Partition: "orders-2", From: &from, To: &to})
	require.NoError(t, err)
	assert.Equal(t, "orders-2", st.Partition)
	assert.Equal(t, [2]float64{200, 400}, [2]float64{st.FromMs, st.ToMs})
	for _, a := range st.Arrows {
		assert.GreaterOrEqual(t, a.SentMs, 200.0)
		assert.LessOrEqual(t, a.SentMs, 400.0)
	}
	_, err = res.SpaceTime(SpaceTimeOptions{Partition: "orders-3"})
	assert.EqualError(t, err, "--partition: orders-3 is not a partition of this scenario; it has orders-0 to orders-2")
	_, err = res.SpaceTime(SpaceTimeOptions{From: &to, To: &from})
	assert.EqualError(t, err, "--from 400ms is not before --to 200ms")
}

// TestSpaceTimeDefaultWindow: with no window asked for, each lesson kind
// gets the window that shows its point.
func TestSpaceTimeDefaultWindow(t *testing.T) {
	for _, tc := range []struct{ lesson, why string }{
		{"acks1-leader-failover", "the first anomaly: lost record"},
		{"zombie-fencing", "the second before the first fatal error: PRODUCER_FENCED at 3.490005s"},
		{"idempotent-producer", "the first retry: "},
	} {
		t.Run(tc.lesson, func(t *testing.T) {
			s, err := Load(tc.lesson, nil)
			require.NoError(t, err)
			st, err := s.Run(RunOptions{Messages: true}).SpaceTime(SpaceTimeOptions{})
			require.NoError(t, err)
			assert.Contains(t, st.Why, tc.why)
		})
	}
}
