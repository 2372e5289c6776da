package scenarios

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
)

// lessonTries reads, from each lesson's section of LESSONS.md, the --set
// arguments its text suggests: each `...` span that has some is one
// combination.
func lessonTries(t *testing.T) map[string][][]string {
	data, err := os.ReadFile("../LESSONS.md")
	require.NoError(t, err)
	tries := map[string][][]string{}
	span := regexp.MustCompile("`[^`]*--set [^`]*`")
	set := regexp.MustCompile(`--set ([a-z.]+=\S+)`)
	for _, section := range strings.Split(string(data), "\n## ")[1:] {
		name, body, _ := strings.Cut(section, "\n")
		for _, sp := range span.FindAllString(body, -1) {
			var sets []string
			for _, m := range set.FindAllStringSubmatch(strings.Trim(sp, "`"), -1) {
				sets = append(sets, strings.TrimRight(m[1], ".,;:)"))
			}
			if !slices.ContainsFunc(tries[name], func(s []string) bool { return slices.Equal(s, sets) }) {
				tries[name] = append(tries[name], sets)
			}
		}
	}
	return tries
}

// TestEveryReportedErrorIsExplained runs every lesson at seed 1, as it is
// and with each --set its LESSONS.md section suggests, and checks that
// every error name a report counts has its own entry in errorMeanings (not
// the fallback for request-rule answers) and that the text report prints
// the explanation under the count.
func TestEveryReportedErrorIsExplained(t *testing.T) {
	tries := lessonTries(t)
	require.NotEmpty(t, tries["acks0-broker-crash"], "LESSONS.md's Try sections were found")
	var mu sync.Mutex
	seen := map[string]bool{}
	t.Run("lessons", func(t *testing.T) {
		for _, e := range Catalog() {
			for _, sets := range append([][]string{nil}, tries[e.Name]...) {
				t.Run(e.Name+" "+strings.Join(sets, " "), func(t *testing.T) {
					t.Parallel()
					s, err := Load(e.Name, sets)
					require.NoError(t, err)
					seed := uint64(1)
					rep := s.Run(RunOptions{Seed: &seed}).Report
					var text strings.Builder
					require.NoError(t, rep.WriteText(&text, s.Title))
					for name := range rep.Errors {
						mu.Lock()
						seen[name] = true
						mu.Unlock()
						assert.True(t, slices.ContainsFunc(errorMeanings, func(m errorMeaning) bool { return m.name == name }),
							"%s has no entry in errorMeanings", name)
						note := rep.ErrorNotes[name]
						require.NotEmpty(t, note, name)
						// The count's line, then the note's first words.
						words := strings.Fields(note)
						require.GreaterOrEqual(t, len(words), 3, note)
						first := strings.Join(words[:3], " ")
						assert.Regexp(t, regexp.QuoteMeta(name)+` +\d+\n    `+regexp.QuoteMeta(first), text.String())
					}
				})
			}
		}
	})
	t.Logf("error names seen: %v", slices.Sorted(maps.Keys(seen)))
	assert.True(t, seen["CONCURRENT_TRANSACTIONS"] && seen["KafkaException"] && seen["OUT_OF_ORDER_SEQUENCE_NUMBER"],
		"the lessons report the errors issue 12 named")
}

// TestErrorMeanings checks the table itself: names are Kafka's (the
// broker's error table knows each), none twice, every field filled; and
// every error a broker may send gets a line, from the table or from its
// class.
func TestErrorMeanings(t *testing.T) {
	names := map[string]bool{}
	for _, m := range errorMeanings {
		_, ok := broker.ParseError(m.name)
		assert.True(t, ok, "%s is not an error name the broker package knows", m.name)
		assert.False(t, names[m.name], "%s twice", m.name)
		names[m.name] = true
		for _, f := range []string{m.why, m.reaction, m.source} {
			assert.NotEmpty(t, f, m.name)
		}
	}
	produce := []errorFrom{{"Produce", 5}}
	for _, name := range broker.RuleErrors() {
		assert.NotEmpty(t, errorNoteText(name, produce, injection{}, 5, errorFacts{}), name)
	}
	rule := injection{fault: 1, api: "Produce", fired: 5}
	tests := []struct {
		name  string
		from  []errorFrom
		inj   injection
		total int64
		facts errorFacts
		want  string
	}{
		{"NOT_ENOUGH_REPLICAS", produce, injection{}, 5, errorFacts{}, "Produce: the ISR was below min.insync.replicas"},
		{"NOT_ENOUGH_REPLICAS", produce, injection{}, 5, errorFacts{unverified: 1}, "Produce: the leader could not verify with the transaction coordinator"},
		{"NOT_ENOUGH_REPLICAS", produce, rule, 5, errorFacts{}, "answered by fault 1 (request-rule on Produce); retried"},
		{"NOT_ENOUGH_REPLICAS", produce, rule, 8, errorFacts{}, "at least 5 answered by fault 1 (request-rule on Produce); the rest from Produce: the ISR was below"},
		{"INVALID_RECORD", produce, injection{}, 5, errorFacts{}, "Produce: a request-rule fault's answer; not retriable"},
		{"INVALID_RECORD", produce, injection{fault: 3, api: "Produce", fired: 5}, 5, errorFacts{}, "answered by fault 3 (request-rule on Produce); not retriable"},
		{"KAFKA_STORAGE_ERROR", produce, injection{}, 5, errorFacts{}, "Produce: a request-rule fault's answer; retriable: the producer refreshed its metadata"},
		{"UNSUPPORTED_VERSION", produce, injection{}, 5, errorFacts{}, "Produce: a request-rule fault's answer; fatal"},
		{"PRODUCER_FENCED", []errorFrom{{"EndTxn", 1}}, injection{}, 1, errorFacts{coordinatorAborts: 1}, "EndTxn: the coordinator had aborted the transaction after transaction.timeout.ms"},
		{"PRODUCER_FENCED", []errorFrom{{"EndTxn", 1}}, injection{}, 1, errorFacts{newInstances: 1}, "EndTxn: a newer instance"},
		{"TimeoutException", []errorFrom{{"delivery.timeout.ms", 3}}, injection{}, 3, errorFacts{}, "delivery.timeout.ms: batches were not acknowledged within delivery.timeout.ms"},
		{"TimeoutException", []errorFrom{{"send() after max.block.ms", 3}}, injection{}, 3, errorFacts{}, "send() after max.block.ms: the topic's metadata did not come"},
		{"NETWORK_EXCEPTION", []errorFrom{{"Produce", 3}, {"EndTxn", 1}}, injection{}, 4, errorFacts{}, "Produce 3, EndTxn 1: the connection broke"},
		{"CONCURRENT_TRANSACTIONS", []errorFrom{{"AddPartitionsToTxn", 2}}, injection{}, 2, errorFacts{},
			"AddPartitionsToTxn: the transactional.id's previous transaction was still ending (markers not yet written); AddPartitionsToTxn asked again after 20 ms"},
		{"INVALID_PRODUCER_EPOCH", []errorFrom{{"EndTxn", 1}}, injection{}, 1, errorFacts{newInstances: 1},
			"EndTxn: the producer's epoch was older than the current one: a newer instance with the same transactional.id had taken a newer epoch; from the coordinator it means fenced"},
	}
	for _, tt := range tests {
		got := errorNoteText(tt.name, tt.from, tt.inj, tt.total, tt.facts)
		assert.True(t, strings.HasPrefix(got, tt.want), "%s: %s", tt.name, got)
	}
}

// TestErrorFacts checks that the causes the notes choose from are read
// from the trace's typed events: the ISR check's refusals in one lesson,
// the coordinator's timeout abort in another, a new instance's fence in a
// third; a request rule's answers count as no cause.
func TestErrorFacts(t *testing.T) {
	tests := []struct {
		lesson string
		check  func(t *testing.T, f errorFacts)
	}{
		{"min-isr-not-enough-replicas", func(t *testing.T, f errorFacts) {
			assert.Positive(t, f.belowMinISR)
			assert.Zero(t, f.unverified)
		}},
		{"transaction-timeout-abort", func(t *testing.T, f errorFacts) {
			assert.Positive(t, f.coordinatorAborts)
			assert.Zero(t, f.newInstances)
			assert.Zero(t, f.belowMinISR+f.unverified, "NOT_ENOUGH_REPLICAS came from the request rule")
		}},
		{"zombie-fencing", func(t *testing.T, f errorFacts) {
			assert.Positive(t, f.newInstances)
			assert.Zero(t, f.coordinatorAborts)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lesson, func(t *testing.T) {
			s, err := Load(tt.lesson, nil)
			require.NoError(t, err)
			tt.check(t, s.Run(RunOptions{}).run.errorFacts())
		})
	}
}
