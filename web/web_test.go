package web

import (
	"bytes"
	"flag"
	"html"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden HTML fragments under testdata/")

// localRequest is a request as a browser on this machine sends it: to
// localhost (httptest's own is to example.com, which the server refuses).
func localRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, "http://localhost"+target, body)
	return r
}

// get requests a page from the server as a browser does, following its
// redirects (the server sends a link to its canonical form before
// validating it), and returns the status and body of the last answer.
func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	for range 3 {
		rec := getRaw(h, target)
		if rec.Code != http.StatusSeeOther {
			return rec.Code, rec.Body.String()
		}
		target = rec.Header().Get("Location")
	}
	t.Fatalf("%s: more than 3 redirects", target)
	return 0, ""
}

// getRaw requests a page, not following a redirect.
func getRaw(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, localRequest(http.MethodGet, target, nil))
	return rec
}

func TestPages(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	acksAll := "/compare?a=" + url.QueryEscape("lesson=acks1-leader-failover") + "&lesson=acks1-leader-failover&producer.acks=all"
	tests := []struct {
		name, target string
		status       int
		contains     []string
	}{
		{"the lessons", "/", 200, []string{`href="/lesson/acks1-leader-failover"`, topics[0].title, `<p class="question">Can a record acknowledged with <code>acks=1</code> disappear?</p>`, "acks=1 loses acknowledged records when the leader fails"}},
		{"a lesson", "/lesson/acks1-leader-failover", 200, []string{"With acks=1 the leader answers", `<p class="question" id="question"><strong>Question.</strong> Can a record acknowledged with <code>acks=1</code> disappear?</p>`, `name="producer.acks"`, `placeholder="1"`, "Kafka default: all", `name="lesson" value="acks1-leader-failover"`}},
		{"no such lesson", "/lesson/nope", 404, []string{`No lesson is named &#34;nope&#34;`}},
		{"a mistyped lesson", "/lesson/acks1-leader-failovr", 404, []string{`<p id="did-you-mean">Did you mean <a href="/lesson/acks1-leader-failover">acks1-leader-failover</a>`}},
		{"a run", "/run?lesson=acks1-leader-failover", 200, []string{`id="records-lost" class="bad">266<`, "lost record 1995 (orders-0, key-96)", "broker-1 truncated offsets 520-785", "<svg", "fair share", `name="a" value="lesson=acks1-leader-failover"`}},
		{"a run's space-time diagram", "/run?lesson=acks1-leader-failover", 200, []string{`id="spacetime"`, "the first anomaly: lost record", `id="st-later"`, `href="/run?lesson=acks1-leader-failover&amp;st.from=947ms&amp;st.partition=orders-1&amp;st.to=9.903461s#spacetime"`}},
		{"a window of it", "/run?lesson=acks1-leader-failover&st.from=1s&st.partition=orders-1&st.to=1.5s", 200, []string{`<p id="st-range">orders-1 from 1s to 1.5s of virtual time: the window asked for</p>`, `href="/run?lesson=acks1-leader-failover&amp;st.from=500ms&amp;st.partition=orders-1&amp;st.to=1s#spacetime" id="st-earlier"`}},
		{"a submitted form goes to the run's link", "/run?lesson=acks1-leader-failover&producer.retries=&a=lesson%3Dx&st.to=2s&producer.acks=all", 303,
			[]string{`<a href="/run?lesson=acks1-leader-failover&amp;producer.acks=all&amp;st.to=2s">See Other</a>`}},
		{"and to the comparison's", "/compare?lesson=acks1-leader-failover&seed=&producer.acks=all&a=lesson%3Dacks1-leader-failover", 303,
			[]string{`<a href="/compare?a=lesson%3Dacks1-leader-failover&amp;lesson=acks1-leader-failover&amp;producer.acks=all">See Other</a>`}},
		{"a window past the run's end", "/run?lesson=acks1-leader-failover&st.from=9s&st.to=20s", 200, []string{`<p class="hint" id="st-end">the run ended at 10.35 s; the window goes no later.</p>`,
			`href="/run?lesson=acks1-leader-failover&amp;st.from=8.324221s&amp;st.partition=orders-0&amp;st.to=10.351558s#spacetime" id="st-wider"`}},
		{"a run with transactions", "/run?lesson=read-uncommitted-sees-aborts", 200, []string{`<td id="txn-committed">20</td><td id="txn-aborted">10</td>`,
			`<tr id="consumer-read_uncommitted"><td><code>read_uncommitted</code></td><td>290</td><td class="bad">90</td>`,
			`<p class="hint" id="send-limit">300 sent: workload records 0 is no limit; duration 3s × rate 100 records/s sets it.</p>`}},
		{"records capped by the duration", "/run?lesson=acks1-leader-failover&workload.records=10000", 200, []string{
			`<p class="hint" id="send-limit">8000 sent, not workload records 10000: duration 4s × rate 2000 records/s caps it.</p>`}},
		{"a bad window", "/run?lesson=acks1-leader-failover&st.from=x", 200, []string{`st.from &#34;x&#34;: use a duration of virtual time from 0, such as 1.5s or 800ms; the default window is drawn`, "the first anomaly"}},
		{"a window backwards", "/run?lesson=acks1-leader-failover&st.from=2s&st.to=1s", 200, []string{"st.from 2s is not before st.to 1s; the default window is drawn"}},
		{"no such partition", "/run?lesson=acks1-leader-failover&st.partition=nope-3", 200, []string{"nope-3 is not a partition of this scenario", "the first anomaly"}},
		{"a run with a setting", "/run?lesson=acks1-leader-failover&producer.acks=all", 200, []string{`id="records-lost">0<`, `/run?lesson=acks1-leader-failover&amp;producer.acks=all`,
			`name="producer.acks" value="all" placeholder="1"`, `<span class="hint">lesson: 1 · <span class="run-value">this run: all</span> · Kafka default: all</span>`,
			`<span class="hint">lesson: false · <span class="run-value">this run: true</span> · Kafka default: true</span>`,
			`<p class="changes" id="changes">Changed from the lesson: <span class="change"><code>acks</code> 1 → <strong>all</strong></span>, <span class="change in-effect"><code>enable.idempotence</code> false → <strong>true</strong> (changed in effect, not set)</span></p>`}},
		{"a run of no lesson", "/run?lesson=nope", 400, []string{`<div class="errors" id="form-errors"><p class="error">no lesson is named &#34;nope&#34;; the first page lists them</p></div>`}},
		{"a run of a mistyped lesson", "/run?lesson=acks1-leader-failovr", 400, []string{`no lesson is named &#34;acks1-leader-failovr&#34;; did you mean acks1-leader-failover or acks-all-leader-failover? The first page lists them`}},
		{"a run of nothing", "/run", 400, []string{`id="f-yaml-error"`}},
		{"a run of a file path", "/run?lesson=" + url.QueryEscape("/etc/passwd"), 400, []string{"no lesson is named &#34;/etc/passwd&#34;"}},
		{"a bad link", "/run?yaml=!!!", 400, []string{"not valid base64url"}},
		{"a comparison", acksAll, 200, []string{`id="row-records-lost" class="differs"`, `id="a-records-lost" class="bad">266<`, `id="b-records-lost">0<`, "producer.acks=all", "<svg",
			`<tr><td><code>producer.acks</code></td><td>1</td><td>all</td></tr>`,
			`<code>producer.enable.idempotence</code> <span class="hint">(follows from acks: Kafka&#39;s default idempotence needs acks=all; changed in effect, not set)</span>`,
			"The lesson's expectation does not hold here (that is the point of the change):", `<code class="unmet">`,
			"<div><figure><figcaption>Records per partition, with the fair share</figcaption><svg"}},
		{"a comparison of a run with itself", "/compare?a=" + url.QueryEscape("lesson=acks1-leader-failover") + "&lesson=acks1-leader-failover", 200,
			[]string{`<p class="changes" id="same-run">A and B are the same run`}},
		{"a comparison of two lessons", "/compare?a=" + url.QueryEscape("lesson=acks1-leader-failover") + "&lesson=acks-all-leader-failover", 200,
			[]string{`<h1>acks1-leader-failover (A) against acks-all-leader-failover (B)</h1>`, `<th>B</th><td class="name">acks-all-leader-failover</td>`}},
		{"a comparison without A", "/compare?lesson=acks1-leader-failover", 400, []string{"pin a run"}},
		{"a comparison with a bad A", "/compare?a=lesson%3Dnope&lesson=acks1-leader-failover", 400, []string{"The pinned run is not valid"}},
		{"a comparison with a bad B", "/compare?a=lesson%3Dacks1-leader-failover&lesson=acks1-leader-failover&producer.acks=2", 400, []string{`id="f-producer-acks-error"`}},
		{"the style", "/static/style.css", 200, []string{"font-family"}},
		{"the paste page", "/paste", 200, []string{`name="yaml"`, `type="file"`}},
		{"the glossary", "/glossary", 200, []string{"<dt>high watermark (HW)</dt><dd>the offset up to which every ISR member has the log.", "<dt>acks</dt>"}},
		{"the glossary's link", "/", 200, []string{`<a href="/glossary">the glossary</a>`}},
		{"no page", "/nope", 404, []string{"Nothing is at /nope; the first page lists the lessons."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, h, tt.target)
			if tt.status == http.StatusSeeOther {
				rec := getRaw(h, tt.target)
				status, body = rec.Code, rec.Body.String()
			}
			assert.Equal(t, tt.status, status, body)
			for _, c := range tt.contains {
				assert.Contains(t, body, c)
			}
		})
	}
}

// badValues is a bad value for every form field.
var badValues = map[string]string{
	"producer.acks":                                  "2",
	"producer.enable.idempotence":                    "yes",
	"producer.retries":                               "-1",
	"producer.max.in.flight.requests.per.connection": "0",
	"producer.linger.ms":                             "-1",
	"producer.batch.size":                            "-1",
	"producer.compression.type":                      "brotli",
	"producer.partitioner.class":                     "com.example.Nope",
	"producer.delivery.timeout.ms":                   "x",
	"topic.min.insync.replicas":                      "0",
	"topic.unclean.leader.election.enable":           "maybe",
	"topic.replication.factor":                       "0",
	"cluster.brokers":                                "0",
	"cluster.version":                                "2.0",
	"workload.keys":                                  "x",
	"workload.rate":                                  "0",
	"workload.records":                               "-1",
	"seed":                                           "x",
}

// TestEveryFieldShowsItsMessage: a bad value in any field gives the page
// of the form again (400, never an error page), with the command line's
// message for that --set beside that field, and the value kept; all bad
// at once, each field gets its own.
func TestEveryFieldShowsItsMessage(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	all := url.Values{"lesson": {"acks1-leader-failover"}}
	for _, f := range fields {
		bad, ok := badValues[f.Key]
		require.True(t, ok, "no bad value for the field %s", f.Key)
		all.Set(f.Key, bad)
		_, err := scenarios.Load("acks1-leader-failover", []string{f.Key + "=" + bad})
		require.Error(t, err, f.Key)
		want := `<p class="error" id="f-` + idOf(f.Key) + `-error">` + escape(webText(err)) + `</p>`
		t.Run(f.Key, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, h, "/run?lesson=acks1-leader-failover&"+url.QueryEscape(f.Key)+"="+url.QueryEscape(bad))
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, body, want)
			assert.Contains(t, body, `name="`+f.Key+`" value="`+escape(bad)+`"`)
			assert.Equal(t, 1, strings.Count(body, `class="error"`), "only the bad field has a message")
		})
		t.Run("all at once/"+f.Key, func(t *testing.T) {
			t.Parallel()
			_, body := get(t, h, "/run?"+all.Encode())
			assert.Contains(t, body, want)
		})
	}
	t.Run("other settings", func(t *testing.T) {
		t.Parallel()
		status, body := get(t, h, "/run?lesson=acks1-leader-failover&set="+url.QueryEscape("producer.nope=1\nworkload.rate=5000"))
		assert.Equal(t, http.StatusBadRequest, status)
		_, err := scenarios.Load("acks1-leader-failover", []string{"producer.nope=1"})
		require.Error(t, err)
		assert.Contains(t, body, `<p class="error" id="f-set-error">`+escape(webText(err))+`</p>`)
	})
	t.Run("a combination Kafka refuses", func(t *testing.T) {
		t.Parallel()
		// Each is fine alone on this lesson; together Kafka refuses them.
		status, body := get(t, h, "/run?lesson=hot-key-skew&producer.acks=1&producer.enable.idempotence=true")
		assert.Equal(t, http.StatusBadRequest, status)
		_, err := scenarios.Load("hot-key-skew", []string{"producer.acks=1", "producer.enable.idempotence=true"})
		require.Error(t, err)
		assert.Contains(t, body, `<div class="errors" id="form-errors"><p class="error">`+escape(webText(err)))
	})
}

// TestBounds: a run beyond the server's bounds is refused on the form,
// saying which bound and how to stay within it.
func TestBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/run?lesson=acks1-leader-failover", 400, "this run sends about 8000 records; this server runs at most 5000 per run"},
		{"/run?lesson=acks1-leader-failover&workload.records=4000&workload.rate=1000", 400, "its workload runs until 4s of virtual time; this server runs at most 2s per run"},
		{"/run?lesson=acks1-leader-failover&workload.records=1000", 200, `id="records-sent">1000<`},
	}
	h := New(Options{MaxRecords: 5000, MaxVirtual: 2 * time.Second})
	for _, tt := range tests {
		status, body := get(t, h, tt.target)
		assert.Equal(t, tt.status, status, tt.target)
		assert.Contains(t, body, tt.want)
	}
	h = New(Options{MaxRecords: 5000, MaxVirtual: time.Second})
	status, body := get(t, h, "/run?lesson=acks1-leader-failover&workload.records=1000&workload.rate=4000")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "fault 2 (crash) runs until 1.5s of virtual time; this server runs at most 1s per run")
}

// TestPastedScenario: a posted scenario is validated as the command line
// validates a file, and a valid one sends the browser to its link, which
// runs it; an upload works the same way.
func TestPastedScenario(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	e, ok := scenarios.Builtin("inflight-reordering")
	require.True(t, ok)

	post := func(form url.Values) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := localRequest(http.MethodPost, "/run", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post(url.Values{"yaml": {string(e.Text)}, "seed": {"3"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "/run?yaml="), loc)
	assert.Contains(t, loc, "&seed=3")
	status, body := get(t, h, loc)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "inflight-reordering <span class=\"seed\">seed 3</span>")

	bad := strings.Replace(string(e.Text), "acks: all", "acks: most", 1)
	require.NotEqual(t, bad, string(e.Text))
	_, err := scenarios.Parse(pastedSource, []byte(bad), nil)
	require.Error(t, err)
	rec = post(url.Values{"yaml": {bad}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `<p class="error" id="f-yaml-error">`+escape(webText(err))+`</p>`)

	rec = httptest.NewRecorder()
	req := localRequest(http.MethodPost, "/run", strings.NewReader(strings.Repeat("x", 2<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

// TestTopicsCoverTheCatalog: the topic table names every lesson once,
// and only lessons that exist.
func TestTopicsCoverTheCatalog(t *testing.T) {
	seen := map[string]int{}
	for _, tp := range topics {
		for _, name := range tp.lessons {
			seen[name]++
		}
	}
	for _, e := range scenarios.Catalog() {
		assert.Equal(t, 1, seen[e.Name], "lesson %s: give it one topic in web/topics.go", e.Name)
		delete(seen, e.Name)
	}
	assert.Empty(t, seen, "topics name lessons the catalog does not have")
	for _, g := range groupLessons(scenarios.Catalog()) {
		assert.NotEqual(t, otherTopic, g.Title)
	}
}

// fragment is the part of a page between two markers, markers included.
func fragment(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	require.GreaterOrEqual(t, i, 0, "no %q in the page", from)
	j := strings.Index(body[i:], to)
	require.GreaterOrEqual(t, j, 0, "no %q after %q in the page", to, from)
	return body[i : i+j+len(to)]
}

// TestGoldenFragments: parts of pages a learner reads, as HTML, against
// testdata/*.html (go test ./web -run TestGoldenFragments -update).
func TestGoldenFragments(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	tests := []struct {
		name, target, from, to string
	}{
		{"index", "/", "<main>", "</main>"},
		{"lesson-form-errors", "/run?lesson=acks1-leader-failover&producer.acks=2&cluster.version=2.0&workload.records=500", `<form`, `</form>`},
		{"run-report", "/run?lesson=acks1-leader-failover", `<table class="records"`, `<div class="diagram">`},
		{"compare-rows", "/compare?a=lesson%3Dacks1-leader-failover&lesson=acks1-leader-failover&producer.acks=all", `<table class="compare"`, `</table>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, body := get(t, h, tt.target)
			got := fragment(t, body, tt.from, tt.to) + "\n"
			path := filepath.Join("testdata", tt.name+".html")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./web -run TestGoldenFragments -update")
			assert.Equal(t, string(want), got)
		})
	}
}

// escape is text as html/template writes it into a page.
func escape(s string) string {
	var b strings.Builder
	template.Must(template.New("").Parse("{{.}}")).Execute(&b, s)
	return b.String()
}

// TestLinkReproduces: a run's link gives the same page, byte for byte,
// every time (the simulation, the report and the charts are all
// deterministic), and a comparison's too.
func TestLinkReproduces(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"/run?lesson=retry-duplicates&producer.max.in.flight.requests.per.connection=1&seed=4",
		"/compare?a=lesson%3Dinflight-reordering&lesson=inflight-reordering&producer.max.in.flight.requests.per.connection=1",
	} {
		_, first := get(t, New(Options{}), target)
		status, second := get(t, New(Options{}), target)
		require.Equal(t, http.StatusOK, status)
		assert.True(t, first == second, "%s: two runs of one link differ", target)
	}
}

// TestUpload: a scenario file uploaded as multipart form data is read as
// a pasted one; too many other settings are refused beside their field.
func TestUpload(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	e, ok := scenarios.Builtin("idempotent-producer")
	require.True(t, ok)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "mine.yaml")
	require.NoError(t, err)
	fw.Write(e.Text)
	require.NoError(t, mw.WriteField("producer.linger.ms", "20"))
	require.NoError(t, mw.Close())
	rec := httptest.NewRecorder()
	req := localRequest(http.MethodPost, "/run", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	status, page := get(t, h, rec.Header().Get("Location"))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "linger.ms=20")
	assert.NotContains(t, page, `href="/lesson/`, "a pasted scenario has no lesson page")

	// A bad file's message is the command line's, without its framing.
	body.Reset()
	mw = multipart.NewWriter(&body)
	fw, err = mw.CreateFormFile("file", "mine.yaml")
	require.NoError(t, err)
	fw.Write(append(bytes.Clone(e.Text), "colour: blue\n"...))
	require.NoError(t, mw.Close())
	rec = httptest.NewRecorder()
	req = localRequest(http.MethodPost, "/run", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Regexp(t, `<p class="error" id="f-yaml-error">line \d+: colour: unknown key at the top level`, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), pastedSource, "an uploaded file is not called pasted")

	sets := url.Values{"lesson": {"idempotent-producer"}}
	for range maxSets + 1 {
		sets.Add("set", "workload.rate=1000")
	}
	status, page = get(t, h, "/run?"+sets.Encode())
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, `<p class="error" id="f-set-error">51 other settings; this server takes at most 50 per run</p>`)
}

// TestEveryLesson: every lesson's page and run page draw, the run with
// its counts, the space-time diagram and every chart.
func TestEveryLesson(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	for _, e := range scenarios.Catalog() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, h, "/lesson/"+e.Name)
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, body, escape(e.Title))
			status, body = get(t, h, "/run?lesson="+e.Name)
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, body, `id="records-lost"`)
			assert.Contains(t, body, `<div class="diagram"><svg`)
			assert.Equal(t, len(runCharts), strings.Count(body, "<figure><figcaption>"))
			assert.NotContains(t, body, `<p class="error">`, "no chart or diagram failed")
		})
	}
}

// hrefOf is the unescaped href of the element with this id in a page.
func hrefOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]*)" id="` + regexp.QuoteMeta(id) + `"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no link #%s in the page", id)
	return html.UnescapeString(m[1])
}

// TestPrintedLinksRun: the links a page prints (this run's link, run A
// alone, run B alone) give the same run, not a redirect or an error.
func TestPrintedLinksRun(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	run := "/run?lesson=acks1-leader-failover&producer.acks=all&seed=2"
	status, body := get(t, h, run)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, run, hrefOf(t, body, "permalink"))
	status, again := get(t, h, hrefOf(t, body, "permalink"))
	require.Equal(t, http.StatusOK, status, again)
	assert.True(t, body == again, "the permalink gives the same page")

	cmp := "/compare?a=" + url.QueryEscape("lesson=acks1-leader-failover") + "&lesson=acks1-leader-failover&producer.acks=all&seed=2"
	status, body = get(t, h, cmp)
	require.Equal(t, http.StatusOK, status, body)
	for id, want := range map[string]string{"run-a": "/run?lesson=acks1-leader-failover", "run-b": run} {
		assert.Equal(t, want, hrefOf(t, body, id))
		status, page := get(t, h, hrefOf(t, body, id))
		require.Equal(t, http.StatusOK, status, id)
		_, direct := get(t, h, want)
		assert.True(t, page == direct, "%s: the same run", id)
	}
}

// TestUnknownKeys: a query key no page reads is refused with the command
// line's message for it, not dropped to run something else; a field also
// set under other settings is refused beside the field.
func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	tests := []struct {
		target, want string
	}{
		{"/run?lesson=acks1-leader-failover&producer.ack=all", `<div class="errors" id="form-errors"><p class="error">producer.ack: unknown producer property &#34;ack&#34; (did you mean acks?); the simulator models: acks,`},
		{"/run?lesson=acks1-leader-failover&foo=bar", `<div class="errors" id="form-errors"><p class="error">foo: unknown --set key; use seed,`},
		{"/run?lesson=acks1-leader-failover&producer.request.timeout.ms=5000", `<p class="error">producer.request.timeout.ms is not a field of this form; put producer.request.timeout.ms=5000 under other settings</p>`},
		{"/run?lesson=acks1-leader-failover&producer.acks=0&set=producer.acks%3Dall", `<p class="error" id="f-producer-acks-error">set both here (0) and under other settings (all); keep one</p>`},
		{"/compare?a=" + url.QueryEscape("lesson=acks1-leader-failover&producer.ack=all") + "&lesson=acks1-leader-failover", `producer.ack: unknown producer property &#34;ack&#34; (did you mean acks?)`},
	}
	for _, tt := range tests {
		status, body := get(t, h, tt.target)
		assert.Equal(t, http.StatusBadRequest, status, tt.target)
		assert.Contains(t, body, tt.want, tt.target)
		assert.NotContains(t, body, "built-in acks1-leader-failover", "no command-line framing")
	}
}

// TestAllAnomalies: the run page lists the first anomaly of each kind
// and links to every one with its explanation, at most maxPageAnomalies
// on a page, saying so.
func TestAllAnomalies(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	status, body := get(t, h, "/run?lesson=acks1-leader-failover")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 1, strings.Count(body, `<div class="anomaly">`))
	assert.Contains(t, body, "The first of each kind, of 266 anomalies.")
	all := hrefOf(t, body, "all-anomalies")
	assert.Equal(t, "/run?lesson=acks1-leader-failover&anomalies=all#anomalies", all)
	status, body = get(t, h, strings.TrimSuffix(all, "#anomalies"))
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, 266, strings.Count(body, `<div class="anomaly">`))
	assert.Contains(t, body, `<p class="hint" id="anomalies-shown">All 266 anomalies. <a href="/run?lesson=acks1-leader-failover#anomalies">`)

	status, body = get(t, h, "/run?lesson=unclean-election-loss&anomalies=all")
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, maxPageAnomalies, strings.Count(body, `<div class="anomaly">`))
	assert.Contains(t, body, "The first 1000 of 5501 anomalies: a page lists at most 1000.")
}

// TestLessonTextLinks: each --set in a lesson's text is a link that runs
// the lesson with it, and one that compares that with the lesson; both
// answer the page itself (no redirect, no refusal).
func TestLessonTextLinks(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	links := regexp.MustCompile(`<a href="([^"]*)" class="try(?:-compare)?">`)
	n := 0
	for _, e := range scenarios.Catalog() {
		_, body := get(t, h, "/lesson/"+e.Name)
		for _, m := range links.FindAllStringSubmatch(body, -1) {
			n++
			target := html.UnescapeString(m[1])
			status, page := get(t, h, target)
			assert.Equal(t, http.StatusOK, status, "%s: %s: %s", e.Name, target, page)
		}
	}
	assert.GreaterOrEqual(t, n, 16, "the lessons' --set links")
	_, body := get(t, h, "/lesson/keyed-vs-keyless-leader-loss")
	assert.Contains(t, body, `Run it with <a href="/run?lesson=keyed-vs-keyless-leader-loss&amp;workload.keys=0" class="try">--set workload.keys=0</a> (<a href="/compare?a=lesson%3Dkeyed-vs-keyless-leader-loss&amp;lesson=keyed-vs-keyless-leader-loss&amp;workload.keys=0" class="try-compare">compare with the lesson</a>): about half`)
}

// TestGlossaryTerms: every entry of the glossary is a term of the page,
// its word before the first colon.
func TestGlossaryTerms(t *testing.T) {
	terms := glossaryTerms()
	assert.Len(t, terms, strings.Count("\n"+scenarios.Glossary(), "\n- "))
	for _, tm := range terms {
		assert.NotEmpty(t, tm.Word)
		assert.NotEmpty(t, tm.Meaning, tm.Word)
		assert.NotContains(t, tm.Meaning, "\n", tm.Word)
	}
}
