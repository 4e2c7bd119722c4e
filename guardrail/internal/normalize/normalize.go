// Package normalize folds text into the canonical form the guardrail matches
// against, and keeps a map from every byte of the folded text back to the
// byte range of the original text it came from, so that a match found in the
// folded text can be masked in the original.
//
// Both foldings apply Unicode NFKC (golang.org/x/text/unicode/norm), remove
// format characters (zero-width, bidi controls, soft hyphen, variation
// selectors), map every decimal digit of any script (Unicode Nd: Arabic-Indic,
// Devanagari, ...) to its ASCII digit and every dash (Unicode Pd: en dash,
// U+2011 non-breaking hyphen, ..., and minus signs) to '-'.
//
// Full folding then removes combining marks (diacritics), lower-cases, folds
// look-alike letters to Latin ones (Unicode TR39 confusables, see
// confusables.go), collapses whitespace, folds leetspeak inside words (h3ll0,
// sh!t) and spelled-out words (s.p.a.c.e.d, s p a c e d).
//
// Basic folding keeps case, digits and punctuation and is what the PII
// detectors read. Besides the common steps it folds dot- and slash-like
// marks to '.' and '/', and look-alike letters in tokens that mix them with
// ASCII letters or digits or consist of them only (jаne@exаmple.com with
// Cyrillic а); it never turns a letter into a digit.
//
// Both foldings are idempotent: Full(Full(s).String()) equals Full(s), and
// likewise for Basic. Both are linear in the length of the input.
package normalize

import (
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text is folded text with its map back to the original.
type Text struct {
	s     string
	start []int32 // start[i]: original offset where folded byte i's source begins
	end   []int32 // end[i]: original offset where folded byte i's source ends
	n     int     // length of the original
	// identity: the folded text is the original (start and end are nil).
	identity bool
}

// String returns the folded text.
func (t *Text) String() string { return t.s }

// Len returns the length in bytes of the folded text.
func (t *Text) Len() int { return len(t.s) }

// Span maps the folded byte range [a, b) to the smallest original byte range
// that produced it. An empty range maps to an empty range at the original
// position of a.
func (t *Text) Span(a, b int) (int, int) {
	if a < 0 {
		a = 0
	}
	if b > len(t.s) {
		b = len(t.s)
	}
	if a >= len(t.s) {
		return t.n, t.n
	}
	if t.identity {
		return a, max(a, b)
	}
	if b <= a {
		s := int(t.start[a])
		return s, s
	}
	return int(t.start[a]), int(t.end[b-1])
}

type item struct {
	r    rune
	s, e int32
}

// Full folds s with every step (see the package doc).
func Full(s string) *Text { return fold(s, true) }

// Basic folds s with NFKC and format-character removal only; case, digits and
// punctuation are kept.
func Basic(s string) *Text { return fold(s, false) }

// itemPool recycles the scratch item slices of fold.
var itemPool = sync.Pool{New: func() any { return new([]item) }}

func fold(s string, full bool) *Text {
	if !full && isPlainASCII(s) {
		return &Text{s: s, n: len(s), identity: true}
	}
	buf := itemPool.Get().(*[]item)
	defer itemPool.Put(buf)
	items := (*buf)[:0]
	if cap(items) < len(s) {
		items = make([]item, 0, len(s))
	}
	defer func() { *buf = items[:0] }()
	if isASCII(s) {
		items = appendASCII(items, s, full)
	} else {
		items = appendNFKC(items, s, full)
	}
	if full {
		items = collapseSpace(items)
		items = leet(items)
		items = separators(items)
	} else {
		foldLookalikeTokens(items)
	}
	if cap(items) > 1<<16 {
		defer func() { items = nil }() // do not keep huge buffers alive
	}
	return encode(items, len(s))
}

// appendASCII appends the items of an ASCII s: lower-cased when full,
// control characters other than tab and line breaks removed (full) or
// made spaces.
func appendASCII(items []item, s string, full bool) []item {
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		if full && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			if !full {
				c = ' '
			} else {
				continue
			}
		}
		items = append(items, item{c, int32(i), int32(i + 1)})
	}
	return items
}

// appendNFKC appends the items of s in NFKC, without format characters
// (and the marks that followed them), each mapped to the input it came
// from.
func appendNFKC(items []item, s string, full bool) []item {
	var it norm.Iter
	it.InitString(norm.NFKC, s)
	// The iterator may return part of a decomposition (¼ -> 1 ⁄ 4)
	// before it moves past the input; such output belongs to the input
	// consumed next, so that every folded byte maps to a non-empty range.
	pending := -1
	orphan := false
	for !it.Done() {
		p0 := it.Pos()
		seg := it.Next()
		p1 := it.Pos()
		n0 := len(items)
		for len(seg) > 0 {
			r, sz := utf8.DecodeRune(seg)
			seg = seg[sz:]
			// Marks that followed a removed format character are removed
			// too: kept, they would combine with the character before it
			// when the folded text is folded again.
			if invisible(r) {
				orphan = true
				continue
			}
			if orphan && unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) {
				continue
			}
			orphan = false
			items = appendRune(items, r, int32(p0), int32(p1), full)
		}
		if p1 == p0 {
			if pending < 0 {
				pending = n0
			}
			continue
		}
		if pending >= 0 {
			for k := pending; k < n0; k++ {
				items[k].e = int32(p1)
			}
			pending = -1
		}
	}
	if pending >= 0 {
		for k := pending; k < len(items); k++ {
			items[k].e = int32(len(s))
		}
	}
	return items
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isPlainASCII reports whether s is ASCII without control characters other
// than tab, newline and carriage return: Basic leaves such text unchanged.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// invisible reports format characters that render as nothing: zero-width
// spaces and joiners, bidi controls, soft hyphen, variation selectors, tags.
func invisible(r rune) bool {
	switch {
	case r == 0xAD, r == 0x34F, r == 0x180E, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

func appendRune(items []item, r rune, s, e int32, full bool) []item {
	if invisible(r) {
		return items
	}
	if unicode.IsSpace(r) {
		if r != '\n' && r != '\r' && r != '\t' {
			r = ' '
		}
		return append(items, item{r, s, e})
	}
	if unicode.IsControl(r) {
		if full {
			return items
		}
		return append(items, item{' ', s, e})
	}
	if r >= utf8.RuneSelf {
		if d, ok := DigitValue(r); ok {
			return append(items, item{'0' + rune(d), s, e})
		}
		if isDash(r) {
			return append(items, item{'-', s, e})
		}
	}
	if !full {
		if r >= utf8.RuneSelf {
			if m := basicPunct(r); m != 0 {
				r = m
			}
		}
		return append(items, item{r, s, e})
	}
	if r < utf8.RuneSelf {
		return append(items, item{unicode.ToLower(r), s, e})
	}
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) {
		return items
	}
	// Strip diacritics: decompose and keep the non-mark runes.
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	d := norm.NFD.Bytes(buf[:n])
	for len(d) > 0 {
		c, sz := utf8.DecodeRune(d)
		d = d[sz:]
		if unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Me, c) {
			continue
		}
		c = unicode.ToLower(c)
		if m := confusable(c); m != 0 {
			c = m
		}
		items = append(items, item{c, s, e})
	}
	return items
}

func isSpace(r rune) bool { return r == ' ' || r == '\n' || r == '\r' || r == '\t' }

// collapseSpace turns each run of whitespace into one space.
func collapseSpace(items []item) []item {
	out := items[:0]
	for _, it := range items {
		if isSpace(it.r) {
			if n := len(out); n > 0 && out[n-1].r == ' ' {
				out[n-1].e = it.e
				continue
			}
			it.r = ' '
		}
		out = append(out, it)
	}
	return out
}

var leetDigits = [128]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g'}
var leetSymbols = [128]rune{'@': 'a', '$': 's', '!': 'i', '|': 'l', '+': 't'}

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

// isSepASCII marks the ASCII separators of isSep.
var isSepASCII = [utf8.RuneSelf]bool{' ': true, '.': true, '-': true, '_': true, '*': true, '~': true, '/': true, ',': true}

// leet folds digits inside words that also hold letters (h3ll0 -> hello) and
// the symbols @ $ ! | + when a letter follows them (sh!t, $hit).
func leet(items []item) []item {
	for i := 0; i < len(items); {
		if items[i].r == ' ' {
			i++
			continue
		}
		j := i
		hasLetter, hasLeet := false, false
		for j < len(items) && items[j].r != ' ' {
			r := items[j].r
			if isLetter(r) {
				hasLetter = true
			} else if r < 128 && (leetDigits[r] != 0 || leetSymbols[r] != 0) {
				hasLeet = true
			}
			j++
		}
		if hasLetter && hasLeet {
			for k := i; k < j; k++ {
				if r := items[k].r; r < 128 && leetDigits[r] != 0 {
					items[k].r = leetDigits[r]
				}
			}
			for k := j - 1; k >= i; k-- {
				r := items[k].r
				if r < 128 && leetSymbols[r] != 0 && k+1 < j && isLetter(items[k+1].r) {
					items[k].r = leetSymbols[r]
				}
			}
		}
		i = j
	}
	return items
}

func isSep(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0 && isSepASCII[r]
	}
	switch r {
	case ' ', '.', '-', '_', '*', '~', '·', '•', '/', ',':
		return true
	}
	return false
}

// separators joins three or more single letters separated by exactly one
// separator character each: "s.p.a.c.e" and "s p a c e" become "space".
func separators(items []item) []item {
	n := len(items)
	single := func(k int) bool { // items[k] is a letter standing alone between separators
		if k < 0 || k >= n || k > 0 && !isSep(items[k-1].r) {
			return false
		}
		return isLetter(items[k].r) && (k+1 >= n || isSep(items[k+1].r))
	}
	// In place: out never overtakes i, and items[i-1] is overwritten only
	// while out is still an unchanged copy of items. Until the first run is
	// folded, out is items[:i] already and nothing is copied.
	i := 0
	for ; i < n; i++ {
		if single(i) {
			j, count := i, 1
			for j+2 < n && isSep(items[j+1].r) && single(j+2) {
				j += 2
				count++
			}
			if count >= 3 {
				break
			}
		}
	}
	if i == n {
		return items
	}
	out := items[:i]
	for i < n {
		if single(i) {
			j := i // j: last letter of the run
			count := 1
			for j+2 < n && isSep(items[j+1].r) && single(j+2) {
				j += 2
				count++
			}
			if count >= 3 {
				for k := i; k <= j; k += 2 {
					out = append(out, items[k])
				}
				i = j + 1
				continue
			}
		}
		out = append(out, items[i])
		i++
	}
	return out
}

func encode(items []item, n int) *Text {
	size := 0
	ascii := true
	for _, it := range items {
		if it.r >= utf8.RuneSelf {
			ascii = false
			l := utf8.RuneLen(it.r)
			if l < 0 {
				l = 3 // an invalid rune encodes as U+FFFD
			}
			size += l
		} else {
			size++
		}
	}
	var b strings.Builder // its String does not copy
	b.Grow(size)
	start := make([]int32, size)
	end := make([]int32, size)
	if ascii {
		for i, it := range items {
			b.WriteByte(byte(it.r))
			start[i], end[i] = it.s, it.e
		}
		return &Text{s: b.String(), start: start, end: end, n: n}
	}
	k := 0
	for _, it := range items {
		l, _ := b.WriteRune(it.r)
		for j := k; j < k+l; j++ {
			start[j], end[j] = it.s, it.e
		}
		k += l
	}
	return &Text{s: b.String(), start: start[:k], end: end[:k], n: n}
}

// DigitValue returns the value of r if it is a decimal digit (Unicode
// category Nd) of any script: Arabic-Indic ٣, Devanagari ३, Bengali ৩ and
// so on. Unicode encodes every such digit set as ten contiguous code points
// from zero to nine, each range of the Nd table starting at a zero, so the
// value is the offset from the start of its range modulo ten.
func DigitValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < utf8.RuneSelf {
		return 0, false
	}
	nd := unicode.Nd
	if r <= 0xFFFF {
		rs := nd.R16
		i := sort.Search(len(rs), func(i int) bool { return rune(rs[i].Hi) >= r })
		if i < len(rs) && rune(rs[i].Lo) <= r && (r-rune(rs[i].Lo))%rune(rs[i].Stride) == 0 {
			return int(r-rune(rs[i].Lo)) % 10, true
		}
		return 0, false
	}
	rs := nd.R32
	i := sort.Search(len(rs), func(i int) bool { return rune(rs[i].Hi) >= r })
	if i < len(rs) && rune(rs[i].Lo) <= r && (r-rune(rs[i].Lo))%rune(rs[i].Stride) == 0 {
		return int(r-rune(rs[i].Lo)) % 10, true
	}
	return 0, false
}

// isDash reports dash punctuation (Unicode category Pd: hyphen, non-breaking
// hyphen, figure, en and em dashes, ...) and the minus signs, all folded to
// an ASCII hyphen-minus.
func isDash(r rune) bool {
	switch r {
	case '\u2212', '\u2796', '\u02D7':
		return true
	}
	return unicode.Is(unicode.Pd, r)
}

// basicPunct folds the dot- and slash-like marks people put between digit
// groups (middle dot, bullet, hyphenation point, dot and bullet operators,
// division slash) to '.' and '/', for the PII view only.
func basicPunct(r rune) rune {
	switch r {
	case '\u00B7', '\u2022', '\u2027', '\u2219', '\u22C5', '\u30FB', '\u0387', '\u2024':
		return '.'
	case '\u2215', '\u2044', '\u29F8':
		return '/'
	}
	return 0
}

// basicConfusable returns the ASCII letter a non-ASCII look-alike letter
// folds to in the Basic view, keeping its case, or 0. Look-alikes of digits
// are not folded there.
func basicConfusable(r rune) rune {
	if r < utf8.RuneSelf {
		return 0
	}
	m := confusable(unicode.ToLower(r))
	if m < 'a' || m > 'z' {
		return 0
	}
	if unicode.IsUpper(r) {
		m -= 'a' - 'A'
	}
	return m
}

// foldLookalikeTokens folds look-alike letters in the Basic view, token by
// token (a token is a run of non-space characters): a token is folded when it
// mixes them with ASCII letters or digits (jаne@exаmple.com with Cyrillic а)
// or when every non-ASCII letter in it is a look-alike (ѕѕո). Words written
// wholly in another script, with letters that have no Latin twin, are left
// alone.
func foldLookalikeTokens(items []item) {
	for i := 0; i < len(items); {
		if isSpace(items[i].r) {
			i++
			continue
		}
		j := i
		ascii, look, other := false, false, false
		for ; j < len(items) && !isSpace(items[j].r); j++ {
			r := items[j].r
			switch {
			case r < utf8.RuneSelf:
				ascii = ascii || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			case basicConfusable(r) != 0:
				look = true
			case unicode.IsLetter(r):
				other = true
			}
		}
		if look && (ascii || !other) {
			for k := i; k < j; k++ {
				// A letter carrying a combining mark is left alone: folded, it
				// would compose with the mark into another letter under NFKC.
				if k+1 < j && unicode.In(items[k+1].r, unicode.Mn, unicode.Me, unicode.Mc) {
					continue
				}
				if m := basicConfusable(items[k].r); m != 0 {
					items[k].r = m
				}
			}
		}
		i = j
	}
}
