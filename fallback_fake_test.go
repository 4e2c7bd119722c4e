package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
	"github.com/bedrockkit/bedrockkit/pricing"
	"go.uber.org/goleak"
)

const (
	haikuID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
	novaID  = "us.amazon.nova-pro-v1:0"
	liteID  = "us.amazon.nova-lite-v1:0"
)

var transferTool = bedrockkit.ToolSpec{Name: "transfer", Description: "Move money between the caller's accounts.",
	InputSchema: json.RawMessage(`{"type":"object","properties":{"amount":{"type":"number"}},"required":["amount"]}`)}

// runTools is the loop an agent runs: call the model, run the tools it
// asks for, send the results back, until it answers.
func runTools(ctx context.Context, m bedrockkit.Model, question string, tool func(bedrockkit.ToolCall) string) (*bedrockkit.Response, error) {
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(question)}, Tools: []bedrockkit.ToolSpec{transferTool}, MaxTokens: 200}
	for range 5 {
		resp, err := m.Generate(ctx, req)
		if err != nil {
			return nil, err
		}
		calls := resp.Message.ToolCalls()
		if len(calls) == 0 {
			return resp, nil
		}
		req.Messages = append(req.Messages, resp.Message)
		results := bedrockkit.Message{Role: bedrockkit.RoleUser}
		for _, c := range calls {
			results.Parts = append(results.Parts, bedrockkit.ToolResult{CallID: c.ID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: tool(c)}}})
		}
		req.Messages = append(req.Messages, results)
	}
	return nil, errors.New("too many steps")
}

// TestFallbackThroughFakeBedrock: the primary model is throttled (twice:
// its own retry gives up), the second model answers with a tool call, the
// tool runs once, and the next turn goes back to the primary. Every
// attempt is metered once, at its own model's rates.
func TestFallbackThroughFakeBedrock(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	fake := bedrockkittest.NewFakeBedrock(t)
	retry := bedrockkit.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	haiku, err := bedrockkit.NewConverseModel(fake.Client(), haikuID, bedrockkit.ConverseOptions{Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	nova, err := bedrockkit.NewConverseModel(fake.Client(), novaID, bedrockkit.ConverseOptions{Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	meter := pricing.NewMeter(pricing.MeterOptions{})
	var fallbacks atomic.Int32
	// Each meter takes its model's ID from the ConverseModel it wraps.
	model := bedrockkit.Chain(meter.Middleware()(haiku), bedrockkit.Fallback(bedrockkit.FallbackOptions{
		OnFallback: func(context.Context, bedrockkit.FallbackEvent) { fallbacks.Add(1) },
	}, bedrockkit.FallbackTarget{Name: novaID, Model: meter.Middleware()(nova), Capabilities: bedrockkit.CapabilitiesOfBase(novaID)}))

	throttle := bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException", Message: "Too many requests, please wait before trying again."}}
	call := bedrockkit.ToolCall{ID: "tooluse_1", Name: "transfer", Input: json.RawMessage(`{"amount":250}`)}
	fake.Enqueue(bedrockkittest.OpConverse,
		throttle, throttle, // the primary, both attempts
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{call}}, Usage: bedrockkit.Usage{InputTokens: 400, OutputTokens: 40}}, // nova
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("Moved $250 to savings."), Usage: bedrockkit.Usage{InputTokens: 500, OutputTokens: 12}}, // the primary again
	)
	var runs atomic.Int32
	resp, err := runTools(pricing.WithSession(context.Background(), "s1"), model, "Move $250 to savings", func(c bedrockkit.ToolCall) string {
		runs.Add(1)
		return `{"ok":true}`
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "Moved $250 to savings." || runs.Load() != 1 || fallbacks.Load() != 1 {
		t.Fatalf("answer %q, tool runs %d, fallbacks %d", resp.Message.Text(), runs.Load(), fallbacks.Load())
	}
	var ids []string
	for _, r := range fake.Requests() {
		ids = append(ids, r.ModelID)
	}
	if strings.Join(ids, ",") != strings.Join([]string{haikuID, haikuID, novaID, haikuID}, ",") {
		t.Errorf("requests went to %v", ids)
	}
	// Metered once per call, at each model's own rates: the throttled
	// call as a failed call without tokens.
	entries := map[string]pricing.Entry{}
	for _, e := range meter.Snapshot().Entries {
		entries[e.Model] = e
	}
	cat := pricing.Default()
	novaBill, _ := cat.Cost(novaID, bedrockkit.Usage{InputTokens: 400, OutputTokens: 40})
	haikuBill, _ := cat.Cost(haikuID, bedrockkit.Usage{InputTokens: 500, OutputTokens: 12})
	if e := entries[haikuID]; e.Calls != 2 || e.Failed != 1 || e.InputTokens != 500 || e.OutputTokens != 12 || e.Cost.Total != haikuBill.Total {
		t.Errorf("primary entry %+v, want 2 calls (1 failed), 500/12 tokens, %v", e, haikuBill.Total)
	}
	if e := entries[novaID]; e.Calls != 1 || e.InputTokens != 400 || e.OutputTokens != 40 || e.Cost.Total != novaBill.Total {
		t.Errorf("fallback entry %+v, want 1 call, 400/40 tokens, %v", e, novaBill.Total)
	}
}

// TestCascadeThroughFakeBedrock: the cheap model answers first; its answer
// is escalated exactly when the check fails; both paths are metered once
// each, at their own rates.
func TestCascadeThroughFakeBedrock(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	fake := bedrockkittest.NewFakeBedrock(t)
	lite, err := bedrockkit.NewConverseModel(fake.Client(), liteID, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	haiku, err := bedrockkit.NewConverseModel(fake.Client(), haikuID, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	meter := pricing.NewMeter(pricing.MeterOptions{})
	var checks, escalations atomic.Int32
	namesAFee := func(_ context.Context, text string) error {
		checks.Add(1)
		if !strings.Contains(text, "$") {
			return errors.New("the answer names no fee")
		}
		return nil
	}
	model := bedrockkit.Chain(meter.Middleware()(lite), bedrockkit.Cascade(bedrockkit.CascadeOptions{
		Check:      bedrockkit.CheckText(namesAFee),
		OnEscalate: func(context.Context, bedrockkit.CascadeEvent) { escalations.Add(1) },
	}, meter.Middleware()(haiku)))

	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("Fees vary."), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 5}},                 // lite: fails the check
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("A domestic wire costs $25."), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 9}}, // haiku
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("An overdraft costs $35."), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 7}},    // lite: passes
	)
	fake.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("It depends."), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 4}},              // lite stream: fails
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("A wire abroad costs $45."), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 8}}, // haiku stream
	)
	ctx := context.Background()
	r1, err := model.Generate(ctx, hi())
	if err != nil || r1.Message.Text() != "A domestic wire costs $25." {
		t.Fatalf("escalated answer: %v %v", r1, err)
	}
	r2, err := model.Generate(ctx, hi())
	if err != nil || r2.Message.Text() != "An overdraft costs $35." {
		t.Fatalf("accepted cheap answer: %v %v", r2, err)
	}
	r3, err := bedrockkit.Collect(model.Stream(ctx, hi()))
	if err != nil || r3.Message.Text() != "A wire abroad costs $45." {
		t.Fatalf("escalated stream: %v %v", r3, err)
	}
	if escalations.Load() != 2 || checks.Load() != 5 {
		t.Errorf("escalations %d (want 2), checks %d (want 5)", escalations.Load(), checks.Load())
	}
	entries := map[string]pricing.Entry{}
	for _, e := range meter.Snapshot().Entries {
		entries[e.Model] = e
	}
	cat := pricing.Default()
	liteBill, _ := cat.Cost(liteID, bedrockkit.Usage{InputTokens: 900, OutputTokens: 16})
	haikuBill, _ := cat.Cost(haikuID, bedrockkit.Usage{InputTokens: 600, OutputTokens: 17})
	if e := entries[liteID]; e.Calls != 3 || e.InputTokens != 900 || e.OutputTokens != 16 || e.Cost.Total != liteBill.Total {
		t.Errorf("cheap model entry %+v, want 3 calls, 900/16 tokens, %v", e, liteBill.Total)
	}
	if e := entries[haikuID]; e.Calls != 2 || e.InputTokens != 600 || e.OutputTokens != 17 || e.Cost.Total != haikuBill.Total {
		t.Errorf("strong model entry %+v, want 2 calls, 600/17 tokens, %v", e, haikuBill.Total)
	}
}

// traced counts the calls that pass through it, as a tracing middleware
// would record a span for each.
type traced struct {
	next  bedrockkit.Model
	spans *atomic.Int32
}

func (t traced) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	t.spans.Add(1)
	return t.next.Generate(ctx, req)
}

func (t traced) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	t.spans.Add(1)
	return t.next.Stream(ctx, req)
}

// TestFallbackAndCascadeComposeInChain: a response cache and a tracing
// middleware outside, a cascade whose strong model is a fallback pair,
// retry and meters (with a run budget) inside each model.
func TestFallbackAndCascadeComposeInChain(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	meter := pricing.NewMeter(pricing.MeterOptions{})
	var spans atomic.Int32
	trace := func(next bedrockkit.Model) bedrockkit.Model { return traced{next: next, spans: &spans} }
	retry := bedrockkit.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}.Middleware()
	cheap := bedrockkittest.NewScriptedModel(answer("not sure", 100, 5), answer("not sure", 100, 5))
	primary := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()}, bedrockkittest.Step{Err: throttled()})
	backup := bedrockkittest.NewScriptedModel(answer("A wire costs $25.", 100, 8))
	strong := bedrockkit.Chain(bedrockkit.Chain(bedrockkit.WithModelID(primary, haikuID), meter.Middleware(), retry),
		bedrockkit.Fallback(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: novaID, Model: bedrockkit.Chain(bedrockkit.WithModelID(backup, novaID), meter.Middleware())}))
	store := cache.New(cache.Options{})
	cascade := bedrockkit.Chain(bedrockkit.Chain(bedrockkit.WithModelID(cheap, liteID), meter.Middleware()),
		trace,
		bedrockkit.Cascade(bedrockkit.CascadeOptions{Check: bedrockkit.CheckText(func(_ context.Context, s string) error {
			if !strings.Contains(s, "$") {
				return errors.New("no fee")
			}
			return nil
		})}, strong))
	// A cascade may answer from either model, so it says no ID: the cache
	// keys its answers by a name given to the whole.
	model := bedrockkit.Chain(bedrockkit.WithModelID(cascade, "bank-assistant"), store.Middleware())
	budget := pricing.NewBudget(pricing.ScopeRun, "run", pricing.Dollar)
	ctx := pricing.WithBudget(context.Background(), budget)
	for i := range 2 { // the second is a cache hit
		resp, err := model.Generate(ctx, hi())
		if err != nil || resp.Message.Text() != "A wire costs $25." {
			t.Fatalf("call %d: %v %v", i, resp, err)
		}
	}
	if cheap.Calls() != 1 || primary.Calls() != 2 || backup.Calls() != 1 || spans.Load() != 1 {
		t.Errorf("calls: cheap %d, primary %d (retried), backup %d, spans %d", cheap.Calls(), primary.Calls(), backup.Calls(), spans.Load())
	}
	tot := meter.Snapshot().Total()
	if tot.Calls != 3 || tot.Failed != 1 || tot.InputTokens != 200 || tot.OutputTokens != 13 {
		t.Errorf("metered %+v", tot)
	}
	if s := budget.State(); s.Spent != tot.Cost.Total || s.Reserved != 0 {
		t.Errorf("budget %+v, metered %v", s, tot.Cost.Total)
	}
	// A budget refusal is not a reason to fall back or escalate.
	tiny := pricing.WithBudget(context.Background(), pricing.NewBudget(pricing.ScopeRun, "tiny", pricing.NanoDollar))
	_, err := model.Generate(tiny, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("other")}, MaxTokens: 50})
	if !errors.Is(err, bedrockkit.ErrBudgetExceeded) || cheap.Calls() != 1 {
		t.Errorf("budget refusal: %v (cheap calls %d)", err, cheap.Calls())
	}
}
