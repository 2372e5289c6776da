package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
)

// ExpectResult is one evaluated expectation.
type ExpectResult struct {
	Path string  `json:"path"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	OK   bool    `json:"ok"`
}

var recordFields = []string{"sent", "acked", "failed", "pending", "lost", "duplicated", "reordered", "ambiguous", "keys_split"}
var latencyFields = []string{"avg", "p50", "p90", "p99", "p999", "max"}
var partitionFields = []string{"leader", "log_end_offset", "high_watermark", "last_stable_offset", "markers", "records", "bytes", "offline_ms", "leader_elections", "unclean_elections"}
var transactionFields = []string{"total", "committed", "aborted", "failed", "open", "retried"}
var consumerViews = []string{"read_committed", "read_uncommitted"}
var consumerFields = []string{"visible", "aborted_read", "torn_transactions", "committed_lost"}

type condition struct {
	op  string
	num float64
}

// parseCondition reads "0", "> 0", ">= 1", "!= 3", ...
func parseCondition(s string) (condition, error) {
	s = strings.TrimSpace(s)
	c := condition{op: "=="}
	for _, op := range []string{"==", "!=", ">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(s, op); ok {
			c.op, s = op, strings.TrimSpace(rest)
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return c, fmt.Errorf("condition must be a number, optionally after ==, !=, >, >=, < or <=, like 0 or \"> 0\"")
	}
	c.num = n
	return c, nil
}

func (c condition) holds(v float64) bool {
	switch c.op {
	case "!=":
		return v != c.num
	case ">":
		return v > c.num
	case ">=":
		return v >= c.num
	case "<":
		return v < c.num
	case "<=":
		return v <= c.num
	}
	return v == c.num
}

// checkPath reports whether a report path exists for this scenario.
func checkPath(path string, topo *broker.Topology) error {
	section, rest, _ := strings.Cut(path, ".")
	switch section {
	case "records":
		if slices.Contains(recordFields, rest) {
			return nil
		}
		return fmt.Errorf("records has %s", strings.Join(recordFields, ", "))
	case "errors":
		if _, ok := broker.ParseError(rest); ok && rest != "NONE" {
			return nil
		}
		return fmt.Errorf("errors.%s is not a Kafka error name (like NOT_ENOUGH_REPLICAS or TimeoutException)", rest)
	case "metrics":
		if slices.Contains(metricNames, rest) {
			return nil
		}
		return fmt.Errorf("metrics has %s", strings.Join(metricNames, ", "))
	case "latency_ms":
		if slices.Contains(latencyFields, rest) {
			return nil
		}
		return fmt.Errorf("latency_ms has %s", strings.Join(latencyFields, ", "))
	case "partitions":
		i := strings.LastIndex(rest, ".")
		if i < 0 {
			return fmt.Errorf("write partitions.<topic-partition>.<field>, like partitions.orders-0.offline_ms")
		}
		name, field := rest[:i], rest[i+1:]
		found := false
		for p := range topo.Partitions {
			found = found || topo.Name(broker.PartitionID(p)) == name
		}
		if !found {
			return fmt.Errorf("no partition %q", name)
		}
		if !slices.Contains(partitionFields, field) {
			return fmt.Errorf("a partition has %s", strings.Join(partitionFields, ", "))
		}
		return nil
	case "transactions":
		if slices.Contains(transactionFields, rest) {
			return nil
		}
		return fmt.Errorf("transactions has %s", strings.Join(transactionFields, ", "))
	case "consumers":
		view, field, _ := strings.Cut(rest, ".")
		if slices.Contains(consumerViews, view) && slices.Contains(consumerFields, field) {
			return nil
		}
		return fmt.Errorf("write consumers.<%s>.<%s>", strings.Join(consumerViews, "|"), strings.Join(consumerFields, "|"))
	}
	return fmt.Errorf("a path starts with records, errors, metrics, latency_ms, partitions, transactions or consumers")
}

func (s *Scenario) validateExpect(pl *plan) error {
	for _, e := range s.Expect {
		key := "expect." + e.Path
		if err := checkPath(e.Path, pl.topo); err != nil {
			return s.errAt(key, "unknown report path: %s", err.Error())
		}
		if _, err := parseCondition(e.Want); err != nil {
			return s.errAt(key, "%s", err.Error())
		}
	}
	return nil
}

// lookup finds a number in the report by path.
func (r *Report) lookup(path string) float64 {
	section, rest, _ := strings.Cut(path, ".")
	switch section {
	case "records":
		c := r.Records
		return float64(map[string]int64{"sent": c.Sent, "acked": c.Acked, "failed": c.Failed, "pending": c.Pending,
			"lost": c.Lost, "duplicated": c.Duplicated, "reordered": c.Reordered, "ambiguous": c.Ambiguous, "keys_split": c.KeysSplit}[rest])
	case "errors":
		return float64(r.Errors[rest])
	case "metrics":
		return r.Metrics[rest]
	case "latency_ms":
		l := r.LatencyMs
		return map[string]float64{"avg": l.Avg, "p50": l.P50, "p90": l.P90, "p99": l.P99, "p999": l.P999, "max": l.Max}[rest]
	case "partitions":
		i := strings.LastIndex(rest, ".")
		name, field := rest[:i], rest[i+1:]
		for _, p := range r.Partitions {
			if fmt.Sprintf("%s-%d", p.Topic, p.Partition) != name {
				continue
			}
			return map[string]float64{"leader": float64(p.Leader), "log_end_offset": float64(p.LogEndOffset),
				"high_watermark": float64(p.HighWatermark), "last_stable_offset": float64(p.LastStableOffset), "markers": float64(p.Markers),
				"records": float64(p.Records), "bytes": float64(p.Bytes), "offline_ms": p.OfflineMs,
				"leader_elections": float64(p.LeaderElections), "unclean_elections": float64(p.UncleanElections)}[field]
		}
	case "transactions":
		if t := r.Transactions; t != nil {
			return float64(map[string]int64{"total": t.Total, "committed": t.Committed, "aborted": t.Aborted,
				"failed": t.Failed, "open": t.Open, "retried": t.Retried}[rest])
		}
	case "consumers":
		if c := r.Consumers; c != nil {
			view, field, _ := strings.Cut(rest, ".")
			v := c.ReadCommitted
			if view == "read_uncommitted" {
				v = c.ReadUncommitted
			}
			return float64(map[string]int64{"visible": v.Visible, "aborted_read": v.AbortedRead,
				"torn_transactions": v.Torn, "committed_lost": v.CommittedLost}[field])
		}
	}
	return 0
}

// evaluate checks every expectation against the report.
func (s *Scenario) evaluate(r *Report) {
	for _, e := range s.Expect {
		c, _ := parseCondition(e.Want)
		got := r.lookup(e.Path)
		r.Expectations = append(r.Expectations, ExpectResult{Path: e.Path, Want: strings.TrimSpace(e.Want), Got: got, OK: c.holds(got)})
	}
}
