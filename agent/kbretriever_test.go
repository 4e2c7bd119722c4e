package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// TestKnowledgeBaseAsTool attaches a real knowledge base to an agent: the
// model's search call runs a retrieval over the synced documents, and the
// passages reach the model as the tool result.
func TestKnowledgeBaseAsTool(t *testing.T) {
	ctx := context.Background()
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	k, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(64)})
	if err != nil {
		t.Fatal(err)
	}
	src := kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("The monthly maintenance fee for Everyday Checking is $6.")},
		kb.MemoryDocument{URI: "mem:privacy.md", Data: []byte("We never sell your personal information.")},
	)
	if _, err := k.Sync(ctx, src); err != nil {
		t.Fatal(err)
	}

	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "s1", Name: "search_policies", Input: json.RawMessage(`{"query":"monthly maintenance fee checking"}`)}),
		bedrockkittest.TextStep("The fee is $6."),
	)
	a := &agent.Agent{
		Model: model,
		Tools: []*agent.Tool{mustTool(agent.KnowledgeBaseTool{
			Name:            "search_policies",
			Description:     "Search the bank's policy documents.",
			Retriever:       agent.FromKnowledgeBase(k, kb.RetrieveOptions{SearchType: kb.Keyword}),
			NumberOfResults: 1,
		}.Tool())},
	}
	res, err := a.Run(ctx, "s1", "What is the checking fee?")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "The fee is $6." {
		t.Fatalf("output %q", res.Output)
	}
	// The second model call saw the tool result holding the fee passage only.
	reqs := model.Requests()
	last := reqs[len(reqs)-1].Messages
	var result string
	for _, p := range last[len(last)-1].Parts {
		if tr, ok := p.(bedrockkit.ToolResult); ok {
			for _, q := range tr.Parts {
				switch v := q.(type) {
				case bedrockkit.Text:
					result += v.Text
				case bedrockkit.JSON:
					result += string(v.Value)
				}
			}
		}
	}
	if !strings.Contains(result, "$6") || !strings.Contains(result, "mem:fees.md") || strings.Contains(result, "sell") {
		t.Fatalf("tool result %q: want only the fee passage with its source", result)
	}
}
