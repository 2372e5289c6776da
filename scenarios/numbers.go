package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
)

// Numbers visits every number of the report with its path, the names
// `expect` takes and the sweep's CSV columns: records.*, errors.*,
// metrics.*, compression_cpu_ms, latency_ms.*, partitions.<topic-partition>.*, then
// transactions.* and consumers.<view>.* when the workload has
// transactions, faults.<n>.fired for each request rule (n its position in
// the file, from 1), and anomaly_count. The order is fixed (map keys sorted), so
// two walks of one report visit the same paths in the same order.
func (r *Report) Numbers(visit func(path string, v float64)) {
	c := r.Records
	visitEach(visit, "records.", []string{"sent", "acked", "failed", "pending", "lost", "duplicated", "reordered", "ambiguous", "keys_split"},
		c.Sent, c.Acked, c.Failed, c.Pending, c.Lost, c.Duplicated, c.Reordered, c.Ambiguous, c.KeysSplit)
	for _, name := range slices.Sorted(maps.Keys(r.Errors)) {
		visit("errors."+name, float64(r.Errors[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(r.Metrics)) {
		visit("metrics."+name, r.Metrics[name])
	}
	visit("compression_cpu_ms", r.CompressionCPUMs)
	l := r.LatencyMs
	visitEach(visit, "latency_ms.", []string{"avg", "p50", "p90", "p99", "p999", "max"}, l.Avg, l.P50, l.P90, l.P99, l.P999, l.Max)
	for _, p := range r.Partitions {
		visitEach(visit, fmt.Sprintf("partitions.%s-%d.", p.Topic, p.Partition),
			[]string{"leader", "log_end_offset", "high_watermark", "last_stable_offset", "markers", "records", "bytes", "offline_ms", "leader_elections", "unclean_elections"},
			float64(p.Leader), float64(p.LogEndOffset), float64(p.HighWatermark), float64(p.LastStableOffset), float64(p.Markers),
			float64(p.Records), float64(p.Bytes), p.OfflineMs, float64(p.LeaderElections), float64(p.UncleanElections))
	}
	if t := r.Transactions; t != nil {
		visitEach(visit, "transactions.", []string{"total", "committed", "aborted", "failed", "open", "retried", "coordinator_timed_out", "coordinator_fenced_open"},
			t.Total, t.Committed, t.Aborted, t.Failed, t.Open, t.Retried, t.TimedOut, t.FencedOpen)
	}
	if c := r.Consumers; c != nil {
		for _, v := range []struct {
			name string
			view ConsumerView
		}{{"read_committed", c.ReadCommitted}, {"read_uncommitted", c.ReadUncommitted}} {
			visitEach(visit, "consumers."+v.name+".", []string{"visible", "aborted_read", "torn_transactions", "committed_lost"},
				v.view.Visible, v.view.AbortedRead, v.view.Torn, v.view.CommittedLost)
		}
	}
	for _, rr := range r.Rules {
		visit(fmt.Sprintf("faults.%d.fired", rr.Fault), float64(rr.Fired))
	}
	visit("anomaly_count", float64(r.AnomalyCount))
}

// visitEach visits prefix+names[i] with values[i].
func visitEach[N int64 | float64](visit func(string, float64), prefix string, names []string, values ...N) {
	for i, v := range values {
		visit(prefix+names[i], float64(v))
	}
}

// units are the units of the report's numbers, by path: an exact path,
// a section's prefix (records.), or a partitions.* or consumers.* field
// (.bytes). Unit looks a path up; a test checks every path has one.
var units = map[string]string{
	"records.":           "records",
	"records.keys_split": "keys",
	// A count of errors is of Produce batch attempts, other requests,
	// expired batches or records send() failed, by where the producer met
	// it (producer.ErrorSource; the text report's notes say which).
	"errors.":       "errors",
	"latency_ms.":   "ms",
	"transactions.": "transactions",
	"faults.":       "requests", // a request rule's firings
	"anomaly_count": "anomalies",
	// The producer's modelled CPU time compressing (codec/cost.go).
	"compression_cpu_ms": "ms",

	// Kafka's producer metrics (producerMetrics), in their units.
	"metrics.batch-size-avg":             "B",
	"metrics.batch-split-rate":           "batches/s",
	"metrics.batch-split-total":          "batches",
	"metrics.bufferpool-wait-time-total": "ns",
	"metrics.compression-rate-avg":       "ratio",
	"metrics.connection-close-total":     "connections",
	"metrics.outgoing-byte-rate":         "B/s",
	"metrics.record-error-rate":          "records/s",
	"metrics.record-error-total":         "records",
	"metrics.record-queue-time-avg":      "ms",
	"metrics.record-retry-rate":          "records/s",
	"metrics.record-retry-total":         "records",
	"metrics.record-send-rate":           "records/s",
	"metrics.record-send-total":          "records",
	"metrics.record-size-avg":            "B",
	"metrics.records-per-request-avg":    "records/request",
	"metrics.request-latency-avg":        "ms",
	"metrics.request-latency-max":        "ms",

	// partitions.<topic-partition>.<field>
	".leader":             "broker id",
	".log_end_offset":     "offset",
	".high_watermark":     "offset",
	".last_stable_offset": "offset",
	".markers":            "markers",
	".records":            "records",
	".bytes":              "B",
	".offline_ms":         "ms",
	".leader_elections":   "elections",
	".unclean_elections":  "elections",
	// consumers.<view>.<field>
	".visible":           "records",
	".aborted_read":      "records",
	".torn_transactions": "transactions",
	".committed_lost":    "records",
}

// Unit is the unit of the number at path (records, ms, B, B/s,
// records/s, ratio, ...), "" for a path the report does not hold.
func Unit(path string) string {
	if u, ok := units[path]; ok {
		return u
	}
	section, _, _ := strings.Cut(path, ".")
	if section == "partitions" || section == "consumers" {
		return units[path[strings.LastIndexByte(path, '.'):]]
	}
	if section == "metrics" {
		return "" // a metric the table above does not list
	}
	return units[section+"."]
}

// exactQuantity is v as a report path holds it, with its unit, and a time
// of a second or more also as FormatQuantity ("8722198115 ns = 8.72 s"):
// what an expectation compares is the raw number.
func exactQuantity(v float64, unit string) string {
	s := FormatNumber(v)
	if unit != "" {
		s += " " + unit
	}
	ms := v
	if unit == "ns" {
		ms = v / 1e6
	}
	if (unit == "ns" || unit == "ms") && math.Abs(ms) >= 1000 {
		s += " = " + FormatQuantity(ms, "ms")
	}
	return s
}

// FormatNumber writes v for people: never in scientific notation, whole
// numbers in full, others to about three significant digits (at least
// one decimal below 1000, none from 1000 up), trailing zeros dropped.
func FormatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	decimals := 0
	switch a := math.Abs(v); {
	case a == math.Trunc(a) || a >= 1000:
	case a >= 100:
		decimals = 1
	case a >= 1:
		decimals = 2
	default:
		decimals = min(9, max(3, 2-int(math.Floor(math.Log10(a)))))
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// CheckPath says whether path is a number a report of this scenario can
// hold: what `expect` and `simulate sweep --columns` take. The error says
// what the path's section holds.
func (s *Scenario) CheckPath(path string) error {
	return s.plan.checkPath(path)
}

func (pl *plan) checkPath(path string) error {
	known := shapeOf(pl.topo, pl.ruleFaults()...).paths() // the paths a report of this scenario can hold
	if slices.Contains(known, path) || isErrorPath(path) {
		return nil
	}
	return fmt.Errorf("unknown report path: %w", pathError(path, known))
}

// shapeOf is a report of this topology and these request rules (their
// positions in the file) with every number zero and every section
// present: its Numbers are the paths a run's report can hold, errors aside
// (any Kafka error name may appear).
func shapeOf(topo *broker.Topology, rules ...int) *Report {
	r := &Report{Metrics: map[string]float64{}, Transactions: &TransactionsReport{}, Consumers: &ConsumersReport{}}
	for _, f := range rules {
		r.Rules = append(r.Rules, RuleReport{Fault: f})
	}
	for _, pm := range producerMetrics {
		r.Metrics[pm.name] = 0
	}
	for _, p := range topo.Partitions {
		r.Partitions = append(r.Partitions, PartitionReport{Topic: topo.Topics[p.Topic].Name, Partition: p.Index})
	}
	return r
}

// paths lists the report's paths in Numbers order.
func (r *Report) paths() []string {
	var paths []string
	r.Numbers(func(p string, _ float64) { paths = append(paths, p) })
	return paths
}

// pathError explains why path, which is not among known (a shape's
// paths), is not a report path: it lists what the path's section holds.
func pathError(path string, known []string) error {
	section, rest, _ := strings.Cut(path, ".")
	if section == "errors" {
		return fmt.Errorf("errors.%s is not a Kafka error name (like NOT_ENOUGH_REPLICAS or TimeoutException)", rest)
	}
	var tails []string // what follows "section." in the section's paths
	for _, p := range known {
		if t, ok := strings.CutPrefix(p, section+"."); ok {
			tails = append(tails, t)
		}
	}
	switch {
	case section == "faults":
		if len(tails) == 0 {
			return fmt.Errorf("faults.N.fired counts the firings of the file's Nth fault when it is a request-rule, and this scenario has none")
		}
		return fmt.Errorf("faults.N.fired counts the firings of the file's Nth fault when it is a request-rule; here: %s", strings.Join(tails, ", "))
	case len(tails) == 0:
		return fmt.Errorf("a path starts with records, errors, metrics, latency_ms, partitions, transactions, consumers or faults, or is anomaly_count")
	case section == "partitions":
		// A topic name may hold dots, a field name none.
		i := strings.LastIndexByte(rest, '.')
		if i < 0 {
			return fmt.Errorf("write partitions.<topic-partition>.<field>, like partitions.orders-0.offline_ms")
		}
		names, fields := splitTails(tails, strings.LastIndexByte)
		if !slices.Contains(names, rest[:i]) {
			return fmt.Errorf("no partition %q", rest[:i])
		}
		return fmt.Errorf("a partition has %s", strings.Join(fields, ", "))
	case section == "consumers":
		views, fields := splitTails(tails, strings.IndexByte)
		return fmt.Errorf("write consumers.<%s>.<%s>", strings.Join(views, "|"), strings.Join(fields, "|"))
	}
	return fmt.Errorf("%s has %s", section, strings.Join(tails, ", "))
}

// splitTails cuts each tail at the dot dot finds into the distinct parts
// before and after it, in order of first appearance.
func splitTails(tails []string, dot func(string, byte) int) (heads, fields []string) {
	for _, t := range tails {
		i := dot(t, '.')
		if !slices.Contains(heads, t[:i]) {
			heads = append(heads, t[:i])
		}
		if !slices.Contains(fields, t[i+1:]) {
			fields = append(fields, t[i+1:])
		}
	}
	return heads, fields
}
