package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden pins what a lesson does: its record counts, the errors the
// producer saw, and a hash of the whole trace. Any change in behaviour,
// however small, changes the hash; refresh with go test -update and read the
// diff of the counts.
type golden struct {
	Records   Counts           `json:"records"`
	Errors    map[string]int64 `json:"errors"`
	TraceHash string           `json:"trace_hash"`
	Entries   int              `json:"trace_entries"`
}

func TestLessonsGolden(t *testing.T) {
	for _, e := range Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(e.Name, nil)
			require.NoError(t, err)
			res := s.Run(RunOptions{})
			got := golden{Records: res.Report.Records, Errors: res.Report.Errors,
				TraceHash: res.Trace.Hash(res.Names), Entries: res.Trace.Len()}
			data, err := json.MarshalIndent(got, "", "  ")
			require.NoError(t, err)
			data = append(data, '\n')
			path := filepath.Join("testdata", "golden", e.Name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, data, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run go test ./scenarios -run TestLessonsGolden -update")
			assert.Equal(t, string(want), string(data))
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
				res := s.Run(RunOptions{})
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
		res := s.Run(RunOptions{Seed: &seed})
		hashes[res.Trace.Hash(res.Names)] = true
		assert.Equal(t, seed, res.Report.Seed)
	}
	assert.Len(t, hashes, 3)
}
