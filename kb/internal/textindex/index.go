package textindex

import (
	"math"
	"sort"
	"sync"
)

// Params are the BM25 parameters.
type Params struct {
	// K1 controls term-frequency saturation. Default 0.9 (Anserini's).
	K1 float64
	// B controls length normalisation, 0 to 1. Default 0.4 (Anserini's).
	B float64
}

// DefaultParams are Anserini's BM25 defaults, which this analyzer reaches
// its best SciFact train-split score with (see kb's evaluation notes).
var DefaultParams = Params{K1: 0.9, B: 0.4}

type posting struct {
	slot int32
	tf   uint32
}

type docEntry struct {
	id, doc string
	length  int
	terms   []string // distinct terms, to remove the postings
	meta    map[string]any
}

// Index is an inverted index scored with BM25. It is safe for concurrent
// use. Metadata given to Add is kept by reference and must not be modified.
type Index struct {
	p        Params
	mu       sync.RWMutex
	postings map[string][]posting
	slots    []*docEntry // nil = free
	free     []int32
	byID     map[string]int32
	byDoc    map[string]map[string]struct{}
	total    int // sum of lengths
	live     int
}

// New returns an empty index. A K1 or B of zero (or less) takes the
// default; B is capped at 1.
func New(p Params) *Index {
	if p.K1 <= 0 {
		p.K1 = DefaultParams.K1
	}
	if p.B <= 0 {
		p.B = DefaultParams.B
	}
	p.B = min(p.B, 1)
	return &Index{p: p, postings: map[string][]posting{}, byID: map[string]int32{}, byDoc: map[string]map[string]struct{}{}}
}

// Len returns the number of indexed records.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Add indexes the record id of document doc, replacing an earlier record
// with the same id.
func (ix *Index) Add(id, doc, text string, meta map[string]any) {
	terms := Analyze(text)
	tf := make(map[string]uint32, len(terms))
	for _, t := range terms {
		tf[t]++
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.remove(id)
	e := &docEntry{id: id, doc: doc, length: len(terms), meta: meta, terms: make([]string, 0, len(tf))}
	var slot int32
	if n := len(ix.free); n > 0 {
		slot = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.slots[slot] = e
	} else {
		slot = int32(len(ix.slots))
		ix.slots = append(ix.slots, e)
	}
	for t, n := range tf {
		e.terms = append(e.terms, t)
		ix.postings[t] = append(ix.postings[t], posting{slot, n})
	}
	ix.byID[id] = slot
	ids := ix.byDoc[doc]
	if ids == nil {
		ids = map[string]struct{}{}
		ix.byDoc[doc] = ids
	}
	ids[id] = struct{}{}
	ix.total += e.length
	ix.live++
}

// RemoveDocument removes every record of document doc.
func (ix *Index) RemoveDocument(doc string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for id := range ix.byDoc[doc] {
		ix.remove(id)
	}
}

func (ix *Index) remove(id string) {
	slot, ok := ix.byID[id]
	if !ok {
		return
	}
	e := ix.slots[slot]
	for _, t := range e.terms {
		list := ix.postings[t]
		for i := range list {
			if list[i].slot == slot {
				list[i] = list[len(list)-1]
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(ix.postings, t)
		} else {
			ix.postings[t] = list
		}
	}
	delete(ix.byID, id)
	if ids := ix.byDoc[e.doc]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(ix.byDoc, e.doc)
		}
	}
	ix.slots[slot] = nil
	ix.free = append(ix.free, slot)
	ix.total -= e.length
	ix.live--
}

// Hit is one search result.
type Hit struct {
	ID    string
	Score float64
}

// Search returns the k best records for the query text, best first (ties by
// ID), among those whose metadata accept allows (nil accepts all). Only
// records sharing at least one term with the query are returned.
func (ix *Index) Search(query string, k int, accept func(map[string]any) bool) []Hit {
	qterms := AnalyzeQuery(query)
	if len(qterms) == 0 || k <= 0 {
		return nil
	}
	weight := map[string]float64{}
	for _, t := range qterms {
		weight[t]++
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.live == 0 {
		return nil
	}
	n := float64(ix.live)
	avg := float64(ix.total) / n
	if avg == 0 {
		avg = 1
	}
	scores := make(map[int32]float64)
	allowed := make(map[int32]bool)
	k1, b := ix.p.K1, ix.p.B
	for t, w := range weight {
		list := ix.postings[t]
		if len(list) == 0 {
			continue
		}
		df := float64(len(list))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range list {
			if accept != nil {
				ok, seen := allowed[p.slot]
				if !seen {
					ok = accept(ix.slots[p.slot].meta)
					allowed[p.slot] = ok
				}
				if !ok {
					continue
				}
			}
			tf := float64(p.tf)
			dl := float64(ix.slots[p.slot].length)
			scores[p.slot] += w * idf * tf / (tf + k1*(1-b+b*dl/avg))
		}
	}
	hits := make([]Hit, 0, len(scores))
	for s, sc := range scores {
		hits = append(hits, Hit{ID: ix.slots[s].id, Score: sc})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}
