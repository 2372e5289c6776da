package broker

import (
	"strconv"
	"testing"

	"github.com/kafkasim/kafkasim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultConfig pins Kafka 4.x's defaults.
func TestDefaultConfig(t *testing.T) {
	assert.Equal(t, Config{
		ReplicaLagTimeMax:                    30 * sim.Second,
		ReplicaFetchWaitMax:                  500 * sim.Millisecond,
		ReplicaFetchBackoff:                  1000 * sim.Millisecond,
		ReplicaSocketTimeout:                 30 * sim.Second,
		ReplicaFetchMaxBytes:                 1 << 20,
		ReplicaFetchMinBytes:                 1,
		BrokerHeartbeatInterval:              2 * sim.Second,
		BrokerSessionTimeout:                 9 * sim.Second,
		MinInsyncReplicas:                    1,
		UncleanElection:                      false,
		Version:                              Version{4, 0},
		TransactionMaxTimeout:                900 * sim.Second,
		TransactionAbortCheckPeriod:          10 * sim.Second,
		TransactionStateLogNumPartitions:     50,
		TransactionStateLogReplicationFactor: 3,
		TransactionStateLogMinISR:            2,
	}, DefaultConfig())

	c, err := NewConfig(nil)
	require.NoError(t, err)
	assert.Equal(t, 50*sim.Microsecond, c.CostPerRequest, "a scenario's broker costs something")
	assert.Equal(t, 10*sim.Microsecond, c.CostPerBatch)
	assert.Equal(t, sim.Millisecond, c.CostPerMB)
	c.CostPerRequest, c.CostPerBatch, c.CostPerMB = 0, 0, 0
	assert.Equal(t, DefaultConfig(), c, "otherwise the same defaults")
}

// TestPropertySetters sets each property to a value other than its default
// and checks that this changes the configuration, and differently from
// every other property: each setter writes its own field.
func TestPropertySetters(t *testing.T) {
	base, err := NewConfig(nil)
	require.NoError(t, err)
	seen := map[Config]string{}
	for _, p := range properties {
		other := map[propType]string{typeBool: "true", typeCost: "123us"}[p.typ]
		if p.typ == typeInt {
			n, err := strconv.Atoi(p.def)
			require.NoError(t, err, p.name)
			other = strconv.Itoa(n + 7)
		}
		require.NotEqual(t, p.def, other, p.name)
		c, err := NewConfig(map[string]string{p.name: other})
		require.NoError(t, err, p.name)
		assert.NotEqual(t, base, c, "%s=%s changes the configuration", p.name, other)
		assert.NotContains(t, seen, c, "%s sets the same field as %s", p.name, seen[c])
		seen[c] = p.name
	}
	assert.Len(t, PropertyDefaults(), len(properties), "one default per name")
}

func TestCheckProperty(t *testing.T) {
	tests := []struct {
		name, raw  string
		topicLevel bool
		want       string // the value to use, or the error
	}{
		{"replica.lag.time.max.ms", " 500 ", false, "500"},
		{"replica.lag.time.max.ms", "1", false, "Invalid value 1 for configuration replica.lag.time.max.ms: Value must be at least 2"},
		{"replica.fetch.max.bytes", "0", false, "0"},
		{"replica.fetch.max.bytes", "-1", false, "Invalid value -1 for configuration replica.fetch.max.bytes: Value must be at least 0"},
		{"min.insync.replicas", "0", true, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{"min.insync.replicas", "two", false, "Invalid value two for configuration min.insync.replicas: Not a number of type INT"},
		{"broker.session.timeout.ms", "5000000000", false, "Invalid value 5000000000 for configuration broker.session.timeout.ms: Not a number of type INT"},
		{"unclean.leader.election.enable", "true", true, "true"},
		{"unclean.leader.election.enable", "TRUE", false, "Invalid value TRUE for configuration unclean.leader.election.enable: Expected value to be either true or false"},
		{"cost.per.mb", "2ms", false, "2ms"},
		{"cost.per.mb", "0s", false, "0s"},
		{"cost.per.mb", "2s", false, `invalid duration "2s"; use a Go duration from 0 to 1s, like 50us or 2ms (a simulator cost parameter)`},
		{"cost.per.request", "50", false, `invalid duration "50"; use a Go duration from 0 to 1s, like 50us or 2ms (a simulator cost parameter)`},
		{"log.flush.interval.ms", "1", false, "unknown property; the simulator models: broker.heartbeat.interval.ms, cost.per.batch, cost.per.mb, " +
			"cost.per.request, broker.session.timeout.ms, min.insync.replicas, replica.fetch.backoff.ms, replica.fetch.max.bytes, replica.fetch.min.bytes, " +
			"replica.fetch.wait.max.ms, replica.lag.time.max.ms, replica.socket.timeout.ms, transaction.abort.timed.out.transaction.cleanup.interval.ms, " +
			"transaction.max.timeout.ms, transaction.state.log.min.isr, transaction.state.log.num.partitions, transaction.state.log.replication.factor, " +
			"unclean.leader.election.enable"},
		{"replica.lag.time.max.ms", "500", true, "unknown property; the simulator models: min.insync.replicas, unclean.leader.election.enable"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.raw, func(t *testing.T) {
			v, err := CheckProperty(tt.name, tt.raw, tt.topicLevel)
			if err != nil {
				assert.Equal(t, tt.want, err.Error())
				return
			}
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestConfigureTopic(t *testing.T) {
	cfg, err := NewConfig(map[string]string{"min.insync.replicas": "2", "unclean.leader.election.enable": "true"})
	require.NoError(t, err)

	var plain Topic
	require.NoError(t, cfg.ConfigureTopic(&plain, nil))
	assert.Equal(t, 2, plain.MinInsyncReplicas, "the broker's value")
	assert.True(t, plain.UncleanElection)

	var own Topic
	require.NoError(t, cfg.ConfigureTopic(&own, map[string]string{"unclean.leader.election.enable": "false"}))
	assert.Equal(t, 2, own.MinInsyncReplicas)
	assert.False(t, own.UncleanElection, "the topic's own value")

	var bad Topic
	err = cfg.ConfigureTopic(&bad, map[string]string{"replica.lag.time.max.ms": "500"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replica.lag.time.max.ms: unknown property", "not a topic config")
}

func TestTransactionStateLog(t *testing.T) {
	cfg := DefaultConfig()
	for _, tt := range []struct{ brokers, rf int }{{1, 1}, {3, 3}, {5, 3}} {
		topic := cfg.TransactionStateLog(tt.brokers)
		assert.Equal(t, Topic{Name: TransactionStateTopic, Partitions: 50, ReplicationFactor: tt.rf, MinInsyncReplicas: 2}, topic, "%d brokers", tt.brokers)
	}
}

// FuzzCheckProperty: any value of any property is accepted or refused on
// one line, and what is accepted builds a configuration.
func FuzzCheckProperty(f *testing.F) {
	for _, p := range properties {
		f.Add(p.name, p.def, p.topic)
	}
	f.Add("min.insync.replicas", " 2\n", true)
	f.Add("cost.per.mb", "NaN", false)
	f.Fuzz(func(t *testing.T, name, raw string, topicLevel bool) {
		v, err := CheckProperty(name, raw, topicLevel)
		if err != nil {
			return
		}
		if _, err := NewConfig(map[string]string{name: v}); err != nil {
			t.Fatalf("%s=%q accepted as %q, but NewConfig refuses it: %v", name, raw, v, err)
		}
	})
}
