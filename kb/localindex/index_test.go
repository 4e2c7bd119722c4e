package localindex

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/simd"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// clustered returns n vectors of dim dimensions around 50 centres.
func clustered(n, dim int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	centres := make([][]float32, 50)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + 0.4*float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

func exactTop(vecs [][]float32, q []float32, k int, keep func(int) bool) []string {
	type sc struct {
		i int
		s float64
	}
	var all []sc
	for i, v := range vecs {
		if keep != nil && !keep(i) {
			continue
		}
		var dot, nv, nq float64
		for j := range v {
			dot += float64(v[j]) * float64(q[j])
			nv += float64(v[j]) * float64(v[j])
			nq += float64(q[j]) * float64(q[j])
		}
		all = append(all, sc{i, dot / (sqrt(nv) * sqrt(nq))})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
	out := []string{}
	for _, a := range all[:min(k, len(all))] {
		out = append(out, strconv.Itoa(a.i))
	}
	return out
}

func sqrt(x float64) float64 {
	z := x
	for range 40 {
		if z == 0 {
			return 0
		}
		z = (z + x/z) / 2
	}
	return z
}

func load(t testing.TB, ix *Index, vecs [][]float32) {
	t.Helper()
	loadFrom(t, ix, vecs, 0)
}

// loadFrom upserts vecs[from:], record i with ID strconv.Itoa(i).
func loadFrom(t testing.TB, ix *Index, vecs [][]float32, from int) {
	t.Helper()
	batch := make([]kbstore.Record, 0, 1000)
	for i := from; i < len(vecs); i++ {
		v := vecs[i]
		batch = append(batch, kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Vector: v, Metadata: map[string]any{"g": float64(i % 100)}})
		if len(batch) == cap(batch) || i == len(vecs)-1 {
			if err := ix.Upsert(bg, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func recall(got []kbstore.Hit, want []string) float64 {
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	n := 0
	for _, h := range got {
		if set[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// TestParallelScanExact checks the multi-goroutine scan (more slots than
// one worker takes) against brute force, with and without a filter.
func TestParallelScanExact(t *testing.T) {
	vecs := clustered(20000, 16, 1)
	for _, o := range []Options{{Workers: 4}, {Workers: 3, Quantization: Int8, RescoreFactor: 50}} {
		ix, _ := Open(o)
		load(t, ix, vecs)
		r := rand.New(rand.NewPCG(2, 2))
		for range 5 {
			q := vecs[r.IntN(len(vecs))]
			hits, err := ix.Search(bg, kbstore.Query{Vector: q, K: 10})
			if err != nil {
				t.Fatal(err)
			}
			if want := exactTop(vecs, q, 10, nil); !slices.Equal(ids(hits), want) {
				t.Fatalf("%+v: top-10 %v, want %v", o, ids(hits), want)
			}
			f := kb.Equals("g", 7.0)
			hits, _ = ix.Search(bg, kbstore.Query{Vector: q, K: 10, Filter: f})
			if want := exactTop(vecs, q, 10, func(i int) bool { return i%100 == 7 }); !slices.Equal(ids(hits), want) {
				t.Fatalf("%+v: filtered top-10 %v, want %v", o, ids(hits), want)
			}
		}
		ix.Close()
	}
}

func ids(hits []kbstore.Hit) []string {
	out := []string{}
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

// TestHNSWRecall runs with int8 codes guiding the walk (Auto, then an
// exact float32 rescoring of the candidates) and with Float32 throughout.
func TestHNSWRecall(t *testing.T) {
	for _, qz := range []Quantization{Auto, Float32} {
		t.Run(fmt.Sprint(qz), func(t *testing.T) { testHNSWRecall(t, qz) })
	}
}

func testHNSWRecall(t *testing.T, qz Quantization) {
	vecs := clustered(4000, 32, 4)
	ix, _ := Open(Options{Quantization: qz, HNSW: &HNSWOptions{MinRecords: 1000, M: 12, EfConstruction: 64, EfSearch: 64}})
	defer ix.Close()
	load(t, ix, vecs)
	if (ix.codes.len() > 0) != (qz == Auto) {
		t.Fatalf("quantization %d: codes kept = %v", qz, ix.codes.len() > 0)
	}
	if ix.graph == nil {
		t.Fatal("graph not built past MinRecords")
	}
	r := rand.New(rand.NewPCG(5, 5))
	var sum float64
	const queries = 30
	for range queries {
		base := vecs[r.IntN(len(vecs))]
		q := make([]float32, 32)
		for j := range q {
			q[j] = base[j] + 0.3*float32(r.NormFloat64())
		}
		hits, err := ix.Search(bg, kbstore.Query{Vector: q, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		sum += recall(hits, exactTop(vecs, q, 10, nil))
		for _, h := range hits { // scores are exact cosines, not int8 estimates
			id, _ := strconv.Atoi(h.ID)
			if want := cosine(q, vecs[id]); math.Abs(h.Score-want) > 1e-5 {
				t.Fatalf("hit %s: score %v, exact cosine %v", h.ID, h.Score, want)
			}
		}
	}
	if got := sum / queries; got < 0.9 {
		t.Fatalf("HNSW recall@10 = %.3f, want >= 0.9", got)
	}

	// A broad filter walks the graph with the filter applied; every hit matches.
	f := kb.LessThan("g", 50)
	hits, _ := ix.Search(bg, kbstore.Query{Vector: vecs[0], K: 10, Filter: f})
	if len(hits) != 10 {
		t.Fatalf("broad filter: %d hits", len(hits))
	}
	for _, h := range hits {
		if h.Metadata["g"].(float64) >= 50 {
			t.Fatalf("hit %s violates the filter", h.ID)
		}
	}
	// A selective filter is answered exactly.
	f = kb.Equals("g", 3.0)
	hits, _ = ix.Search(bg, kbstore.Query{Vector: vecs[0], K: 10, Filter: f})
	if want := exactTop(vecs, vecs[0], 10, func(i int) bool { return i%100 == 3 }); !slices.Equal(ids(hits), want) {
		t.Fatalf("selective filter under HNSW: %v, want %v", ids(hits), want)
	}

	// Deletes leave tombstones that are never returned; enough of them compact.
	n, err := ix.DeleteDocuments(bg, "", []string{"d"})
	if err != nil || n != len(vecs) {
		t.Fatalf("delete all: %d %v", n, err)
	}
	hits, _ = ix.Search(bg, kbstore.Query{Vector: vecs[0], K: 10})
	if len(hits) != 0 {
		t.Fatalf("%d hits after deleting everything", len(hits))
	}
	if len(ix.slots) != 0 {
		t.Fatalf("tombstones not compacted: %d slots", len(ix.slots))
	}
	load(t, ix, vecs[:2000])
	hits, _ = ix.Search(bg, kbstore.Query{Vector: vecs[1], K: 1})
	if len(hits) != 1 || hits[0].ID != "1" {
		t.Fatalf("after reload: %v", ids(hits))
	}
}

func TestHNSWReplaceKeepsOneCopy(t *testing.T) {
	vecs := clustered(1500, 8, 6)
	ix, _ := Open(Options{HNSW: &HNSWOptions{MinRecords: 1000, M: 8, EfConstruction: 32}})
	defer ix.Close()
	load(t, ix, vecs)
	load(t, ix, vecs) // replace every record
	hits, err := ix.Search(bg, kbstore.Query{Vector: vecs[0], K: 2000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, h := range hits {
		if seen[h.ID] {
			t.Fatalf("%s returned twice", h.ID)
		}
		seen[h.ID] = true
	}
	if ix.Len() != 1500 {
		t.Fatalf("Len %d", ix.Len())
	}
}

func TestInt8RecallAndMemory(t *testing.T) {
	vecs := clustered(5000, 64, 8)
	ix, err := Open(Options{Dir: t.TempDir(), Quantization: Int8, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	load(t, ix, vecs)
	r := rand.New(rand.NewPCG(9, 9))
	var sum float64
	for range 20 {
		q := vecs[r.IntN(len(vecs))]
		hits, _ := ix.Search(bg, kbstore.Query{Vector: q, K: 10})
		sum += recall(hits, exactTop(vecs, q, 10, nil))
	}
	if got := sum / 20; got < 0.99 {
		t.Fatalf("int8 recall@10 after rescoring = %.3f", got)
	}
	if b := ix.BytesPerVector(); float64(b) > 0.3*float64(4*64) {
		t.Fatalf("int8 with Dir holds %d bytes per 64-dim vector, want <= 0.3 x %d", b, 4*64)
	}
	// Get still returns the exact float32 vector from disk.
	got, _ := ix.Get(bg, "", []string{"17"})
	if !slices.Equal(got[0].Vector, vecs[17]) {
		t.Fatal("Get returned a different vector")
	}
}

func TestQuantize(t *testing.T) {
	v := []float32{3, -4, 0, 1}
	codes := make([]int8, 4)
	var scale float32
	quantize(v, 1.0/5, codes, &scale)
	if codes[1] != -127 || codes[0] != 95 || codes[2] != 0 {
		t.Fatalf("codes %v", codes)
	}
	approx := simd.DotInt8([]float32{0.6, -0.8, 0, 0.2}, codes) * scale
	if approx < 0.99*1.0 || approx > 1.01*1.04 {
		t.Fatalf("self-similarity %v", approx)
	}
}

func BenchmarkSearchExact(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		vecs := clustered(n, 384, 1)
		ix, _ := Open(Options{})
		load(b, ix, vecs)
		q := vecs[0]
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				ix.Search(bg, kbstore.Query{Vector: q, K: 10})
			}
		})
		ix.Close()
	}
}

func TestHNSWReopen(t *testing.T) {
	dir := t.TempDir()
	vecs := clustered(1500, 16, 10)
	o := Options{Dir: dir, NoSync: true, HNSW: &HNSWOptions{MinRecords: 1000, M: 8, EfConstruction: 32}}
	ix, _ := Open(o)
	load(t, ix, vecs)
	ix.close(false) // log only: the graph is rebuilt by replay
	for range 2 {
		ix, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		if ix.graph == nil {
			t.Fatal("graph not rebuilt on open")
		}
		hits, _ := ix.Search(bg, kbstore.Query{Vector: vecs[42], K: 1})
		if len(hits) != 1 || hits[0].ID != "42" {
			t.Fatalf("after reopen: %v", ids(hits))
		}
		ix.Close() // snapshot: next round rebuilds from it
	}
}

// TestInt8IsExact: with the residual bound, int8-screened search (Int8,
// and Auto, the default) returns exactly the float32 top-K, even when the
// first rescoring pass is small.
func TestInt8IsExact(t *testing.T) {
	vecs := clustered(12000, 48, 11)
	fl, _ := Open(Options{Quantization: Float32})
	defer fl.Close()
	q8, _ := Open(Options{Quantization: Int8, RescoreFactor: 1})
	defer q8.Close()
	auto, _ := Open(Options{})
	defer auto.Close()
	load(t, fl, vecs)
	load(t, q8, vecs)
	load(t, auto, vecs)
	if fl.BytesPerVector() != 4*48+4 || auto.BytesPerVector() != 5*48+12 {
		t.Fatalf("bytes per vector: float32 %d, auto %d", fl.BytesPerVector(), auto.BytesPerVector())
	}
	r := rand.New(rand.NewPCG(12, 12))
	for i := range 60 {
		q := vecs[r.IntN(len(vecs))]
		if i%4 >= 2 { // a query that is not in the data
			q = slices.Clone(q)
			for d := range q {
				q[d] += float32(r.NormFloat64() * 0.3)
			}
		}
		k := []int{1, 10, 100}[i%3]
		var f kb.Filter
		if i%2 == 1 {
			g := kb.LessThan("g", 30)
			f = g
		}
		a, err := fl.Search(bg, kbstore.Query{Vector: q, K: k, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		other := q8
		if i%5 < 2 {
			other = auto
		}
		b, err := other.Search(bg, kbstore.Query{Vector: q, K: k, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(a), ids(b)) {
			t.Fatalf("k=%d: int8 %v, float32 %v", k, ids(b), ids(a))
		}
		for j := range a {
			if a[j].Score != b[j].Score {
				t.Fatalf("scores differ: %v vs %v", a[j].Score, b[j].Score)
			}
		}
	}
}

func BenchmarkSearchHNSW(b *testing.B) {
	vecs := clustered(50000, 384, 1)
	ix, _ := Open(Options{HNSW: &HNSWOptions{}})
	defer ix.Close()
	load(b, ix, vecs)
	qs := clustered(100, 384, 2)
	i := 0
	for b.Loop() {
		ix.Search(bg, kbstore.Query{Vector: qs[i%len(qs)], K: 10})
		i++
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestOpenRefusesUnknownQuantization(t *testing.T) {
	for _, q := range []Quantization{-1, Int8 + 1} {
		_, err := Open(Options{Quantization: q})
		if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "use Auto, Float32 or Int8") {
			t.Errorf("Quantization %d: %v", q, err)
		}
	}
}
