package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/kafkasim/kafkasim/web"
)

// cmdServe serves the web view until interrupted.
func cmdServe(args []string, _, stderr io.Writer) error {
	def := web.DefaultOptions()
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on, HOST:PORT; a loopback address unless --public")
	public := fs.Bool("public", false, "allow a non-loopback --addr: anyone who reaches it can run simulations")
	maxRecords := fs.Int("max-records", def.MaxRecords, "the most records one run may send")
	maxVirtual := fs.Duration("max-virtual", def.MaxVirtual, "the longest virtual time a run's workload and faults may span")
	maxWall := fs.Duration("max-wall", def.MaxWall, "stop a run after this much real time and show what ran; a page holds its run slot for at most (runs+1)×this (a comparison runs twice), leaving out charts not drawn by then")
	maxMemory := fs.Int64("max-memory", def.MaxMemory>>20, "MiB one run may hold (the simulator's own count of its trace, ledger, logs and queue); a run that reaches it stops and shows what ran")
	maxRuns := fs.Int("max-runs", def.MaxRuns, fmt.Sprintf("runs at once (by default one per core); a request waits up to %v for one, then gets a 503 saying the server is busy", def.QueueWait))
	cache := fs.Int64("cache", def.Cache>>20, "MiB of finished pages kept to answer identical requests without running again (runs are deterministic: a class reloading one lesson costs one run); 0 keeps none. Identical requests in flight always share one run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{"serve takes no arguments; --addr HOST:PORT says where to listen"}
	}
	if err := checkAddr(*addr, *public); err != nil {
		return err
	}
	for _, b := range []struct {
		name string
		ok   bool
	}{{"--max-records", *maxRecords >= 1}, {"--max-virtual", *maxVirtual > 0}, {"--max-wall", *maxWall > 0}, {"--max-runs", *maxRuns >= 1}, {"--max-memory", *maxMemory >= 1}} {
		if !b.ok {
			return &usageError{fmt.Sprintf("%s: use a value above zero", b.name)}
		}
	}
	if *maxMemory > 1<<20 {
		return &usageError{fmt.Sprintf("--max-memory %d: use MiB from 1 to %d", *maxMemory, 1<<20)}
	}
	if *cache < 0 || *cache > 1<<20 {
		return &usageError{fmt.Sprintf("--cache %d: use MiB from 0 (keep no pages) to %d", *cache, 1<<20)}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &usageError{fmt.Sprintf("--addr %s: %v", *addr, err)}
	}
	// The name may resolve to more than loopback: what counts is the
	// address listened on.
	if err := checkListener(ln.Addr(), *addr, *public); err != nil {
		ln.Close()
		return err
	}
	opt := def
	opt.MaxRecords, opt.MaxVirtual, opt.MaxWall, opt.MaxRuns, opt.Public, opt.Cache = *maxRecords, *maxVirtual, *maxWall, *maxRuns, *public, *cache<<20
	opt.MaxMemory = *maxMemory << 20
	srv := &http.Server{
		Handler:           web.New(opt),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A compare page runs twice, and draws, after waiting for a slot.
		WriteTimeout: opt.QueueWait + 3*opt.MaxWall + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	fmt.Fprintf(stderr, "simulate: serving the lessons on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkAddr refuses a listening address other machines can reach unless
// --public says so: the server runs simulations for whoever asks.
func checkAddr(addr string, public bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &usageError{fmt.Sprintf("--addr %q: use HOST:PORT, such as 127.0.0.1:8080", addr)}
	}
	if public {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return notLoopback(addr)
}

// checkListener refuses a listener on an address other machines can
// reach unless --public says so: "localhost" may resolve to anything.
func checkListener(a net.Addr, addr string, public bool) error {
	if tcp, ok := a.(*net.TCPAddr); ok && !public && !tcp.IP.IsLoopback() {
		return notLoopback(addr + " (" + a.String() + ")")
	}
	return nil
}

func notLoopback(addr string) error {
	return &usageError{fmt.Sprintf("--addr %q is not a loopback address: others could run simulations on this machine; add --public to allow that, or use 127.0.0.1:PORT", addr)}
}
