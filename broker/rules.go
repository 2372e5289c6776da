package broker

import (
	"slices"

	"github.com/kafkasim/kafkasim/event"
	"github.com/kafkasim/kafkasim/sim"
)

// API is a kind of request a rule matches, named as Kafka's ApiKeys are.
type API uint8

// The request kinds a rule can match.
const (
	APIProduce API = iota + 1
	APIFetch
	APIInitProducerID
	APIAddPartitionsToTxn
	APIEndTxn
	APIFindCoordinator
	APIMetadata
)

var apiNames = [...]string{"", "Produce", "Fetch", "InitProducerId", "AddPartitionsToTxn", "EndTxn", "FindCoordinator", "Metadata"}

func (a API) String() string { return apiNames[a] }

// APINames lists the APIs a rule can match, in ApiKeys order.
func APINames() []string { return apiNames[1:] }

// ParseAPI finds an API by its ApiKeys name.
func ParseAPI(name string) (API, bool) {
	for i, n := range apiNames[1:] {
		if n == name {
			return API(i + 1), true
		}
	}
	return 0, false
}

// HasTopics reports whether the API's requests name topics, so a rule may
// match a topic or a topic-partition.
func (a API) HasTopics() bool {
	return a == APIProduce || a == APIFetch || a == APIAddPartitionsToTxn || a == APIMetadata
}

// Rule is a request rule on one broker, in the manner of franz-go kfake's
// control functions (ControlKey, KeepControl) and librdkafka's mock cluster
// error stacks (rd_kafka_mock_push_request_errors): requests of one API,
// optionally about one topic or topic-partition, are answered with Error,
// or their answer is lost, before the broker handles them (nothing
// appended, no state changed) or after (the append or state change
// happens, then the answer is replaced or lost). The rule fires Count
// times, or on every match until Until. Fired counts its firings; the
// scenario keeps the Rule to report them.
type Rule struct {
	API       API
	Topic     int // topic index, -1 for any
	Partition int // partition number within Topic, -1 for any
	Error     Error
	After     bool
	Lost      bool
	Count     int
	Until     sim.Time
	Fired     int
}

// matches reports whether the rule covers partition p.
func (r *Rule) matches(topo *Topology, p PartitionID) bool {
	if r.Topic < 0 {
		return true
	}
	pt := topo.Partitions[p]
	return pt.Topic == r.Topic && (r.Partition < 0 || pt.Index == r.Partition)
}

// matchesTopic reports whether the rule covers topic t.
func (r *Rule) matchesTopic(t int) bool { return r.Topic < 0 || r.Topic == t }

// live reports whether the rule still fires at now.
func (r *Rule) live(now sim.Time) bool { return r.Count > 0 || now < r.Until }

// fire counts one firing.
func (r *Rule) fire() {
	r.Fired++
	if r.Count > 0 {
		r.Count--
	}
}

// AddRule installs a request rule on broker b. Rules live in the broker
// process: a crash or restart forgets them, and Heal clears them.
func (c *Cluster) AddRule(b sim.NodeID, r *Rule) {
	br := c.Brokers[b]
	br.rules = append(br.rules, r)
}

// rule finds the first live rule for api at the given stage whose filter
// covers a partition parts names (any, when the API names none); it does
// not fire it.
func (b *Broker) rule(api API, after bool, parts func(yield func(PartitionID) bool)) *Rule {
	now := b.w.Now()
	for _, r := range b.rules {
		if r.API != api || r.After != after || !r.live(now) {
			continue
		}
		if r.Topic < 0 || parts == nil {
			return r
		}
		found := false
		parts(func(p PartitionID) bool {
			found = r.matches(b.topo, p)
			return !found
		})
		if found {
			return r
		}
	}
	return nil
}

// apiOf is the API of a client request.
func apiOf(m sim.Message) API {
	switch m.(type) {
	case *ProduceRequest:
		return APIProduce
	case *MetadataRequest:
		return APIMetadata
	case *InitProducerIDRequest:
		return APIInitProducerID
	case *FindCoordinatorRequest:
		return APIFindCoordinator
	case *AddPartitionsToTxnRequest:
		return APIAddPartitionsToTxn
	case *EndTxnRequest:
		return APIEndTxn
	}
	return 0
}

// apiOfResponse is the API a client response answers.
func apiOfResponse(m sim.Message) API {
	switch m.(type) {
	case *ProduceResponse:
		return APIProduce
	case *MetadataResponse:
		return APIMetadata
	case *InitProducerIDResponse:
		return APIInitProducerID
	case *FindCoordinatorResponse:
		return APIFindCoordinator
	case *AddPartitionsToTxnResponse:
		return APIAddPartitionsToTxn
	case *EndTxnResponse:
		return APIEndTxn
	}
	return 0
}

// requestParts lists the partitions a request names, for a rule's filter.
func requestParts(m sim.Message) func(yield func(PartitionID) bool) {
	switch m := m.(type) {
	case *ProduceRequest:
		return func(yield func(PartitionID) bool) {
			for i := range m.Batches {
				if !yield(m.Batches[i].Partition) {
					return
				}
			}
		}
	case *AddPartitionsToTxnRequest:
		return func(yield func(PartitionID) bool) {
			for _, p := range m.Partitions {
				if !yield(p) {
					return
				}
			}
		}
	}
	return nil
}

// ruleEntry traces a rule's firing: the answer replaced by an error or
// lost, before or after the broker handled the request.
func (b *Broker) ruleEntry(r *Rule, client sim.NodeID, p PartitionID, ref int64) {
	e := b.entry(event.RuleAnswer, p, ref, -1, -1, -1, client)
	e.Err, e.Flags = int16(r.Error), event.Injected
	if r.After {
		e.Flags |= event.AfterHandling
	}
	if r.Lost {
		e.Flags |= event.AnswerLost
	}
	e.X().Label = r.API.String()
	b.w.Trace.Add(e)
}

// ruleBefore applies a rule that fires before the broker handles a
// client request other than Produce (produce applies its own, per batch,
// after the request handler's queue). It reports whether the rule took
// the request: answered it with an error, or swallowed it.
func (b *Broker) ruleBefore(from sim.NodeID, cc *clientConn, m sim.Message) bool {
	api := apiOf(m)
	if api == APIProduce || api == APIMetadata {
		return false // per partition or per topic: produce and metadata apply their own
	}
	r := b.rule(api, false, requestParts(m))
	if r == nil {
		return false
	}
	r.fire()
	b.ruleEntry(r, from, -1, -1)
	if r.Lost {
		cc.broken = true
		return true
	}
	var resp sim.Message
	switch m := m.(type) {
	case *InitProducerIDRequest:
		resp = &InitProducerIDResponse{ID: m.ID, Error: r.Error, ProducerID: -1, Epoch: -1}
	case *FindCoordinatorRequest:
		resp = &FindCoordinatorResponse{ID: m.ID, Error: r.Error, Coordinator: NoLeader}
	case *AddPartitionsToTxnRequest:
		resp = &AddPartitionsToTxnResponse{ID: m.ID, Error: r.Error}
	case *EndTxnRequest:
		resp = &EndTxnResponse{ID: m.ID, Error: r.Error}
	}
	b.deliver(from, cc.conn, resp)
	return true
}

// ruleAfter applies a rule that fires after the broker handled a client
// request, to its answer: the error replaces the answer's, or the answer
// is lost. It reports whether the answer still goes out. Produce answers
// go through sendProduceResponse instead; metadata answers through
// metadataResponse.
func (b *Broker) ruleAfter(client sim.NodeID, m sim.Message) bool {
	api := apiOfResponse(m)
	if api == 0 || api == APIProduce || api == APIMetadata {
		return true
	}
	var parts func(yield func(PartitionID) bool)
	if api == APIAddPartitionsToTxn {
		parts = slices.Values(b.client(client).adding)
	}
	r := b.rule(api, true, parts)
	if r == nil {
		return true
	}
	r.fire()
	b.ruleEntry(r, client, -1, -1)
	if r.Lost {
		b.client(client).broken = true
		return false
	}
	switch m := m.(type) {
	case *InitProducerIDResponse:
		m.Error, m.ProducerID, m.Epoch = r.Error, -1, -1
	case *FindCoordinatorResponse:
		m.Error, m.Coordinator = r.Error, NoLeader
	case *AddPartitionsToTxnResponse:
		m.Error = r.Error
	case *EndTxnResponse:
		m.Error, m.ProducerID, m.ProducerEpoch = r.Error, -1, -1
	}
	return true
}

// metadataResponse is the answer to a metadata request, with the topic
// errors the rules inject: a topic with an error carries no partitions
// for the client (MetadataResponse's per-topic error_code).
func (b *Broker) metadataResponse(client sim.NodeID, cc *clientConn, m *MetadataRequest) {
	resp := &MetadataResponse{ID: m.ID, Topology: b.topo, Snapshot: b.meta}
	for _, after := range []bool{false, true} {
		r := b.rule(APIMetadata, after, nil)
		if r == nil {
			continue
		}
		r.fire()
		b.ruleEntry(r, client, -1, -1)
		if r.Lost {
			cc.broken = true
			return
		}
		resp.TopicErrors = make([]Error, len(b.topo.Topics))
		for t := range resp.TopicErrors {
			if r.matchesTopic(t) {
				resp.TopicErrors[t] = r.Error
			}
		}
		break
	}
	b.deliver(client, cc.conn, resp)
}

// fetchRule finds and fires the rule for a follower's fetch at one stage.
func (b *Broker) fetchRule(req *FetchRequest, after bool) *Rule {
	r := b.rule(APIFetch, after, func(yield func(PartitionID) bool) {
		for i := range req.Partitions {
			if !yield(req.Partitions[i].Partition) {
				return
			}
		}
	})
	if r != nil {
		r.fire()
		b.ruleEntry(r, req.Replica, -1, -1)
	}
	return r
}
