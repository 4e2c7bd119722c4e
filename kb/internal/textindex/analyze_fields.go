package textindex

import (
	"hash/maphash"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSubwordRunes bounds the words split into subwords: a longer "word" is
// not a gene, chemical or product name but noise, and splitting it would
// only multiply the work one hostile word costs.
const maxSubwordRunes = 48

// maxSubwords bounds the subword terms one word adds.
const maxSubwords = 8

// Subwords returns the extra index terms of a word that mixes letters and
// digits or changes from lower to upper case: its parts at those
// boundaries, each normalised with Term ("FOXO3a" gives foxo, 3; "miRNAs"
// gives mi, rna; "p16INK4a" gives p, 16, ink, 4). This is the word-delimiter
// analysis Lucene's WordDelimiterGraphFilter performs with the original word
// preserved: a query for "IL6" then meets a document writing "IL-6", and one
// for "FOXO3a" a document about FOXO. It returns nil for a word of one part,
// a stop word, or a word over 48 runes; at most 8 terms, none equal to the
// word's own term.
func Subwords(w string) []string {
	if utf8.RuneCountInString(w) > maxSubwordRunes {
		return nil
	}
	own := Term(w)
	if own == "" {
		return nil
	}
	var out []string
	add := func(part string) {
		t := Term(part)
		if t == "" || t == own || len(out) >= maxSubwords {
			return
		}
		for _, o := range out {
			if o == t {
				return
			}
		}
		out = append(out, t)
	}
	start, prev := 0, -1
	for i, r := range w {
		c := charClass(r)
		if prev >= 0 && c >= 0 && splitBetween(prev, c) {
			add(w[start:i])
			start = i
		}
		if c >= 0 {
			prev = c
		}
	}
	if start == 0 {
		return nil // one part
	}
	add(w[start:])
	return out
}

// Character classes for Subwords; -1 (marks, apostrophes, the '.' or ','
// inside a number) joins the part it is in.
const (
	classDigit = iota
	classUpper
	classLower
)

func charClass(r rune) int {
	switch {
	case unicode.IsDigit(r):
		return classDigit
	case unicode.IsUpper(r):
		return classUpper
	case unicode.IsLetter(r):
		return classLower
	}
	return -1
}

// splitBetween reports whether a part ends between characters of classes a
// and b: at a letter-digit boundary either way, and from lower to upper
// case (not upper to lower: "RNAs" and "Foxo" are one part each).
func splitBetween(a, b int) bool {
	if (a == classDigit) != (b == classDigit) {
		return true
	}
	return a == classLower && b == classUpper
}

// position is one word of analysed text: its term and its subword terms.
type position struct {
	term  string
	parts []string
}

// wordCache remembers the analysis of words (Term and Subwords): a
// corpus's words follow Zipf's law, so most are met again and again. An
// Index analyses records with caches from a pool, so concurrent analyses
// never share one. A stop word is cached with an empty term.
type wordCache map[string]position

// maxCachedWords bounds a wordCache (about a megabyte); a full cache is
// emptied and refilled, so text of unique words costs no more than before.
const maxCachedWords = 8192

// analyzeFields splits text into positions (Words, Term and Subwords),
// through cache when it is not nil; a query also drops question words
// unless nothing else is left.
func analyzeFields(text string, query bool, cache wordCache) []position {
	var out []position
	collect := func(skipQuestions bool) {
		Words(text, func(w string) {
			if skipQuestions && questionWords[strings.ToLower(w)] {
				return
			}
			p, ok := cache[w]
			if !ok {
				if p.term = Term(w); p.term != "" {
					p.parts = Subwords(w)
				}
				if cache != nil {
					if len(cache) >= maxCachedWords {
						clear(cache)
					}
					cache[strings.Clone(w)] = p // not a piece of text, which it would keep alive
				}
			}
			if p.term != "" {
				out = append(out, p)
			}
		})
	}
	collect(query)
	if query && len(out) == 0 {
		collect(false)
	}
	return out
}

// phraseKey is the key of the ordered pair of adjacent terms a, b under
// the index's random seed (so no text can be written to collide with
// another phrase).
func phraseKey(seed maphash.Seed, a, b string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return h.Sum64()
}
