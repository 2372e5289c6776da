package scenarios

import (
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultKindsComplete checks that every entry of the fault table says
// everything a kind needs: which keys it takes (keys of a fault entry),
// how it is checked, what it does and how the report describes it.
func TestFaultKindsComplete(t *testing.T) {
	faultKeys := fieldKeys(reflect.TypeOf(Fault{}))
	seen := map[string]bool{}
	for _, k := range faultKinds {
		t.Run(k.name, func(t *testing.T) {
			assert.Regexp(t, nameRE, k.name, "kebab-case")
			assert.False(t, seen[k.name], "listed once")
			seen[k.name] = true
			assert.NotEmpty(t, k.keys)
			for _, key := range k.keys {
				assert.Contains(t, faultKeys, key, "a key of a fault entry")
				assert.NotContains(t, []string{"at", "do"}, key, "every fault takes at and do")
			}
			assert.NotNil(t, k.check, "validation")
			assert.NotNil(t, k.fire, "apply")
			assert.NotNil(t, k.describe, "description")
			assert.Same(t, &faultKinds[slices.IndexFunc(faultKinds, func(o faultKind) bool { return o.name == k.name })], lookupFault(k.name))
		})
	}
	assert.Nil(t, lookupFault("explode"))
}

// TestReadmeListsEveryFault keeps the README's list of faults in step with
// the table.
func TestReadmeListsEveryFault(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, list, ok := strings.Cut(string(readme), "\nFaults: ")
	require.True(t, ok, "README has a paragraph that starts with Faults:")
	list, _, _ = strings.Cut(list, "\n\n")
	for _, k := range faultKinds {
		assert.Contains(t, list, "`"+k.name+"`", "README's list of faults names %s", k.name)
	}
}

// TestFaultBrokerSelector checks that every kind that takes a broker
// insists on one and resolves it.
func TestFaultBrokerSelector(t *testing.T) {
	for _, k := range faultKinds {
		if !slices.Contains(k.keys, "broker") {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(base+"faults:\n  - at: 1s\n    do: "+k.name+"\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "faults[0].broker: missing; say which broker")

			_, err = Parse("t.yaml", []byte(base+"faults:\n  - at: 1s\n    do: "+k.name+"\n    broker: 9\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "faults[0].broker: no broker 9; broker ids are 1 to 3")
		})
	}
}

// TestDescribeFault checks each kind's line in the report's schedule.
func TestDescribeFault(t *testing.T) {
	tests := []struct {
		fault string
		want  string
	}{
		{"{at: 1s, do: crash, broker: leader orders-0}", "1.000s crash leader orders-0"},
		{"{at: 1s, do: restart, broker: crashed}", "1.000s restart crashed"},
		{"{at: 1s, do: pause, broker: 2, for: 100ms}", "1.000s pause 2 for 100ms"},
		{"{at: 1s, do: isolate, broker: 3, from: [brokers, producer], direction: in}", "1.000s isolate 3 from brokers, producer (inbound only)"},
		{"{at: 1s, do: isolate, broker: 3, for: 2s}", "1.000s isolate 3 from brokers, controller, producer for 2s"},
		{"{at: 1s, do: isolate, broker: 3, from: [producer], direction: out, mode: reject}", "1.000s isolate 3 from producer (outbound only), rejecting"},
		{"{at: 1s, do: delay, broker: 2, by: 5ms, for: 300ms}", "1.000s delay 2 by 5ms for 300ms"},
		{"{at: 1s, do: drop-responses, broker: 1, count: 2}", "1.000s drop-responses 1, 2 requests"},
		{"{at: 1s, do: fail-requests, broker: all, error: NOT_ENOUGH_REPLICAS, for: 50ms}", "1.000s fail-requests all with NOT_ENOUGH_REPLICAS for 50ms"},
		{"{at: 1s, do: restart-producer}", "1.000s restart-producer"},
		{"{at: 1s, do: restart-producer, resend-unacked: true}", "1.000s restart-producer, and the application re-sends what was not acknowledged"},
		{"{at: 1s, do: add-partitions, topic: orders, partitions: 5}", "1.000s add-partitions orders to 5"},
		{"{at: 1s, do: start-zombie, for: 300ms}", "1.000s start-zombie  for 300ms"},
	}
	described := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(base+"faults:\n  - "+tt.fault+"\n"), nil)
			require.NoError(t, err)
			require.Len(t, s.plan.faults, 1)
			assert.Equal(t, tt.want, describeFault(&s.plan.faults[0]))
			described[s.plan.faults[0].Do] = true
		})
	}
	assert.Equal(t, faultKindNames(), slices.Sorted(maps.Keys(described)), "a line for every kind")
}
