package scenarios

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// HuntProperty is a promise `simulate hunt` looks for a counterexample to:
// the report number that counts its violations, and the faults beyond
// which Kafka does not make it.
type HuntProperty struct {
	Name string
	Says string // what holds, in plain words
	// Paths are the report numbers whose sum counts violations: the
	// counterexample expects those of its run above zero.
	Paths         []string
	transactional bool // needs a transactional producer
	count         func(*Report) int64
	// outside says why a run's faults went beyond what Kafka promises
	// the property under, "" when they did not.
	outside func(*Result) string
}

// HuntProperties is the table of properties a hunt can look for.
var HuntProperties = []HuntProperty{
	{Name: "no-loss", Says: "no acknowledged record is lost", Paths: []string{"records.lost"},
		count: func(r *Report) int64 { return r.Records.Lost }, outside: lossAssumptions},
	{Name: "no-duplicates", Says: "no record is written twice", Paths: []string{"records.duplicated"},
		count: func(r *Report) int64 { return r.Records.Duplicated }, outside: sessionAssumptions},
	{Name: "no-reordering", Says: "records of a key stay in the order they were sent", Paths: []string{"records.reordered"},
		count: func(r *Report) int64 { return r.Records.Reordered }, outside: sessionAssumptions},
	{Name: "exactly-once", Says: "a read_committed consumer sees every committed record once and no aborted one", transactional: true,
		Paths: []string{"consumers.read_committed.aborted_read", "consumers.read_committed.torn_transactions",
			"consumers.read_committed.committed_lost", "records.duplicated"},
		count: func(r *Report) int64 {
			if r.Consumers == nil {
				return 0
			}
			rc := r.Consumers.ReadCommitted
			return rc.AbortedRead + rc.Torn + rc.CommittedLost + r.Records.Duplicated
		},
		outside: txnAssumptions},
}

// HuntPropertyNamed finds a property by name.
func HuntPropertyNamed(name string) (HuntProperty, error) {
	var names []string
	for _, p := range HuntProperties {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return HuntProperty{}, fmt.Errorf("--property %q: use one of %s", name, strings.Join(names, ", "))
}

// HuntOutside are the reasons a violation falls outside what Kafka
// promises the property under, in the order results list them.
var HuntOutside = []string{"a producer restart", "an epoch bump", "a forgotten producer id", "a request rule that lied", "a power loss beyond min.insync.replicas=1", "a power loss"}

// lossAssumptions: Kafka's promise not to lose a committed record holds
// for brokers that tell the truth. It speaks of "at least one in sync
// replica alive" (Kafka's documentation, Design: Replication). A process
// crash keeps the page cache, so no count of brokers down voids it; a
// power loss does not (Kafka does not fsync on append, relying on
// replicas failing independently: broker.rack). The hunt draws power
// losses for min.insync.replicas=1, where one broker's is enough: a leader
// alone in the ISR acknowledged records only it had. Beyond that (several
// brokers, or a topic whose records were on two replicas when
// acknowledged) the loss needs the ISR to shrink to a broker that lost
// power, which only KIP-966's eligible leader replicas (4.1) guard
// against: outside the promise here, as is a request rule that lied.
func lossAssumptions(res *Result) string {
	if n := powerLosses(res); n > 1 || n == 1 && res.run.pl.topo.Topics[res.run.pl.topic].MinInsyncReplicas > 1 {
		return HuntOutside[4]
	}
	return misled(res)
}

// txnAssumptions: exactly-once judges what transactions promise
// (atomicity, one copy), not how durable the topic's settings make a
// committed record: a committed record lost to a power loss is no-loss's
// case (hunt it with --property no-loss), so any power loss is outside.
func txnAssumptions(res *Result) string {
	if powerLosses(res) > 0 {
		return HuntOutside[5]
	}
	return lossAssumptions(res)
}

// powerLosses counts the brokers that lost unflushed writes to a power loss.
func powerLosses(res *Result) int {
	var nodes []sim.NodeID
	for _, e := range res.Trace.Entries() {
		if e.Kind == event.PowerLoss && !slices.Contains(nodes, e.Node) {
			nodes = append(nodes, e.Node)
		}
	}
	return len(nodes)
}

// sessionAssumptions: idempotence promises one copy, in order, within one
// producer session and one producer epoch of a producer id the partitions
// still remember (KafkaProducer's enable.idempotence documentation,
// KIP-360): a restarted producer is a new session that resends what the
// old one had not heard back about, an epoch bump renumbers the
// unfinished batches, and a partition that forgot the producer id
// (producer.id.expiration.ms) takes any sequence.
func sessionAssumptions(res *Result) string {
	switch {
	case misleadingRule(res): // a lie voids every promise, first
		return HuntOutside[3]
	case res.Sessions > 1:
		return HuntOutside[0]
	case epochBumped(res):
		return HuntOutside[1]
	case traced(res, event.ProducerExpired):
		return HuntOutside[2]
	}
	return ""
}

func misled(res *Result) string {
	if misleadingRule(res) {
		return HuntOutside[3]
	}
	return ""
}

// misleadingRule reports whether a request rule that fired told the
// producer something false about what the broker did: an error that is not
// retriable after the broker handled the request (the append or the
// commit happened, the producer hears it failed and the application may
// send it again), or DUPLICATE_SEQUENCE_NUMBER before the broker handled
// it (the producer counts as written a batch that was not). After
// handling, DUPLICATE_SEQUENCE_NUMBER is true: the batch is in the log.
func misleadingRule(res *Result) bool {
	return slices.ContainsFunc(res.run.rules, func(fr firedRule) bool {
		return fr.rule.Fired > 0 && !fr.rule.Lost && lies(fr.rule.Error, fr.rule.After)
	})
}

// lies reports whether answering err before or after the broker handled
// the request tells the producer something false (see misleadingRule).
func lies(err broker.Error, after bool) bool {
	if err == broker.ErrDuplicateSequenceNumber {
		return !after
	}
	return after && !err.Retriable()
}

// epochBumped reports whether a producer bumped its epoch during the run.
func epochBumped(res *Result) bool { return traced(res, event.EpochBump) }

// traced reports whether the run's trace holds an entry of kind k.
func traced(res *Result, k event.Kind) bool {
	return slices.ContainsFunc(res.Trace.Entries(), func(e sim.Entry) bool { return e.Kind == k })
}

// huntKinds are the faults a hunt draws: those that happen to a cluster
// and its clients in production (not delay, add-partitions or a zombie,
// which are a lesson's staging).
var huntKinds = []string{"crash", "restart", "shutdown", "isolate", "partition", "pause", "request-rule", "restart-producer", "freeze-app"}

// Hunt is a scenario ready to run under other fault schedules, looking for
// a counterexample to one property.
type Hunt struct {
	Name     string
	Title    string // the counterexample's title
	Property HuntProperty
	Seed     uint64 // the hunt's seed: schedule i is drawn from (Seed, i) alone
	root     *yaml.Node
	base     []byte // root as YAML, the faults left out
	space    faultSpace
	records  int
	brokers  int
	minNodes int // the fewest brokers the topics' replication factors allow
	// entries is the room in the trace the next judged run reserves: an
	// eighth more than the last one's entries (schedules are alike; one
	// that looped costs the next one a large reservation, not every
	// later one). A hint: it changes no run's outcome.
	entries atomic.Int64
}

// Schedule is one drawn fault schedule, with the records and brokers the
// shrinker may have cut.
type Schedule struct {
	Index   int // the draw it came from
	faults  []chaosFault
	records int
	brokers int
	shrunk  bool // cut by the shrinker: it may name a broker the cluster no longer has
}

// Faults is how many faults the schedule holds.
func (s Schedule) Faults() int { return len(s.faults) }

// Records is the schedule's workload.records, 0 when the workload runs
// for the scenario's duration.
func (s Schedule) Records() int { return s.records }

// Brokers is the schedule's cluster size.
func (s Schedule) Brokers() int { return s.brokers }

// NewHunt loads the scenario (with its --set values) as the ground the
// hunt draws fault schedules on: its own faults and expectations are
// dropped.
func NewHunt(nameOrFile string, sets []string, property string, seed uint64) (*Hunt, error) {
	prop, err := HuntPropertyNamed(property)
	if err != nil {
		return nil, err
	}
	source, data, err := find(nameOrFile)
	if err != nil {
		return nil, err
	}
	s, err := Parse(source, data, sets)
	if err != nil {
		return nil, err
	}
	pl := s.plan
	transactional := pl.producerCfg.TransactionalID != ""
	if prop.transactional && (!transactional || pl.txnRecords == 0) {
		return nil, fmt.Errorf("--property %s needs a transactional workload (producer.transactional.id and workload.transactions); %s has %s", prop.Name, s.Name, missingTxn(transactional, pl.txnRecords > 0))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err // Parse read it already
	}
	root := doc.Content[0]
	for _, kv := range sets {
		if err := applySet(source, root, kv); err != nil {
			return nil, err
		}
	}
	plainSets(root)
	// The counterexample asks no lesson's question: it is the answer.
	for _, key := range []string{"faults", "expect", "lesson", "question"} {
		deleteKey(root, key)
	}
	setPath(root, []string{"name"}, s.Name+"-"+prop.Name+"-counterexample")
	title := fmt.Sprintf("a fault schedule that breaks %q, found by simulate hunt", prop.Says)
	setPath(root, []string{"title"}, title)
	topic := pl.topo.Topics[pl.topic]
	span := maxSpan.Seconds()
	if s.Duration.Set {
		span = s.Duration.Seconds()
	}
	if s.Workload.Records > 0 {
		span = min(span, float64(s.Workload.Records)/s.Workload.Rate)
	}
	kinds := make([]faultKind, len(huntKinds))
	for i, name := range huntKinds {
		kinds[i] = faultKinds[slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.name == name })]
	}
	h := &Hunt{Name: s.Name, Title: title, Property: prop, Seed: seed, root: root, records: s.Workload.Records, brokers: pl.topo.Brokers,
		space: faultSpace{durationMs: int(span * 1000), topic: topic.Name, partitions: int(topic.Initial), kinds: kinds, powerLoss: true,
			selectors: faultSelectors(topic.Name, pl.topo.Brokers, topic.ReplicationFactor, transactional)}}
	for _, t := range pl.topo.Topics {
		h.minNodes = max(h.minNodes, t.ReplicationFactor)
	}
	h.base = h.render(h.root)
	return h, nil
}

// missingTxn names what a workload lacks to be transactional.
func missingTxn(id, txns bool) string {
	switch {
	case !id && !txns:
		return "neither"
	case !id:
		return "no producer.transactional.id"
	}
	return "no workload.transactions"
}

// plainSets writes the --set values unquoted where YAML reads them the
// same (min.insync.replicas: 1, not "1"), as a person writes a file:
// applySet made them strings, and a node from the file has a line.
func plainSets(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Line == 0 && n.Tag == "!!str" {
		n.Tag = ""
	}
	for _, c := range n.Content {
		plainSets(c)
	}
}

func deleteKey(m *yaml.Node, key string) {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			m.Content = slices.Delete(m.Content, j, j+2)
			return
		}
	}
}

func (h *Hunt) render(root *yaml.Node) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		panic(fmt.Sprintf("hunt: the scenario does not write back as YAML: %v", err))
	}
	return b.Bytes()
}

// Hash identifies the hunt's ground (the scenario with its --set values)
// and property, so that results of shards of different hunts do not mix.
func (h *Hunt) Hash() string {
	sum := sha256.Sum256(append([]byte(h.Property.Name+"\n"), h.base...))
	return hex.EncodeToString(sum[:8])
}

// Draw is schedule i of the hunt: one to four faults drawn from (Seed, i)
// alone, so that a schedule is the same whichever worker, core or machine
// draws it.
func (h *Hunt) Draw(i int) Schedule {
	r := rand.New(rand.NewPCG(h.Seed, uint64(i)))
	s := Schedule{Index: i, records: h.records, brokers: h.brokers}
	for range between(r, 1, 4) {
		f := randomFault(r, h.space)
		// A restarted producer is the same application: it keeps its
		// client (another may refuse the scenario's settings).
		f.extra = slices.DeleteFunc(f.extra, func(x string) bool { return strings.HasPrefix(x, "client: ") })
		s.faults = append(s.faults, f)
	}
	return s
}

// YAML is the scenario file of a schedule: the hunt's scenario with the
// schedule's faults, and an expectation that the property breaks (when
// one number counts its violations; Counterexample writes the others').
func (h *Hunt) YAML(s Schedule) []byte {
	if len(h.Property.Paths) == 1 {
		return h.yaml(s, h.Property.Paths)
	}
	return h.yaml(s, nil)
}

// Counterexample is YAML with an expectation on each number of the
// property that the schedule's run rep set above zero.
func (h *Hunt) Counterexample(s Schedule, rep *Report) []byte {
	var paths []string
	rep.Numbers(func(path string, v float64) {
		if v > 0 && slices.Contains(h.Property.Paths, path) {
			paths = append(paths, path)
		}
	})
	return h.yaml(s, paths)
}

func (h *Hunt) yaml(s Schedule, expect []string) []byte {
	text := h.base
	if s.records != h.records || s.brokers != h.brokers {
		root := copyNode(h.root)
		if s.records != h.records {
			setInt(root, []string{"workload", "records"}, s.records)
		}
		if s.brokers != h.brokers {
			setInt(root, []string{"cluster", "brokers"}, s.brokers)
		}
		text = h.render(root)
	}
	var b strings.Builder
	b.Write(text)
	// In time order, as a person reads them; equal times keep the draw's.
	writeFaults(&b, slices.SortedStableFunc(slices.Values(s.faults), func(x, y chaosFault) int { return cmp.Compare(x.atMs, y.atMs) }))
	if len(expect) > 0 {
		b.WriteString("expect:\n")
		for _, p := range expect {
			fmt.Fprintf(&b, "  %s: \"> 0\"\n", p)
		}
	}
	return []byte(b.String())
}

// copyNode copies a node tree, so that a schedule's edits stay its own.
func copyNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = copyNode(child)
	}
	return &c
}

// setInt sets a number at a path of map keys, written unquoted.
func setInt(root *yaml.Node, path []string, v int) {
	setPath(root, path, strconv.Itoa(v))
	n := root
	for _, key := range path {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				n = n.Content[j+1]
				break
			}
		}
	}
	n.Tag = "!!int"
}

// Trial is one schedule's run.
type Trial struct {
	Result   *Result // nil when the schedule does not make a valid scenario
	Violated bool
	// Outside says why a violation does not count: the faults went beyond
	// what Kafka promises the property under.
	Outside string
}

// Try runs a schedule and judges the property on it; its Result explains
// the anomalies, for the counterexample's report.
func (h *Hunt) Try(s Schedule) Trial { return h.try(s, RunOptions{}) }

// Judge is Try for a search: the run explains no anomaly (its report lists
// none), which a verdict does not need, and its trace starts as large as
// the last judged run's (Result.TraceRoom). The verdict is Try's.
func (h *Hunt) Judge(s Schedule) Trial {
	t := h.try(s, RunOptions{Anomalies: NoAnomalies, TraceEntries: int(h.entries.Load())})
	if t.Result != nil {
		h.entries.Store(int64(t.Result.TraceRoom()))
	}
	return t
}

func (h *Hunt) try(s Schedule, opt RunOptions) Trial {
	sc, err := Parse(h.Name+" hunt schedule", h.YAML(s), nil)
	if err != nil {
		if !s.shrunk {
			// A refused draw would pass for "no violation".
			panic(fmt.Sprintf("hunt: schedule %d of %s is not a valid scenario: %v", s.Index, h.Name, err))
		}
		return Trial{} // a shrunk schedule can name a broker the cluster no longer has
	}
	res := sc.Run(opt)
	t := Trial{Result: res}
	if res.Report.StoppedByBudget == nil && h.Property.count(res.Report) > 0 {
		if t.Outside = h.Property.outside(res); t.Outside == "" {
			t.Violated = true
		}
	}
	return t
}

// Shrink makes a violating schedule smaller while it keeps violating:
// fewer faults, shorter faults, fewer records, fewer brokers. first
// returns the index of the first schedule of a list that violates, -1 for
// none (the hunt's pool runs them at once; FirstViolating runs them one by
// one). It ends at a schedule from which no single fault can be removed,
// unless budget runs ran out first (then minimal is false); runs counts
// them as if judged one by one, the same on any number of cores.
func (h *Hunt) Shrink(s Schedule, budget int, first func([]Schedule) int) (small Schedule, runs int, minimal bool) {
	return shrinkFirst(s, h.smaller, first, budget)
}

// FirstViolating is the index of the first schedule that violates the
// property, -1 for none, run one by one.
func (h *Hunt) FirstViolating(ss []Schedule) int {
	return slices.IndexFunc(ss, func(s Schedule) bool { return h.Judge(s).Violated })
}

// Without is the schedule less its fault i.
func (s Schedule) Without(i int) Schedule {
	v := s
	v.faults = slices.Delete(slices.Clone(s.faults), i, i+1)
	return v
}

// smaller lists a schedule's one-step reductions, the biggest cuts first.
func (h *Hunt) smaller(s Schedule) []Schedule {
	s.shrunk = true
	var out []Schedule
	for i := range s.faults {
		out = append(out, s.Without(i))
	}
	for i, f := range s.faults {
		for j, x := range f.extra {
			ms, ok := strings.CutPrefix(x, "for: ")
			n, err := strconv.Atoi(strings.TrimSuffix(ms, "ms"))
			if !ok || err != nil || n < 20 {
				continue
			}
			v := s
			v.faults = slices.Clone(s.faults)
			v.faults[i].extra = slices.Clone(f.extra)
			v.faults[i].extra[j] = fmt.Sprintf("for: %dms", n/2)
			out = append(out, v)
		}
	}
	if s.records > 1 {
		v := s
		v.records /= 2
		out = append(out, v)
	}
	if s.brokers > max(1, h.minNodes) {
		v := s
		v.brokers--
		out = append(out, v)
	}
	return out
}
