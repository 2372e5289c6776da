package broker

import (
	"fmt"
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
		TransactionVersion:                   2,
		TransactionPartitionVerification:     true,
		TransactionMaxTimeout:                900 * sim.Second,
		TransactionAbortCheckPeriod:          10 * sim.Second,
		ProducerIDExpiration:                 86400 * sim.Second,
		ProducerIDExpirationCheck:            600 * sim.Second,
		TransactionalIDExpiration:            604800 * sim.Second,
		TransactionalIDExpirationCheck:       3600 * sim.Second,
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
		if p.def == "true" {
			other = "false"
		}
		if _, number := typeBits[p.typ]; number {
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
		{"replica.lag.time.max.ms", "1", false, "Invalid value 1 for configuration replica.lag.time.max.ms: Kafka accepts it, but the simulator takes at least 2: " +
			"below 2, Kafka checks the ISR only once, at startup (a period of replica.lag.time.max.ms / 2 = 0 ms runs once), and never shrinks it; the simulator does not model that"},
		// A LONG in Kafka: past an INT is fine (sim.Millis saturates).
		{"replica.lag.time.max.ms", "5000000000", false, "5000000000"},
		{"replica.lag.time.max.ms", "9223372036854775808", false, "Invalid value 9223372036854775808 for configuration replica.lag.time.max.ms: Not a number of type LONG"},
		{"replica.fetch.backoff.ms", "0", false, "Invalid value 0 for configuration replica.fetch.backoff.ms: Kafka accepts it, but the simulator takes at least 1: " +
			"a follower whose fetch failed would ask again in the same instant, for ever when nothing else lets time pass"},
		{"replica.fetch.backoff.ms", "-1", false, "Invalid value -1 for configuration replica.fetch.backoff.ms: Value must be at least 0"},
		{"replica.fetch.min.bytes", "0", false, "Invalid value 0 for configuration replica.fetch.min.bytes: Kafka accepts it, but the simulator takes at least 1: " +
			"the leader would answer every fetch at once, data or not, and followers would ask again without pause"},
		{"replica.fetch.wait.max.ms", "-5", false, "Invalid value -5 for configuration replica.fetch.wait.max.ms: Kafka accepts it, but the simulator takes at least 1: " +
			"the leader would answer every fetch at once, data or not, and followers would ask again without pause"},
		{"replica.socket.timeout.ms", "0", false, "Invalid value 0 for configuration replica.socket.timeout.ms: Kafka accepts it, but the simulator takes at least 1: a fetch would time out the instant it is sent"},
		{"broker.heartbeat.interval.ms", "0", false, "Invalid value 0 for configuration broker.heartbeat.interval.ms: Kafka accepts it, but the simulator takes at least 1: a broker must wait some time between two heartbeats"},
		{"broker.session.timeout.ms", "-1", false, "Invalid value -1 for configuration broker.session.timeout.ms: Kafka accepts it, but the simulator takes at least 1: a session must last some time"},
		{"transaction.state.log.num.partitions", "1000", false, "1000"},
		{"transaction.state.log.num.partitions", "1001", false, "Invalid value 1001 for configuration transaction.state.log.num.partitions: Kafka accepts it, but the simulator takes at most 1000: " +
			"the simulator keeps every partition's replicas in memory; a scenario's topics are bounded the same way"},
		{"transaction.state.log.num.partitions", "100000000", false, "Invalid value 100000000 for configuration transaction.state.log.num.partitions: Kafka accepts it, but the simulator takes at most 1000: " +
			"the simulator keeps every partition's replicas in memory; a scenario's topics are bounded the same way"},
		{"transaction.state.log.num.partitions", "0", false, "Invalid value 0 for configuration transaction.state.log.num.partitions: Value must be at least 1"},
		{"transaction.state.log.replication.factor", "32768", false, "Invalid value 32768 for configuration transaction.state.log.replication.factor: Not a number of type SHORT"},
		{"replica.fetch.max.bytes", "0", false, "0"},
		{"replica.fetch.max.bytes", "-1", false, "Invalid value -1 for configuration replica.fetch.max.bytes: Value must be at least 0"},
		{"min.insync.replicas", "0", true, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{"min.insync.replicas", "two", false, "Invalid value two for configuration min.insync.replicas: Not a number of type INT"},
		{"broker.session.timeout.ms", "5000000000", false, "Invalid value 5000000000 for configuration broker.session.timeout.ms: Not a number of type INT"},
		{"unclean.leader.election.enable", "true", true, "true"},
		{"unclean.leader.election.enable", "TRUE", false, "true"},
		{"unclean.leader.election.enable", "yes", false, "Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either true or false"},
		{"cost.per.mb", "2ms", false, "2ms"},
		{"cost.per.mb", "0s", false, "0s"},
		{"cost.per.mb", "2s", false, `invalid duration "2s"; use a Go duration from 0 to 1s, like 50us or 2ms (a simulator cost parameter)`},
		{"cost.per.request", "50", false, `invalid duration "50"; use a Go duration from 0 to 1s, like 50us or 2ms (a simulator cost parameter)`},
		{"log.flush.interval.ms", "1", false, "unknown property; the simulator models: broker.heartbeat.interval.ms, cost.per.batch, cost.per.mb, " +
			"cost.per.request, broker.session.timeout.ms, min.insync.replicas, producer.id.expiration.check.interval.ms, producer.id.expiration.ms, replica.fetch.backoff.ms, replica.fetch.max.bytes, replica.fetch.min.bytes, " +
			"replica.fetch.wait.max.ms, replica.lag.time.max.ms, replica.socket.timeout.ms, transaction.abort.timed.out.transaction.cleanup.interval.ms, " +
			"transaction.max.timeout.ms, transaction.partition.verification.enable, transaction.remove.expired.transaction.cleanup.interval.ms, transaction.state.log.min.isr, transaction.state.log.num.partitions, " +
			"transaction.state.log.replication.factor, transactional.id.expiration.ms, unclean.leader.election.enable"},
		{"producer.id.expiration.ms", "0", false, "Invalid value 0 for configuration producer.id.expiration.ms: Value must be at least 1"},
		{"transactional.id.expiration.ms", "-5", false, "Invalid value -5 for configuration transactional.id.expiration.ms: Value must be at least 1"},
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

// TestConfigCheck: the rules that relate two broker properties, Kafka's
// (KafkaConfig.validateValues) and the simulator's, each blaming a key.
func TestConfigCheck(t *testing.T) {
	tests := []struct {
		props   map[string]string
		key     string // "" for accepted
		message string
	}{
		{map[string]string{"replica.fetch.wait.max.ms": "30000"}, "", ""},
		{map[string]string{"replica.fetch.wait.max.ms": "30001"}, "replica.fetch.wait.max.ms",
			"requirement failed: replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts (replica.fetch.wait.max.ms=30001, replica.socket.timeout.ms=30000)"},
		{map[string]string{"replica.fetch.wait.max.ms": "600", "replica.lag.time.max.ms": "500"}, "replica.fetch.wait.max.ms",
			"requirement failed: replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR (replica.fetch.wait.max.ms=600, replica.lag.time.max.ms=500)"},
		{map[string]string{"broker.heartbeat.interval.ms": "8999"}, "", ""},
		{map[string]string{"broker.heartbeat.interval.ms": "9000"}, "broker.heartbeat.interval.ms",
			"broker.heartbeat.interval.ms=9000 is not below broker.session.timeout.ms=9000: Kafka accepts it, but the simulator refuses it: every broker's session would end before its next heartbeat, " +
				"and the controller would fence it over and over; use an interval below the timeout (Kafka's defaults: 2000 and 9000)"},
		{map[string]string{"broker.session.timeout.ms": "1"}, "broker.session.timeout.ms",
			"broker.heartbeat.interval.ms=2000 is not below broker.session.timeout.ms=1: Kafka accepts it"},
		{map[string]string{"replica.lag.time.max.ms": "400"}, "replica.lag.time.max.ms",
			"requirement failed: replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.props), func(t *testing.T) {
			_, err := NewConfig(tt.props)
			if tt.key == "" {
				assert.NoError(t, err)
				return
			}
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.key, ce.Key)
			assert.Contains(t, ce.Message, tt.message)
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
