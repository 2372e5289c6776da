package scenarios

import (
	"embed"
	"fmt"
	"os"
	"path"
	"strings"
)

//go:embed catalog/*.yaml
var catalogFS embed.FS

// Entry is one built-in scenario.
type Entry struct {
	Name  string
	Title string
	Text  []byte // the file as shipped
}

// Catalog lists the built-in scenarios in lesson order: the file names
// start with a number, and ReadDir sorts by name.
func Catalog() []Entry {
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
		out = append(out, Entry{Name: s.Name, Title: s.Title, Text: data})
	}
	return out
}

// Builtin finds a built-in scenario's text by name.
func Builtin(name string) (Entry, bool) {
	for _, e := range Catalog() {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Load reads a built-in scenario by name, or a file by path, applies --set
// overrides and validates the result. A name is tried as a built-in first;
// anything with a slash or a .yaml/.yml/.json suffix is a file.
func Load(nameOrFile string, sets []string) (*Scenario, error) {
	source, data, err := find(nameOrFile)
	if err != nil {
		return nil, err
	}
	return Parse(source, data, sets)
}

func find(nameOrFile string) (string, []byte, error) {
	looksLikeFile := strings.ContainsAny(nameOrFile, `/\`) || strings.HasSuffix(nameOrFile, ".yaml") ||
		strings.HasSuffix(nameOrFile, ".yml") || strings.HasSuffix(nameOrFile, ".json")
	if !looksLikeFile {
		if e, ok := Builtin(nameOrFile); ok {
			return "built-in " + e.Name, e.Text, nil
		}
	}
	data, err := os.ReadFile(nameOrFile)
	if err != nil {
		var names []string
		for _, e := range Catalog() {
			names = append(names, e.Name)
		}
		if looksLikeFile {
			return "", nil, &Error{Source: nameOrFile, Msg: "cannot read the file: " + strings.TrimPrefix(err.Error(), "open "+nameOrFile+": ")}
		}
		return "", nil, &Error{Source: nameOrFile, Msg: "no built-in scenario or file by that name; built-ins: " + strings.Join(names, ", ")}
	}
	return nameOrFile, data, nil
}

// Parse reads and validates a scenario from YAML or JSON text.
func Parse(source string, data []byte, sets []string) (*Scenario, error) {
	s, err := parseScenario(source, data, sets)
	if err != nil {
		return nil, err
	}
	pl, err := s.validate()
	if err != nil {
		return nil, err
	}
	s.plan = pl
	return s, nil
}
