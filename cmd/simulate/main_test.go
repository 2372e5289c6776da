package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
		{"bad seed", []string{"run", "acks1-leader-failover", "--seed", "x"}, `invalid argument "x" for "--seed"`},
		{"bad format", []string{"run", "acks1-leader-failover", "--format", "xml"}, `--format "xml": use text or json`},
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
}

func TestCheckFailsWithStatusOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "impossible.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: impossible\nduration: 1s\ntopics:\n  - name: t\nworkload:\n  rate: 100\nexpect:\n  records.lost: \"> 0\"\n"), 0o644))
	code, stdout, stderr := simulate("check", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "FAIL  impossible  records.lost > 0, got 0")
	assert.Contains(t, stderr, "1 of 1 scenarios failed")
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

	code, _, stderr = simulate("run", "batch-size", "--max-wall", "-1s")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--max-wall -1s: use a duration of zero (no limit) or more")
}
