package localindex

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

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
	links    [][][]int32 // per slot, per layer >= 1 (index 0 unused)
	// l0 holds every slot's layer-0 links in one array, m0+1 int32s a
	// slot (count, then the links): the layer every search spends its
	// time in is read without chasing pointers.
	l0       []int32
	entry    int32
	maxLevel int
	rng      *rand.Rand
	visits   sync.Pool

	// During a parallel batch insert, building is set and every read or
	// write of a node's links holds that node's lock; entryMu guards entry
	// and maxLevel. Searches never run during a build (the index holds its
	// write lock), so they skip the locks.
	building bool
	locks    []sync.Mutex
	entryMu  sync.Mutex
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
	return g.ix.vecs.at(int(s))
}

// simQ is the cosine similarity of unit query qn and slot s.
func (g *hnsw) simQ(qn []float32, s int32) float32 {
	return simd.Dot(qn, g.vec(s)) * g.ix.inv[s]
}

// prefetch starts loading the memory score(_, s, quick) will read.
func (g *hnsw) prefetch(s int32, quick bool) {
	if quick {
		simd.PrefetchInt8(g.ix.codes.at(int(s)))
	} else {
		simd.PrefetchFloat32(g.vec(s))
	}
}

// score is simQ, or with quick its int8 approximation from the slot's
// codes (a quarter of the memory traffic; searches rescore the result).
func (g *hnsw) score(qn []float32, s int32, quick bool) float32 {
	if quick {
		return simd.DotInt8(qn, g.ix.codes.at(int(s))) * g.ix.scales[s]
	}
	return g.simQ(qn, s)
}

func (g *hnsw) sim(a, b int32) float32 {
	return simd.Dot(g.vec(a), g.vec(b)) * g.ix.inv[a] * g.ix.inv[b]
}

// neighbors returns node s's layer-l links; during a build, a copy taken
// under the node's lock.
func (g *hnsw) neighbors(s int32, l int, buf []int32) []int32 {
	if !g.building {
		return g.get(s, l)
	}
	g.locks[s].Lock()
	buf = append(buf[:0], g.get(s, l)...)
	g.locks[s].Unlock()
	return buf
}

// get returns node s's layer-l links (not a copy).
func (g *hnsw) get(s int32, l int) []int32 {
	if l > 0 {
		return g.links[s][l]
	}
	base := int(s) * (g.m0 + 1)
	return g.l0[base+1 : base+1+int(g.l0[base]) : base+1+g.m0]
}

// set replaces node s's layer-l links with list (at most m0 on layer 0).
func (g *hnsw) set(s int32, l int, list []int32) {
	if l > 0 {
		g.links[s][l] = list
		return
	}
	base := int(s) * (g.m0 + 1)
	g.l0[base] = int32(copy(g.l0[base+1:base+1+g.m0], list))
}

// addLink adds the link n->s on layer l, pruning n's list back to mmax
// with the heuristic when it is full. Caller holds n's lock.
func (g *hnsw) addLink(n, s int32, l, mmax int) {
	cur := g.get(n, l)
	if len(cur) < mmax {
		if l > 0 {
			g.links[n][l] = append(cur, s)
		} else {
			base := int(n) * (g.m0 + 1)
			g.l0[base+1+len(cur)] = s
			g.l0[base]++
		}
		return
	}
	cands := make([]cand, 0, len(cur)+1)
	for _, x := range cur {
		cands = append(cands, cand{g.sim(n, x), x})
	}
	cands = append(cands, cand{g.sim(n, s), s})
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	g.set(n, l, g.selectNeighbors(cands, mmax))
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

// walkCheck is how many nodes a graph walk expands between context
// checks (each expansion scores up to 2*M neighbours).
const walkCheck = 64

// searchLayer returns up to ef nodes of layer closest to qn, reached from
// eps, best first. Only nodes accept allows enter the result (all nodes
// are walked through); accept nil allows all. A selective accept can make
// the walk visit the whole layer, so it checks ctx every walkCheck
// expansions and stops early when it is done (the caller reports
// ctx.Err()).
func (g *hnsw) searchLayer(ctx context.Context, qn []float32, eps []cand, ef, layer int, accept func(int32) bool, quick bool) []cand {
	vs := g.getVisits()
	defer g.visits.Put(vs)
	mark, gen := vs.mark, vs.gen
	var c maxHeap
	w := newTopK(ef)
	for _, e := range eps {
		mark[e.slot] = gen
		c.push(e)
		if accept == nil || accept(e.slot) {
			w.push(e)
		}
	}
	var buf, fresh []int32
	for pops := 0; len(c) > 0; pops++ {
		if pops%walkCheck == 0 && ctx.Err() != nil {
			break
		}
		cur := c.pop()
		if w.full() && cur.score < w.h[0].score {
			break
		}
		// Mark the unvisited neighbours and start loading their vectors,
		// then score them: the loads overlap instead of queueing.
		fresh = fresh[:0]
		for _, n := range g.neighbors(cur.slot, layer, buf) {
			if mark[n] != gen {
				mark[n] = gen
				fresh = append(fresh, n)
				g.prefetch(n, quick)
			}
		}
		for _, n := range fresh {
			s := g.score(qn, n, quick)
			if !w.full() || s > w.h[0].score {
				c.push(cand{s, n})
				if accept == nil || accept(n) {
					w.push(cand{s, n})
				}
			}
		}
		if layer == 0 && len(c) > 0 && !g.building {
			// The next node expanded is most likely the best candidate:
			// start loading its links.
			base := int(c[0].slot) * (g.m0 + 1)
			simd.PrefetchInt32(g.l0[base : base+g.m0+1])
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

// grow sizes the per-slot arrays to the index. Not during a build.
func (g *hnsw) grow() {
	for len(g.level) < len(g.ix.slots) {
		g.level = append(g.level, -1)
		g.links = append(g.links, nil)
	}
	if need := len(g.level)*(g.m0+1) - len(g.l0); need > 0 {
		g.l0 = append(g.l0, make([]int32, need)...)
	}
	if len(g.locks) < len(g.level) {
		g.locks = make([]sync.Mutex, cap(g.level)) // all unlocked outside a build
	}
}

// parallelMin is the batch size from which inserts run in parallel.
const parallelMin = 256

// insertBatch adds the slots to the graph, in parallel across workers
// goroutines (all finished before it returns) for large batches.
func (g *hnsw) insertBatch(slots []int32, workers int) {
	g.grow()
	levels := make([]int, len(slots))
	for i := range slots {
		levels[i] = g.randomLevel()
	}
	i := 0
	for ; i < len(slots) && g.entry < 0; i++ {
		g.insertAt(slots[i], levels[i])
	}
	if workers <= 1 || len(slots)-i < parallelMin {
		for ; i < len(slots); i++ {
			g.insertAt(slots[i], levels[i])
		}
		return
	}
	g.building = true
	var next atomic.Int64
	next.Store(int64(i))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= len(slots) {
					return
				}
				g.insertAt(slots[j], levels[j])
			}
		}()
	}
	wg.Wait()
	g.building = false
}

func (g *hnsw) randomLevel() int {
	return min(int(-math.Log(1-g.rng.Float64())*g.ml), 30)
}

// insert adds slot s (whose vector is already stored) to the graph.
func (g *hnsw) insert(s int32) {
	g.grow()
	g.insertAt(s, g.randomLevel())
}

// insertAt adds slot s at level lvl. During a build it may run
// concurrently with other insertAt calls.
func (g *hnsw) insertAt(s int32, lvl int) {
	entry, maxLevel := g.place(s, lvl)
	if entry < 0 {
		return
	}
	qn := g.unitVec(s)
	// With int8 codes the walk scores with them (a quarter of the memory
	// traffic, which bounds the build at a million vectors), and the
	// efConstruction candidates found are rescored exactly before the
	// neighbours are chosen, so links are picked on exact similarities.
	quick := g.ix.codes.len() > 0
	ep := []cand{{g.score(qn, entry, quick), entry}}
	for l := maxLevel; l > lvl; l-- {
		ep = g.searchLayer(context.Background(), qn, ep, 1, l, nil, quick)
	}
	for l := min(lvl, maxLevel); l >= 0; l-- {
		w := g.searchLayer(context.Background(), qn, ep, g.efC, l, nil, quick)
		sel := w
		if quick {
			// Rescored exactly and chosen from on exact similarities
			// (rescoring only the best few dozen cost recall: the
			// heuristic often reaches further); the walk on the layer
			// below starts from w as the codes scored it.
			sel = g.rescored(qn, w)
		}
		g.linkLayer(s, l, sel)
		ep = w
	}
	if lvl > maxLevel {
		g.raiseEntry(s, lvl)
	}
}

// place puts slot s in the graph at level lvl with no links yet, and makes
// it the entry point of an empty graph. It returns the entry point and top
// level it found (entry < 0 when the graph was empty).
func (g *hnsw) place(s int32, lvl int) (entry int32, maxLevel int) {
	g.level[s] = int8(lvl)
	links := make([][]int32, lvl+1)
	if g.building {
		g.locks[s].Lock()
		g.links[s] = links
		g.locks[s].Unlock()
		g.entryMu.Lock()
	} else {
		g.links[s] = links
	}
	entry, maxLevel = g.entry, g.maxLevel
	if entry < 0 {
		g.entry, g.maxLevel = s, lvl
	}
	if g.building {
		g.entryMu.Unlock()
	}
	return entry, maxLevel
}

// unitVec returns a copy of slot s's vector scaled to unit length.
func (g *hnsw) unitVec(s int32) []float32 {
	qn := slices.Clone(g.vec(s))
	inv := g.ix.inv[s]
	for i := range qn {
		qn[i] *= inv
	}
	return qn
}

// rescored returns a copy of the candidates w with exact similarities to
// unit query qn, best first.
func (g *hnsw) rescored(qn []float32, w []cand) []cand {
	sel := slices.Clone(w)
	for i := range sel {
		sel[i].score = g.simQ(qn, sel[i].slot)
	}
	slices.SortFunc(sel, func(a, b cand) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	return sel
}

// linkLayer links slot s on layer l to the neighbours chosen from the
// candidates sel, and each neighbour back to s.
func (g *hnsw) linkLayer(s int32, l int, sel []cand) {
	mmax := g.m
	if l == 0 {
		mmax = g.m0
	}
	nb := g.selectNeighbors(sel, g.m)
	g.lock(s)
	g.set(s, l, nb)
	g.unlock(s)
	for _, n := range nb {
		g.lock(n)
		g.addLink(n, s, l, mmax)
		g.unlock(n)
	}
}

// raiseEntry makes slot s, at level lvl, the entry point if lvl is above
// the graph's top level.
func (g *hnsw) raiseEntry(s int32, lvl int) {
	if g.building {
		g.entryMu.Lock()
		defer g.entryMu.Unlock()
	}
	if lvl > g.maxLevel {
		g.entry, g.maxLevel = s, lvl
	}
}

func (g *hnsw) lock(s int32) {
	if g.building {
		g.locks[s].Lock()
	}
}

func (g *hnsw) unlock(s int32) {
	if g.building {
		g.locks[s].Unlock()
	}
}

// search returns the k best live slots accept allows (nil: all). When the
// index keeps int8 codes the walk scores with them and the ef candidates
// found are rescored in float32, so returned scores are exact.
func (g *hnsw) search(ctx context.Context, qn []float32, k int, accept func(int32) bool) ([]cand, error) {
	if g.entry < 0 {
		return nil, nil
	}
	slots := g.ix.slots
	quick := g.ix.codes.len() > 0
	live := func(s int32) bool { return slots[s] != nil && (accept == nil || accept(s)) }
	ep := []cand{{g.score(qn, g.entry, quick), g.entry}}
	for l := g.maxLevel; l > 0; l-- {
		ep = g.searchLayer(ctx, qn, ep, 1, l, nil, quick)
	}
	res := g.searchLayer(ctx, qn, ep, max(g.efS, k), 0, live, quick)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if quick {
		t := newTopK(k)
		for i, c := range res {
			if i%8 == 0 {
				for _, p := range res[i:min(i+8, len(res))] {
					g.prefetch(p.slot, false)
				}
			}
			t.push(cand{g.simQ(qn, c.slot), c.slot})
		}
		res = t.sorted()
	}
	if len(res) > k {
		res = res[:k]
	}
	return res, nil
}
