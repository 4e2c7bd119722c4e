package bedrockkit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"go.uber.org/goleak"
)

func answer(text string, in, out int) bedrockkittest.Step {
	return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(text), Usage: bedrockkit.Usage{InputTokens: in, OutputTokens: out}}}
}

func TestCascadeEscalatesExactlyWhenTheCheckFails(t *testing.T) {
	defer goleak.VerifyNone(t)
	schema, err := bedrockkit.NewOutputSchema("fee", "", []byte(`{"type":"object","properties":{"fee":{"type":"number"}},"required":["fee"]}`))
	if err != nil {
		t.Fatal(err)
	}
	cheap := bedrockkittest.NewScriptedModel(answer(`{"fee": "twenty"}`, 100, 10), answer(`{"fee": 25}`, 100, 10))
	strong := bedrockkittest.NewScriptedModel(answer(`{"fee": 20}`, 100, 20))
	var escalations []bedrockkit.CascadeEvent
	m := bedrockkit.Chain(cheap, bedrockkit.Cascade(bedrockkit.CascadeOptions{Check: bedrockkit.CheckOutput(),
		OnEscalate: func(_ context.Context, ev bedrockkit.CascadeEvent) { escalations = append(escalations, ev) }}, strong))
	req := hi()
	req.Output = schema
	resp, err := m.Generate(context.Background(), req)
	if err != nil || resp.Message.Text() != `{"fee": 20}` {
		t.Fatalf("invalid cheap answer: %v %v", resp, err)
	}
	if resp.Usage.InputTokens != 200 || resp.Usage.OutputTokens != 30 {
		t.Errorf("usage %+v, want both attempts summed", resp.Usage)
	}
	var oe *bedrockkit.OutputError
	if len(escalations) != 1 || escalations[0].Level != 0 || !errors.As(escalations[0].Err, &oe) {
		t.Errorf("escalations %+v", escalations)
	}
	// A valid cheap answer is not escalated.
	resp, err = m.Generate(context.Background(), req)
	if err != nil || resp.Message.Text() != `{"fee": 25}` || strong.Calls() != 1 || len(escalations) != 1 {
		t.Fatalf("valid cheap answer: %v %v (strong calls %d)", resp, err, strong.Calls())
	}
}

func TestCascadeChecks(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	// A judge (its own model) and a predicate, combined.
	judge := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("FAIL: does not name a fee"), bedrockkittest.TextStep("PASS"), bedrockkittest.TextStep("maybe"))
	cheap := bedrockkittest.NewScriptedModel(answer("It depends.", 1, 1), answer("ok", 1, 1))
	strong := bedrockkittest.NewScriptedModel(answer("A wire costs $25.", 1, 1), answer("A wire costs $25.", 1, 1))
	noDollar := bedrockkit.CheckText(func(_ context.Context, s string) error {
		if !strings.Contains(s, "$") {
			return errors.New("no amount")
		}
		return nil
	})
	m := bedrockkit.Chain(cheap, bedrockkit.Cascade(bedrockkit.CascadeOptions{Check: bedrockkit.CheckAll(bedrockkit.CheckJudge(judge, "names the fee"), noDollar)}, strong))
	resp, err := m.Generate(ctx, hi())
	if err != nil || resp.Message.Text() != "A wire costs $25." {
		t.Fatalf("judge rejects, strong passes: %v %v", resp, err)
	}
	if judge.Calls() != 2 || !strings.Contains(judge.Requests()[0].Messages[0].Text(), "It depends.") {
		t.Errorf("judge calls %d", judge.Calls())
	}
	// The judge answers "maybe" (neither PASS nor FAIL) for the cheap
	// answer, which rejects it, and then fails (no scripted step left),
	// which rejects the strong one too: the last answer comes back with a
	// CascadeError.
	resp, err = m.Generate(ctx, hi())
	var ce *bedrockkit.CascadeError
	if !errors.As(err, &ce) || !errors.Is(err, bedrockkit.ErrCascadeRejected) || !errors.Is(err, bedrockkit.ErrJudgeRejected) || resp == nil || resp.Message.Text() != "A wire costs $25." {
		t.Fatalf("every answer rejected: %v %v", resp, err)
	}
	if len(ce.Rejections) != 2 {
		t.Errorf("rejections %v", ce.Rejections)
	}
	// CheckStop and a model error escalate; a nil check is a usage error.
	trunc := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("A wire co"), StopReason: bedrockkit.StopMaxTokens}})
	failing := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()})
	last := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("done"))
	m2 := bedrockkit.Chain(trunc, bedrockkit.Cascade(bedrockkit.CascadeOptions{Check: bedrockkit.CheckStop(bedrockkit.StopMaxTokens)}, failing, last))
	if resp, err := m2.Generate(ctx, hi()); err != nil || resp.Message.Text() != "done" {
		t.Errorf("truncated then failing then done: %v %v", resp, err)
	}
	m3 := bedrockkit.Chain(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("x")), bedrockkit.Cascade(bedrockkit.CascadeOptions{}))
	if _, err := m3.Generate(ctx, hi()); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("nil check: %v", err)
	}
}

func TestCascadeStreamYieldsOnlyTheAcceptedAnswer(t *testing.T) {
	defer goleak.VerifyNone(t)
	cheap := bedrockkittest.NewScriptedModel(answer("no idea", 10, 2))
	strong := bedrockkittest.NewScriptedModel(answer("A wire costs $25.", 10, 5))
	m := bedrockkit.Chain(cheap, bedrockkit.Cascade(bedrockkit.CascadeOptions{Check: bedrockkit.CheckText(func(_ context.Context, s string) error {
		if !strings.Contains(s, "$") {
			return errors.New("no amount")
		}
		return nil
	})}, strong))
	var text strings.Builder
	var metas []bedrockkit.StreamMetadata
	for ev, err := range m.Stream(context.Background(), hi()) {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			text.WriteString(e.Text)
		case bedrockkit.StreamMetadata:
			metas = append(metas, e)
		}
	}
	if text.String() != "A wire costs $25." {
		t.Errorf("streamed %q", text.String())
	}
	if len(metas) != 1 || metas[0].Usage.InputTokens != 20 || metas[0].Usage.OutputTokens != 7 {
		t.Errorf("metadata %+v", metas)
	}
}
