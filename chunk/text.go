package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Boundary levels, weakest first. A boundary at position p means a chunk may
// end before p (trailing white space trimmed) and the next start at p.
const (
	lvGrapheme = iota
	lvWord
	lvLine
	lvSentence
	lvItem
	lvBlock
	lvHard // page or section start: chunks never span it
)

type boundary struct {
	pos   int32
	level uint8
}

// isSpace reports a breaking white-space character (no-break spaces are not).
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' || r == '\v'
	}
	switch r {
	case 0xA0, 0x2007, 0x202F, 0xFEFF:
		return false
	}
	return unicode.IsSpace(r)
}

// spaceAt returns whether s[i] starts a breaking space and its width.
func spaceAt(s string, i int) (bool, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v', 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return isSpace(r), w
}

// trimRight returns the end of s[a:b] without trailing white space.
func trimRight(s string, a, b int) int {
	for b > a {
		c := s[b-1]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v' {
				b--
				continue
			}
			return b
		}
		r, w := utf8.DecodeLastRuneInString(s[a:b])
		if !isSpace(r) {
			return b
		}
		b -= w
	}
	return b
}

// trimLeft returns the start of s[a:b] without leading white space. A space
// that begins a grapheme cluster (a space followed by a combining mark) is
// kept.
func trimLeft(s string, a, b int) int {
	a0 := a
	for a < b {
		sp, w := spaceAt(s, a)
		if !sp {
			break
		}
		a += w
	}
	for a > a0 && a < b && s[a] >= utf8.RuneSelf && !isGraphemeBoundary(s, a) {
		_, w := utf8.DecodeLastRuneInString(s[a0:a])
		a -= w
	}
	return a
}

// isGraphemeBoundary reports whether a grapheme cluster boundary lies at i.
func isGraphemeBoundary(s string, i int) bool {
	if i <= 0 || i >= len(s) {
		return true
	}
	if s[i-1] < utf8.RuneSelf && s[i] < utf8.RuneSelf {
		return !(s[i-1] == '\r' && s[i] == '\n')
	}
	// Find a known boundary before i: between two ASCII characters (other
	// than CR LF), at most 128 bytes back; otherwise start of text.
	k := 0
	for j := i - 1; j > 0 && j > i-128; j-- {
		if s[j] < utf8.RuneSelf && s[j-1] < utf8.RuneSelf && !(s[j-1] == '\r' && s[j] == '\n') {
			k = j
			break
		}
	}
	state := -1
	for k < i {
		var cluster string
		cluster, _, _, state = uniseg.FirstGraphemeClusterInString(s[k:], state)
		k += len(cluster)
	}
	return k == i
}

// graphemeBounds appends the grapheme cluster boundaries in (a, b] to dst.
func graphemeBounds(dst []int, s string, a, b int) []int {
	state := -1
	for i := a; i < b; {
		if s[i] < utf8.RuneSelf && (i+1 >= len(s) || s[i+1] < utf8.RuneSelf) && s[i] != '\r' {
			i++
			state = -1
		} else {
			var cluster string
			cluster, _, _, state = uniseg.FirstGraphemeClusterInString(s[i:], state)
			i += len(cluster)
		}
		if i > b {
			i = b
		}
		dst = append(dst, i)
	}
	return dst
}

var abbreviations = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`mr mrs ms dr prof sr jr st vs etc eg ie cf al fig figs no nos vol vols pp p
		inc ltd co corp dept est approx ca min max jan feb mar apr jun jul aug sep sept oct nov dec
		mon tue wed thu fri sat sun gen col lt sgt capt rev hon mt ft ave blvd rd u.s e.g i.e a.m p.m
		op ed eds ch sec art vs. viz resp incl excl esp govt ph.d`) {
		m[w] = true
	}
	return m
}()

var closers = ")]}\"'”’»"

// plainByte marks ASCII bytes that are not white space.
var plainByte = func() (t [256]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = !(c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
	}
	return t
}()

// maybeEnd marks the ASCII bytes that can end a sentence (before closers).
var maybeEnd = func() (t [256]bool) {
	for _, c := range []byte(".!?)]}\"'") {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true // non-ASCII: decide slowly
	}
	return t
}()

// sentenceEnd reports whether the text before the white space at i ends a
// sentence, given the character that follows the white space at j.
func sentenceEnd(s string, i, j int) bool {
	if i == 0 || !maybeEnd[s[i-1]] {
		return false
	}
	k := i
	for k > 0 && strings.IndexByte(closers, s[k-1]) >= 0 {
		k--
	}
	for k > 0 { // closing quotes outside ASCII
		r, w := utf8.DecodeLastRuneInString(s[:k])
		if r != '”' && r != '’' && r != '»' {
			break
		}
		k -= w
	}
	if k == 0 {
		return false
	}
	r, w := utf8.DecodeLastRuneInString(s[:k])
	switch r {
	case '!', '?', '…', '。', '！', '？':
	case '.':
		// The word before the period.
		ws := k - w
		for ws > 0 {
			c := s[ws-1]
			if c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
				ws--
				continue
			}
			break
		}
		word := s[ws : k-w]
		if len(word) == 1 && word[0] >= 'A' && word[0] <= 'Z' {
			return false // an initial: "J. Smith"
		}
		if strings.Contains(word, ".") || (len(word) <= 5 && abbreviations[strings.ToLower(word)]) {
			return false
		}
	default:
		return false
	}
	if j < len(s) {
		nr, _ := utf8.DecodeRuneInString(s[j:])
		if unicode.IsLower(nr) {
			return false // "e.g. this", "approx. ten": a lower-case word continues the sentence
		}
	}
	return true
}

// boundaries appends the break opportunities of s[a:b] to dst: the starts of
// non-space characters that follow white space, with their level; and, for
// CJK full stops followed directly by text, the position after the stop.
// Positions that would split a grapheme cluster are dropped.
func boundaries(dst []boundary, s string, a, b int, sentences bool) []boundary {
	i := a
	for i < b {
		for i < b && plainByte[s[i]] { // fast path: ASCII non-space
			i++
		}
		if i >= b {
			break
		}
		c := s[i]
		var sp bool
		w := 1
		if c < utf8.RuneSelf {
			sp = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
		} else {
			var r rune
			r, w = utf8.DecodeRuneInString(s[i:])
			sp = isSpace(r)
			if !sp && sentences && (r == '。' || r == '！' || r == '？') && i+w < b {
				if nsp, _ := spaceAt(s, i+w); !nsp && isGraphemeBoundary(s, i+w) {
					dst = append(dst, boundary{int32(i + w), lvSentence})
				}
			}
		}
		if !sp {
			i += w
			continue
		}
		// White-space run [i, j).
		j, nl := i, 0
		for j < b {
			c := s[j]
			if c == '\n' {
				nl++
				j++
				continue
			}
			if c < utf8.RuneSelf {
				if plainByte[c] {
					break
				}
				j++
				continue
			}
			isp, w := spaceAt(s, j)
			if !isp {
				break
			}
			j += w
		}
		if j < b && i > a {
			lv := uint8(lvWord)
			switch {
			case nl >= 2:
				lv = lvBlock
			case sentences && sentenceEnd(s, i, j):
				lv = lvSentence
			case nl == 1:
				lv = lvLine
			}
			if s[j] < utf8.RuneSelf || isGraphemeBoundary(s, j) {
				dst = append(dst, boundary{int32(j), lv})
			}
		}
		i = j
	}
	return dst
}
