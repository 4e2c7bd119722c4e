package chromem

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
// later call report context.DeadlineExceeded.
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

// inValues returns n values for an in filter: every third is a record's
// "n" (0..records-1), the rest match nothing.
func inValues(n, records int) []any {
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

func boundsStore(t testing.TB, n int) *Store {
	t.Helper()
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]kbstore.Record, n)
	for i := range recs {
		recs[i] = kbstore.Record{ID: strconv.Itoa(i), DocumentID: "d", Vector: crashVec(i),
			Metadata: map[string]any{"n": i, "tags": []any{"t" + strconv.Itoa(i%10)}}}
	}
	if err := s.Upsert(bg, recs); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSearchStopsAtDeadline: with a filter of 10,000 values, the scan that
// finds the matching records checks its context as it goes; a search
// past its deadline returns context.DeadlineExceeded, and a waiting
// Upsert runs after it.
func TestSearchStopsAtDeadline(t *testing.T) {
	const n = 6000
	s := boundsStore(t, n)
	defer s.Close()
	list := inValues(kbstore.MaxFilterValues, n)
	for i, f := range []kb.Filter{
		kb.AndAll(kb.In("n", list...), kb.ListContains("tags", "t3")), // selective: subset
		kb.NotIn("n", list...), // broad: over-fetch
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			count := newStall(1 << 30)
			if _, err := s.Search(count, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f}); err != nil {
				t.Fatal(err)
			}
			if checks := count.calls.Load() - 1; checks < 2 {
				t.Fatalf("the search checked its context %d times after starting; want checks inside the scan", checks)
			}
			ctx := newStall(1)
			done := make(chan error, 1)
			go func() {
				_, err := s.Search(ctx, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f})
				done <- err
			}()
			select {
			case <-ctx.reached:
			case err := <-done:
				t.Fatalf("the search finished (%v) without checking its context", err)
			}
			upserted := make(chan error, 1)
			go func() {
				upserted <- s.Upsert(bg, []kbstore.Record{{ID: "late", DocumentID: "late", Vector: crashVec(1)}})
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
			s.DeleteDocuments(bg, "", []string{"late"})
		})
	}
}

func TestHugeListFilter(t *testing.T) {
	const n = 3000
	s := boundsStore(t, n)
	defer s.Close()
	list := inValues(kbstore.MaxFilterValues, n)
	f := kb.In("n", list...)
	hits, err := s.Search(bg, kbstore.Query{Vector: crashVec(3), K: n, Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	seen := map[int]bool{}
	for _, v := range list {
		if x, ok := v.(float64); ok && !seen[int(x)] {
			seen[int(x)] = true
			want = append(want, strconv.Itoa(int(x)))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%d hits, want %d", len(got), len(want))
	}
	over := kb.In("n", inValues(kbstore.MaxFilterValues+1, n)...)
	if _, err := s.Search(bg, kbstore.Query{Vector: crashVec(3), K: 1, Filter: over}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("oversized filter: %v, want ErrInvalidInput", err)
	}
}

// BenchmarkHugeInFilter: an in filter of 10,000 values over 20,000
// records.
func BenchmarkHugeInFilter(b *testing.B) {
	const n = 20000
	s := boundsStore(b, n)
	defer s.Close()
	f := kb.In("n", inValues(kbstore.MaxFilterValues, n)...)
	for b.Loop() {
		if _, err := s.Search(bg, kbstore.Query{Vector: crashVec(3), K: 10, Filter: f}); err != nil {
			b.Fatal(err)
		}
	}
}
