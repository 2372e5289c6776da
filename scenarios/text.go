package scenarios

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/codec"
	"github.com/kafkasim/kafkasim/producer"
)

// WriteText prints a report for people: what was configured, what happened
// to the records, each anomaly with its explanation, the partitions, and the
// expectations.
func (r *Report) WriteText(w io.Writer, title string) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "%s (seed %d)\n", r.Scenario, r.Seed)
	if title != "" {
		fmt.Fprintf(b, "%s\n", title)
		for _, set := range titleSets(title, r.Config.Sets) {
			fmt.Fprintf(b, "note: --set %s changes a setting this lesson's title is about\n", set)
		}
	}
	b.WriteString("\nconfigured\n")
	about := titleKeys(title)
	p := r.Config.Producer
	producerDefaults := map[string]string{}
	for _, d := range producer.Defaults() {
		producerDefaults[d.Name] = d.Value
	}
	prop := func(name string) string { return shownSetting(name, p[name], producerDefaults[name]) }
	fmt.Fprintf(b, "  producer   %s %s %s %s\n", prop("acks"), prop("enable.idempotence"), prop("retries"), prop("max.in.flight.requests.per.connection"))
	fmt.Fprintf(b, "             %s %s %s %s\n", prop("linger.ms"), prop("batch.size"), prop("request.timeout.ms"), prop("delivery.timeout.ms"))
	if c := r.Config.ProducerClient; c != "" {
		fmt.Fprintf(b, "             client %s: its own defaults replace the Java client's (the defaults shown are the Java client's)\n", c)
	}
	for _, d := range producer.Defaults() {
		if !coreProducerProperties[d.Name] && (p[d.Name] != d.Value || about[d.Name]) {
			fmt.Fprintf(b, "             %s\n", prop(d.Name))
		}
	}
	for _, n := range r.Config.ProducerNotes {
		fmt.Fprintf(b, "             note: %s\n", n)
	}
	br := r.Config.Broker
	c := r.Config.Cluster
	brokerDefaults := broker.PropertyDefaults()
	brokerProp := func(name, v string) string { return shownSetting(name, v, brokerDefaults[name]) }
	fmt.Fprintf(b, "  cluster    %d brokers (Kafka %s%s), latency %s, jitter %s, bandwidth %s\n", c.Brokers, c.Version, featureText(c, p["transactional.id"] != ""), c.Latency, c.Jitter, c.Bandwidth)
	fmt.Fprintf(b, "  brokers    %s %s\n", brokerProp("replica.lag.time.max.ms", br["replica.lag.time.max.ms"]), brokerProp("broker.session.timeout.ms", br["broker.session.timeout.ms"]))
	for _, name := range broker.PropertyNames(false) {
		if v, def := br[name], brokerDefaults[name]; !brokerLineProperties[name] && (v != def || about[name] && !topicLineProperties[name]) {
			fmt.Fprintf(b, "             %s\n", brokerProp(name, v))
		}
	}
	for _, t := range r.Config.Topics {
		minISR := brokerProp("min.insync.replicas", t.Config["min.insync.replicas"])
		if t.Name == broker.TransactionStateTopic { // its own default: transaction.state.log.min.isr
			minISR = shownSetting("min.insync.replicas", t.Config["min.insync.replicas"], br["transaction.state.log.min.isr"])
		}
		fmt.Fprintf(b, "  topic      %s: %s, replication.factor=%d, %s, %s\n",
			t.Name, plural(t.Partitions, "partition"), t.ReplicationFactor,
			minISR, brokerProp("unclean.leader.election.enable", t.Config["unclean.leader.election.enable"]))
	}
	wl := r.Config.Workload
	keys := "no keys"
	if wl.Keys > 0 {
		keys = fmt.Sprintf("%d keys (%s)", wl.Keys, wl.KeyDistribution)
	}
	records := "no record limit"
	if wl.Records > 0 {
		records = strconv.Itoa(wl.Records) + " records"
	}
	to := wl.Topic
	if tx := wl.Transactions; tx != nil {
		to = strings.Join(tx.Topics, " and ")
	}
	fmt.Fprintf(b, "  workload   %s to %s at %s records/s, %s, %d-byte %s values, duration %s\n", records, to, FormatNumber(wl.Rate), keys, wl.ValueBytes, wl.Value, wl.Duration)
	if tx := wl.Transactions; tx != nil {
		aborts := ""
		if tx.AbortEvery > 0 {
			aborts = fmt.Sprintf("; the application aborts every %s", ordinal(tx.AbortEvery))
		}
		if p["transactional.id"] == "" {
			fmt.Fprintf(b, "             groups of %s, each written to every topic (no transactional.id: plain sends)%s\n", plural(tx.Records, "record"), aborts)
		} else {
			fmt.Fprintf(b, "             transactions of %s, each written to every topic%s\n", plural(tx.Records, "record"), aborts)
		}
	}
	for i, f := range r.Config.Faults {
		label := "faults"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(b, "  %-10s %s\n", label, f)
	}

	rc := r.Records
	b.WriteString("\nrecords\n")
	fmt.Fprintf(b, "  sent %d   acked %d   failed %d   pending %d\n", rc.Sent, rc.Acked, rc.Failed, rc.Pending)
	fmt.Fprintf(b, "  lost %d   duplicated %d   reordered %d   ambiguous %d\n", rc.Lost, rc.Duplicated, rc.Reordered, rc.Ambiguous)
	if rc.KeysSplit > 0 {
		fmt.Fprintf(b, "  keys split across partitions %d (their per-key order is gone)\n", rc.KeysSplit)
		if ks := rc.KeysSplitExample; ks != nil {
			fmt.Fprintf(b, "    e.g. %s went to %s, then record %d to %s", ks.Key, ks.From, ks.Record, ks.To)
			if ks.After != "" {
				fmt.Fprintf(b, " after %s", ks.After)
			}
			b.WriteString("\n")
		}
	}
	if st := r.StoppedByBudget; st != nil {
		fmt.Fprintf(b, "  note: %s; what was running then:\n", st)
		for _, l := range st.Busiest {
			fmt.Fprintf(b, "    %s\n", l)
		}
		if st.Hint != "" {
			fmt.Fprintf(b, "    likely cause: %s\n", st.Hint)
		}
	} else if !r.Converged {
		b.WriteString("  note: the cluster did not converge after the faults were healed; the audit read the logs as they were\n")
		if len(r.NotConverged) > 0 {
			b.WriteString("  what kept it from converging:\n")
		}
		for _, bl := range r.NotConverged {
			fmt.Fprintf(b, "    %s: %s\n", bl.What, bl.Reason)
		}
	}
	if r.TraceCut {
		b.WriteString("  note: the trace reached its cap and was cut (a trace-cut entry marks where); explanations of later events may be partial\n")
	}
	if t := r.Transactions; t != nil && r.Config.Producer["transactional.id"] == "" {
		b.WriteString("\ngroups of records (no transactional.id, so no transactions: what the application was told)\n")
		fmt.Fprintf(b, "  %d in all: every record acknowledged %d   some record failed %d   sent again %d\n",
			t.Total, t.Committed, t.Failed, t.Retried)
	} else if t != nil {
		b.WriteString("\ntransactions (what the application was told)\n")
		fmt.Fprintf(b, "  %d in all: committed %d   aborted by the application %d   failed %d   open %d   sent again %d\n",
			t.Total, t.Committed, t.Aborted, t.Failed, t.Open, t.Retried)
		if t.TimedOut+t.FencedOpen > 0 {
			fmt.Fprintf(b, "  aborted by the coordinator %d: open longer than transaction.timeout.ms %d, open when a new instance fenced it %d\n",
				t.TimedOut+t.FencedOpen, t.TimedOut, t.FencedOpen)
		}
	}
	if c := r.Consumers; c != nil {
		b.WriteString("\nconsumers of the final logs\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  isolation.level\tvisible\taborted read\ttorn transactions\tcommitted lost")
		for _, v := range []struct {
			name string
			v    ConsumerView
		}{{"read_committed", c.ReadCommitted}, {"read_uncommitted", c.ReadUncommitted}} {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\n", v.name, v.v.Visible, v.v.AbortedRead, v.v.Torn, v.v.CommittedLost)
		}
		tw.Flush()
	}
	if len(r.Errors) > 0 {
		names := make([]string, 0, len(r.Errors))
		for n := range r.Errors {
			names = append(names, n)
		}
		sort.Strings(names)
		// What one count is depends on where the error came from
		// (producer.ErrorSource); each note names the places.
		b.WriteString("\nerrors seen by the producer (one count per answer, expired batch or record failed in send())\n")
		for _, n := range names {
			fmt.Fprintf(b, "  %-34s %d\n", n, r.Errors[n])
			b.WriteString(wrap(r.ErrorNotes[n], "    ", 100))
		}
	}
	if r.AnomalyCount > 0 {
		fmt.Fprintf(b, "\nanomalies (%d)\n", r.AnomalyCount)
		shown := map[string]int{}
		for _, a := range r.Anomalies {
			if shown[a.Kind]++; shown[a.Kind] > textAnomaliesPerKind {
				continue
			}
			key := ""
			if a.Key != nil {
				key = ", " + *a.Key
			}
			fmt.Fprintf(b, "  %s record %d (%s%s)\n", a.Kind, a.Record, a.partitions(), key)
			b.WriteString(wrap(a.Explanation, "    ", 100))
		}
		if more := r.AnomalyCount - min(len(r.Anomalies), textShown(shown)); more > 0 {
			fmt.Fprintf(b, "  … and %d more (--format json lists up to %d with explanations, --anomalies all every one)\n", more, DefaultAnomalies)
		}
	}

	if len(r.Timeline) > 0 {
		b.WriteString("\ntimeline\n")
		for _, e := range r.Timeline {
			fmt.Fprintf(b, "  %10s  %-12s %s\n", e.At, e.Node, e.What)
		}
	}

	b.WriteString("\npartitions\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	// With transactions the last stable offset and the markers matter.
	txn := false
	for _, pr := range r.Partitions {
		txn = txn || pr.Markers > 0 || pr.LastStableOffset != pr.HighWatermark
	}
	stable, stableHead := func(PartitionReport) string { return "" }, ""
	if txn {
		stableHead = "\tlast stable\tmarkers"
		stable = func(pr PartitionReport) string {
			return fmt.Sprintf("\t%d\t%d", pr.LastStableOffset, pr.Markers)
		}
	}
	fmt.Fprintln(tw, "  partition\tleader\tisr\treplicas\tlog end\thigh watermark"+stableHead+"\trecords\tbytes\toffline\telections\tunclean")
	for _, pr := range r.Partitions {
		fmt.Fprintf(tw, "  %s-%d\t%d\t%v\t%v\t%d\t%d%s\t%d\t%d\t%s\t%d\t%d\n", pr.Topic, pr.Partition, pr.Leader, pr.ISR, pr.Replicas,
			pr.LogEndOffset, pr.HighWatermark, stable(pr), pr.Records, pr.Bytes, FormatQuantity(pr.OfflineMs, "ms"), pr.LeaderElections, pr.UncleanElections)
	}
	tw.Flush()
	if slices.ContainsFunc(r.Partitions, func(pr PartitionReport) bool { return pr.Topic == broker.TransactionStateTopic }) {
		fmt.Fprintf(b, "  (%s's offsets are the coordinator's log entries, not records: records and bytes count application records)\n", broker.TransactionStateTopic)
	}

	m := r.Metrics
	l := r.LatencyMs
	fmt.Fprintf(b, "\nlatency (send to callback)  avg %s  p50 %s  p90 %s  p99 %s  max %s\n", FormatQuantity(l.Avg, "ms"), FormatQuantity(l.P50, "ms"), FormatQuantity(l.P90, "ms"), FormatQuantity(l.P99, "ms"), FormatQuantity(l.Max, "ms"))
	fmt.Fprintf(b, "metrics  record-send-rate %s records/s  records-per-request-avg %s  batch-size-avg %sB  request-latency-avg %s\n",
		FormatNumber(m["record-send-rate"]), FormatNumber(m["records-per-request-avg"]), FormatNumber(m["batch-size-avg"]), FormatQuantity(m["request-latency-avg"], "ms"))
	fmt.Fprintf(b, "         record-queue-time-avg %s  compression-rate-avg %s  outgoing-byte-rate %sB/s  bufferpool-wait %s\n",
		FormatQuantity(m["record-queue-time-avg"], "ms"), FormatNumber(m["compression-rate-avg"]), FormatNumber(m["outgoing-byte-rate"]), FormatQuantity(m["bufferpool-wait-time-total"], Unit("metrics.bufferpool-wait-time-total")))
	fmt.Fprintf(b, "         record-retry-total %s  record-error-total %s\n", FormatNumber(m["record-retry-total"]), FormatNumber(m["record-error-total"]))
	if c, err := codec.Parse(p["compression.type"]); err == nil && c != codec.None {
		fmt.Fprintf(b, "cpu      compression took %s of the application thread (%s modelled at %s MB/s per core, codec/cost.go)\n",
			FormatQuantity(r.CompressionCPUMs, "ms"), c, FormatNumber(codec.CostTable()[c].CompressMBps))
	}

	if len(r.Expectations) > 0 {
		b.WriteString("\nexpectations\n")
		for _, e := range r.Expectations {
			mark := "ok  "
			if !e.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(b, "  %s %s\n", mark, e)
		}
	}
	b.WriteString("\n" + glossaryPointer)
	_, err := io.WriteString(w, b.String())
	return err
}

// glossaryPointer ends the report and a comparison: where their terms are
// explained.
const glossaryPointer = "terms (ISR, high watermark, log end offset, last stable offset, epochs, sequence numbers): simulate help glossary\n"

// coreProducerProperties are the producer properties the configured block
// always shows, whatever their value: those most lessons turn on. Every
// other property shows when it differs from Kafka's default.
var coreProducerProperties = map[string]bool{
	"acks": true, "enable.idempotence": true, "retries": true, "max.in.flight.requests.per.connection": true,
	"linger.ms": true, "batch.size": true, "request.timeout.ms": true, "delivery.timeout.ms": true,
}

// brokerLineProperties are the broker properties the configured block
// always shows on its brokers line; topicLineProperties those every topic
// line shows (the topic's value, which a title speaks of).
var (
	brokerLineProperties = map[string]bool{"replica.lag.time.max.ms": true, "broker.session.timeout.ms": true}
	topicLineProperties  = map[string]bool{"min.insync.replicas": true, "unclean.leader.election.enable": true}
)

// shownSetting is one property as the configured block shows it:
// name=value, with Kafka's default in brackets when the value differs
// from it (an empty default is "unset").
func shownSetting(name, value, def string) string {
	if value == def {
		return name + "=" + value
	}
	if def == "" {
		def = "unset"
	}
	return fmt.Sprintf("%s=%s (default %s)", name, value, def)
}

// titleWords are the words by which a title speaks of a setting without
// naming it; a title that names a property (acks=1, linger.ms,
// min.insync.replicas) speaks of it too.
var titleWords = []struct{ word, key string }{
	{"idempoten", "enable.idempotence"},
	{"compression", "compression.type"},
	{"in flight", "max.in.flight.requests.per.connection"},
	{"unclean", "unclean.leader.election.enable"},
	{"partitioner", "partitioner.class"},
	{"round robin", "partitioner.class"},
	{"sticky", "partitioner.class"},
	{"librdkafka", "client"},
	{"send() blocks", "max.block.ms"},
	{"delivery timeout", "delivery.timeout.ms"},
	{"keyless", "keys"}, // workload.keys=0 makes every record keyless
	{"eligible leader replicas", "eligible.leader.replicas.version"},
	{"eligible leader replicas", "version"}, // cluster.version: on by default from 4.1
}

// titleSets picks the --set arguments that change a setting the lesson's
// title speaks of: the property's name appears in the title, or one of
// titleWords does. The setting is the part of the key after its section
// (producer.acks, topic.min.insync.replicas, cluster.features.X). The
// scenario's own keys (workload.records, cluster.brokers, seed) are
// common words ("records"), so only their titleWords count.
func titleSets(title string, sets []string) []string {
	lower := strings.ToLower(title)
	var out []string
	for _, set := range sets {
		key, _, _ := strings.Cut(set, "=")
		key = strings.TrimSpace(key)
		name, property := key[strings.LastIndex(key, ".")+1:], false
		for _, prefix := range []string{"producer.", "broker.", "cluster.broker.", "cluster.features.", "topic."} {
			if rest, ok := strings.CutPrefix(key, prefix); ok {
				name, property = rest, true
				break
			}
		}
		if (property && speaksOf(lower, name)) || hasTitleWord(lower, name) {
			out = append(out, strings.TrimSpace(set))
		}
	}
	return out
}

// speaksOf reports whether a lower-cased title speaks of the setting name:
// names it, or has one of titleWords for it.
func speaksOf(lowerTitle, name string) bool {
	return containsWord(lowerTitle, strings.ToLower(name)) || hasTitleWord(lowerTitle, name)
}

// hasTitleWord reports whether a lower-cased title has one of
// titleWords for the setting name.
func hasTitleWord(lowerTitle, name string) bool {
	for _, tw := range titleWords {
		if tw.key == name && strings.Contains(lowerTitle, tw.word) {
			return true
		}
	}
	return false
}

// titleKeys are the producer and broker properties the title speaks of:
// the configured block shows them even at their default, since the lesson
// is about them.
func titleKeys(title string) map[string]bool {
	lower := strings.ToLower(title)
	keys := map[string]bool{}
	for _, name := range append(producer.PropertyNames(), broker.PropertyNames(false)...) {
		if title != "" && speaksOf(lower, name) {
			keys[name] = true
		}
	}
	return keys
}

// containsWord reports whether text has word, not as part of a longer
// name (letters, digits, dots, dashes and underscores join names).
func containsWord(text, word string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !inName(text[start-1])) && (end == len(text) || !inName(text[end])) {
			return true
		}
		i = start + 1
	}
}

func inName(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// partitions names where an anomaly's record is: its partition, or every
// partition holding a copy ("orders-1 and orders-5").
func (a *Anomaly) partitions() string {
	var names []string
	for _, c := range a.Copies {
		if !slices.Contains(names, c.Partition) {
			names = append(names, c.Partition)
		}
	}
	if len(names) == 0 {
		return a.Partition
	}
	return strings.Join(names, " and ")
}

// textAnomaliesPerKind is how many anomalies of each kind the text report
// explains; they are often alike.
const textAnomaliesPerKind = 2

func textShown(shown map[string]int) int {
	n := 0
	for _, k := range []string{"lost", "duplicated", "reordered", "ambiguous"} {
		n += min(shown[k], textAnomaliesPerKind)
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// String is the expectation and what the run got, with the path's unit
// when it is a time, a size or a rate (a count's unit is what its path
// names): "metrics.bufferpool-wait-time-total > 5000000000 ns (got
// 8722198115 ns = 8.722s)".
func (e ExpectResult) String() string {
	unit := shownUnit(Unit(e.Path))
	return fmt.Sprintf("%s %s (got %s)", e.Path, wantText(e.Want, unit), exactQuantity(e.Got, unit))
}

// wantText is an expectation's condition with the path's unit.
func wantText(w, unit string) string {
	if c, err := parseCondition(w); err == nil {
		if unit == "" {
			return c.op + " " + FormatNumber(c.num)
		}
		return c.op + " " + FormatNumber(c.num) + " " + unit
	}
	return w
}

// wrap breaks text into indented lines of at most width characters.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line)+len(word)+1 > width && line != indent {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// ordinal is "2nd", "3rd", "5th"; 1 is "one".
func ordinal(n int) string {
	if n == 1 {
		return "one"
	}
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// featureText names the feature levels worth showing: those on, and those
// off where the release turns them on; transaction.version only for a
// transactional producer, the only one it changes.
func featureText(c ClusterReport, transactional bool) string {
	v, err := broker.ParseVersion(c.Version)
	if err != nil {
		return ""
	}
	defaults := broker.FeatureDefaults(v)
	var out string
	for _, name := range broker.FeatureNames() {
		if name == "transaction.version" && !transactional {
			continue
		}
		if level := c.Features[name]; level != "0" || defaults[name] != "0" {
			out += ", " + name + "=" + level
		}
	}
	return out
}
