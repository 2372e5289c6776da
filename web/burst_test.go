package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

// TestBurst: fifty concurrent expensive requests leave the server
// answering: runs far larger than the server's wall-clock budget, links
// carrying nested YAML aliases, and links carrying a 1 MiB scenario with
// bad settings (each bad setting is one more parse of it). Each run either
// runs until its budget stops it and shows what ran, saying so, or is
// turned away with a 503 saying the server is busy; each bad link gets its
// message, or a 503. The lessons page answers while the burst is still in
// flight, and a small run right after gets its result. (No timing is
// asserted: the machine may be loaded.) The requests of a kind differ
// (in their seed, or one bad setting's value): identical ones would share
// one run (TestIdenticalRequestsShare).
func TestBurst(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRecords: 10_000_000, MaxVirtual: time.Hour,
		MaxWall: 300 * time.Millisecond, MaxRuns: 2, QueueWait: 500 * time.Millisecond})
	// The runs that get a slot wait until the lessons page has answered,
	// so the burst is surely in flight while it does, however loaded the
	// machine (a held run then meets its wall-clock budget at once).
	runs, release := heldRuns(h)
	srv := httptest.NewServer(h)
	defer srv.Close()
	busy := "All 2 runs this server makes at once are taken, and none came free within 500ms. Try again in a few seconds."
	// About 4 million records: minutes of work without a budget.
	large := func(seed int) string {
		return fmt.Sprintf("%s/run?lesson=linger-batching&workload.rate=100000&workload.records=4000000&seed=%d&set=duration%%3D40s", srv.URL, seed)
	}
	var bomb strings.Builder
	bomb.WriteString("name: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	aliases := srv.URL + "/run?yaml=" + encodeYAML([]byte(bomb.String()))
	e, ok := scenarios.Builtin("acks1-leader-failover")
	require.True(t, ok)
	padded := strings.Repeat("# "+strings.Repeat("x", 78)+"\n", (maxYAML-len(e.Text))/81) + string(e.Text)
	require.LessOrEqual(t, len(padded), maxYAML)
	huge := url.Values{"yaml": {encodeYAML([]byte(padded))}, "producer.acks": {"2"}, "producer.retries": {"-1"},
		"producer.batch.size": {"-1"}, "seed": {"x"}}
	require.LessOrEqual(t, len(huge.Get("yaml")), maxLinkYAML)
	hugeLink := func(i int) string {
		huge.Set("producer.linger.ms", fmt.Sprint(-i))
		return srv.URL + "/run?" + huge.Encode()
	}

	kinds := []struct {
		name string
		url  func(i int) string
		n    int
		want map[int]string // by status, what the body says
	}{
		{"large run", large, 30, map[int]string{
			http.StatusOK:                 "stopped by the wall clock budget (this server&#39;s 300ms of real time per run)",
			http.StatusServiceUnavailable: busy}},
		{"alias link", func(i int) string { return fmt.Sprintf("%s&seed=%d", aliases, i) }, 10, map[int]string{
			http.StatusBadRequest:         "YAML anchors and aliases (&amp;a0, *a0) are not supported in scenario files",
			http.StatusServiceUnavailable: busy}},
		{"1 MiB link, bad settings", hugeLink, 10, map[int]string{
			http.StatusBadRequest:         "Invalid value 2 for configuration acks",
			http.StatusServiceUnavailable: busy}},
	}
	type answer struct {
		kind   int
		status int
		body   string
	}
	var answers []*answer
	var wg sync.WaitGroup
	var inFlight atomic.Int32
	start := time.Now()
	for k, kind := range kinds {
		for i := range kind.n {
			a, target := &answer{kind: k}, kind.url(i+1)
			answers = append(answers, a)
			wg.Add(1)
			inFlight.Add(1)
			go func() {
				defer wg.Done()
				defer inFlight.Add(-1)
				resp, err := http.Get(target)
				if !assert.NoError(t, err) {
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				a.status, a.body = resp.StatusCode, string(b)
			}()
		}
	}
	// While the burst is in flight, the first page answers.
	require.Eventually(t, func() bool { return runs.Load() > 0 }, 10*time.Second, time.Millisecond, "a run started")
	for i := range 5 {
		resp, err := http.Get(srv.URL + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Positive(t, inFlight.Load(), "the lessons page's request %d waited for the whole burst", i)
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	elapsed := time.Since(start)

	counts := make([]map[int]int, len(kinds))
	for i, a := range answers {
		kind := kinds[a.kind]
		if counts[a.kind] == nil {
			counts[a.kind] = map[int]int{}
		}
		counts[a.kind][a.status]++
		want, ok := kind.want[a.status]
		if !assert.True(t, ok, "request %d (%s): status %d", i, kind.name, a.status) {
			continue
		}
		assert.Contains(t, a.body, want, "request %d (%s)", i, kind.name)
	}
	assert.Positive(t, counts[0][http.StatusOK], "some large runs ran, stopped by their budget")
	assert.Positive(t, counts[0][http.StatusServiceUnavailable], "some were turned away")
	t.Logf("burst of %d in %v: %v (by kind, by status)", len(answers), elapsed.Round(time.Millisecond), counts)

	// Alone, each bad link gets its message.
	for _, kind := range kinds[1:] {
		resp, err := http.Get(kind.url(1))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, kind.name)
		assert.Contains(t, string(b), kind.want[http.StatusBadRequest], kind.name)
	}

	resp, err := http.Get(srv.URL + "/run?lesson=acks1-leader-failover")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.Contains(string(b), `id="records-lost" class="bad">266<`))
}
