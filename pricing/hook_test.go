package pricing

import (
	"context"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// loopBudget is the shape of agent.Budget (pricing does not import agent).
type loopBudget interface {
	Allow(ctx context.Context, req *bedrockkit.Request) error
	Spend(ctx context.Context, usage bedrockkit.Usage)
}

func TestBudgetHookInLoop(t *testing.T) {
	m := newMeter(t, MeterConfig{})
	b := NewBudget(ScopeRun, "r", MustMoney("0.006"))
	var hook loopBudget
	hook, err := NewBudgetHook(m, "amazon.nova-pro-v1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	step := bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("x"), Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 400}}}
	boom := errors.New("boom")
	model := bedrockkittest.NewScriptedModel(step, bedrockkittest.Step{Err: boom}, step, step)
	req := userReq("go", 1000)
	ctx := context.Background()
	var outcomes []string
	for range 4 {
		if err := hook.Allow(ctx, req); err != nil {
			if !errors.Is(err, bedrockkit.ErrBudgetExceeded) {
				t.Fatal(err)
			}
			outcomes = append(outcomes, "refused")
			break
		}
		resp, err := model.Generate(ctx, req)
		if resp != nil {
			hook.Spend(ctx, resp.Usage)
		}
		if err != nil {
			outcomes = append(outcomes, "failed") // no Spend: the next Allow releases the reservation
			continue
		}
		outcomes = append(outcomes, "ok")
	}
	// Each ok step costs $0.00208 and reserves its input bound (90 tokens) x
	// $0.80/1M + 1000 x $3.20/1M = $0.003272.
	want := []string{"ok", "failed", "ok", "refused"}
	if len(outcomes) != len(want) || outcomes[0] != want[0] || outcomes[1] != want[1] || outcomes[2] != want[2] || outcomes[3] != want[3] {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	st := b.State()
	if st.Spent != MustMoney("0.00416") || st.Reserved != 0 {
		t.Fatalf("budget %+v", st)
	}
	if _, err := NewBudgetHook(m, "acme.unknown", b); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("unknown model: %v", err)
	}
}
