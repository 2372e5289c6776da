package scenarios

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/producer"
)

// TestTextHasNoExponent runs lessons whose numbers are large (bytes per
// second, nanoseconds of buffer wait) and checks that no number of the
// text report is written with an exponent.
func TestTextHasNoExponent(t *testing.T) {
	exponent := regexp.MustCompile(`\d[eE][+-]?\d`)
	for _, name := range []string{"compression-codecs", "buffer-exhaustion", "batch-size"} {
		s, err := Load(name, nil)
		require.NoError(t, err)
		var text strings.Builder
		require.NoError(t, s.Run(RunOptions{}).Report.WriteText(&text, s.Title))
		assert.NotRegexp(t, exponent, text.String(), name)
		assert.Contains(t, text.String(), "outgoing-byte-rate ", name)
	}
}

func TestTitleSets(t *testing.T) {
	tests := []struct {
		title string
		sets  []string
		want  []string
	}{
		{"acks=1 loses acknowledged records when the leader fails", []string{"producer.acks=all", "workload.rate=500"}, []string{"producer.acks=all"}},
		{"acks=all with min.insync.replicas=2 survives the same failover", []string{"topic.min.insync.replicas=1", "seed=3"}, []string{"topic.min.insync.replicas=1"}},
		{"compression trades producer CPU for bytes on the wire", []string{"producer.compression.type=none", "producer.linger.ms=0"}, []string{"producer.compression.type=none"}},
		{"linger.ms=0 is not the low-latency setting it looks like", []string{"producer.linger.ms=5", "cluster.network.latency=5ms"}, []string{"producer.linger.ms=5"}},
		{"retries without idempotence write duplicates", []string{"producer.enable.idempotence=true", "producer.retries=0"}, []string{"producer.enable.idempotence=true", "producer.retries=0"}},
		{"several requests in flight plus a retry reorder records", []string{"producer.max.in.flight.requests.per.connection=1"}, []string{"producer.max.in.flight.requests.per.connection=1"}},
		{"unclean leader election trades acknowledged records for availability", []string{"broker.unclean.leader.election.enable=false"}, []string{"broker.unclean.leader.election.enable=false"}},
		{"with transaction.version 2, a late write ...", []string{"cluster.features.transaction.version=1"}, []string{"cluster.features.transaction.version=1"}},
		{"Eligible Leader Replicas (Kafka 4.1) elect the replica ...", []string{"cluster.version=4.0", "cluster.brokers=5"}, []string{"cluster.version=4.0"}},
		// A name inside a longer name is not the same setting.
		{"a transaction open longer than transaction.timeout.ms is aborted", []string{"producer.request.timeout.ms=100", "broker.transaction.max.timeout.ms=5000"}, nil},
		{"a stalled broker fills buffer.memory; send() blocks, then fails", []string{"producer.max.block.ms=60000"}, []string{"producer.max.block.ms=60000"}},
		{"when a partition loses its leader, keyed records wait and keyless ones route around", []string{"workload.keys=0"}, []string{"workload.keys=0"}},
		{"no title words here", []string{"producer.acks=0"}, nil},
		// The scenario's own keys are common words: only their title words count.
		{"acks=1 loses acknowledged records when the leader fails", []string{"workload.records=10000000", "cluster.brokers=5", "seed=2"}, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, titleSets(tt.title, tt.sets), tt.title)
	}
}

// TestConfiguredShowsWhatWasSet sets one property of each table away from
// its default and checks that the configured block shows it, with the
// default, and that the heading notes a --set the title speaks of.
func TestConfiguredShowsWhatWasSet(t *testing.T) {
	sets := []string{"producer.compression.type=lz4", "producer.partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner",
		"producer.buffer.memory=1048576", "producer.max.block.ms=2000", "broker.replica.fetch.max.bytes=65536", "producer.acks=all"}
	s, err := Load("acks1-leader-failover", sets)
	require.NoError(t, err)
	rep := s.Run(RunOptions{}).Report
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text, s.Title))
	out := text.String()
	for _, want := range []string{
		"note: --set producer.acks=all changes a setting this lesson's title is about",
		"compression.type=lz4 (default none)",
		"partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner (default built-in)",
		"buffer.memory=1048576 (default 33554432)",
		"max.block.ms=2000 (default 60000)",
		"replica.fetch.max.bytes=65536 (default 1048576)",
		"cpu      compression took ",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, sets, rep.Config.Sets)
	assert.Positive(t, rep.CompressionCPUMs)

	// Without --set, a lesson marks only what its file changes (acks=1,
	// and so enable.idempotence=false): every other value is a default.
	s, err = Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	rep = s.Run(RunOptions{}).Report
	text.Reset()
	require.NoError(t, rep.WriteText(&text, s.Title))
	assert.NotContains(t, text.String(), "note: --set")
	assert.Contains(t, text.String(), "acks=1 (default all) enable.idempotence=false (default true) retries=2147483647 max")
	assert.Equal(t, 2, strings.Count(text.String(), "(default "))
	assert.NotContains(t, text.String(), "cpu ")
	assert.Zero(t, rep.CompressionCPUMs)
}

// TestConfiguredMarksDefaults checks that the always-shown properties are
// marked when a lesson changes them, and that what a lesson's title is
// about shows even at its default.
func TestConfiguredMarksDefaults(t *testing.T) {
	tests := []struct {
		lesson string
		sets   []string
		want   []string
	}{
		{"linger-batching", nil, []string{"linger.ms=0 (default 5) batch.size=16384 "}},
		{"compression-codecs", nil, []string{"linger.ms=20 (default 5) batch.size=65536 (default 16384)"}},
		{"delivery-timeout-ambiguous", nil, []string{"request.timeout.ms=4000 (default 30000) delivery.timeout.ms=10000 (default 120000)"}},
		{"isr-shrink-to-leader", nil, []string{"replica.lag.time.max.ms=5000 (default 30000) broker.session.timeout.ms=9000\n"}},
		{"sticky-vs-round-robin", nil, []string{"\n             partitioner.class=built-in\n"}},
		{"compression-codecs", []string{"producer.compression.type=none"}, []string{"\n             compression.type=none\n"}},
	}
	for _, tt := range tests {
		s, err := Load(tt.lesson, tt.sets)
		require.NoError(t, err)
		var text strings.Builder
		require.NoError(t, s.Run(RunOptions{}).Report.WriteText(&text, s.Title))
		for _, want := range tt.want {
			assert.Contains(t, text.String(), want, tt.lesson)
		}
	}
}

// TestConfiguredListsEveryProperty checks that every property of the
// producer and broker tables reaches the report, so that a value away
// from its default can be shown.
func TestConfiguredListsEveryProperty(t *testing.T) {
	s, err := Load("acks1-leader-failover", nil)
	require.NoError(t, err)
	rep := s.Run(RunOptions{}).Report
	for _, d := range producer.Defaults() {
		assert.Contains(t, rep.Config.Producer, d.Name)
	}
	for _, name := range broker.PropertyNames(false) {
		assert.Contains(t, rep.Config.Broker, name)
	}
}
