package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestLessonsGolden pins what each lesson does as text a reviewer can read
// in a diff: the whole text report (configuration, counts, the first
// anomalies with their causal chains, the timeline, partitions, latency and
// metrics), then the size and hash of the full trace, so that a change in
// any event shows up even when the report does not move. Refresh with
//
//	go test ./scenarios -run TestLessonsGolden -update
//
// and read the diff.
func TestLessonsGolden(t *testing.T) {
	for _, e := range Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(e.Name, nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{Messages: true})
			var out bytes.Buffer
			require.NoError(t, res.Report.WriteText(&out, s.Title))
			fmt.Fprintf(&out, "\ntrace: %d entries, fnv64a %s\n", res.Trace.Len(), res.Trace.Hash(res.Names))
			path := filepath.Join("testdata", "golden", e.Name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run go test ./scenarios -run TestLessonsGolden -update")
			assert.Equal(t, string(want), out.String())
			assert.True(t, res.Report.Passed(), "the lesson's own expectations hold")
		})
	}
}

// TestDeterministic runs a lesson twice and compares the JSON reports and
// traces byte for byte.
func TestDeterministic(t *testing.T) {
	for _, name := range []string{"acks1-leader-failover", "idempotent-producer", "producer-restart-duplicates"} {
		t.Run(name, func(t *testing.T) {
			var reports, traces [2][]byte
			for i := range 2 {
				s, err := Load(name, nil)
				require.NoError(t, err)
				res := s.Run(RunOptions{Messages: true})
				reports[i], err = json.Marshal(res.Report)
				require.NoError(t, err)
				var tr bytes.Buffer
				require.NoError(t, res.Trace.WriteJSONL(&tr, res.Names))
				traces[i] = tr.Bytes()
			}
			assert.Equal(t, reports[0], reports[1])
			assert.Equal(t, traces[0], traces[1])
			assert.NotEmpty(t, traces[0])
		})
	}
}

// TestSeedChangesTheRun guards against a seed that is ignored.
func TestSeedChangesTheRun(t *testing.T) {
	s, err := Load("retry-duplicates", nil)
	require.NoError(t, err)
	hashes := map[string]bool{}
	for seed := uint64(1); seed <= 3; seed++ {
		res := s.Run(RunOptions{Seed: &seed, Messages: true})
		hashes[res.Trace.Hash(res.Names)] = true
		assert.Equal(t, seed, res.Report.Seed)
	}
	assert.Len(t, hashes, 3)
}
