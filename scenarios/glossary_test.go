package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGlossaryMatchesLessons: the glossary the binary prints is LESSONS.md's
// Glossary section word for word, and it explains the terms the report's
// last line names.
func TestGlossaryMatchesLessons(t *testing.T) {
	data, err := os.ReadFile("../LESSONS.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "\n## Glossary\n")
	require.True(t, ok, "LESSONS.md has a Glossary section")
	section, _, _ = strings.Cut(section, "\n## ")
	require.NotEmpty(t, glossary)
	assert.True(t, strings.HasSuffix(strings.TrimRight(section, "\n")+"\n", glossary),
		"LESSONS.md's Glossary list differs from scenarios/glossary.md; copy one to the other")

	plain := Glossary()
	assert.NotContains(t, plain, "**")
	for _, term := range []string{"ISR", "high watermark", "log end offset", "last stable offset", "leader epoch",
		"producer id and epoch", "sequence number", "errors seen by the producer"} {
		assert.Contains(t, plain, "- "+term, term)
	}
}
