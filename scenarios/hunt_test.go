package scenarios

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// TestRuleLies: which answers of a request rule tell the producer
// something false about what the broker did.
func TestRuleLies(t *testing.T) {
	tests := []struct {
		err   broker.Error
		after bool
		want  bool
	}{
		{broker.ErrDuplicateSequenceNumber, false, true}, // counted as written, never written
		{broker.ErrDuplicateSequenceNumber, true, false}, // written: true
		{broker.ErrInvalidProducerEpoch, true, true},     // written, heard as failed for good
		{broker.ErrInvalidProducerEpoch, false, false},   // not written, heard as failed
		{broker.ErrNotLeaderOrFollower, true, false},     // retriable: the producer resends, idempotence dedups
		{broker.ErrNotLeaderOrFollower, false, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, lies(tt.err, tt.after), "%v after=%v", tt.err, tt.after)
	}
}

// TestSessionAssumptionsLieFirst: a rule that lied voids the promise
// whatever else happened, and is named as the reason.
func TestSessionAssumptionsLieFirst(t *testing.T) {
	lie := &broker.Rule{Fired: 1, Error: broker.ErrDuplicateSequenceNumber}
	truth := &broker.Rule{Fired: 1, Error: broker.ErrDuplicateSequenceNumber, After: true}
	restarted := func(r *broker.Rule) *Result {
		return &Result{Sessions: 2, Trace: &sim.Trace{}, run: &runner{rules: []firedRule{{1, r}}}}
	}
	assert.Equal(t, "a request rule that lied", sessionAssumptions(restarted(lie)))
	assert.Equal(t, "a producer restart", sessionAssumptions(restarted(truth)))
}

// TestCounterexampleExpects: a property counted by several numbers
// expects, in its counterexample, those its run set above zero.
func TestCounterexampleExpects(t *testing.T) {
	h, err := NewHunt("transactions-atomic", nil, "exactly-once", 1)
	require.NoError(t, err)
	rep := &Report{Consumers: &ConsumersReport{ReadCommitted: ConsumerView{Torn: 2}}}
	text := string(h.Counterexample(h.Draw(0), rep))
	assert.Contains(t, text, "\nexpect:\n  consumers.read_committed.torn_transactions: \"> 0\"\n")
	assert.NotContains(t, text, "aborted_read")
	sc, err := Parse("counterexample", []byte(text), nil)
	require.NoError(t, err)
	assert.Len(t, sc.Expect, 1)
}

// TestHuntScenarioReadsAsWritten: the printed scenario has its --set
// values unquoted, no lesson question, and its faults in time order.
func TestHuntScenarioReadsAsWritten(t *testing.T) {
	h, err := NewHunt("hunt-safe-config", []string{"topic.min.insync.replicas=1", "topic.unclean.leader.election.enable=true"}, "no-loss", 1)
	require.NoError(t, err)
	sorted := 0
	for i := range 40 {
		text := string(h.YAML(h.Draw(i)))
		require.Contains(t, text, "\n      min.insync.replicas: 1\n")
		require.Contains(t, text, "\n      unclean.leader.election.enable: true\n")
		require.NotContains(t, text, "question:")
		var ats []int
		for _, m := range regexp.MustCompile(`(?m)^  - at: (\d+)ms$`).FindAllStringSubmatch(text, -1) {
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			ats = append(ats, n)
		}
		assert.True(t, slices.IsSorted(ats), "schedule %d:\n%s", i, text)
		if len(ats) > 1 && !slices.Equal(ats, drawOrder(h.Draw(i))) {
			sorted++
		}
	}
	assert.Positive(t, sorted, "some draws come out of time order")
}

func drawOrder(s Schedule) []int {
	var ats []int
	for _, f := range s.faults {
		ats = append(ats, f.atMs)
	}
	return ats
}
