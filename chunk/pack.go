package chunk

import (
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

// counter counts tokens of spans of one text. approx is a fast additive
// estimate from prefix sums; exact is the Tokenizer's count of the span
// (trailing white space must already be trimmed).
type counter struct {
	text string
	tk   Tokenizer
	enc  *tokenizer.Encoding
	ends []int32 // piece (or atom) ends, increasing
	cum  []int32 // cum[i]: tokens of pieces 0..i
	hint int     // index of a piece end at or before the last position asked
	// chars counts code points directly (Characters, lazy packing): no
	// prefix sums are kept and approx is exact.
	chars bool
}

// newCounter returns the counter of text. With lazy set and the Characters
// tokenizer it keeps no prefix sums (bounds may then be nil).
func newCounter(text string, tk Tokenizer, bounds []boundary, lazy bool) *counter {
	c := &counter{text: text, tk: tk, enc: encodingOf(tk)}
	if _, ok := tk.(characters); ok && lazy {
		c.chars = true
		return c
	}
	if c.enc != nil {
		n := int32(0)
		est := len(text)/4 + 1
		c.ends = make([]int32, 0, est)
		c.cum = make([]int32, 0, est)
		c.enc.Pieces(text, func(end, toks int) {
			n += int32(toks)
			c.ends = append(c.ends, int32(end))
			c.cum = append(c.cum, n)
		})
		return c
	}
	// Generic tokenizer: atoms between break opportunities.
	n, prev := int32(0), 0
	c.ends = make([]int32, 0, len(bounds)+1)
	c.cum = make([]int32, 0, len(bounds)+1)
	for _, b := range bounds {
		p := int(b.pos)
		if p <= prev {
			continue
		}
		n += int32(tk.Count(text[prev:p]))
		c.ends = append(c.ends, int32(p))
		c.cum = append(c.cum, n)
		prev = p
	}
	if prev < len(text) {
		n += int32(tk.Count(text[prev:]))
		c.ends = append(c.ends, int32(len(text)))
		c.cum = append(c.cum, n)
	}
	return c
}

// cumAt returns the tokens of the pieces that end at or before p.
func (c *counter) cumAt(p int) int {
	// Gallop from the last position asked: callers move forward slowly.
	lo, hi, n := 0, len(c.ends), len(c.ends)
	if h := c.hint; h < n && int(c.ends[h]) <= p {
		lo = h + 1
		step := 1
		for lo+step < n && int(c.ends[lo+step]) <= p {
			lo += step
			step *= 2
		}
		hi = min(n, lo+step+1)
	}
	i := lo + sort.Search(hi-lo, func(i int) bool { return int(c.ends[lo+i]) > p })
	if i > 0 {
		c.hint = i - 1
	}
	if i == 0 {
		return 0
	}
	return int(c.cum[i-1])
}

func (c *counter) approx(a, b int) int {
	if c.chars {
		return utf8.RuneCountInString(c.text[a:b])
	}
	return c.cumAt(b) - c.cumAt(a)
}

// isPieceEnd reports whether p is 0 or the end of a piece.
func (c *counter) isPieceEnd(p int) bool {
	if p == 0 {
		return true
	}
	i := sort.Search(len(c.ends), func(i int) bool { return int(c.ends[i]) >= p })
	return i < len(c.ends) && int(c.ends[i]) == p
}

// exact returns the token count of text[a:b]; b must follow a non-space
// character (or equal a).
func (c *counter) exact(a, b int) int {
	if a >= b {
		return 0
	}
	if c.chars {
		return utf8.RuneCountInString(c.text[a:b])
	}
	if c.enc != nil {
		if r, _ := utf8.DecodeLastRuneInString(c.text[a:b]); unicode.IsSpace(r) {
			return c.enc.Count(c.text[a:b]) // ends in white space the pieces do not delimit
		}
	}
	if c.enc == nil {
		return c.tk.Count(c.text[a:b])
	}
	// s: start of the piece that contains b-1.
	s := b
	if !c.isPieceEnd(b) {
		i := sort.Search(len(c.ends), func(i int) bool { return int(c.ends[i]) >= b })
		s = 0
		if i > 0 {
			s = int(c.ends[i-1])
		}
	}
	// Re-scan from a until the scan meets a piece end of the whole text.
	n, q := 0, a
	for !c.isPieceEnd(q) {
		e := c.enc.NextPiece(c.text, q)
		if e > s {
			return n + c.enc.Count(c.text[q:b])
		}
		n += c.enc.PieceCount(c.text[q:e])
		q = e
	}
	if q > s {
		return n + c.enc.Count(c.text[q:b])
	}
	n += c.cumAt(s) - c.cumAt(q)
	if s < b {
		n += c.enc.Count(c.text[s:b])
	}
	return n
}

// policy chooses where a chunk ends among the break opportunities that fit.
type policy int

const (
	fixedPolicy     policy = iota // the farthest opportunity
	sentencePolicy                // the farthest sentence or stronger boundary in the second half, else the farthest
	recursivePolicy               // the farthest opportunity of the strongest level present
)

// span is a packed chunk: overlap start o, own start a, end e (trimmed).
type span struct{ o, a, e, tokens int }

// packer packs one text into spans.
type packer struct {
	text   string
	c      *counter
	bounds []boundary // all break opportunities, increasing; nil when lazy
	lazy   bool       // find opportunities on demand (see lazy.go)
	gbuf   []int
	obuf   []int
}

// pack packs the segment [a, b) (a trimmed, b a hard boundary or the text's
// end) into spans of at most max tokens, each starting overlap tokens (or
// fewer, at a break opportunity) before its own start.
func (p *packer) pack(dst []span, a, b, max, overlap int, pol policy) []span {
	if p.lazy {
		return p.packLazy(dst, a, b, max, overlap, pol)
	}
	b = trimRight(p.text, a, b)
	// Opportunities strictly inside (a, b).
	lo := sort.Search(len(p.bounds), func(i int) bool { return int(p.bounds[i].pos) > a })
	hi := sort.Search(len(p.bounds), func(i int) bool { return int(p.bounds[i].pos) >= b })
	opps := p.bounds[lo:hi]
	prevStart := -1
	for a < b {
		o := a
		if overlap > 0 && prevStart >= 0 {
			o = p.overlapStart(opps, prevStart, a, overlap)
		}
		e, next, toks := p.fit(opps, o, a, b, max, pol)
		if e < 0 { // the overlap leaves no room for a whole word: drop it
			o = a
			e, next, toks = p.fit(opps, o, a, b, max, pol)
		}
		dst = append(dst, span{o: o, a: a, e: e, tokens: toks})
		prevStart = a
		// Skip opportunities before next.
		k := sort.Search(len(opps), func(i int) bool { return int(opps[i].pos) > next })
		opps = opps[k:]
		a = next
	}
	return dst
}

// overlapStart returns the earliest opportunity o in [prev, a] with at most
// overlap tokens in text[o:a].
func (p *packer) overlapStart(opps []boundary, prev, a, overlap int) int {
	// opps here start after the previous own start; look back in p.bounds.
	lo := sort.Search(len(p.bounds), func(i int) bool { return int(p.bounds[i].pos) >= prev })
	hi := sort.Search(len(p.bounds), func(i int) bool { return int(p.bounds[i].pos) >= a })
	cands := p.bounds[lo:hi]
	// Binary search the earliest candidate whose approximate overlap fits.
	i := sort.Search(len(cands), func(i int) bool {
		return p.c.approx(int(cands[i].pos), a) <= overlap
	})
	for ; i < len(cands); i++ {
		o := int(cands[i].pos)
		if p.c.exact(o, trimRight(p.text, o, a)) <= overlap {
			return o
		}
	}
	return a
}

// fit finds the end of the chunk that starts at o (own start a): it returns
// the trimmed end e, the next own start, and the exact token count.
func (p *packer) fit(opps []boundary, o, a, b, max int, pol policy) (e, next, toks int) {
	// Whole remainder fits?
	if p.c.approx(o, b) <= max {
		if n := p.c.exact(o, b); n <= max {
			return b, b, n
		}
	}
	// Farthest opportunity x with approx(o, x) <= max: gallop, then bisect.
	base := p.c.cumAt(o)
	over := func(i int) bool { return p.c.cumAt(int(opps[i].pos))-base > max }
	hi := 1
	for hi < len(opps) && !over(hi) {
		hi *= 2
	}
	lo := hi / 2
	hi = min(hi, len(opps))
	far := lo + sort.Search(hi-lo, func(i int) bool { return over(lo + i) }) - 1
	for far >= 0 {
		i := p.choose(opps, far, a, pol)
		x := int(opps[i].pos)
		end := trimRight(p.text, o, x)
		if end > a {
			if n := p.c.exact(o, end); n <= max {
				return end, x, n
			}
		}
		far = i - 1
		if end <= a {
			break
		}
	}
	// No opportunity fits: split the first word at grapheme boundaries,
	// unless an overlap prefix is what takes the room.
	if o < a {
		return -1, -1, 0
	}
	limit := b
	if len(opps) > 0 {
		limit = trimRight(p.text, a, int(opps[0].pos))
	}
	return p.splitGraphemes(o, a, limit, max)
}

// choose picks the opportunity index in opps[:far+1] according to pol.
func (p *packer) choose(opps []boundary, far, a int, pol policy) int {
	switch pol {
	case sentencePolicy:
		mid := a + (int(opps[far].pos)-a)/2
		for i := far; i >= 0 && int(opps[i].pos) > mid; i-- {
			if opps[i].level >= lvSentence {
				return i
			}
		}
	case recursivePolicy:
		best, bi := uint8(0), far
		for i := far; i >= 0 && int(opps[i].pos) > a; i-- {
			if opps[i].level > best {
				best, bi = opps[i].level, i
			}
		}
		return bi
	}
	return far
}

// splitGraphemes ends the chunk inside the word [a, limit) at the farthest
// grapheme boundary that fits; at least one grapheme cluster is taken.
func (p *packer) splitGraphemes(o, a, limit, max int) (e, next, toks int) {
	p.gbuf = graphemeBounds(p.gbuf[:0], p.text, a, limit)
	g := p.gbuf
	// Largest i with exact(o, g[i]) <= max; counts grow with i.
	i := sort.Search(len(g), func(i int) bool { return p.c.exact(o, g[i]) > max }) - 1
	if i < 0 {
		i = 0
	}
	e = g[i]
	next = e
	if e == limit {
		next = trimLeft(p.text, e, len(p.text))
	}
	return e, next, p.c.exact(o, e)
}
