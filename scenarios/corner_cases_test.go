package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCornerCases replays runs that once went wrong (testdata/corner-cases):
// each must end promptly, keep the guarantees, and explain its anomalies.
func TestCornerCases(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, r *Report)
	}{
		// Two instances frozen in turn, the second while it was taking over
		// the first one's transaction: the last instance sends it.
		{"txn-two-zombies-in-turn.yaml", func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Lost)
			assert.Zero(t, r.Transactions.Open)
		}},
		// The coordinator cannot write its log (ISR below
		// transaction.state.log.min.isr): the producer retries at
		// retry.backoff.ms, not back to back.
		{"txn-coordinator-log-below-min-isr.yaml", func(t *testing.T, r *Report) {
			assert.Positive(t, r.Errors["COORDINATOR_NOT_AVAILABLE"])
			assert.Less(t, r.Errors["COORDINATOR_NOT_AVAILABLE"], int64(100), "about 10 retries a second")
		}},
		// The coordinator is cut off from a partition leader while its
		// markers are out: the audit waits until they are written.
		{"txn-coordinator-cut-off-from-leader.yaml", func(t *testing.T, r *Report) {
			require.NotNil(t, r.Consumers)
			assert.Zero(t, r.Consumers.ReadCommitted.CommittedLost)
		}},
		// The answer to an epoch-bumping InitProducerId is lost: the retry
		// gets the same epoch instead of PRODUCER_FENCED.
		{"txn-epoch-bump-answer-lost.yaml", func(t *testing.T, r *Report) {
			assert.Zero(t, r.Errors["PRODUCER_FENCED"])
		}},
		// Without transactions: the replacement re-sent records it then got
		// no answer for, the zombie wrote them; the audit explains them
		// (ambiguous) from the log, without a partition from a callback.
		// A keyless record re-sent by another instance lands in another
		// partition than its callback named, and is reordered there.
		{"zombie-resend-reordered-elsewhere.yaml", func(t *testing.T, r *Report) {
			require.Positive(t, r.Records.Reordered)
			for _, a := range r.Anomalies {
				assert.NotEmpty(t, a.Offsets, "%s record %d", a.Kind, a.Record)
			}
		}},
		// send() blocks for memory as the last transaction completes: the
		// application commits once it returns, with every record in.
		{"txn-commit-waits-for-blocked-send.yaml", func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Failed)
			require.NotNil(t, r.Consumers)
			assert.Zero(t, r.Consumers.ReadCommitted.Torn)
			assert.Positive(t, r.Metrics["bufferpool-wait-time-total"], "send() blocked for memory")
		}},
		// The instance is closed while send() is blocked at the end of a
		// transaction: the closed instance does not commit it.
		{"txn-restart-while-send-blocked.yaml", func(t *testing.T, r *Report) {
			assert.Zero(t, r.Records.Pending)
			assert.Zero(t, r.Transactions.Open)
		}},
		// A coordinator restarted before its old session expired must not
		// lead again in the old epoch: it would load an entry that was
		// never replicated, answer from it, then lose it to the new leader
		// and commit without a marker on one partition.
		{"txn-coordinator-loads-unreplicated-add.yaml", func(t *testing.T, r *Report) {
			require.NotNil(t, r.Consumers)
			assert.Zero(t, r.Consumers.ReadCommitted.Torn)
		}},
		{"zombie-writes-unanswered-records.yaml", func(t *testing.T, r *Report) {
			assert.Positive(t, r.Records.Ambiguous)
			assert.NotEmpty(t, r.Anomalies)
		}},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "corner-cases", "*.yaml"))
	require.NoError(t, err)
	var listed []string
	for _, tt := range tests {
		listed = append(listed, filepath.Join("testdata", "corner-cases", tt.file))
	}
	assert.ElementsMatch(t, files, listed, "every kept case is replayed, and every replayed case is kept")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "corner-cases", tt.file))
			require.NoError(t, err)
			s, err := Parse(tt.file, data, nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
			guarantees(t, tt.file, res)
			require.NotEmpty(t, res.Report.Timeline)
			heal := res.Report.Timeline[len(res.Report.Timeline)-1]
			assert.Less(t, res.Trace.Entries()[len(res.Trace.Entries())-1].At.Ms(), 120_000.0, "the run ends soon after its faults (last: %s %s)", heal.At, heal.What)
			tt.check(t, res.Report)
		})
	}
}

// TestHealRestartsAStalledShutdown: a broker's controlled shutdown still
// waits for the controller's word when the run ends (its links to the
// other brokers and the controller are cut, and the run waits out the
// transaction markers the ISR below min.insync.replicas holds back). The
// final heal stops and restarts it, so the ISRs grow back and the markers
// are written; it used to stop after the heal and stay down, leaving a
// committed transaction torn for read_committed.
func TestHealRestartsAStalledShutdown(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "shutdown-stalled-at-the-heal.yaml"))
	require.NoError(t, err)
	s, err := Parse("shutdown-stalled-at-the-heal.yaml", data, nil)
	require.NoError(t, err)
	res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
	guarantees(t, "shutdown-stalled-at-the-heal", res)
	assert.True(t, res.Report.Converged)
	assert.Zero(t, res.Report.Records.Lost)
	assert.Zero(t, res.Report.Consumers.ReadCommitted.Torn)
}
