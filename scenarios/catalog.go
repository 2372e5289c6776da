package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/kafkasim/kafkasim/producer"
)

//go:embed catalog/*.yaml
var catalogFS embed.FS

// Entry is one built-in scenario.
type Entry struct {
	Name     string
	Title    string
	Question string // what the lesson asks (its question: key)
	Text     []byte // the file as shipped
}

// Catalog lists the built-in scenarios in lesson order: the file names
// start with a number, and ReadDir sorts by name.
func Catalog() []Entry { return slices.Clone(catalog()) }

// catalog parses the built-ins once per process: every Load of a
// built-in looks its name up here, and a sweep loads one per run.
var catalog = sync.OnceValue(func() []Entry {
	files, err := catalogFS.ReadDir("catalog")
	if err != nil {
		panic(err)
	}
	var out []Entry
	for _, f := range files {
		data, err := catalogFS.ReadFile(path.Join("catalog", f.Name()))
		if err != nil {
			panic(err)
		}
		s, err := parseScenario("built-in "+f.Name(), data, nil)
		if err != nil {
			panic(fmt.Sprintf("built-in scenario %s does not parse: %v", f.Name(), err))
		}
		out = append(out, Entry{Name: s.Name, Title: s.Title, Question: s.Question, Text: data})
	}
	return out
})

// Builtin finds a built-in scenario's text by name.
func Builtin(name string) (Entry, bool) {
	for _, e := range catalog() {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Load reads a built-in scenario by name, or a file by path, applies --set
// overrides and validates the result. A name is tried as a built-in first;
// anything with a slash or a .yaml/.yml/.json suffix is a file.
//
// classes are partitioners of your own that the scenario's
// producer.partitioner.class may name besides the built-in ones; they
// belong to this scenario only.
func Load(nameOrFile string, sets []string, classes ...producer.PartitionerClass) (*Scenario, error) {
	source, data, err := find(nameOrFile)
	if err != nil {
		return nil, err
	}
	return Parse(source, data, sets, classes...)
}

func find(nameOrFile string) (string, []byte, error) {
	looksLikeFile := strings.ContainsAny(nameOrFile, `/\`) || strings.HasSuffix(nameOrFile, ".yaml") ||
		strings.HasSuffix(nameOrFile, ".yml") || strings.HasSuffix(nameOrFile, ".json")
	if !looksLikeFile {
		if e, ok := Builtin(nameOrFile); ok {
			return "built-in " + e.Name, e.Text, nil
		}
	}
	data, err := readFile(nameOrFile)
	if errors.Is(err, fs.ErrNotExist) && !looksLikeFile {
		var names []string
		for _, e := range Catalog() {
			names = append(names, e.Name)
		}
		if near := NearLessons(nameOrFile); len(near) > 0 {
			return "", nil, &Error{Source: nameOrFile, Msg: fmt.Sprintf("no built-in scenario or file by that name; did you mean %s? (simulate list shows all %d)",
				strings.Join(near, " or "), len(names))}
		}
		return "", nil, &Error{Source: nameOrFile, Msg: "no built-in scenario or file by that name; built-ins: " + strings.Join(names, ", ")}
	}
	if err != nil {
		return "", nil, &Error{Source: nameOrFile, Msg: err.Error()}
	}
	return nameOrFile, data, nil
}

// maxFileSize bounds a scenario file: the largest lesson is a few KiB.
const maxFileSize = 1 << 20

// readFile reads a scenario file: a regular file of at most maxFileSize
// bytes, so that a device like /dev/zero or a growing file cannot make it
// read for ever.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", errors.Unwrap(err))
	}
	switch {
	case fi.IsDir():
		return nil, errors.New("is a directory; name a scenario file (.yaml, .yml or .json) or a built-in scenario")
	case !fi.Mode().IsRegular():
		return nil, errors.New("is not a regular file; a scenario is read from a file of at most 1 MiB")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", errors.Unwrap(err))
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("is over 1 MiB (%d bytes); a scenario file is at most 1 MiB", max(fi.Size(), int64(len(data))))
	}
	return data, nil
}

// Parse reads and validates a scenario from YAML or JSON text; classes are
// as for Load.
func Parse(source string, data []byte, sets []string, classes ...producer.PartitionerClass) (*Scenario, error) {
	s, err := parseScenario(source, data, sets)
	if err != nil {
		return nil, err
	}
	s.classes = classes
	pl, err := s.validate()
	if err != nil {
		return nil, err
	}
	s.plan = pl
	return s, nil
}

// NearLessons are the built-in lessons a name that is none probably
// meant, at most three: names within a few typing mistakes of it, else
// lessons whose text has its words.
func NearLessons(name string) []string {
	var names []string
	for _, e := range Catalog() {
		names = append(names, e.Name)
	}
	if near := closest(name, names); len(near) > 0 {
		return near
	}
	return lessonsAbout(name)
}

// closest are the names near name, nearest first, at most three: those
// within a few typing mistakes of it (edit distance up to a third of its
// length, at least 2), and those it is a part of ("linger" for
// linger-batching).
func closest(name string, names []string) []string {
	type near struct {
		name string
		dist int
	}
	var found []near
	for _, n := range names {
		d := editDistance(name, n)
		switch {
		case d <= max(2, len(name)/3):
		case len(name) >= 4 && strings.Contains(n, name):
			d = len(n) - len(name)
		default:
			continue
		}
		found = append(found, near{n, d})
	}
	slices.SortStableFunc(found, func(a, b near) int { return a.dist - b.dist })
	var out []string
	for _, f := range found[:min(len(found), 3)] {
		out = append(out, f.name)
	}
	return out
}

// lessonsAbout are the built-in scenarios, at most three in lesson
// order, whose file (title and lesson included) has the words of query as
// a phrase: "elr" and "eligible-leader-replicas" find
// last-replica-standing.
func lessonsAbout(query string) []string {
	words := strings.FieldsFunc(query, func(r rune) bool { return r == '-' || r == '_' || r == '.' || unicode.IsSpace(r) })
	if len(words) == 0 || len(strings.Join(words, "")) < 3 {
		return nil
	}
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	phrase := regexp.MustCompile(`(?i)\b` + strings.Join(words, `[\s#-]+`) + `\b`)
	var found []string
	for _, e := range Catalog() {
		if phrase.Match(e.Text) && len(found) < 3 {
			found = append(found, e.Name)
		}
	}
	return found
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
