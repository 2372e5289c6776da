package broker

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/sim"
)

// Config holds the cluster-wide broker settings the simulator models. Each
// comes from one entry of the property table below, which has its Kafka
// name and default (Kafka 4.x: ReplicationConfigs, KRaftConfigs,
// ServerLogConfigs, TransactionLogConfigs, TransactionStateManagerConfigs).
type Config struct {
	ReplicaLagTimeMax       sim.Time // replica.lag.time.max.ms
	ReplicaFetchWaitMax     sim.Time // replica.fetch.wait.max.ms
	ReplicaFetchBackoff     sim.Time // replica.fetch.backoff.ms
	ReplicaSocketTimeout    sim.Time // replica.socket.timeout.ms
	ReplicaFetchMaxBytes    int      // replica.fetch.max.bytes
	ReplicaFetchMinBytes    int      // replica.fetch.min.bytes
	BrokerHeartbeatInterval sim.Time // broker.heartbeat.interval.ms
	BrokerSessionTimeout    sim.Time // broker.session.timeout.ms
	// Topic defaults: the broker acts on each Topic's own values, which a
	// topic without an override takes from these (ConfigureTopic).
	MinInsyncReplicas int  // min.insync.replicas
	UncleanElection   bool // unclean.leader.election.enable

	// Version is the Kafka release whose broker rules apply. Rules that
	// changed in 3.7:
	//   - KAFKA-15583: the high watermark does not advance while the ISR is
	//     smaller than min.insync.replicas, and min.insync.replicas above
	//     the replication factor is capped at it. Before 3.7 the high
	//     watermark advanced anyway (so acks=all requests already waiting
	//     when the ISR shrank completed with NOT_ENOUGH_REPLICAS_AFTER_APPEND)
	//     and an uncapped setting refused every acks=all write.
	//   - KIP-951: NOT_LEADER_OR_FOLLOWER answers name the new leader.
	Version Version
	// TransactionVersion is the cluster's transaction.version feature
	// level (features.go): 2 bumps the producer epoch at every
	// transaction's end and lets partition leaders add partitions.
	TransactionVersion int16

	// Features the controller has finalized (features.go).
	//
	// EligibleLeaderReplicas is eligible.leader.replicas.version=1
	// (KIP-966): the controller keeps each partition's Eligible Leader
	// Replicas and lets its ISR become empty; on by default from 4.1.
	EligibleLeaderReplicas bool

	// The cost model (simulator parameters, not Kafka properties): CPU time
	// a broker spends on a produce request before its append completes
	// (cost.per.request), and per batch and per MiB appended, by a leader
	// or a follower (cost.per.batch, cost.per.mb).
	CostPerRequest sim.Time
	CostPerBatch   sim.Time
	CostPerMB      sim.Time

	// Transactions.
	TransactionMaxTimeout       sim.Time // transaction.max.timeout.ms
	TransactionAbortCheckPeriod sim.Time // transaction.abort.timed.out.transaction.cleanup.interval.ms
	// Lost producer state: a partition forgets a producer id idle this
	// long (ProducerStateManager), a coordinator a transactional id
	// (TransactionStateManager), each checked periodically.
	ProducerIDExpiration           sim.Time // producer.id.expiration.ms
	ProducerIDExpirationCheck      sim.Time // producer.id.expiration.check.interval.ms
	TransactionalIDExpiration      sim.Time // transactional.id.expiration.ms
	TransactionalIDExpirationCheck sim.Time // transaction.remove.expired.transaction.cleanup.interval.ms
	// The __transaction_state topic (TransactionStateLog).
	TransactionStateLogNumPartitions     int // transaction.state.log.num.partitions
	TransactionStateLogReplicationFactor int // transaction.state.log.replication.factor
	TransactionStateLogMinISR            int // transaction.state.log.min.isr
	// TransactionPartitionVerification is
	// transaction.partition.verification.enable (KIP-890 part 1, 3.6+):
	// a partition leader asks the coordinator before a producer's first
	// transactional write to it. With transaction.version 2 the leader
	// asks always, to add the partition.
	TransactionPartitionVerification bool
}

// ConfigError is a broker or topic property the simulator refuses. Key,
// when set, is the property a rule about two of them blames.
type ConfigError struct{ Key, Message string }

func (e *ConfigError) Error() string { return e.Message }

type propType int

const (
	typeInt   propType = iota // Kafka's INT
	typeLong                  // Kafka's LONG
	typeShort                 // Kafka's SHORT
	typeBool                  // Kafka's BOOLEAN
	// typeCost is a simulator cost parameter, not a Kafka property: a Go
	// duration from 0 to 1s.
	typeCost
)

var typeNames = map[propType]string{typeInt: "INT", typeLong: "LONG", typeShort: "SHORT"}

// typeBits is the size of each of Kafka's number types.
var typeBits = map[propType]int{typeInt: 32, typeLong: 64, typeShort: 16}

// property is one broker property the simulator models, with Kafka's type
// and lower bound (its ConfigDef entry), and the range the simulator
// takes where it is narrower than Kafka's (sim).
type property struct {
	name    string
	typ     propType
	def     string
	atLeast int64 // Kafka's lower bound, for numbers
	sim     *simRange
	topic   bool // also a topic-level config
	set     func(c *Config, v value)
}

// simRange is a range the simulator takes where Kafka takes more (max 0:
// no upper bound beyond the type's); why says what a value outside it
// would do. LESSONS.md, "Where the simulator simplifies", lists each.
type simRange struct {
	min, max int64
	why      string
}

// simMin is a lower bound the simulator adds to Kafka's.
func simMin(lo int64, why string) *simRange { return &simRange{min: lo, why: why} }

type value struct {
	n int64
	b bool
	d sim.Time
}

// properties is the table of broker properties, in the order the
// simulator lists them.
var properties = []property{
	// KRaftConfigs defines the two broker lease settings with no
	// validator; Config.check adds that the interval is below the timeout.
	{name: "broker.heartbeat.interval.ms", typ: typeInt, def: "2000", atLeast: math.MinInt32,
		sim: simMin(1, "a broker must wait some time between two heartbeats"),
		set: func(c *Config, v value) { c.BrokerHeartbeatInterval = sim.Millis(v.n) }},
	// The cost model's defaults are of the order a current broker shows
	// with the page cache and no fsync per write: a produce request costs
	// tens of microseconds of request handling, each batch a few more (CRC
	// check, offset assignment, index update), and each MiB about a
	// millisecond to copy into the log (~1 GB/s).
	{name: "cost.per.batch", typ: typeCost, def: "10us",
		set: func(c *Config, v value) { c.CostPerBatch = v.d }},
	{name: "cost.per.mb", typ: typeCost, def: "1ms",
		set: func(c *Config, v value) { c.CostPerMB = v.d }},
	{name: "cost.per.request", typ: typeCost, def: "50us",
		set: func(c *Config, v value) { c.CostPerRequest = v.d }},
	{name: "broker.session.timeout.ms", typ: typeInt, def: "9000", atLeast: math.MinInt32,
		sim: simMin(1, "a session must last some time"),
		set: func(c *Config, v value) { c.BrokerSessionTimeout = sim.Millis(v.n) }},
	{name: "min.insync.replicas", typ: typeInt, def: "1", atLeast: 1, topic: true,
		set: func(c *Config, v value) { c.MinInsyncReplicas = int(v.n) }},
	// ReplicationConfigs: atLeast(0).
	// TransactionLogConfig: atLeast(1); the check interval is an internal
	// property (defineInternal), the period of LogManager's
	// PeriodicProducerExpirationCheck.
	{name: "producer.id.expiration.check.interval.ms", typ: typeInt, def: "600000", atLeast: 1,
		set: func(c *Config, v value) { c.ProducerIDExpirationCheck = sim.Millis(v.n) }},
	{name: "producer.id.expiration.ms", typ: typeInt, def: "86400000", atLeast: 1,
		set: func(c *Config, v value) { c.ProducerIDExpiration = sim.Millis(v.n) }},
	{name: "replica.fetch.backoff.ms", typ: typeInt, def: "1000", atLeast: 0,
		sim: simMin(1, "a follower whose fetch failed would ask again in the same instant, for ever when nothing else lets time pass"),
		set: func(c *Config, v value) { c.ReplicaFetchBackoff = sim.Millis(v.n) }},
	{name: "replica.fetch.max.bytes", typ: typeInt, def: "1048576", atLeast: 0,
		set: func(c *Config, v value) { c.ReplicaFetchMaxBytes = int(v.n) }},
	// ReplicationConfigs: no validator.
	{name: "replica.fetch.min.bytes", typ: typeInt, def: "1", atLeast: math.MinInt32,
		sim: simMin(1, "the leader would answer every fetch at once, data or not, and followers would ask again without pause"),
		set: func(c *Config, v value) { c.ReplicaFetchMinBytes = int(v.n) }},
	// ReplicationConfigs: no validator; Config.check adds KafkaConfig's
	// rules against replica.socket.timeout.ms and replica.lag.time.max.ms.
	{name: "replica.fetch.wait.max.ms", typ: typeInt, def: "500", atLeast: math.MinInt32,
		sim: simMin(1, "the leader would answer every fetch at once, data or not, and followers would ask again without pause"),
		set: func(c *Config, v value) { c.ReplicaFetchWaitMax = sim.Millis(v.n) }},
	// ReplicationConfigs: a LONG with no validator. ReplicaManager checks
	// the ISR every replica.lag.time.max.ms / 2, and KafkaScheduler runs a
	// task with a period of 0 only once.
	{name: "replica.lag.time.max.ms", typ: typeLong, def: "30000", atLeast: math.MinInt64,
		sim: simMin(2, "below 2, Kafka checks the ISR only once, at startup (a period of replica.lag.time.max.ms / 2 = 0 ms runs once), and never shrinks it; the simulator does not model that"),
		set: func(c *Config, v value) { c.ReplicaLagTimeMax = sim.Millis(v.n) }},
	// ReplicationConfigs: no validator.
	{name: "replica.socket.timeout.ms", typ: typeInt, def: "30000", atLeast: math.MinInt32,
		sim: simMin(1, "a fetch would time out the instant it is sent"),
		set: func(c *Config, v value) { c.ReplicaSocketTimeout = sim.Millis(v.n) }},
	{name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", typ: typeInt, def: "10000", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionAbortCheckPeriod = sim.Millis(v.n) }},
	{name: "transaction.max.timeout.ms", typ: typeInt, def: "900000", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionMaxTimeout = sim.Millis(v.n) }},
	// TransactionLogConfig: BOOLEAN, default true since 3.6.
	{name: "transaction.partition.verification.enable", typ: typeBool, def: "true",
		set: func(c *Config, v value) { c.TransactionPartitionVerification = v.b }},
	// TransactionStateManagerConfig: atLeast(1).
	{name: "transaction.remove.expired.transaction.cleanup.interval.ms", typ: typeInt, def: "3600000", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionalIDExpirationCheck = sim.Millis(v.n) }},
	{name: "transaction.state.log.min.isr", typ: typeInt, def: "2", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionStateLogMinISR = int(v.n) }},
	// TransactionLogConfig: atLeast(1). The simulator keeps every
	// partition's replicas in memory, as for a topic's partitions.
	{name: "transaction.state.log.num.partitions", typ: typeInt, def: "50", atLeast: 1,
		sim: &simRange{min: 1, max: MaxTxnStatePartitions, why: "the simulator keeps every partition's replicas in memory; a scenario's topics are bounded the same way"},
		set: func(c *Config, v value) { c.TransactionStateLogNumPartitions = int(v.n) }},
	{name: "transaction.state.log.replication.factor", typ: typeShort, def: "3", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionStateLogReplicationFactor = int(v.n) }},
	{name: "transactional.id.expiration.ms", typ: typeInt, def: "604800000", atLeast: 1,
		set: func(c *Config, v value) { c.TransactionalIDExpiration = sim.Millis(v.n) }},
	{name: "unclean.leader.election.enable", typ: typeBool, def: "false", topic: true,
		set: func(c *Config, v value) { c.UncleanElection = v.b }},
}

// PropertyNames lists the broker properties the simulator models, in table
// order; with topicLevel, only those that are also topic configs.
func PropertyNames(topicLevel bool) []string {
	var names []string
	for _, p := range properties {
		if !topicLevel || p.topic {
			names = append(names, p.name)
		}
	}
	return names
}

// PropertyDefaults is every broker property's default, by name.
func PropertyDefaults() map[string]string {
	defs := make(map[string]string, len(properties))
	for _, p := range properties {
		defs[p.name] = p.def
	}
	return defs
}

func lookupProperty(name string, topicLevel bool) *property {
	i := slices.IndexFunc(properties, func(p property) bool { return p.name == name })
	if i < 0 || (topicLevel && !properties[i].topic) {
		return nil
	}
	return &properties[i]
}

// CheckProperty validates one broker property (or, with topicLevel, topic
// config) as a user wrote it, with Kafka's messages, and returns the value
// to use: the text without surrounding space.
func CheckProperty(name, raw string, topicLevel bool) (string, error) {
	p := lookupProperty(name, topicLevel)
	if p == nil {
		return "", &ConfigError{Message: "unknown property; the simulator models: " + strings.Join(PropertyNames(topicLevel), ", ")}
	}
	v, err := p.parse(raw)
	if err != nil {
		return "", err
	}
	if p.typ == typeBool {
		return strconv.FormatBool(v.b), nil // TRUE and True read as true
	}
	return strings.TrimSpace(raw), nil
}

// parse reads a value of the property's type. Kafka prints the value as
// written (ConfigException(name, value, message)).
func (p *property) parse(raw string) (value, error) {
	s := strings.TrimSpace(raw)
	invalid := func(msg string) error {
		return &ConfigError{Message: "Invalid value " + raw + " for configuration " + p.name + ": " + msg}
	}
	switch p.typ {
	case typeCost:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > time.Second {
			return value{}, &ConfigError{Message: fmt.Sprintf("invalid duration %q; use a Go duration from 0 to 1s, like 50us or 2ms (a simulator cost parameter)", raw)}
		}
		return value{d: sim.FromDuration(d)}, nil
	case typeBool:
		// ConfigDef.parseType: BOOLEAN ignores case, as for the producer.
		switch strings.ToLower(s) {
		case "true":
			return value{b: true}, nil
		case "false":
			return value{b: false}, nil
		}
		return value{}, invalid("Expected value to be either true or false")
	default:
		n, err := strconv.ParseInt(s, 10, typeBits[p.typ])
		if err != nil {
			return value{}, invalid("Not a number of type " + typeNames[p.typ])
		}
		if n < p.atLeast {
			return value{}, invalid("Value must be at least " + strconv.FormatInt(p.atLeast, 10))
		}
		if r := p.sim; r != nil && n < r.min {
			return value{}, invalid(fmt.Sprintf("Kafka accepts it, but the simulator takes at least %d: %s", r.min, r.why))
		}
		if r := p.sim; r != nil && r.max > 0 && n > r.max {
			return value{}, invalid(fmt.Sprintf("Kafka accepts it, but the simulator takes at most %d: %s", r.max, r.why))
		}
		return value{n: n}, nil
	}
}

// check applies the rules that relate two broker properties: KafkaConfig's
// (validateValues) with its messages, and one the simulator adds. The
// error blames the first of the two properties, unless only the second was
// given.
func (c *Config) check(given map[string]string) error {
	blame := func(a, b string) string {
		if _, ok := given[a]; !ok {
			if _, ok := given[b]; ok {
				return b
			}
		}
		return a
	}
	// KafkaConfig.validateValues.
	ms := func(t sim.Time) int64 { return int64(t / sim.Millisecond) }
	if c.ReplicaFetchWaitMax > c.ReplicaSocketTimeout {
		return &ConfigError{Key: blame("replica.fetch.wait.max.ms", "replica.socket.timeout.ms"), Message: fmt.Sprintf(
			"requirement failed: replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts (replica.fetch.wait.max.ms=%d, replica.socket.timeout.ms=%d)",
			ms(c.ReplicaFetchWaitMax), ms(c.ReplicaSocketTimeout))}
	}
	if c.ReplicaFetchWaitMax > c.ReplicaLagTimeMax {
		return &ConfigError{Key: blame("replica.fetch.wait.max.ms", "replica.lag.time.max.ms"), Message: fmt.Sprintf(
			"requirement failed: replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR (replica.fetch.wait.max.ms=%d, replica.lag.time.max.ms=%d)",
			ms(c.ReplicaFetchWaitMax), ms(c.ReplicaLagTimeMax))}
	}
	// Kafka accepts any pair (KRaftConfigs has no validator, the
	// controller no check), but a broker whose session ends before its
	// next heartbeat is fenced between every two, and its partitions
	// change leader for ever.
	if c.BrokerHeartbeatInterval >= c.BrokerSessionTimeout {
		return &ConfigError{Key: blame("broker.heartbeat.interval.ms", "broker.session.timeout.ms"), Message: fmt.Sprintf(
			"broker.heartbeat.interval.ms=%d is not below broker.session.timeout.ms=%d: Kafka accepts it, but the simulator refuses it: every broker's session would end before its next heartbeat, and the controller would fence it over and over; use an interval below the timeout (Kafka's defaults: 2000 and 9000)",
			ms(c.BrokerHeartbeatInterval), ms(c.BrokerSessionTimeout))}
	}
	return nil
}

// apply sets the given properties onto c in table order, validating each;
// with defaults, a property props leaves out takes its default.
func (c *Config) apply(props map[string]string, topicLevel, defaults bool) error {
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if _, err := CheckProperty(name, props[name], topicLevel); err != nil {
			return &ConfigError{Message: name + ": " + err.Error()}
		}
	}
	for i := range properties {
		p := &properties[i]
		raw, given := props[p.name]
		if (!given && !defaults) || (topicLevel && !p.topic) {
			continue
		}
		if !given {
			raw = p.def
		}
		v, err := p.parse(raw)
		if err != nil {
			return err
		}
		p.set(c, v)
	}
	return nil
}

// NewConfig builds the configuration from broker properties (Kafka names,
// string values), every one left out at its default, for DefaultVersion.
func NewConfig(props map[string]string) (Config, error) {
	c := Config{Version: DefaultVersion}
	if err := c.apply(props, false, true); err != nil {
		return c, err
	}
	if err := c.SetFeatures(nil); err != nil {
		return c, err
	}
	return c, c.check(props)
}

// DefaultConfig is Kafka's defaults on a broker that costs nothing: the
// cost model's parameters are zero, so that the broker's own tests count
// only network time. Scenarios take the cost.per.* defaults from NewConfig.
func DefaultConfig() Config {
	c, err := NewConfig(nil)
	if err != nil {
		panic("broker: a property's default does not parse: " + err.Error())
	}
	c.CostPerRequest, c.CostPerBatch, c.CostPerMB = 0, 0, 0
	return c
}

// ConfigureTopic sets a topic's configs: the broker's values, overridden
// by the topic's own (topic-level properties, as CheckProperty accepts
// them).
func (c Config) ConfigureTopic(t *Topic, overrides map[string]string) error {
	if err := c.apply(overrides, true, false); err != nil {
		return err
	}
	t.MinInsyncReplicas, t.UncleanElection = c.MinInsyncReplicas, c.UncleanElection
	return nil
}

// TransactionStateLog is the internal topic whose partition leaders are
// the transaction coordinators. Kafka creates it with
// transaction.state.log.replication.factor replicas and refuses while the
// cluster is smaller; the simulator caps the factor at the broker count
// instead.
func (c Config) TransactionStateLog(brokers int) Topic {
	return Topic{Name: TransactionStateTopic, Partitions: c.TransactionStateLogNumPartitions,
		ReplicationFactor: min(c.TransactionStateLogReplicationFactor, brokers), MinInsyncReplicas: c.TransactionStateLogMinISR}
}
