package scenarios

import (
	_ "embed"
	"strings"
)

// glossary is the list of LESSONS.md's Glossary section, word for word (a
// test checks it), so that the binary can print it.
//
//go:embed glossary.md
var glossary string

// Glossary is the words the reports use, as plain text for a terminal:
// the markdown list without its emphasis and code marks.
func Glossary() string {
	return strings.NewReplacer("**", "", "`", "").Replace(glossary)
}
