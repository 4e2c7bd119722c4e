package kb_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// zeroOnPoison embeds texts containing POISON as an all-zero vector, which
// every store refuses, as an embedder may do for junk input.
type zeroOnPoison struct{ *bedrockkittest.HashEmbedder }

func (z zeroOnPoison) Embed(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, error) {
	out, err := z.HashEmbedder.Embed(ctx, texts, p)
	for i, t := range texts {
		if strings.Contains(t, "POISON") {
			out[i] = make([]float32, len(out[i]))
		}
	}
	return out, err
}

func storedDocs(t *testing.T, st kbstore.Store) map[string]bool {
	t.Helper()
	ds, err := st.Documents(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, d := range ds {
		m[d.ID] = true
	}
	return m
}

// TestBadDocumentFailsAlone: a document the store refuses must not take the
// documents committed with it down, and later syncs must keep working.
func TestBadDocumentFailsAlone(t *testing.T) {
	ctx := context.Background()
	st := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: st, Embedder: zeroOnPoison{bedrockkittest.NewHashEmbedder(64)}, EmbedderID: "z"})
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Alpha refunds take five days.")},
		kb.MemoryDocument{URI: "mem:b.txt", Data: []byte("Bravo shipping is free over fifty dollars.")},
	)
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.Put(kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Alpha refunds take six days.")})
	src.Put(kb.MemoryDocument{URI: "mem:b.txt", Data: []byte("Bravo shipping is free over sixty dollars.")})
	src.Put(kb.MemoryDocument{URI: "mem:c.txt", Data: []byte("POISON junk")})
	for round := range 2 {
		rep, err := k.Sync(ctx, src)
		if err != nil {
			t.Fatalf("sync %d: %v", round+2, err)
		}
		if rep.Failed != 1 || len(rep.Failures) != 1 || rep.Failures[0].URI != "mem:c.txt" {
			t.Fatalf("sync %d report %+v: want only c.txt failed", round+2, rep)
		}
		got := storedDocs(t, st)
		if !got["mem:a.txt"] || !got["mem:b.txt"] || got["mem:c.txt"] {
			t.Fatalf("sync %d: store holds %v; want a and b, not c", round+2, got)
		}
	}
	res, err := k.Retrieve(ctx, "refunds six days", kb.RetrieveOptions{SearchType: kb.Keyword, NumberOfResults: 1})
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Text, "six days") {
		t.Fatalf("retrieve after partial failure: %v %+v", err, res)
	}
}

// cancelAfterDelete cancels the sync right after a delete, as a timeout
// landing between a changed document's delete and its write would.
type cancelAfterDelete struct {
	kbstore.Store
	cancel func()
}

func (s *cancelAfterDelete) DeleteDocuments(ctx context.Context, p string, ids []string) (int, error) {
	n, err := s.Store.DeleteDocuments(ctx, p, ids)
	if s.cancel != nil {
		s.cancel()
	}
	return n, err
}

// TestCancelNeverLeavesChangedDocumentAbsent: once a changed document's old
// version is deleted, its new version is written even if the sync is
// cancelled at that moment.
func TestCancelNeverLeavesChangedDocumentAbsent(t *testing.T) {
	inner := openIndex(t, localindex.Options{})
	st := &cancelAfterDelete{Store: inner}
	k := newKB(t, kb.Options{Store: st})
	src := kb.NewMemorySource(kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Alpha refunds take five days.")})
	if _, err := k.Sync(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	src.Put(kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Alpha refunds take six days.")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.cancel = cancel
	k.Sync(ctx, src) // may report the cancellation
	if !storedDocs(t, inner)["mem:a.txt"] {
		t.Fatal("a.txt is absent after a cancelled sync; it had a complete version before")
	}
}

// slowDocuments blocks Documents until released, honouring ctx.
type slowDocuments struct {
	kbstore.Store
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (s *slowDocuments) Documents(ctx context.Context, p string) ([]kbstore.DocumentInfo, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.Documents(ctx, p)
}

// TestPartitionLoadSurvivesFirstCallerCancel: the first caller's
// cancellation during a partition's first load must not fail the other
// callers waiting on that load.
func TestPartitionLoadSurvivesFirstCallerCancel(t *testing.T) {
	inner := openIndex(t, localindex.Options{})
	seed := newKB(t, kb.Options{Store: inner})
	src := kb.NewMemorySource(kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("Alpha refunds take five days.")})
	if _, err := seed.Sync(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	st := &slowDocuments{Store: inner, gate: make(chan struct{}), entered: make(chan struct{})}
	k := newKB(t, kb.Options{Store: st})
	ctx1, cancel1 := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := k.Retrieve(ctx1, "refunds"); first <- err }()
	<-st.entered
	second := make(chan error, 1)
	go func() { _, err := k.Retrieve(context.Background(), "refunds"); second <- err }()
	cancel1()
	close(st.gate)
	<-first // cancelled or not, depending on timing; only the second matters
	if err := <-second; err != nil {
		t.Fatalf("second caller with a live context failed: %v", err)
	}
}

// TestChangedDocumentWithoutLoaderDropsOldChunks: a document whose content
// changed and whose type has no loader any more must not keep serving its
// old chunks.
func TestChangedDocumentWithoutLoaderDropsOldChunks(t *testing.T) {
	ctx := context.Background()
	st := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: st})
	src := kb.NewMemorySource(kb.MemoryDocument{URI: "mem:notes", Name: "notes.txt", Data: []byte("Old refund policy: thirty days.")})
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.Put(kb.MemoryDocument{URI: "mem:notes", Name: "notes.bin", Data: []byte{0x00, 0x01, 0x02}})
	rep, err := k.Sync(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 1 {
		t.Fatalf("report %+v: want the document skipped", rep)
	}
	if storedDocs(t, st)["mem:notes"] {
		t.Fatal("the old chunks of a changed, now unloadable document are still served")
	}
}
