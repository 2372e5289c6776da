package sweep

import (
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/producer"
	"github.com/kafkasim/kafkasim/scenarios"
)

func TestParseVaries(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  []Vary
		err   string
	}{
		{"none", nil, nil, ""},
		{"one", []string{"producer.acks=1,all"}, []Vary{{"producer.acks", []string{"1", "all"}}}, ""},
		{"spaces trimmed", []string{" producer.linger.ms = 0, 5 "}, []Vary{{"producer.linger.ms", []string{"0", "5"}}}, ""},
		{"a value holding =", []string{"producer.client.id=a=b"}, []Vary{{"producer.client.id", []string{"a=b"}}}, ""},
		{"two, in order", []string{"b=1", "a=2,3"}, []Vary{{"b", []string{"1"}}, {"a", []string{"2", "3"}}}, ""},
		{"no =", []string{"producer.acks"}, nil, `--vary "producer.acks": expected KEY=V1,V2,...`},
		{"no key", []string{"=1,2"}, nil, `--vary "=1,2": expected KEY=V1,V2,...`},
		{"no values", []string{"producer.acks="}, nil, `--vary "producer.acks=": expected KEY=V1,V2,...`},
		{"an empty value", []string{"producer.acks=1,,all"}, nil, `--vary "producer.acks=1,,all": an empty value`},
		{"a trailing comma", []string{"producer.acks=1,"}, nil, `--vary "producer.acks=1,": an empty value`},
		{"a key twice", []string{"producer.acks=1", "producer.acks=all"}, nil, "--vary producer.acks given twice; list every value in one --vary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVaries(tt.flags)
			if tt.err != "" {
				require.Error(t, err)
				assert.Equal(t, tt.err, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSeeds(t *testing.T) {
	tests := []struct {
		in   string
		want []uint64
		err  string
	}{
		{"", nil, ""},
		{"7", []uint64{7}, ""},
		{"3-5", []uint64{3, 4, 5}, ""},
		{" 3 - 4 ", []uint64{3, 4}, ""},
		{"4-4", []uint64{4}, ""},
		{"18446744073709551615", []uint64{18446744073709551615}, ""},
		{"18446744073709551614-18446744073709551615", []uint64{18446744073709551614, 18446744073709551615}, ""},
		{"5-1", nil, "--seeds 5-1: the range must go up"},
		{"a-b", nil, `--seeds "a-b": expected A-B (inclusive) or one number`},
		{"1-", nil, `--seeds "1-": expected A-B (inclusive) or one number`},
		{"-3", nil, `--seeds "-3": expected A-B (inclusive) or one number`},
		{"1-2-3", nil, `--seeds "1-2-3": expected A-B (inclusive) or one number`},
		{"1-100001", nil, "--seeds 1-100001: more than 100000 seeds"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeeds(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Equal(t, tt.err, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// lesson is a built-in scenario small grids run against.
const lesson = "inflight-one-keeps-order"

func TestNewGrid(t *testing.T) {
	seed := func(n uint64) *uint64 { return &n }
	tests := []struct {
		name   string
		sets   []string
		varies []Vary
		seeds  []uint64
		combos [][]string
		runs   []Run
	}{
		{name: "no --vary, the scenario's seed", combos: [][]string{nil}, runs: []Run{{Combo: 0}}},
		{name: "the --set values come first", sets: []string{"workload.records=10"},
			varies: []Vary{{"producer.acks", []string{"1", "all"}}}, seeds: []uint64{4},
			combos: [][]string{{"producer.acks=1"}, {"producer.acks=all"}},
			runs: []Run{{Combo: 0, Sets: []string{"workload.records=10", "producer.acks=1"}, seedFlag: seed(4)},
				{Combo: 1, Sets: []string{"workload.records=10", "producer.acks=all"}, seedFlag: seed(4)}}},
		{name: "the first --vary slowest, the seed fastest",
			varies: []Vary{{"producer.linger.ms", []string{"0", "5"}}, {"producer.acks", []string{"1", "all"}}}, seeds: []uint64{1, 2},
			combos: [][]string{{"producer.linger.ms=0", "producer.acks=1"}, {"producer.linger.ms=0", "producer.acks=all"},
				{"producer.linger.ms=5", "producer.acks=1"}, {"producer.linger.ms=5", "producer.acks=all"}},
			runs: []Run{
				{Combo: 0, Sets: []string{"producer.linger.ms=0", "producer.acks=1"}, seedFlag: seed(1)},
				{Combo: 0, Sets: []string{"producer.linger.ms=0", "producer.acks=1"}, seedFlag: seed(2)},
				{Combo: 1, Sets: []string{"producer.linger.ms=0", "producer.acks=all"}, seedFlag: seed(1)},
				{Combo: 1, Sets: []string{"producer.linger.ms=0", "producer.acks=all"}, seedFlag: seed(2)},
				{Combo: 2, Sets: []string{"producer.linger.ms=5", "producer.acks=1"}, seedFlag: seed(1)},
				{Combo: 2, Sets: []string{"producer.linger.ms=5", "producer.acks=1"}, seedFlag: seed(2)},
				{Combo: 3, Sets: []string{"producer.linger.ms=5", "producer.acks=all"}, seedFlag: seed(1)},
				{Combo: 3, Sets: []string{"producer.linger.ms=5", "producer.acks=all"}, seedFlag: seed(2)},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGrid(lesson, tt.sets, tt.varies, tt.seeds)
			require.NoError(t, err)
			assert.Equal(t, lesson, g.Scenario)
			assert.Equal(t, tt.varies, g.Varies)
			assert.Equal(t, tt.combos, g.Combos)
			assert.Equal(t, tt.runs, g.Runs)
		})
	}
}

func TestNewGridBadInput(t *testing.T) {
	tests := []struct {
		name   string
		sets   []string
		varies []Vary
		seeds  int
		want   string
	}{
		{name: "bad --set", sets: []string{"producer.ack=1"}, want: `--set producer.ack: unknown producer property "ack"`},
		{name: "unknown --vary key", varies: []Vary{{"producer.ack", []string{"1", "all"}}},
			want: `--vary producer.ack=1: built-in inflight-one-keeps-order: --set producer.ack: unknown producer property "ack"`},
		{name: "bad --vary value, named alone", varies: []Vary{{"producer.linger.ms", []string{"0"}}, {"producer.acks", []string{"1", "2"}}},
			want: "--vary producer.acks=2: "},
		{name: "a combination Kafka refuses", varies: []Vary{{"producer.enable.idempotence", []string{"true"}}, {"producer.acks", []string{"1"}}},
			want: "--vary combination producer.enable.idempotence=true, producer.acks=1: "},
		{name: "too many combinations", varies: []Vary{{"producer.linger.ms", values(50)}, {"producer.retries", values(50)}, {"workload.records", values(50)}},
			want: "the --vary values make more than 100000 combinations"},
		{name: "too many runs", varies: []Vary{{"producer.linger.ms", values(20)}}, seeds: 10_000,
			want: "the sweep has 200000 runs; at most 100000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seeds := make([]uint64, tt.seeds)
			_, err := NewGrid(lesson, tt.sets, tt.varies, seeds)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

// values are "1" to "n".
func values(n int) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = strconv.Itoa(i + 1)
	}
	return vs
}

func FuzzParseVaries(f *testing.F) {
	for _, s := range []string{"producer.acks=1,all", "a=1", "=", "a=,", "a= 1 , 2 ", "a=b=c", ""} {
		f.Add(s, "b=2")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		vs, err := ParseVaries([]string{a, b})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		require.Len(t, vs, 2)
		assert.NotEqual(t, vs[0].Key, vs[1].Key)
		for _, v := range vs {
			assert.NotEmpty(t, v.Key)
			assert.NotEmpty(t, v.Values)
			for _, x := range v.Values {
				assert.NotEmpty(t, x)
				assert.Equal(t, strings.TrimSpace(x), x)
			}
		}
	})
}

func FuzzParseSeeds(f *testing.F) {
	for _, s := range []string{"", "1", "1-3", "5-1", "a-b", "0-99999", "0-100000", "18446744073709551615", " 2 - 3 ", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seeds, err := ParseSeeds(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if s == "" {
			assert.Empty(t, seeds)
			return
		}
		require.NotEmpty(t, seeds)
		assert.LessOrEqual(t, len(seeds), MaxRuns)
		for i := 1; i < len(seeds); i++ {
			require.Equal(t, seeds[i-1]+1, seeds[i], "consecutive")
		}
	})
}

// TestStoppedRuns: a sweep says which runs a budget cut short, since their
// numbers enter the means.
func TestStoppedRuns(t *testing.T) {
	g := &Grid{Runs: []Run{{Seed: 1, Sets: []string{"producer.acks=1"}}, {Seed: 2, Sets: []string{"producer.acks=all"}}}}
	assert.Empty(t, g.Stopped())
	g.Runs[1].Stopped = &scenarios.BudgetStop{Budget: "events", Limit: "5000000 events", AtMs: 12}
	assert.Equal(t, "1 of 2 runs stopped by a budget; their numbers are of partial runs "+
		"(first: seed 2, producer.acks=all: stopped by the events budget (5000000 events) at 12 ms of virtual time)", g.Stopped())
}

// TestFewerCollections checks that nested and overlapping calls raise the
// collector's target once and that the last undo restores it.
func TestFewerCollections(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: FewerCollections leaves it alone")
	}
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	first := FewerCollections()
	second := FewerCollections()
	assert.Equal(t, gcPercent, debug.SetGCPercent(gcPercent))
	first()
	assert.Equal(t, gcPercent, debug.SetGCPercent(gcPercent), "one call still holds it")
	second()
	assert.Equal(t, 100, debug.SetGCPercent(100), "the last undo restores it")
}

// TestExecuteMatchesFreshRuns checks that a worker running its loaded
// scenario again for the next seed of a combination reports what a
// freshly loaded scenario does, on lessons with faults and transactions.
func TestExecuteMatchesFreshRuns(t *testing.T) {
	for _, name := range []string{"transactions-atomic", "retry-duplicates", "zombie-fencing"} {
		g, err := NewGrid(name, nil, []Vary{{Key: "producer.linger.ms", Values: []string{"0", "20"}}}, []uint64{1, 2, 3})
		require.NoError(t, err)
		require.NoError(t, g.Execute(2, nil))
		for _, r := range g.Runs {
			s, err := scenarios.Load(name, r.Sets)
			require.NoError(t, err)
			want := map[string]float64{}
			s.Run(scenarios.RunOptions{Seed: r.seedFlag}).Report.Numbers(func(path string, v float64) { want[path] = v })
			assert.Equal(t, want, r.Numbers, "%s %v seed %d", name, r.Sets, *r.seedFlag)
		}
	}
}

// firstPartition sends every record to partition 0.
type firstPartition struct{}

func (firstPartition) Partition(producer.PartitionRequest) int { return 0 }

// TestGridTakesAPartitionerClass: a sweep may vary partitioner.class
// between the built-in partitioner and a student's own, given as a value
// as scenarios.Load takes it; without the value the class is unknown.
func TestGridTakesAPartitionerClass(t *testing.T) {
	class := producer.PartitionerClass{Name: "com.example.First", New: func(*rand.Rand) producer.Partitioner { return firstPartition{} }}
	varies, err := ParseVaries([]string{"producer.partitioner.class=built-in,com.example.First"})
	require.NoError(t, err)
	sets := []string{"workload.records=1200"}
	_, err = NewGrid("sticky-vs-round-robin", sets, varies, nil)
	require.ErrorContains(t, err, "com.example.First")

	g, err := NewGrid("sticky-vs-round-robin", sets, varies, nil, class)
	require.NoError(t, err)
	require.NoError(t, g.Execute(2, nil))
	require.Len(t, g.Runs, 2)
	builtIn, first := g.Runs[0].Numbers, g.Runs[1].Numbers
	assert.Equal(t, 1200.0, first["partitions.logs-0.records"], "every record in partition 0")
	assert.Zero(t, first["partitions.logs-1.records"])
	assert.Less(t, builtIn["partitions.logs-0.records"], 1200.0, "the built-in partitioner spreads them")
}
