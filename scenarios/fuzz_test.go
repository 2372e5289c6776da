package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// checkParseResult is what every input must give: a validated scenario, or
// one *Error on one line. Never a panic.
func checkParseResult(t *testing.T, s *Scenario, err error) {
	t.Helper()
	if err != nil {
		var se *Error
		if !errors.As(err, &se) {
			t.Fatalf("error is %T, not *Error: %v", err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	if s.plan == nil {
		t.Fatal("a scenario without a plan passed validation")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(`{"name":"j","duration":"1s","topics":[{"name":"t"}],"workload":{"rate":10}}`))
	f.Add([]byte("name: x\na: &a [1, 1]\nb: &b [*a, *a]\ntopics: *b\n"))
	f.Add([]byte("name: x\nfaults:\n  - at: 1s\n    do: isolate\n    broker: leader t-0\n"))
	for _, e := range Catalog() {
		f.Add(e.Text)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, nil)
		checkParseResult(t, s, err)
	})
}

func FuzzSet(f *testing.F) {
	for _, kv := range []string{
		"producer.acks=1", "broker.min.insync.replicas=2", "topic.partitions=4", "cluster.brokers=5",
		"workload.records=10", "seed=3", "duration=2s", "cluster.network.bandwidth=10Mbps",
		"producer.enable.idempotence=true", "=", "topic.=", "cluster.network.=x",
	} {
		f.Add(kv)
	}
	f.Fuzz(func(t *testing.T, kv string) {
		s, err := Parse("t.yaml", []byte(base), []string{kv})
		checkParseResult(t, s, err)
	})
}

// fuzzRunSmall reports whether a parsed scenario is small enough for a
// fuzzed run to stay cheap: a few thousand records, a short workload and
// fault schedule, few partitions.
func fuzzRunSmall(s *Scenario) bool {
	w := &s.Workload
	span := maxSpan.Seconds()
	if s.Duration.Set {
		span = s.Duration.Seconds()
	}
	records := span * w.Rate
	if w.Records > 0 {
		records = min(records, float64(w.Records))
		span = min(span, float64(w.Records)/w.Rate)
	}
	if records > 3000 || span > 30 || len(s.plan.faults) > 10 || len(s.plan.topo.Partitions) > 100 {
		return false
	}
	for _, f := range s.plan.faults {
		if f.At.Seconds() > 30 || f.For.Seconds() > 30 {
			return false
		}
	}
	return true
}

// FuzzRun fuzzes a run, not only the parser: random scenario bytes that
// validate, and are small (fuzzRunSmall), must run to the end without a
// panic, with the replication invariants holding and every record
// accounted for.
func FuzzRun(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(base + "faults:\n  - {at: 200ms, do: crash, broker: leader orders-0}\n  - {at: 600ms, do: restart, broker: crashed}\n"))
	f.Add([]byte(base + "faults:\n  - {at: 100ms, do: restart-producer, resend-unacked: true}\n  - {at: 300ms, do: isolate, broker: 2, from: [brokers], for: 300ms}\n"))
	f.Add([]byte(strings.Replace(base, "  acks: all", "  acks: all\n  transactional.id: app", 1) + "  transactions: {records: 5, abort.every: 3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, nil)
		checkParseResult(t, s, err)
		if err != nil || !fuzzRunSmall(s) {
			return
		}
		res := s.Run(RunOptions{CheckInvariants: true, Messages: true})
		if res.InvariantErr != nil {
			t.Fatalf("invariant broken: %v", res.InvariantErr)
		}
		c := res.Report.Records
		if c.Acked+c.Failed+c.Pending != c.Sent {
			t.Fatalf("records unaccounted for: %+v", c)
		}
	})
}
