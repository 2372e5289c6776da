package broker

import "github.com/kafkasim/kafkasim/sim"

// Config holds the cluster-wide broker settings the simulator models. The
// names in comments are the Kafka properties; defaults are Kafka 4.x
// (ReplicationConfigs, KRaftConfigs, ServerLogConfigs).
type Config struct {
	ReplicaLagTimeMax       sim.Time // replica.lag.time.max.ms = 30000
	ReplicaFetchWaitMax     sim.Time // replica.fetch.wait.max.ms = 500
	ReplicaFetchBackoff     sim.Time // replica.fetch.backoff.ms = 1000
	ReplicaSocketTimeout    sim.Time // replica.socket.timeout.ms = 30000
	ReplicaFetchMaxBytes    int      // replica.fetch.max.bytes = 1048576
	ReplicaFetchMinBytes    int      // replica.fetch.min.bytes = 1
	BrokerHeartbeatInterval sim.Time // broker.heartbeat.interval.ms = 2000
	BrokerSessionTimeout    sim.Time // broker.session.timeout.ms = 9000
	// Topic defaults: the broker acts on each Topic's own values, which a
	// topic without an override takes from these.
	MinInsyncReplicas int  // min.insync.replicas = 1
	UncleanElection   bool // unclean.leader.election.enable = false

	// Kafka37 selects broker rules that changed in Kafka 3.7:
	//   - KAFKA-15583: the high watermark does not advance while the ISR is
	//     smaller than min.insync.replicas, and min.insync.replicas above
	//     the replication factor is capped at it. Before 3.7 the high
	//     watermark advanced anyway (so acks=all requests already waiting
	//     when the ISR shrank completed with NOT_ENOUGH_REPLICAS_AFTER_APPEND)
	//     and an uncapped setting refused every acks=all write.
	//   - KIP-951: NOT_LEADER_OR_FOLLOWER answers name the new leader.
	Kafka37 bool

	// The cost model (simulator parameters, not Kafka properties): CPU time
	// a broker spends on a produce request before its append completes
	// (cost.per.request), and per batch and per MiB appended, by a leader
	// or a follower (cost.per.batch, cost.per.mb).
	CostPerRequest sim.Time
	CostPerBatch   sim.Time
	CostPerMB      sim.Time

	// Transactions.
	TransactionMaxTimeout       sim.Time // transaction.max.timeout.ms = 900000
	TransactionAbortCheckPeriod sim.Time // transaction.abort.timed.out.transaction.cleanup.interval.ms = 10000
}

// DefaultConfig is Kafka 4.x's defaults.
func DefaultConfig() Config {
	return Config{
		ReplicaLagTimeMax:       30 * sim.Second,
		ReplicaFetchWaitMax:     500 * sim.Millisecond,
		ReplicaFetchBackoff:     1000 * sim.Millisecond,
		ReplicaSocketTimeout:    30 * sim.Second,
		ReplicaFetchMaxBytes:    1 << 20,
		ReplicaFetchMinBytes:    1,
		BrokerHeartbeatInterval: 2 * sim.Second,
		BrokerSessionTimeout:    9 * sim.Second,
		MinInsyncReplicas:       1,
		UncleanElection:         false,
		Kafka37:                 true,

		TransactionMaxTimeout:       900 * sim.Second,
		TransactionAbortCheckPeriod: 10 * sim.Second,
	}
}
