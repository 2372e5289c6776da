package web

import (
	"strconv"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/scenarios"
)

// field is one input of the form: a setting a learner changes, named as
// Kafka names it. Its value becomes `--set Key=value`, so it is checked,
// and refused with the message, exactly as the command line does.
type field struct {
	Key   string // the --set key, and the input's name
	Label string // Kafka's name for it, or the scenario file's
	// Choices are suggestions (an HTML datalist): any text may be typed,
	// and a bad one gets the command line's message.
	Choices []string
	// Default is Kafka's default ("" where Kafka has none: the
	// simulator's own settings).
	Default string
	// lesson is the value the scenario runs with when the field is empty.
	lesson func(s *scenarios.Scenario) string
}

// producerField is a producer property: its default from producer's table.
func producerField(name string, choices ...string) field {
	def := ""
	for _, d := range producer.Defaults() {
		if d.Name == name {
			def = d.Value
		}
	}
	return field{Key: "producer." + name, Label: name, Choices: choices, Default: def,
		lesson: func(s *scenarios.Scenario) string {
			// The value in effect, which a setting may change in passing
			// (acks=1 turns enable.idempotence off unless it is set).
			if cfg, err := producer.NewConfig(s.Producer.Map()); err == nil {
				return cfg.Effective()[name]
			}
			if v, ok := s.Producer.Get(name); ok {
				return v
			}
			return def
		}}
}

// workloadTopic is the topic the workload writes to.
func workloadTopic(s *scenarios.Scenario) *scenarios.Topic {
	for i := range s.Topics {
		if s.Topics[i].Name == s.Workload.Topic {
			return &s.Topics[i]
		}
	}
	return &scenarios.Topic{}
}

// brokerValue is a broker property's value in the scenario: the workload
// topic's config, else the cluster's, else Kafka's default.
func brokerValue(s *scenarios.Scenario, name string, topicLevel bool) string {
	if topicLevel {
		if v, ok := workloadTopic(s).Config.Get(name); ok {
			return v
		}
	}
	if v, ok := s.Cluster.Broker.Get(name); ok {
		return v
	}
	return broker.PropertyDefaults()[name]
}

// fields are the form's inputs, in the order shown: the properties the
// lessons turn, then the cluster, the workload and the seed.
var fields = []field{
	producerField("acks", "all", "1", "0"),
	producerField("enable.idempotence", "true", "false"),
	producerField("retries", "0", "2147483647"),
	producerField("max.in.flight.requests.per.connection", "1", "5"),
	producerField("linger.ms", "0", "5", "50"),
	producerField("batch.size", "16384", "65536"),
	producerField("compression.type", "none", "gzip", "snappy", "lz4", "zstd"),
	producerField("partitioner.class", producer.PartitionerBuiltIn, "org.apache.kafka.clients.producer.RoundRobinPartitioner",
		"librdkafka:consistent_random", "sarama:hash"),
	producerField("delivery.timeout.ms", "120000", "5000"),
	{Key: "topic.min.insync.replicas", Label: "min.insync.replicas", Choices: []string{"1", "2", "3"},
		Default: broker.PropertyDefaults()["min.insync.replicas"],
		lesson:  func(s *scenarios.Scenario) string { return brokerValue(s, "min.insync.replicas", true) }},
	{Key: "topic.unclean.leader.election.enable", Label: "unclean.leader.election.enable", Choices: []string{"false", "true"},
		Default: broker.PropertyDefaults()["unclean.leader.election.enable"],
		lesson:  func(s *scenarios.Scenario) string { return brokerValue(s, "unclean.leader.election.enable", true) }},
	{Key: "topic.replication.factor", Label: "replication.factor", Choices: []string{"1", "2", "3"},
		lesson: func(s *scenarios.Scenario) string { return strconv.Itoa(workloadTopic(s).ReplicationFactor) }},
	{Key: "cluster.brokers", Label: "brokers", Choices: []string{"1", "3", "5"},
		lesson: func(s *scenarios.Scenario) string { return strconv.Itoa(s.Cluster.Brokers) }},
	{Key: "cluster.version", Label: "cluster version (Kafka release)", Choices: versions(),
		lesson: func(s *scenarios.Scenario) string {
			if s.Cluster.Version == "" {
				return broker.DefaultVersion.String()
			}
			return s.Cluster.Version
		}},
	{Key: "workload.keys", Label: "workload keys (0: no keys)", Choices: []string{"0", "100"},
		lesson: func(s *scenarios.Scenario) string { return strconv.Itoa(s.Workload.Keys) }},
	{Key: "workload.rate", Label: "workload rate (records/s)", Choices: []string{"1000", "10000"},
		lesson: func(s *scenarios.Scenario) string { return strconv.FormatFloat(s.Workload.Rate, 'f', -1, 64) }},
	{Key: "workload.records", Label: "workload records (0: no limit)", Choices: []string{"1000", "10000"},
		lesson: func(s *scenarios.Scenario) string { return strconv.Itoa(s.Workload.Records) }},
	{Key: "seed", Label: "seed", Choices: []string{"1", "2", "3"},
		lesson: func(s *scenarios.Scenario) string { return strconv.FormatUint(s.Seed, 10) }},
}

func versions() []string {
	var vs []string
	for _, v := range broker.Versions {
		vs = append(vs, v.String())
	}
	return vs
}

// fieldByKey finds a form field by its --set key.
func fieldByKey(key string) (field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return field{}, false
}
