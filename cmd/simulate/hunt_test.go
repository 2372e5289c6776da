package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHuntBadInput(t *testing.T) {
	notJSON := filepath.Join(t.TempDir(), "x.json")
	require.NoError(t, os.WriteFile(notJSON, []byte("name: x\n"), 0o644))
	// Transactions in the workload, but no producer.transactional.id.
	noID := filepath.Join(t.TempDir(), "no-id.yaml")
	require.NoError(t, os.WriteFile(noID, []byte("name: no-id\nduration: 1s\ntopics:\n  - name: t\nworkload:\n  rate: 10\n  transactions:\n    records: 5\n    topics: [t]\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"hunt", "--property", "no-loss"}, "hunt needs one scenario"},
		{"no property", []string{"hunt", "hunt-acks1"}, "hunt needs --property: no-loss, no-duplicates, no-reordering or exactly-once"},
		{"unknown property", []string{"hunt", "hunt-acks1", "--property", "no-lose"}, `--property "no-lose": use one of no-loss, no-duplicates, no-reordering, exactly-once`},
		{"exactly-once without transactions", []string{"hunt", "hunt-acks1", "--property", "exactly-once"}, "--property exactly-once needs a transactional workload"},
		{"exactly-once without a transactional.id", []string{"hunt", noID, "--property", "exactly-once"},
			"--property exactly-once needs a transactional workload (producer.transactional.id and workload.transactions); no-id has no producer.transactional.id"},
		{"budget and time", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--budget", "5", "--time", "1s"}, "hunt takes --budget N or --time D, not both"},
		{"budget zero", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--budget", "0"}, "--budget 0: use 1 to 10000000 schedules"},
		{"budget not a number", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--budget", "many"}, `--budget: "many" is not a whole number`},
		{"time zero", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--time", "0s"}, "--time 0s: use a duration above zero"},
		{"time without unit", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--time", "10"}, `--time: "10" is not a duration`},
		{"bad seed", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--seed", "-1"}, `--seed: "-1" is not a whole number`},
		{"bad parallel", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--parallel", "0"}, "--parallel 0: must be at least 1"},
		{"bad shard", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--shard", "4/4"}, `--shard "4/4": use I/N with 0 <= I < N`},
		{"bad format", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--format", "yaml"}, `--format "yaml": use text or json`},
		{"bad set", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--set", "producer.ack=1"}, `unknown producer property "ack"`},
		{"unknown scenario", []string{"hunt", "hunt-ack", "--property", "no-loss"}, "no built-in scenario or file by that name"},
		{"out into /proc", []string{"hunt", "hunt-acks1", "--property", "no-loss", "--out", "/proc/x"}, "--out: /proc takes no new files"},
		{"merge nothing", []string{"hunt", "merge"}, "hunt merge needs the result files of a hunt's shards"},
		{"merge a missing file", []string{"hunt", "merge", "nowhere.json"}, "hunt merge: open nowhere.json"},
		{"merge not a result", []string{"hunt", "merge", notJSON}, "hunt merge: " + notJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat("/proc/self"); err != nil && strings.Contains(strings.Join(tt.args, " "), "/proc/x") {
				t.Skip("no procfs here")
			}
			badInput(t, tt.want, tt.args...)
		})
	}
}

// TestHuntShardsAndMerge runs the README's recipe: shards write their
// results with --out, hunt merge prints what one machine prints.
func TestHuntShardsAndMerge(t *testing.T) {
	args := []string{"hunt", "hunt-acks1", "--property", "no-loss", "--budget", "40"}
	code, single, stderr := simulate(args...)
	require.Equal(t, 1, code, "a counterexample is exit status 1: %s", stderr)
	assert.Contains(t, single, "violated by schedule 9, found after 10 schedules\n")
	assert.Contains(t, single, "\n# the minimal scenario: save it as a file; simulate run FILE reproduces it\nname: hunt-acks1-no-loss-counterexample\n")

	dir := t.TempDir()
	var files []string
	for _, shard := range []string{"0/3", "1/3", "2/3"} {
		file := filepath.Join(dir, strings.ReplaceAll(shard, "/", "-")+".json")
		code, stdout, stderr := simulate(append(args, "--shard", shard, "--out", file, "--format", "json")...)
		require.Equal(t, 0, code, "a shard's answer is its result: %s", stderr)
		var res struct {
			Shard string `json:"shard"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &res))
		assert.Equal(t, shard, res.Shard)
		files = append(files, file)
	}
	code, merged, stderr := simulate(append([]string{"hunt", "merge"}, files...)...)
	require.Equal(t, 1, code, stderr)
	assert.Equal(t, single, merged)
}
