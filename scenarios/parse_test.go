package scenarios

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is a small valid scenario that the table tests break one key at a
// time.
const base = `name: t
seed: 1
duration: 1s
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 3
    replication.factor: 3
producer:
  acks: all
workload:
  topic: orders
  records: 100
  rate: 100
`

func TestParseValid(t *testing.T) {
	s, err := Parse("t.yaml", []byte(base), nil)
	require.NoError(t, err)
	assert.Equal(t, "t", s.Name)
	assert.Equal(t, 3, s.Cluster.Brokers)
	assert.Equal(t, "4.0", s.Cluster.Version, "default cluster version")
	assert.Equal(t, 100, s.Workload.ValueBytes, "default value size")
	assert.Equal(t, int8(-1), s.plan.producerCfg.Acks)
}

func TestParseJSONIsYAML(t *testing.T) {
	js := `{"name": "j", "duration": "1s", "topics": [{"name": "t"}], "workload": {"rate": 10}}`
	s, err := Parse("j.json", []byte(js), nil)
	require.NoError(t, err)
	assert.Equal(t, "j", s.Name)
	assert.Equal(t, "t", s.Workload.Topic, "the only topic is the workload's")
}

// TestParseErrors checks that bad input gives one clear *Error that names
// the key and says what is allowed.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string // applied to base
		append  string    // added to base
		want    []string  // substrings of the message
	}{
		{name: "unknown top-level key", append: "colour: blue\n",
			want: []string{"line 16", "colour", "unknown key at the top level", "allowed: name, title"}},
		{name: "unknown workload key", replace: [2]string{"  rate: 100", "  rate: 100\n  speed: 3"},
			want: []string{"workload.speed", "unknown key in workload", "allowed: topic, records, rate"}},
		{name: "unknown producer property", replace: [2]string{"  acks: all", "  acks: all\n  ack: 1"},
			want: []string{"producer.ack", `unknown producer property "ack"`, "acks"}},
		{name: "producer value Kafka refuses", replace: [2]string{"acks: all", "acks: 2"},
			want: []string{"producer.acks", "Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1"}},
		{name: "unknown partitioner class", replace: [2]string{"acks: all", "acks: all\n  partitioner.class: com.example.Mine"},
			want: []string{"producer.partitioner.class", "Class com.example.Mine could not be found; the partitioners: built-in, "}},
		{name: "explicit idempotence with acks=1", replace: [2]string{"acks: all", "acks: 1\n  enable.idempotence: true"},
			want: []string{"Must set acks to all in order to use the idempotent producer"}},
		{name: "YAML anchor and alias", replace: [2]string{"  rate: 100", "  rate: &r 100\n  records: *r"},
			want: []string{"line 15", "YAML anchors and aliases (&r, *r) are not supported in scenario files"}},
		{name: "bad duration", replace: [2]string{"duration: 1s", "duration: soon"},
			want: []string{"line 3", "duration", `"soon" is not a duration`}},
		{name: "bad number", replace: [2]string{"records: 100", "records: lots"},
			want: []string{"workload.records", `"lots" is not a whole number`}},
		{name: "not a map", replace: [2]string{"cluster:\n  brokers: 3", "cluster: 3"},
			want: []string{"cluster", "expected a map of keys"}},
		{name: "duplicate key", replace: [2]string{"  rate: 100", "  rate: 100\n  rate: 200"},
			want: []string{"workload.rate", "appears twice"}},
		{name: "replication factor above brokers", replace: [2]string{"replication.factor: 3", "replication.factor: 4"},
			want: []string{"topics[0].replication.factor", "Replication factor: 4 larger than available brokers: 3."}},
		{name: "bad topic name", replace: [2]string{"- name: orders", "- name: or ders"},
			want: []string{"topics[0].name", "not a legal topic name"}},
		{name: "unknown broker property", append: "", replace: [2]string{"  brokers: 3", "  brokers: 3\n  broker:\n    log.flush: 1"},
			want: []string{"cluster.broker.log.flush", `unknown broker property "log.flush";`, "min.insync.replicas"}},
		{name: "feature level too new for the release", replace: [2]string{"  brokers: 3", "  brokers: 3\n  version: \"3.9\"\n  features:\n    transaction.version: 2"},
			want: []string{"cluster.features.transaction.version", "transaction.version=2 needs cluster.version 4.0 or later", "this cluster is 3.9"}},
		{name: "bad broker value", replace: [2]string{"  brokers: 3", "  brokers: 3\n  broker:\n    min.insync.replicas: 0"},
			want: []string{"Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"}},
		{name: "unknown topic config", replace: [2]string{"replication.factor: 3", "replication.factor: 3\n    config:\n      retention.ms: 5"},
			want: []string{"topics[0].config.retention.ms", `unknown topic config "retention.ms";`, "unclean.leader.election.enable"}},
		{name: "workload topic missing", replace: [2]string{"  topic: orders", "  topic: payments"},
			want: []string{"workload.topic", `no topic named "payments"`, "orders"}},
		{name: "no rate", replace: [2]string{"  rate: 100\n", ""},
			want: []string{"workload.rate", "must be from 0.01 to 100000000 records per second"}},
		{name: "bad key distribution", append: "  key.distribution: pareto\n",
			want: []string{"workload.key.distribution", "uniform, sequential, zipf"}},
		{name: "unknown fault", append: "faults:\n  - at: 1s\n    do: explode\n    broker: 1\n",
			want: []string{"faults[0].do", `"explode" is not a fault`, "crash", "isolate"}},
		{name: "fault key that does not apply", append: "faults:\n  - at: 1s\n    do: crash\n    broker: 1\n    count: 3\n",
			want: []string{"faults[0].count", "does not apply to crash", "crash takes: at, do, broker, power-loss"}},
		{name: "power loss of zero", append: "faults:\n  - at: 1s\n    do: crash\n    broker: 1\n    power-loss: 0s\n",
			want: []string{"faults[0].power-loss", "must be above 0", "like 30s"}},
		{name: "power loss on a shutdown", append: "faults:\n  - at: 1s\n    do: shutdown\n    broker: 1\n    power-loss: 30s\n",
			want: []string{"faults[0].power-loss", "does not apply to shutdown"}},
		{name: "fault without time", append: "faults:\n  - do: crash\n    broker: 1\n",
			want: []string{"faults[0].at", "missing"}},
		{name: "no such broker", append: "faults:\n  - at: 1s\n    do: crash\n    broker: 7\n",
			want: []string{"faults[0].broker", "no broker 7; broker ids are 1 to 3"}},
		{name: "no such partition", append: "faults:\n  - at: 1s\n    do: crash\n    broker: leader orders-9\n",
			want: []string{"faults[0].broker", "orders has partitions 0 to 2"}},
		{name: "no such topic in selector", append: "faults:\n  - at: 1s\n    do: crash\n    broker: leader payments-0\n",
			want: []string{`no topic "payments"`}},
		{name: "nonsense selector", append: "faults:\n  - at: 1s\n    do: crash\n    broker: the big one\n",
			want: []string{"is not a broker selector", "leader T-P"}},
		{name: "request-rule with a bad answer", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: OOPS\n    count: 1\n",
			want: []string{"faults[0].answer", `"OOPS" is not an answer; use lost or a Kafka error:`, "MESSAGE_TOO_LARGE", "TOPIC_AUTHORIZATION_FAILED"}},
		{name: "request-rule answering a client-side exception", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: RecordTooLargeException\n    count: 1\n",
			want: []string{"faults[0].answer", `"RecordTooLargeException" is not an answer`}},
		{name: "request-rule without an answer", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    count: 1\n",
			want: []string{"faults[0].answer", "missing", "lost (no answer) or a Kafka error"}},
		{name: "request-rule needs count or for", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: lost\n",
			want: []string{"exactly one of count", "or for"}},
		{name: "request-rule with a bad api", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    api: Produceish\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0].api", `"Produceish" is not an API a rule matches; use one of Produce, Fetch, InitProducerId, AddPartitionsToTxn, EndTxn, FindCoordinator, Metadata`}},
		{name: "request-rule with a bad stage", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: lost\n    when: during\n    count: 1\n",
			want: []string{"faults[0].when", `"during" is not a stage; use before`, "or after"}},
		{name: "request-rule on a topic of an api without topics", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    api: EndTxn\n    topic: orders\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0]", "EndTxn requests name no topic", "Produce, Fetch, AddPartitionsToTxn and Metadata do"}},
		{name: "request-rule with topic and partition", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    topic: orders\n    partition: orders-0\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0]", "give topic", "not both"}},
		{name: "request-rule on a partition of metadata", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    api: Metadata\n    partition: orders-0\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0].partition", "Metadata answers per topic; use topic"}},
		{name: "request-rule on an unknown topic", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    topic: payments\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0].topic", `"payments" is not a topic of this scenario; use one of orders`}},
		{name: "request-rule on an unknown partition", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    partition: orders-7\n    answer: lost\n    count: 1\n",
			want: []string{"faults[0].partition", "orders has partitions 0 to 2"}},
		{name: "request-rule with a key of another fault", append: "faults:\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: lost\n    count: 1\n    by: 1s\n",
			want: []string{"faults[0].by", "does not apply to request-rule", "request-rule takes: at, do, broker, api, topic, partition, answer, when, count, for"}},
		{name: "expect on a fault that is no rule", append: "faults:\n  - at: 1s\n    do: crash\n    broker: 1\n  - at: 1s\n    do: request-rule\n    broker: 1\n    answer: lost\n    count: 1\nexpect:\n  faults.1.fired: 1\n",
			want: []string{"expect.faults.1.fired", "unknown report path", "Nth fault when it is a request-rule; here: 2.fired"}},
		{name: "isolate from nowhere", append: "faults:\n  - at: 1s\n    do: isolate\n    broker: 1\n    from: [moon]\n",
			want: []string{"faults[0].from", `"moon" is not one of brokers, controller, producer`}},
		{name: "isolate in an unknown mode", append: "faults:\n  - at: 1s\n    do: isolate\n    broker: 1\n    mode: silent\n",
			want: []string{"faults[0].mode", `"silent" is not one of drop`, "reject"}},
		{name: "partition without a side", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n",
			want: []string{"faults[0].and", "missing; list the nodes on this side"}},
		{name: "partition with a node that is none", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n    and: [moon]\n",
			want: []string{"faults[0].and", `"moon" is not a node`, "brokers, controller or producer"}},
		{name: "partition with a broker that does not exist", append: "faults:\n  - at: 1s\n    do: partition\n    between: [9]\n    and: [producer]\n",
			want: []string{"faults[0].between", "no broker 9"}},
		{name: "partition between a node and itself", append: "faults:\n  - at: 1s\n    do: partition\n    between: [2]\n    and: [2]\n",
			want: []string{"faults[0]", `name the same node, "2"`}},
		{name: "partition between producers", append: "faults:\n  - at: 1s\n    do: partition\n    between: [producer]\n    and: [producer]\n",
			want: []string{"faults[0]", "producers do not talk to each other"}},
		{name: "partition with a coordinator and no transactions", append: "faults:\n  - at: 1s\n    do: partition\n    between: [coordinator]\n    and: [brokers]\n",
			want: []string{"faults[0].between", `"coordinator" needs a producer with a transactional.id`}},
		{name: "partition in a strange direction", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n    and: [2]\n    direction: sideways\n",
			want: []string{"faults[0].direction", `"sideways" is not one of both (default), in`}},
		{name: "partition that slows and rejects", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n    and: [2]\n    by: 5ms\n    mode: reject\n",
			want: []string{"faults[0].mode", "slows its links and cuts nothing"}},
		{name: "partition slowed by nothing", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n    and: [2]\n    by: 0s\n",
			want: []string{"faults[0].by", "must be more than zero"}},
		{name: "partition in an unknown mode", append: "faults:\n  - at: 1s\n    do: partition\n    between: [1]\n    and: [2]\n    mode: quietly\n",
			want: []string{"faults[0].mode", `"quietly" is not one of drop`}},
		{name: "mode on a fault that takes none", append: "faults:\n  - at: 1s\n    do: crash\n    broker: 1\n    mode: reject\n",
			want: []string{"faults[0]", "mode"}},
		{name: "delay in a bad direction", append: "faults:\n  - at: 1s\n    do: delay\n    broker: 1\n    by: 1s\n    direction: up\n",
			want: []string{"faults[0].direction", `"up" is not one of both (default), in (traffic to the broker is delayed), out (traffic from it is delayed)`}},
		{name: "delay from nowhere", append: "faults:\n  - at: 1s\n    do: delay\n    broker: 1\n    by: 1s\n    from: [moon]\n",
			want: []string{"faults[0].from", `"moon" is not one of brokers, controller, producer`}},
		{name: "add-partitions that does not grow", append: "faults:\n  - at: 1s\n    do: add-partitions\n    topic: orders\n    partitions: 3\n",
			want: []string{"faults[0].partitions", "The topic orders currently has 3 partition(s); 3 would not be an increase."}},
		{name: "add-partitions shrinking after a grow", append: "faults:\n  - at: 2s\n    do: add-partitions\n    topic: orders\n    partitions: 4\n  - at: 1s\n    do: add-partitions\n    topic: orders\n    partitions: 6\n",
			want: []string{"faults[0].partitions", "currently has 6 partition(s); 4 would not be an increase."}},
		{name: "add-partitions to an unknown topic", append: "faults:\n  - at: 1s\n    do: add-partitions\n    topic: payments\n    partitions: 6\n",
			want: []string{"faults[0].topic", `"payments" is not a topic of this scenario; use one of orders`}},
		{name: "add-partitions without a count", append: "faults:\n  - at: 1s\n    do: add-partitions\n    topic: orders\n",
			want: []string{"faults[0].partitions", "missing"}},
		{name: "transactional.id without transactions", replace: [2]string{"  acks: all", "  acks: all\n  transactional.id: app"},
			want: []string{"workload.transactions", "missing", "{records: 10}"}},
		{name: "transactions of no records", append: "  transactions:\n    records: 0\n",
			want: []string{"workload.transactions.records", "0 is out of range"}},
		{name: "transactions to an unknown topic", append: "  transactions:\n    records: 5\n    topics: [orders, payments]\n",
			want: []string{"workload.transactions.topics[1]", `no topic named "payments"`}},
		{name: "negative abort.every", append: "  transactions:\n    records: 5\n    abort.every: -1\n",
			want: []string{"workload.transactions.abort.every", "-1 is negative"}},
		{name: "shutdown without a broker", append: "faults:\n  - at: 1s\n    do: shutdown\n",
			want: []string{"faults[0].broker", "missing", "leader T-P"}},
		{name: "shutdown with for", append: "faults:\n  - at: 1s\n    do: shutdown\n    broker: 1\n    for: 2s\n",
			want: []string{"faults[0].for", "does not apply to shutdown", "shutdown takes: at, do, broker"}},
		{name: "freeze-app without for", append: "faults:\n  - at: 1s\n    do: freeze-app\n",
			want: []string{"faults[0].for", "missing", "frozen", "like 5s"}},
		{name: "freeze-app with a broker", append: "faults:\n  - at: 1s\n    do: freeze-app\n    for: 1s\n    broker: 1\n",
			want: []string{"faults[0].broker", "does not apply to freeze-app", "freeze-app takes: at, do, for"}},
		{name: "start-zombie without for", append: "faults:\n  - at: 1s\n    do: start-zombie\n",
			want: []string{"faults[0].for", "missing", "frozen"}},
		{name: "coordinator selector without transactions", append: "faults:\n  - at: 1s\n    do: crash\n    broker: coordinator\n",
			want: []string{"faults[0].broker", `"coordinator" needs a producer with a transactional.id`}},
		{name: "topic named like the internal topic", replace: [2]string{"- name: orders", "- name: __transaction_state"},
			want: []string{"topics[0].name", "internal topic"}},
		{name: "unknown consumer view", append: "expect:\n  consumers.read_latest.visible: 0\n",
			want: []string{"expect.consumers.read_latest.visible", "read_committed|read_uncommitted"}},
		{name: "unknown expectation path", append: "expect:\n  records.vanished: 0\n",
			want: []string{"expect.records.vanished", "unknown report path", "records has sent, acked"}},
		{name: "bad expectation", append: "expect:\n  records.lost: \"about 3\"\n",
			want: []string{"expect.records.lost", "condition must be a number"}},
		{name: "unknown partition in expectation", append: "expect:\n  partitions.orders-7.offline_ms: 0\n",
			want: []string{`no partition "orders-7"`}},
		{name: "not kebab-case", replace: [2]string{"name: t", "name: My Scenario"},
			want: []string{"name", "not kebab-case"}},
		{name: "bad version", replace: [2]string{"  brokers: 3", "  brokers: 3\n  version: \"2.8\""},
			want: []string{"cluster.version", "3.6, 3.7"}},
		{name: "unknown feature", replace: [2]string{"  brokers: 3", "  brokers: 3\n  features:\n    elr.version: 1"},
			want: []string{"line 7", "cluster.features.elr.version", "unknown feature; the simulator models: eligible.leader.replicas.version, transaction.version"}},
		{name: "bad feature level", replace: [2]string{"  brokers: 3", "  brokers: 3\n  features:\n    eligible.leader.replicas.version: 2"},
			want: []string{"cluster.features.eligible.leader.replicas.version", `"2" is not a level of eligible.leader.replicas.version; use 0 to 1`}},
		{name: "feature above the version", replace: [2]string{"  brokers: 3", "  brokers: 3\n  version: \"3.9\"\n  features:\n    eligible.leader.replicas.version: 1"},
			want: []string{"cluster.features.eligible.leader.replicas.version", "needs cluster.version 4.0 or later", "this cluster is 3.9"}},
		{name: "bad bandwidth", replace: [2]string{"  brokers: 3", "  brokers: 3\n  network:\n    bandwidth: fast"},
			want: []string{"cluster.network.bandwidth", "is not a bandwidth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base
			if tt.replace[0] != "" {
				require.Contains(t, src, tt.replace[0], "the test edits a line base has")
				src = strings.Replace(src, tt.replace[0], tt.replace[1], 1)
			}
			src += tt.append
			_, err := Parse("t.yaml", []byte(src), nil)
			require.Error(t, err)
			var se *Error
			require.True(t, errors.As(err, &se), "a scenario error, not %T", err)
			assert.True(t, strings.HasPrefix(err.Error(), "t.yaml: "), "names the file: %s", err)
			assert.NotContains(t, err.Error(), "\n", "one line")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseNotYAML(t *testing.T) {
	for _, src := range []string{"", "name: [", "- a\n- b\n", "just words"} {
		_, err := Parse("x.yaml", []byte(src), nil)
		var se *Error
		assert.True(t, errors.As(err, &se), "input %q: got %v", src, err)
	}
}

func TestSet(t *testing.T) {
	s, err := Parse("t.yaml", []byte(base), []string{
		"producer.acks=1",
		"broker.unclean.leader.election.enable=true",
		"topic.min.insync.replicas=2",
		"topic.partitions=5",
		"cluster.brokers=5",
		"workload.records=7",
		"workload.records=9", // later wins
		"seed=42",
		"cluster.network.latency=3ms",
		"producer.linger.ms=20",
	})
	require.NoError(t, err)
	assert.Equal(t, int8(1), s.plan.producerCfg.Acks)
	assert.False(t, s.plan.producerCfg.EnableIdempotence, "acks=1 turns default idempotence off")
	assert.True(t, s.plan.brokerCfg.UncleanElection)
	assert.Equal(t, 2, s.plan.topo.Topics[0].MinInsyncReplicas)
	assert.Equal(t, 5, s.plan.topo.Topics[0].Partitions)
	assert.Equal(t, 5, s.plan.topo.Brokers)
	assert.Equal(t, 9, s.Workload.Records)
	assert.Equal(t, uint64(42), s.Seed)
	assert.Equal(t, "3ms", s.Cluster.Network.Latency.Duration.String())
	assert.Equal(t, int64(20), s.plan.producerCfg.LingerMs)
	assert.False(t, s.plan.brokerCfg.EligibleLeaderReplicas, "4.0 bootstraps without ELR")
}

// TestSetVersionAndFeatures: a release brings its new clusters' feature
// levels; cluster.features.NAME sets one against it.
func TestSetVersionAndFeatures(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		elr  bool
	}{
		{[]string{"cluster.version=4.1"}, true},
		{[]string{"cluster.version=4.4"}, true},
		{[]string{"cluster.version=4.1", "cluster.features.eligible.leader.replicas.version=0"}, false},
		{[]string{"cluster.features.eligible.leader.replicas.version=1"}, true},
	} {
		s, err := Parse("t.yaml", []byte(base), tc.sets)
		require.NoError(t, err, "%v", tc.sets)
		assert.Equal(t, tc.elr, s.plan.brokerCfg.EligibleLeaderReplicas, "%v", tc.sets)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		set  string
		want []string
	}{
		{"producer.acks", []string{"expected KEY=VALUE"}},
		{"colour=blue", []string{"--set", "colour", "unknown --set key", "producer.<property>"}},
		{"cluster.racks=2", []string{"unknown --set key"}},
		{"cluster.features.transaction.version=3", []string{"--set cluster.features.transaction.version", `"3" is not a level of transaction.version; use 0 to 2`}},
		{"cluster.features.metadata.version=7", []string{"--set cluster.features.metadata.version", "unknown feature; the simulator models: ", "transaction.version"}},
		{"cluster.features.eligible.leader.replicas.version=on", []string{"--set", "cluster.features.eligible.leader.replicas.version", `"on" is not a level`}},
		{"cluster.features.=1", []string{"missing a name after the dot"}},
		{"producer.acks=2", []string{"--set", "producer.acks", "String must be one of: all, -1, 0, 1"}},
		{"workload.records=many", []string{"--set", "workload.records", `"many" is not a whole number`}},
		{"workload.colour=red", []string{"--set", "workload.colour", "unknown key in workload"}},
		{"producer.nonsense=1", []string{"--set", "producer.nonsense", `unknown producer property "nonsense"; the simulator models: acks,`}},
		{"producer.ack=1", []string{"--set producer.ack", `unknown producer property "ack" (did you mean acks?); the simulator models: acks,`}},
		{"producer.lingerms=1", []string{`(did you mean linger.ms?)`}},
		{"broker.min.insync.replica=1", []string{`unknown broker property "min.insync.replica" (did you mean min.insync.replicas?); the simulator models: `}},
		{"topic.unclean.leader.election=true", []string{`unknown topic config "unclean.leader.election" (did you mean unclean.leader.election.enable?)`}},
		{"topic.min.insync.replicas=0", []string{"--set", "Value must be at least 1"}},
		{"duration=later", []string{"--set", "duration", "is not a duration"}},
		{"producer.=1", []string{"missing a name after the dot"}},
		{"workload.rate=NaN", []string{"--set workload.rate", `"NaN" is not a number`}},
		{"workload.rate=1e-9", []string{"--set workload.rate", "must be from 0.01"}},
		{"duration=100000h", []string{"--set duration", "at most 24h0m0s"}},
		{"cluster.network.bandwidth=NaNbps", []string{"is not a bandwidth"}},
		{"cluster.network.latency=2h", []string{"is more than the 1h0m0s"}},
		{"cluster.brokers=0", []string{"--set cluster.brokers", "0 is out of range"}},
		{"topic.partitions=0", []string{"0 is out of range"}},
		{"topic.replication.factor=-1", []string{"-1 is below 1"}},
		{"workload.zipf.s=NaN", []string{`"NaN" is not a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(base), []string{tt.set})
			require.Error(t, err)
			var se *Error
			require.True(t, errors.As(err, &se))
			assert.NotContains(t, err.Error(), "\n")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	names := []string{"acks0-broker-crash", "acks1-leader-failover", "acks-all-leader-failover", "linger-batching", "batch-size", "retry-duplicates"}
	tests := []struct {
		name string
		want []string
	}{
		{"acks1-leader-failovr", []string{"acks1-leader-failover", "acks-all-leader-failover"}},
		{"acks1-leader-failover", []string{"acks1-leader-failover", "acks-all-leader-failover"}},
		{"batch-sise", []string{"batch-size"}},
		{"linger", []string{"linger-batching"}},
		{"batch", []string{"batch-size", "linger-batching"}},
		{"acks", []string{"acks0-broker-crash", "acks1-leader-failover", "acks-all-leader-failover"}},
		{"ack", nil},
		{"no-such-lesson", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, closest(tt.name, names))
		})
	}
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
	assert.Equal(t, 0, editDistance("", ""))
	assert.Equal(t, 4, editDistance("", "acks"))
}

func TestLoadUnknownName(t *testing.T) {
	_, err := Load("no-such-lesson", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no built-in scenario or file by that name")
	assert.Contains(t, err.Error(), "acks1-leader-failover", "lists the built-ins")

	_, err = Load("acks1-leader-failovr", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no built-in scenario or file by that name; did you mean acks1-leader-failover or acks-all-leader-failover?")

	_, err = Load("missing/file.yaml", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot read the file")
}

func TestCatalog(t *testing.T) {
	entries := Catalog()
	require.GreaterOrEqual(t, len(entries), 13)
	seen := map[string]bool{}
	for _, e := range entries {
		assert.False(t, seen[e.Name], "unique name %s", e.Name)
		seen[e.Name] = true
		s, err := Load(e.Name, nil)
		require.NoError(t, err, e.Name)
		assert.NotEmpty(t, s.Title, e.Name)
		assert.NotEmpty(t, strings.TrimSpace(s.Lesson), e.Name)
		assert.NotEmpty(t, s.Expect, "%s has expectations for simulate check", e.Name)
	}
}

// TestLessonQuestionsMatchLessonsDoc: each lesson's question: is its
// LESSONS.md section's Question line, word for word, so the two cannot
// drift apart.
func TestLessonQuestionsMatchLessonsDoc(t *testing.T) {
	data, err := os.ReadFile("../LESSONS.md")
	require.NoError(t, err)
	question := regexp.MustCompile(`(?s)\n\*\*Question\.\*\* (.*?)\n\n`)
	doc := map[string]string{}
	for _, section := range strings.Split(string(data), "\n## ")[1:] {
		name, body, _ := strings.Cut(section, "\n")
		if m := question.FindStringSubmatch(body); m != nil {
			doc[name] = strings.Join(strings.Fields(m[1]), " ")
		}
	}
	for _, e := range Catalog() {
		require.Contains(t, doc, e.Name, "LESSONS.md: give the %s section a **Question.** line", e.Name)
		assert.Equal(t, doc[e.Name], e.Question, "%s: question: in its file and LESSONS.md's Question line", e.Name)
	}
}

func TestWorkloadSizeIsBounded(t *testing.T) {
	_, err := Parse("t.yaml", []byte(base), []string{"workload.records=0", "workload.rate=1e8"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "this workload sends about 100000000 records; the simulator takes at most 10000000 per run")

	// A huge record count is fine when the duration ends the workload first.
	s, err := Parse("t.yaml", []byte(base), []string{"workload.records=1000000000000"})
	require.NoError(t, err)
	assert.Equal(t, int64(100), s.Run(RunOptions{}).Report.Records.Sent)
}

// TestWorkloadSizeCountsEveryTopic: a transactional workload writes each
// record to every topic of workload.transactions.topics, and the bound on
// a run counts those writes (regression: it counted records once).
func TestWorkloadSizeCountsEveryTopic(t *testing.T) {
	s, err := Load("transactions-atomic", nil)
	require.NoError(t, err)
	size := s.Size()
	assert.Equal(t, Size{Span: 4 * time.Second, Records: 800, Writes: 1600, Topics: 2}, size)
	assert.Equal(t, "writes about 1600 records (800 to each of 2 topics)", size.String())

	_, err = Load("transactions-atomic", []string{"workload.rate=1500000"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "this workload writes about 12000000 records (6000000 to each of 2 topics); the simulator takes at most 10000000 per run")
}
