package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputPathsCheckedFirst: a path that cannot be written is refused
// before the run or sweep starts: before the scenario is even loaded, so
// the path's error is the one reported for a scenario that does not exist.
func TestOutputPathsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	missing := filepath.Join(dir, "missing")
	sweep := []string{"sweep", "no-such-lesson", "--vary", "producer.acks=1,all", "--seeds", "1-500"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"trace into a missing directory", []string{"run", "no-such-lesson", "--trace", filepath.Join(missing, "t.jsonl")},
			"--trace: the directory " + missing + " does not exist"},
		{"trace onto a directory", []string{"run", "no-such-lesson", "--trace", dir}, "--trace: " + dir + " is a directory; name a file"},
		{"plot under a file", []string{"plot", "no-such-lesson", "--out", filepath.Join(file, "charts")}, "--out: " + file + " is not a directory"},
		{"sweep csv into a missing directory", append(sweep, "--csv", filepath.Join(missing, "s.csv")), "--csv: the directory " + missing + " does not exist"},
		{"sweep plot into a missing directory", append(sweep, "--plot", filepath.Join(missing, "s.png")), "--plot: the directory " + missing + " does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			badInput(t, tt.want, tt.args...)
		})
	}
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, des, 1, "nothing created")
}

// TestOutputsWrittenWhole: the files a command writes appear under their
// names with no temporary left beside them.
func TestOutputsWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := simulate("run", "retry-duplicates", "--trace", filepath.Join(dir, "t.jsonl"))
	require.Equal(t, 0, code, stderr)
	code, _, stderr = simulate("sweep", "retry-duplicates", "--vary", "producer.acks=1,all", "--csv", filepath.Join(dir, "s.csv"))
	require.Equal(t, 0, code, stderr)
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	assert.Equal(t, []string{"s.csv", "t.jsonl"}, names)
}

func TestInterruptedMessage(t *testing.T) {
	assert.Equal(t, "interrupted: wrote no file; nothing partial left", interruptedMessage(nil))
	assert.Equal(t, "interrupted: wrote 2 files (d/partitions.png, d/latency.png); nothing partial left",
		interruptedMessage([]string{"d/partitions.png", "d/latency.png"}))
}

// TestPanicIsAnInternalError: a panic exits with its own status, 3, on one
// line asking for a bug report, with no stack unless KAFKASIM_DEBUG asks.
func TestPanicIsAnInternalError(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	commands = append(commands[:len(commands):len(commands)], command{"boom", "", "panics", func([]string, io.Writer, io.Writer) error {
		panic("index out of range [7] with length 3\nsecond line")
	}})

	code, stdout, stderr := simulate("boom", "--x")
	assert.Equal(t, exitInternal, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "simulate: internal error: index out of range [7] with length 3 second line; this is a simulator bug, please report it with the command line: simulate boom --x\n", stderr)

	t.Setenv("KAFKASIM_DEBUG", "1")
	code, _, stderr = simulate("boom")
	assert.Equal(t, exitInternal, code)
	assert.Contains(t, stderr, "goroutine", "the stack, when asked for")
	assert.Greater(t, strings.Count(stderr, "\n"), 1)
}
