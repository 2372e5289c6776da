// Package sim is a single-threaded discrete-event engine: virtual integer time,
// one event queue ordered by (time, insertion sequence), seeded random streams,
// a network of nodes with latency, jitter, bandwidth and faults, and a trace.
//
// Nothing here knows about Kafka. The broker and producer packages build on it.
package sim

import (
	"time"

	"github.com/kafkasim/kafkasim/event"
)

// Time is virtual time in nanoseconds since the start of a run.
type Time int64

// Units of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
)

// Never is later than any time a run reaches.
const Never Time = 1<<63 - 1

// FromDuration converts a Go duration (as parsed from a scenario file) to
// virtual time. No wall clock is involved.
func FromDuration(d time.Duration) Time { return Time(d) }

// Millis converts a Kafka-style millisecond setting to virtual time. Values
// beyond a few centuries saturate, so that adding one to the clock cannot
// overflow.
func Millis(ms int64) Time {
	const limit = int64(Never/4) / int64(Millisecond)
	if ms > limit {
		return Never / 4
	}
	return Time(ms) * Millisecond
}

// Duration is t as a Go duration, for printing lengths of time ("81ms").
func (t Time) Duration() time.Duration { return time.Duration(t) }

// Ms is t in (possibly fractional) milliseconds, for reports.
func (t Time) Ms() float64 { return float64(t) / float64(Millisecond) }

// String prints seconds with millisecond precision ("2.003s"), or with
// microseconds when the time is not a whole millisecond.
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return string(event.AppendSeconds(nil, time.Duration(t)))
}
