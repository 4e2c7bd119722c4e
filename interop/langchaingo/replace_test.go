package langchaingo_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// splitChunks is what langchaingo's textsplitter.SplitDocuments makes of
// one document: its metadata, ID key included, copied to every chunk.
var splitChunks = []schema.Document{
	{PageContent: "Savings accounts pay interest monthly.", Metadata: map[string]any{lcgo.MetaDocumentID: "report.pdf", "source": "report.pdf"}},
	{PageContent: "Mortgages need a valuation of the house.", Metadata: map[string]any{lcgo.MetaDocumentID: "report.pdf", "source": "report.pdf"}},
	{PageContent: "Wire transfers abroad take two business days.", Metadata: map[string]any{lcgo.MetaDocumentID: "report.pdf", "source": "report.pdf"}},
}

// By default no metadata key is an ID: chunks that share one are all
// stored, each under its own content hash, and keep their other metadata.
func TestVectorStoreSplitChunksAllStored(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{})
	ids, err := vs.AddDocuments(ctx, splitChunks)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
		t.Fatalf("ids %q", ids)
	}
	infos, _ := store.Documents(ctx, "")
	if len(infos) != 3 {
		t.Fatalf("3 chunks added, %d documents stored: %+v", len(infos), infos)
	}
	docs, err := vs.SimilaritySearch(ctx, "valuation of the house", 10)
	if err != nil || len(docs) != 3 {
		t.Fatalf("%d results %v", len(docs), err)
	}
	if docs[0].PageContent != splitChunks[1].PageContent || docs[0].Metadata["source"] != "report.pdf" {
		t.Fatalf("best %+v", docs[0])
	}
}

// With an ID key, chunks sharing an ID fail the call instead of
// overwriting each other; nothing is stored. Identical documents are
// stored once.
func TestVectorStoreDuplicateIDRefused(t *testing.T) {
	ctx := context.Background()
	for _, key := range []string{lcgo.MetaDocumentID, "source"} {
		store := openStore(t, localindex.Options{})
		vs := newVS(t, store, lcgo.VectorStoreOptions{IDKey: key})
		_, err := vs.AddDocuments(ctx, splitChunks)
		var de *lcgo.DuplicateIDError
		if !errors.Is(err, lcgo.ErrDuplicateID) || !errors.Is(err, bedrockkit.ErrInvalidInput) || !errors.As(err, &de) {
			t.Fatalf("%s: err %v", key, err)
		}
		if de.First != 0 || de.Second != 1 || de.ID != "report.pdf" || de.Key != key || !strings.Contains(err.Error(), "IDKey") {
			t.Fatalf("%s: %+v: %v", key, de, err)
		}
		if infos, _ := store.Documents(ctx, ""); len(infos) != 0 {
			t.Fatalf("%s: a refused call stored %+v", key, infos)
		}
		ids, err := vs.AddDocuments(ctx, []schema.Document{splitChunks[0], splitChunks[0]})
		if err != nil || len(ids) != 2 || ids[0] != "report.pdf" || ids[1] != "report.pdf" {
			t.Fatalf("%s: identical documents: %q %v", key, ids, err)
		}
		if infos, _ := store.Documents(ctx, ""); len(infos) != 1 || infos[0].Records != 1 {
			t.Fatalf("%s: stored %+v", key, infos)
		}
	}
}

// flakyStore is a kbstore.Store whose Upsert or DeleteDocuments can be made to
// fail.
type flakyStore struct {
	kbstore.Store
	failUpsert, failDelete atomic.Bool
}

var errStoreDown = errors.New("store is down")

func (s *flakyStore) Upsert(ctx context.Context, rs []kbstore.Record) error {
	if s.failUpsert.Load() {
		return errStoreDown
	}
	return s.Store.Upsert(ctx, rs)
}

func (s *flakyStore) DeleteDocuments(ctx context.Context, part string, ids []string) (int, error) {
	if s.failDelete.Load() {
		return 0, errStoreDown
	}
	return s.Store.DeleteDocuments(ctx, part, ids)
}

// documents returns the partition's documents as "id:records" strings.
func documents(t *testing.T, s kbstore.Store) string {
	t.Helper()
	infos, err := s.Documents(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range infos {
		out = append(out, in.ID+":"+strconv.Itoa(in.Records))
	}
	return strings.Join(out, " ")
}

// A replacement the store refuses, or that the adapter finds invalid first,
// leaves the stored version in place; a later replacement works.
func TestVectorStoreFailedReplaceKeepsOldVersion(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{Store: openStore(t, localindex.Options{})}
	vs := newVS(t, store, lcgo.VectorStoreOptions{IDKey: "source", Chunker: chunk.FixedSize{MaxTokens: 20}})
	long := strings.Repeat("Cards can be frozen in the app at any time. ", 50)
	v1 := schema.Document{PageContent: long, Metadata: map[string]any{"source": "faq-7"}}
	if _, err := vs.AddDocuments(ctx, []schema.Document{v1}); err != nil {
		t.Fatal(err)
	}
	before := documents(t, store)
	// More chunks than the adapter probes for in one round.
	if n, _ := strconv.Atoi(strings.TrimPrefix(before, "faq-7:")); n < 20 {
		t.Fatalf("v1 stored as %q, want at least 20 chunks", before)
	}
	v2 := schema.Document{PageContent: "Cards are frozen in the app.", Metadata: map[string]any{"source": "faq-7"}}
	oldStillThere := func(when string) {
		t.Helper()
		if got := documents(t, store); got != before {
			t.Fatalf("%s: documents %q, want %q", when, got, before)
		}
		docs, err := vs.SimilaritySearch(ctx, "frozen at any time", 1)
		if err != nil || len(docs) != 1 || !strings.Contains(long, docs[0].PageContent) {
			t.Fatalf("%s: the old version is not searchable: %+v %v", when, docs, err)
		}
	}

	store.failUpsert.Store(true)
	if _, err := vs.AddDocuments(ctx, []schema.Document{v2}); !errors.Is(err, errStoreDown) {
		t.Fatalf("failing upsert: %v", err)
	}
	oldStillThere("after a failed upsert")
	store.failUpsert.Store(false)

	// The store refuses an embedder of another dimension (this wrapper
	// hides the store's Dimensions method, so the adapter cannot check
	// first).
	eight := &countingLC{e: bedrockkittest.NewHashEmbedder(8)}
	_, err := vs.AddDocuments(ctx, []schema.Document{v2}, vectorstores.WithEmbedder(eight))
	if !errors.Is(err, kbstore.ErrDimensionMismatch) {
		t.Fatalf("wrong dimensions: %v", err)
	}
	oldStillThere("after a wrong-dimension replacement")

	if _, err := vs.AddDocuments(ctx, []schema.Document{v2}); err != nil {
		t.Fatal(err)
	}
	if got := documents(t, store); got != "faq-7:1" {
		t.Fatalf("after replacing: %q, want faq-7:1", got)
	}
	// Growing again and shrinking again both leave exactly the new chunks.
	if _, err := vs.AddDocuments(ctx, []schema.Document{v1}); err != nil {
		t.Fatal(err)
	}
	if got := documents(t, store); got != before {
		t.Fatalf("after growing: %q, want %q", got, before)
	}
}

// If only the removal of the old version's extra records fails, the new
// version is stored and searchable alone, and adding it again finishes
// the removal.
func TestVectorStoreFailedStaleDeleteIsRepaired(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{Store: openStore(t, localindex.Options{})}
	vs := newVS(t, store, lcgo.VectorStoreOptions{IDKey: "source", Chunker: chunk.FixedSize{MaxTokens: 20}})
	long := strings.Repeat("Cards can be frozen in the app at any time. ", 50)
	if _, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: long, Metadata: map[string]any{"source": "faq-7"}}}); err != nil {
		t.Fatal(err)
	}
	v2 := schema.Document{PageContent: "Cards are frozen in the app.", Metadata: map[string]any{"source": "faq-7"}}
	store.failDelete.Store(true)
	_, err := vs.AddDocuments(ctx, []schema.Document{v2})
	if !errors.Is(err, errStoreDown) || !strings.Contains(err.Error(), "new versions are stored") {
		t.Fatalf("failing delete: %v", err)
	}
	docs, err := vs.SimilaritySearch(ctx, "frozen at any time", 10)
	if err != nil || len(docs) != 1 || docs[0].PageContent != v2.PageContent {
		t.Fatalf("search after a failed delete: %+v %v", docs, err)
	}
	store.failDelete.Store(false)
	if _, err := vs.AddDocuments(ctx, []schema.Document{v2}); err != nil {
		t.Fatal(err)
	}
	if got := documents(t, store); got != "faq-7:1" {
		t.Fatalf("after repeating: %q, want faq-7:1", got)
	}
}

// A store that reports its dimensions has vectors of another dimension
// refused by the adapter before anything is written, naming the document.
func TestVectorStoreWrongDimensionsRefusedFirst(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{Dimensions: 16})
	vs, err := lcgo.NewVectorStore(store, bedrockkittest.NewHashEmbedder(16), lcgo.VectorStoreOptions{IDKey: "source"})
	if err != nil {
		t.Fatal(err)
	}
	doc := schema.Document{PageContent: "keep me", Metadata: map[string]any{"source": "k"}}
	if _, err := vs.AddDocuments(ctx, []schema.Document{doc}); err != nil {
		t.Fatal(err)
	}
	doc.PageContent = "keep me, version two"
	_, err = vs.AddDocuments(ctx, []schema.Document{bankDocs[0], doc}, vectorstores.WithEmbedder(&countingLC{e: bedrockkittest.NewHashEmbedder(8)}))
	if !errors.Is(err, kbstore.ErrDimensionMismatch) || !errors.Is(err, bedrockkit.ErrDimensionMismatch) || !strings.Contains(err.Error(), "langchaingo: document 0") {
		t.Fatalf("wrong dimensions: %v", err)
	}
	docs, err := vs.SimilaritySearch(ctx, "keep me", 5)
	if err != nil || len(docs) != 1 || docs[0].PageContent != "keep me" {
		t.Fatalf("after a refused replacement: %+v %v", docs, err)
	}
}

// An ID with the unit separator could equal the hidden document that a
// replaced document's old records are moved to (D + "\x1freplaced"), and
// replacing D would then delete it: such IDs are refused, and replacing D
// leaves every other document alone.
func TestVectorStoreReservedIDRefused(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, localindex.Options{})
	vs := newVS(t, store, lcgo.VectorStoreOptions{IDKey: "source", Chunker: chunk.FixedSize{MaxTokens: 20}})
	long := strings.Repeat("Savings accounts pay interest monthly and fees are low. ", 8)
	_, err := vs.AddDocuments(ctx, []schema.Document{
		{PageContent: long, Metadata: map[string]any{"source": "X"}},
		{PageContent: "An unrelated user document.", Metadata: map[string]any{"source": "X\x1freplaced"}},
	})
	var me *lcgo.MetadataError
	if !errors.Is(err, bedrockkit.ErrInvalidInput) || !errors.As(err, &me) || me.Document != 1 || me.Key != "source" {
		t.Fatalf("ID with \\x1f: %v", err)
	}
	if infos, _ := store.Documents(ctx, ""); len(infos) != 0 {
		t.Fatalf("the refused call stored %+v", infos)
	}
	if _, err := vs.AddDocuments(ctx, []schema.Document{
		{PageContent: long, Metadata: map[string]any{"source": "X"}},
		{PageContent: "An unrelated user document.", Metadata: map[string]any{"source": "X replaced"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := vs.AddDocuments(ctx, []schema.Document{{PageContent: "Short now.", Metadata: map[string]any{"source": "X"}}}); err != nil {
		t.Fatal(err)
	}
	infos, err := store.Documents(ctx, "")
	if err != nil || len(infos) != 2 || infos[0].ID != "X" || infos[0].Records != 1 || infos[1].ID != "X replaced" {
		t.Fatalf("after replacing X: %+v %v", infos, err)
	}
}
