package scenarios

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a problem with a scenario: where it is, which key, what is wrong
// and what is allowed. The CLI prints it and exits with status 2.
type Error struct {
	Source string // a file name, or "built-in NAME"
	Line   int    // the key's line in the file, if known
	Set    bool   // the value came from --set
	// Flag is the option that gave a Set value when it is not --set
	// (compare's --vs).
	Flag string
	Key  string // dotted path of the key, if known
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	switch {
	case e.Set:
		b.WriteString(": " + cmp.Or(e.Flag, "--set") + " " + e.Key)
	case e.Line > 0:
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Key != "" {
			b.WriteString(": " + e.Key)
		}
	case e.Key != "":
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return oneLine(b.String())
}

// oneLine escapes control characters, so that an error about a key or value
// with a newline in it still prints on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// decoder turns a YAML node tree into a Scenario. It is written out rather
// than left to yaml's reflection so that every error names the key, the
// line, and what is allowed.
type decoder struct {
	source string
	lines  map[string]int // line of every key by dotted path; 0 for keys from --set
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) *Error {
	e := &Error{Source: d.source, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
		e.Set = n.Line == 0
	}
	return e
}

// nodeDecoder is a type that reads itself from a node.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string) error
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			return nd.decodeNode(d, n, path)
		}
	}
	if isNull(n) {
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n, path, "expected a list")
		}
		v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
		for i, item := range n.Content {
			if err := d.decode(item, v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "expected a single value, not a %s", kindName(n))
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		i, err := strconv.Atoi(s)
		if err != nil {
			return d.errorf(n, path, "%q is not a whole number", s)
		}
		v.SetInt(int64(i))
	case reflect.Uint64:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return d.errorf(n, path, "%q is not a whole number from 0 to %d", s, uint64(1<<64-1))
		}
		v.SetUint(u)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return d.errorf(n, path, "%q is not a number", s)
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			return d.errorf(n, path, "%q is not true or false", s)
		}
		v.SetBool(b)
	default:
		panic("scenarios: no decoder for " + v.Type().String())
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// fieldKeys lists a struct's YAML keys in declaration order.
func fieldKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "expected a map of keys, not a %s", kindName(n))
	}
	t := v.Type()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode || key == "" {
			return d.errorf(k, path, "a key must be a plain word, like name or workload")
		}
		if seen[key] {
			return d.errorf(k, join(path, key), "appears twice")
		}
		seen[key] = true
		d.lines[join(path, key)] = k.Line
		field := -1
		for f := 0; f < t.NumField(); f++ {
			if tag := t.Field(f).Tag.Get("yaml"); tag == key && tag != "-" {
				field = f
				break
			}
		}
		if field < 0 {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			return d.errorf(k, join(path, key), "unknown key %s; allowed: %s", where, strings.Join(fieldKeys(t), ", "))
		}
		if err := d.decode(val, v.Field(field), join(path, key)); err != nil {
			return err
		}
	}
	return nil
}

func (x *Duration) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "expected a duration like 250ms or 2s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return d.errorf(n, path, "%q is not a duration; write a Go duration like 250ms, 2s or 1m30s", n.Value)
	}
	*x = Duration{Duration: v, Set: true}
	return nil
}

func (x *Bandwidth) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	bw, err := parseBandwidth(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "%q is not a bandwidth; write a number with a unit, from 1bps to 1000000Gbps, like 100Mbps (0 means unlimited)", n.Value)
	}
	*x = Bandwidth{BitsPerSecond: bw, Text: strings.TrimSpace(n.Value)}
	return nil
}

func parseBandwidth(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "unlimited" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"Gbps", 1e9}, {"Mbps", 1e6}, {"kbps", 1e3}, {"bps", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			bps := f * u.mult
			if err != nil || !(bps >= 1 && bps <= 1e15) {
				break // also refuses NaN and infinities
			}
			return int64(bps), nil
		}
	}
	return 0, fmt.Errorf("bad bandwidth %q", s)
}

// scalarMap reads a map of single values in file order, refusing repeats.
// what and valueHelp word the errors.
func (d *decoder) scalarMap(n *yaml.Node, path, what, valueHelp string, add func(key, value string)) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "expected a map of %s", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if seen[k.Value] {
			return d.errorf(k, key, "appears twice")
		}
		seen[k.Value] = true
		if val.Kind != yaml.ScalarNode {
			return d.errorf(val, key, "%s, not a %s", valueHelp, kindName(val))
		}
		d.lines[key] = k.Line
		add(k.Value, val.Value)
	}
	return nil
}

func (x *Properties) decodeNode(d *decoder, n *yaml.Node, path string) error {
	*x = nil
	return d.scalarMap(n, path, "Kafka properties", "a property value must be a single value",
		func(k, v string) { *x = append(*x, Property{Name: k, Value: v}) })
}

func (x *Expectations) decodeNode(d *decoder, n *yaml.Node, path string) error {
	*x = nil
	return d.scalarMap(n, path, `report paths to conditions, like records.lost: "> 0"`,
		`a condition must be a single value like 0 or "> 0"`,
		func(k, v string) { *x = append(*x, Expectation{Path: k, Want: v}) })
}

func (x *Fault) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "expected a fault: a map with at, do and the keys of that fault")
	}
	d.lines[path] = n.Line
	x.set = map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		x.set[n.Content[i].Value] = true
	}
	return d.decodeStruct(n, reflect.ValueOf(x).Elem(), path)
}

// parseScenario reads a scenario from YAML (or JSON) text and applies --set
// overrides, each "key=value".
func parseScenario(source string, data []byte, sets []string) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, &Error{Source: source, Msg: oneLine("not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{Source: source, Msg: "the file is empty"}
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		return nil, &Error{Source: source, Msg: "one scenario per file: found a second YAML document (---)"}
	}
	if err := refuseAliases(source, &doc); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Source: source, Msg: "a scenario must be a map of keys (name, cluster, topics, producer, workload, faults, ...)"}
	}
	for _, s := range sets {
		if err := applySet(source, root, s); err != nil {
			return nil, err
		}
	}
	sc := &Scenario{Source: source, lines: map[string]int{}, sets: slices.Clone(sets)}
	d := &decoder{source: source, lines: sc.lines}
	if err := d.decodeStruct(root, reflect.ValueOf(sc).Elem(), ""); err != nil {
		return nil, err
	}
	return sc, nil
}

// setSections are the --set prefixes and where they lead in the file.
// Property maps take the rest of the key whole, since Kafka property names
// contain dots.
var setHelp = "use seed, duration, cluster.brokers, cluster.version, cluster.features.<feature>, cluster.network.latency|jitter|bandwidth, " +
	"broker.<property>, topic.<property>, topic.partitions, topic.replication.factor, producer.<property>, workload.<key>, workload.transactions.<key>"

// applySet edits the parsed file for one --set KEY=VALUE.
func applySet(source string, root *yaml.Node, kv string) error {
	key, value, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	bad := func(msg string) error { return &Error{Source: source, Set: true, Key: key, Msg: msg} }
	if !ok || key == "" {
		return &Error{Source: source, Msg: fmt.Sprintf("--set %q: expected KEY=VALUE; %s", kv, setHelp)}
	}
	section, rest, _ := strings.Cut(key, ".")
	var path []string
	switch section {
	case "seed", "duration", "name", "title":
		if rest != "" {
			return bad("unknown --set key; " + setHelp)
		}
		path = []string{section}
	case "producer":
		path = []string{"producer", rest}
	case "broker":
		path = []string{"cluster", "broker", rest}
	case "cluster":
		switch {
		case rest == "brokers" || rest == "version":
			path = []string{"cluster", rest}
		case strings.HasPrefix(rest, "broker."):
			path = []string{"cluster", "broker", strings.TrimPrefix(rest, "broker.")}
		case strings.HasPrefix(rest, "features."):
			path = []string{"cluster", "features", strings.TrimPrefix(rest, "features.")}
		case strings.HasPrefix(rest, "network."):
			path = []string{"cluster", "network", strings.TrimPrefix(rest, "network.")}
		default:
			return bad("unknown --set key; " + setHelp)
		}
	case "workload":
		path = []string{"workload", rest}
		if sub, ok := strings.CutPrefix(rest, "transactions."); ok {
			path = []string{"workload", "transactions", sub}
		}
	case "topic":
		t, err := workloadTopicNode(root)
		if err != nil {
			return bad(err.Error())
		}
		switch rest {
		case "partitions", "replication.factor", "name":
			setPath(t, []string{rest}, value)
		default:
			setPath(t, []string{"config", rest}, value)
		}
		return nil
	default:
		return bad("unknown --set key; " + setHelp)
	}
	if slicesContainsEmpty(path) {
		return bad("missing a name after the dot; " + setHelp)
	}
	setPath(root, path, value)
	return nil
}

func slicesContainsEmpty(path []string) bool {
	for _, p := range path {
		if p == "" {
			return true
		}
	}
	return false
}

// refuseAliases refuses YAML anchors and aliases: a scenario is small
// enough to write out, and an alias followed while decoding multiplies the
// work (a few KB of nested aliases expand to gigabytes), which yaml.v3's
// own protection does not see since the decoder walks the nodes itself.
// The walk does not follow aliases, so it is linear in the text.
func refuseAliases(source string, n *yaml.Node) error {
	// An anchor comes before its aliases, so the walk meets it first.
	if name := cmp.Or(n.Anchor, n.Value); n.Anchor != "" || n.Kind == yaml.AliasNode {
		return &Error{Source: source, Line: n.Line, Msg: fmt.Sprintf("YAML anchors and aliases (&%s, *%s) are not supported in scenario files; write each value out", name, name)}
	}
	for _, c := range n.Content {
		if err := refuseAliases(source, c); err != nil {
			return err
		}
	}
	return nil
}

// setPath sets a scalar at a path of map keys, creating maps on the way.
// The new nodes have no line number, which is how errors know they came
// from --set.
func setPath(n *yaml.Node, path []string, value string) {
	for i, key := range path {
		if n.Kind != yaml.MappingNode {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		j := 0
		for j+1 < len(n.Content) && n.Content[j].Value != key {
			j += 2
		}
		if j+1 >= len(n.Content) {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
		}
		if i == len(path)-1 {
			n.Content[j].Line = 0 // the value now comes from --set
			n.Content[j+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
			return
		}
		n = n.Content[j+1]
	}
}

// workloadTopicNode finds the topic the workload writes to, which is what
// --set topic.X changes.
func workloadTopicNode(root *yaml.Node) (*yaml.Node, error) {
	get := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				return m.Content[j+1]
			}
		}
		return nil
	}
	topics := get(root, "topics")
	if topics == nil || topics.Kind != yaml.SequenceNode || len(topics.Content) == 0 {
		return nil, fmt.Errorf("the scenario has no topics to change")
	}
	name := ""
	if t := get(get(root, "workload"), "topic"); t != nil {
		name = t.Value
	}
	for i, t := range topics.Content {
		if n := get(t, "name"); name == "" || (n != nil && n.Value == name) {
			return topics.Content[i], nil
		}
	}
	return nil, fmt.Errorf("the workload topic %q is not among the topics", name)
}
