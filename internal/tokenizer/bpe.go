package tokenizer

import (
	"bufio"
	"bytes"
	"compress/flate"
	"embed"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
)

// Encoding is one BPE encoding: its merge ranks and its pre-tokenizer.
// It is safe for concurrent use.
type Encoding struct {
	name    string
	file    string
	next    func(s string, i int) int
	once    sync.Once
	err     error
	ranks   map[string]uint32
	decoder []string
	caches  sync.Pool // of *wordCache
}

// wordCache remembers the token counts of recently seen short pre-tokens.
// Most of a text's pre-tokens are frequent words and identifiers; for those
// that are several tokens long, one probe here replaces a dozen or more
// rank lookups in merge. It is direct-mapped (a newer piece evicts an older
// one with the same slot) and owned by one goroutine at a time, taken from
// the Encoding's pool for the duration of one call.
type wordCache struct{ slots [cacheSlots]cacheSlot }

const (
	cacheSlots = 1 << 12
	cacheKey   = 22 // longest piece cached, in bytes
)

type cacheSlot struct {
	n, tokens uint8 // key length (0: empty) and token count
	key       [cacheKey]byte
}

var cacheSeed = maphash.MakeSeed()

func (e *Encoding) getCache() *wordCache {
	if c, ok := e.caches.Get().(*wordCache); ok {
		return c
	}
	return new(wordCache)
}

// cachedCount is pieceCount through the cache c.
func (e *Encoding) cachedCount(c *wordCache, p string) int {
	if len(p) <= 1 || len(p) > cacheKey {
		return e.pieceCount(p)
	}
	sl := &c.slots[maphash.String(cacheSeed, p)&(cacheSlots-1)]
	if int(sl.n) == len(p) && string(sl.key[:sl.n]) == p {
		return int(sl.tokens)
	}
	n := e.pieceCount(p)
	if n < 256 {
		sl.n, sl.tokens = uint8(len(p)), uint8(n)
		copy(sl.key[:], p)
	}
	return n
}

var (
	cl100k = &Encoding{name: "cl100k_base", file: "cl100k_base.ranks", next: nextCL100K}
	o200k  = &Encoding{name: "o200k_base", file: "o200k_base.ranks", next: nextO200K}
)

// CL100K returns the cl100k_base encoding (GPT-3.5/GPT-4, text-embedding-3).
func CL100K() *Encoding { return cl100k }

// O200K returns the o200k_base encoding (GPT-4o and later).
func O200K() *Encoding { return o200k }

// Name returns the encoding's name, such as "cl100k_base".
func (e *Encoding) Name() string { return e.name }

// Load parses the embedded ranks. It is called by every other method; call
// it yourself to pay the one-time cost (tens of milliseconds) up front.
func (e *Encoding) Load() error {
	e.once.Do(func() { e.ranks, e.decoder, e.err = parseRanks(e.file) })
	return e.err
}

func (e *Encoding) mustLoad() {
	if err := e.Load(); err != nil {
		panic(err) // the data is compiled into the binary; failing to parse it is a build defect
	}
}

//go:generate go run ./internal/genranks

// rankFiles holds the merge ranks of the supported encodings in the compact
// form written by internal/genranks: a DEFLATE stream of records in rank
// order, uvarint(rank - previous rank - 1), uvarint(len(token)), token.
//
//go:embed cl100k_base.ranks o200k_base.ranks
var rankFiles embed.FS

func parseRanks(file string) (map[string]uint32, []string, error) {
	data, err := rankFiles.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("tokenizer: embedded %s: %w", file, err)
	}
	r := bufio.NewReader(flate.NewReader(bytes.NewReader(data)))
	ranks := make(map[string]uint32, 1<<17)
	var decoder []string
	next := uint64(0)
	buf := make([]byte, 0, 256)
	for {
		gap, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tokenizer: %s: %w", file, err)
		}
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1<<16 || next+gap > 1<<31 {
			return nil, nil, fmt.Errorf("tokenizer: %s: malformed record after rank %d", file, next)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, nil, fmt.Errorf("tokenizer: %s: %w", file, err)
		}
		rank := next + gap
		tok := string(buf)
		ranks[tok] = uint32(rank)
		for uint64(len(decoder)) < rank {
			decoder = append(decoder, "")
		}
		decoder = append(decoder, tok)
		next = rank + 1
	}
	return ranks, decoder, nil
}

const noRank = ^uint32(0)

// Count returns the number of tokens in text. It allocates nothing once
// its pooled cache of frequent words exists.
func (e *Encoding) Count(text string) int {
	e.mustLoad()
	c := e.getCache()
	n := 0
	for i := 0; i < len(text); {
		j := e.next(text, i)
		n += e.cachedCount(c, text[i:j])
		i = j
	}
	e.caches.Put(c)
	return n
}

// Encode appends the token ids of text to dst and returns it. Special tokens
// are not recognised: "<|endoftext|>" is encoded as ordinary text.
func (e *Encoding) Encode(dst []int, text string) []int {
	e.mustLoad()
	for i := 0; i < len(text); {
		j := e.next(text, i)
		dst = e.pieceTokens(dst, text[i:j])
		i = j
	}
	return dst
}

// Decode returns the text of the tokens. Unknown ids are skipped.
func (e *Encoding) Decode(tokens []int) string {
	e.mustLoad()
	var b []byte
	for _, t := range tokens {
		if t >= 0 && t < len(e.decoder) {
			b = append(b, e.decoder[t]...)
		}
	}
	return string(b)
}

// Pieces calls fn for every pre-token of text, in order, with its end offset
// and its token count. Pre-token boundaries are where the encoder's regular
// expression splits text; a span between two of them is encoded the same way
// on its own as inside text, provided the span does not end with white space
// (a cut inside a white-space run changes how the run is split), so counts
// between such boundaries add up exactly.
func (e *Encoding) Pieces(text string, fn func(end, tokens int)) {
	e.mustLoad()
	c := e.getCache()
	for i := 0; i < len(text); {
		j := e.next(text, i)
		fn(j, e.cachedCount(c, text[i:j]))
		i = j
	}
	e.caches.Put(c)
}

// NextPiece returns the end of the pre-token of text starting at i.
func (e *Encoding) NextPiece(text string, i int) int { return e.next(text, i) }

// PieceCount returns the number of tokens of one pre-token.
func (e *Encoding) PieceCount(piece string) int {
	e.mustLoad()
	return e.pieceCount(piece)
}

func (e *Encoding) pieceCount(p string) int {
	if len(p) <= 1 {
		return len(p)
	}
	if _, ok := e.ranks[p]; ok {
		return 1
	}
	if len(p) <= stackParts-1 {
		var buf [stackParts]part
		return len(e.merge(p, buf[:0])) - 1
	}
	if len(p) > longPiece {
		return len(e.mergeLong(p)) - 1
	}
	return len(e.merge(p, make([]part, 0, len(p)+1))) - 1
}

func (e *Encoding) pieceTokens(dst []int, p string) []int {
	if r, ok := e.ranks[p]; ok {
		return append(dst, int(r))
	}
	var parts []part
	switch {
	case len(p) <= stackParts-1:
		var buf [stackParts]part
		parts = e.merge(p, buf[:0])
	case len(p) > longPiece:
		parts = e.mergeLong(p)
	default:
		parts = e.merge(p, make([]part, 0, len(p)+1))
	}
	for i := 0; i+1 < len(parts); i++ {
		dst = append(dst, int(e.ranks[p[parts[i].start:parts[i+1].start]]))
	}
	return dst
}

const stackParts = 64

type part struct {
	start int32
	rank  uint32 // rank of the merge of this part with the next one
}

// longPiece is the length above which a pre-token is merged by mergeLong.
// merge rescans every pair after each merge, quadratic in the piece's
// length: fast for words, but a single pre-token can be a whole document
// (50,000 repeated letters, a long run of emoji) and must not stall the
// caller for seconds.
const longPiece = 256

// merge runs byte-pair merging on p (len(p) >= 2) and returns the part
// boundaries: tokens are p[parts[i].start:parts[i+1].start].
func (e *Encoding) merge(p string, parts []part) []part {
	for i := 0; i <= len(p); i++ {
		parts = append(parts, part{start: int32(i), rank: noRank})
	}
	rank := func(i int) uint32 { // rank of parts[i] merged with parts[i+1]
		if i+2 < len(parts) {
			if r, ok := e.ranks[p[parts[i].start:parts[i+2].start]]; ok {
				return r
			}
		}
		return noRank
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = rank(i)
	}
	for len(parts) > 2 {
		best, bi := noRank, -1
		for i := 0; i+1 < len(parts); i++ {
			if parts[i].rank < best {
				best, bi = parts[i].rank, i
			}
		}
		if bi < 0 {
			break
		}
		parts = append(parts[:bi+1], parts[bi+2:]...)
		parts[bi].rank = rank(bi)
		if bi > 0 {
			parts[bi-1].rank = rank(bi - 1)
		}
	}
	return parts
}

// mergeLong is merge in O(n log n): the pairs sit in a min-heap ordered by
// rank and then by position, so the pair merged at each step is the one
// merge would pick (the lowest rank, the leftmost among equals). Parts form
// a linked list; a heap entry whose pair has changed since it was pushed is
// skipped when it comes up.
func (e *Encoding) mergeLong(p string) []part {
	n := len(p)
	next := make([]int32, n+1) // next[i]: start of the part after the one at i; -1 at the end
	prev := make([]int32, n+1)
	alive := make([]bool, n+1)
	for i := 0; i <= n; i++ {
		next[i], prev[i], alive[i] = int32(i+1), int32(i-1), true
	}
	next[n] = -1
	pairRank := func(i int32) uint32 { // rank of the part at i merged with the next one
		j := next[i]
		if j < 0 || next[j] < 0 {
			return noRank
		}
		if r, ok := e.ranks[p[i:next[j]]]; ok {
			return r
		}
		return noRank
	}
	h := make(pairHeap, 0, n)
	for i := int32(0); i+1 < int32(n); i++ {
		if r := pairRank(i); r != noRank {
			h = append(h, pairEntry{rank: r, start: i, end: i + 2})
		}
	}
	h.init()
	for len(h) > 0 {
		top := h.pop()
		i := top.start
		if !alive[i] || next[i] < 0 || next[next[i]] != top.end {
			continue // the pair changed since this entry was pushed
		}
		// Merge the part at i with the next one.
		j := next[i]
		alive[j] = false
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if r := pairRank(i); r != noRank {
			h.push(pairEntry{rank: r, start: i, end: next[next[i]]})
		}
		if pi := prev[i]; pi >= 0 {
			if r := pairRank(pi); r != noRank {
				h.push(pairEntry{rank: r, start: pi, end: next[next[pi]]})
			}
		}
	}
	parts := make([]part, 0, 16)
	for i := int32(0); i >= 0; i = next[i] {
		parts = append(parts, part{start: i, rank: noRank})
	}
	return parts
}

// pairEntry is a candidate merge of the part starting at start with the
// next one, which together end at end.
type pairEntry struct {
	rank       uint32
	start, end int32
}

// pairHeap is a binary min-heap of pair entries by (rank, start).
type pairHeap []pairEntry

func (h pairHeap) less(a, b int) bool {
	return h[a].rank < h[b].rank || h[a].rank == h[b].rank && h[a].start < h[b].start
}

func (h pairHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *pairHeap) push(x pairEntry) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *pairHeap) pop() pairEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.down(0)
	return top
}

func (h pairHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
