package web

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"time"

	"github.com/kafkasim/kafkasim/plots"
	"github.com/kafkasim/kafkasim/scenarios"
)

// The space-time diagram's window is in the run page's query, beside the
// run's own settings: st.partition (orders-0), st.from and st.to
// (durations of virtual time). They choose what is drawn, not what runs,
// so stepping through time redraws the same run: links, no script.
const (
	stPartition = "st.partition"
	stFrom      = "st.from"
	stTo        = "st.to"
)

// spaceTimeView is the space-time diagram of a window of the run, and
// links that move the window: earlier, later, wider, narrower, and to
// another partition.
type spaceTimeView struct {
	SVG        template.HTML
	Why, Range string
	// End says the window reaches the run's end, and when that was.
	End        string
	Notes      []string
	Steps      []stLink
	Partitions []stLink
}

// stLink is one link of the diagram's navigation.
type stLink struct {
	ID, Label, Href string
	Current         bool
}

// spaceTime draws the window the query asks for (by default the one
// scenarios.SpaceTime picks: the first anomaly, else the first fatal
// error, retry or fault) and the links around it; link is the run's
// query.
func spaceTime(res *scenarios.Result, link string, q url.Values) *spaceTimeView {
	v := &spaceTimeView{}
	opt := scenarios.SpaceTimeOptions{Partition: q.Get(stPartition)}
	from, errFrom := parseWindow(q, stFrom)
	to, errTo := parseWindow(q, stTo)
	if err := cmp.Or(errFrom, errTo); err != nil {
		v.Notes = append(v.Notes, err.Error())
	} else {
		opt.From, opt.To = from, to
	}
	if opt.From != nil && opt.To != nil && *opt.To <= *opt.From {
		v.Notes = append(v.Notes, fmt.Sprintf("%s %v is not before %s %v; the default window is drawn", stFrom, *opt.From, stTo, *opt.To))
		opt.From, opt.To = nil, nil
	}
	st, err := res.SpaceTime(opt)
	if err != nil {
		v.Notes = append(v.Notes, webText(err))
		opt.Partition = ""
		if st, err = res.SpaceTime(opt); err != nil {
			v.Notes = append(v.Notes, webText(err))
			return v
		}
	}
	v.SVG = svgOf(plots.SpaceTimeImage(st, plots.SVG))
	v.Why = st.Why
	v.Range = fmt.Sprintf("%s from %s to %s of virtual time", st.Partition, msText(st.FromMs), msText(st.ToMs))
	if link == "" {
		v.Notes = append(v.Notes, "No links to move the window: this pasted scenario is too large for a link (over "+
			fmt.Sprint(maxLinkYAML>>10)+" KiB compressed); draw other windows with simulate plot FILE --partition TOPIC-N --from D --to D, or paste a smaller scenario.")
		return v
	}
	// Windows stay within the run, from 0 to its last event (a window
	// asked for past it is moved as if it ended there).
	fromMs, toMs, end := st.FromMs, st.ToMs, traceEndMs(res)
	if toMs >= end {
		v.End = fmt.Sprintf("the run ended at %s", scenarios.FormatQuantity(end, "ms"))
		if end > fromMs {
			toMs = end
		}
	}
	width := toMs - fromMs
	window := func(p string, from, to float64) string {
		if to > end && end > from {
			to = end
		}
		return "/run?" + link + "&" + url.Values{stPartition: {p}, stFrom: {msText(max(0, from))}, stTo: {msText(to)}}.Encode() + "#spacetime"
	}
	if fromMs > 0 {
		v.Steps = append(v.Steps, stLink{ID: "st-earlier", Label: "← earlier", Href: window(st.Partition, fromMs-width, fromMs)})
	}
	if toMs < end {
		v.Steps = append(v.Steps, stLink{ID: "st-later", Label: "later →", Href: window(st.Partition, toMs, toMs+width)})
	}
	if fromMs > 0 || toMs < end {
		v.Steps = append(v.Steps, stLink{ID: "st-wider", Label: "wider", Href: window(st.Partition, fromMs-width/2, toMs+width/2)})
	}
	v.Steps = append(v.Steps,
		stLink{ID: "st-narrower", Label: "narrower", Href: window(st.Partition, fromMs+width/4, toMs-width/4)},
		stLink{ID: "st-default", Label: "the default window", Href: "/run?" + link + "#spacetime"})
	for _, p := range res.Report.Partitions {
		name := fmt.Sprintf("%s-%d", p.Topic, p.Partition)
		v.Partitions = append(v.Partitions, stLink{Label: name, Href: window(name, st.FromMs, st.ToMs), Current: name == st.Partition})
	}
	return v
}

// parseWindow reads one end of the window (st.from or st.to): nil when
// it is not given.
func parseWindow(q url.Values, key string) (*time.Duration, error) {
	text := q.Get(key)
	if text == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil || d < 0 {
		return nil, fmt.Errorf("%s %q: use a duration of virtual time from 0, such as 1.5s or 800ms; the default window is drawn", key, text)
	}
	return &d, nil
}

// viewQuery is what the query asks to see of the run, as the page's
// links carry it: the space-time window and the anomalies listed
// ("&anomalies=all&st.from=...&st.partition=...&st.to=..." or "").
func viewQuery(q url.Values) string {
	w := url.Values{}
	for _, k := range []string{stPartition, stFrom, stTo, anomaliesKey} {
		if v := q.Get(k); v != "" {
			w.Set(k, v)
		}
	}
	if len(w) == 0 {
		return ""
	}
	return "&" + w.Encode()
}

// msText is a time in ms as a Go duration, to the microsecond.
func msText(ms float64) string {
	return (time.Duration(math.Round(ms*1000)) * time.Microsecond).String()
}

// traceEndMs is the time of the run's last traced event or message, in
// ms: the diagram has nothing to draw past it.
func traceEndMs(res *scenarios.Result) float64 {
	var end float64
	if e := res.Trace.Entries(); len(e) > 0 {
		end = e[len(e)-1].At.Ms()
	}
	if m := res.Trace.Messages(); len(m) > 0 {
		end = max(end, m[len(m)-1].At.Ms())
	}
	return end
}
