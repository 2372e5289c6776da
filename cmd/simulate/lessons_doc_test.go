package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateDoc = flag.Bool("update", false, "rewrite LESSONS.md output lines that moved")

// TestLessonsDocMatchesOutput keeps LESSONS.md honest: every output block
// there starts with the command, and each line shown (except "…") must
// appear, in order, in what that command prints today. With -update, a
// shown line that no longer appears is replaced by the printed line that
// starts the same way (same first field: a partition, "latency", a record
// count line), so moved numbers can be refreshed and then read over.
func TestLessonsDocMatchesOutput(t *testing.T) {
	data, err := os.ReadFile("../../LESSONS.md")
	require.NoError(t, err)
	doc := string(data)
	blocks := regexp.MustCompile("(?s)```text\n(.*?)```").FindAllStringSubmatch(doc, -1)
	require.GreaterOrEqual(t, len(blocks), 13)
	for _, b := range blocks {
		lines := strings.Split(strings.TrimRight(b[1], "\n"), "\n")
		cmd, ok := strings.CutPrefix(lines[0], "$ go run ./cmd/simulate ")
		require.True(t, ok, "a block starts with the command: %q", lines[0])
		t.Run(cmd, func(t *testing.T) {
			_, stdout, _ := simulate(strings.Fields(cmd)...)
			out := strings.Split(stdout, "\n")
			i := 0
			changed := false
			for k, want := range lines[1:] {
				if want == "…" || strings.TrimSpace(want) == "" {
					continue
				}
				j := i
				for j < len(out) && out[j] != want {
					j++
				}
				if j == len(out) && *updateDoc {
					for j = i; j < len(out) && !sameStart(out[j], want); j++ {
					}
					changed = true
					if j == len(out) {
						lines[k+1] = "…" // no longer printed: drop it
						continue
					}
					lines[k+1] = out[j]
				}
				if !assert.Less(t, j, len(out), "line not printed (in this order): %q", want) {
					return
				}
				i = j + 1
			}
			if changed {
				doc = strings.Replace(doc, b[1], strings.Join(dedupeEllipses(lines), "\n")+"\n", 1)
			}
		})
	}
	if *updateDoc {
		require.NoError(t, os.WriteFile("../../LESSONS.md", []byte(doc), 0o644))
	}
}

// sameStart reports whether two output lines begin with the same field,
// in the same column. compare's "*", which marks a row that differs, is
// not a field: a row that starts or stops differing is the same row.
func sameStart(a, b string) bool {
	fa, fb := rowFields(a), rowFields(b)
	if len(fa) == 0 || len(fb) == 0 || fa[0] != fb[0] {
		return false
	}
	return strings.Index(a, fa[0]) == strings.Index(b, fb[0])
}

func rowFields(line string) []string {
	f := strings.Fields(line)
	if len(f) > 1 && f[0] == "*" {
		return f[1:]
	}
	return f
}

func TestSameStart(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"  orders-0  1  [1 2 3]", "  orders-0  2  [2 3]", true},
		{"  orders-0  1", "  orders-1  1", false},
		{"latency  avg 1ms", "  latency  avg 1ms", false},
		{"  * avg   26.656 ms  10.122 ms  -16.534 ms (-62%)", "    avg   26.656 ms  26.656 ms", true},
		{"  * avg   26.656 ms", "  * p50   26.656 ms", false},
		{"", "x", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sameStart(tt.a, tt.b), "%q %q", tt.a, tt.b)
	}
}

// dedupeEllipses folds runs of "…" lines into one.
func dedupeEllipses(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l == "…" && len(out) > 0 && out[len(out)-1] == "…" {
			continue
		}
		out = append(out, l)
	}
	return out
}
