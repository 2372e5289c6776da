package producer

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Kafka's messages, verbatim from ProducerConfig.postProcessAndValidateIdempotenceConfigs
// (4.0) and KafkaProducer.configureDeliveryTimeout.
const (
	msgAcks        = "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."
	msgRetries     = "Must set retries to non-zero when using the idempotent producer."
	msgInFlight6   = "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is 6."
	msgTxnNoIdem   = "Cannot set a transactional.id without also enabling idempotence."
	msgDelivery    = "Failed to construct kafka producer: delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms"
	msgAcksOneOf   = "String must be one of: all, -1, 0, 1"
	msgBoolExpects = "Expected value to be either true or false"
)

// TestConfigDefaults checks the 4.x defaults of reference §2.1 and facts 7
// and 8 (ProducerConfig, CommonClientConfigs; linger.ms=5 is KIP-1030).
// Idempotence is on without being set, which is also fact 9: the 3.0.0/3.1.0
// "only when explicit" bug (KAFKA-13598) is not reproduced by a 4.x model.
func TestConfigDefaults(t *testing.T) {
	c, err := NewConfig(nil)
	require.NoError(t, err)

	assert.Equal(t, int8(-1), c.Acks, "acks=all (KIP-679)")
	assert.True(t, c.EnableIdempotence, "enable.idempotence=true (KIP-679, KAFKA-13598)")
	assert.Equal(t, math.MaxInt32, c.Retries)
	assert.Equal(t, 5, c.MaxInFlight)
	assert.Equal(t, int64(5), c.LingerMs, "linger.ms=5 from 4.0 (KIP-1030)")
	assert.Equal(t, 16384, c.BatchSize)
	assert.Equal(t, int64(33554432), c.BufferMemory)
	assert.Equal(t, 120000, c.DeliveryTimeoutMs)
	assert.Equal(t, 30000, c.RequestTimeoutMs)
	assert.Equal(t, int64(60000), c.MaxBlockMs)
	assert.Equal(t, int64(100), c.RetryBackoffMs)
	assert.Equal(t, int64(1000), c.RetryBackoffMaxMs)
	assert.Equal(t, "none", c.CompressionType)
	assert.Equal(t, 1048576, c.MaxRequestSize)
	assert.Equal(t, int64(300000), c.MetadataMaxAgeMs)
	assert.True(t, c.PartitionerAdaptive)
	assert.False(t, c.PartitionerIgnoreKeys)
	assert.Equal(t, 60000, c.TransactionTimeoutMs)
	assert.Empty(t, c.Notes, "nothing was adjusted")
}

// TestConfigAccepted covers the configurations Kafka accepts, some of them
// silently adjusted (ProducerConfig.postProcessAndValidateIdempotenceConfigs,
// KafkaProducer.configureDeliveryTimeout).
func TestConfigAccepted(t *testing.T) {
	tests := []struct {
		name        string
		props       map[string]string
		acks        int8
		idempotence bool
		inFlight    int
		delivery    int
		notes       []string
	}{
		{
			// Fact 2: not explicit, acks=1 -> idempotence off, INFO log.
			name:  "acks=1 turns default idempotence off",
			props: map[string]string{"acks": "1"},
			acks:  1, idempotence: false, inFlight: 5, delivery: 120000,
			notes: []string{"Idempotence will be disabled because acks is set to 1, not set to 'all'."},
		},
		{
			name:  "acks=0 turns default idempotence off",
			props: map[string]string{"acks": "0"},
			acks:  0, idempotence: false, inFlight: 5, delivery: 120000,
			notes: []string{"Idempotence will be disabled because acks is set to 0, not set to 'all'."},
		},
		{
			// Fact 3, first half.
			name:  "retries=0 turns default idempotence off",
			props: map[string]string{"retries": "0"},
			acks:  -1, idempotence: false, inFlight: 5, delivery: 120000,
			notes: []string{"Idempotence will be disabled because retries is set to 0."},
		},
		{
			name:  "retries=0 and acks=1 log both reasons, retries first",
			props: map[string]string{"retries": "0", "acks": "1"},
			acks:  1, idempotence: false, inFlight: 5, delivery: 120000,
			notes: []string{
				"Idempotence will be disabled because retries is set to 0.",
				"Idempotence will be disabled because acks is set to 1, not set to 'all'.",
			},
		},
		{
			// §2.2: without idempotence, any max.in.flight >= 1 is legal.
			name:  "enable.idempotence=false allows max.in.flight=10",
			props: map[string]string{"enable.idempotence": "false", "max.in.flight.requests.per.connection": "10"},
			acks:  -1, idempotence: false, inFlight: 10, delivery: 120000,
		},
		{
			name:  "enable.idempotence=false with acks=1 and retries=0 is not adjusted",
			props: map[string]string{"enable.idempotence": "false", "acks": "1", "retries": "0"},
			acks:  1, idempotence: false, inFlight: 5, delivery: 120000,
		},
		{
			name:  "explicit idempotence with max.in.flight=5 is the limit",
			props: map[string]string{"enable.idempotence": "true", "max.in.flight.requests.per.connection": "5"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 120000,
		},
		{
			// §2.2: "all" is normalised to "-1" (ProducerConfig.parseAcks);
			// ConfigDef trims string values before validating.
			name:  "acks=all normalised to -1",
			props: map[string]string{"acks": "all"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 120000,
		},
		{
			name:  "acks=-1 is all",
			props: map[string]string{"acks": "-1", "enable.idempotence": "true"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 120000,
		},
		{
			name:  "acks value is trimmed",
			props: map[string]string{"acks": " all "},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 120000,
		},
		{
			// ConfigDef.parseType BOOLEAN: trimmed, case-insensitive.
			name:  "booleans are case-insensitive and trimmed",
			props: map[string]string{"enable.idempotence": " FALSE "},
			acks:  -1, idempotence: false, inFlight: 5, delivery: 120000,
		},
		{
			// Fact 6, second half: a default delivery.timeout.ms below
			// linger.ms + request.timeout.ms is raised with a WARN. The
			// default linger.ms=5 counts: 5 + 120000.
			name:  "default delivery.timeout.ms raised to linger+request",
			props: map[string]string{"request.timeout.ms": "120000"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 120005,
			notes: []string{"delivery.timeout.ms raised to linger.ms + request.timeout.ms = 120005."},
		},
		{
			name:  "default delivery.timeout.ms raised by a long linger",
			props: map[string]string{"linger.ms": "100000"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 130000,
			notes: []string{"delivery.timeout.ms raised to linger.ms + request.timeout.ms = 130000."},
		},
		{
			// "should be equal to or larger than": equality is fine.
			name:  "explicit delivery.timeout.ms equal to linger+request",
			props: map[string]string{"delivery.timeout.ms": "30005"},
			acks:  -1, idempotence: true, inFlight: 5, delivery: 30005,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig(tt.props)
			require.NoError(t, err)
			assert.Equal(t, tt.acks, c.Acks)
			assert.Equal(t, tt.idempotence, c.EnableIdempotence)
			assert.Equal(t, tt.inFlight, c.MaxInFlight)
			assert.Equal(t, tt.delivery, c.DeliveryTimeoutMs)
			assert.Equal(t, tt.notes, c.Notes)
		})
	}
}

// TestConfigRefused covers every refusal with Kafka's exact text: the
// idempotence rules of reference §2.2 (facts 1, 3, 4, 5), the delivery
// timeout rule (fact 6), and ConfigDef's type and range checks.
func TestConfigRefused(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		// Fact 1: explicit idempotence refuses acks other than all.
		{"explicit idempotence with acks=1", map[string]string{"enable.idempotence": "true", "acks": "1"}, msgAcks},
		{"explicit idempotence with acks=0", map[string]string{"enable.idempotence": "true", "acks": "0"}, msgAcks},
		// Fact 3, second half.
		{"explicit idempotence with retries=0", map[string]string{"enable.idempotence": "true", "retries": "0"}, msgRetries},
		// retries is checked before acks in postProcessAndValidateIdempotenceConfigs.
		{"explicit idempotence, retries=0 and acks=1", map[string]string{"enable.idempotence": "true", "retries": "0", "acks": "1"}, msgRetries},
		// Fact 4, 4.0 (KAFKA-17927, PR #17717): an error whether
		// idempotence is explicit or by default.
		{"explicit idempotence with max.in.flight=6", map[string]string{"enable.idempotence": "true", "max.in.flight.requests.per.connection": "6"}, msgInFlight6},
		{"default idempotence with max.in.flight=6", map[string]string{"max.in.flight.requests.per.connection": "6"}, msgInFlight6},
		// In 4.0 the max.in.flight check sits inside `if (idempotenceEnabled)`
		// and throws even when acks or retries already decided to turn the
		// default idempotence off.
		{"acks=1 by default idempotence with max.in.flight=6", map[string]string{"acks": "1", "max.in.flight.requests.per.connection": "6"}, msgInFlight6},
		{"retries=0 by default idempotence with max.in.flight=6", map[string]string{"retries": "0", "max.in.flight.requests.per.connection": "6"}, msgInFlight6},
		{"max.in.flight=0", map[string]string{"max.in.flight.requests.per.connection": "0"},
			"Invalid value 0 for configuration max.in.flight.requests.per.connection: Value must be at least 1"},
		// Fact 5: checked after idempotence was turned off by acks=1.
		{"transactional.id with acks=1", map[string]string{"transactional.id": "tx", "acks": "1"}, msgTxnNoIdem},
		{"transactional.id with enable.idempotence=false", map[string]string{"transactional.id": "tx", "enable.idempotence": "false"}, msgTxnNoIdem},
		// Fact 6, first half: an explicit value below 5 + 30000.
		{"explicit delivery.timeout.ms below linger+request", map[string]string{"delivery.timeout.ms": "30004"}, msgDelivery},
		{"explicit delivery.timeout.ms below a long linger", map[string]string{"delivery.timeout.ms": "120000", "linger.ms": "100000"}, msgDelivery},
		// ConfigDef.parseType and its validators.
		{"linger.ms not a long", map[string]string{"linger.ms": "abc"},
			"Invalid value abc for configuration linger.ms: Not a number of type LONG"},
		{"batch.size not an int", map[string]string{"batch.size": "1.5"},
			"Invalid value 1.5 for configuration batch.size: Not a number of type INT"},
		{"retries beyond int range", map[string]string{"retries": "2147483648"},
			"Invalid value 2147483648 for configuration retries: Not a number of type INT"},
		{"batch.size negative", map[string]string{"batch.size": "-1"},
			"Invalid value -1 for configuration batch.size: Value must be at least 0"},
		{"linger.ms negative", map[string]string{"linger.ms": "-5"},
			"Invalid value -5 for configuration linger.ms: Value must be at least 0"},
		// No validator in Kafka; the simulator's own bound says so.
		{"socket.connection.setup.timeout.ms negative", map[string]string{"socket.connection.setup.timeout.ms": "-5"},
			"Invalid value -5 for configuration socket.connection.setup.timeout.ms: Kafka accepts it, but the simulator takes at least 0: a connection would time out before it was attempted"},
		{"socket.connection.setup.timeout.max.ms negative", map[string]string{"socket.connection.setup.timeout.max.ms": "-1"},
			"Invalid value -1 for configuration socket.connection.setup.timeout.max.ms: Kafka accepts it, but the simulator takes at least 0: a connection would time out before it was attempted"},
		{"acks=2", map[string]string{"acks": "2"}, "Invalid value 2 for configuration acks: " + msgAcksOneOf},
		// ValidString is case-sensitive, unlike parseAcks.
		{"acks=ALL", map[string]string{"acks": "ALL"}, "Invalid value ALL for configuration acks: " + msgAcksOneOf},
		{"enable.idempotence=yes", map[string]string{"enable.idempotence": "yes"},
			"Invalid value yes for configuration enable.idempotence: " + msgBoolExpects},
		{"partitioner.ignore.keys=1", map[string]string{"partitioner.ignore.keys": "1"},
			"Invalid value 1 for configuration partitioner.ignore.keys: " + msgBoolExpects},
		// ConfigDef.parse walks the keys in definition order: batch.size is
		// defined before linger.ms, so its error is the one reported.
		{"first error in definition order", map[string]string{"linger.ms": "abc", "batch.size": "-1"},
			"Invalid value -1 for configuration batch.size: Value must be at least 0"},
		// ConfigDef parsing runs before postProcessParsedConfig.
		{"type error before idempotence rules", map[string]string{"enable.idempotence": "true", "acks": "1", "linger.ms": "abc"},
			"Invalid value abc for configuration linger.ms: Not a number of type LONG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig(tt.props)
			require.Error(t, err)
			assert.Nil(t, c)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.want, ce.Message)
		})
	}
}

// TestConfigUnknownProperty: the simulator refuses names it does not know
// (Kafka itself only logs "supplied but not used") and says what it knows.
func TestConfigUnknownProperty(t *testing.T) {
	_, err := NewConfig(map[string]string{"lingr.ms": "10"})
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, `unknown producer property "lingr.ms"`), msg)
	for _, name := range PropertyNames() {
		assert.Contains(t, msg, name)
	}
}

// TestConfigUnknownPropertiesDeterministic: with several unknown names the
// error names the first in sorted order, whatever Go's map order is.
func TestConfigUnknownPropertiesDeterministic(t *testing.T) {
	props := map[string]string{"zz.last": "1", "mm.middle": "1", "aa.first": "1", "linger.ms": "7", "qq.other": "1"}
	for range 50 {
		_, err := NewConfig(props)
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), `unknown producer property "aa.first"`), err.Error())
	}
}

// TestPropertyNamesSortedAndKnown: PropertyNames is sorted and agrees with
// IsProperty.
func TestPropertyNamesSortedAndKnown(t *testing.T) {
	names := PropertyNames()
	require.NotEmpty(t, names)
	assert.IsNonDecreasing(t, names)
	for _, n := range names {
		assert.True(t, IsProperty(n), n)
	}
	assert.False(t, IsProperty("bootstrap.servers.typo"))
}

// TestDeliveryTimeoutWithHugeLinger: KafkaProducer.lingerMs clamps
// linger.ms to Integer.MAX_VALUE before configureDeliveryTimeout adds
// request.timeout.ms in long arithmetic, so linger.ms=Long.MAX_VALUE makes
// the floor Integer.MAX_VALUE: a default delivery.timeout.ms is raised to
// it, an explicit smaller one is refused.
func TestDeliveryTimeoutWithHugeLinger(t *testing.T) {
	const longMax = "9223372036854775807"

	c, err := NewConfig(map[string]string{"linger.ms": longMax})
	require.NoError(t, err)
	assert.Equal(t, math.MaxInt32, c.DeliveryTimeoutMs, "default raised to Integer.MAX_VALUE")

	_, err = NewConfig(map[string]string{"linger.ms": longMax, "delivery.timeout.ms": "120000"})
	require.Error(t, err)
	assert.Equal(t, msgDelivery, err.Error())
}

// TestConfigValidatorErrorShowsParsedValue: ConfigDef.parse hands the
// *parsed* value to the validator (Range, ValidString), and
// ConfigException(name, value, msg) prints that value. A value that parses
// after trimming is therefore shown trimmed: " -1" is reported as "-1".
// Only parse failures ("Not a number", booleans) show the raw text.
func TestConfigValidatorErrorShowsParsedValue(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"range", map[string]string{"batch.size": " -1"},
			"Invalid value -1 for configuration batch.size: Value must be at least 0"},
		{"leading zero", map[string]string{"batch.size": "-01"},
			"Invalid value -1 for configuration batch.size: Value must be at least 0"},
		{"one of", map[string]string{"acks": " 2 "}, "Invalid value 2 for configuration acks: " + msgAcksOneOf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewConfig(tt.props)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

// TestConfigEmptyTransactionalID: ProducerConfig defines transactional.id
// with ConfigDef.NonEmptyString, so an empty value is refused with
// "String must be non-empty" before any idempotence rule runs.
func TestConfigEmptyTransactionalID(t *testing.T) {
	_, err := NewConfig(map[string]string{"transactional.id": ""})
	require.Error(t, err)
	assert.Equal(t, "Invalid value  for configuration transactional.id: String must be non-empty", err.Error())
}

// TestBatchCapacityBounded: a new batch reserves room for what batch.size
// holds, but never more than maxBatchPrealloc record ids (regression:
// batch.size=2147483647 with empty records reserved 2.4 GB per batch).
func TestBatchCapacityBounded(t *testing.T) {
	tests := []struct{ batchSize, recordBytes, want int }{
		{16384, 108, 151},
		{0, 108, 1},
		{16384, 0, maxBatchPrealloc},
		{math.MaxInt32, 7, maxBatchPrealloc},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, batchCapacity(tt.batchSize, tt.recordBytes), "batch.size %d, records of %d bytes", tt.batchSize, tt.recordBytes)
	}
}
