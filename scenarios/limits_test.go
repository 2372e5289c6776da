package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAliasBombRefused: nested YAML aliases, a few hundred bytes that
// expand to billions of nodes, are refused at once with a line number
// (regression: the decoder followed each alias itself, so a 6 KB paste
// took seconds and gigabytes).
func TestAliasBombRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("topics: *a29\n")
	start := time.Now()
	_, err := Parse("bomb.yaml", []byte(b.String()), []string{"topic.min.insync.replicas=2"})
	require.Error(t, err)
	assert.Equal(t, "bomb.yaml: line 2: YAML anchors and aliases (&a0, *a0) are not supported in scenario files; write each value out", err.Error())
	assert.Less(t, time.Since(start), 5*time.Second, "refused without expanding")
}

// TestReadScenarioFile: only regular files of at most 1 MiB are read; a
// device or a directory is refused with its own message (regression:
// /dev/zero was read for ever, a directory was "no built-in scenario").
func TestReadScenarioFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte("# "+strings.Repeat("x", maxFileSize)+"\n"), 0o644))
	ok := filepath.Join(dir, "ok.yaml")
	require.NoError(t, os.WriteFile(ok, []byte(base), 0o644))
	tests := []struct {
		name, want string // want "" for a file that loads
	}{
		{ok, ""},
		{dir, "is a directory; name a scenario file (.yaml, .yml or .json) or a built-in scenario"},
		{"/dev/zero", "is not a regular file; a scenario is read from a file of at most 1 MiB"},
		{big, "is over 1 MiB (1048579 bytes); a scenario file is at most 1 MiB"},
		{filepath.Join(dir, "nope.yaml"), "cannot read the file: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.name, nil)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			var se *Error
			require.True(t, errors.As(err, &se), "a scenario error, not %v", err)
			assert.Equal(t, tt.name+": "+tt.want, err.Error())
		})
	}
}

// TestTopicCountBounded: the partitions of all topics together are at
// most maxPartitions (regression: 33,000 topics overflowed an int16 topic
// index and panicked on restart-producer with resend-unacked).
func TestTopicCountBounded(t *testing.T) {
	scenario := func(topics, partitions int) string {
		var b strings.Builder
		b.WriteString("name: many\nduration: 1s\ncluster:\n  brokers: 1\ntopics:\n")
		for i := range topics {
			fmt.Fprintf(&b, "  - {name: t%d, partitions: %d}\n", i, partitions)
		}
		b.WriteString("workload: {topic: t0, rate: 10, records: 5}\n")
		b.WriteString("faults:\n  - {at: 100ms, do: restart-producer, resend-unacked: true}\n")
		return b.String()
	}
	tests := []struct {
		topics, partitions int
		want               string
	}{
		{1000, 1, ""},
		{33000, 1, "topics: 33000 topics; the simulator takes at most 1000 partitions over all topics, so at most 1000 topics (Kafka has no fixed limit)"},
		{3, 400, "topics[2].partitions: topics[0] to topics[2] have 1200 partitions in all (counting add-partitions); the simulator takes at most 1000"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.topics, tt.partitions), func(t *testing.T) {
			s, err := Parse("many.yaml", []byte(scenario(tt.topics, tt.partitions)), nil)
			if tt.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				return
			}
			require.NoError(t, err)
			rep := s.Run(RunOptions{}).Report
			assert.Equal(t, int64(5), rep.Records.Acked)
		})
	}
}

// TestAuditProportionalToRecords: the keys audit keeps what was sent, not
// workload.keys times the topics (regression: 10,000,000 keys over 100
// topics took 3.9 GB for 100 records, and past 214 topics an int32
// product overflowed and miscounted keys_split).
func TestAuditProportionalToRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: wide\nduration: 1s\ncluster:\n  brokers: 1\ntopics:\n")
	var names []string
	for i := range 250 {
		fmt.Fprintf(&b, "  - {name: t%d}\n", i)
		names = append(names, fmt.Sprintf("t%d", i))
	}
	fmt.Fprintf(&b, "workload:\n  rate: 100\n  records: 20\n  keys: 10000000\n  transactions: {records: 5, topics: [%s]}\n", strings.Join(names, ", "))
	s, err := Parse("wide.yaml", []byte(b.String()), nil)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep := s.Run(RunOptions{}).Report
	runtime.ReadMemStats(&after)
	assert.Equal(t, int64(20*250), rep.Records.Acked)
	assert.Zero(t, rep.Records.KeysSplit, "one partition per topic: no key is split")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(200<<20), "allocation follows the records, not keys x topics")
}

// TestRefusedSettings: what Kafka's validators refuse, and what Kafka
// accepts but cannot work here, is refused on one line naming the key,
// the value and what is allowed.
func TestRefusedSettings(t *testing.T) {
	tests := []struct {
		set  string
		want string
	}{
		// KafkaConfig.validateValues.
		{"broker.replica.fetch.wait.max.ms=40000", "--set cluster.broker.replica.fetch.wait.max.ms: requirement failed: replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms"},
		{"broker.replica.lag.time.max.ms=400", "--set cluster.broker.replica.lag.time.max.ms: requirement failed: replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms"},
		// Accepted by Kafka, refused here, saying so.
		{"broker.broker.session.timeout.ms=1", "--set cluster.broker.broker.session.timeout.ms: broker.heartbeat.interval.ms=2000 is not below broker.session.timeout.ms=1: Kafka accepts it, but the simulator refuses it"},
		{"broker.broker.heartbeat.interval.ms=9000", "--set cluster.broker.broker.heartbeat.interval.ms: broker.heartbeat.interval.ms=9000 is not below broker.session.timeout.ms=9000"},
		{"broker.transaction.state.log.num.partitions=100000000", "--set cluster.broker.transaction.state.log.num.partitions: Invalid value 100000000 for configuration transaction.state.log.num.partitions: Kafka accepts it, but the simulator takes at most 1000"},
		{"broker.replica.fetch.backoff.ms=0", "Invalid value 0 for configuration replica.fetch.backoff.ms: Kafka accepts it, but the simulator takes at least 1"},
		{"producer.socket.connection.setup.timeout.ms=-1", "--set producer.socket.connection.setup.timeout.ms: Invalid value -1 for configuration socket.connection.setup.timeout.ms: Kafka accepts it, but the simulator takes at least 0"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(base), []string{tt.set})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}
