package kb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// countCtx counts calls to Err.
type countCtx struct {
	context.Context
	calls atomic.Int64
}

func (c *countCtx) Err() error {
	c.calls.Add(1)
	return c.Context.Err()
}

// TestKeywordScanChecksContext: the built-in keyword search evaluates a
// filter on every matching chunk; with thousands of them it checks the
// context inside that scan (compared with the same search without a
// filter), so a deadline ends it.
func TestKeywordScanChecksContext(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{}
	for i := range 3000 {
		files[fmt.Sprintf("d%04d.md", i)] = fmt.Sprintf("common word number %d", i)
	}
	src := newMemSource(files)
	for name := range files {
		src.meta[name] = map[string]any{"n": len(name)}
	}
	k := newKB(t, kb.Options{Loaders: map[string]kb.Loader{"md": kb.LoaderFunc(func(_ context.Context, _ kb.SourceItem, b []byte) (chunk.ParsedDocument, error) {
		return chunk.ParsedDocument{Text: string(b)}, nil
	})}})
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	vals := make([]any, kbstore.MaxFilterValues)
	for i := range vals {
		vals[i] = float64(i + 100)
	}
	f := kb.NotIn("n", vals...)
	calls := func(filter kb.Filter) int64 {
		c := &countCtx{Context: ctx}
		res, err := k.Retrieve(c, "common word", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 5, Filter: filter})
		if err != nil || len(res) != 5 {
			t.Fatalf("Retrieve: %d results, %v", len(res), err)
		}
		return c.calls.Load()
	}
	calls(kb.Filter{}) // the first Retrieve also loads the partition
	without, with := calls(kb.Filter{}), calls(f)
	if with < without+2 {
		t.Fatalf("keyword search over 3,000 chunks checked its context %d times with a filter, %d without; want checks inside the filtered scan", with, without)
	}
}
