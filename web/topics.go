package web

import "github.com/kafkasim/kafkasim/scenarios"

// topics groups the lessons for the first page, in the order a course
// takes them: one entry per topic, each lesson in exactly one
// (TestTopicsCoverTheCatalog). A lesson added to the catalog and not
// here is listed under "More lessons" until it is given a topic.
var topics = []struct {
	title   string
	lessons []string
}{
	{"acks, the ISR and leader elections", []string{
		"acks0-broker-crash", "acks1-leader-failover", "acks-all-leader-failover", "min-isr-not-enough-replicas",
		"isr-shrink-to-leader", "unclean-election-loss", "controlled-vs-hard-shutdown", "last-replica-standing"}},
	{"Duplicates, order and the idempotent producer", []string{
		"retry-duplicates", "inflight-reordering", "inflight-one-keeps-order", "idempotent-producer",
		"after-append-duplicates", "producer-restart-duplicates", "delivery-timeout-ambiguous",
		"idempotence-is-per-partition", "idempotence-after-epoch-bump", "producer-state-expired"}},
	{"Batching, compression and buffer memory", []string{
		"linger-batching", "batch-size", "compression-codecs", "buffer-exhaustion", "message-too-large-splits"}},
	{"Keys and partitioners", []string{
		"hot-key-skew", "sticky-vs-round-robin", "round-robin-starvation", "keyed-vs-keyless-leader-loss",
		"partition-count-change", "client-partitioner-mismatch"}},
	{"Transactions and consumers", []string{
		"transactions-atomic", "read-uncommitted-sees-aborts", "zombie-fencing", "transaction-timeout-abort",
		"transaction-v2-epoch-bump"}},
	{"Network cuts, delays and timeouts", []string{
		"short-cut-is-a-delay", "follower-cut-rejoins", "request-timeout-closes-connection"}},
	{"Hunting fault schedules that break a setting", []string{"hunt-acks1", "hunt-safe-config"}},
}

// otherTopic holds the lessons no topic names.
const otherTopic = "More lessons"

// topicGroup is one topic on the first page, its lessons in catalog order.
type topicGroup struct {
	Title   string
	Lessons []scenarios.Entry
}

// groupLessons puts the catalog's lessons under their topics, in the
// topics' order; lessons no topic names go last.
func groupLessons(catalog []scenarios.Entry) []topicGroup {
	topicOf := map[string]int{}
	for i, t := range topics {
		for _, name := range t.lessons {
			topicOf[name] = i
		}
	}
	groups := make([]topicGroup, len(topics)+1)
	for i, t := range topics {
		groups[i].Title = t.title
	}
	groups[len(topics)].Title = otherTopic
	for _, e := range catalog {
		i, ok := topicOf[e.Name]
		if !ok {
			i = len(topics)
		}
		groups[i].Lessons = append(groups[i].Lessons, e)
	}
	var out []topicGroup
	for _, g := range groups {
		if len(g.Lessons) > 0 {
			out = append(out, g)
		}
	}
	return out
}
