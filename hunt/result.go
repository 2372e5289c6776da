package hunt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/kafkasim/kafkasim/scenarios"
)

// Result is a hunt's answer, or one shard's part of it: what `--format
// json` prints and --out writes, and what merge reads.
type Result struct {
	HuntSeed     uint64   `json:"hunt_seed"`
	Property     string   `json:"property"`
	Scenario     string   `json:"scenario"` // the name or file the hunt was given
	Sets         []string `json:"sets,omitempty"`
	ScenarioHash string   `json:"scenario_hash"`
	// Build identifies the simulator that ran it: another build may draw
	// or judge schedules otherwise, so merge takes one build's shards.
	Build  string `json:"build"`
	Budget int    `json:"budget"`
	Shard  string `json:"shard"`
	// Tried is the number of schedules tried: up to and including the
	// lowest violating one, or all the search covered.
	Tried int `json:"schedules_tried"`
	// Outside counts schedules that broke the property only with faults
	// beyond what Kafka promises it under, by reason, among those tried
	// when none violated it.
	Outside   []OutsideCount `json:"outside_promise,omitempty"`
	Violation *Violation     `json:"violation,omitempty"`
	// Unchecked lists, for a merged violation, the shards that did not
	// run all their indices below it (shards with --time cover different
	// prefixes): until they do, a lower index may violate too.
	Unchecked []string `json:"unchecked_shards,omitempty"`
	// Shrunk is the violation made minimal (a whole hunt's answer; a
	// shard leaves it to merge).
	Shrunk *Shrunk `json:"shrunk,omitempty"`
}

// OutsideCount is how many schedules broke the property only with one
// kind of fault beyond what Kafka promises it under.
type OutsideCount struct {
	Reason    string `json:"reason"` // one of scenarios.HuntOutside
	Schedules int    `json:"schedules"`
	First     int    `json:"first"` // the lowest such schedule's index
	// Indices are those schedules, in increasing order: merge counts
	// only those below what every shard ran.
	Indices []int `json:"indices"`
}

// outsideCounts lists the nonzero counts by reason, in
// scenarios.HuntOutside's order, of the schedules below end.
func outsideCounts(by [][]int, end int) []OutsideCount {
	var out []OutsideCount
	for i, all := range by {
		below := all[:sortedBelow(all, end)]
		if len(below) > 0 {
			out = append(out, OutsideCount{scenarios.HuntOutside[i], len(below), below[0], below})
		}
	}
	return out
}

// sortedBelow is how many of the increasing indices are below end.
func sortedBelow(indices []int, end int) int {
	n, _ := slices.BinarySearch(indices, end)
	return n
}

// Violation is the lowest violating schedule.
type Violation struct {
	Index    int    `json:"index"`
	Faults   int    `json:"faults"`
	Schedule string `json:"schedule"` // the scenario file that reproduces it
}

// Shrunk is the violating schedule after shrinking.
type Shrunk struct {
	Faults   int    `json:"faults"`
	Records  int    `json:"records"`
	Brokers  int    `json:"brokers"`
	Runs     int    `json:"runs"`    // the runs shrinking took
	Minimal  bool   `json:"minimal"` // no single fault can be removed
	Schedule string `json:"schedule"`

	report   *scenarios.Report
	schedule scenarios.Schedule
}

// Options are how a hunt's scenario was given, for its result.
type Options struct {
	Scenario string
	Sets     []string
}

// NewResult is a search's result, before shrinking.
func NewResult(s *Search, o Options, f Found) *Result {
	h := s.Hunt
	r := &Result{HuntSeed: h.Seed, Property: h.Property.Name, Scenario: o.Scenario, Sets: o.Sets, ScenarioHash: h.Hash(),
		Build: Build(), Budget: s.Budget, Shard: s.Shard.String(), Tried: f.Tried, Outside: outsideCounts(f.Outside, math.MaxInt)}
	if f.Violation >= 0 {
		// As merged shards give it: they tried different schedules past
		// the violation, so its answer says nothing of the others.
		r.Outside = nil
		sched := h.Draw(f.Violation)
		r.Violation = &Violation{Index: f.Violation, Faults: sched.Faults(), Schedule: string(h.YAML(sched))}
	}
	return r
}

// ShrinkBudget bounds the runs shrinking takes.
const ShrinkBudget = 400

// Shrink makes the result's violation minimal, running each step's
// variants on parallel workers; smaller, if set, hears of each smaller
// violating schedule found on the way (for an interrupt), and ran, if
// set, of each run (from the workers, calls may overlap). The shrunk schedule's full run must violate as its
// judged runs did: an error says it did not.
func (r *Result) Shrink(h *scenarios.Hunt, parallel int, smaller func(yaml string), ran func()) error {
	if r.Violation == nil {
		return nil
	}
	first := func(ss []scenarios.Schedule) int {
		k := firstViolating(h, ss, parallel, ran)
		if k >= 0 && smaller != nil {
			smaller(string(h.YAML(ss[k])))
		}
		return k
	}
	small, runs, minimal := h.Shrink(h.Draw(r.Violation.Index), ShrinkBudget, first)
	t := h.Try(small)
	if !t.Violated {
		return fmt.Errorf("hunt: schedule %d shrunk to a schedule whose full run does not violate %s; its judged runs did (a bug)", r.Violation.Index, h.Property.Name)
	}
	r.Shrunk = &Shrunk{Faults: small.Faults(), Records: small.Records(), Brokers: small.Brokers(), Runs: runs, Minimal: minimal,
		Schedule: string(h.Counterexample(small, t.Result.Report)), report: t.Result.Report, schedule: small}
	return nil
}

// Merge combines the results of the shards of one hunt into the answer
// one machine gives: the lowest violating index over the shards. Every
// shard of the split must be there, once. Shard I of N covered the
// indices I, I+N, ... up to I+(Tried-1)N; with --time the shards cover
// different prefixes, so the lowest violation found is the answer only
// if every other shard ran all its indices below it (else Unchecked
// names those that must run further), and with none the answer covers
// the indices every shard ran.
func Merge(parts []*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge needs the result files of a hunt's shards")
	}
	first := parts[0]
	of := 0
	if _, err := fmt.Sscanf(first.Shard, "%d/%d", new(int), &of); err != nil || of < 1 {
		return nil, fmt.Errorf("merge: shard %q: expected I/N", first.Shard)
	}
	seen := make([]bool, of)
	covered := make([]int, of) // shard i ran all its indices below covered[i]
	outside := make([][]int, len(scenarios.HuntOutside))
	m := &Result{HuntSeed: first.HuntSeed, Property: first.Property, Scenario: first.Scenario, Sets: first.Sets,
		ScenarioHash: first.ScenarioHash, Build: first.Build, Budget: first.Budget, Shard: Whole.String()}
	for _, p := range parts {
		sh, err := ParseShard(p.Shard)
		if err != nil {
			return nil, fmt.Errorf("merge: %v", err)
		}
		switch {
		case p.HuntSeed != first.HuntSeed || p.Property != first.Property || p.ScenarioHash != first.ScenarioHash || p.Budget != first.Budget:
			return nil, fmt.Errorf("merge: shard %s is of another hunt (seed %d, %s, scenario %s, %s) than shard %s (seed %d, %s, scenario %s, %s)",
				p.Shard, p.HuntSeed, p.Property, p.ScenarioHash, budgetWords(p.Budget), first.Shard, first.HuntSeed, first.Property, first.ScenarioHash, budgetWords(first.Budget))
		case p.Build != first.Build:
			return nil, fmt.Errorf("merge: shard %s ran on another simulate build (%s) than shard %s (%s); run every shard on one build", p.Shard, p.Build, first.Shard, first.Build)
		case sh.Of != of:
			return nil, fmt.Errorf("merge: shard %s splits the hunt in %d, shard %s in %d", p.Shard, sh.Of, first.Shard, of)
		case seen[sh.Index]:
			return nil, fmt.Errorf("merge: shard %s given twice", p.Shard)
		}
		seen[sh.Index] = true
		covered[sh.Index] = min(sh.Index+p.Tried*of, p.Budget)
		for _, o := range p.Outside {
			i := slices.Index(scenarios.HuntOutside, o.Reason)
			if i < 0 {
				return nil, fmt.Errorf("merge: shard %s: unknown reason %q; this simulate knows %s", p.Shard, o.Reason, strings.Join(scenarios.HuntOutside, ", "))
			}
			outside[i] = append(outside[i], o.Indices...)
		}
		if p.Violation != nil && (m.Violation == nil || p.Violation.Index < m.Violation.Index) {
			m.Violation = p.Violation
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return nil, fmt.Errorf("merge: shard %d/%d is missing; give every shard's result", i, of)
	}
	if m.Violation == nil {
		// The indices every shard ran: below the least of their reaches.
		// With --time a shard may have run further: what it met past
		// that point is not part of the answer.
		m.Tried = slices.Min(covered)
		for _, all := range outside {
			slices.Sort(all)
		}
		m.Outside = outsideCounts(outside, m.Tried)
		return m, nil
	}
	// One machine stops at the lowest violating index: the schedules it
	// tried are those up to it. Schedules the shards tried past it do not
	// count, nor do their outside ones.
	v := m.Violation.Index
	m.Tried = v + 1
	for i, c := range covered {
		if c < v {
			m.Unchecked = append(m.Unchecked, Shard{i, of}.String())
		}
	}
	return m, nil
}

// budgetWords is a hunt's budget for people: --time runs have none.
func budgetWords(b int) string {
	if b == MaxBudget {
		return "--time"
	}
	return fmt.Sprintf("budget %d", b)
}

// Build identifies this simulate: a digest of its executable (the same
// source builds the same bytes), or "unknown".
var Build = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	f, err := os.Open(exe)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
})

// ReadResult reads one --out file or --format json output.
func ReadResult(r io.Reader) (*Result, error) {
	var res Result
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		return nil, err
	}
	if res.Property == "" || res.Shard == "" {
		return nil, fmt.Errorf("not a hunt result: no property or shard")
	}
	return &res, nil
}

// WriteJSON writes the result as JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the answer for people: the counterexample, minimal,
// as a scenario file, its report with the violating records explained,
// and the number of schedules tried; or that none violated.
func (r *Result) WriteText(w io.Writer, h *scenarios.Hunt) error {
	var b strings.Builder
	fmt.Fprintf(&b, "hunt %s (%s) on %s, hunt seed %d\n", r.Property, h.Property.Says, h.Name, r.HuntSeed)
	if r.Violation == nil {
		fmt.Fprintf(&b, "no violation in %s", count(r.Tried, "schedule"))
		if len(r.Outside) > 0 {
			total := 0
			var why []string
			for _, o := range r.Outside {
				total += o.Schedules
				why = append(why, fmt.Sprintf("%d with %s (first: schedule %d)", o.Schedules, o.Reason, o.First))
			}
			fmt.Fprintf(&b, "; %d of them broke it only with faults beyond what Kafka promises it under: %s", total, strings.Join(why, ", "))
		}
		b.WriteString("\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(r.Unchecked) > 0 {
		fmt.Fprintf(&b, "violated by schedule %d, provisionally: shard %s did not run all its schedules below %d, one of which may violate too; run it further (a longer --time) and merge again\n",
			r.Violation.Index, strings.Join(r.Unchecked, ", "), r.Violation.Index)
	} else {
		fmt.Fprintf(&b, "violated by schedule %d, found after %s\n", r.Violation.Index, count(r.Tried, "schedule"))
	}
	if s := r.Shrunk; s != nil {
		minimal := "no single fault can be removed"
		if !s.Minimal {
			minimal = fmt.Sprintf("the shrink budget of %d runs ran out: a fault may still be removable", ShrinkBudget)
		}
		records := count(s.Records, "record")
		if s.Records == 0 {
			records = "records for the whole duration"
		}
		fmt.Fprintf(&b, "shrunk in %s to %s (of %d), %s and %s (%s)\n", count(s.Runs, "run"), count(s.Faults, "fault"), r.Violation.Faults,
			records, count(s.Brokers, "broker"), minimal)
		b.WriteString("\n# the minimal scenario: save it as a file; simulate run FILE reproduces it\n")
		b.WriteString(s.Schedule)
		b.WriteString("\n# its report\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		return s.report.WriteText(w, h.Title)
	}
	b.WriteString("\n# the violating scenario (not shrunk)\n")
	b.WriteString(r.Violation.Schedule)
	_, err := io.WriteString(w, b.String())
	return err
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
