package localindex_test

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// The record in which a knowledge base keeps its configuration
// (kbstore.ConfigRecordID) is not one of the user's records: Len and
// Documents leave it out, while Get still returns it to the knowledge base.
func TestConfigRecordNotCounted(t *testing.T) {
	ctx := context.Background()
	ix, err := localindex.Open(localindex.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	k, err := kb.New(kb.Options{Store: ix}) // keyword-only: no embedder needed
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"", "tenant-b"} {
		src := kb.NewMemorySource(
			kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("alpha")},
			kb.MemoryDocument{URI: "mem:b.txt", Data: []byte("beta")},
		)
		if _, err := k.Sync(ctx, src, kb.SyncOptions{Partition: part}); err != nil {
			t.Fatal(err)
		}
		cfg, err := ix.Get(ctx, part, []string{kbstore.ConfigRecordID})
		if err != nil || len(cfg) != 1 {
			t.Fatalf("partition %q: the knowledge base's record is not stored: %v %v", part, cfg, err)
		}
		docs, err := ix.Documents(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 || docs[0].ID != "mem:a.txt" || docs[1].ID != "mem:b.txt" {
			t.Errorf("partition %q: Documents = %+v, want the two synced documents", part, docs)
		}
	}
	if n := ix.Len(); n != 4 {
		t.Errorf("Len = %d, want 4 (two one-chunk documents in each of two partitions)", n)
	}
	// Retrieval is unchanged.
	res, err := k.Retrieve(ctx, "alpha")
	if err != nil || len(res) != 1 || res[0].DocumentID != "mem:a.txt" {
		t.Fatalf("Retrieve = %+v, %v", res, err)
	}
	// A reopened index counts the same.
	dir := t.TempDir()
	ix2, err := localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix2.Upsert(ctx, []kbstore.Record{
		{ID: kbstore.ConfigRecordID, DocumentID: kbstore.ConfigRecordID, Metadata: map[string]any{"embedder": "x"}},
		{ID: "r", DocumentID: "d", Text: "t"},
	}); err != nil {
		t.Fatal(err)
	}
	ix2.Close()
	ix3, err := localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer ix3.Close()
	if docs, _ := ix3.Documents(ctx, ""); ix3.Len() != 1 || len(docs) != 1 || docs[0].ID != "d" {
		t.Errorf("reopened: Len = %d, Documents = %+v; want 1 and [d]", ix3.Len(), docs)
	}
}
