package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPowerLossOfSoleISRLeader: with acks=all and min.insync.replicas=1 the
// ISR shrinks to the cut-off leader, which acknowledges writes alone; it
// then loses power, so its log loses what it wrote in the last 5s (Kafka
// does not fsync on append). It comes back still the whole ISR, leads
// again with no unclean election, and the followers truncate to its
// shorter log: acknowledged records are lost. With min.insync.replicas=2
// the leader acknowledged nothing once alone, and what it acknowledged
// before (replicated) is older than 5s, so nothing acknowledged is lost.
func TestPowerLossOfSoleISRLeader(t *testing.T) {
	data, err := os.ReadFile("catalog/05-isr-shrink-to-leader.yaml")
	require.NoError(t, err)
	src := strings.Replace(string(data), "    do: crash\n", "    do: crash\n    power-loss: 5s\n", 1)
	require.NotEqual(t, string(data), src, "the lesson crashes its leader")
	src = strings.Replace(src, "expect:", "unused:", 1)
	src = src[:strings.Index(src, "unused:")]

	for _, tc := range []struct {
		minISR string
		lost   bool
	}{
		{"1", true},
		{"2", false},
	} {
		t.Run("min.insync.replicas="+tc.minISR, func(t *testing.T) {
			s, err := Parse("power-loss", []byte(src), []string{"topic.min.insync.replicas=" + tc.minISR})
			require.NoError(t, err)
			r := s.Run(RunOptions{}).Report
			var lost []Anomaly
			for _, a := range r.Anomalies {
				if a.Kind == "lost" {
					lost = append(lost, a)
				}
			}
			if !tc.lost {
				assert.Zero(t, len(lost), "min.insync.replicas=2 acknowledges nothing the leader alone holds")
				return
			}
			require.NotEmpty(t, lost, "the sole ISR member's unflushed acknowledged tail is lost")
			ex := lost[0].Explanation
			assert.NotContains(t, ex, "unclean")
			assert.Regexp(t, `broker-1 lost offsets [0-9]+-[0-9]+ it had not flushed when it lost power at 12\.000s`, ex)
			assert.Positive(t, r.Records.Acked-r.Records.Lost, "records written back before the power loss survive")
		})
	}
}
