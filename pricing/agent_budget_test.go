package pricing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// TestAgentStopsAtBudget runs a real agent loop whose model keeps asking for
// a tool. With a run budget that fits exactly two reserved steps, the third
// model call is refused before it reaches the model: the run stops with
// ErrBudgetExceeded and the partial result, and spending never passes the
// limit.
func TestAgentStopsAtBudget(t *testing.T) {
	const modelID = "amazon.nova-pro-v1:0" // $0.80 in / $3.20 out per 1M tokens
	meter := pricing.NewMeter(pricing.MeterOptions{})

	call := func(id string) bedrockkittest.Step {
		s := bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: id, Name: "lookup", Input: json.RawMessage(`{"q":"balance"}`)})
		s.Response.Usage = bedrockkit.Usage{InputTokens: 800, OutputTokens: 50}
		return s
	}
	model := bedrockkittest.NewScriptedModel(call("c1"), call("c2"), call("c3"), bedrockkittest.TextStep("done"))

	// Each step reserves its input bound (about 1,200 tokens with the tool
	// definition and its system prompt) x $0.80/1M + MaxTokens 500 x
	// $3.20/1M, about $0.0026 to $0.0027, and settles at 800 x $0.80/1M +
	// 50 x $3.20/1M = $0.0008. $0.0038 holds the first reservation, then the
	// second (0.0008 spent + ~0.0027 reserved), but not a third on top of
	// 0.0016 spent.
	budget := pricing.NewBudget(pricing.ScopeRun, "run-1", pricing.MustMoney("0.0038"))
	toolRuns := 0
	type lookupIn struct {
		Q string `json:"q"`
	}
	lookup := agent.MustNewFuncTool("lookup", "Look up an account fact.", func(ctx context.Context, in lookupIn) (string, error) {
		toolRuns++
		return "42", nil
	})
	a := &agent.Agent{
		Model:     meter.Middleware()(bedrockkit.WithModelID(model, modelID)),
		Tools:     []*agent.Tool{lookup},
		Inference: agent.Inference{MaxTokens: 500},
	}
	res, err := a.Run(pricing.WithBudget(context.Background(), budget), "s1", "What is my balance?")
	if !errors.Is(err, bedrockkit.ErrBudgetExceeded) {
		t.Fatalf("Run error = %v, want ErrBudgetExceeded", err)
	}
	var be *pricing.BudgetError
	if errors.As(err, &be) {
		t.Logf("refused step needed %v with %v spent", be.Needed, be.Spent)
	}
	if res == nil {
		t.Fatal("no partial result with the budget error")
	}
	if got := model.Calls(); got != 2 {
		t.Fatalf("model calls = %d, want 2 (the third must be refused before the call)", got)
	}
	if toolRuns != 2 {
		t.Fatalf("tool runs = %d, want 2", toolRuns)
	}
	st := budget.State()
	if st.Spent != pricing.MustMoney("0.0016") || st.Reserved != 0 {
		t.Fatalf("budget after the run: %+v; want spent $0.0016 and nothing reserved", st)
	}
	if st.Spent > st.Limit {
		t.Fatalf("overshoot: spent %v over limit %v", st.Spent, st.Limit)
	}
	if res.Usage.InputTokens != 1600 || res.Usage.OutputTokens != 100 {
		t.Fatalf("partial usage %+v, want the two calls made", res.Usage)
	}
}
