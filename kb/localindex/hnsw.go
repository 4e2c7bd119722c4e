package localindex

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/bedrockkit/bedrockkit/internal/simd"
)

// hnsw is a Hierarchical Navigable Small World graph (Malkov & Yashunin)
// over the index's slots, with the paper's neighbour-selection heuristic.
// Scores are cosine similarities (higher is closer). Deleted slots stay in
// the graph as tombstones that searches pass through but never return; the
// index compacts when tombstones outnumber live vectors.
type hnsw struct {
	ix       *Index
	m, m0    int
	efC, efS int
	ml       float64
	level    []int8      // per slot; -1 when not in the graph
	links    [][][]int32 // per slot, per layer
	entry    int32
	maxLevel int
	rng      *rand.Rand
	visits   sync.Pool
}

func newHNSW(ix *Index, m, efC, efS int, seed uint64) *hnsw {
	return &hnsw{
		ix: ix, m: m, m0: 2 * m, efC: efC, efS: efS,
		ml:    1 / math.Log(float64(m)),
		entry: -1,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

type visitSet struct {
	mark []uint32
	gen  uint32
}

func (g *hnsw) getVisits() *visitSet {
	n := len(g.ix.slots)
	v, _ := g.visits.Get().(*visitSet)
	if v == nil || len(v.mark) < n {
		v = &visitSet{mark: make([]uint32, n+n/4+64)}
	}
	v.gen++
	if v.gen == 0 {
		clear(v.mark)
		v.gen = 1
	}
	return v
}

func (g *hnsw) vec(s int32) []float32 {
	d := g.ix.dim
	return g.ix.vecs[int(s)*d : int(s+1)*d : int(s+1)*d]
}

// simQ is the cosine similarity of unit query qn and slot s.
func (g *hnsw) simQ(qn []float32, s int32) float32 {
	return simd.Dot(qn, g.vec(s)) * g.ix.inv[s]
}

func (g *hnsw) sim(a, b int32) float32 {
	return simd.Dot(g.vec(a), g.vec(b)) * g.ix.inv[a] * g.ix.inv[b]
}

// maxHeap is the candidate queue (best first).
type maxHeap []cand

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].score >= a[i].score {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *maxHeap) pop() cand {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a[r].score > a[l].score {
			m = r
		}
		if a[i].score >= a[m].score {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// searchLayer returns up to ef nodes of layer closest to qn, reached from
// eps, best first. Only nodes accept allows enter the result (all nodes
// are walked through); accept nil allows all.
func (g *hnsw) searchLayer(qn []float32, eps []cand, ef, layer int, accept func(int32) bool) []cand {
	vs := g.getVisits()
	defer g.visits.Put(vs)
	var c maxHeap
	w := newTopK(ef)
	for _, e := range eps {
		vs.mark[e.slot] = vs.gen
		c.push(e)
		if accept == nil || accept(e.slot) {
			w.push(e)
		}
	}
	for len(c) > 0 {
		cur := c.pop()
		if w.full() && cur.score < w.h[0].score {
			break
		}
		for _, n := range g.links[cur.slot][layer] {
			if vs.mark[n] == vs.gen {
				continue
			}
			vs.mark[n] = vs.gen
			s := g.simQ(qn, n)
			if !w.full() || s > w.h[0].score {
				c.push(cand{s, n})
				if accept == nil || accept(n) {
					w.push(cand{s, n})
				}
			}
		}
	}
	return w.sorted()
}

// selectNeighbors applies the heuristic: walk candidates best first and
// keep one only if it is closer to the base than to every one kept, which
// keeps links spread across clusters.
func (g *hnsw) selectNeighbors(cands []cand, m int) []int32 {
	out := make([]int32, 0, m)
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		ok := true
		for _, r := range out {
			if g.sim(c.slot, r) > c.score {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, c.slot)
		}
	}
	return out
}

func (g *hnsw) grow() {
	for len(g.level) < len(g.ix.slots) {
		g.level = append(g.level, -1)
		g.links = append(g.links, nil)
	}
}

// insert adds slot s (whose vector is already stored) to the graph.
func (g *hnsw) insert(s int32) {
	g.grow()
	lvl := int(-math.Log(1-g.rng.Float64()) * g.ml)
	lvl = min(lvl, 30)
	g.level[s] = int8(lvl)
	g.links[s] = make([][]int32, lvl+1)
	if g.entry < 0 {
		g.entry, g.maxLevel = s, lvl
		return
	}
	qn := slices.Clone(g.vec(s))
	inv := g.ix.inv[s]
	for i := range qn {
		qn[i] *= inv
	}
	ep := []cand{{g.simQ(qn, g.entry), g.entry}}
	for l := g.maxLevel; l > lvl; l-- {
		ep = g.searchLayer(qn, ep, 1, l, nil)
	}
	for l := min(lvl, g.maxLevel); l >= 0; l-- {
		w := g.searchLayer(qn, ep, g.efC, l, nil)
		mmax := g.m
		if l == 0 {
			mmax = g.m0
		}
		nb := g.selectNeighbors(w, g.m)
		g.links[s][l] = nb
		for _, n := range nb {
			g.links[n][l] = append(g.links[n][l], s)
			if len(g.links[n][l]) > mmax {
				g.shrink(n, l, mmax)
			}
		}
		ep = w
	}
	if lvl > g.maxLevel {
		g.entry, g.maxLevel = s, lvl
	}
}

// shrink cuts node n's layer-l links back to mmax with the heuristic.
func (g *hnsw) shrink(n int32, l, mmax int) {
	cur := g.links[n][l]
	cands := make([]cand, len(cur))
	for i, x := range cur {
		cands[i] = cand{g.sim(n, x), x}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	g.links[n][l] = append(cur[:0], g.selectNeighbors(cands, mmax)...)
}

// search returns the k best live slots accept allows (nil: all).
func (g *hnsw) search(qn []float32, k int, accept func(int32) bool) []cand {
	if g.entry < 0 {
		return nil
	}
	slots := g.ix.slots
	live := func(s int32) bool { return slots[s] != nil && (accept == nil || accept(s)) }
	ep := []cand{{g.simQ(qn, g.entry), g.entry}}
	for l := g.maxLevel; l > 0; l-- {
		ep = g.searchLayer(qn, ep, 1, l, nil)
	}
	res := g.searchLayer(qn, ep, max(g.efS, k), 0, live)
	if len(res) > k {
		res = res[:k]
	}
	return res
}
