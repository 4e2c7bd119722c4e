// Package perplexity finds spans of text that read as token soup rather
// than as language: the optimised adversarial suffixes (GCG-style) that
// jailbreaks append to a harmful request, which are strings of tokens a
// search picked for their effect on a model, not for meaning.
//
// The score is a log-likelihood ratio per character between two character
// 4-gram language models, both with stupid backoff: one trained on ordinary
// text (English prose, source code and its comments, requests, UI strings
// in many languages), one on random sequences of BPE tokens. Text that is
// improbable as language but probable as token soup scores high; text that
// is merely unusual (code, names, other languages) is improbable under both
// and scores near zero. Each line is read in windows of Window characters
// and only the windows that end within its last Tail characters count, as a
// suffix sits at the end; long base64, hex and URL tokens are skipped.
//
// A Model is the ratio itself, one signed byte per n-gram that either
// language model saw often enough, pruned where it adds little to the
// shorter context; it is trained by Train and embedded (see Default).
package perplexity

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Order is the n-gram order: each character is predicted from the three
// before it.
const Order = 4

// Alphabet: text is read as symbols. Letters fold to lower case; an
// upper-case letter right after a lower-case one is preceded by symCase
// ("similarlyNow" reads "similarly^now"); all digits are one symbol; every
// ASCII punctuation mark is its own symbol. A byte outside ASCII ends the
// context (it is not scored).
const (
	symBoundary = 0
	symDigit    = 27
	symSpace    = 28
	symNewline  = 29
	symPunct    = 30 // + index in punctuation
	symCase     = 62
	alphabet    = 63
)

const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// symOf maps ASCII bytes to symbols; 0xff means "not ASCII: reset".
var symOf = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := 0; c < 0x80; c++ {
		t[c] = symSpace
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(1 + c - 'a')
		t[c-'a'+'A'] = byte(1 + c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = symDigit
	}
	t['\n'], t['\r'] = symNewline, symNewline
	for i := 0; i < len(punctuation); i++ {
		t[punctuation[i]] = byte(symPunct + i)
	}
	return t
}()

// gramMask keeps the last Order symbols of a packed n-gram: 6 bits each,
// the predicted symbol in the lowest bits.
const gramMask = 1<<(6*Order) - 1

// gramKey is the key of the last k symbols of packed n-gram g.
func gramKey(g uint32, k int) uint64 {
	return uint64(k-1)<<(6*Order) | uint64(g&(1<<(6*k)-1))
}

// key packs an n-gram of 1 to Order symbols (the last one predicted): its
// length less one above 6 bits per symbol.
func key(g []byte) uint64 {
	var k uint64
	for _, s := range g {
		k = k<<6 | uint64(s)
	}
	return uint64(len(g)-1)<<(6*Order) | k
}

// Model is a trained likelihood-ratio table with its operating settings.
type Model struct {
	keys []uint64 // sorted
	vals []int8   // log2 P(soup) - log2 P(language), in 1/8 bit
	// index[b] is the first key at or above b<<indexShift: a lookup
	// searches one bucket only.
	index []uint32
	// short holds the ratios of the n-grams shorter than Order densely,
	// by their packed symbols (absent: -128).
	short [Order - 1][]int8
	long  bloom // the n-grams of length Order

	// Window is the number of scored characters a window holds; Tail is
	// how far from the end of a line a window may end; MinScored is the
	// fewest scored characters a line needs to be scored at all.
	Window, Tail, MinScored int
	// Low, Medium and High are the scores from which a span is reported
	// with LOW, MEDIUM and HIGH confidence.
	Low, Medium, High float32
}

// llr returns the ratio for the last symbol of packed n-gram g (a context
// cut short is padded with symBoundary), from the longest n-gram present.
func (m *Model) llr(g uint32) float64 {
	if m.long.has(uint64(g)) {
		kk := gramKey(g, Order)
		b := kk >> indexShift
		lo, hi := int(m.index[b]), int(m.index[b+1])
		if i, ok := slices.BinarySearch(m.keys[lo:hi], kk); ok {
			return float64(m.vals[lo+i]) / 8
		}
	}
	for k := Order - 1; k >= 1; k-- {
		if v := m.short[k-1][g&(1<<(6*k)-1)]; v != -128 {
			return float64(v) / 8
		}
	}
	return 0
}

// bloom is a one-hash Bloom filter over the packed n-grams of length Order
// in the model, so that most absent ones are not searched for.
type bloom []uint64

const bloomBits = 21

func bloomBit(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> (64 - bloomBits) }

func (b bloom) has(k uint64) bool { i := bloomBit(k); return b[i>>6]&(1<<(i&63)) != 0 }

// indexShift sets the buckets of Model.index: keys are below
// 1<<(6*Order+2), so there are 1<<(6*Order+2-indexShift) of them.
const indexShift = 6*Order + 2 - 14

// buildIndex fills m.index and m.short from the sorted keys.
func (m *Model) buildIndex() {
	for k := range m.short {
		m.short[k] = make([]int8, 1<<(6*(k+1)))
		for i := range m.short[k] {
			m.short[k][i] = -128
		}
	}
	m.long = make(bloom, 1<<bloomBits/64)
	for i, kk := range m.keys {
		if n := int(kk>>(6*Order)) + 1; n < Order {
			m.short[n-1][kk&(1<<(6*Order)-1)] = m.vals[i]
		} else {
			i := bloomBit(kk & gramMask)
			m.long[i>>6] |= 1 << (i & 63)
		}
	}
	n := 1<<(6*Order+2-indexShift) + 1
	m.index = make([]uint32, n)
	j := 0
	for b := range n {
		for j < len(m.keys) && m.keys[j]>>indexShift < uint64(b) {
			j++
		}
		m.index[b] = uint32(j)
	}
}

// Span is the highest-scoring window found by Score, in byte offsets of
// the text.
type Span struct {
	Score      float64 // mean ratio per character, in bits
	Start, End int
	// Rest is the mean ratio of the other characters scored (the tails
	// of the lines), 0 if none.
	Rest float64
}

// opaque reports whether a space-separated token is skipped as neither
// language nor soup: a URL, e-mail address or file path (two separators or
// more), a long base64, hex or URL-like run, or words run together without spaces (40 bytes or more
// with at most two junctions of case, digits or code marks, where soup run
// together has many).
func opaque(tok string) bool {
	if len(tok) >= 4 && (strings.Contains(tok, "://") || tok[:4] == "www.") || strings.IndexByte(tok, '@') > 0 {
		return true
	}
	if len(tok) >= 40 && junctions(tok) <= 2 || strings.Count(tok, "/")+strings.Count(tok, "\\") >= 2 {
		return true
	}
	if len(tok) < 24 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' ||
			c == '=' || c == '_' || c == '-' || c == '.' || c == ':' || c == '%' || c == '~') {
			return false
		}
	}
	return true
}

// junctions counts the places in tok where a lower-case letter meets an
// upper-case one, a letter meets a digit, or a code mark (_ ; ( ) [ ] { }
// < > = $ | \\) stands.
func junctions(tok string) int {
	n := 0
	for i := 1; i < len(tok); i++ {
		a, b := tok[i-1], tok[i]
		switch {
		case a >= 'a' && a <= 'z' && b >= 'A' && b <= 'Z',
			isLetter(a) && b >= '0' && b <= '9', a >= '0' && a <= '9' && isLetter(b),
			strings.IndexByte("_;()[]{}<>=$|\\", b) >= 0:
			n++
		}
	}
	return n
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// name reports whether tok is a capitalised word (Title or ALL CAPS
// letters, with punctuation before or after): names, and nouns in German,
// which the language model cannot know and which are skipped.
func name(tok string) bool {
	i, j := 0, len(tok)
	for i < j && !(tok[i] >= 'A' && tok[i] <= 'Z' || tok[i] >= 'a' && tok[i] <= 'z') {
		i++
	}
	for j > i && !(tok[j-1] >= 'A' && tok[j-1] <= 'Z' || tok[j-1] >= 'a' && tok[j-1] <= 'z') {
		j--
	}
	if i == j || tok[i] < 'A' || tok[i] > 'Z' {
		return false
	}
	lower := false
	for k := i + 1; k < j; k++ {
		c := tok[k]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			if lower {
				return false // camel case
			}
		case c == '\'' || c == '-' || c == '.':
		default:
			return false
		}
	}
	return true
}

// symbols calls fn for every scored character of one line of text (no
// '\n'), with its byte offset (plus base) and the n-gram that ends at it
// (packed, see gramMask), padded with symBoundary after the start and after
// every reset.
func symbols(line string, base int, fn func(off int, g uint32)) {
	var g uint32 // the last Order symbols, 6 bits each, the current one lowest
	reset := func() { g = 0 }
	prevLower := false
	for i := 0; i < len(line); {
		// One space-separated token at a time, to skip opaque ones.
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j < len(line) {
			j++ // the space belongs to the token before it
		}
		if t := strings.TrimRight(line[i:j], " \t"); opaque(t) || name(t) {
			reset()
			prevLower = false
			i = j
			continue
		}
		for k := i; k < j; k++ {
			c := line[k]
			s := symOf[c]
			if s == 0xff {
				reset()
				prevLower = false
				continue
			}
			if s >= symPunct && k >= i+2 && line[k-1] == c && line[k-2] == c {
				continue // a run of one mark (dot leaders, ----) reads as two
			}
			upper := c >= 'A' && c <= 'Z'
			if upper && prevLower {
				g = (g<<6 | symCase) & gramMask
				fn(base+k, g)
			}
			prevLower = c >= 'a' && c <= 'z'
			g = (g<<6 | uint32(s)) & gramMask
			fn(base+k, g)
		}
		i = j
	}
}

// Score returns the highest-scoring window of text (see the package
// documentation); Score is -Inf when no line has MinScored characters. It
// reads only the tail of each line (about four bytes for each of the last
// Tail+Window-1 characters, from a token boundary), so it costs at most
// linear time, and returns ctx's error when it is done.
func (m *Model) Score(ctx context.Context, text string) (Span, error) {
	best := Span{Score: math.Inf(-1)}
	k := m.Tail + m.Window - 1
	grams := make([]uint32, k) // ring of the last k n-grams of the line
	offs := make([]int32, k)
	per := make([]float64, 0, k)
	total, totalN := 0.0, 0
	bestSum, bestN := 0.0, 0
	work := 0
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		line, base := text[start:end], start
		// Only the tail of a line is scored: read it from a token
		// boundary about four bytes per character it must hold before
		// the end (a skipped token or letters outside ASCII make the
		// tail shorter, never the scan longer).
		if lim := 4*k + 16; len(line) > lim {
			cut := len(line) - lim
			if sp := strings.IndexByte(line[cut:], ' '); sp >= 0 {
				cut += sp + 1
			}
			line, base = line[cut:], start+cut
		}
		n := 0
		symbols(line, base, func(off int, g uint32) {
			grams[n%k] = g
			offs[n%k] = int32(off)
			n++
		})
		if work += end - start; work >= 1<<14 {
			work = 0
			if err := ctx.Err(); err != nil {
				return best, err
			}
		}
		start = end + 1
		if n < m.MinScored {
			continue
		}
		// The last min(n, k) characters, oldest first.
		first := max(0, n-k)
		per = per[:0]
		for i := first; i < n; i++ {
			v := m.llr(grams[i%k])
			per = append(per, v)
			total += v
		}
		totalN += len(per)
		w := min(m.Window, len(per))
		sum := 0.0
		for i := 0; i < w; i++ {
			sum += per[i]
		}
		for i := w - 1; i < len(per); i++ {
			if i >= w {
				sum += per[i] - per[i-w]
			}
			if len(per)-1-i < m.Tail {
				if s := sum / float64(w); s > best.Score {
					best = Span{Score: s, Start: int(offs[(first+i-w+1)%k]), End: int(offs[(first+i)%k]) + 1}
					bestSum, bestN = sum, w
				}
			}
		}
	}
	if totalN > bestN {
		best.Rest = (total - bestSum) / float64(totalN-bestN)
	}
	return best, ctx.Err()
}

var magic = []byte("BKPX1\n")

// Marshal encodes the model: settings, then the keys as varint deltas and
// the values.
func (m *Model) Marshal() []byte {
	var b bytes.Buffer
	b.Write(magic)
	for _, v := range []int32{int32(m.Window), int32(m.Tail), int32(m.MinScored)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for _, v := range []float32{m.Low, m.Medium, m.High} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	binary.Write(&b, binary.LittleEndian, uint32(len(m.keys)))
	var buf [binary.MaxVarintLen64]byte
	prev := uint64(0)
	for _, k := range m.keys {
		b.Write(buf[:binary.PutUvarint(buf[:], k-prev)])
		prev = k
	}
	for _, v := range m.vals {
		b.WriteByte(byte(v))
	}
	return b.Bytes()
}

// Unmarshal decodes a model written by Marshal.
func Unmarshal(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, magic) {
		return nil, errors.New("perplexity: not a model file")
	}
	r := bytes.NewReader(data[len(magic):])
	var ints [3]int32
	var th [3]float32
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &ints); err != nil {
		return nil, err
	}
	if err := binary.Read(r, binary.LittleEndian, &th); err != nil {
		return nil, err
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, err
	}
	if n > 1<<24 || ints[0] < 1 || ints[1] < 1 || ints[2] < 1 || ints[0] > 4096 || ints[1] > 4096 || ints[2] > 4096 {
		return nil, fmt.Errorf("perplexity: bad model header")
	}
	m := &Model{Window: int(ints[0]), Tail: int(ints[1]), MinScored: int(ints[2]), Low: th[0], Medium: th[1], High: th[2],
		keys: make([]uint64, n), vals: make([]int8, n)}
	prev := uint64(0)
	for i := range m.keys {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("perplexity: keys: %w", err)
		}
		prev += d
		if prev >= 1<<(6*Order+2) || i > 0 && d == 0 {
			return nil, fmt.Errorf("perplexity: keys out of order")
		}
		m.keys[i] = prev
	}
	if r.Len() != int(n) {
		return nil, fmt.Errorf("perplexity: %d values, want %d", r.Len(), n)
	}
	for i := range m.vals {
		c, _ := r.ReadByte()
		m.vals[i] = int8(c)
	}
	m.buildIndex()
	return m, nil
}

//go:embed model.bin
var modelBin []byte

var (
	defaultOnce  sync.Once
	defaultModel *Model
)

// Default returns the embedded model, trained by `go generate
// ./guardrail/internal/classify` (see its train program).
func Default() *Model {
	defaultOnce.Do(func() {
		var err error
		if defaultModel, err = Unmarshal(modelBin); err != nil {
			panic("perplexity: embedded model: " + err.Error())
		}
	})
	return defaultModel
}
