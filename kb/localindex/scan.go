package localindex

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/bedrockkit/bedrockkit/internal/simd"
)

// cand is a scored slot.
type cand struct {
	score float32
	slot  int32
}

// topK keeps the k best candidates in a min-heap (worst at the root).
type topK struct {
	k int
	h []cand
}

func newTopK(k int) *topK { return &topK{k: k, h: make([]cand, 0, k)} }

// threshold is the score a candidate must beat to enter.
func (t *topK) full() bool { return len(t.h) == t.k }

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	i, n := 0, len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && worse(t.h[r], t.h[l]) {
			m = r
		}
		if !worse(t.h[m], t.h[i]) {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// worse orders candidates: lower score, then higher slot, is worse, so
// results are deterministic under ties.
func worse(a, b cand) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.slot > b.slot
}

// sorted returns the candidates best first.
func (t *topK) sorted() []cand {
	out := slices.Clone(t.h)
	slices.SortFunc(out, func(a, b cand) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	return out
}

// minPerWorker is the smallest share of slots worth a goroutine.
const minPerWorker = 4096

// parallel splits [0,n) into at most workers contiguous ranges, runs fn on
// each (in goroutines that all finish before it returns) and merges their
// top-k lists.
func parallel(ctx context.Context, n, workers, k int, fn func(lo, hi int, t *topK)) ([]cand, error) {
	w := min(workers, (n+minPerWorker-1)/minPerWorker)
	if w <= 1 {
		t := newTopK(k)
		fn(0, n, t)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return t.sorted(), nil
	}
	tops := make([]*topK, w)
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := n*i/w, n*(i+1)/w
		tops[i] = newTopK(k)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi, tops[i])
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all := tops[0]
	for _, t := range tops[1:] {
		for _, c := range t.h {
			all.push(c)
		}
	}
	return all.sorted(), nil
}

// checkEvery is how many slots a scan visits between context checks: a
// filter costs at most its operators per slot (kb's limits), so a done
// context is seen within well under a millisecond of work.
const checkEvery = 1024

// scanFloat is the exact scan over float32 vectors. part (the partition)
// is checked for every slot, match (the filter) only for those whose
// score would enter the best k: a record that could not enter needs no
// filter.
func (ix *Index) scanFloat(ctx context.Context, qn []float32, k int, part, match func(int32) bool) ([]cand, error) {
	dim, vecs, inv, slots := ix.dim, ix.vecs, ix.inv, ix.slots
	return parallel(ctx, len(slots), ix.opts.Workers, k, func(lo, hi int, t *topK) {
		thr := float32(-2)
		var page []float32 // the page holding slot s, looked up once a page
		for s := lo; s < hi; s++ {
			if s == lo || s&pageMask == 0 {
				page = vecs.pages[s>>pageShift]
			}
			if (s-lo)%checkEvery == checkEvery-1 && ctx.Err() != nil {
				return
			}
			if slots[s] == nil || (part != nil && !part(int32(s))) {
				continue
			}
			o := (s & pageMask) * dim
			sc := simd.Dot(qn, page[o:o+dim:o+dim]) * inv[s]
			if sc > thr || !t.full() {
				if match != nil && !match(int32(s)) {
					continue
				}
				t.push(cand{sc, int32(s)})
				if t.full() {
					thr = t.h[0].score
				}
			}
		}
	})
}

// boundMargin covers float32 rounding when comparing an approximate score
// plus its error bound with an exact one. Both are float32 dot products of
// n terms whose absolute values sum to at most about 1 (unit query; the
// codes' norm is at most 1 plus the residual), so each is within about
// 1.1*n*2^-24 of its real value (the standard worst-case bound, with room
// for the scale and norm multiplications). Three times n*2^-24, plus a
// constant for the rounding of the residual and the query's norm, bounds
// the comparison for any dimension (9e-5 at 384, 5.7e-4 at 3,072).
func boundMargin(dim int) float32 {
	return float32(3*(dim+4))/(1<<24) + 2e-5
}

var approxPool = sync.Pool{New: func() any { return new([]float32) }}

// scanInt8 is exact search through the int8 codes. Pass 1 scans the codes
// (in parallel), remembering every approximate score and the best
// max(k*RescoreFactor, 64). Those are rescored exactly; the k-th exact
// score T is then a threshold: a vector whose approximate score plus its
// residual bound is below T cannot be in the top k. Pass 2 rescores the
// rest that are not ruled out. The result equals a float32 scan's. As
// in scanFloat, the filter (match) is evaluated only where a record's
// approximate score would enter pass 1's list or its bound reaches the
// threshold in pass 2.
func (ix *Index) scanInt8(ctx context.Context, qn []float32, k int, part, match func(int32) bool) ([]cand, error) {
	dim, codes, scales, slots := ix.dim, ix.codes, ix.scales, ix.slots
	ap := approxPool.Get().(*[]float32)
	defer approxPool.Put(ap)
	if cap(*ap) < len(slots) {
		*ap = make([]float32, len(slots))
	}
	approx := (*ap)[:len(slots)]
	skip := float32(math.Inf(-1))
	nc := max(k*ix.opts.RescoreFactor, 64)
	first, err := parallel(ctx, len(slots), ix.opts.Workers, nc, func(lo, hi int, t *topK) {
		thr := float32(-2)
		var page []int8 // the page holding slot s, looked up once a page
		for s := lo; s < hi; s++ {
			if s == lo || s&pageMask == 0 {
				page = codes.pages[s>>pageShift]
			}
			if (s-lo)%checkEvery == checkEvery-1 && ctx.Err() != nil {
				return
			}
			if slots[s] == nil || (part != nil && !part(int32(s))) {
				approx[s] = skip
				continue
			}
			o := (s & pageMask) * dim
			sc := simd.DotInt8(qn, page[o:o+dim:o+dim]) * scales[s]
			approx[s] = sc
			if sc > thr || !t.full() {
				if match != nil && !match(int32(s)) {
					approx[s] = skip
					continue
				}
				t.push(cand{sc, int32(s)})
				if t.full() {
					thr = t.h[0].score
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	top := newTopK(k)
	buf := make([]float32, dim)
	exact := func(s int32) error {
		v, err := ix.vector(s, buf)
		if err != nil {
			return err
		}
		top.push(cand{simd.Dot(qn, v) * ix.inv[s], s})
		approx[s] = skip
		return nil
	}
	for i, c := range first {
		if i%checkEvery == checkEvery-1 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := exact(c.slot); err != nil {
			return nil, err
		}
	}
	if !top.full() {
		return top.sorted(), nil // every accepted vector was rescored
	}
	resid, margin := ix.resid, boundMargin(dim)
	for s, a := range approx {
		if s%checkEvery == checkEvery-1 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if a == skip {
			continue
		}
		if a+resid[s]+margin >= top.h[0].score {
			if match != nil && !match(int32(s)) {
				continue // not checked in pass 1, and filtered out
			}
			if err := exact(int32(s)); err != nil {
				return nil, err
			}
		}
	}
	return top.sorted(), nil
}

// scanList scores the given slots exactly.
func (ix *Index) scanList(ctx context.Context, qn []float32, k int, list []int32) ([]cand, error) {
	t := newTopK(k)
	buf := make([]float32, ix.dim)
	for i, s := range list {
		if i%checkEvery == checkEvery-1 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, err := ix.vector(s, buf)
		if err != nil {
			return nil, err
		}
		t.push(cand{simd.Dot(qn, v) * ix.inv[s], s})
	}
	return t.sorted(), nil
}
