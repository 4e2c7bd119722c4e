package chromem_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/chromem"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "chromem-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A durable store: every write is fsynced to dir/chromem.log.
	s, err := chromem.Open(chromem.Options{Dimensions: 3, Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Upsert(ctx, []kbstore.Record{
		{ID: "c1", DocumentID: "faq.md", Text: "Cards can be frozen in the app.", Vector: []float32{1, 0, 0},
			Metadata: map[string]any{"year": 2024, "tags": []string{"cards"}}},
		{ID: "c2", DocumentID: "fees.md", Text: "Transfers abroad cost 1%.", Vector: []float32{0.8, 0.6, 0},
			Metadata: map[string]any{"year": 2021, "tags": []string{"fees"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()

	// Reopen: the log is replayed, numbers and lists come back typed.
	s, err = chromem.Open(chromem.Options{Dimensions: 3, Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	recent := kb.GreaterThan("year", 2022) // chromem-go cannot express this; the store can
	hits, err := s.Search(ctx, kbstore.Query{Vector: []float32{0.9, 0.1, 0}, K: 5, Filter: recent})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.3f %v %v\n", h.ID, h.Score, h.Metadata["year"], h.Metadata["tags"])
	}
	// Output:
	// c1 0.994 2024 [cards]
}
