package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBurst: fifty concurrent requests for runs far larger than the
// server's wall-clock budget leave it answering. Each either runs until
// its budget stops it and shows what ran, saying so, or is turned away
// with a 503 saying the server is busy; the lessons page answers while
// the burst is still running, and a small run right after gets its
// result. (No timing is asserted: the machine may be loaded.)
func TestBurst(t *testing.T) {
	t.Parallel()
	const burst = 50
	srv := httptest.NewServer(New(Options{MaxRecords: 10_000_000, MaxVirtual: time.Hour,
		MaxWall: 300 * time.Millisecond, MaxRuns: 2, QueueWait: 500 * time.Millisecond}))
	defer srv.Close()
	// About 4 million records: minutes of work without a budget.
	large := srv.URL + "/run?lesson=linger-batching&workload.records=4000000&workload.rate=100000&set=duration%3D40s"

	var wg sync.WaitGroup
	statuses := make([]int, burst)
	bodies := make([]string, burst)
	start := time.Now()
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(large)
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			statuses[i], bodies[i] = resp.StatusCode, string(b)
		}()
	}
	// While the burst runs, the first page answers: each of these requests
	// is done before the burst is.
	var indexDone []time.Time
	for range 5 {
		resp, err := http.Get(srv.URL + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		indexDone = append(indexDone, time.Now())
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, done := range indexDone {
		assert.True(t, done.Before(start.Add(elapsed)), "the lessons page's request %d waited for the burst", i)
	}

	ran, busy := 0, 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			ran++
			assert.Contains(t, bodies[i], "stopped by the wall clock budget (this server&#39;s 300ms of real time per run)")
		case http.StatusServiceUnavailable:
			busy++
			assert.Contains(t, bodies[i], "All 2 runs this server makes at once are taken, and none came free within 500ms. Try again in a few seconds.")
		default:
			t.Errorf("request %d: status %d", i, st)
		}
	}
	assert.Positive(t, ran, "some large runs ran, stopped by their budget")
	assert.Positive(t, busy, "some were turned away")
	t.Logf("burst of %d: %d ran to their budget, %d turned away with 503, in %v", burst, ran, busy, elapsed.Round(time.Millisecond))

	resp, err := http.Get(srv.URL + "/run?lesson=acks1-leader-failover")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.Contains(string(b), `id="records-lost" class="bad">266<`))
}
