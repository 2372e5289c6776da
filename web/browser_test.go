package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

// browserNames are the names Debian's and others' Chromium go by.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// TestCIBrowserNames: .ci/run looks for a browser by the same names, so
// that what it finds (or installs) is what the browser tests find.
func TestCIBrowserNames(t *testing.T) {
	ci, err := os.ReadFile("../.ci/run")
	require.NoError(t, err)
	assert.Contains(t, string(ci), `browsers="`+strings.Join(browserNames, " ")+`"`)
}

// openBrowser starts a headless Chromium for the test and returns a tab.
// Without one on PATH the test is skipped, saying so, unless
// KAFKASIM_REQUIRE_BROWSER=1 (.ci/run sets it), where that fails it.
func openBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "no Chromium found (looked for " + strings.Join(browserNames, ", ") + "); install it with apt-get install chromium"
		if os.Getenv("KAFKASIM_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; KAFKASIM_REQUIRE_BROWSER=1 makes that a failure")
		}
		t.Skip(msg + "; browser tests skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// TestBrowserLearner is a learner who never saw the command line: opens
// the first page, clicks acks1-leader-failover, runs it, reads that
// acknowledged records were lost and why, switches acks to all, runs it
// compared with the first run, and reads zero lost beside 266. The
// screenshot of that page is docs/serve.png (-update rewrites it).
func TestBrowserLearner(t *testing.T) {
	ctx := openBrowser(t)
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Click(chromedp.CSS("#lesson-acks1-leader-failover")),
		chromedp.WaitVisible(chromedp.CSS("#run-form")),
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.WaitVisible(chromedp.CSS("#records-lost")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/run?lesson=acks1-leader-failover", loc, "the address bar holds the run's link")
	lost := text(t, ctx, "#records-lost")
	n, err := strconv.Atoi(lost)
	require.NoError(t, err, lost)
	assert.Positive(t, n, "acknowledged records lost with acks=1")
	assert.Contains(t, text(t, ctx, ".anomaly h4"), "lost record")
	why := text(t, ctx, ".anomaly p")
	assert.Contains(t, why, "acknowledged at", "the reason: it was acknowledged")
	assert.Contains(t, why, "truncated offsets", "the reason: the old leader truncated them")

	// The run's printed link runs it again.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#permalink")),
		chromedp.WaitVisible(chromedp.CSS("#records-lost")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/run?lesson=acks1-leader-failover", loc, "the permalink is the run's link")
	assert.Equal(t, lost, text(t, ctx, "#records-lost"), "the permalink gives the same run")

	// Step through time on the space-time diagram: the window moves on.
	window := text(t, ctx, "#st-range")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#st-later")),
		chromedp.WaitVisible(chromedp.CSS("#st-range")),
	))
	assert.NotEqual(t, window, text(t, ctx, "#st-range"))
	assert.Contains(t, text(t, ctx, "#st-range"), "the window asked for")
	assert.Equal(t, lost, text(t, ctx, "#records-lost"), "the same run")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#f-producer-acks"), "all"),
		chromedp.Click(chromedp.CSS("#compare")),
		chromedp.WaitVisible(chromedp.CSS("#b-records-lost")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/compare?a=lesson%3Dacks1-leader-failover&lesson=acks1-leader-failover&producer.acks=all", loc)
	assert.Equal(t, lost, text(t, ctx, "#a-records-lost"), "run A is the first run")
	assert.Equal(t, "0", text(t, ctx, "#b-records-lost"), "acks=all loses nothing")
	assert.Contains(t, text(t, ctx, "#label-b"), "producer.acks=all")
	class, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#row-records-lost"), "class"))
	require.NoError(t, err)
	assert.Equal(t, "differs", class.Value, "the lost row is marked")
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(shot), "\x89PNG"), "a PNG screenshot")
	if *update {
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "serve.png"), shot, 0o644))
	}
}

// text is the visible text of the first element the CSS selector finds,
// trimmed.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, css)
	return strings.TrimSpace(s)
}

// TestBrowserBadInput: a bad value typed into every field of the form,
// run: each field shows the command line's message for it.
func TestBrowserBadInput(t *testing.T) {
	ctx := openBrowser(t)
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()

	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(srv.URL + "/lesson/acks1-leader-failover"),
		chromedp.WaitVisible(chromedp.CSS("#run-form")),
	}
	for _, f := range fields {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS("#f-"+idOf(f.Key)), badValues[f.Key]))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("#run")), chromedp.WaitVisible(chromedp.CSS("#f-seed-error")))
	require.NoError(t, chromedp.Do(ctx, steps...))
	for _, f := range fields {
		_, err := scenarios.Load("acks1-leader-failover", []string{f.Key + "=" + badValues[f.Key]})
		require.Error(t, err)
		assert.Equal(t, webText(err), text(t, ctx, "#f-"+idOf(f.Key)+"-error"), f.Key)
	}
}
