package scenarios

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/codec"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/sim"
)

// plan is a validated scenario turned into what the runner needs.
type plan struct {
	topo        *broker.Topology
	brokerCfg   broker.Config
	brokerProps map[string]string // effective, for the report
	features    map[string]string // effective feature levels, for the report
	payload     codec.ValueKind
	producerCfg *producer.Config
	topic       int   // the workload's topic index
	topics      []int // every topic an application record is written to
	// txnRecords is the application records per transaction, 0 without
	// workload.transactions.
	txnRecords int
	faults     []plannedFault
}

// dataPartitions is the number of partitions of the scenario's own topics,
// which come first in the topology; __transaction_state, when there is
// one, comes after them.
func (pl *plan) dataPartitions() int {
	if t := pl.topo.TopicIndex(broker.TransactionStateTopic); t >= 0 {
		return int(pl.topo.Topics[t].First)
	}
	return len(pl.topo.Partitions)
}

// plannedFault is a fault with its selector parsed.
type plannedFault struct {
	Fault
	kind      *faultKind
	index     int // position in the file, from 1
	sel       selector
	rule      broker.Rule // request-rule: the rule each broker gets a copy of
	direction string
	mode      string      // isolate, partition: drop or reject
	sides     [2][]member // partition: the two groups of nodes
	from      []string
	// producerCfg is the new instance's config when restart-producer
	// switches client.
	producerCfg *producer.Config
	topic       int // add-partitions: the topic's index
}

// member is one entry of a partition's group: a broker selector, or a
// group of nodes that are not brokers ("controller", "producer").
type member struct {
	text  string
	sel   selector
	group string
}

type selectorKind int

const (
	selBroker selectorKind = iota
	selAll
	selCrashed
	selLeader
	selFollower
	selFollowers
)

type selector struct {
	kind      selectorKind
	broker    sim.NodeID
	partition broker.PartitionID
	text      string
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Limits that keep a run finite and its memory bounded.
const (
	maxRecords = 10_000_000     // records one run may send
	maxSpan    = 24 * time.Hour // longest workload, fault time or fault length
	maxLatency = time.Hour      // longest link latency or jitter
	minRate    = 0.01           // records per second
	maxRate    = 1e8
)

// has reports whether the file (or a --set) gave a key, so that an explicit
// 0 is checked rather than mistaken for "use the default".
func (s *Scenario) has(key string) bool {
	_, ok := s.lines[key]
	return ok
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// maxPartitions bounds the partitions of a scenario's topics, one topic's
// or all together (counting those add-partitions faults create), and so
// the number of topics. Kafka has no fixed limit; the simulator keeps
// every partition's replicas, logs and time series in memory.
const maxPartitions = 1000

// maxReplicas bounds the replicas over all topics (partitions times
// replication factor): each is a log, a fetcher and its share of every
// broker's work. Kafka has no fixed limit.
const maxReplicas = 10000

// maxFaults bounds a scenario's fault schedule: each restart-producer adds
// a node for the rest of the run.
const maxFaults = 1000

// checkProperties validates broker properties or topic configs (with
// topicLevel) in file order, and returns their values.
func (s *Scenario) checkProperties(section string, props Properties, topicLevel bool) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range props {
		if known := broker.PropertyNames(topicLevel); !slices.Contains(known, p.Name) {
			kind := "broker property"
			if topicLevel {
				kind = "topic config"
			}
			return nil, s.unknownProperty(section, p.Name, kind, known)
		}
		v, err := broker.CheckProperty(p.Name, p.Value, topicLevel)
		if err != nil {
			return nil, s.errAt(section+"."+p.Name, "%s", err.Error())
		}
		out[p.Name] = v
	}
	return out, nil
}

// unknownProperty is the error for a property the simulator does not
// model at key: the names nearest to it first (a typo's fix), then every
// name it knows.
func (s *Scenario) unknownProperty(section, name, kind string, known []string) *Error {
	hint := ""
	if near := closest(name, known); len(near) > 0 {
		hint = " (did you mean " + strings.Join(near, " or ") + "?)"
	}
	return s.errAt(section+"."+name, "unknown %s %q%s; the simulator models: %s", kind, name, hint, strings.Join(known, ", "))
}

// errAt reports a problem with a key, at the key's line, or as a --set
// problem when --set supplied it.
func (s *Scenario) errAt(key, format string, args ...any) *Error {
	e := &Error{Source: s.Source, Key: key, Msg: fmt.Sprintf(format, args...)}
	for k := key; k != ""; {
		if line, ok := s.lines[k]; ok {
			e.Line, e.Set = line, line == 0
			break
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return e
}

// validate checks everything a run needs and builds the plan. Errors name
// the key and what is allowed.
func (s *Scenario) validate() (*plan, error) {
	pl := &plan{}
	if s.Name == "" {
		return nil, s.errAt("name", "missing; every scenario needs a kebab-case name")
	}
	if !nameRE.MatchString(s.Name) {
		return nil, s.errAt("name", "%q is not kebab-case (lowercase letters, digits and single dashes)", s.Name)
	}
	c := &s.Cluster
	if !s.has("cluster.brokers") {
		c.Brokers = 3
	}
	if c.Brokers < 1 || c.Brokers > 100 {
		return nil, s.errAt("cluster.brokers", "%d is out of range; use 1 to 100", c.Brokers)
	}
	if c.Version == "" {
		c.Version = broker.DefaultVersion.String()
	}
	version, err := broker.ParseVersion(c.Version)
	if err != nil {
		return nil, s.errAt("cluster.version", "%s", err.Error())
	}
	net := &c.Network
	for _, d := range []struct {
		key string
		v   Duration
	}{{"cluster.network.latency", net.Latency}, {"cluster.network.jitter", net.Jitter}} {
		if d.v.Duration > maxLatency {
			return nil, s.errAt(d.key, "%v is more than the %v the simulator allows", d.v.Duration, maxLatency)
		}
	}
	if !c.Network.Latency.Set {
		c.Network.Latency = Duration{Duration: 1e6, Set: true} // 1ms
	}
	if c.Network.Bandwidth.Text == "" {
		c.Network.Bandwidth = Bandwidth{BitsPerSecond: 1e9, Text: "1Gbps"}
	}
	brokerProps, err := s.checkProperties("cluster.broker", c.Broker, false)
	if err != nil {
		return nil, err
	}
	cfg, err := broker.NewConfig(brokerProps)
	if err != nil {
		key := "cluster.broker"
		if ce, ok := err.(*broker.ConfigError); ok && ce.Key != "" {
			key += "." + ce.Key
		}
		return nil, s.errAt(key, "%s", err.Error())
	}
	cfg.Version = version
	if err := cfg.SetFeatures(c.Features.Map()); err != nil {
		key := "cluster.features"
		if ce, ok := err.(*broker.ConfigError); ok && ce.Key != "" {
			key += "." + ce.Key
		}
		return nil, s.errAt(key, "%s", err.Error())
	}
	pl.features = broker.FeatureDefaults(version)
	maps.Copy(pl.features, c.Features.Map())
	pl.brokerProps = broker.PropertyDefaults()
	maps.Copy(pl.brokerProps, brokerProps)
	pl.brokerCfg = cfg

	if len(s.Topics) == 0 {
		return nil, s.errAt("topics", "missing; a scenario needs at least one topic")
	}
	if len(s.Topics) > maxPartitions {
		return nil, s.errAt("topics", "%d topics; the simulator takes at most %d partitions over all topics, so at most %d topics (Kafka has no fixed limit)",
			len(s.Topics), maxPartitions, maxPartitions)
	}
	var topics []broker.Topic
	totalPartitions, totalReplicas := 0, 0
	for i := range s.Topics {
		t := &s.Topics[i]
		key := fmt.Sprintf("topics[%d]", i)
		if !topicRE.MatchString(t.Name) || t.Name == "." || t.Name == ".." {
			return nil, s.errAt(key+".name", "%q is not a legal topic name (1-249 of a-z A-Z 0-9 . _ -)", t.Name)
		}
		if t.Name == broker.TransactionStateTopic {
			return nil, s.errAt(key+".name", "%q is Kafka's internal topic of transaction coordinators; choose another name", t.Name)
		}
		if slices.ContainsFunc(topics, func(o broker.Topic) bool { return o.Name == t.Name }) {
			return nil, s.errAt(key+".name", "topic %q is defined twice", t.Name)
		}
		if !s.has(key + ".partitions") {
			t.Partitions = 1
		}
		if t.Partitions < 1 || t.Partitions > maxPartitions {
			return nil, s.errAt(key+".partitions", "%d is out of range; use 1 to %d", t.Partitions, maxPartitions)
		}
		if !s.has(key + ".replication.factor") {
			t.ReplicationFactor = min(3, c.Brokers)
		}
		if t.ReplicationFactor < 1 {
			return nil, s.errAt(key+".replication.factor", "%d is below 1", t.ReplicationFactor)
		}
		if t.ReplicationFactor > c.Brokers {
			// Kafka's InvalidReplicationFactorException.
			return nil, s.errAt(key+".replication.factor", "Replication factor: %d larger than available brokers: %d.", t.ReplicationFactor, c.Brokers)
		}
		tc, err := s.checkProperties(key+".config", t.Config, true)
		if err != nil {
			return nil, err
		}
		// Partitions that add-partitions faults create are laid out from
		// the start; the controller lists them only once added.
		total := t.Partitions
		for _, f := range s.Faults {
			if f.Do == "add-partitions" && f.Topic == t.Name && f.Partitions <= maxPartitions {
				total = max(total, f.Partitions)
			}
		}
		if totalPartitions += total; totalPartitions > maxPartitions {
			return nil, s.errAt(key+".partitions", "topics[0] to %s have %d partitions in all (counting add-partitions); the simulator takes at most %d over all topics (Kafka has no fixed limit)",
				key, totalPartitions, maxPartitions)
		}
		if totalReplicas += total * t.ReplicationFactor; totalReplicas > maxReplicas {
			return nil, s.errAt(key+".replication.factor", "%d partitions x replication.factor %d bring the replicas over all topics to %d (counting add-partitions); the simulator takes at most %d (Kafka has no fixed limit)",
				total, t.ReplicationFactor, totalReplicas, maxReplicas)
		}
		topic := broker.Topic{Name: t.Name, Partitions: total, Initial: t.Partitions, ReplicationFactor: t.ReplicationFactor}
		if err := cfg.ConfigureTopic(&topic, tc); err != nil {
			return nil, s.errAt(key+".config", "%s", err.Error())
		}
		topics = append(topics, topic)
	}
	for _, p := range s.Producer {
		if p.Name != "client" && !producer.IsProperty(p.Name) {
			return nil, s.unknownProperty("producer", p.Name, "producer property", producer.PropertyNames())
		}
	}
	pcfg, err := producer.NewConfig(s.Producer.Map(), s.classes...)
	if err != nil {
		// Name the property when Kafka's message names one; a rule about a
		// combination points at the producer section, or at --set if a
		// --set took part.
		key, fromSet := "producer", false
		for _, p := range s.Producer {
			if strings.Contains(err.Error(), " "+p.Name+":") || strings.Contains(err.Error(), "\""+p.Name+"\"") {
				key = "producer." + p.Name
			}
			fromSet = fromSet || s.lines["producer."+p.Name] == 0
		}
		e := s.errAt(key, "%s", err.Error())
		if key == "producer" && fromSet {
			e.Line, e.Set = 0, true
		}
		return nil, e
	}
	pl.producerCfg = pcfg
	if pcfg.TransactionalID != "" {
		// Transaction coordinators lead the partitions of the internal
		// __transaction_state topic.
		topics = append(topics, cfg.TransactionStateLog(c.Brokers))
	}
	pl.topo = broker.NewTopology(c.Brokers, topics)

	if err := s.validateWorkload(pl); err != nil {
		return nil, err
	}
	if err := s.validateFaults(pl); err != nil {
		return nil, err
	}
	if err := s.validateExpect(pl); err != nil {
		return nil, err
	}
	return pl, nil
}

func (s *Scenario) validateWorkload(pl *plan) error {
	w := &s.Workload
	tx := &w.Transactions
	if s.has("workload.transactions") {
		if tx.Records < 1 || tx.Records > 1000000 {
			return s.errAt("workload.transactions.records", "%d is out of range; say how many application records make one transaction, 1 to 1000000", tx.Records)
		}
		if tx.AbortEvery < 0 {
			return s.errAt("workload.transactions.abort.every", "%d is negative; use 0 (never abort) or N (abort every N-th transaction)", tx.AbortEvery)
		}
		if w.Topic == "" && len(tx.Topics) > 0 {
			w.Topic = tx.Topics[0]
		}
		pl.txnRecords = tx.Records
	} else if pl.producerCfg.TransactionalID != "" {
		return s.errAt("workload.transactions", "missing; a producer with a transactional.id needs transactions to run, like {records: 10}")
	}
	if w.Topic == "" {
		if len(s.Topics) > 1 {
			return s.errAt("workload.topic", "missing; with several topics, name the one to write to")
		}
		w.Topic = s.Topics[0].Name
	}
	pl.topic = pl.topo.TopicIndex(w.Topic)
	if pl.topic < 0 {
		return s.errAt("workload.topic", "no topic named %q; the topics are: %s", w.Topic, strings.Join(topicNames(s.Topics), ", "))
	}
	pl.topics = []int{pl.topic}
	if len(tx.Topics) > 0 {
		pl.topics = nil
		for i, name := range tx.Topics {
			t := pl.topo.TopicIndex(name)
			if t < 0 || name == broker.TransactionStateTopic {
				return s.errAt(fmt.Sprintf("workload.transactions.topics[%d]", i), "no topic named %q; the topics are: %s", name, strings.Join(topicNames(s.Topics), ", "))
			}
			if slices.Contains(pl.topics, t) {
				return s.errAt(fmt.Sprintf("workload.transactions.topics[%d]", i), "topic %q is listed twice", name)
			}
			pl.topics = append(pl.topics, t)
		}
		if !slices.Contains(pl.topics, pl.topic) {
			return s.errAt("workload.topic", "%q is not among workload.transactions.topics; leave workload.topic out or name one of them", w.Topic)
		}
	}
	if w.Records < 0 {
		return s.errAt("workload.records", "%d is negative", w.Records)
	}
	if !(w.Rate >= minRate && w.Rate <= maxRate) {
		return s.errAt("workload.rate", "must be from %s to %s records per second", FormatNumber(minRate), FormatNumber(maxRate))
	}
	if w.Records == 0 && !s.Duration.Set {
		return s.errAt("duration", "set duration, workload.records, or both: the workload needs a place to stop")
	}
	if s.Duration.Set && (s.Duration.Duration <= 0 || s.Duration.Duration > maxSpan) {
		return s.errAt("duration", "must be above 0 and at most %v", maxSpan)
	}
	if w.Records > 0 && float64(w.Records)/w.Rate > maxSpan.Seconds() && !s.Duration.Set {
		return s.errAt("workload.rate", "%d records at %s per second take longer than %v; raise the rate or set a duration", w.Records, FormatNumber(w.Rate), maxSpan)
	}
	if size := s.size(len(pl.topics)); size.Writes > maxRecords {
		return s.errAt("workload", "this workload %s; the simulator takes at most %d per run", size, maxRecords)
	}
	if w.Keys < 0 || w.Keys > 1e7 {
		return s.errAt("workload.keys", "%d is out of range; use 0 (no keys) to 10000000", w.Keys)
	}
	if w.KeyDistribution == "" {
		w.KeyDistribution = "uniform"
	}
	if !slices.Contains([]string{"uniform", "sequential", "zipf"}, w.KeyDistribution) {
		return s.errAt("workload.key.distribution", "%q is not one of uniform, sequential, zipf", w.KeyDistribution)
	}
	if w.KeyDistribution == "zipf" && w.ZipfS == 0 {
		w.ZipfS = 1.1
	}
	if w.KeyDistribution == "zipf" && !(w.ZipfS > 1 && w.ZipfS <= 100) {
		return s.errAt("workload.zipf.s", "must be above 1 and at most 100")
	}
	if !s.has("workload.value.bytes") {
		w.ValueBytes = 100
	}
	if w.Value == "" {
		w.Value = "json"
	}
	kind, err := codec.ParseValueKind(w.Value)
	if err != nil {
		return s.errAt("workload.value", "%s", err.Error())
	}
	pl.payload = kind
	if w.ValueBytes < 0 || w.ValueBytes > 10<<20 {
		return s.errAt("workload.value.bytes", "%d is out of range; use 0 to 10485760", w.ValueBytes)
	}
	return nil
}

func topicNames(ts []Topic) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func (s *Scenario) validateFaults(pl *plan) error {
	if len(s.Faults) > maxFaults {
		return s.errAt("faults", "%d faults; the simulator takes at most %d in a scenario", len(s.Faults), maxFaults)
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		key := fmt.Sprintf("faults[%d]", i)
		kind := lookupFault(f.Do)
		if kind == nil {
			return s.errAt(key+".do", "%q is not a fault; use one of %s", f.Do, strings.Join(faultKindNames(), ", "))
		}
		if !f.set["at"] {
			return s.errAt(key+".at", "missing; every fault needs a time")
		}
		for _, k := range sortedKeys(f.set) {
			if k != "at" && k != "do" && !slices.Contains(kind.keys, k) {
				return s.errAt(key+"."+k, "does not apply to %s; %s takes: at, do, %s", f.Do, f.Do, strings.Join(kind.keys, ", "))
			}
		}

		for _, d := range []struct {
			key string
			v   Duration
		}{{"at", f.At}, {"for", f.For}, {"by", f.By}, {"power-loss", f.PowerLoss}} {
			if d.v.Duration > maxSpan {
				return s.errAt(key+"."+d.key, "%v is more than the %v the simulator allows", d.v.Duration, maxSpan)
			}
		}
		pf := plannedFault{Fault: *f, kind: kind, index: i + 1, direction: "both"}
		if err := kind.check(s, pl, &pf, key); err != nil {
			return err
		}
		if f.set["for"] && f.For.Duration <= 0 {
			return s.errAt(key+".for", "must be above 0")
		}
		pl.faults = append(pl.faults, pf)
	}
	sort.SliceStable(pl.faults, func(i, j int) bool { return pl.faults[i].At.Duration < pl.faults[j].At.Duration })
	// Kafka refuses a partition count that does not grow the topic
	// (ReplicationControlManager.createPartitions: INVALID_PARTITIONS).
	counts := make([]int, len(pl.topo.Topics))
	for i, t := range pl.topo.Topics {
		counts[i] = t.Initial
	}
	for _, f := range pl.faults {
		if f.Do != "add-partitions" {
			continue
		}
		if f.Partitions <= counts[f.topic] {
			return s.errAt(fmt.Sprintf("faults[%d].partitions", f.index-1), "The topic %s currently has %d partition(s); %d would not be an increase.", f.Topic, counts[f.topic], f.Partitions)
		}
		counts[f.topic] = f.Partitions
	}
	return nil
}

// parseSelector reads a broker selector: an id, "leader T-P", "follower T-P"
// (the first follower in replica order), "followers T-P", "all" or
// "crashed". Leaders and followers are looked up when the fault fires.
func parseSelector(text string, topo *broker.Topology) (selector, error) {
	text = strings.TrimSpace(text)
	sel := selector{text: text}
	switch text {
	case "all":
		sel.kind = selAll
		return sel, nil
	case "crashed":
		// It selects a broker stopped by shutdown too.
		sel.kind, sel.text = selCrashed, "every stopped broker (crashed or shut down)"
		return sel, nil
	}
	if id, err := strconv.Atoi(text); err == nil {
		if id < 1 || id > topo.Brokers {
			return sel, fmt.Errorf("no broker %d; broker ids are 1 to %d", id, topo.Brokers)
		}
		sel.kind, sel.broker, sel.text = selBroker, sim.NodeID(id), fmt.Sprintf("broker-%d", id)
		return sel, nil
	}
	role, tp, ok := strings.Cut(text, " ")
	kinds := map[string]selectorKind{"leader": selLeader, "follower": selFollower, "followers": selFollowers}
	kind, known := kinds[role]
	if !ok || !known {
		return sel, fmt.Errorf("%q is not a broker selector; use an id, \"leader T-P\", \"follower T-P\", \"followers T-P\", \"all\" or \"crashed\"", text)
	}
	t, p, err := parseTopicPartition(strings.TrimSpace(tp), topo)
	if err != nil {
		return sel, err
	}
	if kind != selLeader && topo.Topics[t].ReplicationFactor < 2 {
		return sel, fmt.Errorf("%s has replication factor 1, so it has no followers", topo.Topics[t].Name)
	}
	sel.kind, sel.partition = kind, topo.ID(t, p)
	return sel, nil
}

// parseTopicPartition reads "topic-partition", like orders-0, as Kafka
// prints a TopicPartition: the topic's index and the partition number.
func parseTopicPartition(tp string, topo *broker.Topology) (topic, partition int, err error) {
	dash := strings.LastIndex(tp, "-")
	if dash < 0 {
		return 0, 0, fmt.Errorf("%q does not name a partition; write topic-partition, like orders-0", tp)
	}
	t := topo.TopicIndex(tp[:dash])
	if t < 0 {
		return 0, 0, fmt.Errorf("no topic %q in %q", tp[:dash], tp)
	}
	p, err := strconv.Atoi(tp[dash+1:])
	if err != nil || p < 0 || p >= topo.Topics[t].Partitions {
		return 0, 0, fmt.Errorf("%s has partitions 0 to %d, so %q names none of them", tp[:dash], topo.Topics[t].Partitions-1, tp)
	}
	return t, p, nil
}

// Size is how much a scenario's workload does, what the bounds on a run
// are checked against.
type Size struct {
	// Span is how long the workload sends: until duration or after its
	// records, whichever comes first.
	Span time.Duration
	// Records is about how many records it sends, and Writes how many the
	// cluster stores: each record goes to every topic of
	// workload.transactions.topics.
	Records, Writes float64
	Topics          int
}

// String says the size in words: "sends about 8000 records" or, with
// several topics, "writes about 16000 records (8000 to each of 2 topics)".
func (z Size) String() string {
	if z.Topics > 1 {
		return fmt.Sprintf("writes about %.0f records (%.0f to each of %d topics)", z.Writes, z.Records, z.Topics)
	}
	return fmt.Sprintf("sends about %.0f records", z.Records)
}

// Size is the size of a parsed scenario's workload.
func (s *Scenario) Size() Size { return s.size(len(s.plan.topics)) }

func (s *Scenario) size(topics int) Size {
	w := &s.Workload
	// In seconds first: records/rate may be far past what a Duration holds.
	secs := maxSpan.Seconds()
	if s.Duration.Set {
		secs = s.Duration.Seconds()
	}
	records := w.Rate * secs
	if w.Records > 0 {
		secs = min(secs, float64(w.Records)/w.Rate)
		records = min(records, float64(w.Records))
	}
	return Size{Span: time.Duration(secs * float64(time.Second)), Records: records, Writes: records * float64(topics), Topics: topics}
}
