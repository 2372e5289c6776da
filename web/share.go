package web

import (
	"bytes"
	"container/list"
	"context"
	"net/http"
	"sync"

	"github.com/kafkasim/kafkasim/sweep"
)

// A run is deterministic: the same link gives the same page, byte for
// byte. So identical requests share one computation of their page: a
// request identical to one being computed waits for its page instead of
// taking a run slot of its own (a class of thirty opening one lesson at
// once costs one run, not thirty runs of which most are turned away
// busy), and a finished page is kept, within Options.Cache bytes, for
// the next identical request (a class reloading the lesson).

// page is a finished answer: what a handler wrote.
type page struct {
	status int
	header http.Header
	body   []byte
}

// keep reports whether the page may answer later requests: a page shown
// whole. One the wall clock cut short (a run stopped by its real-time
// budget, or charts left out) says so with Cache-Control: no-store, and
// a less busy server may draw it whole; errors are not kept either (a
// busy server's 503, a validation message: cheap to give again).
func (p *page) keep() bool {
	return p.status == http.StatusOK && p.header.Get("Cache-Control") != "no-store"
}

// size is what the page counts against Options.Cache.
func (p *page) size(key string) int64 { return int64(len(key) + len(p.body)) }

func (p *page) write(w http.ResponseWriter) {
	for k, v := range p.header {
		w.Header()[k] = v
	}
	w.WriteHeader(p.status)
	w.Write(p.body)
}

// recorder is the http.ResponseWriter a shared page is drawn into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// shared serves h's pages through the server's pages store: identical
// GET requests share one call of h. The key is the request's Host and
// URI. Everything a page shows comes from its URI: the run's link
// (lesson or pasted scenario, settings, seed), anomalies=all, the
// space-time window, and for a comparison both runs' links; a request
// in another form is sent to its link (canonical) before any work, so
// that identical runs meet under one key. The Host is in the key
// although no page shows it, so that no page drawn for one name is ever
// served under another.
func (s *Server) shared(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Host + " " + r.URL.RequestURI()
		p, err := s.store.get(r.Context(), key, func(ctx context.Context) *page {
			rec := &recorder{header: http.Header{}}
			// Drawn apart from the request, a panic here would take
			// the server down: ServeHTTP's recover is not on this
			// goroutine.
			if pn := sweep.Catch(func() { h(rec, r.Clone(ctx)) }); pn != nil {
				rec = &recorder{header: http.Header{}}
				s.internalError(rec, r, pn.Value)
			}
			return &page{status: rec.status, header: rec.header, body: rec.body.Bytes()}
		})
		if err != nil {
			s.runFailed(w, err)
			return
		}
		p.write(w)
	}
}

// pageStore holds the pages being drawn, by key, and the finished pages
// kept, least recently used first out when they would hold more than
// max bytes.
type pageStore struct {
	mu      sync.Mutex
	flights map[string]*flight
	max     int64
	used    int64
	order   *list.List // of *kept, the most recently used first
	kept    map[string]*list.Element
}

// flight is a page being drawn, and the requests waiting for it.
type flight struct {
	done    chan struct{}
	page    *page // set before done is closed
	waiters int
	cancel  context.CancelFunc
}

type kept struct {
	key  string
	page *page
}

func newPageStore(max int64) *pageStore {
	return &pageStore{flights: map[string]*flight{}, max: max, order: list.New(), kept: map[string]*list.Element{}}
}

// get is key's page: a kept one, or the one being drawn, or one draw
// starts now. The draw does not belong to the request that started it:
// it goes on while any request waits for it, and is cancelled (its run
// stopped, its slot freed) when the last one goes away; the next
// identical request starts afresh. get returns ctx's error when ctx's
// request goes away first.
func (s *pageStore) get(ctx context.Context, key string, draw func(context.Context) *page) (*page, error) {
	s.mu.Lock()
	if e, ok := s.kept[key]; ok {
		s.order.MoveToFront(e)
		s.mu.Unlock()
		return e.Value.(*kept).page, nil
	}
	f := s.flights[key]
	if f == nil {
		dctx, cancel := context.WithCancel(context.Background())
		f = &flight{done: make(chan struct{}), cancel: cancel}
		s.flights[key] = f
		go func() {
			p := draw(dctx)
			whole := dctx.Err() == nil
			cancel()
			s.mu.Lock()
			if s.flights[key] == f {
				delete(s.flights, key)
			}
			if whole && p.keep() {
				s.keep(key, p)
			}
			f.page = p
			s.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.page, nil
	case <-ctx.Done():
		s.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.cancel()
			if s.flights[key] == f {
				delete(s.flights, key)
			}
		}
		s.mu.Unlock()
		return nil, ctx.Err()
	}
}

// keep adds a finished page, dropping the least recently used ones past
// max; a page larger than max is not kept. Call it holding mu.
func (s *pageStore) keep(key string, p *page) {
	n := p.size(key)
	if n > s.max {
		return
	}
	if e, ok := s.kept[key]; ok {
		s.drop(e)
	}
	s.kept[key] = s.order.PushFront(&kept{key, p})
	s.used += n
	for s.used > s.max {
		s.drop(s.order.Back())
	}
}

func (s *pageStore) drop(e *list.Element) {
	k := s.order.Remove(e).(*kept)
	delete(s.kept, k.key)
	s.used -= k.page.size(k.key)
}
