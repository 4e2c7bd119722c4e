package chunk

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Lazy packing.
//
// The eager packer finds every break opportunity of the document up front.
// Most of that work is wasted: a chunk only needs the opportunities near
// its end. The lazy packer works window by window instead: it finds how far
// the chunk may reach (the window end), then walks break opportunities
// backwards from there, only as far as the policy needs (for the recursive
// policy, down to the last paragraph break in the window). Bytes inside a
// chunk are looked at only to count its size. Opportunities are classified
// exactly as by boundaries, so the two packers see the same break levels.
//
// It is used for the Characters and BPE tokenizers without Markdown (whose
// structure pass needs every opportunity) and for every strategy but
// Semantic (which needs every sentence).

// lastOpp returns the largest break opportunity q with lo <= q <= p and its
// level, or -1 when there is none. It classifies opportunities like
// boundaries(s, 0, len(s), true).
func lastOpp(s string, lo, p int) (int, uint8) {
	if p >= len(s) {
		p = len(s) - 1 // an opportunity is followed by a character
	}
	for p > 0 && !utf8.RuneStart(s[p]) {
		p--
	}
	for p > 0 && p >= lo {
		c := s[p-1]
		if c < utf8.RuneSelf && plainByte[c] {
			p--
			continue
		}
		r, w := rune(c), 1
		if c >= utf8.RuneSelf {
			r, w = utf8.DecodeLastRuneInString(s[:p])
		}
		if !isSpace(r) {
			if (r == '。' || r == '！' || r == '？') && p < len(s) {
				if nsp, _ := spaceAt(s, p); !nsp && isGraphemeBoundary(s, p) {
					return p, lvSentence
				}
			}
			p -= w
			continue
		}
		// s[p-1] ends a white-space run [i, j); p is an opportunity only if
		// it is j, that is s[p] is not white space.
		i, nl := p, 0
		for i > 0 {
			c := s[i-1]
			if c < utf8.RuneSelf {
				if plainByte[c] {
					break
				}
				if c == '\n' {
					nl++
				}
				i--
				continue
			}
			r, w := utf8.DecodeLastRuneInString(s[:i])
			if !isSpace(r) {
				break
			}
			i -= w
		}
		if sp, _ := spaceAt(s, p); !sp && i > 0 && (s[p] < utf8.RuneSelf || isGraphemeBoundary(s, p)) {
			lv := uint8(lvWord)
			switch {
			case nl >= 2:
				lv = lvBlock
			case sentenceEnd(s, i, p):
				lv = lvSentence
			case nl == 1:
				lv = lvLine
			}
			return p, lv
		}
		p = i
	}
	return -1, 0
}

// nextOpp returns the smallest break opportunity q with p < q < b, or -1.
// It looks no further than stop.
func nextOpp(s string, p, b, stop int) int {
	stop = min(stop, b-1)
	for q := p + 1; q <= stop; q++ {
		if !utf8.RuneStart(s[q]) {
			continue
		}
		c := s[q-1]
		if c < utf8.RuneSelf && plainByte[c] {
			continue
		}
		if sp, _ := spaceAt(s, q); sp {
			// Inside a white-space run: only its end can be an opportunity.
			_, j, _ := whiteRun(s, q)
			q = j - 1
			continue
		}
		if x, _ := lastOpp(s, q, q); x == q {
			return q
		}
	}
	return -1
}

// reach returns the window of a chunk starting at o: every opportunity
// q <= hi is within max tokens of o by the counter's approximation, and
// whole reports whether the whole remainder [o, b) is. For Characters, n is
// the exact count of [o, hi).
func (p *packer) reach(o, b, max int) (hi, n int, whole bool) {
	c := p.c
	if c.chars {
		s := p.text
		i := o
		for n < max && i < b {
			if n+8 <= max && i+8 <= b && ascii8(s, i) {
				i += 8
				n += 8
				continue
			}
			if s[i] < utf8.RuneSelf {
				i++
			} else {
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
			}
			n++
		}
		return i, n, i >= b
	}
	base := c.cumAt(o)
	lim := int32(base + max)
	// First piece k whose running total exceeds lim: gallop from the piece
	// after o, then bisect.
	start, n0 := 0, len(c.cum)
	if h := c.hint; h < n0 && int(c.ends[h]) <= o {
		start = h + 1
	}
	lo, step := start, 1
	for lo+step < n0 && c.cum[lo+step] <= lim {
		lo += step
		step *= 2
	}
	top := min(n0, lo+step+1)
	k := lo + sort.Search(top-lo, func(i int) bool { return c.cum[lo+i] > lim })
	if k >= n0 {
		return len(p.text), 0, true
	}
	hi = int(c.ends[k]) - 1
	return hi, 0, b <= hi
}

// chooseLazy returns the break opportunity in (a, q] chosen by pol, or -1.
func (p *packer) chooseLazy(a, q int, pol policy) int {
	s := p.text
	x, lv := lastOpp(s, a+1, q)
	if x < 0 {
		return -1
	}
	switch pol {
	case sentencePolicy:
		mid := a + (x-a)/2
		for y, ylv := x, lv; y > mid; {
			if ylv >= lvSentence {
				return y
			}
			y, ylv = lastOpp(s, max(a+1, mid+1), y-1)
			if y < 0 {
				break
			}
		}
	case recursivePolicy:
		return p.chooseRecursive(a, q, x, lv)
	}
	return x
}

// chooseRecursiveSlow is the recursive policy by walking every opportunity
// back from the window end; chooseRecursive must agree with it.
func (p *packer) chooseRecursiveSlow(a, q int) int {
	s := p.text
	x, lv := lastOpp(s, a+1, q)
	if x < 0 {
		return -1
	}
	{
		best, blv := x, lv
		for y, ylv := x, lv; blv < lvBlock; {
			y, ylv = lastOpp(s, a+1, y-1)
			if y < 0 {
				break
			}
			if ylv > blv {
				best, blv = y, ylv
			}
		}
		return best
	}
}

// chooseRecursive returns the farthest opportunity of the strongest level
// in (a, q]; x (level lv) is the farthest opportunity of any level. Rather
// than classifying every opportunity it searches level by level: line
// breaks first (paragraph breaks are among them), then sentence ends.
func (p *packer) chooseRecursive(a, q, x int, lv uint8) int {
	if lv >= lvBlock {
		return x
	}
	s := p.text
	// Runs with line breaks, farthest first: a paragraph break wins at once;
	// remember the farthest single line break.
	line, lineLv := -1, uint8(0)
	floor := a // runs ending after a may start before it when s[a] is white space
	if sp, _ := spaceAt(s, a); sp {
		floor, _, _ = whiteRun(s, a)
	}
	for k := q; k > floor; {
		n := strings.LastIndexByte(s[floor:k], '\n')
		if n < 0 {
			break
		}
		n += floor
		i, j, nl := whiteRun(s, n)
		k = i
		if j <= a || j > q || j >= len(s) || i == 0 || !(s[j] < utf8.RuneSelf || isGraphemeBoundary(s, j)) {
			continue
		}
		if nl >= 2 {
			return j
		}
		if line < 0 {
			line, lineLv = j, lvLine
			if sentenceEnd(s, i, j) {
				lineLv = lvSentence
			}
		}
	}
	// The farthest sentence end beyond the farthest line break (a line
	// break that ends a sentence is itself the answer otherwise).
	lo := a
	if line >= 0 && lineLv == lvSentence {
		lo = line
	}
	if y := lastSentence(s, lo, q); y >= 0 {
		return y
	}
	if line >= 0 {
		return line
	}
	return x // only word breaks: the farthest
}

// whiteRun returns the white-space run [i, j) around the white-space byte
// at n and its number of line feeds.
func whiteRun(s string, n int) (i, j, nl int) {
	i, j = n, n
	for i > 0 {
		c := s[i-1]
		if c < utf8.RuneSelf {
			if plainByte[c] {
				break
			}
			i--
			continue
		}
		r, w := utf8.DecodeLastRuneInString(s[:i])
		if !isSpace(r) {
			break
		}
		i -= w
	}
	for j < len(s) {
		c := s[j]
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
	for k := i; k < j; k++ {
		if s[k] == '\n' {
			nl++
		}
	}
	return i, j, nl
}

// lastSentence returns the farthest sentence-level opportunity in (lo, q],
// or -1.
func lastSentence(s string, lo, q int) int {
	// A sentence ends before a white-space run, at a byte maybeEnd marks
	// (ASCII closers and stops, any non-ASCII byte); CJK stops also end a
	// sentence directly before text.
	for k := min(q, len(s)-1); k > lo; {
		c := s[k-1]
		if !maybeEnd[c] {
			k--
			continue
		}
		w := 1
		if c >= utf8.RuneSelf {
			_, w = utf8.DecodeLastRuneInString(s[:k])
		}
		// k is where the character before it ends: an opportunity of
		// sentence level starts at k (CJK) or after the run at k.
		if c >= utf8.RuneSelf {
			if y, ylv := lastOpp(s, k, k); y == k && ylv == lvSentence {
				return k
			}
		}
		if sp, _ := spaceAt(s, k); sp {
			i, j, nl := whiteRun(s, k)
			if i == k && j <= q && nl < 2 && j < len(s) && (s[j] < utf8.RuneSelf || isGraphemeBoundary(s, j)) && sentenceEnd(s, i, j) {
				return j
			}
		}
		k -= w
	}
	// A run that starts at or before lo and ends after it.
	if lo < len(s) {
		if sp, _ := spaceAt(s, lo); sp {
			i, j, nl := whiteRun(s, lo)
			if i > 0 && j <= q && nl < 2 && j < len(s) && (s[j] < utf8.RuneSelf || isGraphemeBoundary(s, j)) && sentenceEnd(s, i, j) {
				return j
			}
		}
	}
	return -1
}

// packLazy is pack without a precomputed list of opportunities.
func (p *packer) packLazy(dst []span, a, b, max, overlap int, pol policy) []span {
	b = trimRight(p.text, a, b)
	prevStart := -1
	for a < b {
		o := a
		if overlap > 0 && prevStart >= 0 {
			o = p.overlapStartLazy(prevStart, a, overlap)
		}
		e, next, toks := p.fitLazy(o, a, b, max, pol)
		if e < 0 { // the overlap leaves no room for a whole word: drop it
			o = a
			e, next, toks = p.fitLazy(o, a, b, max, pol)
		}
		dst = append(dst, span{o: o, a: a, e: e, tokens: toks})
		prevStart = a
		a = next
	}
	return dst
}

// overlapStartLazy returns the earliest opportunity o in [prev, a) with at
// most overlap tokens in text[o:a] (trimmed), or a.
func (p *packer) overlapStartLazy(prev, a, overlap int) int {
	// Walk back while the approximate overlap fits; the counts grow as o
	// moves back.
	cands := p.obuf[:0]
	n, last := 0, a
	for q := a - 1; q >= prev; {
		x, _ := lastOpp(p.text, prev, q)
		if x < 0 {
			break
		}
		if p.c.chars {
			n += utf8.RuneCountInString(p.text[x:last])
		} else {
			n = p.c.approx(x, a)
		}
		if n > overlap {
			break
		}
		cands = append(cands, x)
		last, q = x, x-1
	}
	p.obuf = cands
	for i := len(cands) - 1; i >= 0; i-- {
		o := cands[i]
		if p.c.exact(o, trimRight(p.text, o, a)) <= overlap {
			return o
		}
	}
	return a
}

// fitLazy is fit for the lazy packer.
func (p *packer) fitLazy(o, a, b, max int, pol policy) (e, next, toks int) {
	hi, n, whole := p.reach(o, b, max)
	if whole {
		if p.c.chars {
			return b, b, n
		}
		if n := p.c.exact(o, b); n <= max {
			return b, b, n
		}
	}
	q := min(hi, b-1)
	for q > a {
		x := p.chooseLazy(a, q, pol)
		if x < 0 {
			break
		}
		end := trimRight(p.text, o, x)
		if end <= a {
			break
		}
		if p.c.chars {
			// n counts [o, hi); take away the part after end.
			return end, x, n - utf8.RuneCountInString(p.text[end:hi])
		}
		if n := p.c.exact(o, end); n <= max {
			return end, x, n
		}
		q = x - 1
	}
	if o < a {
		return -1, -1, 0
	}
	// No opportunity fits: split the first word at grapheme boundaries. The
	// word ends at the next opportunity; beyond the window (plus slack for
	// counts that are not additive) nothing fits, so look no further.
	limit := b
	stop := hi + 256
	if x := nextOpp(p.text, a, b, stop); x >= 0 {
		limit = trimRight(p.text, a, x)
	} else if stop < b-1 {
		limit = stop
		for limit > a && !isGraphemeBoundary(p.text, limit) {
			limit--
		}
		if limit == a { // one cluster longer than the slack
			limit = b
		}
	}
	return p.splitGraphemes(o, a, limit, max)
}

// ascii8 reports whether s[i:i+8] is ASCII.
func ascii8(s string, i int) bool {
	s = s[i : i+8]
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return w&0x8080808080808080 == 0
}
