package chromem

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync/atomic"

	cg "github.com/philippgille/chromem-go"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// plan is how a search was answered (see the package documentation).
type plan int

const (
	planAll       plan = iota // no filter, or a filter every record matches
	planWhere                 // filter pushed down as chromem-go's where clause
	planSubset                // selective filter: matching records searched in a temporary collection
	planOverfetch             // broad filter: over-fetch, filter, widen until K matches
	planNone                  // filter matches nothing
	numPlans
)

// planCounts counts searches by plan, for tests.
type planCounts [numPlans]atomic.Int64

// subsetFraction: a filter matching at most 1/subsetFraction of the
// partition's vectors is answered from a temporary collection of the
// matching records; a broader one by over-fetching.
const subsetFraction = 4

// Search implements kbstore.Store. Scores are cosine similarities computed in
// float64 from the stored vectors; the ranking is chromem-go's.
func (s *Store) Search(ctx context.Context, q kbstore.Query) ([]kbstore.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed()
	}
	if err := kbstore.ValidateQuery(q, s.dim, s.opts.RequirePartition); err != nil {
		return nil, err
	}
	var f *kbstore.CompiledFilter
	if !q.Filter.IsZero() {
		c, err := q.Filter.Compile() // hash sets for in/notIn: one lookup per record
		if err != nil {
			return nil, err
		}
		f = c
	}
	p := s.parts[q.Partition]
	if p == nil || p.vectors == 0 {
		return nil, nil
	}
	ids, pl, err := s.search(ctx, p, q.Vector, q.K, f)
	s.plans[pl].Add(1)
	if err == nil {
		err = ctx.Err() // chromem-go stops early on cancellation without saying so
	}
	if err != nil {
		return nil, err
	}
	qn := norm(q.Vector)
	hits := make([]kbstore.Hit, len(ids))
	for i, id := range ids {
		e := p.entries[id]
		if e == nil {
			return nil, fmt.Errorf("kb/chromem: chromem-go returned %q, which the store does not hold (internal error)", id)
		}
		h := kbstore.Hit{Record: e.rec, Score: cosine(q.Vector, qn, e.rec.Vector)}
		h.Metadata = kbstore.CloneMetadata(e.rec.Metadata)
		h.Vector = nil
		if q.WithVectors {
			h.Vector = append([]float32(nil), e.rec.Vector...)
		}
		hits[i] = h
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return hits, nil
}

// checkEvery is how many records the filter is evaluated on between
// context checks, so a done context ends a search (and releases the read
// lock) promptly.
const checkEvery = 1024

// search returns the IDs of the top k matching records, best first.
// Caller holds mu (shared).
func (s *Store) search(ctx context.Context, p *partition, vec []float32, k int, f *kbstore.CompiledFilter) ([]string, plan, error) {
	total := p.vectors
	if f == nil {
		ids, err := query(ctx, p.coll, vec, min(k, total), nil)
		return ids, planAll, err
	}
	nf := f.Filter()
	if where, ok, none := whereOf(&nf); ok {
		if none {
			return nil, planNone, nil
		}
		ids, err := query(ctx, p.coll, vec, min(k, total), where)
		return ids, planWhere, err
	}
	// chromem-go cannot express the filter: find the matching records.
	var matches []*entry
	i := 0
	for _, e := range p.entries {
		if i++; i%checkEvery == 0 && ctx.Err() != nil {
			return nil, planNone, ctx.Err()
		}
		if e.rec.Vector != nil && f.Match(e.rec.Metadata) {
			matches = append(matches, e)
		}
	}
	m := len(matches)
	switch {
	case m == 0:
		return nil, planNone, nil
	case m == total:
		ids, err := query(ctx, p.coll, vec, min(k, total), nil)
		return ids, planAll, err
	case m*subsetFraction <= total:
		ids, err := searchSubset(ctx, matches, vec, min(k, m))
		return ids, planSubset, err
	}
	// Broad filter: ask chromem-go for the top n of the whole partition,
	// keep the matching ones in order, and widen n until k of them are in
	// (or n covers the partition). Any matching record outside the top n
	// scores no higher than all inside, so the k found are the true top k.
	k = min(k, m)
	n := min(total, k+2*k*(total/m+1))
	for {
		ids, err := query(ctx, p.coll, vec, n, nil)
		if err != nil {
			return nil, planOverfetch, err
		}
		out := make([]string, 0, k)
		for i, id := range ids {
			if i%checkEvery == checkEvery-1 && ctx.Err() != nil {
				return nil, planOverfetch, ctx.Err()
			}
			if f.Match(p.entries[id].rec.Metadata) {
				if out = append(out, id); len(out) == k {
					break
				}
			}
		}
		if len(out) == k || n == total {
			return out, planOverfetch, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, planOverfetch, err
		}
		n = min(total, 4*n)
	}
}

// searchSubset searches only the given records by loading them into a
// temporary chromem-go collection. The unit vectors are shared, not copied.
func searchSubset(ctx context.Context, matches []*entry, vec []float32, n int) ([]string, error) {
	c, err := cg.NewDB().CreateCollection("subset", nil, noEmbed)
	if err != nil {
		return nil, err
	}
	for i, e := range matches {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := c.AddDocument(ctx, cg.Document{ID: e.rec.ID, Embedding: e.norm}); err != nil {
			return nil, fmt.Errorf("kb/chromem: %w", err)
		}
	}
	return query(ctx, c, vec, n, nil)
}

// query runs chromem-go's exhaustive search with n clamped by the caller
// to the collection size (chromem-go fails when n exceeds it).
func query(ctx context.Context, c *cg.Collection, vec []float32, n int, where map[string]string) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	res, err := c.QueryEmbedding(ctx, vec, n, where, nil)
	if err != nil {
		return nil, fmt.Errorf("kb/chromem: chromem-go query: %w", err)
	}
	ids := make([]string, len(res))
	for i := range res {
		ids[i] = res[i].ID
	}
	return ids, nil
}

// whereOf translates f into chromem-go's where clause (exact string
// matches, all of which must hold) when it is an equals or an andAll of
// equals on scalars. Values carry their type (see encodeScalar), so
// equals("n", 1) does not match "1". none reports a contradiction (the
// same key equal to two values): nothing matches.
func whereOf(f *kbstore.Filter) (where map[string]string, ok, none bool) {
	where = map[string]string{}
	var walk func(f *kbstore.Filter) bool
	walk = func(f *kbstore.Filter) bool {
		switch f.Op {
		case kbstore.OpEquals:
			enc, ok := encodeScalar(f.Value)
			if !ok {
				return false
			}
			if prev, seen := where[f.Key]; seen && prev != enc {
				none = true
			}
			where[f.Key] = enc
			return true
		case kbstore.OpAndAll:
			for i := range f.Filters {
				if !walk(&f.Filters[i]) {
					return false
				}
			}
			return true
		}
		return false
	}
	if !walk(f) {
		return nil, false, false
	}
	return where, true, none
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// cosine is the cosine similarity of q (of norm qn) and v, in float64.
func cosine(q []float32, qn float64, v []float32) float64 {
	var dot float64
	for i := range q {
		dot += float64(q[i]) * float64(v[i])
	}
	return dot / (qn * norm(v))
}
