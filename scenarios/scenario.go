// Package scenarios reads scenario files, holds the built-in lesson
// catalogue, runs a scenario (cluster, producer, workload, faults, then the
// end-of-run drain, heal and converge steps), audits the final logs against
// what the producer was told, and evaluates expectations.
package scenarios

import (
	"time"

	"github.com/kafkasim/kafkasim/producer"
)

// Scenario is one scenario file (contract 1 of ARCHITECTURE.md).
type Scenario struct {
	Name   string `yaml:"name"`
	Title  string `yaml:"title"`
	Lesson string `yaml:"lesson"`
	// Question is what the lesson asks, in one sentence (LESSONS.md's
	// Question line); optional.
	Question string       `yaml:"question"`
	Seed     uint64       `yaml:"seed"`
	Duration Duration     `yaml:"duration"`
	Cluster  Cluster      `yaml:"cluster"`
	Topics   []Topic      `yaml:"topics"`
	Producer Properties   `yaml:"producer"`
	Workload Workload     `yaml:"workload"`
	Faults   []Fault      `yaml:"faults"`
	Expect   Expectations `yaml:"expect"`

	// Source names where the scenario came from, for error messages.
	Source string `yaml:"-"`
	lines  map[string]int
	plan   *plan
	// sets are the --set arguments applied to the file, for the report.
	sets []string
	// classes are the partitioners Load or Parse was given.
	classes []producer.PartitionerClass
}

// Cluster describes the brokers and the network between nodes.
type Cluster struct {
	Brokers int `yaml:"brokers"`
	// Version is the Kafka release whose broker behaviour to model. Only
	// behaviour that changed between releases depends on it: before 3.7 the
	// high watermark advanced with the ISR below min.insync.replicas.
	Version string `yaml:"version"`
	// Features are the levels of Kafka's feature flags, set as
	// kafka-storage.sh format --feature NAME=LEVEL sets them on a new
	// cluster; one left out takes the level a new cluster of Version
	// gets (transaction.version: 2 from 4.0;
	// eligible.leader.replicas.version: 1 from 4.1).
	Features Properties `yaml:"features"`
	Broker   Properties `yaml:"broker"`
	Network  Network    `yaml:"network"`
}

// Network is the default behaviour of every link.
type Network struct {
	Latency   Duration  `yaml:"latency"`
	Jitter    Duration  `yaml:"jitter"`
	Bandwidth Bandwidth `yaml:"bandwidth"`
}

// Topic is a topic to create before the run.
type Topic struct {
	Name              string     `yaml:"name"`
	Partitions        int        `yaml:"partitions"`
	ReplicationFactor int        `yaml:"replication.factor"`
	Config            Properties `yaml:"config"`
}

// Workload is what the application sends.
type Workload struct {
	Topic           string  `yaml:"topic"`
	Records         int     `yaml:"records"`
	Rate            float64 `yaml:"rate"`
	Keys            int     `yaml:"keys"`
	KeyDistribution string  `yaml:"key.distribution"`
	ZipfS           float64 `yaml:"zipf.s"`
	ValueBytes      int     `yaml:"value.bytes"`
	// Value is what values look like (json, text, random), which decides
	// how well they compress.
	Value string `yaml:"value"`
	// Transactions groups the application's records into units that
	// belong together: with a transactional.id, Kafka transactions.
	Transactions TxnWorkload `yaml:"transactions"`
}

// TxnWorkload is workload.transactions: every application record is
// written to each topic in Topics, Records of them make one transaction
// (a business event's writes, atomic with a transactional.id), and every
// AbortEvery-th transaction the application aborts instead of committing.
type TxnWorkload struct {
	Records    int      `yaml:"records"`
	Topics     []string `yaml:"topics"`
	AbortEvery int      `yaml:"abort.every"`
}

// Fault is one entry of the fault schedule. Which keys apply depends on Do.
type Fault struct {
	At            Duration `yaml:"at"`
	Do            string   `yaml:"do"`
	Broker        string   `yaml:"broker"`
	From          []string `yaml:"from"`
	Direction     string   `yaml:"direction"`
	Mode          string   `yaml:"mode"`
	Between       []string `yaml:"between"`
	And           []string `yaml:"and"`
	For           Duration `yaml:"for"`
	Count         int      `yaml:"count"`
	API           string   `yaml:"api"`
	Partition     string   `yaml:"partition"`
	Answer        string   `yaml:"answer"`
	When          string   `yaml:"when"`
	By            Duration `yaml:"by"`
	PowerLoss     Duration `yaml:"power-loss"`
	ResendUnacked bool     `yaml:"resend-unacked"`
	Client        string   `yaml:"client"`
	Topic         string   `yaml:"topic"`
	Partitions    int      `yaml:"partitions"`

	set map[string]bool // keys present in the file
}

// Duration is a Go duration in a scenario file ("250ms", "2s").
type Duration struct {
	time.Duration
	Set bool
}

// Bandwidth is a link speed in bits per second ("1Gbps", "100Mbps").
type Bandwidth struct {
	BitsPerSecond int64
	Text          string
}

// Property is one Kafka property as written in the file.
type Property struct {
	Name  string
	Value string
}

// Properties keeps Kafka properties in file order.
type Properties []Property

// Get returns a property's value and whether it is set.
func (ps Properties) Get(name string) (string, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Map is the properties as a map, for Kafka-style validation.
func (ps Properties) Map() map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}

// Expectation is one `expect` entry: a report path and a condition.
type Expectation struct {
	Path string
	Want string
}

// Expectations keep file order.
type Expectations []Expectation
