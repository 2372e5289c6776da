package web

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// runRequest is what a run is made of: a built-in lesson or a pasted
// scenario, and the settings on top. Its query is the run's link: the
// same query runs the same scenario with the same seed, byte for byte.
type runRequest struct {
	Lesson string // a built-in scenario's name
	// YAML is a pasted or uploaded scenario, when Lesson is empty.
	YAML []byte
	// Values are the form's fields by --set key, as typed (trimmed); an
	// empty one keeps the scenario's value.
	Values map[string]string
	// Sets are further KEY=VALUE settings, as --set takes them, in order.
	Sets []string
	// yamlLink is YAML in a link's form (encodeYAML), "" when it is too
	// large for one; worked out once per request.
	yamlLink string
	// unknown are the query's keys no page reads, as KEY=VALUE in key
	// order: validate refuses them (unknownKeys), so that a mistyped
	// setting is not dropped to run something else.
	unknown []string
}

// withYAML sets the request's scenario text and its link form.
func (r *runRequest) withYAML(data []byte) {
	r.YAML, r.yamlLink = data, ""
	if enc := encodeYAML(data); len(enc) <= maxLinkYAML {
		r.yamlLink = enc
	}
}

// readQuery parses a query as a run's link: a malformed one is refused
// (url.Values would drop the bad part and run something else), and so is
// a key given twice other than set (acks=0&acks=all: which one?).
func readQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return q, fmt.Errorf("this link's query is malformed (%v); copy the whole link, or use the form", err)
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k != "set" && len(q[k]) > 1 {
			return q, fmt.Errorf("%s is given %d times in this link (%s); give each setting once", k, len(q[k]), strings.Join(q[k], ", "))
		}
	}
	return q, nil
}

// maxLinkYAML bounds a pasted scenario carried in a link, compressed and
// base64-encoded: browsers and servers cut URLs past a few tens of KB.
const maxLinkYAML = 16 << 10

// parseRunRequest reads a run from a query (or a posted form's values):
// lesson=NAME or yaml=<link form>, a value per form field (by its --set
// key), and set=KEY=VALUE (repeatable; one per line also works, as a
// textarea sends them).
func parseRunRequest(q url.Values) (runRequest, error) {
	r := runRequest{Lesson: strings.TrimSpace(q.Get("lesson")), Values: map[string]string{}}
	if y := q.Get("yaml"); y != "" {
		data, err := decodeYAML(y)
		if err != nil {
			return r, err
		}
		r.YAML, r.yamlLink = data, y
	}
	for _, f := range fields {
		if v := strings.TrimSpace(q.Get(f.Key)); v != "" {
			r.Values[f.Key] = v
		}
	}
	for _, s := range q["set"] {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				r.Sets = append(r.Sets, line)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if _, ok := fieldByKey(k); !ok && !slices.Contains(pageKeys, k) {
			r.unknown = append(r.unknown, k+"="+q.Get(k))
		}
	}
	return r, nil
}

// allSets are the settings the run takes, as --set arguments: the form's
// fields in the form's order, then the others.
func (r runRequest) allSets() []string {
	var sets []string
	for _, f := range fields {
		if v, ok := r.Values[f.Key]; ok {
			sets = append(sets, f.Key+"="+v)
		}
	}
	return append(sets, r.Sets...)
}

// query is the run's link: its scenario and settings in a fixed order.
// A pasted scenario too large for a link has none (ok false).
func (r runRequest) query() (q string, ok bool) {
	var b strings.Builder
	if r.Lesson != "" {
		b.WriteString("lesson=" + url.QueryEscape(r.Lesson))
	} else {
		if r.yamlLink == "" {
			return "", false
		}
		b.WriteString("yaml=" + r.yamlLink)
	}
	for _, f := range fields {
		if v, ok := r.Values[f.Key]; ok {
			b.WriteString("&" + url.QueryEscape(f.Key) + "=" + url.QueryEscape(v))
		}
	}
	for _, s := range r.Sets {
		b.WriteString("&set=" + url.QueryEscape(s))
	}
	return b.String(), true
}

// encodeYAML is a scenario's text in a link: deflated, then base64url.
func encodeYAML(data []byte) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(data)
	w.Close()
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// maxYAML is the largest scenario read, as the command line reads files.
const maxYAML = 1 << 20

// decodeYAML reads encodeYAML's form back, refusing more than a
// scenario file may hold.
func decodeYAML(s string) ([]byte, error) {
	if len(s) > maxLinkYAML {
		return nil, fmt.Errorf("the scenario in this link is over %d KiB encoded; paste it into the form instead", maxLinkYAML>>10)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("the scenario in this link is not valid base64url; copy the whole link")
	}
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxYAML+1))
	if err != nil {
		return nil, errors.New("the scenario in this link does not decompress; copy the whole link")
	}
	if len(data) > maxYAML {
		return nil, errors.New("the scenario in this link is over 1 MiB; a scenario file is at most 1 MiB")
	}
	return data, nil
}
