package textindex

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// TestDictMatchesModel adds and drops postings at random and checks the
// dict against a map after every step, with hashes that collide on
// purpose (few distinct values, so runs are long and wrap around the
// table) as well as a good one. Dropped postings linger until a purge,
// which runs now and then; live counts must be exact throughout.
func TestDictMatchesModel(t *testing.T) {
	hashes := map[string]func(uint64) uint64{
		"identity":  func(k uint64) uint64 { return k },
		"clustered": func(k uint64) uint64 { return k % 5 },
		"top":       func(k uint64) uint64 { return ^uint64(0) - k%3 },
	}
	for name, h := range hashes {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(name))))
			d := newDict(h)
			model := map[uint64][]int32{} // key -> live slots
			ids := map[uint64]uint32{}
			alive := map[int32]bool{}
			isAlive := func(s int32) bool { return alive[s] }
			deadBits := func() []uint64 { // the slots added and dropped so far
				bits := make([]uint64, 20000/64+1)
				for s := range int32(20000) {
					if !alive[s] {
						bits[s>>6] |= 1 << (s & 63)
					}
				}
				return bits
			}
			for step := range 20000 {
				k := uint64(r.IntN(300))
				switch {
				case r.IntN(3) > 0 || len(model[k]) == 0:
					slot := int32(step)
					id := d.add(k, posting{slot: slot, tf: 1})
					if old, ok := ids[k]; ok && old != id {
						t.Fatalf("step %d: key %d changed ID %d -> %d", step, k, old, id)
					}
					ids[k] = id
					model[k] = append(model[k], slot)
					alive[slot] = true
				default:
					slots := model[k]
					i := r.IntN(len(slots))
					d.drop(ids[k])
					delete(alive, slots[i])
					model[k] = slices.Delete(slots, i, i+1)
					if len(model[k]) == 0 {
						delete(model, k)
						delete(ids, k)
					}
				}
				if step%1013 == 0 {
					d.purgeIDs(0, uint32(len(d.keys)), deadBits())
					checkDict(t, step, &d, model, nil)
				}
				if step%97 == 0 || step > 19900 {
					checkDict(t, step, &d, model, isAlive)
				}
			}
		})
	}
}

// checkDict compares d with model; alive filters the postings of removed
// records (nil: there must be none, as after a purge).
func checkDict(t *testing.T, step int, d *dict[uint64], model map[uint64][]int32, alive func(int32) bool) {
	t.Helper()
	if d.len() != len(model) {
		t.Fatalf("step %d: len %d, want %d", step, d.len(), len(model))
	}
	for k := range uint64(300) {
		ps := d.get(k)
		var got []int32
		if ps.live > 0 {
			for _, p := range append([]posting{ps.first}, ps.more...) {
				if alive == nil || alive(p.slot) {
					got = append(got, p.slot)
				}
			}
		}
		want := slices.Clone(model[k])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || ps.live != len(want) {
			t.Fatalf("step %d: key %d postings %v (live %d), want %v", step, k, got, ps.live, want)
		}
	}
}

// TestIndexChurnReturnsMemory re-adds and removes documents many times:
// the dictionaries must not keep keys of removed records, and IDs are
// reused instead of growing.
func TestIndexChurnReturnsMemory(t *testing.T) {
	ix := New(Params{})
	for round := range 120 {
		for d := range 20 {
			ix.Add(string(rune('a'+d)), string(rune('a'+d)), benchCorpus(1)[0]+" unique"+string(rune('0'+round%10))+" FOXO"+string(rune('0'+d%10))+"a", nil)
		}
		for d := range 20 {
			ix.RemoveDocument(string(rune('a' + d)))
		}
	}
	if ix.Len() != 0 || ix.terms.len() != 0 || ix.phrases.len() != 0 || len(ix.terms.more) != 0 || len(ix.phrases.more) != 0 {
		t.Fatalf("after churn: %d records, %d terms, %d phrases, %d+%d lists", ix.Len(), ix.terms.len(), ix.phrases.len(), len(ix.terms.more), len(ix.phrases.more))
	}
	if n := len(ix.terms.keys); n > 1000 {
		t.Fatalf("term IDs grew to %d over churn of the same few records", n)
	}
	if n := len(ix.slots); n > 20+2*minPurge {
		t.Fatalf("record slots grew to %d over churn of 20 records", n)
	}
}

// TestAddAnalyzedMatchesAdd: records analysed ahead (concurrently, as kb's
// embedding goroutines do) and added in order score exactly as records
// added whole.
func TestAddAnalyzedMatchesAdd(t *testing.T) {
	docs := benchCorpus(300)
	meta := map[string]any{HeadingsKey: []any{"FOXO3a w1", "w17 w250"}}
	whole, ahead := New(Params{}), New(Params{})
	analyses := make([]*Analysis, len(docs))
	var wg sync.WaitGroup
	for i, d := range docs {
		whole.Add(strconv.Itoa(i), strconv.Itoa(i%7), d, meta)
		wg.Add(1)
		go func() {
			defer wg.Done()
			analyses[i] = ahead.Analyze(d, meta)
		}()
	}
	wg.Wait()
	for i, a := range analyses {
		ahead.AddAnalyzed(strconv.Itoa(i), strconv.Itoa(i%7), a, meta)
	}
	for _, q := range []string{"w3 w17 w250 FOXO3a w9", "w1 w2 w3 w4 w5 w6 w7 w8", "w1234 w77 w5", "foxo w1"} {
		a, b := whole.Search(q, 50, nil), ahead.Search(q, 50, nil)
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Fatalf("%q: Add gave %v, AddAnalyzed %v", q, a, b)
		}
	}
}

// TestRemovalMatchesFreshIndex: an index that added, removed and re-added
// records (removals pending a purge, and purged) scores exactly as one
// built from its live records alone.
func TestRemovalMatchesFreshIndex(t *testing.T) {
	docs := benchCorpus(3000)
	churned := New(Params{})
	r := rand.New(rand.NewPCG(3, 4))
	live := map[int]bool{}
	for round := range 3 {
		for i, d := range docs {
			if r.IntN(3) > 0 || round == 0 {
				churned.Add(strconv.Itoa(i), strconv.Itoa(i), d, nil)
				live[i] = true
			}
		}
		for i := range docs {
			if live[i] && r.IntN(2) == 0 {
				churned.RemoveDocument(strconv.Itoa(i))
				delete(live, i)
			}
		}
		fresh := New(Params{})
		for i, d := range docs {
			if live[i] {
				fresh.Add(strconv.Itoa(i), strconv.Itoa(i), d, nil)
			}
		}
		if churned.Len() != fresh.Len() {
			t.Fatalf("round %d: %d records, want %d", round, churned.Len(), fresh.Len())
		}
		t.Logf("round %d: %d live, %d awaiting purge", round, churned.Len(), len(churned.dying)+len(churned.purging))
		for _, q := range []string{"w3 w17 w250 FOXO3a w9", "w1 w2 w3 w4 w5 w6 w7 w8", "w1234 w77 w5", "foxo w1", "w2 w3"} {
			a, b := churned.Search(q, 100, nil), fresh.Search(q, 100, nil)
			if len(a) == 0 || !slices.Equal(a, b) {
				t.Fatalf("round %d, %q: churned index gave %v\nfresh index %v", round, q, a[:min(5, len(a))], b[:min(5, len(b))])
			}
		}
	}
}

// TestWordCacheSameAnalysis: text analysed through a word cache, across
// the cache's reset when full, gives the positions analysis without one
// gives.
func TestWordCacheSameAnalysis(t *testing.T) {
	cache := wordCache{}
	texts := append(benchCorpus(200), "The FOXO3a and IL-6 genes; don't stop: it's miRNAs' p16INK4a.")
	for i := range maxCachedWords + 100 {
		texts = append(texts, "unique"+strconv.Itoa(i)+" the Word's")
	}
	texts = append(texts, texts[:50]...) // met again after the reset
	for _, text := range texts {
		want := analyzeFields(text, false, nil)
		got := analyzeFields(text, false, cache)
		if len(got) != len(want) {
			t.Fatalf("%q: %d positions with the cache, %d without", text, len(got), len(want))
		}
		for i := range got {
			if got[i].term != want[i].term || !slices.Equal(got[i].parts, want[i].parts) {
				t.Fatalf("%q: position %d is %+v with the cache, %+v without", text, i, got[i], want[i])
			}
		}
		if len(cache) > maxCachedWords {
			t.Fatalf("cache grew to %d words", len(cache))
		}
	}
}
