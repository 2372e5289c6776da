package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func simulate(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
	}{
		{"list", []string{"list"}, 0, []string{"acks1-leader-failover", "acks=1 loses acknowledged records"}},
		{"show prints the lesson first", []string{"show", "retry-duplicates"}, 0, []string{"# The leader appends a batch", "name: retry-duplicates"}},
		{"run text", []string{"run", "inflight-one-keeps-order"}, 0, []string{"records", "reordered 0", "expectations", "ok   records.reordered == 0"}},
		{"run with set breaks the expectation", []string{"run", "inflight-one-keeps-order", "--set", "producer.max.in.flight.requests.per.connection=5"}, 1, []string{"FAIL records.reordered == 0"}},
		{"check named", []string{"check", "acks1-leader-failover", "inflight-one-keeps-order"}, 0, []string{"ok    acks1-leader-failover", "ok    inflight-one-keeps-order"}},
		{"help", []string{"help"}, 0, []string{"simulate run NAME|FILE"}},
		{"help help", []string{"help", "help"}, 0, []string{"Usage: simulate help [CMD]\n"}},
		{"help --version", []string{"help", "--version"}, 0, []string{"Usage: simulate --version\n"}},
		{"compare", []string{"compare", "inflight-reordering", "--vs", "producer.max.in.flight.requests.per.connection=1"}, 0,
			[]string{"  A  producer.max.in.flight.requests.per.connection=5\n  B  producer.max.in.flight.requests.per.connection=1\n", "\n  * reordered ",
				"  A  ok: all 2 expectations hold\n  B  FAIL 1 of 2: records.reordered > 0 (got 0)\n"}},
		{"compare with set and seed", []string{"compare", "acks1-leader-failover", "--seed", "2", "--set", "producer.acks=0", "--vs", "producer.acks=all"}, 0,
			[]string{"acks1-leader-failover (seed 2)\n  A  producer.acks=0  producer.enable.idempotence=false\n  B  producer.acks=all  producer.enable.idempotence=true\n",
				// an error that differs, with its note
				"  * NETWORK_EXCEPTION ", "\n      Produce: the connection broke"}},
		{"compare a file names it", []string{"compare", "../../scenarios/catalog/02-acks1-leader-failover.yaml", "--vs", "producer.acks=all"}, 0,
			[]string{"acks1-leader-failover (seed 1), from ../../scenarios/catalog/02-acks1-leader-failover.yaml\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := simulate(tt.args...)
			assert.Equal(t, tt.code, code, "stderr: %s", stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, stdout, s)
			}
		})
	}
}

// TestBadInput checks that every kind of bad input exits 2 with one line on
// stderr naming the problem, and nothing on stdout.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown scenario", []string{"run", "no-such-lesson"}, "no built-in scenario or file by that name"},
		{"missing file", []string{"run", "nowhere/x.yaml"}, "cannot read the file"},
		{"unknown flag", []string{"run", "acks1-leader-failover", "--colour"}, "unknown flag: --colour"},
		{"bad seed", []string{"run", "acks1-leader-failover", "--seed", "x"}, `--seed: "x" is not a whole number; use one from 0 to 18446744073709551615`},
		{"negative seed", []string{"compare", "acks1-leader-failover", "--seed", "-1", "--vs", "producer.acks=all"}, `--seed: "-1" is not a whole number`},
		{"max-wall without unit", []string{"run", "acks1-leader-failover", "--max-wall", "5"}, `--max-wall: "5" is not a duration; use a unit, e.g. 30s or 2m; 0 for none`},
		{"bad bool", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--svg=maybe"}, `--svg: "maybe" is not true or false`},
		{"run with an extra argument", []string{"run", "acks1-leader-failover", "extra"}, `run: unexpected argument "extra" after acks1-leader-failover; run takes one scenario`},
		{"compare with an extra argument", []string{"compare", "acks1-leader-failover", "all", "--vs", "producer.acks=all"}, `compare: unexpected argument "all" after acks1-leader-failover`},
		{"version with an argument", []string{"--version", "extra"}, `--version takes no arguments; got "extra"`},
		{"plot into /proc", []string{"plot", "acks1-leader-failover", "--out", "/proc/x"}, "--out: cannot create /proc/x: /proc takes no new files"},
		{"bad format", []string{"run", "acks1-leader-failover", "--format", "xml"}, `--format "xml": use text or json`},
		{"anomalies not a number", []string{"run", "acks1-leader-failover", "--anomalies", "some"}, `--anomalies "some": use a number from 1, or all`},
		{"anomalies zero", []string{"run", "acks1-leader-failover", "--anomalies", "0"}, `--anomalies "0": use a number from 1, or all`},
		{"anomalies negative", []string{"run", "acks1-leader-failover", "--anomalies", "-3"}, `--anomalies "-3": use a number from 1, or all`},
		{"bad set key", []string{"run", "acks1-leader-failover", "--set", "producer.ack=1"}, `unknown producer property "ack"`},
		{"bad set value", []string{"run", "acks1-leader-failover", "--set", "producer.acks=2"}, "String must be one of: all, -1, 0, 1"},
		{"set without value", []string{"run", "acks1-leader-failover", "--set", "producer.acks"}, "expected KEY=VALUE"},
		{"run without scenario", []string{"run"}, "run needs one scenario"},
		{"show without name", []string{"show"}, "show needs one built-in scenario name"},
		{"check unknown", []string{"check", "nope"}, "no built-in scenario or file by that name"},
		{"list with argument", []string{"list", "x"}, "list takes no arguments"},
		{"plot bad from", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--from", "soon"}, `--from "soon": use a duration of virtual time from 0, such as 1.5s or 800ms`},
		{"plot negative to", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--to", "-1s"}, `--to "-1s": use a duration`},
		{"plot from after to", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--from", "2s", "--to", "1s"}, "--from 2s is not before --to 1s"},
		{"plot unknown partition", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--partition", "orders-9"}, "--partition: orders-9 is not a partition of this scenario; it has orders-0 to orders-2"},
		{"plot window with vs", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--vs", "producer.acks=all", "--from", "1s"}, "--partition, --from and --to choose the space-time diagram of one run; plot --vs draws none"},
		{"compare without vs", []string{"compare", "acks1-leader-failover", "--set", "producer.acks=all"}, "compare needs at least one --vs KEY=VALUE"},
		{"compare without scenario", []string{"compare", "--vs", "producer.acks=all"}, "compare needs one scenario"},
		{"compare bad vs key", []string{"compare", "acks1-leader-failover", "--vs", "producer.ack=all"}, `--vs producer.ack: unknown producer property "ack" (did you mean acks?)`},
		{"compare bad vs value is --vs's", []string{"compare", "acks1-leader-failover", "--vs", "producer.acks=2"}, "--vs producer.acks: Invalid value 2"},
		{"compare seed with vs seed", []string{"compare", "acks1-leader-failover", "--seed", "2", "--vs", "seed=5"}, "--vs seed=5: --seed sets both runs' seed"},
		{"compare vs without value", []string{"compare", "acks1-leader-failover", "--vs", "producer.acks"}, "expected KEY=VALUE"},
		{"compare bad format", []string{"compare", "acks1-leader-failover", "--vs", "producer.acks=all", "--format", "csv"}, `--format "csv": use text or json`},
		{"plot bad vs", []string{"plot", "acks1-leader-failover", "--out", os.TempDir(), "--vs", "producer.acks=2"}, "String must be one of: all, -1, 0, 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat("/proc/self"); err != nil && slices.Contains(tt.args, "/proc/x") {
				t.Skip("no procfs here")
			}
			badInput(t, tt.want, tt.args...)
		})
	}
}

func TestBadScenarioFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: bad\nduration: 1s\ntopics:\n  - name: t\nworkload:\n  rate: 10\n  colour: red\n"), 0o644))
	badInput(t, path+": line 7: workload.colour: unknown key in workload", "run", path)
}

// badInput runs a command line that must be refused as bad input: exit
// status 2, nothing on stdout, one line on stderr containing want, and no
// stack trace.
func badInput(t *testing.T, want string, args ...string) {
	t.Helper()
	code, stdout, stderr := simulate(args...)
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, want)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.NotContains(t, stderr, "goroutine", "no stack trace")
}

// TestHelp: help CMD is CMD --help for every command: its usage line and
// flags on stdout, status 0.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := simulate("help", c.name)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			assert.True(t, strings.HasPrefix(stdout, "Usage: simulate "+c.name), stdout)
			assert.Contains(t, stdout, c.short)
			_, own, _ := simulate(c.name, "--help")
			assert.Equal(t, own, stdout)
		})
	}
	badInput(t, `unknown command "nosuch"; commands: list, show, run`, "help", "nosuch")
	badInput(t, "help takes one command, got 2", "help", "run", "compare")
}

// TestBadFlags: on every command, an unknown flag and each flag left
// without its value are bad input: status 2, one line, nothing on stdout.
// The flags are read from the command's own help, so a new flag is
// covered when it is added.
func TestBadFlags(t *testing.T) {
	valueFlag := regexp.MustCompile(`(?m)^\s+--([a-z-]+) (\w+)`)
	checked := 0
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			badInput(t, c.name+": unknown flag: --nosuch", c.name, "--nosuch")
			badInput(t, c.name+": unknown shorthand flag: 'x' in -x", c.name, "-x")
			_, help, _ := simulate(c.name, "--help")
			for _, m := range valueFlag.FindAllStringSubmatch(help, -1) {
				badInput(t, c.name+": flag needs an argument: --"+m[1], c.name, "--"+m[1])
				checked++
			}
		})
	}
	assert.GreaterOrEqual(t, checked, 20, "the flags taking a value, read from the help")
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := simulate("--version")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^simulate \d+\.\d+\.\d+(, module \S+ \S+.*, go1\.\d+\S*)?; models Kafka 3\.6 to 4\.4 \(default 4\.0\) and the Java producer 4\.x\n$`, stdout)
	assert.Contains(t, stdout, version)
}

// TestUnknownScenarioSuggests: a name near a built-in's gets the nearest
// names; one near none gets the whole list.
func TestUnknownScenarioSuggests(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "acks1-leader-failovr"}, "acks1-leader-failovr: no built-in scenario or file by that name; did you mean acks1-leader-failover or acks-all-leader-failover? (simulate list shows all"},
		{[]string{"compare", "linger", "--vs", "producer.linger.ms=5"}, "did you mean linger-batching?"},
		{[]string{"show", "retry-duplicate"}, "did you mean retry-duplicates?"},
		{[]string{"check", "inflight-reorder"}, "did you mean inflight-reordering?"},
		{[]string{"run", "elr"}, "did you mean last-replica-standing?"},
		{[]string{"run", "eligible-leader-replicas"}, "did you mean last-replica-standing?"},
		{[]string{"run", "zzzz"}, "no built-in scenario or file by that name; built-ins: acks0-broker-crash, acks1-leader-failover"},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			badInput(t, tt.want, tt.args...)
		})
	}
}

// TestRunJSONIsDeterministic is contract 2's promise: the same scenario and
// seed give byte-identical JSON.
func TestRunJSONIsDeterministic(t *testing.T) {
	_, a, _ := simulate("run", "acks1-leader-failover", "--format", "json")
	_, b, _ := simulate("run", "acks1-leader-failover", "--format", "json")
	require.NotEmpty(t, a)
	assert.Equal(t, a, b)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(a), &rep))
	for _, key := range []string{"scenario", "seed", "config", "records", "errors", "anomalies", "metrics", "latency_ms", "partitions", "expectations"} {
		assert.Contains(t, rep, key)
	}
}

// TestRunAnomaliesFlag: the JSON report explains 20 anomalies unless
// --anomalies asks for another number or for all of them.
func TestRunAnomaliesFlag(t *testing.T) {
	tests := []struct {
		flag []string
		want func(count int) int
	}{
		{nil, func(int) int { return 20 }},
		{[]string{"--anomalies", "3"}, func(int) int { return 3 }},
		{[]string{"--anomalies", "all"}, func(count int) int { return count }},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flag, " "), func(t *testing.T) {
			code, out, stderr := simulate(append([]string{"run", "acks1-leader-failover", "--format", "json"}, tt.flag...)...)
			require.Equal(t, 0, code, stderr)
			var rep struct {
				Anomalies []struct {
					Explanation string `json:"explanation"`
				} `json:"anomalies"`
				Count int `json:"anomaly_count"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			require.Greater(t, rep.Count, 20, "the lesson has more anomalies than the default shows")
			assert.Len(t, rep.Anomalies, tt.want(rep.Count))
			for _, a := range rep.Anomalies {
				assert.NotEmpty(t, a.Explanation)
			}
		})
	}
}

func TestRunWritesTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	code, _, stderr := simulate("run", "acks0-broker-crash", "--trace", path)
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Greater(t, len(lines), 100)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Contains(t, first, "at_ms")
	assert.Contains(t, string(data), `"event":"crash"`)
	assert.Contains(t, string(data), `"event":"msg-send"`, "--trace keeps the messages")
}

func TestCheckFailsWithStatusOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "impossible.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: impossible\nduration: 1s\ntopics:\n  - name: t\nworkload:\n  rate: 100\nexpect:\n  records.lost: \"> 0\"\n"), 0o644))
	code, stdout, stderr := simulate("check", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "FAIL  "+path+"  records.lost > 0 (got 0)", "a file is named by its path")
	assert.Contains(t, stderr, "1 of 1 scenarios failed")
}

// TestCompareJSON: the JSON comparison has every number of both runs,
// and is the same bytes every time.
func TestCompareJSON(t *testing.T) {
	args := []string{"compare", "retry-duplicates", "--vs", "producer.enable.idempotence=true", "--format", "json"}
	code, a, stderr := simulate(args...)
	require.Equal(t, 0, code, stderr)
	_, b, _ := simulate(args...)
	assert.Equal(t, a, b)
	var c struct {
		Differences []map[string]string
		Rows        []struct {
			Path    string
			A, B    float64
			Differs bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(a), &c))
	assert.Equal(t, []map[string]string{{"key": "producer.enable.idempotence", "a": "false", "b": "true"}}, c.Differences)
	found := false
	for _, r := range c.Rows {
		if r.Path == "records.duplicated" {
			found = true
			assert.Positive(t, r.A)
			assert.Zero(t, r.B)
			assert.True(t, r.Differs)
		}
	}
	assert.True(t, found, "records.duplicated is a row")
}

// TestPlotVs: plot --vs draws both runs into the charts that hold two.
func TestPlotVs(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := simulate("plot", "inflight-reordering", "--out", dir, "--svg", "--vs", "producer.max.in.flight.requests.per.connection=1")
	require.Equal(t, 0, code, stderr)
	want := []string{filepath.Join(dir, "compare-timeseries.svg"), filepath.Join(dir, "compare-latency.svg")}
	assert.Equal(t, strings.Join(want, "\n")+"\n", stdout)
	for _, p := range want {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Contains(t, string(data), "B producer.max.in.flight.requests.per.connection=1", p)
	}
}

// TestBudgetStopExitsFour: a run stopped by a budget prints its report,
// says on stderr which budget, and exits 4.
func TestBudgetStopExitsFour(t *testing.T) {
	code, stdout, stderr := simulate("run", "batch-size", "--max-wall", "1ns")
	assert.Equal(t, 4, code)
	assert.Contains(t, stdout, "note: stopped by the wall clock budget (--max-wall 1ns)")
	assert.Contains(t, stderr, "simulate: stopped by the wall clock budget (--max-wall 1ns) at 0 ms of virtual time")
	assert.Contains(t, stderr, "raise --max-wall")
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line")

	code, stdout, _ = simulate("run", "batch-size", "--max-wall", "1ns", "--format", "json")
	assert.Equal(t, 4, code)
	assert.Contains(t, stdout, `"stopped_by_budget": {`)

	code, stdout, stderr = simulate("compare", "batch-size", "--max-wall", "1ns", "--vs", "producer.batch.size=65536")
	assert.Equal(t, 4, code)
	assert.Contains(t, stdout, "note: run A was stopped by the wall clock budget (--max-wall 1ns)")
	assert.Contains(t, stderr, "simulate: run A: stopped by the wall clock budget (--max-wall 1ns)")
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line")

	code, _, stderr = simulate("run", "batch-size", "--max-wall", "-1s")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--max-wall -1s: use a duration of zero (no limit) or more")
}
