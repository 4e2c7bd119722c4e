package langchaingo_test

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/fake"
	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// Any langchaingo model (openai.New(), ollama.New(), anthropic.New(), ...)
// becomes a bedrockkit.Model; the fake LLM keeps this example offline.
func ExampleFromLLM() {
	var llm llms.Model = fake.NewFakeLLM([]string{"Cards are replaced for free."})
	model := lcgo.FromLLM(llm, lcgo.Options{})

	resp, err := model.Generate(context.Background(), &bedrockkit.Request{
		Messages: []bedrockkit.Message{bedrockkit.UserText("Is a replacement card free?")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Message.Text(), resp.StopReason, resp.Usage.Estimated)
	// Output: Cards are replaced for free. end_turn true
}

// A bedrockkit model (Bedrock Converse, or here a scripted one) serves
// langchaingo code.
func ExampleNewLLM() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello from bedrockkit"))
	llm := lcgo.NewLLM(model, nil)
	answer, err := llms.GenerateFromSinglePrompt(context.Background(), llm, "Say hello")
	fmt.Println(answer, err)
	// Output: Hello from bedrockkit <nil>
}

// A knowledge base answers langchaingo retrieval chains.
func ExampleNewRetriever() {
	ctx := context.Background()
	store, _ := localindex.Open(localindex.Options{})
	defer store.Close()
	base, _ := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(128)})
	base.Sync(ctx, kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:cards.md", Data: []byte("Report a lost card by phone.")},
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("The monthly fee is 6 dollars.")},
	))

	retriever := lcgo.NewRetriever(base, kb.RetrieveOptions{NumberOfResults: 1})
	docs, err := retriever.GetRelevantDocuments(ctx, "monthly fee")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(docs[0].PageContent, docs[0].Metadata[lcgo.MetaDocumentID])
	// Output: The monthly fee is 6 dollars. mem:fees.md
}

// langchaingo code keeps its documents in a bedrockkit store (here the
// embedded kb/localindex, in memory) and searches them with langchaingo's
// options; the hash embedder keeps the example offline.
func ExampleNewVectorStore() {
	ctx := context.Background()
	store, _ := localindex.Open(localindex.Options{})
	defer store.Close()
	vs, err := lcgo.NewVectorStore(store, bedrockkittest.NewHashEmbedder(128), lcgo.VectorStoreOptions{
		Partition: "langchaingo",
		IDKey:     "source", // documents with a "source" are replaced when added again
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, err := vs.AddDocuments(ctx, []schema.Document{
		{PageContent: "Report a lost card by phone.", Metadata: map[string]any{"type": "faq", "source": "faq-1"}},
		{PageContent: "The monthly card fee is 6 dollars.", Metadata: map[string]any{"type": "pricing", "year": 2024}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ids[0])

	docs, err := vs.SimilaritySearch(ctx, "card fee", 1,
		vectorstores.WithFilters(kb.Equals("type", "pricing")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(docs[0].PageContent, docs[0].Metadata["year"])

	// langchaingo's retriever helper works on it as on any vector store.
	docs, _ = vectorstores.ToRetriever(vs, 1).GetRelevantDocuments(ctx, "lost card")
	fmt.Println(docs[0].Metadata[lcgo.MetaDocumentID], docs[0].Metadata[lcgo.MetaID])
	// Output:
	// faq-1
	// The monthly card fee is 6 dollars. 2024
	// faq-1 faq-1#0
}
