package kb_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// hidingSource lists inner's documents except those under folder, and
// reports folder itself as unlistable, as a directory source does for a
// sub-folder it cannot read.
type hidingSource struct {
	inner  kb.Source
	folder string
}

func (s hidingSource) Items(ctx context.Context) iter.Seq2[kb.SourceItem, error] {
	return func(yield func(kb.SourceItem, error) bool) {
		if !yield(kb.SourceItem{}, &kb.ItemError{URI: s.folder, Err: errors.New("permission denied")}) {
			return
		}
		for it, err := range s.inner.Items(ctx) {
			if err == nil && strings.HasPrefix(it.URI, s.folder) {
				continue
			}
			if !yield(it, err) {
				return
			}
		}
	}
}

// TestSyncKeepsDocumentsUnderUnlistableFolder: a folder the source could not
// list may still hold its documents, so Sync must not delete them; documents
// truly gone elsewhere are still deleted.
func TestSyncKeepsDocumentsUnderUnlistableFolder(t *testing.T) {
	ctx := context.Background()
	store := openIndex(t, localindex.Options{})
	k := newKB(t, kb.Options{Store: store})
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:sub/a.txt", Data: []byte("Alpha document about card fees.")},
		kb.MemoryDocument{URI: "mem:sub/b.txt", Data: []byte("Beta document about disputes.")},
		kb.MemoryDocument{URI: "mem:top.txt", Data: []byte("Top document about privacy.")},
		kb.MemoryDocument{URI: "mem:gone.txt", Data: []byte("A document that will be removed.")},
	)
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.Delete("mem:gone.txt")
	rep, err := k.Sync(ctx, hidingSource{inner: src, folder: "mem:sub/"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 1 || rep.Failed != 1 {
		t.Fatalf("report %+v: want exactly gone.txt deleted and the folder failed", rep)
	}
	docs, err := store.Documents(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	got := strings.Join(ids, ",")
	for _, want := range []string{"mem:sub/a.txt", "mem:sub/b.txt", "mem:top.txt"} {
		if !strings.Contains(got, want) {
			t.Fatalf("documents after sync: %s; %s was deleted", got, want)
		}
	}
	if strings.Contains(got, "mem:gone.txt") {
		t.Fatalf("documents after sync: %s; gone.txt should be deleted", got)
	}
}
