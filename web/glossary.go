package web

import (
	"net/http"
	"strings"

	"github.com/kafkasim/kafkasim/scenarios"
)

// term is one word of the glossary and what it means.
type term struct{ Word, Meaning string }

// glossaryTerms are scenarios.Glossary's entries: each "- word: meaning"
// with its wrapped lines joined, for the browser to wrap.
func glossaryTerms() []term {
	var terms []term
	for _, item := range strings.Split("\n"+scenarios.Glossary(), "\n- ")[1:] {
		word, meaning, _ := strings.Cut(item, ": ")
		terms = append(terms, term{Word: word, Meaning: strings.Join(strings.Fields(meaning), " ")})
	}
	return terms
}

func (s *Server) glossary(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusOK, "glossary.html", struct{ Terms []term }{s.terms})
}
