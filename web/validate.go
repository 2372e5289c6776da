package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kafkasim/kafkasim/scenarios"
)

// pastedSource names a pasted or uploaded scenario in its messages, where
// the command line names the file.
const pastedSource = "pasted scenario"

// formErrors are a form's messages: by field (a form field's --set key,
// "set" for the other settings, "yaml" for a pasted scenario), and those
// of no one field.
type formErrors struct {
	Fields  map[string][]string
	General []string
}

func (e formErrors) empty() bool { return len(e.Fields) == 0 && len(e.General) == 0 }

func (e *formErrors) add(key, msg string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[key] = append(e.Fields[key], msg)
}

// parse reads the request's scenario with these settings, as the command
// line's run does: a built-in by name (never a file: a name with a slash
// is not a lesson), or the pasted text.
func (s *Server) parse(r runRequest, sets []string) (*scenarios.Scenario, error) {
	if r.Lesson != "" {
		e, ok := s.entry(r.Lesson)
		if !ok {
			if near := scenarios.NearLessons(r.Lesson); len(near) > 0 {
				return nil, fmt.Errorf("no lesson is named %q; did you mean %s? The first page lists them", r.Lesson, strings.Join(near, " or "))
			}
			return nil, fmt.Errorf("no lesson is named %q; the first page lists them", r.Lesson)
		}
		// As scenarios.Load names a built-in, so the messages are the same.
		return scenarios.Parse("built-in "+e.Name, e.Text, sets)
	}
	return scenarios.Parse(pastedSource, r.YAML, sets)
}

// entry is the built-in lesson of this name, from the catalog read once.
func (s *Server) entry(name string) (scenarios.Entry, bool) {
	i := slices.IndexFunc(s.catalog, func(e scenarios.Entry) bool { return e.Name == name })
	if i < 0 {
		return scenarios.Entry{}, false
	}
	return s.catalog[i], true
}

func (s *Server) isLesson(name string) bool {
	_, ok := s.entry(name)
	return ok
}

// maxSets bounds the other settings of one request: each may be parsed
// on its own, outside the run slots.
const maxSets = 50

// validate loads the request's scenario with every setting, and says
// what is wrong next to each field that is. All settings are applied
// together first, as the command line applies its --set flags; when that
// fails, each is tried alone on the scenario, so that every bad field gets
// its message (the command line's, word for word) and not only the
// first; a combination Kafka refuses (acks=1 with enable.idempotence=true)
// that no field is wrong alone gets its message at the top of the form.
// Then the server's bounds. When something is wrong, base is the
// scenario without the settings (nil if it does not load either), which
// the form shows its values from. Parsing costs up to a few parses of a
// 1 MiB scenario: call it in a slot.
func (s *Server) validate(r runRequest) (sc, base *scenarios.Scenario, errs formErrors) {
	if r.Lesson == "" && len(r.YAML) == 0 {
		errs.add("yaml", "paste a scenario (YAML or JSON, as simulate show prints one), upload a file, or choose a lesson on the first page")
		return nil, nil, errs
	}
	if len(r.Sets) > maxSets {
		errs.add("set", fmt.Sprintf("%d other settings; this server takes at most %d per run", len(r.Sets), maxSets))
		return nil, nil, errs
	}
	if errs = setTwice(r); !errs.empty() {
		base, _ = s.parse(r, nil)
		return nil, base, errs
	}
	if len(r.unknown) > 0 {
		if base, _ = s.parse(r, nil); base != nil {
			errs.General = s.unknownKeys(r)
			return nil, base, errs
		}
	}
	sc, err := s.parse(r, r.allSets())
	if err == nil {
		if keys, err := s.withinBounds(sc); err != nil {
			if i := slices.IndexFunc(keys, func(k string) bool { _, typed := r.Values[k]; return typed }); i >= 0 {
				errs.add(keys[i], err.Error())
			} else {
				errs.General = append(errs.General, err.Error())
			}
			base, _ = s.parse(r, nil)
			return nil, base, errs
		}
		return sc, nil, errs
	}
	base, baseErr := s.parse(r, nil)
	if baseErr != nil {
		if r.Lesson != "" {
			errs.General = append(errs.General, webText(baseErr))
		} else {
			errs.add("yaml", webText(baseErr))
		}
		return nil, nil, errs
	}
	for _, f := range fields {
		if v, ok := r.Values[f.Key]; ok {
			if _, err := s.parse(r, []string{f.Key + "=" + v}); err != nil {
				errs.add(f.Key, webText(err))
			}
		}
	}
	for _, set := range r.Sets {
		if _, err := s.parse(r, []string{set}); err != nil {
			errs.add("set", webText(err))
		}
	}
	if errs.empty() {
		errs.General = append(errs.General, webText(err))
	}
	return nil, base, errs
}

// withinBounds checks the server's own limits, tighter than the command
// line's: the records a run writes and the virtual time its workload and
// faults span. keys are the form's fields that set what is over, for the
// message to go beside the one typed.
func (s *Server) withinBounds(sc *scenarios.Scenario) (keys []string, err error) {
	size := sc.Size()
	if size.Writes > float64(s.opt.MaxRecords) {
		return []string{"workload.records", "workload.rate"}, fmt.Errorf("this run %s; this server runs at most %d per run (lower workload.records, workload.rate or duration, or run it with simulate run, which takes up to 10 million)",
			size, s.opt.MaxRecords)
	}
	end, what := size.Span, "its workload"
	for i, f := range sc.Faults {
		if at := f.At.Duration + f.For.Duration; at > end {
			end, what = at, fmt.Sprintf("fault %d (%s)", i+1, f.Do)
		}
	}
	if end > s.opt.MaxVirtual {
		if what == "its workload" {
			keys = []string{"workload.records", "workload.rate"}
		}
		return keys, fmt.Errorf("%s runs until %v of virtual time; this server runs at most %v per run (run it with simulate run, which takes up to 24h)",
			what, end, s.opt.MaxVirtual)
	}
	return nil, nil
}
