package langchaingo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func openStore(t *testing.T, o localindex.Options) *localindex.Index {
	t.Helper()
	s, err := localindex.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newVS(t *testing.T, store kbstore.Store, opts lcgo.VectorStoreOptions) *lcgo.VectorStore {
	t.Helper()
	vs, err := lcgo.NewVectorStore(store, bedrockkittest.NewHashEmbedder(128), opts)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

var bankDocs = []schema.Document{
	{PageContent: "Report a lost card by phone. A replacement card is free.", Metadata: map[string]any{"type": "faq", "year": 2024, "tags": []string{"cards", "lost"}, "weight": float32(0.5), "public": true, "owner": nil}},
	{PageContent: "The monthly fee is 6 dollars for the standard account.", Metadata: map[string]any{"type": "pricing", "year": int64(2023), "tags": []string{"fees"}}},
	{PageContent: "Wire transfers abroad take two business days.", Metadata: map[string]any{"type": "faq", "year": uint8(22), "tags": []any{"transfers"}}},
}

func TestVectorStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{})
	ids, err := vs.AddDocuments(ctx, bankDocs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] == ids[1] || !strings.HasPrefix(ids[0], "lc-") {
		t.Fatalf("ids %q", ids)
	}
	// The IDs are stable: adding the same documents again stores nothing new.
	again, err := vs.AddDocuments(ctx, bankDocs)
	if err != nil || strings.Join(again, ",") != strings.Join(ids, ",") {
		t.Fatalf("ids changed: %q %v", again, err)
	}
	infos, err := store.Documents(ctx, "")
	if err != nil || len(infos) != 3 {
		t.Fatalf("documents %+v %v", infos, err)
	}

	docs, err := vs.SimilaritySearch(ctx, "lost card replacement", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].PageContent != bankDocs[0].PageContent {
		t.Fatalf("docs %+v", docs)
	}
	md := docs[0].Metadata
	if md[lcgo.MetaDocumentID] != ids[0] || md[lcgo.MetaID] != ids[0]+"#0" || docs[0].Score <= 0 || md[lcgo.MetaScore] != float64(docs[0].Score) && float32(md[lcgo.MetaScore].(float64)) != docs[0].Score {
		t.Fatalf("metadata %+v score %v", md, docs[0].Score)
	}
	// Numbers come back as float64, lists as []any; nil values are dropped.
	if md["year"] != float64(2024) || md["weight"] != float64(0.5) || md["public"] != true || md["type"] != "faq" {
		t.Fatalf("metadata values %#v", md)
	}
	if tags, ok := md["tags"].([]any); !ok || len(tags) != 2 || tags[0] != "cards" {
		t.Fatalf("tags %#v", md["tags"])
	}
	if _, ok := md["owner"]; ok {
		t.Fatal("nil metadata value stored")
	}
	all, err := vs.SimilaritySearch(ctx, "card", 10)
	if err != nil || len(all) != 3 || all[0].Score < all[1].Score || all[1].Score < all[2].Score {
		t.Fatalf("all %d %v", len(all), err)
	}

	// Search results can be added to another store as they are: they keep
	// their document IDs and lose the score and record ID.
	other := newVS(t, openStore(t, localindex.Options{}), lcgo.VectorStoreOptions{})
	copied, err := other.AddDocuments(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if copied[i] != all[i].Metadata[lcgo.MetaDocumentID] {
			t.Fatalf("copied ids %q", copied)
		}
	}
	back, _ := other.SimilaritySearch(ctx, "monthly fee", 1)
	if len(back) != 1 || back[0].Metadata["type"] != "pricing" || back[0].Metadata[lcgo.MetaScore] == all[0].Metadata[lcgo.MetaScore] {
		t.Fatalf("copied search %+v", back)
	}

	n, err := vs.DeleteDocuments(ctx, ids[:1])
	if err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if docs, _ := vs.SimilaritySearch(ctx, "lost card replacement", 3); len(docs) != 2 {
		t.Fatalf("after delete %d docs", len(docs))
	}
}

func TestVectorStoreExplicitIDReplaces(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{Chunker: chunk.FixedSize{MaxTokens: 20}, IDKey: lcgo.MetaDocumentID})
	long := strings.Repeat("Cards can be frozen in the app at any time. ", 20)
	ids, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: long, Metadata: map[string]any{lcgo.MetaDocumentID: "faq-7"}}})
	if err != nil || len(ids) != 1 || ids[0] != "faq-7" {
		t.Fatalf("ids %q %v", ids, err)
	}
	infos, _ := store.Documents(ctx, "")
	if len(infos) != 1 || infos[0].Records < 5 {
		t.Fatalf("chunked into %+v", infos)
	}
	// The same ID with shorter content replaces every old chunk.
	if _, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: "Cards are frozen in the app.", Metadata: map[string]any{lcgo.MetaDocumentID: "faq-7"}}}); err != nil {
		t.Fatal(err)
	}
	infos, _ = store.Documents(ctx, "")
	if len(infos) != 1 || infos[0].Records != 1 {
		t.Fatalf("after replace %+v", infos)
	}
	docs, _ := vs.SimilaritySearch(ctx, "frozen", 5)
	if len(docs) != 1 || docs[0].PageContent != "Cards are frozen in the app." || docs[0].Metadata[lcgo.MetaID] != "faq-7#0" {
		t.Fatalf("docs %+v", docs)
	}
	_, err = vs.AddDocuments(ctx, []schema.Document{{PageContent: "x", Metadata: map[string]any{lcgo.MetaDocumentID: 7}}})
	if !errors.Is(err, lcgo.ErrUnsupportedMetadata) {
		t.Fatalf("numeric id: %v", err)
	}
}

func TestVectorStoreHierarchicalReturnsParents(t *testing.T) {
	ctx := context.Background()
	vs := newVS(t, openStore(t, localindex.Options{}), lcgo.VectorStoreOptions{Chunker: chunk.Hierarchical{ParentMaxTokens: 60, ChildMaxTokens: 20}})
	text := strings.Repeat("Savings accounts pay interest monthly. ", 8) + strings.Repeat("Mortgages need a valuation of the house. ", 8)
	if _, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: text}}); err != nil {
		t.Fatal(err)
	}
	docs, err := vs.SimilaritySearch(ctx, "mortgage valuation house", 4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		id := d.Metadata[lcgo.MetaID].(string)
		if seen[id] {
			t.Fatalf("parent %s returned twice", id)
		}
		seen[id] = true
	}
	if len(docs) == 0 || len(docs) > 4 || !strings.Contains(docs[0].PageContent, "valuation") || len(docs[0].PageContent) <= len("Mortgages need a valuation of the house. ")*2 {
		t.Fatalf("want parent chunks, got %d: %q", len(docs), docs[0].PageContent)
	}
}

func TestVectorStoreFilters(t *testing.T) {
	ctx := context.Background()
	vs := newVS(t, openStore(t, localindex.Options{}), lcgo.VectorStoreOptions{})
	if _, err := vs.AddDocuments(ctx, bankDocs); err != nil {
		t.Fatal(err)
	}
	pricing := kb.Equals("type", "pricing")
	cases := map[string]any{
		"kb.Filter":      pricing,
		"*kb.Filter":     &pricing,
		"json string":    `{"equals":{"key":"type","value":"pricing"}}`,
		"raw json":       json.RawMessage(`{"lessThan":{"key":"year","value":2024}}`),
		"bytes":          []byte(`{"listContains":{"key":"tags","value":"fees"}}`),
		"bedrock map":    map[string]any{"andAll": []any{map[string]any{"equals": map[string]any{"key": "type", "value": "pricing"}}, map[string]any{"greaterThan": map[string]any{"key": "year", "value": 2000}}}},
		"flat map":       map[string]any{"type": "pricing", "year": 2023},
		"flat map in":    map[string]any{"year": []int{2023, 1999}},
		"flat map typed": map[string]any{"type": "pricing"},
	}
	for name, f := range cases {
		// The query is about cards, yet the filter finds the pricing
		// document inside the search: k=1 is not trimmed to nothing.
		docs, err := vs.SimilaritySearch(ctx, "lost card replacement", 1, vectorstores.WithFilters(f))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(docs) != 1 || docs[0].Metadata["type"] != "pricing" {
			t.Fatalf("%s: %+v", name, docs)
		}
	}
	if docs, err := vs.SimilaritySearch(ctx, "card", 5, vectorstores.WithFilters(map[string]any{})); err != nil || len(docs) != 3 {
		t.Fatalf("empty map: %d %v", len(docs), err)
	}
	if docs, err := vs.SimilaritySearch(ctx, "card", 5, vectorstores.WithFilters((*kb.Filter)(nil))); err != nil || len(docs) != 3 {
		t.Fatalf("nil filter: %d %v", len(docs), err)
	}
	for name, bad := range map[string]any{
		"type":          42,
		"bad json":      `{"equals":`,
		"unknown op":    `{"near":{"key":"a","value":1}}`,
		"andAll of one": kb.AndAll(kb.Equals("a", "b")),
		"flat nested":   map[string]any{"a": map[string]any{"b": 1}},
		"flat nil":      map[string]any{"a": nil},
	} {
		_, err := vs.SimilaritySearch(ctx, "card", 1, vectorstores.WithFilters(bad))
		if !errors.Is(err, lcgo.ErrUnsupportedFilter) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestVectorStoreScoreThreshold(t *testing.T) {
	ctx := context.Background()
	vs := newVS(t, openStore(t, localindex.Options{}), lcgo.VectorStoreOptions{})
	if _, err := vs.AddDocuments(ctx, bankDocs); err != nil {
		t.Fatal(err)
	}
	all, err := vs.SimilaritySearch(ctx, "lost card replacement", 3)
	if err != nil || len(all) != 3 {
		t.Fatal(err)
	}
	// A threshold between the best and second score keeps only the best.
	mid := (all[0].Score + all[1].Score) / 2
	docs, err := vs.SimilaritySearch(ctx, "lost card replacement", 3, vectorstores.WithScoreThreshold(mid))
	if err != nil || len(docs) != 1 || docs[0].PageContent != all[0].PageContent {
		t.Fatalf("threshold %v: %d docs %v", mid, len(docs), err)
	}
	for _, bad := range []float32{-0.1, 1.5} {
		if _, err := vs.SimilaritySearch(ctx, "card", 3, vectorstores.WithScoreThreshold(bad)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("threshold %v: %v", bad, err)
		}
	}
}

func TestVectorStoreNameSpace(t *testing.T) {
	ctx := context.Background()
	vs := newVS(t, openStore(t, localindex.Options{RequirePartition: true}), lcgo.VectorStoreOptions{Partition: "bank-a"})
	if _, err := vs.AddDocuments(ctx, bankDocs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := vs.AddDocuments(ctx, bankDocs[1:2], vectorstores.WithNameSpace("bank-b")); err != nil {
		t.Fatal(err)
	}
	a, err := vs.SimilaritySearch(ctx, "fee", 5)
	if err != nil || len(a) != 1 || a[0].Metadata["type"] != "faq" {
		t.Fatalf("bank-a: %+v %v", a, err)
	}
	b, err := vs.SimilaritySearch(ctx, "card", 5, vectorstores.WithNameSpace("bank-b"))
	if err != nil || len(b) != 1 || b[0].Metadata["type"] != "pricing" {
		t.Fatalf("bank-b: %+v %v", b, err)
	}
	// A store that requires partitions refuses an adapter that names none.
	none := newVS(t, openStore(t, localindex.Options{RequirePartition: true}), lcgo.VectorStoreOptions{})
	if _, err := none.AddDocuments(ctx, bankDocs[:1]); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("add without partition: %v", err)
	}
	if _, err := none.SimilaritySearch(ctx, "card", 1); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("search without partition: %v", err)
	}
}

// countingLC is a langchaingo embedder over the hash embedder that counts
// its calls.
type countingLC struct {
	docs, queries atomic.Int32
	e             bedrockkit.Embedder
}

func (c *countingLC) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	c.docs.Add(1)
	return c.e.Embed(ctx, texts, bedrockkit.PurposeDocument)
}

func (c *countingLC) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	c.queries.Add(1)
	v, err := c.e.Embed(ctx, []string{text}, bedrockkit.PurposeQuery)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

func TestVectorStoreWithEmbedderAndDeduplicater(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{BatchSize: 2})
	lc := &countingLC{e: bedrockkittest.NewHashEmbedder(128)}
	skip := func(_ context.Context, d schema.Document) bool { return d.Metadata["type"] == "pricing" }
	ids, err := vs.AddDocuments(ctx, bankDocs, vectorstores.WithEmbedder(lc), vectorstores.WithDeduplicater(skip))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || lc.docs.Load() != 1 { // two texts, batch size 2: one call
		t.Fatalf("ids %q, %d document calls", ids, lc.docs.Load())
	}
	docs, err := vs.SimilaritySearch(ctx, "wire transfer", 5, vectorstores.WithEmbedder(lc))
	if err != nil || len(docs) != 2 || lc.queries.Load() != 1 {
		t.Fatalf("docs %d, %d query calls, %v", len(docs), lc.queries.Load(), err)
	}
}

func TestVectorStoreMetadataErrors(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{})
	type point struct{ X int }
	for name, v := range map[string]any{
		"map":         map[string]any{"a": 1},
		"struct":      point{1},
		"pointer":     &point{1},
		"time":        time.Now(),
		"bytes":       []byte("x"),
		"raw json":    json.RawMessage(`{"a":1}`),
		"big int":     int64(1) << 60,
		"big uint":    uint64(1) << 60,
		"nested list": [][]string{{"a"}},
		"nil in list": []any{"a", nil},
	} {
		docs := []schema.Document{bankDocs[1], {PageContent: "bad", Metadata: map[string]any{"field": v}}}
		_, err := vs.AddDocuments(ctx, docs)
		var me *lcgo.MetadataError
		if !errors.Is(err, lcgo.ErrUnsupportedMetadata) || !errors.Is(err, bedrockkit.ErrInvalidInput) || !errors.As(err, &me) || me.Key != "field" || me.Document != 1 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Nothing was stored by the failed calls, not even the valid document.
	if infos, _ := store.Documents(ctx, ""); len(infos) != 0 {
		t.Fatalf("stored %+v", infos)
	}
	if _, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: "  "}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("empty content: %v", err)
	}
	if _, err := vs.SimilaritySearch(ctx, " ", 1); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("empty query: %v", err)
	}
	if _, err := vs.SimilaritySearch(ctx, "card", 0); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("k=0: %v", err)
	}
	if _, err := lcgo.NewVectorStore(nil, bedrockkittest.NewHashEmbedder(8), lcgo.VectorStoreOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil store: %v", err)
	}
	if _, err := lcgo.NewVectorStore(store, nil, lcgo.VectorStoreOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil embedder: %v", err)
	}
	// A store of another dimension refuses the vectors.
	small := newVS(t, openStore(t, localindex.Options{Dimensions: 8}), lcgo.VectorStoreOptions{})
	if _, err := small.AddDocuments(ctx, bankDocs[:1]); !errors.Is(err, kbstore.ErrDimensionMismatch) {
		t.Fatalf("dimensions: %v", err)
	}
}

// cancelling is an embedder that cancels the call's context on its
// second call and then fails as a cancelled provider would.
type cancelling struct {
	bedrockkit.Embedder
	cancel context.CancelFunc
	calls  atomic.Int32
}

func (c *cancelling) Embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	if c.calls.Add(1) == 2 {
		c.cancel()
		return nil, ctx.Err()
	}
	return c.Embedder.Embed(ctx, texts, p)
}

func TestVectorStoreCancellation(t *testing.T) {
	store := openStore(t, localindex.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	emb := &cancelling{Embedder: bedrockkittest.NewHashEmbedder(64), cancel: cancel}
	vs, err := lcgo.NewVectorStore(store, emb, lcgo.VectorStoreOptions{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vs.AddDocuments(ctx, bankDocs); !errors.Is(err, context.Canceled) {
		t.Fatalf("add: %v", err)
	}
	if infos, _ := store.Documents(context.Background(), ""); len(infos) != 0 {
		t.Fatalf("a cancelled add stored %+v", infos)
	}
	if _, err := vs.SimilaritySearch(ctx, "card", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("search: %v", err)
	}
}

// KnowledgeBase.Sync deletes what its source does not list from the
// partition it syncs, so documents added through the adapter survive only
// in a partition no Sync uses (as VectorStore's documentation says).
func TestVectorStoreAndSync(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	emb := bedrockkittest.NewHashEmbedder(128)
	base, err := kb.New(kb.Options{Store: store, Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := lcgo.NewVectorStore(store, emb, lcgo.VectorStoreOptions{})
	apart, _ := lcgo.NewVectorStore(store, emb, lcgo.VectorStoreOptions{Partition: "langchaingo"})
	if _, err := shared.AddDocuments(ctx, bankDocs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := apart.AddDocuments(ctx, bankDocs[:1]); err != nil {
		t.Fatal(err)
	}
	rep, err := base.Sync(ctx, kb.NewMemorySource(kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("The monthly fee is 6 dollars.")}))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 {
		t.Fatalf("sync report %+v", rep)
	}
	if docs, _ := shared.SimilaritySearch(ctx, "lost card", 5); len(docs) != 1 || docs[0].Metadata[lcgo.MetaDocumentID] != "mem:fees.md" {
		t.Fatalf("shared partition after sync: %+v", docs)
	}
	if docs, _ := apart.SimilaritySearch(ctx, "lost card", 5); len(docs) != 1 || docs[0].PageContent != bankDocs[0].PageContent {
		t.Fatalf("own partition after sync: %+v", docs)
	}
}

// The adapter plugs into langchaingo's own retriever: vectorstores.ToRetriever
// passes k and the options on every query. (chains.NewRetrievalQAFromLLM
// takes this retriever too; the migration guide's snippet shows it. The
// chains package is not imported here because it would add langchaingo's
// template engines to this module's requirements.)
func TestVectorStoreToRetriever(t *testing.T) {
	ctx := context.Background()
	vs := newVS(t, openStore(t, localindex.Options{}), lcgo.VectorStoreOptions{})
	if _, err := vs.AddDocuments(ctx, bankDocs); err != nil {
		t.Fatal(err)
	}
	var r schema.Retriever = vectorstores.ToRetriever(vs, 1, vectorstores.WithFilters(map[string]any{"type": "faq"}))
	docs, err := r.GetRelevantDocuments(ctx, "monthly fee for the standard account")
	if err != nil || len(docs) != 1 || docs[0].Metadata["type"] != "faq" {
		t.Fatalf("retriever: %+v %v", docs, err)
	}
	docs, err = vectorstores.ToRetriever(vs, 2).GetRelevantDocuments(ctx, "monthly fee for the standard account")
	if err != nil || len(docs) != 2 || docs[0].PageContent != bankDocs[1].PageContent {
		t.Fatalf("unfiltered retriever: %+v %v", docs, err)
	}
}
