package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kafkasim/kafkasim/broker"
)

// ExpectResult is one evaluated expectation.
type ExpectResult struct {
	Path string  `json:"path"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	OK   bool    `json:"ok"`
}

type condition struct {
	op  string
	num float64
}

// parseCondition reads "0", "> 0", ">= 1", "!= 3", ...
func parseCondition(s string) (condition, error) {
	s = strings.TrimSpace(s)
	c := condition{op: "=="}
	for _, op := range []string{"==", "!=", ">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(s, op); ok {
			c.op, s = op, strings.TrimSpace(rest)
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return c, fmt.Errorf("condition must be a number, optionally after ==, !=, >, >=, < or <=, like 0 or \"> 0\"")
	}
	c.num = n
	return c, nil
}

func (c condition) holds(v float64) bool {
	switch c.op {
	case "!=":
		return v != c.num
	case ">":
		return v > c.num
	case ">=":
		return v >= c.num
	case "<":
		return v < c.num
	case "<=":
		return v <= c.num
	}
	return v == c.num
}

// isErrorPath reports whether path is errors.<a Kafka error name>: a run
// reports the errors it met, and any may be expected.
func isErrorPath(path string) bool {
	name, ok := strings.CutPrefix(path, "errors.")
	_, known := broker.ParseError(name)
	return ok && known && name != "NONE"
}

func (s *Scenario) validateExpect(pl *plan) error {
	for _, e := range s.Expect {
		key := "expect." + e.Path
		if err := pl.checkPath(e.Path); err != nil {
			return s.errAt(key, "%s", err.Error())
		}
		if _, err := parseCondition(e.Want); err != nil {
			return s.errAt(key, "%s", err.Error())
		}
	}
	return nil
}

// evaluate checks every expectation against the report.
// A path the report does not hold (no such error, no transactions) is 0.
func (s *Scenario) evaluate(r *Report) {
	numbers := map[string]float64{}
	r.Numbers(func(path string, v float64) { numbers[path] = v })
	for _, e := range s.Expect {
		c, _ := parseCondition(e.Want)
		got := numbers[e.Path]
		r.Expectations = append(r.Expectations, ExpectResult{Path: e.Path, Want: strings.TrimSpace(e.Want), Got: got, OK: c.holds(got)})
	}
}
