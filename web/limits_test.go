package web

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

// postForm posts a urlencoded form to /run.
func postForm(h http.Handler, form url.Values) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := localRequest(http.MethodPost, "/run", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	return rec
}

// TestValidationHoldsASlot: validating a scenario is work a request
// costs, so it waits for a run slot like a run (regression: 50 pasted
// scenarios were parsed at once, outside any bound); sending a link to
// its canonical form needs no slot.
func TestValidationHoldsASlot(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRuns: 1, QueueWait: 20 * time.Millisecond})
	h.slots <- struct{}{} // every slot taken
	defer func() { <-h.slots }()

	rec := getRaw(h, "/run?lesson=acks1-leader-failover&producer.acks=2")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "The server is busy")

	rec = getRaw(h, "/run?producer.acks=2&lesson=acks1-leader-failover")
	assert.Equal(t, http.StatusSeeOther, rec.Code, "the canonical link first")

	e, ok := scenarios.Builtin("inflight-reordering")
	require.True(t, ok)
	rec = postForm(h, url.Values{"yaml": {string(e.Text)}})
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

// TestServerBoundsCountTopics: a transactional workload writing to two
// topics counts twice against --max-records; and a run's memory is
// bounded by Options.MaxMemory.
func TestServerBoundsCountTopics(t *testing.T) {
	t.Parallel()
	status, body := get(t, New(Options{MaxRecords: 1000}), "/run?lesson=transactions-atomic")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "this run writes about 1600 records (800 to each of 2 topics); this server runs at most 1000 per run")

	status, body = get(t, New(Options{MaxMemory: 1 << 20}), "/run?lesson=acks1-leader-failover")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "stopped by the memory budget (about 1 MiB)")
}

// TestLimitBesideItsField: a bound exceeded by a typed value goes beside
// that field; by the lesson's own values, at the top of the form.
func TestLimitBesideItsField(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRecords: 5000})
	_, body := get(t, h, "/run?lesson=acks1-leader-failover&workload.records=6000")
	assert.Contains(t, body, `<p class="error" id="f-workload-records-error">this run sends about 6000 records; this server runs at most 5000 per run`)
	_, body = get(t, h, "/run?lesson=acks1-leader-failover&workload.rate=20000")
	assert.Contains(t, body, `<p class="error" id="f-workload-rate-error">this run sends about 8000 records`)
	_, body = get(t, h, "/run?lesson=acks1-leader-failover")
	assert.Contains(t, body, `<div class="errors" id="form-errors"><p class="error">this run sends about 8000 records`)
}

// TestBadQuery: a malformed query, or a setting given twice, is refused
// at the top of the form (regression: the bad part was dropped, or the
// first value silently won).
func TestBadQuery(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	tests := []struct{ target, want string }{
		{"/run?lesson=acks1-leader-failover&producer.acks=0&producer.acks=all", "producer.acks is given 2 times in this link (0, all); give each setting once"},
		{"/run?lesson=acks1-leader-failover&producer.acks=%zz", "this link&#39;s query is malformed (invalid URL escape &#34;%zz&#34;)"},
		{"/compare?a=lesson%3Dacks1-leader-failover&lesson=acks1-leader-failover&seed=1&seed=2", "seed is given 2 times"},
	}
	for _, tt := range tests {
		rec := getRaw(h, tt.target)
		assert.Equal(t, http.StatusBadRequest, rec.Code, tt.target)
		assert.Contains(t, rec.Body.String(), `<div class="errors" id="form-errors"><p class="error">`+tt.want, tt.target)
	}
}

// TestPastedTooLargeForALink: a pasted scenario too large for a link is
// run at once; its space-time diagram has no links to move its window
// (they would carry no scenario), and says why.
func TestPastedTooLargeForALink(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	e, ok := scenarios.Builtin("acks1-leader-failover")
	require.True(t, ok)
	rng := rand.New(rand.NewPCG(1, 2))
	var noise strings.Builder
	for range 600 {
		noise.WriteString("# ")
		for range 60 {
			noise.WriteByte(byte('a' + rng.IntN(26)))
		}
		noise.WriteString("\n")
	}
	rec := postForm(h, url.Values{"yaml": {noise.String() + string(e.Text)}})
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, "No links to move the window: this pasted scenario is too large for a link")
	assert.NotContains(t, body, "st.from=")
	assert.NotContains(t, body, `id="permalink"`)
}

// TestCancelledRun: a request that goes away stops its run, and the run
// is not reported as stopped by the wall clock.
func TestCancelledRun(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxRecords: 10_000_000, MaxVirtual: time.Hour, MaxWall: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req := localRequest(http.MethodGet, "/run?lesson=linger-batching&workload.rate=100000&workload.records=4000000&set=duration%3D40s", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	assert.Less(t, time.Since(start), 20*time.Second, "the run stopped when the request went away")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "The request went away")
	assert.NotContains(t, rec.Body.String(), "wall clock")
}

// TestPageTimeIsBounded: when the page's time is up after its run, the
// charts and the space-time diagram are left out, saying so.
func TestPageTimeIsBounded(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxWall: time.Nanosecond})
	status, body := get(t, h, "/run?lesson=acks1-leader-failover")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<p class="error budget" id="late">The charts and the space-time diagram are left out: this page used its 2ns of real time; the report is whole.</p>`)
	assert.NotContains(t, body, "<svg")
}

// TestOversizedPost: a body over the bound gets the server's own sentence
// beside the scenario's field (413); a malformed one is a 400.
func TestOversizedPost(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	rec := postForm(h, url.Values{"yaml": {strings.Repeat("x", 2<<20)}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), `<p class="error" id="f-yaml-error">what was sent is over 1088 KiB; a scenario file is at most 1 MiB: paste or upload a smaller one</p>`)
	assert.NotContains(t, rec.Body.String(), "http: request body too large")

	rec = httptest.NewRecorder()
	req := localRequest(http.MethodPost, "/run", strings.NewReader("--xyz\r\nContent-Disposition: form-data; name=\"yaml\"\r\n\r\nname: x"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "the form could not be read (a malformed request body); send it again from this page")
}

// TestHostAndFrames: only loopback names are served unless Public (a DNS
// name rebound to 127.0.0.1 must not reach the server), and no page may be
// framed.
func TestHostAndFrames(t *testing.T) {
	t.Parallel()
	h, public := New(Options{}), New(Options{Public: true})
	tests := []struct {
		host   string
		server *Server
		status int
	}{
		{"localhost:8080", h, 200}, {"127.0.0.1:8080", h, 200}, {"[::1]:8080", h, 200}, {"app.localhost", h, 200},
		{"evil.example:8080", h, http.StatusMisdirectedRequest}, {"10.0.0.1", h, http.StatusMisdirectedRequest},
		{"evil.example:8080", public, 200},
	}
	for _, tt := range tests {
		req := localRequest(http.MethodGet, "/", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		tt.server.ServeHTTP(rec, req)
		assert.Equal(t, tt.status, rec.Code, tt.host)
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
		if tt.status != 200 {
			assert.Contains(t, rec.Body.String(), fmt.Sprintf("This server answers only to loopback names and addresses (localhost, 127.0.0.1, [::1]), not &#34;%s&#34;; start it with --public", tt.host))
		}
	}
}

// TestPanicIsAPage: a panic in a handler is the internal-error page with
// its one line in the log, no stack trace to the browser.
func TestPanicIsAPage(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	var logged bytes.Buffer
	h.Log = log.New(&logged, "", 0)
	h.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := getRaw(h, "/boom")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Body.String(), "internal error: boom; this is a bug in simulate serve")
	assert.NotContains(t, rec.Body.String(), "goroutine")
	assert.Equal(t, "internal error in GET /boom: boom\n", logged.String())
}
