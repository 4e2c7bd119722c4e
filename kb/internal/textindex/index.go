package textindex

import (
	"hash/maphash"
	"math"
	"sort"
	"sync"
)

// Params are the scoring parameters. A zero field takes its default.
type Params struct {
	// K1 controls term-frequency saturation. Default 0.9 (Anserini's).
	K1 float64
	// B controls length normalisation, 0 to 1. Default 0.4 (Anserini's).
	B float64
	// PhraseWeight is the query weight of each pair of adjacent query
	// terms (stop words skipped), scored as one more term against the same
	// pair in the records (sequential dependence, as Metzler and Croft's
	// model weighs ordered pairs). Default 0.3; negative turns phrases off.
	PhraseWeight float64
	// HeadingWeight is how much a term in the record's heading path
	// (metadata HeadingsKey) counts against one in its text, BM25F-style:
	// heading and text frequencies are length-normalised separately and
	// summed before saturation. Default 1; negative ignores headings.
	HeadingWeight float64
}

// DefaultParams are the defaults New fills in.
var DefaultParams = Params{K1: 0.9, B: 0.4, PhraseWeight: 0.3, HeadingWeight: 1}

// HeadingsKey is the metadata key of a record's heading path (a list of
// strings, outermost first); kb sets it as kb.KeyHeadings.
const HeadingsKey = "bedrockkit-headings"

// maxHeadingBytes bounds the heading text one record contributes.
const maxHeadingBytes = 4096

type posting struct {
	slot int32
	tf   uint32 // occurrences in the text
	hf   uint32 // occurrences in the headings
}

type docEntry struct {
	id, doc string
	length  int      // positions in the text
	hlength int      // positions in the headings
	terms   []string // distinct terms, to remove the postings
	phrases []uint64 // distinct phrase keys, likewise
	meta    map[string]any
}

// Index is an inverted index scored with BM25F over a record's text and
// heading path, with subword terms and adjacent-term phrases. It is safe
// for concurrent use. Metadata given to Add is kept by reference and must
// not be modified.
type Index struct {
	p        Params
	seed     maphash.Seed
	mu       sync.RWMutex
	postings map[string][]posting
	phrases  map[uint64][]posting
	slots    []*docEntry // nil = free
	free     []int32
	byID     map[string]int32
	byDoc    map[string]map[string]struct{}
	total    int // sum of text lengths
	htotal   int // sum of heading lengths
	live     int
}

// New returns an empty index. A K1 or B of zero (or less), or a zero
// PhraseWeight or HeadingWeight, takes the default; B is capped at 1.
func New(p Params) *Index {
	if p.K1 <= 0 {
		p.K1 = DefaultParams.K1
	}
	if p.B <= 0 {
		p.B = DefaultParams.B
	}
	p.B = min(p.B, 1)
	if p.PhraseWeight == 0 {
		p.PhraseWeight = DefaultParams.PhraseWeight
	}
	if p.HeadingWeight == 0 {
		p.HeadingWeight = DefaultParams.HeadingWeight
	}
	return &Index{p: p, seed: maphash.MakeSeed(), postings: map[string][]posting{}, phrases: map[uint64][]posting{},
		byID: map[string]int32{}, byDoc: map[string]map[string]struct{}{}}
}

// Len returns the number of indexed records.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// headingText joins the record's heading path, bounded.
func headingText(meta map[string]any) string {
	var b []byte
	add := func(s string) {
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = append(b, s[:min(len(s), maxHeadingBytes-len(b))]...)
	}
	switch hs := meta[HeadingsKey].(type) {
	case []any:
		for _, h := range hs {
			if s, ok := h.(string); ok && len(b) < maxHeadingBytes {
				add(s)
			}
		}
	case []string:
		for _, s := range hs {
			if len(b) < maxHeadingBytes {
				add(s)
			}
		}
	case string:
		add(hs)
	}
	return string(b)
}

// counts are a field's term and phrase frequencies.
type counts struct {
	terms   map[string]uint32
	phrases map[uint64]uint32
	length  int
}

func (ix *Index) count(text string) counts {
	pos := analyzeFields(text, false)
	c := counts{terms: make(map[string]uint32, len(pos)), length: len(pos)}
	if ix.p.PhraseWeight > 0 {
		c.phrases = make(map[uint64]uint32, len(pos))
	}
	for i, p := range pos {
		c.terms[p.term]++
		for _, s := range p.parts {
			c.terms[s]++
		}
		if c.phrases != nil && i > 0 {
			c.phrases[phraseKey(ix.seed, pos[i-1].term, p.term)]++
		}
	}
	return c
}

// Add indexes the record id of document doc, replacing an earlier record
// with the same id. Its heading path (metadata HeadingsKey) is indexed as
// a second field.
func (ix *Index) Add(id, doc, text string, meta map[string]any) {
	body := ix.count(text)
	var head counts
	if ix.p.HeadingWeight > 0 {
		head = ix.count(headingText(meta))
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.remove(id)
	e := &docEntry{id: id, doc: doc, length: body.length, hlength: head.length, meta: meta}
	var slot int32
	if n := len(ix.free); n > 0 {
		slot = ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.slots[slot] = e
	} else {
		slot = int32(len(ix.slots))
		ix.slots = append(ix.slots, e)
	}
	e.terms = make([]string, 0, len(body.terms))
	for t, n := range body.terms {
		e.terms = append(e.terms, t)
		ix.postings[t] = append(ix.postings[t], posting{slot, n, head.terms[t]})
	}
	for t, n := range head.terms {
		if body.terms[t] == 0 {
			e.terms = append(e.terms, t)
			ix.postings[t] = append(ix.postings[t], posting{slot, 0, n})
		}
	}
	e.phrases = make([]uint64, 0, len(body.phrases))
	for k, n := range body.phrases {
		e.phrases = append(e.phrases, k)
		ix.phrases[k] = append(ix.phrases[k], posting{slot, n, head.phrases[k]})
	}
	for k, n := range head.phrases {
		if body.phrases[k] == 0 {
			e.phrases = append(e.phrases, k)
			ix.phrases[k] = append(ix.phrases[k], posting{slot, 0, n})
		}
	}
	ix.byID[id] = slot
	ids := ix.byDoc[doc]
	if ids == nil {
		ids = map[string]struct{}{}
		ix.byDoc[doc] = ids
	}
	ids[id] = struct{}{}
	ix.total += e.length
	ix.htotal += e.hlength
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

// dropSlot removes slot's posting from list.
func dropSlot(list []posting, slot int32) []posting {
	for i := range list {
		if list[i].slot == slot {
			list[i] = list[len(list)-1]
			return list[:len(list)-1]
		}
	}
	return list
}

func (ix *Index) remove(id string) {
	slot, ok := ix.byID[id]
	if !ok {
		return
	}
	e := ix.slots[slot]
	for _, t := range e.terms {
		if list := dropSlot(ix.postings[t], slot); len(list) == 0 {
			delete(ix.postings, t)
		} else {
			ix.postings[t] = list
		}
	}
	for _, k := range e.phrases {
		if list := dropSlot(ix.phrases[k], slot); len(list) == 0 {
			delete(ix.phrases, k)
		} else {
			ix.phrases[k] = list
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
	ix.htotal -= e.hlength
	ix.live--
}

// Hit is one search result.
type Hit struct {
	ID    string
	Score float64
}

// weighted is a query term or phrase with its weight.
type weighted[K comparable] struct {
	key K
	w   float64
}

// queryWeights analyses a query into term and phrase weights, each in a
// fixed order (terms by text, phrases by their two terms' text) so that a
// record's score is summed in the same order whatever the map order or the
// index's phrase seed: float addition is not associative, and scores that
// differed in the last bit reordered equal hits between runs and reopens.
func (ix *Index) queryWeights(query string) ([]weighted[string], []weighted[uint64]) {
	pos := analyzeFields(query, true)
	terms := make(map[string]float64, len(pos))
	type pair struct{ a, b string }
	var phrases map[pair]float64
	if ix.p.PhraseWeight > 0 && len(pos) > 1 {
		phrases = make(map[pair]float64, len(pos)-1)
	}
	for i, p := range pos {
		terms[p.term]++
		for _, s := range p.parts {
			terms[s]++
		}
		if phrases != nil && i > 0 {
			phrases[pair{pos[i-1].term, p.term}] += ix.p.PhraseWeight
		}
	}
	tl := make([]weighted[string], 0, len(terms))
	for t, w := range terms {
		tl = append(tl, weighted[string]{t, w})
	}
	sort.Slice(tl, func(i, j int) bool { return tl[i].key < tl[j].key })
	pairs := make([]pair, 0, len(phrases))
	for pr := range phrases {
		pairs = append(pairs, pr)
	}
	sort.Slice(pairs, func(i, j int) bool {
		return pairs[i].a < pairs[j].a || pairs[i].a == pairs[j].a && pairs[i].b < pairs[j].b
	})
	pl := make([]weighted[uint64], len(pairs))
	for i, pr := range pairs {
		pl[i] = weighted[uint64]{phraseKey(ix.seed, pr.a, pr.b), phrases[pr]}
	}
	return tl, pl
}

// Search returns the k best records for the query text, best first (ties by
// ID), among those whose metadata accept allows (nil accepts all). Only
// records sharing at least one term with the query are returned. Its work
// is linear in the query's length plus the postings of its distinct terms
// and phrases, each visited once.
func (ix *Index) Search(query string, k int, accept func(map[string]any) bool) []Hit {
	if k <= 0 {
		return nil
	}
	terms, phrases := ix.queryWeights(query)
	if len(terms) == 0 {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.live == 0 {
		return nil
	}
	n := float64(ix.live)
	avg := max(float64(ix.total)/n, 1)
	havg := max(float64(ix.htotal)/n, 1)
	scores := make(map[int32]float64)
	allowed := make(map[int32]bool)
	k1, b, hw := ix.p.K1, ix.p.B, ix.p.HeadingWeight
	score := func(list []posting, w float64) {
		if len(list) == 0 {
			return
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
			e := ix.slots[p.slot]
			tf := float64(p.tf) / (1 - b + b*float64(e.length)/avg)
			if p.hf > 0 {
				tf += hw * float64(p.hf) / (1 - b + b*float64(e.hlength)/havg)
			}
			scores[p.slot] += w * idf * tf / (tf + k1)
		}
	}
	for _, t := range terms {
		score(ix.postings[t.key], t.w)
	}
	for _, p := range phrases {
		// A phrase alone does not make a hit: its terms already did.
		score(ix.phrases[p.key], p.w)
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
