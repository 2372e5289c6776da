package main

import (
	"io"

	"github.com/kafkasim/kafkasim/scenarios"
)

// cmdGlossary prints the glossary the reports point to; help glossary
// prints it too, under the usage line.
func cmdGlossary(args []string, out, _ io.Writer) error {
	fs := newFlags("glossary")
	if err := parseFlags(fs, args); err != nil {
		if _, ok := err.(*helpShown); ok {
			return &helpShown{"\n" + scenarios.Glossary()}
		}
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{"glossary takes no arguments"}
	}
	_, err := io.WriteString(out, scenarios.Glossary())
	return err
}
