package web

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kafkasim/kafkasim/scenarios"
)

// webText is a scenario's error as a page shows it: the command line's
// message without the command line's framing ("built-in NAME: --set",
// "pasted scenario: ", "--partition: "), which the page says by where it
// puts the message.
func webText(err error) string {
	text := err.Error()
	var se *scenarios.Error
	if errors.As(err, &se) {
		text = strings.TrimPrefix(text, se.Source+": ")
		if se.Set {
			text = strings.TrimPrefix(text, cmp.Or(se.Flag, "--set")+" ")
		}
		return text
	}
	return strings.TrimPrefix(text, "--partition: ")
}

// pageKeys are the query keys a page reads besides the form's fields:
// the scenario, the other settings, the pinned run, the space-time
// window and the anomalies shown.
var pageKeys = []string{"lesson", "yaml", "set", "a", stPartition, stFrom, stTo, anomaliesKey}

// unknownKeys are messages for the request's keys no page reads: the
// command line's message for each as a --set, or, for a setting the
// form takes under other settings, where to put it. Call it once the
// scenario itself parses.
func (s *Server) unknownKeys(r runRequest) []string {
	var msgs []string
	for _, set := range r.unknown {
		key, _, _ := strings.Cut(set, "=")
		if _, err := s.parse(r, []string{set}); err != nil {
			msgs = append(msgs, webText(err))
		} else {
			msgs = append(msgs, fmt.Sprintf("%s is not a field of this form; put %s under other settings", key, set))
		}
	}
	return msgs
}

// setTwice are messages for a form field also set under other settings:
// which of the two the run should take is not for the server to guess.
func setTwice(r runRequest) formErrors {
	var errs formErrors
	for _, set := range r.Sets {
		key, value, _ := strings.Cut(set, "=")
		key = strings.TrimSpace(key)
		if v, ok := r.Values[key]; ok {
			errs.add(key, fmt.Sprintf("set both here (%s) and under other settings (%s); keep one", v, strings.TrimSpace(value)))
		}
	}
	return errs
}

// diffView is a setting that differs between A and B; Note says when
// neither run set it: it changed in effect, following another setting.
type diffView struct {
	scenarios.SettingDiff
	Note string
}

// diffViews marks the differences neither request asked for: a setting
// a request sets is its key (producer.acks, topic.min.insync.replicas,
// seed), a difference the report's path (producer.acks,
// topics.orders.min.insync.replicas).
func diffViews(diffs []scenarios.SettingDiff, a, b runRequest) []diffView {
	var asked []string
	for _, set := range slices.Concat(a.allSets(), b.allSets()) {
		key, _, _ := strings.Cut(set, "=")
		key = strings.TrimSpace(key)
		for _, section := range []string{"producer.", "broker.", "topic.", "cluster.broker.", "cluster."} {
			if rest, ok := strings.CutPrefix(key, section); ok {
				key = rest
				break
			}
		}
		asked = append(asked, key)
	}
	acksDiffer := slices.ContainsFunc(diffs, func(d scenarios.SettingDiff) bool { return d.Key == "producer.acks" })
	var out []diffView
	for _, d := range diffs {
		v := diffView{SettingDiff: d}
		if !slices.ContainsFunc(asked, func(k string) bool { return d.Key == k || strings.HasSuffix(d.Key, "."+k) }) {
			v.Note = "changed in effect, not set"
			// KafkaProducer: enable.idempotence defaults to true, and is
			// turned off when acks is not all and it was not set.
			if d.Key == "producer.enable.idempotence" && acksDiffer {
				v.Note = "follows from acks: Kafka's default idempotence needs acks=all; changed in effect, not set"
			}
		}
		out = append(out, v)
	}
	return out
}
