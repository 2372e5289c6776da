package producer

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Config is the effective producer configuration: Kafka property values
// after defaults and validation, exactly as the Java client (4.x) would run
// with them.
type Config struct {
	Acks                     int8 // -1 (all), 0, 1
	EnableIdempotence        bool
	Retries                  int
	MaxInFlight              int
	LingerMs                 int64
	BatchSize                int
	BufferMemory             int64
	MaxBlockMs               int64
	DeliveryTimeoutMs        int
	RequestTimeoutMs         int
	RetryBackoffMs           int64
	RetryBackoffMaxMs        int64
	MaxRequestSize           int
	ReconnectBackoffMs       int64
	ReconnectBackoffMaxMs    int64
	ConnectionSetupTimeoutMs int64
	ConnectionSetupMaxMs     int64
	MetadataMaxAgeMs         int64
	PartitionerAdaptive      bool
	// PartitionerAvailabilityTimeoutMs excludes, from the adaptive
	// partitioner's choice, partitions whose leader had data ready but
	// could not take a request for this long (0: never).
	PartitionerAvailabilityTimeoutMs int64
	PartitionerIgnoreKeys            bool
	// PartitionerClass is partitioner.class: PartitionerBuiltIn, another
	// built-in partitioner's name or a PartitionerClass's.
	PartitionerClass string
	// newPartitioner makes the partitioner PartitionerClass names; nil for
	// PartitionerBuiltIn.
	newPartitioner NewPartitioner
	// Client is the client whose defaults apply (producer.client).
	Client               string
	CompressionType      string
	ClientID             string
	TransactionalID      string
	TransactionTimeoutMs int

	// Notes explains silent adjustments Kafka makes (idempotence disabled,
	// delivery.timeout.ms raised), as the Java client logs them.
	Notes []string
}

// ConfigError is a configuration Kafka refuses, in Kafka's own words, or
// one the simulator refuses where Kafka does not, saying so.
type ConfigError struct{ Message string }

func (e *ConfigError) Error() string { return e.Message }

type propType int

const (
	typeInt propType = iota
	typeLong
	typeBool
	typeString
)

var typeNames = map[propType]string{typeInt: "INT", typeLong: "LONG", typeBool: "BOOLEAN", typeString: "STRING"}

// property is one ConfigDef entry. The table is in ProducerConfig's
// definition order, which is the order Kafka validates in, so the first
// error reported is the one Kafka would report.
type property struct {
	name     string
	typ      propType
	def      string
	atLeast  int64 // Kafka's minimum for numbers
	simMin   *simMin
	oneOf    []string
	nonEmpty bool // ConfigDef.NonEmptyString
	set      func(c *Config, v value)
}

// simMin is a lower bound the simulator adds where Kafka has none, with
// what a smaller value would do (LESSONS.md, "Where the simulator
// simplifies").
type simMin struct {
	min int64
	why string
}

type value struct {
	n int64
	b bool
	s string
}

var properties = []property{
	{name: "buffer.memory", typ: typeLong, def: "33554432", atLeast: 0,
		set: func(c *Config, v value) { c.BufferMemory = v.n }},
	{name: "retries", typ: typeInt, def: "2147483647", atLeast: 0,
		set: func(c *Config, v value) { c.Retries = int(v.n) }},
	{name: "acks", typ: typeString, def: "all", oneOf: []string{"all", "-1", "0", "1"},
		set: func(c *Config, v value) { c.Acks = parseAcks(v.s) }},
	{name: "compression.type", typ: typeString, def: "none", oneOf: []string{"none", "gzip", "snappy", "lz4", "zstd"},
		set: func(c *Config, v value) { c.CompressionType = v.s }},
	{name: "batch.size", typ: typeInt, def: "16384", atLeast: 0,
		set: func(c *Config, v value) { c.BatchSize = int(v.n) }},
	{name: "partitioner.adaptive.partitioning.enable", typ: typeBool, def: "true",
		set: func(c *Config, v value) { c.PartitionerAdaptive = v.b }},
	{name: "partitioner.availability.timeout.ms", typ: typeLong, def: "0", atLeast: 0,
		set: func(c *Config, v value) { c.PartitionerAvailabilityTimeoutMs = v.n }},
	{name: "partitioner.ignore.keys", typ: typeBool, def: "false",
		set: func(c *Config, v value) { c.PartitionerIgnoreKeys = v.b }},
	{name: "partitioner.class", typ: typeString, def: PartitionerBuiltIn,
		set: func(c *Config, v value) { c.PartitionerClass = v.s }},
	// linger.ms defaults to 5 from Kafka 4.0 (KIP-1030); it was 0 before.
	// KafkaProducer.lingerMs caps it at Integer.MAX_VALUE.
	{name: "linger.ms", typ: typeLong, def: "5", atLeast: 0,
		set: func(c *Config, v value) { c.LingerMs = min(v.n, math.MaxInt32) }},
	{name: "delivery.timeout.ms", typ: typeInt, def: "120000", atLeast: 0,
		set: func(c *Config, v value) { c.DeliveryTimeoutMs = int(v.n) }},
	{name: "client.id", typ: typeString, def: "",
		set: func(c *Config, v value) { c.ClientID = v.s }},
	{name: "max.request.size", typ: typeInt, def: "1048576", atLeast: 0,
		set: func(c *Config, v value) { c.MaxRequestSize = int(v.n) }},
	{name: "reconnect.backoff.ms", typ: typeLong, def: "50", atLeast: 0,
		set: func(c *Config, v value) { c.ReconnectBackoffMs = v.n }},
	{name: "reconnect.backoff.max.ms", typ: typeLong, def: "1000", atLeast: 0,
		set: func(c *Config, v value) { c.ReconnectBackoffMaxMs = v.n }},
	{name: "retry.backoff.ms", typ: typeLong, def: "100", atLeast: 0,
		set: func(c *Config, v value) { c.RetryBackoffMs = v.n }},
	{name: "retry.backoff.max.ms", typ: typeLong, def: "1000", atLeast: 0,
		set: func(c *Config, v value) { c.RetryBackoffMaxMs = v.n }},
	{name: "max.block.ms", typ: typeLong, def: "60000", atLeast: 0,
		set: func(c *Config, v value) { c.MaxBlockMs = v.n }},
	{name: "request.timeout.ms", typ: typeInt, def: "30000", atLeast: 0,
		set: func(c *Config, v value) { c.RequestTimeoutMs = int(v.n) }},
	{name: "metadata.max.age.ms", typ: typeLong, def: "300000", atLeast: 0,
		set: func(c *Config, v value) { c.MetadataMaxAgeMs = v.n }},
	{name: "max.in.flight.requests.per.connection", typ: typeInt, def: "5", atLeast: 1,
		set: func(c *Config, v value) { c.MaxInFlight = int(v.n) }},
	// ProducerConfig defines both with no validator.
	{name: "socket.connection.setup.timeout.ms", typ: typeLong, def: "10000", atLeast: math.MinInt64,
		simMin: &simMin{0, "a connection would time out before it was attempted"},
		set:    func(c *Config, v value) { c.ConnectionSetupTimeoutMs = v.n }},
	{name: "socket.connection.setup.timeout.max.ms", typ: typeLong, def: "30000", atLeast: math.MinInt64,
		simMin: &simMin{0, "a connection would time out before it was attempted"},
		set:    func(c *Config, v value) { c.ConnectionSetupMaxMs = v.n }},
	{name: "enable.idempotence", typ: typeBool, def: "true",
		set: func(c *Config, v value) { c.EnableIdempotence = v.b }},
	{name: "transaction.timeout.ms", typ: typeInt, def: "60000", atLeast: math.MinInt32,
		set: func(c *Config, v value) { c.TransactionTimeoutMs = int(v.n) }},
	{name: "transactional.id", typ: typeString, def: "", nonEmpty: true,
		set: func(c *Config, v value) { c.TransactionalID = v.s }},
}

// PropertyNames lists every producer property the simulator accepts, sorted.
func PropertyNames() []string {
	names := make([]string, len(properties))
	for i, p := range properties {
		names[i] = p.name
	}
	slices.Sort(names)
	return names
}

// Default is one property's name and Kafka's default for it.
type Default struct{ Name, Value string }

// Defaults lists every producer property with the Java client's default,
// in the table's order (ProducerConfig's), so that a report can show what
// differs from Kafka's defaults in an order that does not change.
func Defaults() []Default {
	defs := make([]Default, len(properties))
	for i, p := range properties {
		defs[i] = Default{p.name, p.def}
	}
	return defs
}

// IsProperty reports whether name is a producer property the simulator knows.
func IsProperty(name string) bool {
	return slices.ContainsFunc(properties, func(p property) bool { return p.name == name })
}

func parseAcks(s string) int8 {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return -1
	}
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return int8(n)
}

// invalid formats Kafka's ConfigException(name, value, message).
func invalid(name, v, msg string) *ConfigError {
	return &ConfigError{Message: "Invalid value " + v + " for configuration " + name + ": " + msg}
}

func parseValue(p *property, raw string) (value, *ConfigError) {
	s := strings.TrimSpace(raw)
	switch p.typ {
	case typeBool:
		switch strings.ToLower(s) {
		case "true":
			return value{b: true}, nil
		case "false":
			return value{b: false}, nil
		}
		return value{}, invalid(p.name, raw, "Expected value to be either true or false")
	case typeInt, typeLong:
		bits := 32
		if p.typ == typeLong {
			bits = 64
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return value{}, invalid(p.name, raw, "Not a number of type "+typeNames[p.typ])
		}
		// Validators see the parsed value, and Kafka prints that.
		if n < p.atLeast {
			return value{}, invalid(p.name, strconv.FormatInt(n, 10), "Value must be at least "+strconv.FormatInt(p.atLeast, 10))
		}
		if m := p.simMin; m != nil && n < m.min {
			return value{}, invalid(p.name, strconv.FormatInt(n, 10), fmt.Sprintf("Kafka accepts it, but the simulator takes at least %d: %s", m.min, m.why))
		}
		return value{n: n}, nil
	default:
		// ConfigDef trims strings before validating them.
		if p.oneOf != nil && !slices.Contains(p.oneOf, s) {
			return value{}, invalid(p.name, s, "String must be one of: "+strings.Join(p.oneOf, ", "))
		}
		if p.nonEmpty && s == "" {
			return value{}, invalid(p.name, s, "String must be non-empty")
		}
		return value{s: s}, nil
	}
}

// NewConfig builds the effective configuration from the user's properties
// (Kafka names, string values), applying Kafka's defaults and validation:
// ConfigDef types and ranges, ProducerConfig's idempotence rules
// (postProcessAndValidateIdempotenceConfigs, 4.x), and
// KafkaProducer.configureDeliveryTimeout. Errors carry Kafka's messages.
//
// classes are partitioners besides the built-in ones that partitioner.class
// may name.
func NewConfig(props map[string]string, classes ...PartitionerClass) (*Config, error) {
	client := ClientJava
	if v, ok := props["client"]; ok {
		client = strings.TrimSpace(v)
		props = maps.Clone(props)
		delete(props, "client")
	}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !IsProperty(name) {
			return nil, &ConfigError{Message: fmt.Sprintf("unknown producer property %q; the simulator models: %s",
				name, strings.Join(PropertyNames(), ", "))}
		}
	}
	defaults, err := ClientDefaults(client)
	if err != nil {
		return nil, &ConfigError{Message: "producer.client: " + err.Error()}
	}
	if len(defaults) > 0 {
		props = maps.Clone(props)
		for _, d := range defaults {
			if _, explicit := props[d.Property]; !explicit {
				props[d.Property] = d.Value
			}
		}
	}
	c := &Config{Client: client}
	for i := range properties {
		p := &properties[i]
		raw, explicit := props[p.name]
		if !explicit {
			raw = p.def
		}
		if !explicit && p.nonEmpty {
			continue // the default is null, which NonEmptyString allows
		}
		v, err := parseValue(p, raw)
		if err != nil {
			return nil, err
		}
		if p.set != nil {
			p.set(c, v)
		}
	}
	_, explicitIdempotence := props["enable.idempotence"]
	_, explicitTxn := props["transactional.id"]
	if err := c.validateIdempotence(explicitIdempotence, explicitTxn); err != nil {
		return nil, err
	}
	_, explicitDelivery := props["delivery.timeout.ms"]
	if err := c.configureDeliveryTimeout(explicitDelivery); err != nil {
		return nil, err
	}
	if err := checkClasses(classes); err != nil {
		return nil, &ConfigError{Message: err.Error()}
	}
	newFn, ok := lookupPartitioner(c.PartitionerClass, classes)
	if !ok {
		// KafkaProducer loads the class by name (ConfigDef Type.CLASS).
		known := PartitionerNames()
		for _, cl := range classes {
			known = append(known, cl.Name)
		}
		return nil, invalid("partitioner.class", c.PartitionerClass, "Class "+c.PartitionerClass+
			" could not be found; the partitioners: "+strings.Join(known, ", "))
	}
	c.newPartitioner = newFn
	return c, nil
}

// validateIdempotence follows ProducerConfig.postProcessAndValidateIdempotenceConfigs
// as of Kafka 4.0: with idempotence on (explicitly or by default), retries=0
// or acks other than all either refuse (explicit) or quietly turn
// idempotence off (default); max.in.flight above 5 is refused either way
// (KAFKA-17927); a transactional.id needs idempotence.
func (c *Config) validateIdempotence(explicit, explicitTxn bool) error {
	if c.EnableIdempotence {
		disable := false
		if c.Retries == 0 {
			if explicit {
				return &ConfigError{Message: "Must set retries to non-zero when using the idempotent producer."}
			}
			c.Notes = append(c.Notes, "Idempotence will be disabled because retries is set to 0.")
			disable = true
		}
		if c.Acks != -1 {
			if explicit {
				return &ConfigError{Message: "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."}
			}
			c.Notes = append(c.Notes, fmt.Sprintf("Idempotence will be disabled because acks is set to %d, not set to 'all'.", c.Acks))
			disable = true
		}
		if c.MaxInFlight > 5 {
			return &ConfigError{Message: fmt.Sprintf("To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is %d.", c.MaxInFlight)}
		}
		if disable {
			c.EnableIdempotence = false
		}
	}
	if !c.EnableIdempotence && explicitTxn {
		return &ConfigError{Message: "Cannot set a transactional.id without also enabling idempotence."}
	}
	return nil
}

// configureDeliveryTimeout follows KafkaProducer.configureDeliveryTimeout:
// delivery.timeout.ms must cover linger.ms + request.timeout.ms. An explicit
// smaller value fails the constructor (a KafkaException wrapping the
// ConfigException); a default one is raised with a warning.
func (c *Config) configureDeliveryTimeout(explicit bool) error {
	floor := min(c.LingerMs+int64(c.RequestTimeoutMs), math.MaxInt32)
	if int64(c.DeliveryTimeoutMs) >= floor {
		return nil
	}
	if explicit {
		return &ConfigError{Message: "Failed to construct kafka producer: delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms"}
	}
	c.Notes = append(c.Notes, fmt.Sprintf("delivery.timeout.ms raised to linger.ms + request.timeout.ms = %d.", floor))
	c.DeliveryTimeoutMs = int(floor)
	return nil
}

// Effective lists every property with the value in force, for the report:
// the defaults filled in and Kafka's silent changes applied.
func (c *Config) Effective() map[string]string {
	acks := "all"
	if c.Acks != -1 {
		acks = strconv.Itoa(int(c.Acks))
	}
	return map[string]string{
		"acks":                                  acks,
		"batch.size":                            strconv.Itoa(c.BatchSize),
		"buffer.memory":                         strconv.FormatInt(c.BufferMemory, 10),
		"client.id":                             c.ClientID,
		"compression.type":                      c.CompressionType,
		"delivery.timeout.ms":                   strconv.Itoa(c.DeliveryTimeoutMs),
		"enable.idempotence":                    strconv.FormatBool(c.EnableIdempotence),
		"linger.ms":                             strconv.FormatInt(c.LingerMs, 10),
		"max.block.ms":                          strconv.FormatInt(c.MaxBlockMs, 10),
		"max.in.flight.requests.per.connection": strconv.Itoa(c.MaxInFlight),
		"max.request.size":                      strconv.Itoa(c.MaxRequestSize),
		"metadata.max.age.ms":                   strconv.FormatInt(c.MetadataMaxAgeMs, 10),
		"partitioner.adaptive.partitioning.enable": strconv.FormatBool(c.PartitionerAdaptive),
		"partitioner.availability.timeout.ms":      strconv.FormatInt(c.PartitionerAvailabilityTimeoutMs, 10),
		"partitioner.class":                        c.PartitionerClass,
		"partitioner.ignore.keys":                  strconv.FormatBool(c.PartitionerIgnoreKeys),
		"reconnect.backoff.max.ms":                 strconv.FormatInt(c.ReconnectBackoffMaxMs, 10),
		"reconnect.backoff.ms":                     strconv.FormatInt(c.ReconnectBackoffMs, 10),
		"request.timeout.ms":                       strconv.Itoa(c.RequestTimeoutMs),
		"retries":                                  strconv.Itoa(c.Retries),
		"retry.backoff.max.ms":                     strconv.FormatInt(c.RetryBackoffMaxMs, 10),
		"retry.backoff.ms":                         strconv.FormatInt(c.RetryBackoffMs, 10),
		"socket.connection.setup.timeout.max.ms":   strconv.FormatInt(c.ConnectionSetupMaxMs, 10),
		"socket.connection.setup.timeout.ms":       strconv.FormatInt(c.ConnectionSetupTimeoutMs, 10),
		"transaction.timeout.ms":                   strconv.Itoa(c.TransactionTimeoutMs),
		"transactional.id":                         c.TransactionalID,
	}
}
