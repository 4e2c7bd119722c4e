package pgvector

import (
	"testing"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
)

// TestKnowledgeBaseOnPostgres: a kb.KnowledgeBase over the PostgreSQL store
// syncs incrementally and retrieves with every search type; keyword and
// hybrid search use PostgreSQL full-text search (the store is a
// kbstore.KeywordSearcher), and a second KnowledgeBase over the same table picks
// up where the first left off.
func TestKnowledgeBaseOnPostgres(t *testing.T) {
	emb := bedrockkittest.NewHashEmbedder(64)
	table := newTable(t)
	newKB := func() *kb.KnowledgeBase {
		k, err := kb.New(kb.Options{Store: open(t, Options{Table: table, Dimensions: emb.Dimensions()}), Embedder: emb})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "s3://docs/cards.md", Data: []byte("# Cards\n\nA lost card is blocked at once and a new card is mailed."), Metadata: map[string]any{"type": "faq"}},
		kb.MemoryDocument{URI: "s3://docs/fees.md", Data: []byte("# Fees\n\nWire transfers cost two euros; card payments are free."), Metadata: map[string]any{"type": "faq"}},
		kb.MemoryDocument{URI: "s3://docs/privacy.md", Data: []byte("# Privacy\n\nWe keep statements for ten years."), Metadata: map[string]any{"type": "policy"}},
	)
	k := newKB()
	rep, err := k.Sync(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != 3 {
		t.Fatalf("first sync: %+v", rep)
	}
	for _, st := range []kb.SearchType{kb.Keyword, kb.Hybrid, kb.Semantic} {
		res, err := k.Retrieve(ctx, "lost card blocked", kb.RetrieveOptions{SearchType: st, NumberOfResults: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 || res[0].DocumentID != "s3://docs/cards.md" {
			t.Fatalf("%s: results %+v", st, res)
		}
	}
	policy := kb.Equals("type", "policy")
	res, err := k.Retrieve(ctx, "card", kb.RetrieveOptions{SearchType: kb.Hybrid, Filter: policy})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.DocumentID != "s3://docs/privacy.md" {
			t.Fatalf("filtered hybrid search returned %s", r.DocumentID)
		}
	}
	// Incremental: a fresh KnowledgeBase on the same table sees the synced
	// documents; one edit and one deletion are all the next sync does.
	src.Put(kb.MemoryDocument{URI: "s3://docs/fees.md", Data: []byte("# Fees\n\nWire transfers are now free."), Metadata: map[string]any{"type": "faq"}})
	src.Delete("s3://docs/privacy.md")
	rep, err = newKB().Sync(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != 0 || rep.Modified != 1 || rep.Deleted != 1 {
		t.Fatalf("second sync: %+v, want 1 modified and 1 deleted", rep)
	}
}
