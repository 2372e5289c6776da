package broker

import (
	"strconv"

	"github.com/kafkasim/kafkasim/sim"
)

// RecordID identifies one record the application sent. A re-sent record keeps
// its id, which is how the audit counts copies. Zero is never a record.
type RecordID uint32

// PartitionID is a dense index over every partition of every topic.
type PartitionID int32

// Topic is a topic's static layout.
type Topic struct {
	Name string
	// Partitions counts every partition the topic has during the run,
	// including those an AddPartitions adds later; Initial is how many
	// exist when the run starts (0: all of them).
	Partitions        int
	Initial           int
	ReplicationFactor int
	First             PartitionID // id of partition 0
	MinInsyncReplicas int         // topic config min.insync.replicas
	UncleanElection   bool        // unclean.leader.election.enable for this topic
}

// StartPartitions is the partition count when the run starts.
func (t *Topic) StartPartitions() int {
	if t.Initial > 0 {
		return t.Initial
	}
	return t.Partitions
}

// Partition is one partition's static layout.
type Partition struct {
	Topic    int // index into Topology.Topics
	Index    int // partition number within the topic
	Replicas []sim.NodeID
}

// Topology is the cluster's static shape: brokers, topics, and the replica
// assignment. It never changes during a run.
type Topology struct {
	Brokers    int // broker ids are 1..Brokers
	Topics     []Topic
	Partitions []Partition
}

// NewTopology lays out topics on brokers 1..n. Partition p of a topic gets
// replicas starting at broker (p mod n)+1 and continuing in id order, so
// leadership spreads evenly. (Kafka's own assignment also rotates the start
// but adds a random shift and rack awareness; the simulator keeps it plain so
// that "leader orders-0" is predictable.)
func NewTopology(brokers int, topics []Topic) *Topology {
	t := &Topology{Brokers: brokers}
	for i, tp := range topics {
		tp.First = PartitionID(len(t.Partitions))
		t.Topics = append(t.Topics, tp)
		for p := 0; p < tp.Partitions; p++ {
			replicas := make([]sim.NodeID, tp.ReplicationFactor)
			for r := range replicas {
				replicas[r] = sim.NodeID((p+r)%brokers + 1)
			}
			t.Partitions = append(t.Partitions, Partition{Topic: i, Index: p, Replicas: replicas})
		}
	}
	return t
}

// Name is "topic-partition", as Kafka prints a TopicPartition.
func (t *Topology) Name(p PartitionID) string {
	pt := t.Partitions[p]
	return t.Topics[pt.Topic].Name + "-" + strconv.Itoa(pt.Index)
}

// TopicIndex finds a topic by name, or -1.
func (t *Topology) TopicIndex(name string) int {
	for i := range t.Topics {
		if t.Topics[i].Name == name {
			return i
		}
	}
	return -1
}

// ID is the dense id of a topic's partition.
func (t *Topology) ID(topic, partition int) PartitionID {
	return t.Topics[topic].First + PartitionID(partition)
}

// PartitionState is the controller's record of a partition, as published in
// cluster metadata (KRaft PartitionRecord / PartitionChangeRecord).
type PartitionState struct {
	Leader         sim.NodeID // NoLeader when offline
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []sim.NodeID
	// ELR is the Eligible Leader Replicas (KIP-966, with
	// eligible.leader.replicas.version=1): replicas that left the ISR while
	// it was below min.insync.replicas. The high watermark cannot advance
	// then, so each holds every committed record and may lead once the
	// ISR is empty. In assignment order; never overlaps the ISR.
	ELR []sim.NodeID
	// LastKnownElr holds the last leader when the ISR became empty
	// (PartitionRegistration.lastKnownElr as the controller uses it by
	// default, useLastKnownLeaderInBalancedRecovery): the leader of last
	// resort once the ELR is empty too.
	LastKnownElr []sim.NodeID
}

// NoLeader marks an offline partition.
const NoLeader sim.NodeID = -1

// Snapshot is one immutable version of the cluster metadata. Brokers keep the
// newest they have seen as their metadata cache; a broker cut off from the
// controller keeps serving an old one.
type Snapshot struct {
	Version    int64
	Partitions []PartitionState // by PartitionID
	Fenced     []bool           // by broker id
	// ShuttingDown is by broker id: in controlled shutdown
	// (BrokerRegistration.inControlledShutdown).
	ShuttingDown []bool
	// TopicPartitions is each topic's partition count in this version
	// (by topic index): the partitions a client may use.
	TopicPartitions []int
}

// ---- messages between producer and broker ----

// Connect opens a client connection (TCP plus ApiVersions, as one round
// trip). Conn numbers the client's connections to that broker.
type Connect struct{ Conn uint32 }

// ConnectAck says the connection is ready. It carries what the client
// learns from ApiVersions that the simulator models: the cluster's
// finalized transaction.version (ApiVersionsResponse.FinalizedFeatures).
type ConnectAck struct {
	Conn               uint32
	TransactionVersion int16
}

// Close is the client closing a connection (a FIN): the broker drops the
// requests it had not started on.
type Close struct{ Conn uint32 }

// MetadataRequest asks a broker for its metadata cache.
type MetadataRequest struct {
	Conn uint32
	ID   int64
}

// MetadataResponse carries the broker's current snapshot (possibly stale).
type MetadataResponse struct {
	ID       int64
	Topology *Topology
	Snapshot *Snapshot
	// TopicErrors is each topic's error_code (by topic index), nil when
	// every topic is fine. A topic with an error carries no partition
	// metadata (MetadataResponseData.MetadataResponseTopic).
	TopicErrors []Error
}

// InitProducerIDRequest asks for a producer id. Without a transactional
// id any broker answers; with one, only its transaction coordinator.
type InitProducerIDRequest struct {
	Conn                 uint32
	ID                   int64
	TransactionalID      string
	TransactionTimeoutMs int64
	// ProducerID and ProducerEpoch are the caller's current ones when it
	// asks for an epoch bump (KIP-360), -1 otherwise.
	ProducerID    int64
	ProducerEpoch int16
}

// InitProducerIDResponse returns a producer id and epoch: a new id with
// epoch 0 without a transactional id (TransactionCoordinator.handleInitProducerId),
// the id's own producer id with a bumped epoch with one.
type InitProducerIDResponse struct {
	ID         int64
	Error      Error
	ProducerID int64
	Epoch      int16
}

// BatchHeader is the part of a record batch the simulator keeps besides
// record ids.
type BatchHeader struct {
	Partition     PartitionID
	Ref           int64 // the producer's batch number, for the trace
	ProducerID    int64 // -1 for a non-idempotent producer
	ProducerEpoch int16
	BaseSequence  int32 // -1 when not idempotent
	Bytes         int32 // size on the wire
	Transactional bool  // part of a transaction (isTransactional in the batch header)
}

// ProduceBatch is one batch in a produce request.
type ProduceBatch struct {
	BatchHeader
	Records []RecordID
}

// ProduceRequest carries at most one batch per partition.
type ProduceRequest struct {
	Conn uint32
	ID   int64
	// TransactionalID is the producer's transactional.id, "" without one:
	// a leader verifies transactional writes with its coordinator
	// (KIP-890).
	TransactionalID string
	Acks            int8     // -1, 0 or 1
	Timeout         sim.Time // request.timeout.ms: bounds the acks=all wait
	Batches         []ProduceBatch
	bytes           int
	// verified is what the transaction coordinator said about the
	// batches, once it answered (verify.go).
	verified *verifyResult
	// rule is the request rule that took the request when it arrived,
	// before its append (rules.go), kept while it waits for verification.
	rule *Rule
}

// PartitionResponse is the result for one batch.
type PartitionResponse struct {
	Partition   PartitionID
	Error       Error
	BaseOffset  int64
	Leader      sim.NodeID // KIP-951 leader hint on NOT_LEADER_OR_FOLLOWER, else NoLeader
	LeaderEpoch int32
	Ref         int64 // the batch answered (simulator-only, for the trace)
}

// ProduceResponse answers a produce request with acks 1 or all.
type ProduceResponse struct {
	ID         int64
	Partitions []PartitionResponse
}

// ---- messages between brokers ----

// FetchPartition is one partition in a follower's fetch.
type FetchPartition struct {
	Partition          PartitionID
	FetchOffset        int64
	LastFetchedEpoch   int32 // latest epoch in the follower's log, -1 if empty
	CurrentLeaderEpoch int32
}

// FetchRequest is a follower's fetch from its leader.
type FetchRequest struct {
	Replica    sim.NodeID
	ID         int64
	Partitions []FetchPartition
}

// FetchData is the leader's answer for one partition.
type FetchData struct {
	Partition     PartitionID
	Error         Error
	HighWatermark int64
	LogEndOffset  int64
	// DivergingEpoch is set when the follower's log diverges from the
	// leader's (KIP-595 style truncation, Kafka 2.7+): the follower must
	// truncate using this epoch and end offset before fetching again.
	Diverging      bool
	DivergingEpoch int32
	DivergingEnd   int64
	Batches        []LogBatch
	Records        []RecordID
}

// FetchResponse answers a fetch.
type FetchResponse struct {
	ID         int64
	Partitions []FetchData
	bytes      int
}

// ---- messages with the controller ----

// Heartbeat is a broker's periodic BrokerHeartbeat; a new Incarnation is a
// restart (a new registration).
type Heartbeat struct {
	Broker          sim.NodeID
	Incarnation     uint32
	MetadataVersion int64
	// UncleanShutdown: the process before this incarnation did not shut
	// down cleanly, so it wrote no clean-shutdown file and registers
	// without its previous broker epoch (BrokerRegistrationRequest
	// PreviousBrokerEpoch, KAFKA-15582); the controller then no longer
	// trusts its replicas' logs (KIP-966).
	UncleanShutdown bool
	// WantShutDown asks for a controlled shutdown (BrokerHeartbeatRequest).
	WantShutDown bool
}

// HeartbeatResponse carries the newest metadata when the broker is behind,
// and whether a broker in controlled shutdown may stop now.
type HeartbeatResponse struct {
	Snapshot       *Snapshot
	ShouldShutDown bool
}

// MetadataUpdate is pushed to every broker when the metadata changes.
type MetadataUpdate struct {
	Snapshot *Snapshot
}

// AlterPartition is a leader's request to change the ISR (KIP-497).
type AlterPartition struct {
	ID             int64 // numbers the broker's AlterPartition requests; its response carries it
	Partition      PartitionID
	Leader         sim.NodeID
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []sim.NodeID
	// ELR is the Eligible Leader Replicas (KIP-966, with
	// eligible.leader.replicas.version=1): replicas that left the ISR while
	// it was below min.insync.replicas. The high watermark cannot advance
	// then, so each holds every committed record and may lead once the
	// ISR is empty. In assignment order; never overlaps the ISR.
	ELR []sim.NodeID
	// LastKnownElr holds the last leader when the ISR became empty
	// (PartitionRegistration.lastKnownElr as the controller uses it by
	// default, useLastKnownLeaderInBalancedRecovery): the leader of last
	// resort once the ELR is empty too.
	LastKnownElr []sim.NodeID
}

// AlterPartitionResponse returns the partition's state after the change, or
// an error when the leader's view was stale.
type AlterPartitionResponse struct {
	ID        int64 // the request's
	Partition PartitionID
	Error     Error
	State     PartitionState
}

// Message names and sizes. Sizes are rough wire sizes: headers of a few dozen
// bytes plus the record data, which is what matters for bandwidth.
func (Connect) Name() string           { return "connect" }
func (Connect) Size() int              { return 64 }
func (ConnectAck) Name() string        { return "connect-ack" }
func (ConnectAck) Size() int           { return 64 }
func (Close) Name() string             { return "close" }
func (Close) Size() int                { return 0 }
func (*MetadataRequest) Name() string  { return "metadata-request" }
func (*MetadataRequest) Size() int     { return 64 }
func (*MetadataResponse) Name() string { return "metadata-response" }
func (m *MetadataResponse) Size() int {
	if m.Snapshot == nil {
		return 64
	}
	return 64 + 32*len(m.Snapshot.Partitions)
}
func (*InitProducerIDRequest) Name() string { return "init-producer-id-request" }
func (*InitProducerIDRequest) Size() int    { return 64 }
func (*InitProducerIDResponse) Name() string {
	return "init-producer-id-response"
}
func (*InitProducerIDResponse) Size() int   { return 64 }
func (*ProduceRequest) Name() string        { return "produce-request" }
func (r *ProduceRequest) Size() int         { return r.bytes }
func (*ProduceResponse) Name() string       { return "produce-response" }
func (r *ProduceRequest) RequestID() int64  { return r.ID }
func (r *ProduceResponse) RequestID() int64 { return r.ID }
func (r *ProduceResponse) Size() int        { return 64 + 32*len(r.Partitions) }
func (*FetchRequest) Name() string          { return "fetch-request" }
func (r *FetchRequest) Size() int           { return 64 + 32*len(r.Partitions) }
func (*FetchResponse) Name() string         { return "fetch-response" }
func (r *FetchResponse) Size() int          { return r.bytes }
func (*Heartbeat) Name() string             { return "broker-heartbeat" }
func (*Heartbeat) Size() int                { return 64 }
func (*HeartbeatResponse) Name() string     { return "broker-heartbeat-response" }
func (*HeartbeatResponse) Size() int        { return 64 }
func (*MetadataUpdate) Name() string        { return "metadata-update" }
func (m *MetadataUpdate) Size() int         { return 64 + 32*len(m.Snapshot.Partitions) }
func (*AlterPartition) Name() string        { return "alter-partition" }
func (*AlterPartition) Size() int           { return 64 }
func (*AlterPartitionResponse) Name() string {
	return "alter-partition-response"
}
func (*AlterPartitionResponse) Size() int { return 64 }

// Request ids, for the trace (sim.Request): a response carries the id
// of the request it answers.
func (m *MetadataRequest) RequestID() int64            { return m.ID }
func (m *MetadataResponse) RequestID() int64           { return m.ID }
func (m *InitProducerIDRequest) RequestID() int64      { return m.ID }
func (m *InitProducerIDResponse) RequestID() int64     { return m.ID }
func (r *FetchRequest) RequestID() int64               { return r.ID }
func (r *FetchResponse) RequestID() int64              { return r.ID }
func (m *AlterPartition) RequestID() int64             { return m.ID }
func (m *AlterPartitionResponse) RequestID() int64     { return m.ID }
func (m *FindCoordinatorRequest) RequestID() int64     { return m.ID }
func (m *FindCoordinatorResponse) RequestID() int64    { return m.ID }
func (m *AddPartitionsToTxnRequest) RequestID() int64  { return m.ID }
func (m *AddPartitionsToTxnResponse) RequestID() int64 { return m.ID }
func (m *EndTxnRequest) RequestID() int64              { return m.ID }
func (m *EndTxnResponse) RequestID() int64             { return m.ID }
func (m *WriteTxnMarkersRequest) RequestID() int64     { return m.ID }
func (m *WriteTxnMarkersResponse) RequestID() int64    { return m.ID }

// NewProduceRequest builds a request and works out its wire size.
func NewProduceRequest(conn uint32, id int64, acks int8, timeout sim.Time, batches []ProduceBatch) *ProduceRequest {
	r := &ProduceRequest{Conn: conn, ID: id, Acks: acks, Timeout: timeout, Batches: batches, bytes: 64}
	for i := range batches {
		r.bytes += int(batches[i].Bytes)
	}
	return r
}

// The connections between brokers and with the controller, each its own
// stream on a link (sim.Channel): in Kafka each is a connection of its
// own, so a cut that stalls one does not hold the others. A fetch and its
// answer travel on different channels, since the follower's connection to
// a leader and the leader's own fetch connection the other way share the
// two links. Client connections use channel 0.
const (
	chanFetch sim.Channel = 1 + iota
	chanFetchResponse
	chanMarkers
	chanMarkersResponse
	chanHeartbeat // BrokerLifecycleManager's heartbeat channel, both ways
	chanMetadata  // the controller's metadata, which a KRaft broker fetches
	chanAlterPartition
)

func (*FetchRequest) Channel() sim.Channel            { return chanFetch }
func (*FetchResponse) Channel() sim.Channel           { return chanFetchResponse }
func (*WriteTxnMarkersRequest) Channel() sim.Channel  { return chanMarkers }
func (*WriteTxnMarkersResponse) Channel() sim.Channel { return chanMarkersResponse }
func (*Heartbeat) Channel() sim.Channel               { return chanHeartbeat }
func (*HeartbeatResponse) Channel() sim.Channel       { return chanHeartbeat }
func (*MetadataUpdate) Channel() sim.Channel          { return chanMetadata }
func (*AlterPartition) Channel() sim.Channel          { return chanAlterPartition }
func (*AlterPartitionResponse) Channel() sim.Channel  { return chanAlterPartition }
