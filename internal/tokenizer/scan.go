package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes used by the pre-tokenizers.
const (
	clOther   uint8 = iota // [^\s\p{L}\p{N}]
	clLetter               // \p{L}
	clNumber               // \p{N}
	clSpace                // \s other than \r and \n
	clNewline              // \r or \n
)

var asciiClass = func() (t [128]uint8) {
	for c := 0; c < 128; c++ {
		r := rune(c)
		switch {
		case r == '\r' || r == '\n':
			t[c] = clNewline
		case unicode.IsSpace(r):
			t[c] = clSpace
		case unicode.IsLetter(r):
			t[c] = clLetter
		case unicode.IsNumber(r):
			t[c] = clNumber
		default:
			t[c] = clOther
		}
	}
	return t
}()

// class returns the class of the character at s[i] and its width in bytes.
// An invalid byte is one character of class clOther.
func class(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return clOther, 1
	}
	switch {
	case unicode.IsLetter(r):
		return clLetter, w
	case unicode.IsNumber(r):
		return clNumber, w
	case unicode.IsSpace(r):
		return clSpace, w
	}
	return clOther, w
}

func lower(c byte) byte { return c | 0x20 }

// contraction reports the end of (?i:'s|'t|'re|'ve|'m|'ll|'d) at s[i], or -1.
func contraction(s string, i int) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return -1
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return i + 3
		}
	}
	return -1
}

// run returns the end of the run of characters of class k starting at i.
func run(s string, i int, k uint8) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] != k {
				return i
			}
			i++
			continue
		}
		ck, w := class(s, i)
		if ck != k {
			return i
		}
		i += w
	}
	return i
}

// spaceRun returns the end of the run of \s characters starting at i.
func spaceRun(s string, i int) int {
	for i < len(s) {
		k, w := class(s, i)
		if k != clSpace && k != clNewline {
			return i
		}
		i += w
	}
	return i
}

// numbers returns the end of \p{N}{1,3} starting at i (s[i] is a number).
func numbers(s string, i int) int {
	for n := 0; n < 3 && i < len(s); n++ {
		k, w := class(s, i)
		if k != clNumber {
			break
		}
		i += w
	}
	return i
}

// newlines returns the end of [\r\n]* (and '/' too when slash) at i.
func newlines(s string, i int, slash bool) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n' || (slash && s[i] == '/')) {
		i++
	}
	return i
}

// whitespace matches \s*[\r\n]+|\s+(?!\S)|\s+ at i, where s[i] is \s.
func whitespace(s string, i int) int {
	j := spaceRun(s, i)
	for k := j - 1; k >= i; k-- {
		if s[k] == '\n' || s[k] == '\r' {
			return k + 1
		}
	}
	if j == len(s) {
		return j
	}
	_, w := utf8.DecodeLastRuneInString(s[i:j])
	if j-w > i {
		return j - w
	}
	return j
}

// nextCL100K returns the end of the cl100k_base pre-token starting at i:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextCL100K(s string, i int) int {
	if s[i] == '\'' {
		if e := contraction(s, i); e > 0 {
			return e
		}
	}
	k, w := class(s, i)
	switch k {
	case clLetter:
		return run(s, i+w, clLetter)
	case clNumber:
		return numbers(s, i)
	}
	// k is other, space or newline.
	if k != clNewline && i+w < len(s) {
		if k2, w2 := class(s, i+w); k2 == clLetter {
			return run(s, i+w+w2, clLetter)
		}
	}
	if k == clOther {
		return newlines(s, run(s, i+w, clOther), false)
	}
	if s[i] == ' ' && i+1 < len(s) {
		if k2, w2 := class(s, i+1); k2 == clOther {
			return newlines(s, run(s, i+1+w2, clOther), false)
		}
	}
	return whitespace(s, i)
}

// o200k letter classes.
const (
	lcNone  uint8 = iota
	lcUpper       // Lu, Lt
	lcLower       // Ll
	lcBoth        // Lm, Lo, M: in both [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
)

func letterClass(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
		case 'a' <= c && c <= 'z':
			return lcLower, 1
		case 'A' <= c && c <= 'Z':
			return lcUpper, 1
		}
		return lcNone, 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return lcNone, 1
	}
	switch {
	case unicode.Is(unicode.Ll, r):
		return lcLower, w
	case unicode.Is(unicode.Lu, r), unicode.Is(unicode.Lt, r):
		return lcUpper, w
	case unicode.Is(unicode.Lm, r), unicode.Is(unicode.Lo, r), unicode.Is(unicode.M, r):
		return lcBoth, w
	}
	return lcNone, w
}

// lowerRun consumes [\p{Ll}\p{Lm}\p{Lo}\p{M}]* from i.
func lowerRun(s string, i int) int {
	for i < len(s) {
		lc, w := letterClass(s, i)
		if lc != lcLower && lc != lcBoth {
			return i
		}
		i += w
	}
	return i
}

func optContraction(s string, i int) int {
	if i < len(s) && s[i] == '\'' {
		if e := contraction(s, i); e > 0 {
			return e
		}
	}
	return i
}

// o200kWord1 matches [U]*[L]+(?i:contractions)? at p with regex backtracking
// order, or returns -1.
func o200kWord1(s string, p int) int {
	i, lastBothEnd := p, -1
	for i < len(s) {
		lc, w := letterClass(s, i)
		if lc == lcUpper || lc == lcBoth {
			i += w
			if lc == lcBoth {
				lastBothEnd = i
			}
			continue
		}
		if lc == lcLower {
			return optContraction(s, lowerRun(s, i))
		}
		break
	}
	if lastBothEnd < 0 {
		return -1
	}
	return optContraction(s, lastBothEnd)
}

// o200kWord2 matches [U]+[L]*(?i:contractions)? at p, or returns -1.
func o200kWord2(s string, p int) int {
	i := p
	for i < len(s) {
		lc, w := letterClass(s, i)
		if lc != lcUpper && lc != lcBoth {
			break
		}
		i += w
	}
	if i == p {
		return -1
	}
	return optContraction(s, lowerRun(s, i))
}

// nextO200K returns the end of the o200k_base pre-token starting at i:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextO200K(s string, i int) int {
	k, w := class(s, i)
	prefix := k != clLetter && k != clNumber && k != clNewline
	if prefix && i+w < len(s) {
		if e := o200kWord1(s, i+w); e > 0 {
			return e
		}
	}
	if e := o200kWord1(s, i); e > 0 {
		return e
	}
	if prefix && i+w < len(s) {
		if e := o200kWord2(s, i+w); e > 0 {
			return e
		}
	}
	if e := o200kWord2(s, i); e > 0 {
		return e
	}
	switch k {
	case clNumber:
		return numbers(s, i)
	case clOther, clLetter: // a letter here cannot happen; treat as other defensively
		return newlines(s, otherRun(s, i+w), true)
	}
	if s[i] == ' ' && i+1 < len(s) {
		if k2, w2 := class(s, i+1); k2 == clOther {
			return newlines(s, otherRun(s, i+1+w2), true)
		}
	}
	return whitespace(s, i)
}

func otherRun(s string, i int) int { return run(s, i, clOther) }
