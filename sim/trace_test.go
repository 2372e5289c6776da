package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/event"
)

// names is a Namer over fixed tables.
type names struct {
	nodes    []string
	subjects []string
}

func (n names) NodeName(id NodeID) string {
	if id < 0 || int(id) >= len(n.nodes) {
		return "none"
	}
	return n.nodes[id]
}

func (n names) SubjectName(s int32) string { return n.subjects[s] }

func (n names) ErrorName(code int16) string { return "ERROR_" + strconv.Itoa(int(code)) }

var testNames = names{nodes: []string{"broker-0", "producer"}, subjects: []string{"orders-0", "orders-1"}}

// sampleTrace is a full entry followed by a bare one.
func sampleTrace() *Trace {
	var tr Trace
	full := E(2003*ms, 0, event.Append)
	full.Subject = 1
	full.Batch = 7
	full.First = 100
	full.Last = 109
	full.Epoch = 3
	full.Peer = 1
	full.Acks = -1
	tr.Add(full)
	tr.Add(E(1500*Microsecond, 1, event.Replicate))
	return &tr
}

const sampleJSONL = `{"at_ms":2003,"node":"broker-0","event":"append","subject":"orders-1","batch":7,"first":100,"last":109,"epoch":3,"peer":"producer","detail":"acks=all"}
{"at_ms":1.5,"node":"producer","event":"replicate"}
`

func TestWriteJSONLGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sampleTrace().WriteJSONL(&buf, testNames))

	assert.Equal(t, sampleJSONL, buf.String())
}

func TestWriteJSONLOmitsUnsetFieldsButKeepsZeroValues(t *testing.T) {
	tests := []struct {
		name  string
		entry func() Entry
		want  string
	}{
		{
			name:  "every optional field unset",
			entry: func() Entry { return E(0, 0, event.Replicate) },
			want:  `{"at_ms":0,"node":"broker-0","event":"replicate"}`,
		},
		{
			name: "zero is a real subject, offset, epoch and peer",
			entry: func() Entry {
				e := E(Microsecond, 1, event.Replicate)
				e.Subject, e.First, e.Last, e.Epoch, e.Peer = 0, 0, 0, 0, 0
				return e
			},
			want: `{"at_ms":0.001,"node":"producer","event":"replicate","subject":"orders-0","first":0,"last":0,"epoch":0,"peer":"broker-0"}`,
		},
		{
			name: "batch 0 means no batch",
			entry: func() Entry {
				e := E(5*ms, 1, event.Replicate)
				e.Batch = 0
				return e
			},
			want: `{"at_ms":5,"node":"producer","event":"replicate"}`,
		},
		{
			name: "a sub-millisecond time keeps its digits",
			entry: func() Entry {
				return E(2*Second+3*ms+1, 0, event.Replicate)
			},
			want: `{"at_ms":2003.000001,"node":"broker-0","event":"replicate"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr Trace
			tr.Add(tt.entry())
			var buf bytes.Buffer
			require.NoError(t, tr.WriteJSONL(&buf, testNames))

			assert.Equal(t, tt.want+"\n", buf.String())
		})
	}
}

func TestWriteJSONLLinesAreJSON(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sampleTrace().WriteJSONL(&buf, testNames))

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, "acks=all", first["detail"])
	assert.Equal(t, "orders-1", first["subject"])
	assert.InDelta(t, 2003.0, first["at_ms"], 0)
}

// Details are rendered from fields that may hold words from a scenario
// file (a message or topic name), so they may hold any character; every
// line must still be valid JSON that reads back the same.
func TestWriteJSONLEscapesDetailAsJSON(t *testing.T) {
	for _, detail := range []string{
		"tab\there",
		"bell\a",
		"nul\x00byte",
		"del\x7f",
		"bad utf-8 \xff",
		"ünïcode ✓",
	} {
		t.Run(strconv.Quote(detail), func(t *testing.T) {
			var tr Trace
			e := E(0, 0, event.Drop)
			e.X().Label = detail
			tr.Add(e)
			var buf bytes.Buffer
			require.NoError(t, tr.WriteJSONL(&buf, testNames))

			var got struct{ Detail string }
			require.NoError(t, json.Unmarshal(buf.Bytes(), &got), "line: %s", buf.String())
			want := strings.ToValidUTF8(detail, "\uFFFD") + " lost: link cut"
			assert.Equal(t, want, got.Detail)
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONLReportsWriteErrors(t *testing.T) {
	err := sampleTrace().WriteJSONL(failingWriter{}, testNames)
	assert.EqualError(t, err, "disk full")
}

func TestTraceHash(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte(sampleJSONL))
	golden := strconv.FormatUint(h.Sum64(), 16)

	assert.Equal(t, golden, sampleTrace().Hash(testNames), "the hash is FNV-64a of the JSON lines")
	assert.Equal(t, sampleTrace().Hash(testNames), sampleTrace().Hash(testNames), "equal traces hash equal")

	changes := map[string]func(e *Entry){
		"time":   func(e *Entry) { e.At++ },
		"node":   func(e *Entry) { e.Node = 1 },
		"event":  func(e *Entry) { e.Kind = event.Duplicate },
		"batch":  func(e *Entry) { e.Batch = 8 },
		"last":   func(e *Entry) { e.Last = 110 },
		"peer":   func(e *Entry) { e.Peer = NoNode },
		"detail": func(e *Entry) { e.Acks = 1 },
	}
	for field, change := range changes {
		t.Run(field, func(t *testing.T) {
			tr := sampleTrace()
			change(&tr.entries[0])
			assert.NotEqual(t, golden, tr.Hash(testNames))
		})
	}
	t.Run("order", func(t *testing.T) {
		tr := sampleTrace()
		tr.entries[0], tr.entries[1] = tr.entries[1], tr.entries[0]
		assert.NotEqual(t, golden, tr.Hash(testNames))
	})
}

func TestTraceAddAndEntries(t *testing.T) {
	var tr Trace
	assert.Zero(t, tr.Len())
	assert.Empty(t, tr.Entries())

	tr.Add(E(1, 0, event.Append))
	tr.Add(E(2, 1, event.Ack))

	require.Equal(t, 2, tr.Len())
	assert.Equal(t, []event.Kind{event.Append, event.Ack}, []event.Kind{tr.Entries()[0].Kind, tr.Entries()[1].Kind})
}

func TestEStartsWithNothingSet(t *testing.T) {
	assert.Equal(t, Entry{
		At: 5 * ms, Node: 2, Peer: NoNode,
		Fields: event.Fields{Kind: event.Ack, Subject: -1, Batch: 0, First: -1, Last: -1, Epoch: -1,
			ProducerID: -1, ProducerEpoch: -1, Seq: -1},
	}, E(5*ms, 2, event.Ack))
}

func TestTimeString(t *testing.T) {
	tests := []struct {
		t    Time
		want string
	}{
		{0, "0.000s"},
		{2003 * ms, "2.003s"},
		{90 * Second, "90.000s"},
		{5 * ms, "0.005s"},
		{-5 * ms, "-0.005s"},
		{1500 * Microsecond, "0.001500s"},
		{2*Second + 3*ms + 1*Microsecond, "2.003001s"},
		{-1500 * Microsecond, "-0.001500s"},
		{1500 * Nanosecond, "0.000001s"}, // microsecond precision: nanoseconds are cut
		{Never, "never"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.t.String())
		})
	}
}

func TestTimeConversions(t *testing.T) {
	assert.Equal(t, 1500*Microsecond, FromDuration(1500*time.Microsecond))
	assert.Equal(t, 250*ms, Millis(250))
	assert.Equal(t, 81*time.Millisecond, (81 * ms).Duration())
	assert.InDelta(t, 1.5, (1500 * Microsecond).Ms(), 1e-12)
	assert.Equal(t, 60*Second, Minute)
	assert.Greater(t, Never, 100*365*24*60*Minute)
}

// TestTraceLimit: past its limit the trace keeps one trace-cut entry and
// counts the rest, while the recent window still sees them.
func TestTraceLimit(t *testing.T) {
	var tr Trace
	tr.SetLimit(10)
	for i := range 25 {
		tr.Add(E(Time(i), 1, event.Append))
	}
	tr.addMsg(30, event.MsgSend, 1, 1, 2, call{name: "produce-request"})
	require.Equal(t, 11, tr.Len(), "ten records and the cut")
	last := tr.Entries()[10]
	assert.Equal(t, event.TraceCut, last.Kind)
	assert.Equal(t, int32(10), last.Count)
	assert.Equal(t, int64(16), tr.Omitted())
	assert.True(t, tr.Cut())
	recent := tr.RecentRecords()
	require.Len(t, recent, 26)
	assert.Equal(t, Recent{Kind: event.MsgSend, Node: 1, Peer: 2, Msg: "produce-request"}, recent[25])
}

// call is a test message that carries a request id, as a request and its
// response do.
type call struct {
	name string
	id   int64
}

func (c call) Name() string     { return c.name }
func (call) Size() int          { return 0 }
func (c call) RequestID() int64 { return c.id }

// TestMessagesCarryTheirRequestID: a request and its response are traced
// with the request id they carry, in the record and in the JSON line, so a
// space-time diagram pairs them; a message without one has none.
func TestMessagesCarryTheirRequestID(t *testing.T) {
	w := NewWorld(1)
	rs := addRecorders(w, "client", "server")
	w.Net.Send(rs[0].id, rs[1].id, call{name: "req", id: 7})
	w.Net.Send(rs[1].id, rs[0].id, call{name: "resp", id: 7})
	w.Net.Send(rs[0].id, rs[1].id, ping{N: 1})
	w.RunUntil(Second)
	var reqs []int64
	for _, m := range w.Trace.Messages() {
		reqs = append(reqs, m.Req)
	}
	assert.Equal(t, []int64{7, 7, 0, 7, 7, 0}, reqs)
	var out strings.Builder
	require.NoError(t, w.Trace.WriteJSONL(&out, names{nodes: []string{"client", "server"}}))
	assert.Contains(t, out.String(), `"msg":"resp","id":2,"req":7}`)
	assert.Contains(t, out.String(), `"msg":"ping","id":3}`)
}

// TestTraceDropMessages: dropped messages still count toward the limit,
// so the entries kept are those of a trace that keeps them.
func TestTraceDropMessages(t *testing.T) {
	fill := func(drop bool) *Trace {
		var tr Trace
		if drop {
			tr.DropMessages()
		}
		tr.SetLimit(10)
		for i := range 25 {
			tr.Add(E(Time(i), 1, event.Append))
			tr.addMsg(Time(i), event.MsgSend, int64(i), 1, 2, call{name: "produce-request"})
		}
		return &tr
	}
	full, lean := fill(false), fill(true)
	require.Len(t, full.Messages(), 5)
	assert.Empty(t, lean.Messages())
	assert.Equal(t, full.Entries(), lean.Entries())
	assert.Equal(t, full.Len(), lean.Len())
	assert.Equal(t, full.Omitted(), lean.Omitted())
	assert.Equal(t, full.RecentRecords(), lean.RecentRecords())
}

// TestTraceReserve: reserved room keeps the entries already added and
// takes the later ones without growing.
func TestTraceReserve(t *testing.T) {
	var tr Trace
	tr.Add(E(1, 1, event.Append))
	tr.Reserve(100)
	require.Equal(t, 100, cap(tr.Entries()))
	for i := range 99 {
		tr.Add(E(Time(i+2), 1, event.Append))
	}
	assert.Equal(t, 100, cap(tr.Entries()))
	assert.Equal(t, Time(1), tr.Entries()[0].At)
	tr.Reserve(10)
	assert.Equal(t, 100, cap(tr.Entries()), "less room than it has changes nothing")
}
