package agent

import (
	"encoding/json"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// TestHistoryTokensMatchesPricing holds the summarisation estimate equal to
// pricing.EstimateRequest, the one estimate budgets use, so the two never
// drift apart (agent does not import pricing).
func TestHistoryTokensMatchesPricing(t *testing.T) {
	cases := [][]bedrockkit.Message{
		nil,
		{bedrockkit.UserText("")},
		{bedrockkit.UserText("hello"), bedrockkit.AssistantText("héllo wörld, 日本語")},
		{{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.Text{Text: "let me look"},
			bedrockkit.ToolCall{ID: "c1", Name: "search", Input: json.RawMessage(`{"query":"abc"}`)},
			bedrockkit.Reasoning{Text: "thinking about it"},
		}}, {Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
			bedrockkit.ToolResult{CallID: "c1", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "found"}, bedrockkit.JSON{Value: json.RawMessage(`{"a":1}`)}}},
			bedrockkit.Document{Name: "doc", Text: "some text", Bytes: []byte("0123456789")},
			bedrockkit.Image{Format: "png", Bytes: []byte{1, 2, 3}},
		}}},
	}
	for i, ms := range cases {
		got, want := historyTokens(ms), pricing.EstimateRequest(&bedrockkit.Request{Messages: ms}, nil)
		if got != want {
			t.Errorf("case %d: historyTokens = %d, pricing.EstimateRequest = %d", i, got, want)
		}
	}
}
