package web

import (
	"context"
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
)

// waiting is how many requests wait for pages being drawn.
func (s *pageStore) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.flights {
		n += f.waiters
	}
	return n
}

// heldRuns makes h's runs count themselves and wait until release is
// closed, so that a test can line requests up behind them.
func heldRuns(h *Server) (runs *atomic.Int32, release chan struct{}) {
	runs, release = &atomic.Int32{}, make(chan struct{})
	h.onRun = func() {
		runs.Add(1)
		<-release
	}
	return runs, release
}

// waitFor polls until n requests wait for pages.
func waitFor(t *testing.T, h *Server, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return h.store.waiting() == n }, 10*time.Second, time.Millisecond, "%d requests waiting", n)
}

// TestIdenticalRequestsShare: thirty learners open one lesson at once on
// a server making one run at a time, with no pages kept: each gets the
// page, the same bytes, from one run; five asking for another setting at
// the same time share a second run, and do not get the first's page.
func TestIdenticalRequestsShare(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRuns: 1, QueueWait: time.Minute})
	runs, release := heldRuns(h)
	srv := httptest.NewServer(h)
	defer srv.Close()
	targets := []struct {
		link string
		n    int
	}{{"/run?lesson=acks1-leader-failover", 30}, {"/run?lesson=acks1-leader-failover&producer.acks=all", 5}}
	type answer struct {
		status int
		body   string
	}
	answers := make([][]answer, len(targets))
	var wg sync.WaitGroup
	for i, tt := range targets {
		answers[i] = make([]answer, tt.n)
		for j := range tt.n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(srv.URL + tt.link)
				if !assert.NoError(t, err) {
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				answers[i][j] = answer{resp.StatusCode, string(b)}
			}()
		}
	}
	waitFor(t, h, 35)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(2), runs.Load(), "one run per distinct link")
	for i, tt := range targets {
		for j, a := range answers[i] {
			require.Equal(t, http.StatusOK, a.status, "%s, request %d", tt.link, j)
			assert.True(t, a.body == answers[i][0].body, "%s, request %d: another page", tt.link, j)
		}
	}
	assert.Contains(t, answers[0][0].body, `id="records-lost" class="bad">266<`)
	assert.Contains(t, answers[1][0].body, `id="records-lost">0<`)
}

// TestGoneRequestsDoNotPoison: the request that started a page going away
// leaves it to be drawn for the others waiting; when all go away the run
// stops, its slot comes free, and the next identical request runs afresh.
func TestGoneRequestsDoNotPoison(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRuns: 1, Cache: 64 << 20})
	runs, release := heldRuns(h)
	const link = "/run?lesson=acks1-leader-failover"
	serve := func(ctx context.Context) <-chan *httptest.ResponseRecorder {
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, localRequest(http.MethodGet, link, nil).WithContext(ctx))
			done <- rec
		}()
		return done
	}

	// All go away: the run is stopped and nothing is kept.
	ctx, cancel := context.WithCancel(context.Background())
	first := serve(ctx)
	waitFor(t, h, 1)
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.Equal(t, http.StatusServiceUnavailable, (<-first).Code)
	waitFor(t, h, 0)
	close(release)

	// The next one runs afresh, though the stopped run may not have
	// given its slot back yet; the one who started it goes away, and
	// the other waiting still gets the page, which is kept.
	runs, release = heldRuns(h)
	ctx, cancel = context.WithCancel(context.Background())
	starter := serve(ctx)
	waitFor(t, h, 1)
	other := serve(context.Background())
	waitFor(t, h, 2)
	cancel()
	assert.Equal(t, http.StatusServiceUnavailable, (<-starter).Code)
	waitFor(t, h, 1)
	close(release)
	rec := <-other
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `id="records-lost" class="bad">266<`)
	assert.Equal(t, int32(1), runs.Load())
	status, body := get(t, h, link)
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, body == rec.Body.String(), "the kept page")
	assert.Equal(t, int32(1), runs.Load(), "answered from the kept page")
}

// TestKeptPages: a finished page answers the same link again without a
// run, and only the same link: other settings, anomalies=all, another
// space-time window, another pair compared, another Host each run; a
// page the wall clock cut short is not kept, and says so.
func TestKeptPages(t *testing.T) {
	t.Parallel()
	h := New(Options{Cache: 64 << 20})
	var runs atomic.Int32
	h.onRun = func() { runs.Add(1) }
	a := "lesson=acks1-leader-failover"
	tests := []struct {
		target, host string
		runs         int32 // the runs made by now
	}{
		{"/run?" + a, "localhost", 1},
		{"/run?" + a, "localhost", 1},
		{"/run?" + a + "&producer.acks=all", "localhost", 2},
		{"/run?" + a + "&seed=2", "localhost", 3},
		{"/run?" + a + "&anomalies=all", "localhost", 4},
		{"/run?" + a + "&st.from=1s&st.partition=orders-1&st.to=1.5s", "localhost", 5},
		{"/run?" + a, "127.0.0.1:8080", 6},
		{"/compare?a=" + url.QueryEscape(a) + "&" + a + "&producer.acks=all", "localhost", 8},
		{"/compare?a=" + url.QueryEscape(a) + "&" + a + "&producer.acks=all", "localhost", 8},
		{"/compare?a=" + url.QueryEscape(a) + "&" + a + "&producer.acks=0", "localhost", 10},
		{"/run?" + a + "&producer.acks=all", "localhost", 10},
	}
	bodies := map[string]string{}
	for _, tt := range tests {
		req := localRequest(http.MethodGet, tt.target, nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, tt.target)
		assert.Equal(t, tt.runs, runs.Load(), "%s on %s", tt.target, tt.host)
		assert.Empty(t, rec.Header().Get("Cache-Control"), tt.target)
		assert.NotEmpty(t, rec.Header().Get("Content-Security-Policy"), tt.target)
		key := tt.host + " " + tt.target
		if prev, ok := bodies[key]; ok {
			assert.True(t, prev == rec.Body.String(), "%s: the kept page", tt.target)
		}
		bodies[key] = rec.Body.String()
	}

	cut := New(Options{MaxRecords: 10_000_000, MaxVirtual: time.Hour, MaxWall: 100 * time.Millisecond, Cache: 64 << 20})
	runs.Store(0)
	cut.onRun = func() { runs.Add(1) }
	large := "/run?lesson=linger-batching&workload.rate=100000&workload.records=4000000&set=duration%3D40s"
	for i := range 2 {
		rec := getRaw(cut, large)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), "stopped by the wall clock budget")
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		assert.Equal(t, int32(i+1), runs.Load(), "a page the wall clock cut is drawn again")
	}
}

// TestPageStoreBound: the kept pages hold at most the bound, in bytes of
// key and page; the least recently used go first, a page larger than the
// bound is not kept, and a bound of zero keeps none.
func TestPageStoreBound(t *testing.T) {
	t.Parallel()
	type step struct {
		key   string
		size  int // the page's body
		drawn bool
	}
	tests := []struct {
		name  string
		max   int64
		steps []step
	}{
		{"within the bound", 100, []step{{"a", 40, true}, {"b", 40, true}, {"a", 40, false}, {"b", 40, false}}},
		{"least recently used out", 100, []step{{"a", 40, true}, {"b", 40, true}, {"a", 40, false}, {"c", 40, true},
			{"a", 40, false}, {"c", 40, false}, {"b", 40, true}, {"a", 40, true}}},
		{"one large page drops several", 100, []step{{"a", 30, true}, {"b", 30, true}, {"c", 90, true}, {"a", 30, true}, {"c", 90, true}}},
		{"larger than the bound", 100, []step{{"a", 100, true}, {"a", 100, true}, {"b", 98, true}, {"b", 98, false}}},
		{"no bound: none kept", 0, []step{{"a", 1, true}, {"a", 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newPageStore(tt.max)
			for i, st := range tt.steps {
				drawn := false
				p, err := s.get(context.Background(), st.key, func(context.Context) *page {
					drawn = true
					return &page{status: http.StatusOK, header: http.Header{}, body: []byte(strings.Repeat("x", st.size))}
				})
				require.NoError(t, err)
				assert.Len(t, p.body, st.size)
				assert.Equal(t, st.drawn, drawn, "step %d: %s drawn", i, st.key)
				assert.LessOrEqual(t, s.used, tt.max, "step %d", i)
			}
		})
	}
	// Errors and pages marked no-store are not kept.
	s := newPageStore(1 << 20)
	for _, p := range []*page{{status: http.StatusBadRequest, header: http.Header{}},
		{status: http.StatusOK, header: http.Header{"Cache-Control": {"no-store"}}}} {
		for range 2 {
			drawn := false
			_, err := s.get(context.Background(), fmt.Sprint(p.status), func(context.Context) *page { drawn = true; return p })
			require.NoError(t, err)
			assert.True(t, drawn, "status %d, %v", p.status, p.header)
		}
	}
}
