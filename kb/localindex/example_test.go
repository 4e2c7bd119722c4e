package localindex_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func Example() {
	dir, _ := os.MkdirTemp("", "index")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	ix, err := localindex.Open(localindex.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	_ = ix.Upsert(ctx, []kbstore.Record{
		{ID: "fees#0", DocumentID: "fees.md", Text: "Card fees", Vector: []float32{1, 0, 0}, Metadata: map[string]any{"type": "policy"}},
		{ID: "loss#0", DocumentID: "loss.md", Text: "Lost cards", Vector: []float32{0.8, 0.6, 0}, Metadata: map[string]any{"type": "faq"}},
	})
	ix.Close()

	// Reopen: the records are back.
	ix, _ = localindex.Open(localindex.Options{Dir: dir})
	defer ix.Close()
	f := kb.Equals("type", "faq")
	hits, _ := ix.Search(ctx, kbstore.Query{Vector: []float32{1, 0, 0}, K: 5, Filter: f})
	for _, h := range hits {
		fmt.Printf("%s %.2f %s\n", h.ID, h.Score, h.Text)
	}
	// Output:
	// loss#0 0.80 Lost cards
}
