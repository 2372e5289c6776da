package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
)

// chaosCase is one random scenario of the chaos test, kept as parts (not
// text) so the shrinker can take it apart.
type chaosCase struct {
	seed       uint64 // the scenario's seed
	durationMs int
	brokers    int
	version    string // cluster.version, "" for the default
	broker     []kv   // cluster.broker properties
	latencyUs  int
	jitterUs   int
	topics     []chaosTopic
	producer   []kv
	records    int
	rate       int
	keys       int
	keyDist    string // workload.key.distribution, "" for the default
	valueBytes int    // workload.value.bytes, 0 for the default
	txnRecords int    // records per transaction, 0 without transactions
	abortEvery int
	faults     []chaosFault
}

type kv struct{ key, value string }

type chaosTopic struct {
	name       string
	partitions int
	rf         int
	config     []kv
}

// chaosFault is one fault: its time, kind, selector and the kind's other
// keys as YAML lines.
type chaosFault struct {
	atMs   int
	do     string
	broker string
	extra  []string
}

// pick returns one of the choices.
func pick[T any](r *rand.Rand, choices ...T) T { return choices[r.IntN(len(choices))] }

// between returns an integer from lo to hi: uniform half the time, and the
// other half on a log scale when the range spans more than ten times, so
// that small values, where limits bite, come up often.
func between(r *rand.Rand, lo, hi int) int {
	if lo >= hi {
		return lo
	}
	if lo > 0 && hi/lo > 10 && r.IntN(2) == 0 {
		span := float64(hi) / float64(lo)
		return min(hi, int(float64(lo)*math.Pow(span, r.Float64())))
	}
	return lo + r.IntN(hi-lo+1)
}

// chaosRange is the range a numeric property is drawn from.
type chaosRange struct {
	key    string
	lo, hi int
}

// chaosBrokerRanges and chaosProducerRanges are the numeric properties a
// case sets, each one time in two (else Kafka's default applies).
var (
	chaosBrokerRanges = []chaosRange{
		{"replica.lag.time.max.ms", 500, 30000}, // not below replica.fetch.wait.max.ms (KafkaConfig)
		{"replica.fetch.wait.max.ms", 10, 500},
		{"replica.fetch.backoff.ms", 10, 1000},
		{"replica.fetch.max.bytes", 1024, 1048576},
		{"replica.socket.timeout.ms", 500, 30000},
		{"replica.fetch.min.bytes", 1, 4096},
	}
	chaosProducerRanges = []chaosRange{
		{"batch.size", 512, 65536},
		{"retry.backoff.ms", 1, 500},
		{"retry.backoff.max.ms", 500, 2000},
		{"reconnect.backoff.ms", 1, 200},
		{"reconnect.backoff.max.ms", 200, 2000},
		{"buffer.memory", 65536, 33554432},
		{"max.block.ms", 0, 60000},
		{"max.request.size", 65536, 1048576},
		{"metadata.max.age.ms", 100, 300000},
		{"partitioner.availability.timeout.ms", 0, 5000},
		{"socket.connection.setup.timeout.ms", 100, 10000},
	}
)

// randomCase draws a valid scenario: the producer, broker and topic
// properties that change behaviour under faults, each within the range
// Kafka accepts but cut to keep every case small (a few thousand records,
// seconds of virtual time, timeouts well above a round trip: the extremes
// are the run budgets' concern); a random topology; and a schedule of
// every fault kind.
func randomCase(r *rand.Rand) chaosCase {
	c := chaosCase{
		seed:       r.Uint64N(1 << 20),
		durationMs: between(r, 500, 6000),
		brokers:    between(r, 1, 5),
		latencyUs:  between(r, 0, 5000),
		jitterUs:   between(r, 0, 2000),
	}
	// A property is set one time in two, else Kafka's default applies.
	maybe := func(props *[]kv, key string, value func() string) {
		if r.IntN(2) == 0 {
			*props = append(*props, kv{key, value()})
		}
	}
	num := func(lo, hi int) func() string { return func() string { return fmt.Sprint(between(r, lo, hi)) } }
	boolean := func() string { return fmt.Sprint(r.IntN(2) == 0) }

	heartbeat := between(r, 50, 2000)
	c.broker = append(c.broker, kv{"broker.heartbeat.interval.ms", fmt.Sprint(heartbeat)},
		kv{"broker.session.timeout.ms", fmt.Sprint(heartbeat * between(r, 2, 6))})
	for _, p := range chaosBrokerRanges {
		maybe(&c.broker, p.key, num(p.lo, p.hi))
	}
	maybe(&c.broker, "unclean.leader.election.enable", boolean)
	maybe(&c.broker, "cost.per.request", func() string { return fmt.Sprintf("%dus", between(r, 0, 500)) })
	if r.IntN(4) == 0 {
		c.version = pick(r, "3.6", "3.7", "3.9", "4.0", "4.1", "4.4")
	}

	rf := between(r, 1, min(3, c.brokers))
	c.topics = []chaosTopic{{name: "t", partitions: between(r, 1, 6), rf: rf}}
	// min.insync.replicas 2 comes up often: it is where the promise not
	// to lose acknowledged records applies.
	maybe(&c.topics[0].config, "min.insync.replicas", func() string { return fmt.Sprint(pick(r, 1, 2, 2, rf)) })
	maybe(&c.topics[0].config, "unclean.leader.election.enable", boolean)

	acks := pick(r, "0", "1", "all", "all", "all")
	idem := acks == "all" && r.IntN(3) > 0
	c.producer = []kv{{"acks", acks}, {"enable.idempotence", fmt.Sprint(idem)}}
	inflight := between(r, 1, 10)
	if idem {
		inflight = between(r, 1, 5)
	}
	c.producer = append(c.producer, kv{"max.in.flight.requests.per.connection", fmt.Sprint(inflight)})
	if !idem {
		maybe(&c.producer, "retries", num(0, 10))
	}
	linger := between(r, 0, 50)
	request := between(r, 100, 30000)
	c.producer = append(c.producer, kv{"linger.ms", fmt.Sprint(linger)}, kv{"request.timeout.ms", fmt.Sprint(request)},
		kv{"delivery.timeout.ms", fmt.Sprint(linger + request + between(r, 0, 60000))})
	for _, p := range chaosProducerRanges {
		maybe(&c.producer, p.key, num(p.lo, p.hi))
	}
	maybe(&c.producer, "compression.type", func() string { return pick(r, "none", "gzip", "snappy", "lz4", "zstd") })
	maybe(&c.producer, "partitioner.ignore.keys", boolean)
	maybe(&c.producer, "partitioner.adaptive.partitioning.enable", boolean)

	// One run in three with idempotence is transactional: a second topic,
	// transactions of random size, some aborted.
	if idem && r.IntN(3) == 0 {
		c.topics = append(c.topics, chaosTopic{name: "u", partitions: between(r, 1, 3), rf: rf})
		c.producer = append(c.producer, kv{"transactional.id", fmt.Sprintf("app-%d", r.IntN(100))},
			kv{"transaction.timeout.ms", fmt.Sprint(between(r, 1000, 60000))})
		// __transaction_state needs as many brokers as its replication factor.
		stateRF := min(3, c.brokers)
		c.broker = append(c.broker, kv{"transaction.state.log.replication.factor", fmt.Sprint(stateRF)},
			kv{"transaction.state.log.min.isr", fmt.Sprint(min(2, stateRF))})
		c.txnRecords, c.abortEvery = between(r, 1, 20), r.IntN(5)
	}
	c.rate = between(r, 100, 2000)
	c.records = min(between(r, 10, 3000), c.rate*c.durationMs/1000+1)
	c.keys = pick(r, 0, between(r, 1, 100))
	if c.keys > 0 && r.IntN(3) == 0 {
		c.keyDist = pick(r, "sequential", "zipf")
	}
	if r.IntN(3) == 0 {
		c.valueBytes = between(r, 1, 4000)
	}

	space := faultSpace{durationMs: c.durationMs, topic: "t", partitions: c.topics[0].partitions, kinds: faultKinds,
		selectors: faultSelectors("t", c.brokers, rf, c.txnRecords > 0)}
	for range between(r, 0, 5) {
		f := randomFault(r, space)
		// Each add-partitions must grow the topic: keep the first.
		if f.do == "add-partitions" && slices.ContainsFunc(c.faults, func(g chaosFault) bool { return g.do == f.do }) {
			continue
		}
		c.faults = append(c.faults, f)
	}
	return c
}

// faultSpace is what a fault is drawn within: the run's duration, the
// topic the faults aim at (its partition 0 stands for all), the broker
// selectors and the kinds of fault.
type faultSpace struct {
	durationMs int
	topic      string
	partitions int
	selectors  []string
	kinds      []faultKind
	// powerLoss: a crash is a power loss half the time (losing the
	// writes of the last 30s, Linux's dirty_expire_centisecs). The hunt
	// draws it; chaos does not, so its cases stay as they were drawn.
	powerLoss bool
}

// faultSelectors are the broker selectors a fault may use in a cluster of
// brokers whose topic has replication factor rf.
func faultSelectors(topic string, brokers, rf int, transactional bool) []string {
	selectors := []string{"all", "crashed", "leader " + topic + "-0"}
	for b := 1; b <= brokers; b++ {
		selectors = append(selectors, fmt.Sprint(b))
	}
	if rf > 1 {
		selectors = append(selectors, "follower "+topic+"-0", "followers "+topic+"-0")
	}
	if transactional {
		selectors = append(selectors, "coordinator")
	}
	return selectors
}

// randomRule draws a request rule's keys: any API, a topic or partition
// filter where the API has one, any answer a broker can give (or lost),
// before or after handling.
func randomRule(r *rand.Rand, topic, countOrFor string) []string {
	api := pick(r, broker.APINames()...)
	answer := "lost"
	if r.IntN(4) > 0 {
		answer = pick(r, broker.RuleErrors()...)
	}
	keys := []string{"api: " + api, "answer: " + answer, "when: " + pick(r, "before", "after"), countOrFor}
	if a, _ := broker.ParseAPI(api); a.HasTopics() && r.IntN(2) == 0 {
		if a == broker.APIMetadata || r.IntN(2) == 0 {
			keys = append(keys, "topic: "+topic)
		} else {
			keys = append(keys, "partition: "+topic+"-0")
		}
	}
	return keys
}

// randomFault draws one fault of one of the space's kinds.
func randomFault(r *rand.Rand, space faultSpace) chaosFault {
	selectors := space.selectors
	f := chaosFault{atMs: r.IntN(space.durationMs + 1), do: space.kinds[r.IntN(len(space.kinds))].name}
	forMs := func() string { return fmt.Sprintf("for: %dms", between(r, 10, 10000)) }
	countOrFor := func() string {
		if r.IntN(2) == 0 {
			return fmt.Sprintf("count: %d", between(r, 1, 5))
		}
		return forMs()
	}
	switch f.do {
	case "crash":
		f.broker = pick(r, selectors...)
		if space.powerLoss && r.IntN(2) == 0 {
			f.extra = []string{"power-loss: 30s"}
		}
	case "shutdown", "restart":
		f.broker = pick(r, selectors...)
	case "pause":
		f.broker = pick(r, selectors...)
		f.extra = []string{forMs()}
	case "isolate":
		f.broker = pick(r, selectors...)
		f.extra = []string{"from: [" + pick(r, "brokers", "controller", "producer", "brokers, controller", "brokers, controller, producer") + "]",
			"direction: " + pick(r, "both", "in", "out"), "mode: " + pick(r, "drop", "reject")}
		if r.IntN(2) == 0 {
			f.extra = append(f.extra, forMs())
		}
	case "partition":
		// Two groups drawn from the selectors (less "all" and "crashed",
		// which name brokers anyway) and the other nodes.
		nodes := append([]string{"brokers", "controller", "producer"}, selectors[2:]...)
		group := func() string {
			g := []string{pick(r, nodes...)}
			if r.IntN(2) == 0 {
				g = append(g, pick(r, nodes...))
			}
			return "[" + strings.Join(g, ", ") + "]"
		}
		a, b := group(), group()
		if a == b && a != "[brokers]" {
			b = "[brokers]" // a node and itself have no link between them: refused
		}
		f.extra = []string{"between: " + a, "and: " + b, "direction: " + pick(r, "both", "in", "out")}
		if r.IntN(4) == 0 {
			f.extra = append(f.extra, fmt.Sprintf("by: %dms", between(r, 1, 500)))
		} else {
			f.extra = append(f.extra, "mode: "+pick(r, "drop", "reject"))
		}
		if r.IntN(4) != 0 {
			f.extra = append(f.extra, forMs())
		}
	case "delay":
		f.broker = pick(r, selectors...)
		f.extra = []string{fmt.Sprintf("by: %dms", between(r, 1, 500)), forMs()}
	case "request-rule":
		f.broker = pick(r, selectors...)
		f.extra = randomRule(r, space.topic, countOrFor())
	case "restart-producer":
		f.extra = []string{fmt.Sprintf("resend-unacked: %v", r.IntN(2) == 0)}
		if r.IntN(4) == 0 {
			f.extra = append(f.extra, "client: "+pick(r, "java", "librdkafka", "sarama"))
		}
	case "add-partitions":
		f.extra = []string{"topic: " + space.topic, fmt.Sprintf("partitions: %d", space.partitions+between(r, 1, 4))}
	case "start-zombie", "freeze-app":
		f.extra = []string{forMs()}
	default:
		panic("randomFault: no generator for fault kind " + f.do)
	}
	return f
}

// yaml writes the case as a scenario file.
func (c chaosCase) yaml() string {
	var b strings.Builder
	props := func(indent string, ps []kv) {
		for _, p := range ps {
			fmt.Fprintf(&b, "%s%s: %q\n", indent, p.key, p.value)
		}
	}
	fmt.Fprintf(&b, "name: chaos\nseed: %d\nduration: %dms\n", c.seed, c.durationMs)
	fmt.Fprintf(&b, "cluster:\n  brokers: %d\n", c.brokers)
	if c.version != "" {
		fmt.Fprintf(&b, "  version: %q\n", c.version)
	}
	if len(c.broker) > 0 {
		b.WriteString("  broker:\n")
		props("    ", c.broker)
	}
	fmt.Fprintf(&b, "  network:\n    latency: %dus\n    jitter: %dus\n", c.latencyUs, c.jitterUs)
	b.WriteString("topics:\n")
	for _, t := range c.topics {
		fmt.Fprintf(&b, "  - name: %s\n    partitions: %d\n    replication.factor: %d\n", t.name, t.partitions, t.rf)
		if len(t.config) > 0 {
			b.WriteString("    config:\n")
			props("      ", t.config)
		}
	}
	b.WriteString("producer:\n")
	props("  ", c.producer)
	fmt.Fprintf(&b, "workload:\n  topic: t\n  records: %d\n  rate: %d\n  keys: %d\n", c.records, c.rate, c.keys)
	switch c.keyDist {
	case "zipf":
		b.WriteString("  key.distribution: zipf\n  zipf.s: 1.2\n")
	case "sequential":
		b.WriteString("  key.distribution: sequential\n")
	}
	if c.valueBytes > 0 {
		fmt.Fprintf(&b, "  value.bytes: %d\n", c.valueBytes)
	}
	if c.txnRecords > 0 {
		topics := []string{}
		for _, t := range c.topics {
			topics = append(topics, t.name)
		}
		fmt.Fprintf(&b, "  transactions:\n    records: %d\n    topics: [%s]\n    abort.every: %d\n", c.txnRecords, strings.Join(topics, ", "), c.abortEvery)
	}
	writeFaults(&b, c.faults)
	return b.String()
}

// writeFaults writes a fault schedule as the YAML of a scenario's faults.
func writeFaults(b *strings.Builder, faults []chaosFault) {
	if len(faults) > 0 {
		b.WriteString("faults:\n")
	}
	for _, f := range faults {
		fmt.Fprintf(b, "  - at: %dms\n    do: %s\n", f.atMs, f.do)
		if f.broker != "" {
			fmt.Fprintf(b, "    broker: %s\n", f.broker)
		}
		for _, x := range f.extra {
			fmt.Fprintf(b, "    %s\n", x)
		}
	}
}

// shrink makes a failing case smaller while it keeps failing: greedily, it
// takes the first smaller variant that still fails, and starts again from
// it, until no variant fails or the budget of runs is spent.
func shrink[T any](c T, smaller func(T) []T, fails func(T) bool, budget int) T {
	c, _, _ = shrinkFirst(c, smaller, func(vs []T) int { return slices.IndexFunc(vs, fails) }, budget)
	return c
}

// shrinkFirst is shrink with the variants of a step judged together:
// first returns the index of the first one that fails, -1 for none, so a
// caller may run them at once. It returns the smallest failing case, the
// runs spent (as if judged one by one, up to the first that fails) and
// whether it ended because no variant failed, rather than on the budget.
func shrinkFirst[T any](c T, smaller func(T) []T, first func([]T) int, budget int) (small T, runs int, done bool) {
	for runs < budget {
		all := smaller(c)
		vs := all[:min(len(all), budget-runs)]
		k := first(vs)
		if k < 0 {
			return c, runs + len(vs), len(vs) == len(all)
		}
		runs += k + 1
		c = vs[k]
	}
	return c, runs, false
}

// smaller lists the case's one-step reductions, the biggest cuts first:
// drop a fault, drop the transactions, halve the records and the duration,
// fewer partitions, brokers and keys, and each property back to its
// default.
func (c chaosCase) smaller() []chaosCase {
	var out []chaosCase
	variant := func(change func(v *chaosCase)) {
		v := c.clone()
		change(&v)
		out = append(out, v)
	}
	for i := range c.faults {
		variant(func(v *chaosCase) { v.faults = slices.Delete(v.faults, i, i+1) })
	}
	if c.txnRecords > 0 {
		variant(func(v *chaosCase) {
			v.txnRecords, v.abortEvery, v.topics = 0, 0, v.topics[:1]
			v.producer = slices.DeleteFunc(v.producer, func(p kv) bool { return strings.HasPrefix(p.key, "transaction") })
		})
	}
	if c.records > 1 {
		variant(func(v *chaosCase) { v.records /= 2 })
	}
	if c.durationMs > 100 {
		variant(func(v *chaosCase) { v.durationMs /= 2 })
	}
	for i, t := range c.topics {
		if t.partitions > 1 {
			variant(func(v *chaosCase) { v.topics[i].partitions = 1 })
		}
	}
	if c.brokers > 1 {
		variant(func(v *chaosCase) { v.brokers-- })
	}
	if c.keys > 0 {
		variant(func(v *chaosCase) { v.keys, v.keyDist = 0, "" })
	}
	if c.valueBytes > 0 {
		variant(func(v *chaosCase) { v.valueBytes = 0 })
	}
	if c.version != "" {
		variant(func(v *chaosCase) { v.version = "" })
	}
	for i := range c.broker {
		variant(func(v *chaosCase) { v.broker = slices.Delete(v.broker, i, i+1) })
	}
	for i := range c.producer {
		variant(func(v *chaosCase) { v.producer = slices.Delete(v.producer, i, i+1) })
	}
	for i, t := range c.topics {
		for j := range t.config {
			variant(func(v *chaosCase) { v.topics[i].config = slices.Delete(v.topics[i].config, j, j+1) })
		}
	}
	return out
}

// clone copies the case deeply enough that a variant's edits stay its own.
func (c chaosCase) clone() chaosCase {
	v := c
	v.broker, v.producer, v.faults = slices.Clone(c.broker), slices.Clone(c.producer), slices.Clone(c.faults)
	v.topics = slices.Clone(c.topics)
	for i := range v.topics {
		v.topics[i].config = slices.Clone(c.topics[i].config)
	}
	return v
}
