package perplexity

import (
	"math"
	"slices"
	"strings"
)

// TrainOptions are the settings of Train. Zero values take the defaults.
type TrainOptions struct {
	// MinCount is how often an n-gram must occur in a language model's
	// text to be used (default 4); rarer ones back off to a shorter
	// context.
	MinCount int
	// Prune drops a ratio within Prune bits of the one its shorter context
	// gives (default 1.5).
	Prune float64
	// Window, Tail and MinScored are stored in the model (defaults 60,
	// 150, 40).
	Window, Tail, MinScored int
}

// backoff is the factor of stupid backoff (Brants et al. 2007).
const backoff = 0.4

// counts holds the n-gram and context counts of one language model.
type counts struct {
	grams, ctx map[uint64]uint32
	min        uint32
}

// ctxKey is the key of the context g[:len(g)-1] of n-gram g.
func ctxKey(g []byte) uint64 {
	if len(g) == 1 {
		return 1 << 63
	}
	return key(g[:len(g)-1]) | 1<<62
}

func count(texts []string, min uint32) *counts {
	c := &counts{grams: map[uint64]uint32{}, ctx: map[uint64]uint32{}, min: min}
	for _, t := range texts {
		for _, line := range strings.Split(t, "\n") {
			symbols(line, 0, func(_ int, g uint32) {
				for k := 1; k <= Order; k++ {
					s := unpack(gramKey(g, k))
					c.grams[key(s)]++
					c.ctx[ctxKey(s)]++
				}
			})
		}
	}
	return c
}

// bits is -log2 of the stupid-backoff score of the last symbol of g.
func (c *counts) bits(g []byte) float64 {
	pen := 0.0
	for k := len(g); k >= 1; k-- {
		s := g[len(g)-k:]
		if n := c.grams[key(s)]; n >= c.min {
			return pen - math.Log2(float64(n)/float64(c.ctx[ctxKey(s)]))
		}
		pen -= math.Log2(backoff)
	}
	return pen + 16
}

// unpack returns the n-gram of key k.
func unpack(k uint64) []byte {
	n := int(k>>(6*Order)) + 1
	k &= 1<<(6*Order) - 1
	g := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		g[i] = byte(k & 63)
		k >>= 6
	}
	return g
}

// Train builds a model from ordinary text (language) and token soup: the
// ratio of the soup model's probability to the language model's for every
// n-gram either saw at least MinCount times, without those the shorter
// context predicts within Prune bits. Thresholds are left at zero for the
// caller to set. Deterministic.
func Train(language, soup []string, o TrainOptions) *Model {
	if o.MinCount == 0 {
		o.MinCount = 4
	}
	if o.Prune == 0 {
		o.Prune = 1.5
	}
	if o.Window == 0 {
		o.Window = 60
	}
	if o.Tail == 0 {
		o.Tail = 150
	}
	if o.MinScored == 0 {
		o.MinScored = 40
	}
	lang, sp := count(language, uint32(o.MinCount)), count(soup, uint32(o.MinCount))
	byOrder := make([][]uint64, Order+1)
	seen := map[uint64]bool{}
	for _, c := range []*counts{lang, sp} {
		for k, n := range c.grams {
			if n >= c.min && !seen[k] {
				seen[k] = true
				byOrder[len(unpack(k))] = append(byOrder[len(unpack(k))], k)
			}
		}
	}
	m := &Model{Window: o.Window, Tail: o.Tail, MinScored: o.MinScored}
	table := map[uint64]int8{}
	lookup := func(g []byte) float64 {
		for k := len(g); k >= 1; k-- {
			if v, ok := table[key(g[len(g)-k:])]; ok {
				return float64(v) / 8
			}
		}
		return 0
	}
	for n := 1; n <= Order; n++ {
		keys := byOrder[n]
		slices.Sort(keys)
		for _, k := range keys {
			g := unpack(k)
			v := lang.bits(g) - sp.bits(g)
			if n > 1 && math.Abs(v-lookup(g[1:])) < o.Prune {
				continue
			}
			table[k] = int8(max(-127, min(127, math.Round(v*8))))
		}
	}
	for k := range table {
		m.keys = append(m.keys, k)
	}
	slices.Sort(m.keys)
	m.vals = make([]int8, len(m.keys))
	for i, k := range m.keys {
		m.vals[i] = table[k]
	}
	m.buildIndex()
	return m
}

// Len returns the number of n-grams in the model.
func (m *Model) Len() int { return len(m.keys) }
