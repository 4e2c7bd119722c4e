package kb_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

func ExampleKnowledgeBase() {
	ctx := context.Background()
	store, _ := localindex.Open(localindex.Options{}) // in memory; set Dir to persist
	defer store.Close()
	base, err := kb.New(kb.Options{
		Store:    store,
		Embedder: bedrockkittest.NewHashEmbedder(256), // offline; use bedrockkit.NewTitanEmbedder with Bedrock
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	docs := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("# Fees\n\nThe monthly fee is 6 dollars. It is waived with a balance of 1,500 dollars.")},
		kb.MemoryDocument{URI: "mem:cards.txt", Data: []byte("Report a lost card at once by phone. A replacement card is free.")},
	)
	rep, err := base.Sync(ctx, docs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("new %d, chunks %d\n", rep.New, rep.Chunks)

	res, _ := base.Retrieve(ctx, "replacement for a lost card", kb.RetrieveOptions{NumberOfResults: 1})
	fmt.Println(res[0].DocumentID)

	// Without a Model the answer is extractive: the best sentences, cited.
	ans, _ := base.RetrieveAndGenerate(ctx, "When is the monthly fee waived?")
	fmt.Println(ans.Extractive, ans.Text)
	c := ans.Citations[0]
	fmt.Println(c.Span, c.Sources[0].URI)

	// Nothing changed: the second sync embeds nothing.
	rep, _ = base.Sync(ctx, docs)
	fmt.Printf("unchanged %d, embedding calls %d\n", rep.Unchanged, rep.EmbedCalls)
	// Output:
	// new 2, chunks 2
	// mem:cards.txt
	// true The monthly fee is 6 dollars. It is waived with a balance of 1,500 dollars.
	// {0 29} mem:fees.md
	// unchanged 2, embedding calls 0
}

func ExampleKnowledgeBase_Retrieve_filter() {
	ctx := context.Background()
	store, _ := localindex.Open(localindex.Options{})
	defer store.Close()
	base, _ := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(256)})
	base.Sync(ctx, kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:2024.txt", Data: []byte("Wire transfers cost 30 dollars."), Metadata: map[string]any{"year": 2024}},
		kb.MemoryDocument{URI: "mem:2025.txt", Data: []byte("Wire transfers cost 25 dollars."), Metadata: map[string]any{"year": 2025}},
	))
	f := kb.GreaterThanOrEquals("year", 2025)
	for _, st := range []kb.SearchType{kb.Keyword, kb.Semantic, kb.Hybrid} {
		res, _ := base.Retrieve(ctx, "wire transfer cost", kb.RetrieveOptions{SearchType: st, Filter: f})
		fmt.Println(st, len(res), res[0].Text)
	}
	// Output:
	// KEYWORD 1 Wire transfers cost 25 dollars.
	// SEMANTIC 1 Wire transfers cost 25 dollars.
	// HYBRID 1 Wire transfers cost 25 dollars.
}
