package web

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

var funcs = template.FuncMap{
	"num":          func(v float64) string { return scenarios.FormatNumber(v) },
	"dict":         dict,
	"paragraphs":   paragraphs,
	"code":         codeSpans,
	"lessonText":   lessonText,
	"maxAnomalies": func() int { return maxPageAnomalies },
}

// codeSpans is text with its `backquoted` spans (Markdown's code, as
// LESSONS.md and the scenario files write settings) as <code>.
func codeSpans(text string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(text, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(part))
		}
	}
	return template.HTML(b.String())
}

// paragraphs splits text wrapped for a terminal (a scenario's lesson) into
// its paragraphs, each on one line, for the browser to wrap.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		out = append(out, strings.Join(strings.Fields(p), " "))
	}
	return out
}

// setArg is a --set KEY=VALUE in a lesson's text; trailing punctuation
// is the sentence's, not the value's.
var setArg = regexp.MustCompile(`--set ([a-z][a-z0-9._-]*)=(\S+)`)

// lessonText is one paragraph of a lesson's text for its page: its
// `code` spans as code, and each --set KEY=VALUE a link that runs the
// lesson with that setting, with a link comparing that with the lesson.
// Other command lines stay code to copy.
func lessonText(lesson, text string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(text, "`") {
		if i%2 == 1 {
			b.WriteString("<code>")
		}
		last := 0
		for _, m := range setArg.FindAllStringSubmatchIndex(part, -1) {
			key, value := part[m[2]:m[3]], strings.TrimRight(part[m[4]:m[5]], ".,;:)")
			end := m[4] + len(value)
			b.WriteString(template.HTMLEscapeString(part[last:m[0]]))
			r := runRequest{Lesson: lesson, Values: map[string]string{}}
			if _, ok := fieldByKey(key); ok {
				r.Values[key] = value
			} else {
				r.Sets = []string{key + "=" + value}
			}
			base, _ := runRequest{Lesson: lesson}.query()
			link, _ := r.query()
			fmt.Fprintf(&b, `<a href="%s" class="try">%s</a> (<a href="%s" class="try-compare">compare with the lesson</a>)`,
				template.HTMLEscapeString("/run?"+link), template.HTMLEscapeString(part[m[0]:end]),
				template.HTMLEscapeString("/compare?a="+url.QueryEscape(base)+"&"+link))
			last = end
		}
		b.WriteString(template.HTMLEscapeString(part[last:]))
		if i%2 == 1 {
			b.WriteString("</code>")
		}
	}
	return template.HTML(b.String())
}

// dict makes a map of its key, value pairs: a partial's arguments.
func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusOK, "index.html", struct{ Groups []topicGroup }{s.groups})
}

// formView is the form of settings, filled from a request, with its
// messages.
type formView struct {
	Lesson string
	// YAML is a pasted scenario's text (the paste page) and YAMLLink its
	// link form (carried by the result page's form).
	YAML, YAMLLink string
	Fields         []fieldView
	Sets           string
	Errors         formErrors
	// Pin is the query of the run shown, for "compare with this run".
	Pin string
	// Changes are what this run changed from the lesson (or the pasted
	// scenario): each field whose value differs, and the other settings.
	Changes []changeView
}

// changeView is one setting a run changed: from the lesson's value to
// this run's; InEffect when the request did not set it (acks=all turns
// enable.idempotence on, as Kafka's default).
type changeView struct {
	Label, From, To string
	InEffect        bool
}

// fieldView is one input: its field, what was typed, the lesson's value
// (shown when it is empty, and what an empty field runs), this run's
// value where it differs from the lesson's, and its messages.
type fieldView struct {
	field
	Value, Lesson, Run string
	// Of names what Lesson is the value of: "lesson" or "scenario" (a
	// pasted one).
	Of     string
	Errors []string
	ID     string
}

// newForm fills the form from a request; run (may be nil) is the
// scenario with the request's settings, for each field's value in this
// run beside the lesson's.
func newForm(r runRequest, run *scenarios.Scenario, errs formErrors) formView {
	f := formView{Lesson: r.Lesson, Sets: strings.Join(r.Sets, "\n"), Errors: errs}
	if r.Lesson == "" && len(r.YAML) > 0 {
		f.YAML, f.YAMLLink = string(r.YAML), r.yamlLink
	}
	base, of := lessonOf(r), "lesson"
	if base == nil {
		// A pasted scenario is not parsed again outside a run slot: its
		// fields show the values of the scenario given.
		base, run, of = run, nil, "scenario"
	}
	for _, fd := range fields {
		v := fieldView{field: fd, Value: r.Values[fd.Key], Of: of, Errors: errs.Fields[fd.Key], ID: "f-" + idOf(fd.Key)}
		if base != nil {
			v.Lesson = fd.lesson(base)
			if run != nil && fd.lesson(run) != v.Lesson {
				v.Run = fd.lesson(run)
				f.Changes = append(f.Changes, changeView{Label: fd.Label, From: v.Lesson, To: v.Run, InEffect: v.Value == ""})
			}
		}
		f.Fields = append(f.Fields, v)
	}
	if run != nil {
		for _, set := range r.Sets {
			k, v, _ := strings.Cut(set, "=")
			f.Changes = append(f.Changes, changeView{Label: strings.TrimSpace(k), To: strings.TrimSpace(v)})
		}
	}
	return f
}

// builtinTexts are the built-in lessons' files by name, read once.
var builtinTexts = sync.OnceValue(func() map[string][]byte {
	m := map[string][]byte{}
	for _, e := range scenarios.Catalog() {
		m[e.Name] = e.Text
	}
	return m
})

// lessonOf is the request's built-in lesson without its settings (nil
// for none): what an empty field runs.
func lessonOf(r runRequest) *scenarios.Scenario {
	text, ok := builtinTexts()[r.Lesson]
	if !ok {
		return nil
	}
	sc, _ := scenarios.Parse("built-in "+r.Lesson, text, nil)
	return sc
}

// idOf turns a dotted key into an HTML id.
func idOf(key string) string { return strings.NewReplacer(".", "-", "_", "-").Replace(key) }

// lessonView is the lesson page: its text, its file, the form.
type lessonView struct {
	Entry scenarios.Entry
	Text  string
	File  string
	Form  formView
}

func (s *Server) lesson(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.isLesson(name) {
		s.render(w, http.StatusNotFound, "message.html", message{Title: "No such lesson",
			Text: fmt.Sprintf("No lesson is named %q; the first page lists them.", name), Lessons: scenarios.NearLessons(name)})
		return
	}
	// The query fills the form: a link to a lesson with settings.
	req, _ := parseRunRequest(r.URL.Query())
	req.Lesson, req.YAML = name, nil
	form := s.lessonPage(req, formErrors{})
	form.Form.Pin = r.URL.Query().Get("a")
	s.render(w, http.StatusOK, "lesson.html", form)
}

// lessonPage is a lesson's page with the form filled from req.
func (s *Server) lessonPage(req runRequest, errs formErrors) lessonView {
	e, _ := s.entry(req.Lesson)
	sc, err := s.parse(runRequest{Lesson: req.Lesson}, nil)
	if err != nil {
		panic(fmt.Sprintf("built-in scenario %s does not parse: %v", req.Lesson, err)) // Catalog checked it
	}
	return lessonView{Entry: e, Text: sc.Lesson, File: string(e.Text), Form: newForm(req, sc, errs)}
}

func (s *Server) paste(w http.ResponseWriter, _ *http.Request) {
	s.pastePage(w, http.StatusOK, newForm(runRequest{}, nil, formErrors{}))
}

// postRun takes a pasted or uploaded scenario (the body's yaml field, or
// a file upload named file) with the form's settings, validates it as
// the command line would, and sends the browser to the run's link; a
// scenario too large for a link is run and shown at once.
func (s *Server) postRun(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	// ParseForm first: ParseMultipartForm hides its error behind
	// ErrNotMultipart for a urlencoded body.
	err := r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(s.opt.MaxBody); err == http.ErrNotMultipart {
			err = nil
		}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.pastePage(w, http.StatusRequestEntityTooLarge, newForm(runRequest{}, nil, formErrors{Fields: map[string][]string{"yaml": {
				fmt.Sprintf("what was sent is over %d KiB; a scenario file is at most 1 MiB: paste or upload a smaller one", s.opt.MaxBody>>10)}}}))
			return
		}
		s.pastePage(w, http.StatusBadRequest, newForm(runRequest{}, nil, formErrors{General: []string{
			"the form could not be read (a malformed request body); send it again from this page"}}))
		return
	}
	// A posted yaml field is the scenario's text, not a link's encoding.
	form := url.Values{}
	for k, v := range r.PostForm {
		if k != "yaml" && k != "lesson" {
			form[k] = v
		}
	}
	req, err := parseRunRequest(form)
	if y := r.PostForm.Get("yaml"); strings.TrimSpace(y) != "" {
		req.withYAML([]byte(y))
	}
	if file, _, ferr := r.FormFile("file"); ferr == nil {
		data, rerr := io.ReadAll(io.LimitReader(file, maxYAML+1))
		file.Close()
		switch {
		case rerr != nil:
			err = rerr
		case len(data) > maxYAML:
			err = fmt.Errorf("the uploaded file is over 1 MiB; a scenario file is at most 1 MiB")
		case len(bytes.TrimSpace(data)) > 0:
			req.withYAML(data)
		}
	}
	if err != nil {
		s.pastePage(w, http.StatusBadRequest, newForm(req, nil, formErrors{Fields: map[string][]string{"yaml": {err.Error()}}}))
		return
	}
	q, ok := req.query()
	if !ok {
		// Too large for a link: run and show it at once.
		s.showRun(w, r, req)
		return
	}
	var base *scenarios.Scenario
	var errs formErrors
	if err := s.inSlot(r.Context(), "validation", 0, func(*work) { _, base, errs = s.validate(req) }); err != nil {
		s.runFailed(w, err)
		return
	}
	if !errs.empty() {
		s.pastePage(w, http.StatusBadRequest, newForm(req, base, errs))
		return
	}
	http.Redirect(w, r, "/run?"+q, http.StatusSeeOther)
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	q, qerr := readQuery(r.URL.RawQuery)
	req, err := parseRunRequest(q)
	if err = cmp.Or(qerr, err); err != nil {
		s.formAgain(w, req, nil, formErrors{General: []string{err.Error()}})
		return
	}
	// A key no page reads is refused by validate, not dropped by a redirect.
	if link, ok := req.query(); ok && len(req.unknown) == 0 && canonical(w, r, "/run?"+link+viewQuery(q)) {
		return
	}
	s.showRun(w, r, req)
}

// canonical sends the browser to the page's link when the request asked
// for it in another form (a submitted form sends its empty fields, and
// the pinned run with a plain run), so that the address bar holds the
// link: the settings in a fixed order, nothing else. It reports whether
// it did.
func canonical(w http.ResponseWriter, r *http.Request, link string) bool {
	if r.URL.RequestURI() == link {
		return false
	}
	http.Redirect(w, r, link, http.StatusSeeOther)
	return true
}

// formAgain shows the form again with its messages beside the fields:
// the lesson's page, or the paste page; base (may be nil) is the pasted
// scenario without the settings, for the form's values.
func (s *Server) formAgain(w http.ResponseWriter, req runRequest, base *scenarios.Scenario, errs formErrors) {
	if s.isLesson(req.Lesson) {
		s.render(w, http.StatusBadRequest, "lesson.html", s.lessonPage(req, errs))
		return
	}
	req.Lesson = "" // not a lesson: validate said so
	s.pastePage(w, http.StatusBadRequest, newForm(req, base, errs))
}

// pastePage is the page to paste a scenario into, with its form.
func (s *Server) pastePage(w http.ResponseWriter, status int, form formView) {
	s.render(w, status, "paste.html", struct{ Form formView }{form})
}

// runView is one run on a page.
type runView struct {
	Name, Title string
	IsLesson    bool   // a built-in lesson, with a page of its own
	Link        string // the run's query; "" when too large for a link
	Href        string // the run's page, "/run?"+Link: one value, so the template does not escape its query
	Report      *scenarios.Report
	Counts      []countView
	Anomalies   []anomalyView
	Errors      []errorView
	Metrics     []metricView
	Charts      []chartView
	Text        string
	Budget      string
	// Late says what was left out because the page's time was up.
	Late      string
	Passed    bool
	SpaceTime *spaceTimeView
	// AnomalyCount is every anomaly of the run; Anomalies lists the first
	// of each kind, or with AllAnomalies up to maxPageAnomalies of them.
	AnomalyCount int
	AllAnomalies bool
	// Limit says what bounded the records sent when it was not
	// workload.records: the duration at the workload's rate.
	Limit string
}

// sendLimit says when the scenario's duration, at its rate, bounds the
// records sent rather than workload.records (0 is no limit).
func sendLimit(sc *scenarios.Scenario, sent int64) string {
	w := sc.Workload
	if !sc.Duration.Set {
		return ""
	}
	by := fmt.Sprintf("duration %v × rate %s records/s", sc.Duration.Duration, scenarios.FormatNumber(w.Rate))
	switch {
	case w.Records == 0:
		return fmt.Sprintf("%d sent: workload records 0 is no limit; %s sets it", sent, by)
	case float64(w.Records) > sc.Duration.Duration.Seconds()*w.Rate:
		return fmt.Sprintf("%d sent, not workload records %d: %s caps it", sent, w.Records, by)
	}
	return ""
}

// listAllAnomalies lists the report's anomalies (the run explained up to
// maxPageAnomalies), not only the first of each kind.
func (v *runView) listAllAnomalies() {
	v.AllAnomalies = true
	v.Anomalies = nil
	for _, a := range v.Report.Anomalies {
		v.Anomalies = append(v.Anomalies, newAnomalyView(a))
	}
}

func newAnomalyView(a scenarios.Anomaly) anomalyView {
	h := fmt.Sprintf("%s record %d (%s", a.Kind, a.Record, a.Partition)
	if a.Key != nil {
		h += ", " + *a.Key
	}
	return anomalyView{Heading: h + ")", Explanation: a.Explanation}
}

type countView struct {
	Name, ID string
	Value    int64
	Bad      bool // an anomaly count above zero
}

type anomalyView struct{ Heading, Explanation string }

// maxPageAnomalies bounds the anomalies one page lists with their
// explanations (anomalies=all): a run may have tens of thousands.
const maxPageAnomalies = 1000

// anomaliesKey=all in a run's query lists every anomaly, not the first
// of each kind.
const anomaliesKey = "anomalies"

type errorView struct {
	Name  string
	Count int64
	Note  string
}

type metricView struct{ Name, Value string }

type chartView struct {
	Name, Title string
	SVG         template.HTML
}

// showRun validates, runs and shows a request, in a slot; a request
// that is not valid gets its form again.
func (s *Server) showRun(w http.ResponseWriter, r *http.Request, req runRequest) {
	link, _ := req.query()
	var v runView
	var sc, base *scenarios.Scenario
	var errs formErrors
	all, explained := r.URL.Query().Get(anomaliesKey) == "all", 0
	if all {
		explained = maxPageAnomalies
	}
	err := s.inSlot(r.Context(), "run", 1, func(wk *work) {
		defer wk.noStore(w)
		if sc, base, errs = s.validate(req); !errs.empty() {
			return
		}
		// The run page draws the run's space-time diagram.
		res := s.run(wk, sc, scenarios.RunOptions{Anomalies: explained, Messages: true})
		if wk.gone() {
			return
		}
		v = s.newRunView(wk, sc, res, req.Lesson != "", link)
		if all {
			v.listAllAnomalies()
		}
		switch {
		case v.Late != "":
		case wk.late():
			v.Late = fmt.Sprintf("The space-time diagram is left out: this page used its %v of real time; the report is whole.", wk.budget)
		default:
			v.SpaceTime = spaceTime(res, link, r.URL.Query())
		}
	})
	if err != nil {
		s.runFailed(w, err)
		return
	}
	if !errs.empty() {
		s.formAgain(w, req, base, errs)
		return
	}
	form := newForm(req, sc, formErrors{})
	form.Pin = link
	s.render(w, http.StatusOK, "run.html", struct {
		Run  runView
		Form formView
	}{v, form})
}

// runCharts are the charts a run's page shows, with their titles.
var runCharts = []struct{ name, title string }{
	{"throughput", "Acknowledged records per second, faults marked"},
	{"partitions", "Records per partition, with the fair share"},
	{"isr", "ISR size per partition over time"},
	{"percentiles", "Latency percentiles"},
}

// newRunView is a run's report, and its charts unless the page's time is
// up by then (Late says so).
func (s *Server) newRunView(wk *work, sc *scenarios.Scenario, res *scenarios.Result, isLesson bool, link string) runView {
	rep := res.Report
	v := runView{Name: sc.Name, Title: sc.Title, IsLesson: isLesson, Link: link, Report: rep, Passed: rep.Passed()}
	if link != "" {
		v.Href = "/run?" + link
	}
	rc := rep.Records
	for _, c := range []struct {
		name  string
		value int64
		bad   bool
	}{{"sent", rc.Sent, false}, {"acked", rc.Acked, false}, {"failed", rc.Failed, false}, {"pending", rc.Pending, false},
		{"lost", rc.Lost, true}, {"duplicated", rc.Duplicated, true}, {"reordered", rc.Reordered, true}, {"ambiguous", rc.Ambiguous, true}} {
		v.Counts = append(v.Counts, countView{Name: c.name, ID: "records-" + c.name, Value: c.value, Bad: c.bad && c.value > 0})
	}
	shown := map[string]bool{}
	for _, a := range rep.Anomalies {
		if shown[a.Kind] {
			continue
		}
		shown[a.Kind] = true
		v.Anomalies = append(v.Anomalies, newAnomalyView(a))
	}
	v.AnomalyCount = rep.AnomalyCount
	v.Limit = sendLimit(sc, rc.Sent)
	for _, name := range slices.Sorted(maps.Keys(rep.Errors)) {
		v.Errors = append(v.Errors, errorView{Name: name, Count: rep.Errors[name], Note: rep.ErrorNotes[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Metrics)) {
		v.Metrics = append(v.Metrics, metricView{name, scenarios.FormatCell(rep.Metrics[name], scenarios.Unit("metrics."+name))})
	}
	var text bytes.Buffer
	rep.WriteText(&text, sc.Title)
	v.Text = text.String()
	if b := rep.StoppedByBudget; b != nil {
		v.Budget = b.String()
		if b.Budget == "wall clock" {
			v.Budget += "; what ran is shown. Lower workload.records or duration, or run it on your machine with simulate run"
		}
	}
	if wk.late() {
		v.Late = fmt.Sprintf("The charts and the space-time diagram are left out: this page used its %v of real time; the report is whole.",
			wk.budget)
		return v
	}
	charts := res.Charts(0)
	for _, c := range runCharts {
		v.Charts = append(v.Charts, chartView{Name: c.name, Title: c.title, SVG: svgOf(plots.RunChart(c.name, charts, plots.SVG))})
	}
	return v
}

var xmlProlog = regexp.MustCompile(`^(?s)<\?xml[^>]*\?>\s*(<!--.*?-->\s*)?`)

// svgOf is a chart for inlining in HTML: gonum's SVG without its XML
// prolog. The plots code writes it from numbers and labels it escapes,
// so it is safe to inline.
func svgOf(svg []byte, err error) template.HTML {
	if err != nil {
		return template.HTML(`<p class="error">` + template.HTMLEscapeString(err.Error()) + `</p>`)
	}
	return template.HTML(xmlProlog.ReplaceAll(svg, nil))
}

// compareView is two runs side by side with their comparison.
type compareView struct {
	A, B        runView
	LabelA      string
	LabelB      string
	Differences []diffView
	// Same is A and B being one run (the same link).
	Same   bool
	Rows   []rowView
	Charts []chartView
	Text   string
	Form   formView
}

type rowView struct {
	Path, ID, A, B, Delta string
	Differs               bool
}

// comparePage runs A (the pinned run: its query in the a parameter) and
// B (the other parameters), on the same seed unless B sets another, and
// shows both with the comparison the command line's compare prints.
func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) {
	q, qerr := readQuery(r.URL.RawQuery)
	qa, err := url.ParseQuery(q.Get("a"))
	if err != nil || q.Get("a") == "" {
		s.fail(w, http.StatusBadRequest, "No run to compare with", "The a parameter holds the pinned run's link (lesson=...&...); pin a run from its page.")
		return
	}
	reqA, err := parseRunRequest(qa)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "The pinned run is not valid", err.Error())
		return
	}
	reqB, err := parseRunRequest(q)
	if err = cmp.Or(qerr, err); err != nil {
		s.formAgain(w, reqB, nil, formErrors{General: []string{err.Error()}})
		return
	}
	linkA, okA := reqA.query()
	linkB, okB := reqB.query()
	if okA && okB && len(reqA.unknown)+len(reqB.unknown) == 0 && canonical(w, r, "/compare?a="+url.QueryEscape(linkA)+"&"+linkB) {
		return
	}
	var v compareView
	var scB, baseB *scenarios.Scenario
	var errsA, errsB formErrors
	err = s.inSlot(r.Context(), "compare", 2, func(wk *work) {
		defer wk.noStore(w)
		var scA *scenarios.Scenario
		if scA, _, errsA = s.validate(reqA); !errsA.empty() {
			return
		}
		if scB, baseB, errsB = s.validate(reqB); !errsB.empty() {
			return
		}
		ra := s.run(wk, scA, scenarios.RunOptions{})
		if wk.gone() {
			return
		}
		rb := s.run(wk, scB, scenarios.RunOptions{})
		if wk.gone() {
			return
		}
		cmp := scenarios.Compare(ra.Report, rb.Report)
		v = compareView{A: s.newRunView(wk, scA, ra, reqA.Lesson != "", linkA), B: s.newRunView(wk, scB, rb, reqB.Lesson != "", linkB),
			Differences: diffViews(cmp.Differences, reqA, reqB), Same: okA && okB && linkA == linkB}
		v.LabelA, v.LabelB = cmp.Labels()
		for _, row := range cmp.Rows {
			rv := rowView{Path: row.Path, ID: "row-" + idOf(row.Path), Differs: row.Differs}
			rv.A, rv.B, rv.Delta = row.Cells()
			v.Rows = append(v.Rows, rv)
		}
		var text bytes.Buffer
		cmp.WriteText(&text)
		v.Text = text.String()
		if wk.late() {
			return
		}
		ca, cb := ra.Charts(0), rb.Charts(0)
		for _, c := range []struct{ name, title string }{
			{"compare-timeseries", "A and B over time, faults of A marked"},
			{"compare-latency", "Latency percentiles, A and B"},
		} {
			v.Charts = append(v.Charts, chartView{Title: c.title, SVG: svgOf(plots.CompareChart(c.name, ca, cb, v.LabelA, v.LabelB, plots.SVG))})
		}
	})
	if err != nil {
		s.runFailed(w, err)
		return
	}
	if !errsA.empty() {
		s.fail(w, http.StatusBadRequest, "The pinned run is not valid", strings.Join(slices.Concat(errsA.General, flatten(errsA.Fields)), "; "))
		return
	}
	if !errsB.empty() {
		s.formAgain(w, reqB, baseB, errsB)
		return
	}
	v.Form = newForm(reqB, scB, formErrors{})
	v.Form.Pin = linkA
	s.render(w, http.StatusOK, "compare.html", v)
}

func flatten(m map[string][]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k]...)
	}
	return out
}
