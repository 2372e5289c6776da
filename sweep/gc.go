package sweep

import (
	"os"
	"runtime/debug"
	"sync"
)

// gcPercent is the collector's target while many runs go on at once. A
// small run allocates about a megabyte and keeps little of it, so at Go's
// default (100) the collector starts every few megabytes: on two cores a
// 100-run sweep took 1.5 to 1.7 times the CPU it took on one
// (BenchmarkSweepSpeedup's cpu-ratio), and two cores were no faster. At
// 400 the heap may grow to five times what the runs in progress hold.
const gcPercent = 400

var gc struct {
	sync.Mutex
	users int // calls of FewerCollections not yet undone
	saved int // the percentage before the first
}

// FewerCollections sets the collector's target to gcPercent until the
// function it returns is called, unless the GOGC environment variable
// chose one: the process's owner knows its memory best. Calls may nest and
// overlap; the last undo restores the target.
func FewerCollections() (undo func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	gc.Lock()
	defer gc.Unlock()
	if gc.users == 0 {
		gc.saved = debug.SetGCPercent(gcPercent)
	}
	gc.users++
	return func() {
		gc.Lock()
		defer gc.Unlock()
		if gc.users--; gc.users == 0 {
			debug.SetGCPercent(gc.saved)
		}
	}
}
