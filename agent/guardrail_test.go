package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// TestGuardrailPolicyGuardsAgent runs an agent guarded by a local guardrail policy: the
// e-mail address a tool returns is masked before the model sees it, and an
// answer holding a denied word is replaced by the blocked message.
func TestGuardrailPolicyGuardsAgent(t *testing.T) {
	policy, err := guardrail.ParsePolicy([]byte(`{
	  "name": "agent-guard",
	  "blockedInputMessaging": "Sorry, I can't help with that.",
	  "blockedOutputsMessaging": "Sorry, I can't share that.",
	  "wordPolicyConfig": {"wordsConfig": [{"text": "Project Falcon"}]},
	  "sensitiveInformationPolicyConfig": {"piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE"}]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	local, err := guardrail.NewLocal(policy, guardrail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type in struct {
		Name string `json:"name"`
	}
	lookup := agent.MustNewFuncTool("lookup", "Find a colleague's contact.", func(ctx context.Context, v in) (string, error) {
		return "Reach Sam at sam@shop.example.", nil
	})
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "c1", Name: "lookup", Input: json.RawMessage(`{"name":"Sam"}`)}),
		bedrockkittest.TextStep("Sam works on Project Falcon."),
	)
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{lookup}, Guardrail: local}
	res, err := a.Run(context.Background(), "s1", "How do I reach Sam?")
	var gerr *agent.GuardrailError
	if !errors.As(err, &gerr) || gerr.Stage != agent.StageOutput || !errors.Is(err, bedrockkit.ErrGuardrailBlocked) {
		t.Fatalf("Run error = %v; want a GuardrailError at the output stage", err)
	}
	if res == nil || res.Output != "Sorry, I can't share that." {
		t.Fatalf("output %q: the denied word should have been blocked", res.Output)
	}
	reqs := model.Requests()
	seen := ""
	for _, p := range reqs[len(reqs)-1].Messages[len(reqs[len(reqs)-1].Messages)-1].Parts {
		if tr, ok := p.(bedrockkit.ToolResult); ok {
			seen += bedrockkit.Message{Parts: tr.Parts}.Text()
		}
	}
	if strings.Contains(seen, "sam@shop.example") || !strings.Contains(seen, "{EMAIL}") {
		t.Fatalf("tool result the model saw: %q; want the e-mail masked", seen)
	}
}
