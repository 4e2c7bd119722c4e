package localindex

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// stallCtx is a context whose Err reports nil for its first free calls;
// the next call closes reached and waits for release, and it and every
// later call report context.DeadlineExceeded. A search stalled there is
// provably inside its scan, holding the index's read lock.
type stallCtx struct {
	context.Context
	free    int32
	calls   atomic.Int32
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func newStall(free int32) *stallCtx {
	return &stallCtx{Context: context.Background(), free: free, reached: make(chan struct{}), release: make(chan struct{})}
}

func (c *stallCtx) Err() error {
	if c.calls.Add(1) <= c.free {
		return nil
	}
	c.once.Do(func() {
		close(c.reached)
		<-c.release
	})
	return context.DeadlineExceeded
}

// inList returns n values for an in filter: every third is one of the
// records' "n" (0..records-1), the rest match nothing.
func inList(n, records int) []any {
	out := make([]any, n)
	for i := range out {
		if i%3 == 0 {
			out[i] = float64((i * 7) % records)
		} else {
			out[i] = fmt.Sprint("no-", i)
		}
	}
	return out
}

func boundsIndex(t testing.TB, o Options, n int) *Index {
	t.Helper()
	ix, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]kbstore.Record, n)
	for i := range recs {
		recs[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d" + strconv.Itoa(i%50), Vector: crashVec(i),
			Metadata: map[string]any{"n": i, "tags": []any{"t" + strconv.Itoa(i%10)}}}
	}
	for i := 0; i < n; i += 2000 {
		if err := ix.Upsert(bg, recs[i:min(i+2000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

var boundsConfigs = []struct {
	name string
	o    Options
}{
	{"Float32", Options{Quantization: Float32, Workers: 2}},
	{"Auto", Options{Workers: 2}},
	{"Int8", Options{Quantization: Int8, Workers: 1}},
	{"HNSW", Options{HNSW: &HNSWOptions{MinRecords: 1000, M: 8, EfConstruction: 32}, Workers: 2}},
}

// TestSearchStopsAtDeadline: a search with a filter of 10,000 values
// checks its context inside the scan (or graph walk), returns
// context.DeadlineExceeded once the deadline has passed, and only then
// does a waiting Upsert get the write lock. Every search path is covered:
// exact float32, int8-screened, int8, and HNSW with a broad filter (graph
// walk), a selective one (exact scan of the matches) and none.
func TestSearchStopsAtDeadline(t *testing.T) {
	const n = 6000
	list := inList(kbstore.MaxFilterValues, n)
	broad := kb.NotIn("n", list...)                                            // 2/3 of the records
	selective := kb.AndAll(kb.In("n", list...), kb.ListContains("tags", "t3")) // about 3%
	for _, c := range boundsConfigs {
		ix := boundsIndex(t, c.o, n)
		filters := []kb.Filter{selective, broad}
		if c.o.HNSW != nil {
			filters = append(filters, kb.Filter{})
		}
		for fi, f := range filters {
			t.Run(fmt.Sprint(c.name, "/", fi), func(t *testing.T) {
				// The scan checks its context as it goes, not only before
				// and after.
				count := newStall(1 << 30)
				if _, err := ix.Search(count, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f}); err != nil {
					t.Fatal(err)
				}
				if checks := count.calls.Load() - 1; checks < 2 {
					t.Fatalf("the search checked its context %d times after starting; want checks inside the scan", checks)
				}
				ctx := newStall(1) // Search's first check passes
				done := make(chan error, 1)
				go func() {
					_, err := ix.Search(ctx, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f})
					done <- err
				}()
				select {
				case <-ctx.reached:
				case err := <-done:
					t.Fatalf("the search finished (%v) without checking its context inside the scan", err)
				}
				upserted := make(chan error, 1)
				go func() {
					upserted <- ix.Upsert(bg, []kbstore.Record{{ID: "late", DocumentID: "late", Vector: crashVec(1)}})
				}()
				select {
				case err := <-upserted:
					t.Fatalf("Upsert (%v) ran while a search held the read lock", err)
				case <-time.After(20 * time.Millisecond):
				}
				close(ctx.release)
				if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("search past its deadline returned %v, want context.DeadlineExceeded", err)
				}
				if err := <-upserted; err != nil {
					t.Fatal(err)
				}
				ix.DeleteDocuments(bg, "", []string{"late"})
			})
		}
		ix.Close()
	}
}

// TestHugeListFilterResults: filters at the size limit give the exact
// answer on every search path, with a real one-second deadline (a search
// may also report the deadline, never a wrong answer).
func TestHugeListFilterResults(t *testing.T) {
	const n = 6000
	for _, c := range boundsConfigs {
		ix := boundsIndex(t, c.o, n)
		list := inList(kbstore.MaxFilterValues, n)
		want := map[string]bool{}
		for _, v := range list {
			if x, ok := v.(float64); ok {
				want[strconv.Itoa(int(x))] = true
			}
		}
		for _, f := range []kb.Filter{
			kb.In("n", list...),
			kb.AndAll(kb.In("n", list...), kb.ListContains("tags", "t3")),
		} {
			ctx, cancel := context.WithTimeout(bg, time.Second)
			hits, err := ix.Search(ctx, kbstore.Query{Vector: crashVec(3), K: n, Filter: f})
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			var exp []string
			for id := range want {
				i, _ := strconv.Atoi(id)
				if f.Op == kbstore.OpIn || i%10 == 3 {
					exp = append(exp, id)
				}
			}
			slices.Sort(exp)
			if c.o.HNSW != nil {
				// A broad filter walks the graph: approximate, but every
				// hit must match, and recall stays high.
				for _, id := range got {
					if _, ok := slices.BinarySearch(exp, id); !ok {
						t.Fatalf("%s: hit %s does not match the filter", c.name, id)
					}
				}
				if len(got) < len(exp)*95/100 {
					t.Fatalf("%s: %d hits of %d", c.name, len(got), len(exp))
				}
				continue
			}
			if !slices.Equal(got, exp) {
				t.Fatalf("%s: %d hits, want %d", c.name, len(got), len(exp))
			}
		}
		ix.Close()
	}
}

func TestSearchRefusesOversizedFilter(t *testing.T) {
	ix := boundsIndex(t, Options{}, 10)
	defer ix.Close()
	f := kb.In("n", inList(kbstore.MaxFilterValues+1, 10)...)
	if _, err := ix.Search(bg, kbstore.Query{Vector: crashVec(1), K: 1, Filter: f}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Search with %d in values = %v, want ErrInvalidInput", kbstore.MaxFilterValues+1, err)
	}
}

// TestGraphWalkChecksContext: the HNSW walk itself (not only the scans
// around it) stops on a done context.
func TestGraphWalkChecksContext(t *testing.T) {
	ix := boundsIndex(t, Options{HNSW: &HNSWOptions{MinRecords: 1000, M: 8, EfConstruction: 32}}, 3000)
	defer ix.Close()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	qn := crashVec(5)
	if _, err := ix.graph.search(ctx, qn, 10, func(int32) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Fatalf("graph walk with a cancelled context = %v", err)
	}
	if res, err := ix.graph.search(bg, qn, 10, nil); err != nil || len(res) != 10 {
		t.Fatalf("graph walk: %d results, %v", len(res), err)
	}
}

// BenchmarkHugeInFilter is a search with an in filter of 10,000 values
// over 20,000 records (the reported case): before compiled filters each
// record scanned the whole list.
func BenchmarkHugeInFilter(b *testing.B) {
	const n = 20000
	for _, c := range boundsConfigs {
		ix := boundsIndex(b, c.o, n)
		f := kb.In("n", inList(kbstore.MaxFilterValues, n)...)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ix.Search(bg, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f}); err != nil {
					b.Fatal(err)
				}
			}
		})
		ix.Close()
	}
}
