package kbstoretest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Config describes the store a test needs.
type Config struct {
	// Dimensions is the length of every vector the test writes.
	Dimensions int
	// RequirePartition asks for a store that refuses calls without a
	// partition (tenant) key.
	RequirePartition bool
}

// Opener returns a fresh, empty store for cfg and arranges (t.Cleanup) for
// it to be closed. It calls t.Fatal if it cannot.
type Opener func(t *testing.T, cfg Config) kbstore.Store

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"EmptyStore", testEmptyStore},
		{"UpsertGetReplace", testUpsertGetReplace},
		{"BatchLastWins", testBatchLastWins},
		{"AtomicBatch", testAtomicBatch},
		{"DeleteDocuments", testDeleteDocuments},
		{"Documents", testDocuments},
		{"VectorlessRecords", testVectorless},
		{"OnlyVectorlessRecords", testOnlyVectorless},
		{"InvalidInput", testInvalidInput},
		{"KLargerThanCollection", testKLarger},
		{"ExactTopK", testExactTopK},
		{"FilterOperators", testFilterOperators},
		{"FilterProperty", testFilterProperty},
		{"LargeListFilter", testLargeListFilter},
		{"SelectiveFilterTopK", testSelectiveFilter},
		{"NoAliasing", testNoAliasing},
		{"WithVectors", testWithVectors},
		{"ConcurrentReadersWriters", testConcurrent},
		{"TenantIsolation", testTenantIsolation},
		{"CancelledContext", testCancelled},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var ctx = context.Background()

// vec returns a deterministic pseudo-random vector.
func vec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func mustUpsert(t *testing.T, s kbstore.Store, recs ...kbstore.Record) {
	t.Helper()
	if err := s.Upsert(ctx, recs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func mustSearch(t *testing.T, s kbstore.Store, q kbstore.Query) []kbstore.Hit {
	t.Helper()
	hits, err := s.Search(ctx, q)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Fatalf("hits not sorted by score: %v then %v", hits[i-1].Score, hits[i].Score)
		}
	}
	return hits
}

func hitIDs(hits []kbstore.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

func sortedIDs(hits []kbstore.Hit) []string {
	ids := hitIDs(hits)
	sort.Strings(ids)
	return ids
}

// bruteForce returns the IDs of the k records closest to q among those
// keep accepts, best first.
func bruteForce(recs []kbstore.Record, q []float32, k int, keep func(kbstore.Record) bool) []string {
	type sc struct {
		id string
		s  float64
	}
	var all []sc
	for _, r := range recs {
		if r.Vector == nil || (keep != nil && !keep(r)) {
			continue
		}
		all = append(all, sc{r.ID, cosine(q, r.Vector)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	if len(all) > k {
		all = all[:k]
	}
	ids := make([]string, len(all))
	for i, a := range all {
		ids[i] = a.id
	}
	return ids
}

func testEmptyStore(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 4})
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0, 0, 0}, K: 5})
	if len(hits) != 0 {
		t.Fatalf("empty store returned %d hits", len(hits))
	}
	f := equals("a", "b")
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0, 0, 0}, K: 5, Filter: f}); len(hits) != 0 {
		t.Fatalf("empty store returned %d filtered hits", len(hits))
	}
	docs, err := s.Documents(ctx, "")
	if err != nil || len(docs) != 0 {
		t.Fatalf("Documents = %v, %v; want empty", docs, err)
	}
	got, err := s.Get(ctx, "", []string{"x"})
	if err != nil || len(got) != 0 {
		t.Fatalf("Get = %v, %v; want empty", got, err)
	}
	if n, err := s.DeleteDocuments(ctx, "", []string{"x"}); err != nil || n != 0 {
		t.Fatalf("DeleteDocuments = %d, %v; want 0, nil", n, err)
	}
}

func testUpsertGetReplace(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 3})
	a := kbstore.Record{ID: "a", DocumentID: "d1", ParentID: "p", Fingerprint: "f1", Text: "alpha",
		Vector: []float32{1, 0, 0}, Metadata: map[string]any{"n": 1, "tags": []string{"x", "y"}, "ok": true}}
	b := kbstore.Record{ID: "b", DocumentID: "d1", Fingerprint: "f1", Text: "beta", Vector: []float32{0, 1, 0}}
	c := kbstore.Record{ID: "c", DocumentID: "d2", Fingerprint: "f2", Text: "gamma", Vector: []float32{0, 0, 1}}
	mustUpsert(t, s, a, b, c)
	got, err := s.Get(ctx, "", []string{"c", "missing", "a"})
	if err != nil {
		t.Fatal(err)
	}
	wantA, _ := kbstore.ValidateRecord(a, 3, false)
	wantC, _ := kbstore.ValidateRecord(c, 3, false)
	if len(got) != 2 || !reflect.DeepEqual(got[0], wantC) || !reflect.DeepEqual(got[1], wantA) {
		t.Fatalf("Get = %#v\nwant [%#v %#v]", got, wantC, wantA)
	}
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{0.9, 0.1, 0}, K: 1})
	if len(hits) != 1 || hits[0].ID != "a" || hits[0].Text != "alpha" || hits[0].DocumentID != "d1" ||
		hits[0].ParentID != "p" || hits[0].Fingerprint != "f1" || !reflect.DeepEqual(hits[0].Metadata, wantA.Metadata) {
		t.Fatalf("Search = %#v", hits)
	}
	if want := cosine([]float32{0.9, 0.1, 0}, a.Vector); math.Abs(hits[0].Score-want) > 1e-3 {
		t.Fatalf("score %v, want cosine %v", hits[0].Score, want)
	}
	// Replace a: new vector, text, document and metadata.
	a2 := kbstore.Record{ID: "a", DocumentID: "d2", Fingerprint: "f2", Text: "alpha2", Vector: []float32{0, 0, -1}, Metadata: map[string]any{"n": 2}}
	mustUpsert(t, s, a2)
	got, _ = s.Get(ctx, "", []string{"a"})
	if len(got) != 1 || got[0].Text != "alpha2" || got[0].DocumentID != "d2" || got[0].ParentID != "" || got[0].Metadata["n"] != 2.0 || len(got[0].Metadata) != 1 {
		t.Fatalf("after replace Get = %#v", got)
	}
	hits = mustSearch(t, s, kbstore.Query{Vector: []float32{0, 0, -1}, K: 10})
	if !reflect.DeepEqual(hitIDs(hits), []string{"a", "b", "c"}) {
		t.Fatalf("after replace Search = %v, want [a b c] (a first)", hitIDs(hits))
	}
	if hits[0].Score < 0.999 {
		t.Fatalf("replaced vector not searched: score %v", hits[0].Score)
	}
	// Documents follow the replacement: d1 has only b now.
	docs, _ := s.Documents(ctx, "")
	want := []kbstore.DocumentInfo{{ID: "d1", Fingerprint: "f1", Records: 1}, {ID: "d2", Fingerprint: "f2", Records: 2}}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("Documents = %v, want %v", docs, want)
	}
}

func testBatchLastWins(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s,
		kbstore.Record{ID: "x", DocumentID: "d", Text: "first", Vector: []float32{1, 0}},
		kbstore.Record{ID: "x", DocumentID: "d", Text: "second", Vector: []float32{0, 1}},
	)
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{0, 1}, K: 10})
	if len(hits) != 1 || hits[0].Text != "second" || hits[0].Score < 0.999 {
		t.Fatalf("Search = %#v, want only the second record", hits)
	}
}

func testAtomicBatch(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	err := s.Upsert(ctx, []kbstore.Record{
		{ID: "ok", DocumentID: "d", Vector: []float32{1, 0}},
		{ID: "bad", DocumentID: "d", Vector: []float32{1, 0, 0}},
	})
	if !errors.Is(err, kbstore.ErrDimensionMismatch) {
		t.Fatalf("Upsert with a bad record: err = %v, want ErrDimensionMismatch", err)
	}
	if got, _ := s.Get(ctx, "", []string{"ok"}); len(got) != 0 {
		t.Fatal("a batch with an invalid record was partly written")
	}
	if err := s.Upsert(ctx, nil); err != nil {
		t.Fatalf("empty Upsert: %v", err)
	}
}

func testDeleteDocuments(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	r := rand.New(rand.NewPCG(1, 2))
	var recs []kbstore.Record
	for i := range 30 {
		recs = append(recs, kbstore.Record{ID: fmt.Sprint("r", i), DocumentID: fmt.Sprint("d", i%3), Vector: vec(r, 2)})
	}
	mustUpsert(t, s, recs...)
	n, err := s.DeleteDocuments(ctx, "", []string{"d1", "nope"})
	if err != nil || n != 10 {
		t.Fatalf("DeleteDocuments = %d, %v; want 10", n, err)
	}
	if n, _ := s.DeleteDocuments(ctx, "", []string{"d1"}); n != 0 {
		t.Fatalf("second delete removed %d", n)
	}
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 1}, K: 100})
	if len(hits) != 20 {
		t.Fatalf("%d hits after delete, want 20", len(hits))
	}
	for _, h := range hits {
		if h.DocumentID == "d1" {
			t.Fatalf("deleted record %s returned", h.ID)
		}
	}
	// Deleted IDs can be reused.
	mustUpsert(t, s, kbstore.Record{ID: "r1", DocumentID: "d9", Vector: []float32{1, 1}})
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 1}, K: 1}); hits[0].ID != "r1" || hits[0].DocumentID != "d9" {
		t.Fatalf("reused ID: %#v", hits[0])
	}
	if n, _ := s.DeleteDocuments(ctx, "", []string{"d0", "d2", "d9"}); n != 21 {
		t.Fatalf("deleting the rest removed %d, want 21", n)
	}
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 1}, K: 100}); len(hits) != 0 {
		t.Fatalf("%d hits after deleting everything", len(hits))
	}
}

func testDocuments(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s,
		kbstore.Record{ID: "1", DocumentID: "b", Fingerprint: "fb", Vector: []float32{1, 0}},
		kbstore.Record{ID: "2", DocumentID: "a", Fingerprint: "fa", Vector: []float32{1, 0}},
		kbstore.Record{ID: "3", DocumentID: "a", Fingerprint: "fa", Vector: []float32{1, 0}},
		kbstore.Record{ID: "4", DocumentID: "c", Fingerprint: "old"},
		kbstore.Record{ID: "5", DocumentID: "c", Fingerprint: "new", Vector: []float32{1, 0}},
	)
	docs, err := s.Documents(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []kbstore.DocumentInfo{{ID: "a", Fingerprint: "fa", Records: 2}, {ID: "b", Fingerprint: "fb", Records: 1}, {ID: "c", Fingerprint: "", Records: 2}}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("Documents = %v\nwant %v (mixed fingerprints report \"\")", docs, want)
	}
}

func testVectorless(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s,
		kbstore.Record{ID: "parent", DocumentID: "d", Text: "the whole section"},
		kbstore.Record{ID: "child", DocumentID: "d", ParentID: "parent", Text: "a sentence", Vector: []float32{1, 0}},
	)
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 10})
	if len(hits) != 1 || hits[0].ID != "child" {
		t.Fatalf("Search = %v, want only the child", hitIDs(hits))
	}
	got, err := s.Get(ctx, "", []string{hits[0].ParentID})
	if err != nil || len(got) != 1 || got[0].Text != "the whole section" || got[0].Vector != nil {
		t.Fatalf("Get(parent) = %#v, %v", got, err)
	}
	// A vector-less record can gain a vector and lose it again.
	mustUpsert(t, s, kbstore.Record{ID: "parent", DocumentID: "d", Vector: []float32{0, 1}})
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{0, 1}, K: 1}); hits[0].ID != "parent" {
		t.Fatalf("record given a vector not searched: %v", hitIDs(hits))
	}
	mustUpsert(t, s, kbstore.Record{ID: "parent", DocumentID: "d"})
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{0, 1}, K: 10}); len(hits) != 1 {
		t.Fatalf("record whose vector was removed still searched: %v", hitIDs(hits))
	}
	if n, _ := s.DeleteDocuments(ctx, "", []string{"d"}); n != 2 {
		t.Fatalf("DeleteDocuments removed %d, want 2 (vector-less included)", n)
	}
}

// testOnlyVectorless: a keyword-only knowledge base writes records without
// any vector (and a record without text, its configuration): the store
// keeps, lists, returns and deletes them, a vector search finds nothing
// rather than failing, and vectors written later (when the knowledge base
// is given an embedder and re-embedded) are searched.
func testOnlyVectorless(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s,
		kbstore.Record{ID: "cfg", DocumentID: "cfg", Fingerprint: "keyword-only", Metadata: map[string]any{"embedder": "keyword-only"}},
		kbstore.Record{ID: "d#0", DocumentID: "d", Fingerprint: "f1", Text: "overdraft fees", Metadata: map[string]any{"type": "faq"}},
		kbstore.Record{ID: "d#1", DocumentID: "d", Fingerprint: "f1", Text: "refunds"},
		kbstore.Record{ID: "e#0", DocumentID: "e", Fingerprint: "f2", Text: "wire transfers"},
	)
	docs, err := s.Documents(ctx, "")
	want := []kbstore.DocumentInfo{{ID: "cfg", Fingerprint: "keyword-only", Records: 1}, {ID: "d", Fingerprint: "f1", Records: 2}, {ID: "e", Fingerprint: "f2", Records: 1}}
	if err != nil || !reflect.DeepEqual(docs, want) {
		t.Fatalf("Documents = %v, %v\nwant %v", docs, err, want)
	}
	got, err := s.Get(ctx, "", []string{"d#0", "cfg", "e#0"})
	if err != nil || len(got) != 3 || got[0].Text != "overdraft fees" || got[0].Metadata["type"] != "faq" ||
		got[1].Metadata["embedder"] != "keyword-only" || got[2].Text != "wire transfers" {
		t.Fatalf("Get = %#v, %v", got, err)
	}
	for _, r := range got {
		if r.Vector != nil {
			t.Fatalf("Get returned a vector for vector-less record %s: %v", r.ID, r.Vector)
		}
	}
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 10}); len(hits) != 0 {
		t.Fatalf("vector search over vector-less records = %v, want none", hitIDs(hits))
	}
	f := equals("type", "faq")
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 10, Filter: f}); len(hits) != 0 {
		t.Fatalf("filtered vector search over vector-less records = %v, want none", hitIDs(hits))
	}
	// Re-embedded: the same records gain vectors and are searched.
	mustUpsert(t, s,
		kbstore.Record{ID: "d#0", DocumentID: "d", Fingerprint: "f3", Text: "overdraft fees", Vector: []float32{1, 0}},
		kbstore.Record{ID: "d#1", DocumentID: "d", Fingerprint: "f3", Text: "refunds", Vector: []float32{0, 1}},
	)
	if hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0.1}, K: 10}); !slices.Equal(hitIDs(hits), []string{"d#0", "d#1"}) {
		t.Fatalf("search after the re-embed = %v, want [d#0 d#1]", hitIDs(hits))
	}
	if n, err := s.DeleteDocuments(ctx, "", []string{"e", "cfg"}); err != nil || n != 2 {
		t.Fatalf("DeleteDocuments of vector-less documents removed %d, %v; want 2", n, err)
	}
	if docs, err := s.Documents(ctx, ""); err != nil || len(docs) != 1 || docs[0].ID != "d" {
		t.Fatalf("Documents after the delete = %v, %v", docs, err)
	}
}

func testInvalidInput(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 3})
	mustUpsert(t, s, kbstore.Record{ID: "a", DocumentID: "d", Vector: []float32{1, 2, 3}})
	var de *kbstore.DimensionError
	err := s.Upsert(ctx, []kbstore.Record{{ID: "b", DocumentID: "d", Vector: []float32{1, 2}}})
	if !errors.As(err, &de) || de.Want != 3 || de.Got != 2 || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Upsert 2-dim into 3-dim store: %v, want a DimensionError{3,2}", err)
	}
	_, err = s.Search(ctx, kbstore.Query{Vector: []float32{1, 2, 3, 4}, K: 1})
	if !errors.As(err, &de) || de.Want != 3 || de.Got != 4 {
		t.Fatalf("Search with 4 dims: %v, want a DimensionError{3,4}", err)
	}
	for name, q := range map[string]kbstore.Query{
		"K=0":         {Vector: []float32{1, 2, 3}, K: 0},
		"K<0":         {Vector: []float32{1, 2, 3}, K: -1},
		"no vector":   {K: 1},
		"zero vector": {Vector: []float32{0, 0, 0}, K: 1},
		"NaN":         {Vector: []float32{float32(math.NaN()), 0, 1}, K: 1},
		"bad filter":  {Vector: []float32{1, 2, 3}, K: 1, Filter: kbstore.Filter{Op: kbstore.OpAndAll}},
	} {
		if _, err := s.Search(ctx, q); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("Search %s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	for name, r := range map[string]kbstore.Record{
		"no ID":          {DocumentID: "d", Vector: []float32{1, 2, 3}},
		"no document":    {ID: "x", Vector: []float32{1, 2, 3}},
		"zero vector":    {ID: "x", DocumentID: "d", Vector: []float32{0, 0, 0}},
		"Inf":            {ID: "x", DocumentID: "d", Vector: []float32{float32(math.Inf(1)), 0, 0}},
		"bad metadata":   {ID: "x", DocumentID: "d", Vector: []float32{1, 2, 3}, Metadata: map[string]any{"m": struct{}{}}},
		"nested list":    {ID: "x", DocumentID: "d", Vector: []float32{1, 2, 3}, Metadata: map[string]any{"m": []any{[]any{1}}}},
		"NaN metadata":   {ID: "x", DocumentID: "d", Vector: []float32{1, 2, 3}, Metadata: map[string]any{"m": math.NaN()}},
		"empty meta key": {ID: "x", DocumentID: "d", Vector: []float32{1, 2, 3}, Metadata: map[string]any{"": 1}},
	} {
		if err := s.Upsert(ctx, []kbstore.Record{r}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("Upsert %s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	if got, _ := s.Get(ctx, "", []string{"x", "b"}); len(got) != 0 {
		t.Fatalf("invalid records were stored: %v", got)
	}
}

func testKLarger(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 4})
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5 {
		mustUpsert(t, s, kbstore.Record{ID: fmt.Sprint(i), DocumentID: "d", Vector: vec(r, 4)})
	}
	if hits := mustSearch(t, s, kbstore.Query{Vector: vec(r, 4), K: 1000}); len(hits) != 5 {
		t.Fatalf("K=1000 over 5 records gave %d hits", len(hits))
	}
	f := equals("missing", 1)
	if hits := mustSearch(t, s, kbstore.Query{Vector: vec(r, 4), K: 1000, Filter: f}); len(hits) != 0 {
		t.Fatalf("filter matching nothing gave %d hits", len(hits))
	}
}

func testExactTopK(t *testing.T, open Opener) {
	const dim = 16
	s := open(t, Config{Dimensions: dim})
	r := rand.New(rand.NewPCG(5, 6))
	var recs []kbstore.Record
	for i := range 500 {
		recs = append(recs, kbstore.Record{ID: fmt.Sprint(i), DocumentID: fmt.Sprint("d", i/10), Vector: vec(r, dim)})
	}
	mustUpsert(t, s, recs[:250]...)
	mustUpsert(t, s, recs[250:]...)
	for range 20 {
		q := vec(r, dim)
		hits := mustSearch(t, s, kbstore.Query{Vector: q, K: 10})
		want := bruteForce(recs, q, 10, nil)
		if !slices.Equal(hitIDs(hits), want) {
			t.Fatalf("top-10 = %v, want %v", hitIDs(hits), want)
		}
		for _, h := range hits {
			if c := cosine(q, recs[mustAtoi(h.ID)].Vector); math.Abs(c-h.Score) > 1e-4 {
				t.Fatalf("score of %s = %v, want cosine %v", h.ID, h.Score, c)
			}
		}
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// filterFixture is a small set whose metadata exercises every operator,
// absent keys and type mismatches.
func filterFixture() []kbstore.Record {
	mds := []map[string]any{
		{"type": "faq", "year": 2021, "tags": []string{"fees", "cards"}, "title": "Card fees", "ok": true},
		{"type": "policy", "year": 2019.5, "tags": []string{"privacy"}, "title": "Privacy policy", "ok": false},
		{"type": "faq", "year": "2021", "tags": "fees", "title": "Disputes"},
		{"type": 7, "year": 2024, "title": []string{"Lost card", "Stolen card"}},
		{},
		{"type": "guide", "year": 2020, "tags": []any{"cards", 3, true}, "ok": "true"},
	}
	recs := make([]kbstore.Record, len(mds))
	for i, m := range mds {
		recs[i] = kbstore.Record{ID: fmt.Sprint("r", i), DocumentID: "d", Vector: []float32{1, float32(i) / 10}, Metadata: m}
	}
	return recs
}

// FilterCases are the filters the suite checks with their expected matches
// over the fixture records r0..r5 (see filterFixture in the source).
var filterCases = []struct {
	f    kbstore.Filter
	want []string
}{
	{equals("type", "faq"), []string{"r0", "r2"}},
	{equals("year", 2021), []string{"r0"}},                       // "2021" (string) is a type mismatch
	{equals("ok", true), []string{"r0"}},                         // "true" (string) is a type mismatch
	{equals("tags", "fees"), []string{"r2"}},                     // a list attribute never equals a scalar
	{notEquals("type", "faq"), []string{"r1", "r3", "r4", "r5"}}, // absent key and number match
	{notEquals("ok", false), []string{"r0", "r2", "r3", "r4", "r5"}},
	{greaterThan("year", 2020), []string{"r0", "r3"}},
	{greaterThanOrEquals("year", 2020), []string{"r0", "r3", "r5"}},
	{lessThan("year", 2020), []string{"r1"}},
	{lessThanOrEquals("year", 2020), []string{"r1", "r5"}},
	{greaterThan("type", 0), []string{"r3"}},
	{oneOf("type", "faq", "guide"), []string{"r0", "r2", "r5"}},
	{oneOf("year", 2021, 2024), []string{"r0", "r3"}},
	{noneOf("type", "faq", "guide"), []string{"r1", "r3", "r4"}},
	{startsWith("title", "Card"), []string{"r0"}},
	{startsWith("title", "Lost"), nil}, // lists are not strings
	{listContains("tags", "cards"), []string{"r0", "r5"}},
	{listContains("tags", "fees"), []string{"r0"}}, // r2's tags is a string, not a list
	{listContains("tags", 3), []string{"r5"}},
	{listContains("tags", true), []string{"r5"}},
	{stringContains("title", "card"), []string{"r3"}}, // case-sensitive; list elements count
	{stringContains("title", "i"), []string{"r1", "r2"}},
	{stringContains("tags", "ee"), []string{"r0", "r2"}},
	{andAll(equals("type", "faq"), listContains("tags", "cards")), []string{"r0"}},
	{orAll(equals("type", 7), lessThan("year", 2020)), []string{"r1", "r3"}},
	{andAll(notEquals("type", "faq"), orAll(equals("ok", false), noneOf("year", 2024, 2020))), []string{"r1", "r4"}},
}

func testFilterOperators(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	recs := filterFixture()
	mustUpsert(t, s, recs...)
	for _, c := range filterCases {
		f := c.f
		hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 100, Filter: f})
		got := sortedIDs(hits)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			b, _ := f.MarshalJSON()
			t.Errorf("filter %s matched %v, want %v", b, got, c.want)
		}
		// The reference evaluator agrees with the expectations.
		n, _ := f.Normalize()
		var ref []string
		for _, r := range recs {
			m, _ := kbstore.NormalizeMetadata(r.Metadata)
			if n.Match(m) {
				ref = append(ref, r.ID)
			}
		}
		if !slices.Equal(ref, c.want) {
			b, _ := f.MarshalJSON()
			t.Errorf("kbstore.Filter.Match for %s = %v, want %v", b, ref, c.want)
		}
	}
}

// testFilterProperty compares the store with the reference evaluator on
// random metadata and random filters.
func testFilterProperty(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 4})
	r := rand.New(rand.NewPCG(7, 8))
	var recs []kbstore.Record
	for i := range 200 {
		m := RandomMetadata(r)
		recs = append(recs, kbstore.Record{ID: fmt.Sprint(i), DocumentID: "d", Vector: vec(r, 4), Metadata: m})
	}
	mustUpsert(t, s, recs...)
	for range 150 {
		f := RandomFilter(r)
		n, err := f.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, rec := range recs {
			m, _ := kbstore.NormalizeMetadata(rec.Metadata)
			if n.Match(m) {
				want = append(want, rec.ID)
			}
		}
		sort.Strings(want)
		got := sortedIDs(mustSearch(t, s, kbstore.Query{Vector: vec(r, 4), K: 1000, Filter: f}))
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			b, _ := f.MarshalJSON()
			t.Fatalf("filter %s: store matched %d records, reference %d", b, len(got), len(want))
		}
	}
}

// testLargeListFilter checks in and notIn lists of thousands of values
// (stores evaluate them with hash sets or push them down) against the
// reference evaluator, and that a filter over the kbstore limits is refused with
// ErrInvalidInput.
func testLargeListFilter(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 4})
	r := rand.New(rand.NewPCG(11, 12))
	var recs []kbstore.Record
	for i := range 400 {
		recs = append(recs, kbstore.Record{ID: fmt.Sprint(i), DocumentID: "d", Vector: vec(r, 4),
			Metadata: map[string]any{"n": i, "s": fmt.Sprint("s", i), "tags": []any{fmt.Sprint("t", i%7)}}})
	}
	mustUpsert(t, s, recs...)
	list := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	nums := list(3000, func(i int) any { return float64(i * 3) }) // every third record, and many misses
	strs := list(3000, func(i int) any { return fmt.Sprint("s", i*2) })
	for _, f := range []kbstore.Filter{
		oneOf("n", nums...),
		noneOf("s", strs...),
		orAll(oneOf("s", strs...), listContains("tags", "t3")),
		andAll(noneOf("n", nums...), oneOf("s", list(100, func(i int) any { return fmt.Sprint("s", i) })...)),
	} {
		n, err := f.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, rec := range recs {
			m, _ := kbstore.NormalizeMetadata(rec.Metadata)
			if n.Match(m) {
				want = append(want, rec.ID)
			}
		}
		sort.Strings(want)
		got := sortedIDs(mustSearch(t, s, kbstore.Query{Vector: vec(r, 4), K: 1000, Filter: f}))
		if !slices.Equal(got, want) {
			t.Errorf("%s filter with thousands of values: store matched %d records, reference %d", f.Op, len(got), len(want))
		}
	}
	over := oneOf("n", list(kbstore.MaxFilterValues+1, func(i int) any { return float64(i) })...)
	if _, err := s.Search(ctx, kbstore.Query{Vector: vec(r, 4), K: 1, Filter: over}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Search with %d in values (over kbstore.MaxFilterValues) = %v, want ErrInvalidInput", kbstore.MaxFilterValues+1, err)
	}
}

func testSelectiveFilter(t *testing.T, open Opener) {
	const dim, n = 16, 3000
	s := open(t, Config{Dimensions: dim})
	r := rand.New(rand.NewPCG(9, 10))
	recs := make([]kbstore.Record, n)
	for i := range recs {
		tenant := "common"
		if i%100 == 7 {
			tenant = "rare" // 1% of records
		}
		recs[i] = kbstore.Record{ID: fmt.Sprint(i), DocumentID: "d", Vector: vec(r, dim), Metadata: map[string]any{"group": tenant}}
	}
	for i := 0; i < n; i += 500 {
		mustUpsert(t, s, recs[i:i+500]...)
	}
	f := equals("group", "rare")
	for range 10 {
		q := vec(r, dim)
		hits := mustSearch(t, s, kbstore.Query{Vector: q, K: 10, Filter: f})
		want := bruteForce(recs, q, 10, func(r kbstore.Record) bool { return r.Metadata["group"] == "rare" })
		if !slices.Equal(hitIDs(hits), want) {
			t.Fatalf("1%%-selective top-10 = %v, want %v", hitIDs(hits), want)
		}
	}
}

func testNoAliasing(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	in := kbstore.Record{ID: "a", DocumentID: "d", Text: "t", Vector: []float32{1, 0},
		Metadata: map[string]any{"l": []any{"x"}, "s": "v"}}
	mustUpsert(t, s, in)
	// Mutating the caller's record after Upsert must not change the store.
	in.Vector[0] = -1
	in.Metadata["s"] = "changed"
	in.Metadata["l"].([]any)[0] = "changed"
	check := func(when string) {
		t.Helper()
		got, err := s.Get(ctx, "", []string{"a"})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: Get = %v, %v", when, got, err)
		}
		want := map[string]any{"l": []any{"x"}, "s": "v"}
		if !reflect.DeepEqual(got[0].Metadata, want) || got[0].Vector[0] != 1 {
			t.Fatalf("%s: stored record changed: %#v", when, got[0])
		}
	}
	check("after mutating the input")
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 1, WithVectors: true})
	hits[0].Metadata["s"] = "x"
	hits[0].Metadata["l"].([]any)[0] = "x"
	delete(hits[0].Metadata, "l")
	hits[0].Vector[0] = 5
	check("after mutating a Search hit")
	got, _ := s.Get(ctx, "", []string{"a"})
	got[0].Metadata["s"] = "x"
	got[0].Metadata["l"].([]any)[0] = "x"
	got[0].Vector[1] = 5
	check("after mutating a Get result")
}

func testWithVectors(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s, kbstore.Record{ID: "a", DocumentID: "d", Vector: []float32{3, 4}})
	hits := mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 1, WithVectors: true})
	if len(hits) != 1 || !slices.Equal(hits[0].Vector, []float32{3, 4}) {
		t.Fatalf("WithVectors: got %#v, want the stored vector [3 4]", hits)
	}
	hits = mustSearch(t, s, kbstore.Query{Vector: []float32{1, 0}, K: 1})
	if hits[0].Vector != nil {
		t.Fatalf("vector returned without WithVectors")
	}
}

func testConcurrent(t *testing.T, open Opener) {
	const dim, writers, readers, perWriter = 8, 4, 4, 60
	s := open(t, Config{Dimensions: dim})
	var wg sync.WaitGroup
	errc := make(chan error, writers+readers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 11))
			for i := range perWriter {
				doc := fmt.Sprintf("w%d-d%d", w, i%5)
				rec := kbstore.Record{ID: fmt.Sprintf("w%d-%d", w, i), DocumentID: doc, Vector: vec(r, dim), Metadata: map[string]any{"w": w}}
				if err := s.Upsert(ctx, []kbstore.Record{rec}); err != nil {
					errc <- err
					return
				}
				if i%20 == 19 {
					if _, err := s.DeleteDocuments(ctx, "", []string{doc}); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	for rd := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(rd), 12))
			for range perWriter {
				f := equals("w", float64(rd%writers))
				hits, err := s.Search(ctx, kbstore.Query{Vector: vec(r, dim), K: 5, Filter: f})
				if err != nil {
					errc <- err
					return
				}
				for _, h := range hits {
					if h.Metadata["w"] != float64(rd%writers) {
						errc <- fmt.Errorf("filter violated under concurrency: %#v", h.Metadata)
						return
					}
				}
				if _, err := s.Documents(ctx, ""); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// Final state: each writer's docs d0..d4; i%20==19 deleted doc (19%5=4) at
	// i=19, 39, 59, and records of d4 written after the last delete: none.
	hits := mustSearch(t, s, kbstore.Query{Vector: vec(rand.New(rand.NewPCG(1, 1)), dim), K: 10000})
	want := writers * perWriter * 4 / 5
	if len(hits) != want {
		t.Fatalf("%d records after concurrent writes, want %d", len(hits), want)
	}
}

func testTenantIsolation(t *testing.T, open Opener) {
	const dim = 4
	s := open(t, Config{Dimensions: dim, RequirePartition: true})
	// Fail closed without a partition.
	if err := s.Upsert(ctx, []kbstore.Record{{ID: "a", DocumentID: "d", Vector: []float32{1, 0, 0, 0}}}); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("Upsert without partition: %v, want ErrPartitionRequired", err)
	}
	if _, err := s.Search(ctx, kbstore.Query{Vector: []float32{1, 0, 0, 0}, K: 1}); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("Search without partition: %v, want ErrPartitionRequired", err)
	}
	if _, err := s.Get(ctx, "", []string{"a"}); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("Get without partition: %v, want ErrPartitionRequired", err)
	}
	if _, err := s.Documents(ctx, ""); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("Documents without partition: %v, want ErrPartitionRequired", err)
	}
	if _, err := s.DeleteDocuments(ctx, "", []string{"d"}); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("DeleteDocuments without partition: %v, want ErrPartitionRequired", err)
	}

	// Property: random operations over tenants sharing IDs and document IDs;
	// every tenant always sees exactly its own model state.
	tenants := []string{"t1", "t2", "t3"}
	type key struct{ tenant, id string }
	model := map[key]kbstore.Record{}
	r := rand.New(rand.NewPCG(13, 14))
	verify := func(step int) {
		t.Helper()
		for _, tn := range tenants {
			var wantIDs []string
			docs := map[string]int{}
			for k, rec := range model {
				if k.tenant == tn {
					wantIDs = append(wantIDs, k.id)
					docs[rec.DocumentID]++
				}
			}
			sort.Strings(wantIDs)
			hits := mustSearch(t, s, kbstore.Query{Vector: vec(r, dim), K: 1000, Partition: tn})
			for _, h := range hits {
				if h.Partition != tn {
					t.Fatalf("step %d: tenant %s got a record of tenant %q", step, tn, h.Partition)
				}
				if m := model[key{tn, h.ID}]; m.Text != h.Text {
					t.Fatalf("step %d: tenant %s record %s has text %q, want %q", step, tn, h.ID, h.Text, m.Text)
				}
			}
			if got := sortedIDs(hits); !slices.Equal(got, wantIDs) && len(got)+len(wantIDs) > 0 {
				t.Fatalf("step %d: tenant %s sees %v, want %v", step, tn, got, wantIDs)
			}
			f := equals("owner", tn)
			notMine := notEquals("owner", tn)
			if hits := mustSearch(t, s, kbstore.Query{Vector: vec(r, dim), K: 1000, Partition: tn, Filter: notMine}); len(hits) != 0 {
				t.Fatalf("step %d: tenant %s reached %d foreign records through a filter", step, tn, len(hits))
			}
			if hits := mustSearch(t, s, kbstore.Query{Vector: vec(r, dim), K: 1000, Partition: tn, Filter: f}); len(hits) != len(wantIDs) {
				t.Fatalf("step %d: tenant %s filtered search saw %d, want %d", step, tn, len(hits), len(wantIDs))
			}
			ds, err := s.Documents(ctx, tn)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != len(docs) {
				t.Fatalf("step %d: tenant %s Documents = %v, want %d documents", step, tn, ds, len(docs))
			}
			for _, d := range ds {
				if docs[d.ID] != d.Records {
					t.Fatalf("step %d: tenant %s document %s has %d records, want %d", step, tn, d.ID, d.Records, docs[d.ID])
				}
			}
		}
	}
	for step := range 120 {
		tn := tenants[r.IntN(len(tenants))]
		switch r.IntN(4) {
		case 0, 1, 2:
			var batch []kbstore.Record
			for range 1 + r.IntN(4) {
				rec := kbstore.Record{
					ID: fmt.Sprint("id", r.IntN(12)), DocumentID: fmt.Sprint("doc", r.IntN(4)), Partition: tn,
					Text: fmt.Sprint(tn, "-", step), Vector: vec(r, dim), Metadata: map[string]any{"owner": tn},
				}
				batch = append(batch, rec)
			}
			mustUpsert(t, s, batch...)
			for _, rec := range batch {
				model[key{tn, rec.ID}] = rec
			}
		case 3:
			doc := fmt.Sprint("doc", r.IntN(4))
			n, err := s.DeleteDocuments(ctx, tn, []string{doc})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for k, rec := range model {
				if k.tenant == tn && rec.DocumentID == doc {
					delete(model, k)
					want++
				}
			}
			if n != want {
				t.Fatalf("step %d: DeleteDocuments(%s, %s) = %d, want %d", step, tn, doc, n, want)
			}
		}
		if step%10 == 9 {
			verify(step)
		}
		// Get never crosses tenants.
		id := fmt.Sprint("id", r.IntN(12))
		got, err := s.Get(ctx, tn, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := model[key{tn, id}]; ok != (len(got) == 1) || (ok && got[0].Text != m.Text) {
			t.Fatalf("step %d: Get(%s, %s) = %v, model has %v", step, tn, id, got, ok)
		}
	}
	verify(-1)
}

func testCancelled(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s, kbstore.Record{ID: "a", DocumentID: "d", Vector: []float32{1, 0}})
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Search(c, kbstore.Query{Vector: []float32{1, 0}, K: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with cancelled context: %v", err)
	}
	if err := s.Upsert(c, []kbstore.Record{{ID: "b", DocumentID: "d", Vector: []float32{1, 0}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert with cancelled context: %v", err)
	}
	if got, _ := s.Get(ctx, "", []string{"b"}); len(got) != 0 {
		t.Errorf("Upsert with cancelled context wrote the record")
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t, Config{Dimensions: 2})
	mustUpsert(t, s, kbstore.Record{ID: "a", DocumentID: "d", Vector: []float32{1, 0}})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Search(ctx, kbstore.Query{Vector: []float32{1, 0}, K: 1}); !errors.Is(err, kbstore.ErrClosed) {
		t.Errorf("Search after Close: %v, want ErrClosed", err)
	}
	if err := s.Upsert(ctx, []kbstore.Record{{ID: "b", DocumentID: "d", Vector: []float32{1, 0}}}); !errors.Is(err, kbstore.ErrClosed) {
		t.Errorf("Upsert after Close: %v, want ErrClosed", err)
	}
	if _, err := s.DeleteDocuments(ctx, "", []string{"d"}); !errors.Is(err, kbstore.ErrClosed) {
		t.Errorf("DeleteDocuments after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Get(ctx, "", []string{"a"}); !errors.Is(err, kbstore.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := s.Documents(ctx, ""); !errors.Is(err, kbstore.ErrClosed) {
		t.Errorf("Documents after Close: %v, want ErrClosed", err)
	}
}
