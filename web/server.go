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
	"net/http"
	"runtime"
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
	// ran is shown, saying so.
	MaxWall time.Duration
	// MaxRuns is how many runs go on at once.
	MaxRuns int
	// QueueWait is how long a request waits for a free run before it is
	// answered 503.
	QueueWait time.Duration
	// MaxBody bounds a request's body (a posted scenario and the form).
	MaxBody int64
}

// DefaultOptions are the bounds simulate serve starts with: every lesson
// fits them many times over.
func DefaultOptions() Options {
	return Options{MaxRecords: 200_000, MaxVirtual: 10 * time.Minute, MaxWall: 10 * time.Second,
		MaxRuns: runtime.GOMAXPROCS(0), QueueWait: 2 * time.Second, MaxBody: maxYAML + 64<<10}
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
	mux     *http.ServeMux
	// Log receives internal errors (a simulator bug); nil: the standard
	// logger.
	Log *log.Logger
}

// New makes a server with these bounds; fields of zero or less take
// DefaultOptions'.
func New(opt Options) *Server {
	def := DefaultOptions()
	opt.MaxRecords = positive(opt.MaxRecords, def.MaxRecords)
	opt.MaxVirtual = positive(opt.MaxVirtual, def.MaxVirtual)
	opt.MaxWall = positive(opt.MaxWall, def.MaxWall)
	opt.MaxRuns = positive(opt.MaxRuns, def.MaxRuns)
	opt.QueueWait = positive(opt.QueueWait, def.QueueWait)
	opt.MaxBody = positive(opt.MaxBody, def.MaxBody)
	s := &Server{opt: opt, slots: make(chan struct{}, opt.MaxRuns), catalog: scenarios.Catalog(), mux: http.NewServeMux()}
	s.groups = groupLessons(s.catalog)
	s.pages = template.Must(template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html"))
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /lesson/{name}", s.lesson)
	s.mux.HandleFunc("GET /paste", s.paste)
	s.mux.HandleFunc("GET /run", s.runPage)
	s.mux.HandleFunc("POST /run", s.postRun)
	s.mux.HandleFunc("GET /compare", s.comparePage)
	s.mux.Handle("GET /static/", http.FileServerFS(assets))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "No such page", fmt.Sprintf("Nothing is at %s; the first page lists the lessons.", r.URL.Path))
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
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

// inSlot runs f holding one of the run slots: the runs of a page and the
// drawing of their charts, the work a request costs. It waits QueueWait
// for a slot (errBusy after that), and gives up if the request goes away.
// A panic in f is a simulator bug: it comes back as an error saying so.
func (s *Server) inSlot(ctx context.Context, what string, f func(ctx context.Context)) error {
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
	if p := sweep.Catch(func() { f(ctx) }); p != nil {
		s.logf("internal error in %s: %v\n%s", what, p.Value, p.Stack)
		return fmt.Errorf("internal error: %v; this is a simulator bug, please report it with this page's link", p.Value)
	}
	return nil
}

// run runs a scenario with the wall-clock budget, stopping early if the
// request goes away; call it in a slot. anomalies is how many anomalies
// the report explains (scenarios.RunOptions.Anomalies).
func (s *Server) run(ctx context.Context, sc *scenarios.Scenario, anomalies int) *scenarios.Result {
	deadline := time.Now().Add(s.opt.MaxWall)
	return sc.Run(scenarios.RunOptions{
		Anomalies: anomalies,
		// The wall clock is the server's: the core only asks the hook.
		Stop:      func() bool { return ctx.Err() != nil || time.Now().After(deadline) },
		StopLimit: fmt.Sprintf("this server's %v of real time per run", s.opt.MaxWall),
	})
}

// runFailed answers a run that could not be made: busy, gone, or a bug.
func (s *Server) runFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errBusy):
		s.fail(w, http.StatusServiceUnavailable, "The server is busy",
			fmt.Sprintf("All %d runs this server makes at once are taken, and none came free within %v. Try again in a few seconds.",
				s.opt.MaxRuns, s.opt.QueueWait))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.fail(w, http.StatusServiceUnavailable, "The request went away", "The request was cancelled before a run could start.")
	default:
		s.fail(w, http.StatusInternalServerError, "Internal error", err.Error())
	}
}
