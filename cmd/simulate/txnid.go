package main

import (
	"fmt"
	"io"

	"github.com/kafkasim/kafkasim/broker"
)

func cmdTransactionID(args []string, out, _ io.Writer) error {
	fs := newFlags("transaction-id")
	n := fs.Int("partitions", broker.DefaultTxnStatePartitions, "partitions of "+broker.TransactionStateTopic+" (transaction.state.log.num.partitions)")
	brokers := fs.Int("brokers", 0, "brokers in the simulated cluster; shows which one leads the coordinator partition at start")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return &usageError{"transaction-id needs the transactional.id as its argument"}
	case fs.NArg() > 1:
		return &usageError{fmt.Sprintf("transaction-id takes one transactional.id, got %d arguments", fs.NArg())}
	}
	id := fs.Arg(0)
	// ProducerConfig validates transactional.id with NonEmptyString, and
	// TransactionCoordinator.handleInitProducerId rejects an empty one.
	if id == "" {
		return &usageError{"transaction-id: a transactional.id cannot be empty"}
	}
	if *n < 1 || *n > broker.MaxTxnStatePartitions {
		return &usageError{fmt.Sprintf("--partitions %d: use 1 to %d", *n, broker.MaxTxnStatePartitions)}
	}
	if *brokers < 0 {
		return &usageError{fmt.Sprintf("--brokers %d: need at least 1 broker, or leave it out", *brokers)}
	}

	p := broker.TxnCoordinatorPartition(id, *n)
	fmt.Fprintf(out, "transactional.id %q\n", id)
	fmt.Fprintf(out, "  %-17s %d\n", "String.hashCode", broker.JavaStringHashCode(id))
	fmt.Fprintf(out, "  %-17s %s-%d  (abs(hashCode) %% %d)\n", "coordinator", broker.TransactionStateTopic, p, *n)
	if *brokers > 0 {
		// broker.NewTopology starts partition p's replicas at broker
		// (p mod B)+1, and the cluster starts with each first replica leading.
		fmt.Fprintf(out, "  %-17s broker-%d  ((%d mod %d)+1; it moves on failover)\n", "leader at start", p%*brokers+1, p, *brokers)
	}
	return nil
}
