package chromem

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func cos64(a, b []float32) float64 { return cosine(a, norm(a), b) }

// truth returns the IDs of the k best records that keep accepts.
func truth(recs []kbstore.Record, q []float32, k int, keep func(kbstore.Record) bool) []string {
	var ok []kbstore.Record
	for _, r := range recs {
		if keep(r) {
			ok = append(ok, r)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return cos64(q, ok[i].Vector) > cos64(q, ok[j].Vector) })
	ids := []string{}
	for _, r := range ok[:min(k, len(ok))] {
		ids = append(ids, r.ID)
	}
	return ids
}

func ids(hits []kbstore.Hit) []string {
	out := []string{}
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

// TestSearchPlans checks that each way of answering a filter is taken
// where the package documentation says, and that each returns the true
// top K, including a filter whose matches all lie far from the query (the
// over-fetch has to widen to the whole partition).
func TestSearchPlans(t *testing.T) {
	const n, dim, k = 2000, 16, 10
	r := rand.New(rand.NewPCG(1, 2))
	q := randVec(r, dim)
	recs := make([]kbstore.Record, n)
	for i := range recs {
		v := randVec(r, dim)
		recs[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Vector: v, Metadata: map[string]any{
			"g":    []string{"a", "b", "c", "d"}[i%4],
			"num":  float64(i % 10),
			"str1": []any{"1", 1.0}[i%2], // the string "1" or the number 1
			"far":  cos64(q, v) < 0,      // matches lie away from q
		}}
	}
	s := mustOpen(t, Options{Dimensions: dim})
	defer s.Close()
	if err := s.Upsert(bg, recs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    kb.Filter
		plan plan
		keep func(kbstore.Record) bool
	}{
		{"none", kb.Filter{}, planAll, func(kbstore.Record) bool { return true }},
		{"equals string", (kb.Equals("g", "b")), planWhere, func(r kbstore.Record) bool { return r.Metadata["g"] == "b" }},
		{"equals number is not the string", (kb.Equals("str1", 1)), planWhere, func(r kbstore.Record) bool { return r.Metadata["str1"] == 1.0 }},
		{"equals string is not the number", (kb.Equals("str1", "1")), planWhere, func(r kbstore.Record) bool { return r.Metadata["str1"] == "1" }},
		{"andAll of equals", (kb.AndAll(kb.Equals("g", "a"), kb.Equals("num", 4))), planWhere,
			func(r kbstore.Record) bool { return r.Metadata["g"] == "a" && r.Metadata["num"] == 4.0 }},
		{"contradiction", (kb.AndAll(kb.Equals("g", "a"), kb.Equals("g", "b"))), planNone, func(kbstore.Record) bool { return false }},
		{"selective range", (kb.LessThan("num", 1)), planSubset, func(r kbstore.Record) bool { return r.Metadata["num"].(float64) < 1 }},
		{"broad range", (kb.GreaterThan("num", 2)), planOverfetch, func(r kbstore.Record) bool { return r.Metadata["num"].(float64) > 2 }},
		{"broad and far from the query", (kb.OrAll(kb.Equals("far", true), kb.Equals("num", -1))), planOverfetch,
			func(r kbstore.Record) bool { return r.Metadata["far"] == true }},
		{"matches everything", (kb.GreaterThanOrEquals("num", 0)), planAll, func(kbstore.Record) bool { return true }},
		{"matches nothing", (kb.GreaterThan("num", 100)), planNone, func(kbstore.Record) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.plans[c.plan].Load()
			hits, err := s.Search(bg, kbstore.Query{Vector: q, K: k, Filter: c.f})
			if err != nil {
				t.Fatal(err)
			}
			if s.plans[c.plan].Load() != before+1 {
				t.Fatalf("not answered by plan %d", c.plan)
			}
			want := truth(recs, q, k, c.keep)
			if got := ids(hits); !slices.Equal(got, want) {
				t.Fatalf("top %d = %v, want %v", k, got, want)
			}
			for _, h := range hits {
				if c := cos64(q, recs[mustAtoi(t, h.ID)].Vector); math.Abs(c-h.Score) > 1e-9 {
					t.Fatalf("score %v, want cosine %v", h.Score, c)
				}
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	i, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestChromemHoldsOnlyVectors: records without a vector never reach
// chromem-go (which would try to embed their text), and a partition's
// collection goes away with its last record.
func TestChromemHoldsOnlyVectors(t *testing.T) {
	s := mustOpen(t, Options{})
	defer s.Close()
	if err := s.Upsert(bg, []kbstore.Record{
		{ID: "parent", DocumentID: "d", Partition: "t", Text: "no vector"},
		{ID: "child", DocumentID: "d", Partition: "t", Text: "x", Vector: []float32{1, 0}},
	}); err != nil {
		t.Fatal(err)
	}
	p := s.parts["t"]
	if p.coll.Count() != 1 || p.vectors != 1 {
		t.Fatalf("chromem-go holds %d documents, want 1", p.coll.Count())
	}
	if len(s.db.ListCollections()) != 1 {
		t.Fatal("want one collection for the one partition")
	}
	if n, _ := s.DeleteDocuments(bg, "t", []string{"d"}); n != 2 {
		t.Fatalf("deleted %d", n)
	}
	if len(s.db.ListCollections()) != 0 || s.parts["t"] != nil {
		t.Fatal("the empty partition's collection was kept")
	}
}

// TestUnitVectorShared: an already unit-length vector is held once, shared
// by the typed record and chromem-go; another is normalised into a copy.
func TestUnitVectorShared(t *testing.T) {
	s := mustOpen(t, Options{})
	defer s.Close()
	if err := s.Upsert(bg, []kbstore.Record{
		{ID: "unit", DocumentID: "d", Vector: []float32{0.6, 0.8}},
		{ID: "long", DocumentID: "d", Vector: []float32{3, 4}},
	}); err != nil {
		t.Fatal(err)
	}
	p := s.parts[""]
	if e := p.entries["unit"]; &e.norm[0] != &e.rec.Vector[0] {
		t.Error("unit vector copied")
	}
	if e := p.entries["long"]; &e.norm[0] == &e.rec.Vector[0] || e.rec.Vector[0] != 3 {
		t.Error("non-unit vector not normalised into a copy, or the stored vector changed")
	}
	doc, err := p.coll.GetByID(bg, "long")
	if err != nil || math.Abs(float64(doc.Embedding[0])-0.6) > 1e-6 {
		t.Fatalf("chromem-go holds %v, %v", doc.Embedding, err)
	}
}
