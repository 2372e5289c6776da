package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// The explanations read the trace's typed fields, never its text: flipping
// the Unclean flag of the election, or the error code of a retry, changes
// the story told, with no detail text involved.
func TestExplanationsReadFields(t *testing.T) {
	s, err := Load("unclean-election-loss", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	r := res.run
	var lost *Anomaly
	for i := range res.Report.Anomalies {
		if res.Report.Anomalies[i].Kind == "lost" {
			lost = &res.Report.Anomalies[i]
			break
		}
	}
	require.NotNil(t, lost, "the lesson loses acknowledged records")
	require.Contains(t, lost.Explanation, "by unclean election (it was not in the ISR)")
	explain := func() string { return newExplainer(r).lost(broker.RecordID(lost.Record)).Explanation }
	assert.Equal(t, lost.Explanation, explain(), "explaining again tells the same story")

	entries := r.w.Trace.Entries()
	for i := range entries {
		if entries[i].Kind == event.Elect {
			entries[i].Flags &^= event.Unclean
		}
	}
	clean := explain()
	assert.Contains(t, clean, "(clean election from the ISR)")
	assert.NotContains(t, clean, "unclean")
}

func TestHistoryNamesTheRetryErrorFromItsCode(t *testing.T) {
	s, err := Load("retry-duplicates", nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{})
	r := res.run
	entries := r.w.Trace.Entries()
	i := slices.IndexFunc(entries, func(e sim.Entry) bool { return e.Kind == event.Retry })
	require.GreaterOrEqual(t, i, 0, "the lesson retries a batch")
	e := &entries[i]
	x := newExplainer(r)
	before := strings.Join(x.history(e.Batch, e.At-1, e.At+1), "; ")
	require.Contains(t, before, "the producer retried it after "+broker.Error(e.Err).String())

	e.Err = int16(broker.ErrNotEnoughReplicasAfterAppend)
	after := strings.Join(newExplainer(r).history(e.Batch, e.At-1, e.At+1), "; ")
	assert.Equal(t, "the producer retried it after NOT_ENOUGH_REPLICAS_AFTER_APPEND (the data was already appended) at "+e.At.String(), after)
}
