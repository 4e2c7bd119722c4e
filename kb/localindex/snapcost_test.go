package localindex

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// TestSnapshotCostStaysProportional: a snapshot rewrites the whole state,
// so taking one every SnapshotBytes of log made loading a large index
// quadratic (at a million vectors it rewrote gigabytes for every 64 MiB
// logged and never finished). The bytes snapshots write must stay within a
// small factor of the bytes the log received.
func TestSnapshotCostStaysProportional(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(Options{Dir: dir, NoSync: true, SnapshotBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var logged int64
	for i := range 3000 {
		recs := []kbstore.Record{{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i/10), Text: "some text", Vector: crashVec(i)}}
		logged += int64(len(frame(append(make([]byte, 9), encodeUpsert(recs)...))))
		if err := ix.Upsert(bg, recs); err != nil {
			t.Fatal(err)
		}
	}
	snaps, bytes := ix.log.snapCount, ix.log.snapTotal
	t.Logf("%d bytes logged, %d snapshots wrote %d bytes (%.2fx)", logged, snaps, bytes, float64(bytes)/float64(logged))
	if snaps < 3 {
		t.Fatalf("only %d snapshots: the log is never folded", snaps)
	}
	if bytes > 3*logged+3*2048 {
		t.Fatalf("snapshots wrote %d bytes for %d logged (%.1fx): snapshot cost is not proportional", bytes, logged, float64(bytes)/float64(logged))
	}
}

// TestSetEfSearch: a larger candidate list at run time finds at least as
// many true neighbours, and a search never walks less than K.
func TestSetEfSearch(t *testing.T) {
	vecs := clustered(3000, 16, 9)
	ix, err := Open(Options{HNSW: &HNSWOptions{MinRecords: 100, M: 4, EfConstruction: 16, EfSearch: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	load(t, ix, vecs)
	exact, _ := Open(Options{})
	defer exact.Close()
	load(t, exact, vecs)
	recall := func() float64 {
		var sum float64
		for i := 0; i < 200; i++ {
			q := vecs[(i*37)%len(vecs)]
			want, _ := exact.Search(bg, kbstore.Query{Vector: q, K: 10})
			got, err := ix.Search(bg, kbstore.Query{Vector: q, K: 10})
			if err != nil || len(got) != 10 {
				t.Fatalf("search: %d hits, %v", len(got), err)
			}
			set := map[string]bool{}
			for _, h := range want {
				set[h.ID] = true
			}
			for _, h := range got {
				if set[h.ID] {
					sum++
				}
			}
		}
		return sum / 2000
	}
	low := recall()
	ix.SetEfSearch(200)
	high := recall()
	t.Logf("recall@10 at ef 4 (K rules): %.3f, at ef 200: %.3f", low, high)
	if high < low || high < 0.95 {
		t.Fatalf("recall %.3f at ef 200, %.3f at ef 4", high, low)
	}
	(&Index{}).SetEfSearch(5) // no HNSW: nothing happens
}

// TestFilterEvaluatedLazily: an exact search with a selective filter
// evaluates it only for records whose score could place them among the
// best (at a million records, evaluating it for every record made a 1%
// filter cost twice the unfiltered search), and still returns exactly
// the brute-force top K among the matching records.
func TestFilterEvaluatedLazily(t *testing.T) {
	const n = 200000 // pass 1 of the int8 scan keeps 100 candidates: the filter must match more
	vecs := clustered(n, 8, 21)
	for name, o := range map[string]Options{"auto": {}, "float32": {Quantization: Float32}, "int8": {Quantization: Int8}} {
		t.Run(name, func(t *testing.T) {
			ix, _ := Open(o)
			defer ix.Close()
			var recs []kbstore.Record
			for i, v := range vecs {
				recs = append(recs, kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Partition: "p" + strconv.Itoa(i%2), Vector: v,
					Metadata: map[string]any{"g": float64(i % 100)}})
			}
			if err := ix.Upsert(bg, recs); err != nil {
				t.Fatal(err)
			}
			var count atomic.Int64
			testMatchCount = &count
			defer func() { testMatchCount = nil }()
			f := kb.Equals("g", 42)
			queries := 20
			for qi := range queries {
				q := vecs[(qi*131)%n]
				got, err := ix.Search(bg, kbstore.Query{Vector: q, K: 10, Filter: f, Partition: "p0"})
				if err != nil {
					t.Fatal(err)
				}
				// Brute force among the matching records of p0.
				type sc struct {
					s  float64
					id string
				}
				var all []sc
				for i, v := range vecs {
					if i%2 == 0 && i%100 == 42 {
						all = append(all, sc{cosine(q, v), strconv.Itoa(i)})
					}
				}
				slices.SortFunc(all, func(a, b sc) int {
					switch {
					case a.s > b.s:
						return -1
					case a.s < b.s:
						return 1
					}
					return strings.Compare(a.id, b.id)
				})
				if len(got) != 10 {
					t.Fatalf("%d hits", len(got))
				}
				for i, h := range got {
					if h.ID != all[i].id && math.Abs(h.Score-all[i].s) > 1e-5 {
						t.Fatalf("query %d hit %d: %s (%.6f), want %s (%.6f)", qi, i, h.ID, h.Score, all[i].id, all[i].s)
					}
				}
			}
			per := float64(count.Load()) / float64(queries)
			t.Logf("filter evaluated %.0f times per query over %d records in the partition", per, n/2)
			if per > n/2/2 {
				t.Fatalf("filter evaluated %.0f times per query: not deferred", per)
			}
		})
	}
}
