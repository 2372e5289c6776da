package sim

import (
	"bufio"
	"github.com/kafkasim/kafkasim/event"
	"hash/fnv"
	"io"
	"strconv"
	"unicode/utf8"
)

// Entry is one significant thing that happened: when, on which node, with
// which peer, and the typed facts of its kind (event.Fields: the subject, the
// batch, the offset range, the error, ...). Unused numeric fields hold -1
// (Batch: 0) and are left out of the JSON; the text detail is rendered from
// the fields when the trace is written.
type Entry struct {
	At   Time
	Node NodeID // who
	Peer NodeID // the other node involved, or -1
	event.Fields
}

// Trace is the append-only record of a run. Components add entries as they
// act; the audit reads them to explain anomalies.
//
// Messages between nodes are kept apart, as compact MsgEntry records (a run
// sends millions); the JSON lines interleave them with the entries in the
// order they happened.
type Trace struct {
	entries  []Entry
	msgs     []MsgEntry
	msgNames []string // message type names, by MsgEntry.Type

	// dropMsgs: messages are counted (nMsgs, the limit) but not kept.
	dropMsgs bool
	nMsgs    int // messages kept, or counted when dropMsgs

	limit   int   // the most records kept; 0: no limit
	omitted int64 // records past the limit, counted but not kept
	recent  [recentWindow]ringEntry
	nRecent int64 // records ever seen (kept or not): the ring's position
}

// recentWindow is how many of the latest records the trace remembers, kept
// or not, to say what a run was doing when a budget stopped it.
const recentWindow = 1 << 12

// Recent is what one record was about: its kind, its node and, for a
// message, the message type.
type Recent struct {
	Kind event.Kind
	Node NodeID
	Peer NodeID
	Msg  string // the message type, for msg-send and msg-receive
}

// ringEntry is a Recent as the ring holds it: without pointers, so that the
// collector never scans the ring and writing it costs no write barrier.
type ringEntry struct {
	kind event.Kind
	msg  uint16 // the message type plus one (MsgEntry.Type); 0: none
	node NodeID
	peer NodeID
}

// SetLimit bounds the records kept: past n, a trace-cut entry is added and
// later records are only counted (Omitted), so a long run's trace stays in
// bounded memory.
func (t *Trace) SetLimit(n int) { t.limit = n }

// DropMessages makes the trace count messages without keeping them, from
// now on: a run that draws no space-time diagram and writes no JSON-lines
// trace needs none of them. The limit counts them all the same, so
// the entries kept do not change.
func (t *Trace) DropMessages() { t.dropMsgs = true }

// KeepsMessages reports whether the trace keeps the messages it sees.
func (t *Trace) KeepsMessages() bool { return !t.dropMsgs }

// Reserve makes room for n entries, so that a run whose size is known
// (a hunt's next schedule) does not grow the slice again and again.
func (t *Trace) Reserve(n int) {
	if n > cap(t.entries) {
		t.entries = append(make([]Entry, 0, n), t.entries...)
	}
}

// Omitted is how many records were counted but not kept past the limit.
func (t *Trace) Omitted() int64 { return t.omitted }

// Cut reports whether the trace reached its limit.
func (t *Trace) Cut() bool { return t.omitted > 0 }

// RecentRecords is the latest records seen, kept or not, at most
// recentWindow of them, oldest first.
func (t *Trace) RecentRecords() []Recent {
	n := int(min(t.nRecent, recentWindow))
	out := make([]Recent, 0, n)
	for i := t.nRecent - int64(n); i < t.nRecent; i++ {
		r := t.recent[i%recentWindow]
		rec := Recent{Kind: r.kind, Node: r.node, Peer: r.peer}
		if r.msg > 0 {
			rec.Msg = t.msgNames[r.msg-1]
		}
		out = append(out, rec)
	}
	return out
}

// keep notes a record in the recent window and reports whether it is kept:
// false past the limit, where the first refused record adds the trace-cut
// entry.
func (t *Trace) keep(r ringEntry, at Time) bool {
	t.recent[t.nRecent%recentWindow] = r
	t.nRecent++
	if t.limit <= 0 || t.Len() < t.limit {
		return true
	}
	if t.omitted == 0 {
		e := E(at, r.node, event.TraceCut)
		e.Count = int32(min(t.Len(), 1<<31-1))
		t.entries = append(t.entries, e)
	}
	t.omitted++
	return false
}

// MsgEntry is a message crossing the network: sent (event.MsgSend) or
// handed to its destination (event.MsgReceive). A send, its receive and a
// drop of the same message carry the same ID, so that a space-time diagram
// can draw an arrow from one to the other.
type MsgEntry struct {
	At Time
	ID int64 // the network's id for the message, from 1
	// Req is the request id the message carries (Request), the same in
	// a request and in the response that answers it; 0 for none.
	Req    int64
	before int32 // how many entries were recorded before it
	From   NodeID
	To     NodeID
	Type   uint16 // the message's type; Trace.MessageName names it
	Kind   event.Kind
}

// addMsg records a message sent or received, with its type's
// Name.
func (t *Trace) addMsg(at Time, k event.Kind, id int64, from, to NodeID, m Message) {
	typ := t.messageType(m.Name())
	node, peer := from, to
	if k == event.MsgReceive {
		node, peer = to, from
	}
	if !t.keep(ringEntry{kind: k, node: node, peer: peer, msg: typ + 1}, at) {
		return
	}
	t.nMsgs++
	if t.dropMsgs {
		return
	}
	var req int64
	if c, ok := m.(Request); ok {
		req = c.RequestID()
	}
	t.msgs = append(Grow(t.msgs, 1), MsgEntry{At: at, ID: id, Req: req, before: int32(len(t.entries)), From: from, To: to, Type: typ, Kind: k})
}

// messageType interns a message type's name. A run has a dozen types, and
// Name returns the same constant string each time, so a scan that compares
// lengths first (and pointers, in the runtime's comparison) beats hashing.
func (t *Trace) messageType(name string) uint16 {
	for i, n := range t.msgNames {
		if n == name {
			return uint16(i)
		}
	}
	t.msgNames = append(t.msgNames, name)
	return uint16(len(t.msgNames) - 1)
}

// Messages is every message sent and received so far. The slice must not
// be modified.
func (t *Trace) Messages() []MsgEntry { return t.msgs }

// MessageName is the name of a message type, as its Name method gives it.
func (t *Trace) MessageName(typ uint16) string { return t.msgNames[typ] }

// Add appends an entry. Callers fill every field; use E to start from the
// "nothing" values.
func (t *Trace) Add(e Entry) {
	// A budget's stop is kept past the limit: it says where the run ended.
	if t.keep(ringEntry{kind: e.Kind, node: e.Node, peer: e.Peer}, e.At) || e.Kind == event.BudgetStop {
		t.entries = append(Grow(t.entries, 1), e)
	}
}

// E returns an entry of kind k with every optional field unset.
func E(at Time, node NodeID, k event.Kind) Entry {
	return Entry{At: at, Node: node, Peer: NoNode, Fields: event.None(k)}
}

// Entries is the trace so far. The slice must not be modified.
func (t *Trace) Entries() []Entry { return t.entries }

// Len is the number of entries and message records: the JSON lines
// (and the messages DropMessages counted without keeping).
func (t *Trace) Len() int { return len(t.entries) + t.nMsgs }

// Namer turns the dense ids in entries into names for the JSON output.
type Namer interface {
	NodeName(NodeID) string
	event.Namer
}

// WriteJSONL writes one JSON object per entry, fields in a fixed order, so
// the same run always gives the same bytes.
func (t *Trace) WriteJSONL(w io.Writer, names Namer) error {
	bw := bufio.NewWriter(w)
	var buf, detail []byte
	m := 0
	for i := 0; i <= len(t.entries); i++ {
		for ; m < len(t.msgs) && (i == len(t.entries) || int(t.msgs[m].before) <= i); m++ {
			buf = t.appendMsgJSON(buf[:0], &t.msgs[m], names)
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		if i == len(t.entries) {
			break
		}
		buf, detail = appendEntryJSON(buf[:0], detail[:0], &t.entries[i], names)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Hash is an FNV-64a hash of the JSON lines, to pin a whole run in a golden
// test without storing it.
func (t *Trace) Hash(names Namer) string {
	h := fnv.New64a()
	_ = t.WriteJSONL(h, names)
	return strconv.FormatUint(h.Sum64(), 16)
}

// appendEntryJSON appends e's JSON line to b, rendering its detail in the
// scratch buffer detail; it returns both buffers for reuse.
func appendEntryJSON(b, detail []byte, e *Entry, names Namer) ([]byte, []byte) {
	b = append(b, `{"at_ms":`...)
	b = strconv.AppendFloat(b, e.At.Ms(), 'f', -1, 64)
	b = append(b, `,"node":`...)
	b = appendJSONString(b, names.NodeName(e.Node))
	b = append(b, `,"event":`...)
	b = appendJSONString(b, e.Kind.String())
	if e.Subject >= 0 {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, names.SubjectName(e.Subject))
	}
	if e.Batch > 0 {
		b = append(b, `,"batch":`...)
		b = strconv.AppendInt(b, e.Batch, 10)
	}
	if e.First >= 0 {
		b = append(b, `,"first":`...)
		b = strconv.AppendInt(b, e.First, 10)
	}
	if e.Last >= 0 {
		b = append(b, `,"last":`...)
		b = strconv.AppendInt(b, e.Last, 10)
	}
	if e.Epoch >= 0 {
		b = append(b, `,"epoch":`...)
		b = strconv.AppendInt(b, int64(e.Epoch), 10)
	}
	if e.Peer >= 0 {
		b = append(b, `,"peer":`...)
		b = appendJSONString(b, names.NodeName(e.Peer))
	}
	if e.Ext != nil && e.Ext.Msg > 0 {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, e.Ext.Msg, 10)
	}
	if detail = event.AppendDetail(detail, &e.Fields, names); len(detail) > 0 {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, detail)
	}
	return append(b, "}\n"...), detail
}

// appendMsgJSON appends m's JSON line to b: the node that acted (the sender
// of a send, the receiver of a receive), the other end, the message type
// and its id.
func (t *Trace) appendMsgJSON(b []byte, m *MsgEntry, names Namer) []byte {
	node, peer := m.From, m.To
	if m.Kind == event.MsgReceive {
		node, peer = m.To, m.From
	}
	b = append(b, `{"at_ms":`...)
	b = strconv.AppendFloat(b, m.At.Ms(), 'f', -1, 64)
	b = append(b, `,"node":`...)
	b = appendJSONString(b, names.NodeName(node))
	b = append(b, `,"event":`...)
	b = appendJSONString(b, m.Kind.String())
	b = append(b, `,"peer":`...)
	b = appendJSONString(b, names.NodeName(peer))
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, t.msgNames[m.Type])
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	if m.Req > 0 {
		b = append(b, `,"req":`...)
		b = strconv.AppendInt(b, m.Req, 10)
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
