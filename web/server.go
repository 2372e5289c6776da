// Package web is simulate serve: the lessons as presets, a form of the
// settings that matter, a run's report and charts on one page, and two
// runs side by side. It is built from the standard library (net/http,
// html/template, embed) and the same code as the command line: the
// scenario's validation and its messages, the text report, the
// comparison and the charts. Pages work without JavaScript and need
// nothing from the network.
//
// The simulator's core is single-threaded; the server's concurrency
// lives here: each run holds one of a fixed number of slots, and is
// bounded in records, virtual time and wall time, so that one large
// request cannot take the server down or starve the others.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/kafkasim/kafkasim/scenarios"
	"github.com/kafkasim/kafkasim/sweep"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options bound what the server does for one request.
type Options struct {
	// MaxRecords is the most records one run may send.
	MaxRecords int
	// MaxVirtual is the longest virtual time a run's workload and fault
	// schedule may span.
	MaxVirtual time.Duration
	// MaxWall is the real time one run may take before its wall-clock
	// budget stops it (scenarios.RunOptions.Stop); the report of what
	// ran is shown, saying so. A page holds its run slot for at most
	// about (runs+1)×MaxWall: a run page one run, a comparison two, and
	// one more for validating and drawing; what is not drawn by then
	// (the charts, the space-time diagram) is left out, saying so.
	MaxWall time.Duration
	// MaxMemory bounds what one run may hold, in bytes (the simulator's
	// memory budget, scenarios.RunOptions.MaxMemory); a run that reaches
	// it stops and shows what ran.
	MaxMemory int64
	// MaxRuns is how many runs go on at once.
	MaxRuns int
	// QueueWait is how long a request waits for a free run before it is
	// answered 503.
	QueueWait time.Duration
	// MaxBody bounds a request's body (a posted scenario and the form).
	MaxBody int64
	// Cache is how many bytes of finished pages are kept, to answer an
	// identical request without running again (runs are deterministic:
	// the same link gives the same page); zero keeps none. Identical
	// requests in flight share one run whatever it is.
	Cache int64
	// Public serves any Host; otherwise only loopback names and
	// addresses, so that a web page elsewhere cannot reach the server
	// through a DNS name rebound to 127.0.0.1.
	Public bool
}

// DefaultOptions are the bounds simulate serve starts with: every lesson
// fits them many times over.
func DefaultOptions() Options {
	return Options{MaxRecords: 200_000, MaxVirtual: 10 * time.Minute, MaxWall: 10 * time.Second,
		MaxMemory: 512 << 20, MaxRuns: runtime.GOMAXPROCS(0), QueueWait: 2 * time.Second, MaxBody: maxYAML + 64<<10, Cache: 64 << 20}
}

// positive is v, or def when v is zero or less.
func positive[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Server answers the pages. New makes one; it is an http.Handler.
type Server struct {
	opt     Options
	slots   chan struct{}
	pages   *template.Template
	catalog []scenarios.Entry
	groups  []topicGroup
	terms   []term
	mux     *http.ServeMux
	store   *pageStore
	// onRun, when set (by a test), is called as each run starts.
	onRun func()
	// Log receives internal errors (a simulator bug); nil: the standard
	// logger.
	Log *log.Logger
}

// New makes a server with these bounds; fields of zero or less take
// DefaultOptions', but for Cache: zero or less keeps no pages.
func New(opt Options) *Server {
	def := DefaultOptions()
	opt.MaxRecords = positive(opt.MaxRecords, def.MaxRecords)
	opt.MaxVirtual = positive(opt.MaxVirtual, def.MaxVirtual)
	opt.MaxWall = positive(opt.MaxWall, def.MaxWall)
	opt.MaxMemory = positive(opt.MaxMemory, def.MaxMemory)
	opt.MaxRuns = positive(opt.MaxRuns, def.MaxRuns)
	opt.QueueWait = positive(opt.QueueWait, def.QueueWait)
	opt.MaxBody = positive(opt.MaxBody, def.MaxBody)
	s := &Server{opt: opt, slots: make(chan struct{}, opt.MaxRuns), catalog: scenarios.Catalog(), mux: http.NewServeMux(),
		store: newPageStore(max(opt.Cache, 0))}
	s.groups = groupLessons(s.catalog)
	s.terms = glossaryTerms()
	s.pages = template.Must(template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html"))
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /lesson/{name}", s.lesson)
	s.mux.HandleFunc("GET /paste", s.paste)
	s.mux.HandleFunc("GET /run", s.shared(s.runPage))
	s.mux.HandleFunc("POST /run", s.postRun)
	s.mux.HandleFunc("GET /compare", s.shared(s.comparePage))
	s.mux.HandleFunc("GET /glossary", s.glossary)
	s.mux.Handle("GET /static/", http.FileServerFS(assets))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "No such page", fmt.Sprintf("Nothing is at %s; the first page lists the lessons.", r.URL.Path))
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !s.opt.Public && !loopbackHost(r.Host) {
		s.fail(w, http.StatusMisdirectedRequest, "Not this server's name",
			fmt.Sprintf("This server answers only to loopback names and addresses (localhost, 127.0.0.1, [::1]), not %q; start it with --public to serve other names.", r.Host))
		return
	}
	defer func() {
		p := recover()
		if p == nil || p == http.ErrAbortHandler {
			if p != nil {
				panic(p)
			}
			return
		}
		s.internalError(w, r, p)
	}()
	s.mux.ServeHTTP(w, r)
}

// internalError answers a panic in a handler (a bug): one line in the
// log, the page saying so, no stack trace to the browser.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, p any) {
	s.logf("internal error in %s %s: %v", r.Method, r.URL.Path, p)
	s.fail(w, http.StatusInternalServerError, "Internal error",
		fmt.Sprintf("internal error: %v; this is a bug in simulate serve, please report it with this page's link", p))
}

// loopbackHost reports whether a Host header names this machine: localhost
// (or a name under .localhost) or a loopback address, with or without a
// port. An empty Host (HTTP/1.0) is allowed: no browser sends one.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// render writes a page whole, or a plain 500 if the template fails (a
// bug), so that a half-written page never goes out.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, name, data); err != nil {
		s.logf("template %s: %v", name, err)
		http.Error(w, "internal error: the page could not be drawn; this is a bug in simulate serve", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// message is a page that only says something: a 404, a 503, a bug.
type message struct {
	Title, Text string
	// Lessons are lessons the request probably meant, as links.
	Lessons []string
}

func (s *Server) fail(w http.ResponseWriter, status int, title, text string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	s.render(w, status, "message.html", message{Title: title, Text: text})
}

// errBusy: every run slot stayed taken for the whole QueueWait.
var errBusy = errors.New("busy")

// work is a request's work in its slot: the request's context, and the
// time by which its page must be drawn.
type work struct {
	ctx      context.Context
	deadline time.Time
	budget   time.Duration // the page's real time, deadline's distance from the start
	// cut is the wall clock having cut the page short: a run stopped
	// by its real-time budget, or the page's time up. Such a page is
	// not kept for other requests (noStore).
	cut bool
}

// gone reports whether the request went away: nobody waits for the page.
func (w *work) gone() bool { return w.ctx.Err() != nil }

// late reports whether the page's time is up (or the request gone): what
// is not drawn yet is left out, saying so.
func (w *work) late() bool {
	if time.Now().After(w.deadline) {
		w.cut = true
		return true
	}
	return w.gone()
}

// noStore marks a page the wall clock cut short as one not to keep:
// another time it may be drawn whole.
func (w *work) noStore(rw http.ResponseWriter) {
	if w.cut {
		rw.Header().Set("Cache-Control", "no-store")
	}
}

// inSlot does a request's work holding one of the run slots: the
// validation of its scenarios, their runs and the drawing of the page,
// the work a request costs. It waits QueueWait for a slot (errBusy after
// that), and gives up if the request goes away. runs is how many runs
// the page makes: each may take MaxWall, and the drawing one more, so
// the page is done within (runs+1)×MaxWall of getting its slot. It
// returns the context's error when the request went away meanwhile. A
// panic in f is a simulator bug: it comes back as an error saying so.
func (s *Server) inSlot(ctx context.Context, what string, runs int, f func(w *work)) error {
	wait := time.NewTimer(s.opt.QueueWait)
	defer wait.Stop()
	select {
	case s.slots <- struct{}{}:
	case <-wait.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slots }()
	budget := time.Duration(runs+1) * s.opt.MaxWall
	w := &work{ctx: ctx, deadline: time.Now().Add(budget), budget: budget}
	if p := sweep.Catch(func() { f(w) }); p != nil {
		s.logf("internal error in %s: %v\n%s", what, p.Value, p.Stack)
		return fmt.Errorf("internal error: %v; this is a simulator bug, please report it with this page's link", p.Value)
	}
	return ctx.Err()
}

// run runs a scenario with the wall-clock budget (MaxWall, and never past
// the page's time) and the memory budget, stopping early if the request
// goes away; call it in a slot, and check w.gone() after it: a run
// stopped that way is not the wall clock's doing. opt says what the page
// needs of the run (how many anomalies explained, the messages for a
// space-time diagram); run adds the budgets.
func (s *Server) run(w *work, sc *scenarios.Scenario, opt scenarios.RunOptions) *scenarios.Result {
	deadline := time.Now().Add(s.opt.MaxWall)
	if w.deadline.Before(deadline) {
		deadline = w.deadline
	}
	if s.onRun != nil {
		s.onRun()
	}
	// The wall clock is the server's: the core only asks the hook.
	opt.Stop = func() bool {
		if time.Now().After(deadline) {
			w.cut = true
			return true
		}
		return w.gone()
	}
	opt.StopLimit = fmt.Sprintf("this server's %v of real time per run", s.opt.MaxWall)
	opt.MaxMemory = s.opt.MaxMemory
	return sc.Run(opt)
}

// runFailed answers a run that could not be made: busy, gone, or a bug.
func (s *Server) runFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errBusy):
		s.fail(w, http.StatusServiceUnavailable, "The server is busy",
			fmt.Sprintf("All %d runs this server makes at once are taken, and none came free within %v. Try again in a few seconds.",
				s.opt.MaxRuns, s.opt.QueueWait))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.fail(w, http.StatusServiceUnavailable, "The request went away", "The request was cancelled; its run, if it had started, was stopped.")
	default:
		s.fail(w, http.StatusInternalServerError, "Internal error", err.Error())
	}
}
