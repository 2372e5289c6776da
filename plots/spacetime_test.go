package plots

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden space-time diagrams under testdata/spacetime")

// spaceTimeGolden are the lessons whose diagram is pinned as SVG: each
// makes one of the points the diagram must show at a glance. A window
// given (in ms) is the one the lesson's LESSONS.md section suggests; the
// others are the default.
var spaceTimeGolden = map[string][2]time.Duration{
	"acks1-leader-failover": {},                                         // acks=1 loss on failover
	"retry-duplicates":      {},                                         // a retry's duplicate
	"inflight-reordering":   {},                                         // reordering with max.in.flight above 1
	"idempotent-producer":   {},                                         // OUT_OF_ORDER_SEQUENCE_NUMBER and its retry
	"zombie-fencing":        {3 * time.Second, 3600 * time.Millisecond}, // a zombie fenced
	"transactions-atomic":   {},                                         // a transaction's markers
}

// TestSpaceTimeEveryLesson draws every lesson's diagram as SVG and checks
// it is whole and has no NaN; the golden lessons are drawn as PNG too, and
// their SVG must match
// testdata/spacetime/NAME.svg (refresh with go test ./plots -run
// TestSpaceTime -update, and look at the pictures).
func TestSpaceTimeEveryLesson(t *testing.T) {
	for _, e := range scenarios.Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s, err := scenarios.Load(e.Name, nil)
			require.NoError(t, err)
			window, golden := spaceTimeGolden[e.Name]
			var opt scenarios.SpaceTimeOptions
			if window[1] > 0 {
				opt.From, opt.To = &window[0], &window[1]
			}
			st, err := s.Run(scenarios.RunOptions{Messages: true}).SpaceTime(opt)
			require.NoError(t, err)
			require.NotEmpty(t, st.Lanes)
			svg, err := SpaceTimeImage(st, SVG)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "spacetime.svg")
			require.NoError(t, os.WriteFile(path, svg, 0o644))
			decodes(t, path)
			noNaN(t, path)
			if !golden {
				return
			}
			png, err := SpaceTimeImage(st, PNG)
			require.NoError(t, err)
			pngPath := filepath.Join(t.TempDir(), "spacetime.png")
			require.NoError(t, os.WriteFile(pngPath, png, 0o644))
			decodes(t, pngPath)
			path = filepath.Join("testdata", "spacetime", e.Name+".svg")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, svg, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden file; run go test ./plots -run TestSpaceTime -update")
			assert.Equal(t, string(want), string(svg))
		})
	}
}
