package textindex

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
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

// posting is one record's frequencies of a term or phrase. Frequencies
// saturate at 65535: BM25's saturation makes larger counts score the same
// to within 1e-5, and two bytes each keep a posting at eight bytes.
type posting struct {
	slot   int32
	tf, hf uint16 // occurrences in the text, in the headings
}

// saturate returns n as a uint16, 65535 if larger.
func saturate(n uint32) uint16 { return uint16(min(n, math.MaxUint16)) }

// docEntry is one indexed record.
type docEntry struct {
	id, doc string
	length  uint32 // positions in the text
	hlength uint32 // positions in the headings
	// keys are the record's term and phrase IDs, to remove its postings:
	// each list sorted and delta-encoded as uvarints after its length
	// (two or three bytes an ID where a string header took sixteen).
	keys []byte
	meta map[string]any
	used bool
}

// Index is an inverted index scored with BM25F over a record's text and
// heading path, with subword terms and adjacent-term phrases. It is safe
// for concurrent use. Metadata given to Add is kept by reference and must
// not be modified.
//
// Its memory is what a knowledge base of a million chunks pays per chunk,
// so each term and phrase is stored once, in a dictionary that gives it a
// dense ID; records refer to them by ID.
type Index struct {
	p       Params
	seed    maphash.Seed
	mu      sync.RWMutex
	terms   dict[string]
	phrases dict[uint64]
	slots   []docEntry // used == false: free, or removed and awaiting purge
	free    []int32
	// Removed records' slots, whose postings may still be in the lists:
	// dying are those removed since the current purge began, purging those
	// removed before it, freed when it ends (every list was purged after
	// they died). deadBits marks both, one bit a slot: a purge tests every
	// posting, and the bits stay in cache where the slot table does not.
	dying, purging []int32
	deadBits       []uint64
	// A purge walks the key IDs a step at each removal: it is under way
	// when purgeOn, at nextTerm and nextPhrase.
	purgeOn              bool
	nextTerm, nextPhrase uint32
	// words pools the wordCaches records are analysed with.
	words  sync.Pool
	byID   map[string]int32
	byDoc  map[string][]int32
	total  int // sum of text lengths
	htotal int // sum of heading lengths
	live   int
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
	seed := maphash.MakeSeed()
	return &Index{p: p, seed: seed, words: sync.Pool{New: func() any { return wordCache{} }},
		terms: newDict(func(t string) uint64 { return maphash.String(seed, t) }),
		// A phrase key is already a seeded hash.
		phrases: newDict(func(k uint64) uint64 { return k }),
		byID:    map[string]int32{}, byDoc: map[string][]int32{}}
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
	cache := ix.words.Get().(wordCache)
	defer ix.words.Put(cache)
	pos := analyzeFields(text, false, cache)
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

// Analysis is a record's text and heading path analysed for the index:
// its terms and phrases with their frequencies in each field. Analyze
// makes it without the index's lock, so records can be analysed in
// parallel and added in order.
type Analysis struct {
	terms           []keyCount[string]
	phrases         []keyCount[uint64]
	length, hlength int
}

// keyCount is a key's frequencies in a record's text and headings.
type keyCount[K comparable] struct {
	key    K
	tf, hf uint16
}

// merge lists the keys of body and head with their frequencies in each.
func merge[K comparable](body, head map[K]uint32) []keyCount[K] {
	out := make([]keyCount[K], 0, len(body)+len(head))
	for k, n := range body {
		out = append(out, keyCount[K]{k, saturate(n), saturate(head[k])})
	}
	for k, n := range head {
		if body[k] == 0 {
			out = append(out, keyCount[K]{k, 0, saturate(n)})
		}
	}
	return out
}

// Analyze analyses a record's text and its heading path (metadata
// HeadingsKey) for AddAnalyzed. It is safe to call concurrently with
// anything.
func (ix *Index) Analyze(text string, meta map[string]any) *Analysis {
	body := ix.count(text)
	var head counts
	if ix.p.HeadingWeight > 0 {
		head = ix.count(headingText(meta))
	}
	return &Analysis{terms: merge(body.terms, head.terms), phrases: merge(body.phrases, head.phrases),
		length: body.length, hlength: head.length}
}

// Add indexes the record id of document doc, replacing an earlier record
// with the same id. Its heading path (metadata HeadingsKey) is indexed as
// a second field.
func (ix *Index) Add(id, doc, text string, meta map[string]any) {
	ix.AddAnalyzed(id, doc, ix.Analyze(text, meta), meta)
}

// AddAnalyzed is Add with the record's text and meta already analysed by
// Analyze (of this index).
func (ix *Index) AddAnalyzed(id, doc string, a *Analysis, meta map[string]any) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.remove(id)
	var slot int32
	if n := len(ix.free); n > 0 {
		slot = ix.free[n-1]
		ix.free = ix.free[:n-1]
	} else {
		slot = int32(len(ix.slots))
		ix.slots = append(ix.slots, docEntry{})
	}
	termIDs := make([]uint32, len(a.terms))
	for i, t := range a.terms {
		termIDs[i] = ix.terms.add(t.key, posting{slot, t.tf, t.hf})
	}
	phraseIDs := make([]uint32, len(a.phrases))
	for i, p := range a.phrases {
		phraseIDs[i] = ix.phrases.add(p.key, posting{slot, p.tf, p.hf})
	}
	// Encoded into a scratch buffer and copied, so the record keeps only
	// the bytes it needs.
	keys := appendIDs(appendIDs(make([]byte, 0, 3*(len(termIDs)+len(phraseIDs))+10), termIDs), phraseIDs)
	keys = append([]byte(nil), keys...)
	ix.slots[slot] = docEntry{id: id, doc: doc, length: uint32(min(a.length, math.MaxUint32)),
		hlength: uint32(min(a.hlength, math.MaxUint32)), keys: keys, meta: meta, used: true}
	ix.byID[id] = slot
	ix.byDoc[doc] = append(ix.byDoc[doc], slot)
	ix.total += a.length
	ix.htotal += a.hlength
	ix.live++
}

// appendIDs appends ids to b, sorted, as their count and then the
// differences between neighbours, each a uvarint.
func appendIDs(b []byte, ids []uint32) []byte {
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	var prev uint32
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return b
}

// eachID calls f with each ID appendIDs wrote at the start of b and
// returns the rest of b.
func eachID(b []byte, f func(uint32)) []byte {
	n, w := binary.Uvarint(b)
	b = b[w:]
	var id uint32
	for range n {
		d, w := binary.Uvarint(b)
		b = b[w:]
		id += uint32(d)
		f(id)
	}
	return b
}

// RemoveDocument removes every record of document doc.
func (ix *Index) RemoveDocument(doc string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, slot := range slices.Clone(ix.byDoc[doc]) {
		ix.remove(ix.slots[slot].id)
	}
}

func (ix *Index) remove(id string) {
	slot, ok := ix.byID[id]
	if !ok {
		return
	}
	e := &ix.slots[slot]
	rest := eachID(e.keys, ix.terms.drop)
	eachID(rest, ix.phrases.drop)
	delete(ix.byID, id)
	if slots := ix.byDoc[e.doc]; len(slots) <= 1 {
		delete(ix.byDoc, e.doc)
	} else {
		i := slices.Index(slots, slot)
		slots[i] = slots[len(slots)-1]
		ix.byDoc[e.doc] = slots[:len(slots)-1]
	}
	ix.total -= int(e.length)
	ix.htotal -= int(e.hlength)
	ix.live--
	*e = docEntry{}
	ix.dying = append(ix.dying, slot)
	if w := int(slot >> 6); w >= len(ix.deadBits) {
		ix.deadBits = append(ix.deadBits, make([]uint64, w+1-len(ix.deadBits))...)
	}
	ix.deadBits[slot>>6] |= 1 << (slot & 63)
	ix.purgeStep()
}

// A purge begins once the removed records awaiting it number minPurge, or
// 1/purgeFraction of the live ones if more. It is done a slice of key IDs
// at each removal, so that no removal pauses searches for long, at a pace
// that finishes it within half the removals that start the next.
const (
	minPurge      = 1024
	purgeFraction = 8
)

// purgeStep starts a purge when enough records await one, and advances
// the one under way.
func (ix *Index) purgeStep() {
	due := max(minPurge, ix.live/purgeFraction)
	if !ix.purgeOn {
		if len(ix.dying) < due {
			return
		}
		ix.purging, ix.dying = ix.dying, ix.purging[:0]
		ix.purgeOn, ix.nextTerm, ix.nextPhrase = true, 0, 0
	}
	ids := uint32(len(ix.terms.keys) + len(ix.phrases.keys))
	step := max(256, 2*ids/uint32(due)+1)
	ix.nextTerm = advance(&ix.terms, ix.nextTerm, step, ix.deadBits)
	ix.nextPhrase = advance(&ix.phrases, ix.nextPhrase, step, ix.deadBits)
	if ix.nextTerm < uint32(len(ix.terms.keys)) || ix.nextPhrase < uint32(len(ix.phrases.keys)) {
		return
	}
	// Every list was purged since the purging slots died: reuse them.
	for _, s := range ix.purging {
		ix.deadBits[s>>6] &^= 1 << (s & 63)
	}
	ix.free = append(ix.free, ix.purging...)
	ix.purging = ix.purging[:0]
	ix.purgeOn = false
}

// advance purges up to step key IDs of d from next and returns where the
// next step starts.
func advance[K comparable](d *dict[K], next, step uint32, dead []uint64) uint32 {
	end := min(next+step, uint32(len(d.keys)))
	if next < end {
		d.purgeIDs(next, end, dead)
	}
	return max(next, end)
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
	pos := analyzeFields(query, true, nil)
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
	one := func(p posting, w, idf float64) {
		e := &ix.slots[p.slot]
		if !e.used {
			return // a removed record's, awaiting purge
		}
		if accept != nil {
			ok, seen := allowed[p.slot]
			if !seen {
				ok = accept(e.meta)
				allowed[p.slot] = ok
			}
			if !ok {
				return
			}
		}
		tf := float64(p.tf) / (1 - b + b*float64(e.length)/avg)
		if p.hf > 0 {
			tf += hw * float64(p.hf) / (1 - b + b*float64(e.hlength)/havg)
		}
		scores[p.slot] += w * idf * tf / (tf + k1)
	}
	score := func(ps postings, w float64) {
		if ps.live <= 0 {
			return
		}
		df := float64(ps.live)
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		one(ps.first, w, idf)
		for _, p := range ps.more {
			one(p, w, idf)
		}
	}
	for _, t := range terms {
		score(ix.terms.get(t.key), t.w)
	}
	for _, p := range phrases {
		// A phrase alone does not make a hit: its terms already did.
		score(ix.phrases.get(p.key), p.w)
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
