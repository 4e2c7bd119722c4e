package textindex

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopWords is Lucene's English stop-word set (EnglishAnalyzer), which
// Anserini/Pyserini use for their BM25 baselines.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true,
	"but": true, "by": true, "for": true, "if": true, "in": true, "into": true, "is": true,
	"it": true, "no": true, "not": true, "of": true, "on": true, "or": true, "such": true,
	"that": true, "the": true, "their": true, "then": true, "there": true, "these": true,
	"they": true, "this": true, "to": true, "was": true, "will": true, "with": true,
}

// IsStopWord reports whether the lower-case word is an English stop word.
func IsStopWord(w string) bool { return stopWords[w] }

// Analyze turns text into index terms: words are runs of letters, digits
// and marks (a '.' or ',' between two digits, and an apostrophe between two
// letters, stay inside the word), lower-cased, with a trailing possessive
// "'s" removed, stop words dropped and ASCII words Porter-stemmed.
func Analyze(text string) []string {
	var out []string
	Words(text, func(w string) {
		if t := Term(w); t != "" {
			out = append(out, t)
		}
	})
	return out
}

// questionWords are dropped from queries only: the words of a question's
// form ("how do I", "what can you") that say nothing about its topic. In
// documents they stay indexed, so a query made only of them still works
// (AnalyzeQuery falls back to the full analysis).
var questionWords = map[string]bool{
	"how": true, "what": true, "which": true, "who": true, "whom": true, "when": true, "where": true,
	"why": true, "do": true, "does": true, "did": true, "i": true, "me": true, "my": true, "you": true,
	"your": true, "can": true, "could": true, "should": true, "would": true, "have": true, "has": true,
	"had": true, "am": true, "we": true, "our": true, "us": true, "please": true, "tell": true,
}

// AnalyzeQuery is Analyze for a query: it also drops question words (how,
// what, do, I, can, you, ...) unless nothing else is left.
func AnalyzeQuery(text string) []string {
	var out []string
	Words(text, func(w string) {
		if questionWords[strings.ToLower(w)] {
			return
		}
		if t := Term(w); t != "" {
			out = append(out, t)
		}
	})
	if len(out) == 0 {
		return Analyze(text)
	}
	return out
}

// Term normalises one word from Words to its index term, or "" for a stop
// word.
func Term(w string) string {
	w = strings.ToLower(w)
	if strings.HasSuffix(w, "'s") {
		w = w[:len(w)-2]
	}
	w = strings.ReplaceAll(w, "'", "")
	if w == "" || stopWords[w] {
		return ""
	}
	return Stem(w)
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// Words calls fn with each word of text, in order.
func Words(text string, fn func(string)) {
	start := -1
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if r == '’' {
			r = '\''
		}
		in := wordRune(r)
		if !in && start >= 0 && (r == '.' || r == ',' || r == '\'') {
			prev, _ := utf8.DecodeLastRuneInString(text[start:i])
			next, _ := utf8.DecodeRuneInString(text[i+w:])
			if r == '\'' {
				in = unicode.IsLetter(prev) && unicode.IsLetter(next)
			} else {
				in = unicode.IsDigit(prev) && unicode.IsDigit(next)
			}
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			fn(strings.ReplaceAll(text[start:i], "’", "'"))
			start = -1
		}
		i += w
	}
	if start >= 0 {
		fn(strings.ReplaceAll(text[start:], "’", "'"))
	}
}
