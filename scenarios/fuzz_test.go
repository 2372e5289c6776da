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
