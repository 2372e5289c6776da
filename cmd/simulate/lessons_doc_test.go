package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLessonsDocMatchesOutput keeps LESSONS.md honest: every output block
// there starts with the command, and each line shown (except "…") must
// appear, in order, in what that command prints today. Regenerate the
// blocks when a change moves the numbers.
func TestLessonsDocMatchesOutput(t *testing.T) {
	data, err := os.ReadFile("../../LESSONS.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```text\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	require.GreaterOrEqual(t, len(blocks), 13)
	for _, b := range blocks {
		lines := strings.Split(strings.TrimRight(b[1], "\n"), "\n")
		cmd, ok := strings.CutPrefix(lines[0], "$ go run ./cmd/simulate ")
		require.True(t, ok, "a block starts with the command: %q", lines[0])
		t.Run(cmd, func(t *testing.T) {
			_, stdout, _ := simulate(strings.Fields(cmd)...)
			out := strings.Split(stdout, "\n")
			i := 0
			for _, want := range lines[1:] {
				if want == "…" || strings.TrimSpace(want) == "" {
					continue
				}
				for i < len(out) && out[i] != want {
					i++
				}
				if !assert.Less(t, i, len(out), "line not printed (in this order): %q", want) {
					return
				}
				i++
			}
		})
	}
}
