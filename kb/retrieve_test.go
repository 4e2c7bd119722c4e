package kb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func bankSource() *memSource {
	src := newMemSource(map[string]string{
		"fees.md":     "# Fees\n\nThe monthly maintenance fee is 5 dollars. It is waived with a balance above 1,500 dollars.\n\nForeign transactions cost 3 percent.",
		"disputes.md": "# Disputes\n\nTo dispute a charge, call us within 60 days of the statement. We investigate and answer within 10 business days.",
		"lost.md":     "# Lost card\n\nReport a lost or stolen card at once by phone. We block the card and send a replacement within 5 days.",
		"privacy.md":  "# Privacy\n\nWe never sell your personal data. You may opt out of marketing e-mails at any time.",
	})
	src.meta["fees.md"] = map[string]any{"category": "pricing", "year": 2024}
	src.meta["disputes.md"] = map[string]any{"category": "support", "year": 2023}
	src.meta["lost.md"] = map[string]any{"category": "support", "year": 2025}
	src.meta["privacy.md"] = map[string]any{"category": "legal", "year": 2022}
	return src
}

func TestRetrieveSearchTypes(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{Loaders: map[string]kb.Loader{"md": kb.LoaderFunc(func(_ context.Context, _ kb.SourceItem, b []byte) (chunk.ParsedDocument, error) {
		return chunk.ParsedDocument{Text: string(b)}, nil
	})}})
	if _, err := k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	for _, st := range []kb.SearchType{kb.Semantic, kb.Keyword, kb.Hybrid} {
		res, err := k.Retrieve(ctx, "How do I dispute a charge on my statement?", kb.RetrieveOptions{SearchType: st, NumberOfResults: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 || res[0].DocumentID != "mem:disputes.md" {
			t.Fatalf("%s: top result %+v", st, res)
		}
		r := res[0]
		if r.Location != (kb.Location{Type: "CUSTOM", URI: "mem:disputes.md"}) || r.Metadata[kb.KeySourceURI] != "mem:disputes.md" || r.Metadata["category"] != "support" {
			t.Fatalf("%s: result fields %+v", st, r)
		}
		if len(res) > 2 {
			t.Fatalf("%s: %d results for NumberOfResults 2", st, len(res))
		}
	}
	// The filter is applied inside the search: the only matching document
	// is found even though it ranks low without the filter.
	f := kb.AndAll(kb.Equals("category", "legal"), kb.GreaterThan("year", 2000))
	for _, st := range []kb.SearchType{kb.Semantic, kb.Keyword, kb.Hybrid} {
		res, err := k.Retrieve(ctx, "dispute a charge", kb.RetrieveOptions{SearchType: st, NumberOfResults: 1, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Metadata["category"] != "legal" {
				t.Fatalf("%s: filter not applied: %+v", st, r)
			}
		}
		if st == kb.Semantic && len(res) != 1 {
			t.Fatalf("semantic search should find the one legal document, got %d", len(res))
		}
	}
	// Options are checked.
	for _, o := range []kb.RetrieveOptions{{NumberOfResults: 101}, {NumberOfResults: -1}, {SearchType: "FUZZY"}, {KeywordWeight: -1}} {
		if _, err := k.Retrieve(ctx, "fees", o); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("%+v: want ErrInvalidInput, got %v", o, err)
		}
	}
	bad := kb.Filter{Op: kbstore.OpAndAll, Filters: []kb.Filter{kb.Equals("a", 1)}}
	if _, err := k.Retrieve(ctx, "fees", kb.RetrieveOptions{Filter: bad}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("andAll with one child must be refused: %v", err)
	}
	// Default is 5 results at most.
	res, err := k.Retrieve(ctx, "card")
	if err != nil || len(res) > 5 || len(res) == 0 {
		t.Fatalf("default retrieve: %d %v", len(res), err)
	}
}

func TestHybridWeights(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	src := newMemSource(map[string]string{"a.txt": "zebra zebra stripes", "b.txt": "horses gallop in fields", "c.txt": "fields of zebra"})
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	kw, _ := k.Retrieve(ctx, "zebra", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 3})
	only, _ := k.Retrieve(ctx, "zebra", kb.RetrieveOptions{SearchType: kb.Hybrid, NumberOfResults: 3, KeywordWeight: 1, SemanticWeight: 1e-9})
	if len(kw) == 0 || len(only) < len(kw) {
		t.Fatalf("kw %v hybrid %v", kw, only)
	}
	for i := range kw {
		if kw[i].ID != only[i].ID {
			t.Fatalf("hybrid with ~zero semantic weight should follow keyword order: %v vs %v", kw, only)
		}
	}
}

func TestHierarchicalReturnsParents(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{Chunker: chunk.Hierarchical{ParentMaxTokens: 120, ChildMaxTokens: 30, OverlapTokens: 1}})
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "Sentence %d talks about topic %d of the manual. ", i, i%7)
	}
	if _, err := k.Sync(ctx, newMemSource(map[string]string{"manual.txt": b.String()})); err != nil {
		t.Fatal(err)
	}
	res, err := k.Retrieve(ctx, "Sentence 12 talks about topic 5", kb.RetrieveOptions{NumberOfResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range res {
		if seen[r.ID] {
			t.Fatalf("parent %s returned twice", r.ID)
		}
		seen[r.ID] = true
		if len(r.Text) < 200 {
			t.Fatalf("result %s looks like a child chunk (%d bytes)", r.ID, len(r.Text))
		}
	}
	if !strings.Contains(res[0].Text, "Sentence 12 ") {
		t.Fatalf("top parent does not hold the matching child: %q", res[0].Text)
	}
}

func TestReranker(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	if _, err := k.Sync(ctx, newMemSource(corpus(10))); err != nil {
		t.Fatal(err)
	}
	// A reranker that prefers longer document numbers reverses nothing
	// useful but proves the order comes from it.
	rr := kb.RerankerFunc(func(_ context.Context, q string, texts []string) ([]float64, error) {
		s := make([]float64, len(texts))
		for i, tx := range texts {
			if strings.Contains(tx, "Document 9 ") {
				s[i] = 10
			}
		}
		return s, nil
	})
	res, err := k.Retrieve(ctx, "privacy notice policy", kb.RetrieveOptions{Reranker: rr, NumberOfResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res[0].Text, "Document 9 ") || res[0].Score != 10 {
		t.Fatalf("reranked top: %+v", res[0])
	}
	wrong := kb.RerankerFunc(func(context.Context, string, []string) ([]float64, error) { return []float64{1}, nil })
	if _, err := k.Retrieve(ctx, "privacy", kb.RetrieveOptions{Reranker: wrong}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("short score list: %v", err)
	}
}

func TestKeywordIndexSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	k := newKB(t, kb.Options{Store: store})
	src := newMemSource(corpus(8))
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	want, err := k.Retrieve(ctx, "Detail 5-1 explains", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 20})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	store2 := openIndex(t, localindex.Options{Dir: dir})
	k2 := newKB(t, kb.Options{Store: store2})
	got, err := k2.Retrieve(ctx, "Detail 5-1 explains", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("after reopen %d results, before %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
			t.Fatalf("result %d differs after reopen: %+v vs %+v", i, got[i], want[i])
		}
	}
	// And the reopened KB keeps it in step with a new sync.
	src.remove("doc005.txt")
	if _, err := k2.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	got, _ = k2.Retrieve(ctx, "Detail 5-1 explains", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 20})
	for _, r := range got {
		if r.DocumentID == "mem:doc005.txt" {
			t.Fatal("deleted document still found")
		}
	}
}
