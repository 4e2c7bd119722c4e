package kb_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/internal/hostiledoc"
	"github.com/bedrockkit/bedrockkit/kb"
)

// One document over a limit, slow, or crashing its loader fails alone;
// the others are indexed and the report counts each limit.
func TestSyncLoadLimits(t *testing.T) {
	loaders := kb.DefaultLoaders()
	// A loader that ignores its context until it is cancelled, one that
	// ignores the text limit, and one that panics.
	loaders["slow"] = kb.LoaderFunc(func(ctx context.Context, _ kb.SourceItem, _ []byte) (chunk.ParsedDocument, error) {
		<-ctx.Done()
		return chunk.ParsedDocument{}, ctx.Err()
	})
	loaders["greedy"] = kb.LoaderFunc(func(context.Context, kb.SourceItem, []byte) (chunk.ParsedDocument, error) {
		return chunk.ParsedDocument{Text: strings.Repeat("word ", 100_000)}, nil
	})
	loaders["crash"] = kb.LoaderFunc(func(context.Context, kb.SourceItem, []byte) (chunk.ParsedDocument, error) {
		panic("parser bug")
	})
	base := newKB(t, kb.Options{Loaders: loaders, MaxTextBytes: 64 << 10, LoadTimeout: 50 * time.Millisecond, MaxDocumentBytes: 1 << 20})
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:good.md", Data: []byte("# Fees\nThe annual fee is 95 USD.")},
		kb.MemoryDocument{URI: "mem:good.txt", Data: []byte("Lost cards are replaced in two days.")},
		kb.MemoryDocument{URI: "mem:keys.json", Data: hostiledoc.JSONLongKeys(1000, 1000)},
		kb.MemoryDocument{URI: "mem:deep.docx", Data: hostiledoc.DOCXDeep(10_000)},
		kb.MemoryDocument{URI: "mem:big.txt", Data: []byte(strings.Repeat("x", 2<<20))},
		kb.MemoryDocument{URI: "mem:a.slow", Data: []byte("x")},
		kb.MemoryDocument{URI: "mem:a.greedy", Data: []byte("x")},
		kb.MemoryDocument{URI: "mem:a.crash", Data: []byte("x")},
	)
	rep, err := base.Sync(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != 2 || rep.Failed != 6 {
		t.Fatalf("new %d failed %d: %v", rep.New, rep.Failed, rep.Failures)
	}
	want := map[string]error{
		"mem:keys.json": kb.ErrTextTooLarge, "mem:deep.docx": kb.ErrTooComplex, "mem:big.txt": kb.ErrTooLarge,
		"mem:a.slow": kb.ErrLoadTimeout, "mem:a.greedy": kb.ErrTextTooLarge, "mem:a.crash": kb.ErrMalformedDocument,
	}
	for _, f := range rep.Failures {
		if w := want[f.URI]; !errors.Is(f, w) {
			t.Errorf("%s: %v, want %v", f.URI, f, w)
		}
	}
	if got := rep.OverLimit; got != (kb.LimitCounts{Size: 1, Text: 2, Structure: 1, Time: 1}) {
		t.Errorf("OverLimit %+v", got)
	}
	res, err := base.Retrieve(context.Background(), "annual fee", kb.RetrieveOptions{SearchType: kb.Keyword})
	if err != nil || len(res) == 0 || res[0].DocumentID != "mem:good.md" {
		t.Fatalf("retrieve: %v %v", res, err)
	}
}

func TestLoadLimitsFromContext(t *testing.T) {
	if got := kb.LoadLimitsFromContext(context.Background()).MaxTextBytes; got != kb.DefaultMaxTextBytes {
		t.Fatalf("default %d", got)
	}
	ctx := kb.WithLoadLimits(context.Background(), kb.LoadLimits{MaxTextBytes: 10})
	if got := kb.LoadLimitsFromContext(ctx).MaxTextBytes; got != 10 {
		t.Fatalf("set %d", got)
	}
}
