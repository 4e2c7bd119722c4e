package kb_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func openIndex(t testing.TB, opts localindex.Options) *localindex.Index {
	t.Helper()
	ix, err := localindex.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func newKB(t testing.TB, cfg kb.Options) *kb.KnowledgeBase {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = openIndex(t, localindex.Options{})
	}
	if cfg.Embedder == nil {
		cfg.Embedder = bedrockkittest.NewHashEmbedder(64)
	}
	if cfg.Retry.BaseDelay == 0 {
		cfg.Retry.BaseDelay = time.Millisecond
	}
	k, err := kb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// corpus returns n small documents of a few paragraphs each.
func corpus(n int) map[string]string {
	topics := []string{"card fees", "dispute process", "lost card", "privacy notice", "overdraft rules", "wire transfers"}
	files := map[string]string{}
	for i := range n {
		var b strings.Builder
		for p := range 3 {
			fmt.Fprintf(&b, "Document %d paragraph %d is about %s. ", i, p, topics[(i+p)%len(topics)])
			b.WriteString(strings.Repeat(fmt.Sprintf("Detail %d-%d explains the %s policy in plain words. ", i, p, topics[i%len(topics)]), 3))
			b.WriteString("\n\n")
		}
		files[fmt.Sprintf("doc%03d.txt", i)] = b.String()
	}
	return files
}

// dump returns every record of the partition, vectors included, sorted.
func dump(t testing.TB, s kbstore.Store, part string) map[string]kbstore.Record {
	t.Helper()
	ctx := context.Background()
	docs, err := s.Documents(ctx, part)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kbstore.Record{}
	for _, d := range docs {
		ids := make([]string, d.Records)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s#%d", d.ID, i)
		}
		if d.ID == "bedrockkit:kb-config" {
			ids = []string{d.ID}
		}
		recs, err := s.Get(ctx, part, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != d.Records {
			t.Fatalf("document %s: %d records listed, %d found by dense ID", d.ID, d.Records, len(recs))
		}
		for _, r := range recs {
			out[r.ID] = r
		}
	}
	return out
}

func TestSyncIncremental(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	emb := newCounting(64)
	store := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: store, Embedder: emb, BatchSize: 5, Concurrency: 3, Chunker: chunk.FixedSize{MaxTokens: 40, OverlapPercent: 10}})
	src := newMemSource(corpus(30))
	src.set("bad!.txt", "unreadable")
	src.set("image.png", "\x89PNG")
	src.set("empty.txt", "   ")

	var progress []kb.SyncProgress
	rep, err := k.Sync(ctx, src, kb.SyncOptions{Progress: func(p kb.SyncProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 33 || rep.New != 30 || rep.Failed != 1 || rep.Skipped != 2 || rep.Modified != 0 || rep.Deleted != 0 {
		t.Fatalf("first sync report: %+v", rep)
	}
	if len(rep.Failures) != 3 {
		t.Fatalf("failures: %v", rep.Failures)
	}
	for _, f := range rep.Failures {
		if f.URI == "mem:bad!.txt" && !strings.Contains(f.Error(), "permission denied") {
			t.Errorf("failure reason lost: %v", f)
		}
	}
	last := progress[len(progress)-1]
	if !last.Listed || last.Scanned != 33 || last.Done != 33 || last.Chunks != rep.Chunks {
		t.Fatalf("last progress %+v, report %+v", last, rep)
	}
	if int(emb.texts.Load()) != rep.Chunks || rep.Chunks < 60 {
		t.Fatalf("embedded %d texts, report says %d chunks", emb.texts.Load(), rep.Chunks)
	}
	before := dump(t, store, "")

	// No change: no embedding call, same store.
	emb.reset()
	rep, err = k.Sync(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if emb.calls.Load() != 0 || rep.Unchanged != 30 || rep.New+rep.Modified+rep.Deleted != 0 {
		t.Fatalf("second sync: calls=%d report %+v", emb.calls.Load(), rep)
	}
	if !reflect.DeepEqual(before, dump(t, store, "")) {
		t.Fatal("an unchanged sync changed the store")
	}

	// Touch one document: only its chunks are embedded.
	src.set("doc007.txt", "A brand new text about chargebacks.\n\nIt has two paragraphs.")
	emb.reset()
	rep, err = k.Sync(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Modified != 1 || rep.Unchanged != 29 || rep.New != 0 {
		t.Fatalf("after touch: %+v", rep)
	}
	for _, s := range emb.seen {
		if !strings.Contains(s, "chargebacks") && !strings.Contains(s, "two paragraphs") {
			t.Fatalf("re-embedded a chunk of another document: %q", s)
		}
	}
	after := dump(t, store, "")
	for id, r := range before {
		if r.DocumentID == "mem:doc007.txt" {
			continue
		}
		if !reflect.DeepEqual(after[id], r) {
			t.Fatalf("record %s of an untouched document changed", id)
		}
	}

	// Delete one: exactly its chunks go.
	src.remove("doc003.txt")
	rep, err = k.Sync(ctx, src)
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("after delete: %+v %v", rep, err)
	}
	final := dump(t, store, "")
	for id, r := range after {
		_, still := final[id]
		if still == (r.DocumentID == "mem:doc003.txt") {
			t.Fatalf("record %s: present=%v after deleting doc003", id, still)
		}
	}
	// Keyword search no longer finds the deleted document.
	res, err := k.Retrieve(ctx, "Detail 3-0 explains", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.DocumentID == "mem:doc003.txt" {
			t.Fatal("keyword index still returns a deleted document")
		}
	}
}

func TestSyncListingErrorDeletesNothing(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{})
	src := newMemSource(corpus(3))
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.remove("doc001.txt")
	src.err = errors.New("network down")
	rep, err := k.Sync(ctx, src)
	if !errors.Is(err, kb.ErrSourceListing) || rep.Deleted != 0 {
		t.Fatalf("got %+v, %v", rep, err)
	}
}

func TestSyncRetriesAndRateLimit(t *testing.T) {
	defer goleak.VerifyNone(t)
	emb := newCounting(32)
	emb.failNext.Store(2)
	k := newKB(t, kb.Options{Embedder: emb, RequestsPerMinute: 6000, BatchSize: 100})
	rep, err := k.Sync(context.Background(), newMemSource(corpus(2)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.EmbedCalls != 3 || rep.New != 2 {
		t.Fatalf("want 2 throttled calls then success: %+v", rep)
	}
	// A non-retryable embedder error ends the sync.
	bad := kb.Options{Embedder: failingEmbedder{}}
	k = newKB(t, bad)
	if _, err := k.Sync(context.Background(), newMemSource(corpus(2))); !errors.Is(err, errBoom) {
		t.Fatalf("want errBoom, got %v", err)
	}
}

var errBoom = errors.New("boom")

type failingEmbedder struct{}

func (failingEmbedder) Embed(context.Context, []string, bedrockkit.Purpose) ([][]float32, error) {
	return nil, errBoom
}
func (failingEmbedder) Dimensions() int { return 8 }

func TestSyncCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	k := newKB(t, kb.Options{BatchSize: 1, Concurrency: 2})
	n := 0
	_, err := k.Sync(ctx, newMemSource(corpus(50)), kb.SyncOptions{Progress: func(p kb.SyncProgress) {
		if n++; n == 10 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	// The next sync completes the work.
	rep, err := k.Sync(context.Background(), newMemSource(corpus(50)))
	if err != nil || rep.New+rep.Unchanged != 50 {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestEmbedderChangeRefused(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	k1 := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64), EmbedderID: "model-a"})
	src := newMemSource(corpus(2))
	if _, err := k1.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	k2 := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64), EmbedderID: "model-b"})
	_, err := k2.Sync(ctx, src)
	var ce *kb.EmbedderChangedError
	if !errors.As(err, &ce) || !errors.Is(err, bedrockkit.ErrInvalidInput) || ce.Stored != "model-a/64" {
		t.Fatalf("want EmbedderChangedError, got %v", err)
	}
	if _, err := k2.Retrieve(ctx, "fees"); !errors.Is(err, kb.ErrEmbedderChanged) {
		t.Fatalf("Retrieve with another embedder: %v", err)
	}
	rep, err := k2.Sync(ctx, src, kb.SyncOptions{ReEmbed: true})
	if err != nil || rep.Modified != 2 {
		t.Fatalf("re-embed: %+v %v", rep, err)
	}
	if _, err := k1.Sync(ctx, src); !errors.Is(err, kb.ErrEmbedderChanged) {
		t.Fatalf("the old embedder must now be refused: %v", err)
	}
	// A dimension change with the same ID is refused too.
	k3 := newKB(t, kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(32), EmbedderID: "model-b"})
	if _, err := k3.Sync(ctx, src); !errors.Is(err, kb.ErrEmbedderChanged) {
		t.Fatalf("dimension change: %v", err)
	}
}

func TestPartitionsFailClosed(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{RequirePartition: true})
	k := newKB(t, kb.Options{Store: store, RequirePartition: true})
	if _, err := k.Sync(ctx, newMemSource(corpus(1))); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("sync without tenant: %v", err)
	}
	if _, err := k.Retrieve(ctx, "fees"); !errors.Is(err, kbstore.ErrPartitionRequired) {
		t.Fatalf("retrieve without tenant: %v", err)
	}
	a := newMemSource(map[string]string{"a.txt": "Acme pays zero card fees."})
	b := newMemSource(map[string]string{"b.txt": "Globex pays high card fees."})
	if _, err := k.Sync(ctx, a, kb.SyncOptions{Partition: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync(ctx, b, kb.SyncOptions{Partition: "globex"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []kb.SearchType{kb.Semantic, kb.Keyword, kb.Hybrid} {
		res, err := k.Retrieve(ctx, "card fees", kb.RetrieveOptions{Partition: "acme", SearchType: st, NumberOfResults: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].DocumentID != "mem:a.txt" {
			t.Fatalf("%s: tenant acme saw %+v", st, res)
		}
	}
}
