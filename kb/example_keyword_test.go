package kb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// A knowledge base without an embedder: keyword (BM25) search and
// extractive answers over a folder, kept on disk, with no model at all.
// Reopened, it finds the folder unchanged and does no work.
func Example_keywordOnly() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "kb-example")
	defer os.RemoveAll(tmp)
	docs := filepath.Join(tmp, "docs")
	os.Mkdir(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "fees.md"), []byte("# Fees\n\nThe monthly fee is 6 dollars. It is waived with a balance of 1,500 dollars."), 0o644)
	os.WriteFile(filepath.Join(docs, "cards.md"), []byte("# Cards\n\nReport a lost card at once by phone. A replacement card is free."), 0o644)
	os.WriteFile(filepath.Join(docs, "cards.md.metadata.json"), []byte(`{"metadataAttributes": {"topic": "cards"}}`), 0o644)

	open := func() (*kb.KnowledgeBase, *localindex.Index) {
		store, err := localindex.Open(localindex.Options{Dir: filepath.Join(tmp, "index")})
		if err != nil {
			panic(err)
		}
		base, err := kb.New(kb.Options{Store: store}) // no Embedder: keyword only
		if err != nil {
			panic(err)
		}
		return base, store
	}
	base, store := open()
	rep, _ := base.Sync(ctx, kb.NewDirSource(docs))
	fmt.Printf("new %d, chunks %d, embedding calls %d\n", rep.New, rep.Chunks, rep.EmbedCalls)

	res, _ := base.Retrieve(ctx, "replacement for a lost card", kb.RetrieveOptions{Filter: kb.Equals("topic", "cards")})
	fmt.Println(res[0].DocumentID)

	ans, _ := base.RetrieveAndGenerate(ctx, "When is the monthly fee waived?")
	fmt.Println(ans.Text)
	for _, s := range ans.Sources() {
		fmt.Println("source:", s.URI)
	}
	// Semantic and hybrid search need an embedder.
	_, err := base.Retrieve(ctx, "fees", kb.RetrieveOptions{SearchType: kb.Semantic})
	fmt.Println(errors.Is(err, kb.ErrNoEmbedder))
	store.Close()

	// A new process: the index is read from disk; nothing changed.
	base, store = open()
	defer store.Close()
	rep, _ = base.Sync(ctx, kb.NewDirSource(docs))
	fmt.Printf("unchanged %d\n", rep.Unchanged)
	// Output:
	// new 2, chunks 2, embedding calls 0
	// file:cards.md
	// The monthly fee is 6 dollars. It is waived with a balance of 1,500 dollars.
	// source: file:fees.md
	// true
	// unchanged 2
}
