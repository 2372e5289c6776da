package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/sim"
)

// faultKind is one kind of fault a scenario's schedule can hold, the value
// of a fault's `do`. Everything about a kind is in its entry: adding a kind
// is adding an entry (and its line in README's list of faults).
type faultKind struct {
	name string
	// keys are the keys the kind takes besides at and do, in the order
	// error messages list them.
	keys []string
	// check validates a fault of this kind, after the keys and the
	// duration limits, and records what it parsed in the planned fault.
	check faultCheck
	// fire applies the fault when its time comes.
	fire func(r *runner, f *plannedFault)
	// heal reverses an effect that fire left waiting in an undo, when its
	// `for` runs out or at the final heal; nil when fire leaves none.
	heal func(r *runner, u *undo)
	// describe is the fault's line in the report's schedule after the time
	// and the kind; a count and a `for` follow it.
	describe func(f *plannedFault) string
}

// faultCheck validates one fault; key is the fault's key path, faults[i].
type faultCheck func(s *Scenario, pl *plan, f *plannedFault, key string) error

// faultKinds is the table of fault kinds.
var faultKinds = []faultKind{
	// With power-loss: D the machine loses power (or its kernel crashes):
	// the page cache goes with the process, and each replica log keeps
	// only what the OS had written back, the batches written at least D
	// before (Cluster.PowerLoss). Kafka does not fsync on append by default
	// (log.flush.interval.ms: Long.MAX_VALUE); Linux writes a dirty page
	// back once it is dirty_expire_centisecs old, 30s by default.
	{name: "crash", keys: []string{"broker", "power-loss"}, check: checks(checkBroker, checkPowerLoss),
		fire: onBrokers(func(r *runner, f *plannedFault, b sim.NodeID, _ sim.Time) {
			if f.set["power-loss"] {
				r.cl.PowerLoss(b, sim.FromDuration(f.PowerLoss.Duration))
				return
			}
			r.cl.Crash(b)
		}),
		describe: func(f *plannedFault) string {
			s := describeBroker(f)
			if f.set["power-loss"] {
				s += " with power loss (writes of its last " + f.PowerLoss.Duration.String() + " not yet on disk)"
			}
			return s
		}},
	// A controlled shutdown (SIGTERM): the broker asks the controller to
	// move its leaderships away and stops once it may; `restart` brings it
	// back like a crashed one.
	{name: "shutdown", keys: []string{"broker"}, check: checkBroker,
		fire: onBrokers(func(r *runner, _ *plannedFault, b sim.NodeID, _ sim.Time) {
			r.cl.Shutdown(b)
		}),
		describe: describeBroker},
	{name: "restart", keys: []string{"broker"}, check: checkBroker,
		fire: onBrokers(func(r *runner, _ *plannedFault, b sim.NodeID, _ sim.Time) {
			r.cl.Restart(b)
		}),
		describe: describeBroker},
	{name: "pause", keys: []string{"broker", "for"}, check: checkBroker,
		fire: onBrokers(func(r *runner, f *plannedFault, b sim.NodeID, until sim.Time) {
			r.cl.Pause(b)
			r.addUndo(&undo{fault: f, broker: b}, until)
		}),
		heal:     func(r *runner, u *undo) { r.cl.Resume(u.broker) },
		describe: describeBroker},
	{name: "isolate", keys: []string{"broker", "from", "direction", "mode", "for"}, check: checks(checkBroker, checkIsolate),
		fire: onBrokers(func(r *runner, f *plannedFault, b sim.NodeID, until sim.Time) {
			u := &undo{fault: f, broker: b}
			r.isolate(u)
			r.addUndo(u, until)
		}),
		heal: func(r *runner, u *undo) {
			r.restoreLinks(u)
			r.w.Trace.Add(r.entry(event.IsolateEnd, u.broker))
		},
		describe: func(f *plannedFault) string {
			s := " " + f.sel.text + " from " + strings.Join(f.from, ", ")
			if f.direction != "both" {
				s += " (" + f.direction + "bound only)"
			}
			if f.mode == "reject" {
				s += ", rejecting"
			}
			return s
		}},
	{name: "partition", keys: []string{"between", "and", "direction", "mode", "by", "for"}, check: checkPartition,
		fire: (*runner).partition,
		heal: func(r *runner, u *undo) {
			r.restoreLinks(u)
			r.w.Trace.Add(r.entry(event.PartitionEnd, r.id))
		},
		describe: func(f *plannedFault) string { return " " + describePartition(f) }},
	// Without from or direction a delay slows every link of the broker;
	// with them, only its links to those groups, in that direction (to
	// the producers of the moment: unlike isolate, not to a replacement
	// started later).
	{name: "delay", keys: []string{"broker", "by", "from", "direction", "for"}, check: checks(checkBroker, checkDelay),
		fire: onBrokers(func(r *runner, f *plannedFault, b sim.NodeID, until sim.Time) {
			d := sim.FromDuration(f.By.Duration)
			u := &undo{fault: f, broker: b, delay: d}
			e := r.faultEntry(event.Delay, b, f)
			e.X().Broker = int32(b)
			e.X().Dur = d.Duration()
			if f.from == nil {
				r.w.Net.AddDelay(b, d)
			} else {
				for _, p := range r.peers(f, b) {
					u.cuts = append(u.cuts, linkPairs(f.direction, b, p)...)
				}
				for _, c := range u.cuts {
					r.w.Net.AddLinkDelay(c[0], c[1], d)
				}
				e.X().Note = strings.Join(f.from, ", ")
				e.Flags |= directionFlags[f.direction]
			}
			r.w.Trace.Add(e)
			r.addUndo(u, until)
		}),
		heal: func(r *runner, u *undo) {
			if u.fault.from == nil {
				r.w.Net.AddDelay(u.broker, -u.delay)
			}
			for _, c := range u.cuts {
				r.w.Net.AddLinkDelay(c[0], c[1], -u.delay)
			}
			r.w.Trace.Add(r.entry(event.DelayEnd, u.broker))
		},
		describe: func(f *plannedFault) string {
			s := " " + f.sel.text + " by " + f.By.Duration.String()
			if f.from != nil {
				s += " from " + strings.Join(f.from, ", ")
				if f.direction != "both" {
					s += " (" + f.direction + "bound only)"
				}
			}
			return s
		}},
	{name: "request-rule", keys: []string{"broker", "api", "topic", "partition", "answer", "when", "count", "for"},
		check: checks(checkBroker, checkCountOrFor, checkRule),
		fire: onBrokers(func(r *runner, f *plannedFault, b sim.NodeID, until sim.Time) {
			rule := f.rule
			rule.Count, rule.Until = f.Count, until
			r.cl.AddRule(b, &rule)
			r.rules = append(r.rules, firedRule{fault: f.index, rule: &rule})
			e := r.faultEntry(event.RequestRule, b, f)
			e.Err = int16(rule.Error)
			if rule.After {
				e.Flags |= event.AfterHandling
			}
			if rule.Lost {
				e.Flags |= event.AnswerLost
			}
			e.X().Label, e.X().Note = rule.API.String(), ruleFilter(f)
			r.w.Trace.Add(e)
		}),
		describe: func(f *plannedFault) string {
			s := " " + f.sel.text + ": " + f.rule.API.String()
			if filter := ruleFilter(f); filter != "" {
				s += " about " + filter
			}
			switch {
			case f.rule.Lost && f.rule.After:
				return s + " handled, answer lost"
			case f.rule.Lost:
				return s + " lost before handling"
			case f.rule.After:
				return s + " handled, answer replaced by " + f.rule.Error.String()
			}
			return s + " answered with " + f.rule.Error.String()
		}},
	{name: "restart-producer", keys: []string{"resend-unacked", "client"}, check: checkClient,
		fire: (*runner).restartProducer,
		describe: func(f *plannedFault) string {
			s := ""
			if f.Client != "" {
				s = " as " + f.Client
			}
			if f.ResendUnacked {
				s += ", and the application re-sends what was not acknowledged"
			}
			return s
		}},
	{name: "add-partitions", keys: []string{"topic", "partitions"}, check: checkAddPartitions,
		fire: func(r *runner, f *plannedFault) { r.cl.AddPartitions(f.topic, f.Partitions) },
		describe: func(f *plannedFault) string {
			return " " + f.Topic + " to " + strconv.Itoa(f.Partitions)
		}},
	{name: "freeze-app", keys: []string{"for"}, check: checkFreeze,
		fire:     (*runner).freezeApp,
		heal:     func(r *runner, u *undo) { r.thawApp(u.frozen) },
		describe: func(*plannedFault) string { return "" }},
	{name: "start-zombie", keys: []string{"for"}, check: checkZombie,
		fire:     (*runner).startZombie,
		heal:     func(r *runner, u *undo) { r.wakeZombie(u.zombie) },
		describe: func(*plannedFault) string { return "" }},
}

// lookupFault finds a fault kind by name.
func lookupFault(name string) *faultKind {
	i := slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.name == name })
	if i < 0 {
		return nil
	}
	return &faultKinds[i]
}

// faultKindNames lists the kinds, sorted.
func faultKindNames() []string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = k.name
	}
	sort.Strings(names)
	return names
}

// checks runs several checks in order; the first problem is the one
// reported.
func checks(cs ...faultCheck) faultCheck {
	return func(s *Scenario, pl *plan, f *plannedFault, key string) error {
		for _, c := range cs {
			if err := c(s, pl, f, key); err != nil {
				return err
			}
		}
		return nil
	}
}

// checkBroker parses the broker selector.
func checkBroker(s *Scenario, pl *plan, f *plannedFault, key string) error {
	if f.Broker == "" {
		return s.errAt(key+".broker", "missing; say which broker: an id, \"leader T-P\", \"follower T-P\", \"followers T-P\", \"coordinator\", \"all\" or \"crashed\"")
	}
	sel, err := brokerSelector(f.Broker, pl)
	if err != nil {
		return s.errAt(key+".broker", "%s", err.Error())
	}
	f.sel = sel
	return nil
}

// brokerSelector parses a selector, "coordinator" included: the transaction
// coordinator, the leader of the transactional.id's __transaction_state
// partition.
func brokerSelector(text string, pl *plan) (selector, error) {
	if strings.TrimSpace(text) != "coordinator" {
		return parseSelector(text, pl.topo)
	}
	if pl.producerCfg.TransactionalID == "" {
		return selector{}, fmt.Errorf("\"coordinator\" needs a producer with a transactional.id")
	}
	t := &pl.topo.Topics[pl.topo.TopicIndex(broker.TransactionStateTopic)]
	return selector{kind: selLeader, text: "coordinator",
		partition: t.First + broker.PartitionID(broker.TxnCoordinatorPartition(pl.producerCfg.TransactionalID, t.Partitions))}, nil
}

func checkIsolate(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if err := checkLinks(s, f, key, "cut"); err != nil {
		return err
	}
	return checkMode(s, f, key)
}

// checkLinks reads from and direction, the links of a broker a fault
// affects, and says what happens to their traffic in its messages.
func checkLinks(s *Scenario, f *plannedFault, key, what string) error {
	f.from = f.From
	if len(f.from) == 0 {
		f.from = []string{"brokers", "controller", "producer"}
	}
	for _, fr := range f.from {
		if !slices.Contains([]string{"brokers", "controller", "producer"}, fr) {
			return s.errAt(key+".from", "%q is not one of brokers, controller, producer", fr)
		}
	}
	if f.Direction != "" {
		f.direction = f.Direction
	}
	if !slices.Contains([]string{"both", "in", "out"}, f.direction) {
		return s.errAt(key+".direction", "%q is not one of both (default), in (traffic to the broker is %s), out (traffic from it is %s)", f.Direction, what, what)
	}
	return nil
}

// checkMode reads how a cut treats packets: drop (the default: TCP
// retransmits, so the cut delays) or reject (a reset or ICMP unreachable:
// connections break at once).
func checkMode(s *Scenario, f *plannedFault, key string) error {
	f.mode = "drop"
	if f.Mode != "" {
		f.mode = f.Mode
	}
	if f.mode != "drop" && f.mode != "reject" {
		return s.errAt(key+".mode", "%q is not one of drop (default: packets are dropped, TCP retransmits them) or reject (a reset / ICMP unreachable: connections break at once)", f.Mode)
	}
	return nil
}

// checkPartition reads the two groups of nodes a partition fault stands
// between, its direction, and whether it cuts (in a mode) or slows (by).
func checkPartition(s *Scenario, pl *plan, f *plannedFault, key string) error {
	for i, g := range [2]struct {
		name    string
		members []string
	}{{"between", f.Between}, {"and", f.And}} {
		if len(g.members) == 0 {
			return s.errAt(key+"."+g.name, "missing; list the nodes on this side: broker ids or selectors (\"leader T-P\", ...), brokers, controller, producer")
		}
		for _, m := range g.members {
			mb := member{text: m}
			switch strings.TrimSpace(m) {
			case "brokers":
				mb.sel = selector{kind: selAll, text: "brokers"}
			case "controller", "producer":
				mb.group = strings.TrimSpace(m)
			default:
				sel, err := brokerSelector(m, pl)
				if err != nil && strings.TrimSpace(m) != "coordinator" && !strings.ContainsAny(strings.TrimSpace(m), " 0123456789") {
					return s.errAt(key+"."+g.name, "%q is not a node: use a broker id, a selector (\"leader T-P\", \"follower T-P\", \"followers T-P\", \"coordinator\"), brokers, controller or producer", m)
				}
				if err != nil {
					return s.errAt(key+"."+g.name, "%s", err.Error())
				}
				mb.sel = sel
				if sel.kind == selBroker {
					mb.text = sel.text // broker-2, not 2
				}
			}
			f.sides[i] = append(f.sides[i], mb)
		}
	}
	if len(f.Between) == 1 && len(f.And) == 1 && strings.TrimSpace(f.Between[0]) == strings.TrimSpace(f.And[0]) &&
		!slices.Contains([]string{"brokers", "producer"}, strings.TrimSpace(f.And[0])) {
		return s.errAt(key, "between and and name the same node, %q, so no link lies between them; name two different groups of nodes", f.And[0])
	}
	if len(f.Between) == 1 && len(f.And) == 1 && strings.TrimSpace(f.Between[0]) == "producer" && strings.TrimSpace(f.And[0]) == "producer" {
		return s.errAt(key, "producers do not talk to each other, so no link lies between producer and producer; put brokers or the controller on one side")
	}
	f.direction = "both"
	if f.Direction != "" {
		f.direction = f.Direction
	}
	if !slices.Contains([]string{"both", "in", "out"}, f.direction) {
		return s.errAt(key+".direction", "%q is not one of both (default), in (traffic into the first group is cut), out (traffic out of it is cut)", f.Direction)
	}
	if f.set["by"] {
		if f.set["mode"] {
			return s.errAt(key+".mode", "a partition with by slows its links and cuts nothing; mode is for a cut (drop or reject)")
		}
		if f.By.Duration <= 0 {
			return s.errAt(key+".by", "must be more than zero; say how much one-way delay to add to the links, like 200ms")
		}
		return nil
	}
	return checkMode(s, f, key)
}

func checkPowerLoss(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if f.set["power-loss"] && f.PowerLoss.Duration <= 0 {
		return s.errAt(key+".power-loss", "must be above 0; say how long written data stays unflushed, like 30s (Linux's dirty_expire_centisecs)")
	}
	return nil
}

func checkDelay(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if f.By.Duration <= 0 {
		return s.errAt(key+".by", "missing or zero; say how much one-way delay to add, like 200ms")
	}
	if f.set["from"] || f.set["direction"] {
		return checkLinks(s, f, key, "delayed")
	}
	return nil
}

// directionFlags are the trace flags of a fault's direction.
var directionFlags = map[string]event.Flag{"both": event.Inbound | event.Outbound, "in": event.Inbound, "out": event.Outbound}

// linkPairs are the directed links between broker b and peer that a
// fault in direction dir affects.
func linkPairs(dir string, b, peer sim.NodeID) [][2]sim.NodeID {
	var out [][2]sim.NodeID
	if dir != "out" {
		out = append(out, [2]sim.NodeID{peer, b})
	}
	if dir != "in" {
		out = append(out, [2]sim.NodeID{b, peer})
	}
	return out
}

func checkCountOrFor(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if f.set["count"] == f.set["for"] {
		return s.errAt(key, "%s needs exactly one of count (how many requests) or for (how long)", f.Do)
	}
	if f.set["count"] && f.Count < 1 {
		return s.errAt(key+".count", "must be at least 1")
	}
	return nil
}

// checkRule parses a request rule: the API (Produce unless named), the
// topic or topic-partition it is about, the answer (a Kafka error, or
// lost) and when it fires (before the broker handles the request, or
// after).
func checkRule(s *Scenario, pl *plan, f *plannedFault, key string) error {
	rule := broker.Rule{API: broker.APIProduce, Topic: -1, Partition: -1}
	if f.set["api"] {
		api, ok := broker.ParseAPI(f.API)
		if !ok {
			return s.errAt(key+".api", "%q is not an API a rule matches; use one of %s", f.API, strings.Join(broker.APINames(), ", "))
		}
		rule.API = api
	}
	if f.set["topic"] || f.set["partition"] {
		switch {
		case !rule.API.HasTopics():
			return s.errAt(key, "%s requests name no topic, so a rule on them takes no topic or partition; Produce, Fetch, AddPartitionsToTxn and Metadata do", rule.API)
		case f.set["topic"] && f.set["partition"]:
			return s.errAt(key, "give topic (every partition of a topic) or partition (one topic-partition, like orders-0), not both")
		case f.set["partition"] && rule.API == broker.APIMetadata:
			return s.errAt(key+".partition", "Metadata answers per topic; use topic")
		case f.set["topic"]:
			if rule.Topic = pl.topo.TopicIndex(f.Topic); rule.Topic < 0 {
				return s.errAt(key+".topic", "%q is not a topic of this scenario; use one of %s", f.Topic, strings.Join(topicNames(s.Topics), ", "))
			}
		default:
			t, p, err := parseTopicPartition(strings.TrimSpace(f.Partition), pl.topo)
			if err != nil {
				return s.errAt(key+".partition", "%s", err.Error())
			}
			rule.Topic, rule.Partition = t, p
		}
	}
	switch {
	case !f.set["answer"]:
		return s.errAt(key+".answer", "missing; say what the broker answers: lost (no answer) or a Kafka error, like NOT_LEADER_OR_FOLLOWER")
	case f.Answer == "lost":
		rule.Lost = true
	default:
		e, ok := broker.ParseError(f.Answer)
		if !ok || !slices.Contains(broker.RuleErrors(), f.Answer) {
			return s.errAt(key+".answer", "%q is not an answer; use lost or a Kafka error: %s", f.Answer, strings.Join(broker.RuleErrors(), ", "))
		}
		rule.Error = e
	}
	switch f.When {
	case "", "before":
	case "after":
		rule.After = true
	default:
		return s.errAt(key+".when", "%q is not a stage; use before (the broker does not handle the request: nothing appended) or after (it handles the request, then the answer is replaced or lost)", f.When)
	}
	f.rule = rule
	return nil
}

// ruleFilter is the topic or topic-partition a rule is about, as written.
func ruleFilter(f *plannedFault) string {
	if f.set["topic"] {
		return f.Topic
	}
	return strings.TrimSpace(f.Partition)
}

// firedRule is one broker's copy of a request rule, kept to report how
// often it fired.
type firedRule struct {
	fault int // the fault's position in the file, from 1
	rule  *broker.Rule
}

// ruleFaults lists the positions of the request-rule faults, in file order.
func (pl *plan) ruleFaults() []int {
	var out []int
	for _, f := range pl.faults {
		if f.Do == "request-rule" {
			out = append(out, f.index)
		}
	}
	slices.Sort(out)
	return out
}

// ruleFired sums the firings of fault's copies.
func (r *runner) ruleFired(fault int) int {
	n := 0
	for _, fr := range r.rules {
		if fr.fault == fault {
			n += fr.rule.Fired
		}
	}
	return n
}

func checkClient(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if !f.set["client"] {
		return nil
	}
	// The application moves to another client library: the same
	// producer settings, that client's defaults underneath.
	props := s.Producer.Map()
	props["client"] = f.Client
	cfg, err := producer.NewConfig(props, s.classes...)
	if err != nil {
		return s.errAt(key+".client", "%s", err.Error())
	}
	f.producerCfg = cfg
	return nil
}

func checkAddPartitions(s *Scenario, pl *plan, f *plannedFault, key string) error {
	if f.topic = pl.topo.TopicIndex(f.Topic); f.topic < 0 {
		return s.errAt(key+".topic", "%q is not a topic of this scenario; use one of %s", f.Topic, strings.Join(topicNames(s.Topics), ", "))
	}
	if !f.set["partitions"] {
		return s.errAt(key+".partitions", "missing; say the topic's new partition count, as kafka-topics.sh --alter --partitions does")
	}
	if f.Partitions > maxPartitions {
		return s.errAt(key+".partitions", "%d is out of range; use at most %d", f.Partitions, maxPartitions)
	}
	return nil
}

func checkZombie(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if !f.set["for"] {
		return s.errAt(key+".for", "missing; say how long the old instance stays frozen before it comes back as a zombie, like 2s")
	}
	return nil
}

func checkFreeze(s *Scenario, _ *plan, f *plannedFault, key string) error {
	if !f.set["for"] {
		return s.errAt(key+".for", "missing; say how long the application and its producer stay frozen, like 5s")
	}
	return nil
}

// onBrokers makes the fire of a kind that acts on brokers: it resolves the
// selector when the fault fires and applies act to each broker it names,
// with the time its `for` ends (0 without one).
func onBrokers(act func(r *runner, f *plannedFault, b sim.NodeID, until sim.Time)) func(*runner, *plannedFault) {
	return func(r *runner, f *plannedFault) {
		targets := r.targets(f.sel)
		if len(targets) == 0 {
			e := r.entry(event.FaultSkipped, r.id)
			e.Ext = &event.Ext{Index: int32(f.index), Note: f.Do + " " + f.sel.text}
			r.w.Trace.Add(e)
			return
		}
		until := sim.Time(0)
		if f.set["for"] {
			until = r.w.Now() + sim.FromDuration(f.For.Duration)
		}
		for _, b := range targets {
			act(r, f, b, until)
		}
		r.countDown()
	}
}

func describeBroker(f *plannedFault) string { return " " + f.sel.text }

// describeFault is one line of the fault schedule, in words.
func describeFault(f *plannedFault) string {
	s := sim.FromDuration(f.At.Duration).String() + " " + f.Do + f.kind.describe(f)
	if f.set["count"] {
		s += ", " + plural(f.Count, "request")
	}
	if f.set["for"] {
		s += " for " + f.For.Duration.String()
	}
	return s
}

// describePartition is a partition fault's groups, direction and effect in
// words.
func describePartition(f *plannedFault) string {
	side := func(ms []member) string {
		t := make([]string, len(ms))
		for i, m := range ms {
			t[i] = strings.TrimSpace(m.text)
		}
		return strings.Join(t, ", ")
	}
	s := "between " + side(f.sides[0]) + " and " + side(f.sides[1])
	switch f.direction {
	case "in":
		s += " (into the first group only)"
	case "out":
		s += " (out of the first group only)"
	}
	switch {
	case f.set["by"]:
		s += ", slowed by " + f.By.Duration.String()
	case f.mode == "reject":
		s += ", rejecting"
	}
	return s
}
