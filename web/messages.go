package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
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

// unknownKeys are messages for the query's keys no page reads, so that
// a mistyped setting (producer.ack=all) is refused rather than dropped:
// the command line's message for it as a --set, or, for a setting the
// form takes under other settings, where to put it.
func (s *Server) unknownKeys(r runRequest, q url.Values) []string {
	if _, err := s.parse(r, nil); err != nil {
		return nil // validate says what is wrong with the scenario
	}
	var msgs []string
	for _, k := range sortedKeys(q) {
		if _, ok := fieldByKey(k); ok || slices.Contains(pageKeys, k) {
			continue
		}
		set := k + "=" + q.Get(k)
		if _, err := s.parse(r, []string{set}); err != nil {
			msgs = append(msgs, webText(err))
		} else {
			msgs = append(msgs, fmt.Sprintf("%s is not a field of this form; put %s under other settings", k, set))
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
