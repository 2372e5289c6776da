package producer

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

var update = flag.Bool("update", false, "rewrite the expected transcripts in testdata/stories")

// TestStories runs the story files in testdata/stories, in the manner of
// etcd raft's datadriven tests. A file is a list of commands, each followed
// by "----" and the transcript it must produce, up to a blank line; lines
// starting with # are comments that say what Kafka does and where. Run with
// -update to rewrite the transcripts, then read the diff.
//
// Commands:
//
//	cluster brokers=N partitions=N [coordinator=N] [seed=N]
//	                                            a new producer; the lines
//	  key=value                                 below are its properties
//	script API [partition=N] [broker=N] [times=N] (error=NAME | drop | delay=D | leader=N epoch=N)...
//	                                            how the brokers answer the next
//	                                            requests of API: produce,
//	                                            init-producer-id, find-coordinator,
//	                                            add-partitions, end-txn
//	send partition=N [records=N]                send() calls, keyed to partition N
//	run for=D                                   let virtual time pass
//	leader partition=N broker=N                 metadata now names another leader
//	init-transactions, begin-transaction, commit-transaction, abort-transaction
func TestStories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "stories", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runStory(t, file)
		})
	}
}

// storyStep is one command of a story file and where its transcript sits.
type storyStep struct {
	line     int // of the command, 1-based
	cmd      string
	args     []storyArg
	input    []string
	wantFrom int // the transcript's lines are lines[wantFrom:wantTo]
	wantTo   int
}

type storyArg struct{ key, val string }

func runStory(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	steps := parseStory(t, file, lines)
	var h *harness
	outputs := make([]string, len(steps))
	for i, st := range steps {
		if st.cmd != "cluster" {
			require.NotNil(t, h, "%s:%d: the story must start with cluster", file, st.line)
		}
		h = doStep(t, h, st, file)
		outputs[i] = h.take()
		callbacksOnce(t, h, file+":"+strconv.Itoa(st.line))
		if !*update {
			want := strings.Join(lines[st.wantFrom:st.wantTo], "\n")
			assert.Equal(t, want, outputs[i], "%s:%d: %s", file, st.line, lines[st.line-1])
		}
	}
	if *update {
		var out []string
		last := 0
		for i, st := range steps {
			out = append(out, lines[last:st.wantFrom]...)
			if outputs[i] != "" {
				out = append(out, strings.Split(outputs[i], "\n")...)
			}
			last = st.wantTo
		}
		out = append(out, lines[last:]...)
		require.NoError(t, os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644))
	}
}

func parseStory(t *testing.T, file string, lines []string) []storyStep {
	var steps []storyStep
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		st := storyStep{line: i + 1}
		fields := strings.Fields(l)
		st.cmd = fields[0]
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			st.args = append(st.args, storyArg{k, v})
		}
		i++
		for i < len(lines) && lines[i] != "----" {
			require.NotEmpty(t, strings.TrimSpace(lines[i]), "%s:%d: a command needs ---- after it", file, st.line)
			st.input = append(st.input, strings.TrimSpace(lines[i]))
			i++
		}
		require.Less(t, i, len(lines), "%s:%d: a command needs ---- after it", file, st.line)
		i++
		st.wantFrom = i
		for i < len(lines) && lines[i] != "" {
			i++
		}
		st.wantTo = i
		steps = append(steps, st)
	}
	return steps
}

// arg is a command's argument, or def when it has none.
func (st storyStep) arg(key, def string) string {
	for _, a := range st.args {
		if a.key == key {
			return a.val
		}
	}
	return def
}

func (st storyStep) has(key string) bool {
	for _, a := range st.args {
		if a.key == key {
			return true
		}
	}
	return false
}

func (st storyStep) int(t *testing.T, key string, def int) int {
	n, err := strconv.Atoi(st.arg(key, strconv.Itoa(def)))
	require.NoError(t, err, "line %d: %s", st.line, key)
	return n
}

func (st storyStep) duration(t *testing.T, key string) sim.Time {
	d, err := time.ParseDuration(st.arg(key, "0s"))
	require.NoError(t, err, "line %d: %s", st.line, key)
	return sim.FromDuration(d)
}

func doStep(t *testing.T, h *harness, st storyStep, file string) *harness {
	where := file + ":" + strconv.Itoa(st.line)
	switch st.cmd {
	case "cluster":
		props := map[string]string{}
		for _, l := range st.input {
			k, v, ok := strings.Cut(l, "=")
			require.True(t, ok, "%s: a property is key=value", where)
			props[k] = v
		}
		h = newHarness(t, uint64(st.int(t, "seed", 1)), st.int(t, "brokers", 1), st.int(t, "partitions", 1),
			int16(st.int(t, "transaction-version", 0)), props)
		h.coordinator = sim.NodeID(st.int(t, "coordinator", 1))
	case "script":
		require.NotEmpty(t, st.args, "%s: script needs an API", where)
		r := rule{api: st.args[0].key, partition: broker.PartitionID(st.int(t, "partition", int(anyPartition))),
			broker: sim.NodeID(st.int(t, "broker", 0)), times: st.int(t, "times", 1),
			drop: st.has("drop"), delay: st.duration(t, "delay"),
			leader: sim.NodeID(st.int(t, "leader", 0)), epoch: int32(st.int(t, "epoch", 0))}
		if name := st.arg("error", ""); name != "" {
			var ok bool
			r.err, ok = broker.ParseError(name)
			require.True(t, ok, "%s: unknown error %s", where, name)
		}
		h.script(r)
	case "send":
		h.send(st.int(t, "partition", 0), st.int(t, "records", 1))
	case "run":
		h.run(st.duration(t, "for"))
	case "leader":
		h.moveLeader(st.int(t, "partition", 0), sim.NodeID(st.int(t, "broker", 1)))
	case "init-transactions":
		h.p.InitTransactions()
		h.run(0) // a call that fails at once returns now
	case "begin-transaction":
		if err := h.p.BeginTransaction(); err != broker.ErrNone {
			h.logf("beginTransaction() throws %s", err)
		}
	case "commit-transaction":
		h.p.CommitTransaction()
		h.run(0)
	case "abort-transaction":
		h.p.AbortTransaction()
		h.run(0)
	default:
		t.Fatalf("%s: unknown command %q", where, st.cmd)
	}
	return h
}

// callbacksOnce checks that no batch's callback ran twice: a batch
// completes once, whatever answers arrive later (ProducerBatch.done).
func callbacksOnce(t *testing.T, h *harness, where string) {
	seen := map[int64]bool{}
	for _, c := range h.callbacks {
		if c.batch == 0 {
			continue
		}
		assert.False(t, seen[c.batch], "%s: batch %d completed twice", where, c.batch)
		seen[c.batch] = true
	}
}

// TestRetryBackoffJitter: over many seeds, the wait before each retry is
// ExponentialBackoff(100, 2, 1000, 0.2).backoff(attempts - 1): within ±20%
// of 100, 200, 400, 800 ms, then at most 1000 ms (KIP-580;
// RecordAccumulator.shouldBackoff), and the jitter really varies.
func TestRetryBackoffJitter(t *testing.T) {
	base := []float64{100, 200, 400, 800, 1000, 1000}
	seen := make([]map[sim.Time]bool, len(base))
	for i := range seen {
		seen[i] = map[sim.Time]bool{}
	}
	for seed := uint64(1); seed <= 30; seed++ {
		h := newHarness(t, seed, 1, 1, 0, map[string]string{"enable.idempotence": "false", "acks": "1", "linger.ms": "0"})
		h.script(rule{api: "produce", partition: anyPartition, err: broker.ErrNotEnoughReplicas, times: len(base)})
		h.send(0, 1)
		h.run(10 * sim.Second)
		tries := h.attempts(1)
		require.Len(t, tries, len(base)+1, "seed %d", seed)
		require.Len(t, h.callbacks, 1)
		require.Equal(t, broker.ErrNone, h.callbacks[0].err)
		for i, b := range base {
			// The error reaches the producer 1 ms after the broker got
			// the attempt; the retry reaches the broker 1 ms after it left.
			wait := tries[i+1].at - tries[i].at - 2*latency
			lo, hi := sim.Time(0.8*b)*sim.Millisecond, min(sim.Time(1.2*b), 1000)*sim.Millisecond
			assert.GreaterOrEqual(t, wait, lo, "seed %d, retry %d", seed, i+1)
			assert.LessOrEqual(t, wait, hi, "seed %d, retry %d", seed, i+1)
			seen[i][wait] = true
		}
	}
	for i := range base {
		assert.Greater(t, len(seen[i]), 5, "retry %d: the jitter draws few distinct waits", i+1)
	}
}

// TestResponsesPairWithTheOldestRequest: a connection is one ordered
// stream, so a response completes the oldest request in flight on it
// (InFlightRequests.completeNext). A broker that answered a later request
// first would break that, and the producer says so rather than pair the
// answer with the wrong batches.
func TestResponsesPairWithTheOldestRequest(t *testing.T) {
	h := newHarness(t, 1, 1, 2, 0, map[string]string{"linger.ms": "0"})
	h.script(rule{api: "produce", partition: 0, times: 1, delay: 50 * sim.Millisecond})
	h.send(0, 1)
	h.run(10 * sim.Millisecond) // the request to t-0 is in flight first
	h.send(1, 1)
	assert.PanicsWithValue(t,
		"producer: the response to request 4 overtook an earlier request on its connection to node 1 (a TCP stream delivers in order)",
		func() { h.run(sim.Second) })
}
