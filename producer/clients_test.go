package producer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClients(t *testing.T) {
	assert.Equal(t, []string{"java", "librdkafka", "sarama"}, Clients())
	d, err := ClientDefaults("java")
	require.NoError(t, err)
	assert.Empty(t, d)
	_, err = ClientDefaults("kafkajs")
	assert.EqualError(t, err, `unknown client "kafkajs"; use one of: java, librdkafka, sarama`)
}

func TestDefaultPartitionerName(t *testing.T) {
	tests := []struct{ client, want string }{
		{"java", "built-in"},
		{"librdkafka", "librdkafka:consistent_random"},
		{"sarama", "sarama:hash"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefaultPartitionerName(tt.client), tt.client)
		_, ok := lookupPartitioner(tt.want, nil)
		assert.True(t, ok, "%s is built in", tt.want)
	}
}

// TestClientDefaultsAreValidJava: every client's defaults are Java
// properties, differ from Java's default, and pass Java's validation
// without being changed (no idempotence silently dropped, no raised
// delivery timeout). partitioner.class is checked against the built-in
// partitioners, since the property table does not know them.
func TestClientDefaultsAreValidJava(t *testing.T) {
	java, err := NewConfig(nil)
	require.NoError(t, err)
	javaDefaults := java.Effective()
	for _, client := range Clients()[1:] {
		t.Run(client, func(t *testing.T) {
			defaults, err := ClientDefaults(client)
			require.NoError(t, err)
			require.NotEmpty(t, defaults)
			props := map[string]string{}
			for _, d := range defaults {
				assert.NotEmpty(t, d.Source, d.Property)
				assert.NotContains(t, props, d.Property, "listed once")
				if d.Property == "partitioner.class" {
					assert.Equal(t, DefaultPartitionerName(client), d.Value)
					continue
				}
				require.True(t, IsProperty(d.Property), d.Property)
				assert.NotEqual(t, javaDefaults[d.Property], d.Value, "%s differs from Java", d.Property)
				props[d.Property] = d.Value
			}
			c, err := NewConfig(props)
			require.NoError(t, err)
			got := c.Effective()
			for k, v := range props {
				assert.Equal(t, v, got[k], k)
			}
		})
	}
}

// TestClientDefaultsKeyValues pins the values the reference (§3.5) and the
// clients' sources name, so that an edit to the tables shows up here.
func TestClientDefaultsKeyValues(t *testing.T) {
	tests := []struct {
		client, property, want string
	}{
		{"librdkafka", "enable.idempotence", "false"},
		{"librdkafka", "batch.size", "1000000"},
		{"librdkafka", "delivery.timeout.ms", "300000"},
		{"librdkafka", "max.in.flight.requests.per.connection", "1000000"},
		{"sarama", "acks", "1"},
		{"sarama", "retries", "3"},
		{"sarama", "linger.ms", "0"},
		{"sarama", "enable.idempotence", "false"},
	}
	for _, tt := range tests {
		defaults, err := ClientDefaults(tt.client)
		require.NoError(t, err)
		got := ""
		for _, d := range defaults {
			if d.Property == tt.property {
				got = d.Value
			}
		}
		assert.Equal(t, tt.want, got, "%s %s", tt.client, tt.property)
	}
}
