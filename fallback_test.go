package bedrockkit_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"go.uber.org/goleak"
)

func hi() *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 50}
}

func throttled() error {
	return &bedrockkit.APIError{Op: "Converse", Code: "ThrottlingException", Kind: bedrockkit.ErrThrottled}
}

func TestFallbackMovesOnOnlyForTransientErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	primary := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()}, bedrockkittest.Step{Err: &bedrockkit.APIError{Kind: bedrockkit.ErrValidation, Code: "ValidationException"}})
	second := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("from second"))
	var events []bedrockkit.FallbackEvent
	m := bedrockkit.Chain(primary, bedrockkit.Fallback(bedrockkit.FallbackOptions{
		OnFallback: func(_ context.Context, ev bedrockkit.FallbackEvent) { events = append(events, ev) },
	}, bedrockkit.FallbackTarget{Name: "second", Model: second}))

	resp, err := m.Generate(ctx, hi())
	if err != nil || resp.Message.Text() != "from second" {
		t.Fatalf("throttled primary: %v %v", resp, err)
	}
	if len(events) != 1 || events[0].From != "primary" || events[0].To != "second" || !errors.Is(events[0].Err, bedrockkit.ErrThrottled) {
		t.Errorf("events %+v", events)
	}
	// A validation error is the request's fault: no other model is tried.
	_, err = m.Generate(ctx, hi())
	if !errors.Is(err, bedrockkit.ErrValidation) || second.Calls() != 1 {
		t.Errorf("validation error: %v, second called %d times", err, second.Calls())
	}
	var fe *bedrockkit.FallbackError
	if errors.As(err, &fe) {
		t.Errorf("a single failed attempt came back as %v", err)
	}
}

func TestFallbackEveryTargetFails(t *testing.T) {
	a := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()})
	b := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: &bedrockkit.APIError{Kind: bedrockkit.ErrServiceUnavailable}})
	m, err := bedrockkit.NewFallbackModel(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "a", Model: a}, bedrockkit.FallbackTarget{Name: "b", Model: b})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Generate(context.Background(), hi())
	var fe *bedrockkit.FallbackError
	if !errors.As(err, &fe) || len(fe.Attempts) != 2 || !errors.Is(err, bedrockkit.ErrThrottled) || !errors.Is(err, bedrockkit.ErrServiceUnavailable) {
		t.Fatalf("all failed: %v", err)
	}
	if _, err := bedrockkit.NewFallbackModel(bedrockkit.FallbackOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("no targets: %v", err)
	}
	if _, err := bedrockkit.NewFallbackModel(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "x"}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("nil model: %v", err)
	}
}

func TestFallbackKeepsTheRequestsMeaning(t *testing.T) {
	ctx := context.Background()
	textOnly := bedrockkit.CapabilitiesOfBase("meta.llama3-1-8b-instruct-v1:0") // no images
	if !textOnly.Known || textOnly.Images {
		t.Fatalf("test premise: %+v", textOnly)
	}
	primary := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()}, bedrockkittest.Step{Err: throttled()})
	llama := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("llama"))
	vision := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("vision"), bedrockkittest.TextStep("vision 2"))
	euGuard := &bedrockkit.GuardrailConfig{ID: "eu-guard", Version: "3"}
	m := bedrockkit.Chain(primary, bedrockkit.Fallback(bedrockkit.FallbackOptions{},
		bedrockkit.FallbackTarget{Name: "llama", Model: llama, Capabilities: textOnly},
		bedrockkit.FallbackTarget{Name: "eu", Model: vision, Capabilities: bedrockkit.CapabilitiesOfBase("anthropic.claude-3-5-sonnet-20241022-v2:0"), Guardrail: euGuard},
	))
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Text{Text: "what is this?"}, bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{0x89, 'P', 'N', 'G'}}}}},
		MaxTokens: 10, Guardrail: &bedrockkit.GuardrailConfig{ID: "us-guard", Version: "1"}}
	resp, err := m.Generate(ctx, req)
	if err != nil || resp.Message.Text() != "vision" {
		t.Fatalf("image request: %v %v", resp, err)
	}
	if llama.Calls() != 0 {
		t.Error("the text-only model was sent an image")
	}
	got := vision.Requests()[0]
	if got.Guardrail == nil || got.Guardrail.ID != "eu-guard" || req.Guardrail.ID != "us-guard" {
		t.Errorf("guardrail sent %+v (caller's %+v)", got.Guardrail, req.Guardrail)
	}
	// Structured output: a target that does not honour Output is skipped.
	schema, err := bedrockkit.NewOutputSchema("answer", "", []byte(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	plainLlama := struct{ bedrockkit.Model }{llama} // not OutputCapable
	m2 := bedrockkit.Chain(primary, bedrockkit.Fallback(bedrockkit.FallbackOptions{},
		bedrockkit.FallbackTarget{Name: "plain", Model: plainLlama},
		bedrockkit.FallbackTarget{Name: "vision", Model: vision}))
	out := hi()
	out.Output = schema
	resp, err = m2.Generate(ctx, out)
	if err != nil || resp.Message.Text() != "vision 2" || llama.Calls() != 0 {
		t.Fatalf("structured request: %v %v (llama calls %d)", resp, err, llama.Calls())
	}
	if oc, ok := m2.(bedrockkit.OutputCapable); !ok || oc.SupportsOutput() {
		t.Error("a fallback with a target that ignores Output claims SupportsOutput")
	}
	// Skips are reported as such when nothing is left.
	m3 := bedrockkit.Chain(bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: throttled()}),
		bedrockkit.Fallback(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "llama", Model: llama, Capabilities: textOnly}))
	_, err = m3.Generate(ctx, req)
	var skip *bedrockkit.FallbackSkipError
	if !errors.As(err, &skip) || !errors.Is(err, bedrockkit.ErrThrottled) || !strings.Contains(skip.Reason, "image") {
		t.Errorf("only an unfit target: %v", err)
	}
}

// blocking answers only when its context ends.
type blocking struct{}

func (blocking) Generate(ctx context.Context, _ *bedrockkit.Request) (*bedrockkit.Response, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (blocking) Stream(ctx context.Context, _ *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		<-ctx.Done()
		yield(nil, ctx.Err())
	}
}

func TestFallbackAttemptTimeout(t *testing.T) {
	defer goleak.VerifyNone(t)
	second := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("fast"), bedrockkittest.TextStep("fast stream"))
	var events []bedrockkit.FallbackEvent
	m := bedrockkit.Chain(blocking{}, bedrockkit.Fallback(bedrockkit.FallbackOptions{AttemptTimeout: 20 * time.Millisecond,
		OnFallback: func(_ context.Context, ev bedrockkit.FallbackEvent) { events = append(events, ev) }},
		bedrockkit.FallbackTarget{Name: "second", Model: second}))
	resp, err := m.Generate(context.Background(), hi())
	if err != nil || resp.Message.Text() != "fast" {
		t.Fatalf("timed-out primary: %v %v", resp, err)
	}
	r, err := bedrockkit.Collect(m.Stream(context.Background(), hi()))
	if err != nil || r.Message.Text() != "fast stream" {
		t.Fatalf("timed-out primary stream: %v %v", r, err)
	}
	if len(events) != 2 || !errors.Is(events[0].Err, bedrockkit.ErrAttemptTimeout) || !errors.Is(events[1].Err, bedrockkit.ErrAttemptTimeout) {
		t.Errorf("events %+v", events)
	}
	// The caller's own deadline never moves on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	slow := bedrockkit.Chain(blocking{}, bedrockkit.Fallback(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "second", Model: second}))
	if _, err := slow.Generate(ctx, hi()); !errors.Is(err, context.DeadlineExceeded) || second.Calls() != 2 {
		t.Errorf("caller deadline: %v, second calls %d", err, second.Calls())
	}
}

func TestFallbackStreamNeverRepeatsOutput(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	call := bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: []byte(`{"amount":10}`)}
	// The primary starts a tool call, then is throttled mid-stream: the
	// caller has seen output, so the error comes back and the second
	// model is not asked (it would produce the tool call again).
	partial := bedrockkittest.Step{Events: []bedrockkit.StreamEvent{bedrockkit.ToolCallDelta{Index: 0, ID: "t1", Name: "transfer"}}, Err: throttled()}
	primary := bedrockkittest.NewScriptedModel(partial, bedrockkittest.Step{Err: throttled()})
	second := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call))
	m := bedrockkit.Chain(primary, bedrockkit.Fallback(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "second", Model: second}))
	var seen int
	var last error
	for ev, err := range m.Stream(ctx, hi()) {
		if err != nil {
			last = err
			break
		}
		if _, ok := ev.(bedrockkit.ToolCallDelta); ok {
			seen++
		}
	}
	if !errors.Is(last, bedrockkit.ErrThrottled) || second.Calls() != 0 || seen != 1 {
		t.Fatalf("mid-stream failure: err %v, second calls %d, tool deltas seen %d", last, second.Calls(), seen)
	}
	// Throttled before any event: the second model streams instead.
	r, err := bedrockkit.Collect(m.Stream(ctx, hi()))
	if err != nil || len(r.Message.ToolCalls()) != 1 || second.Calls() != 1 {
		t.Fatalf("throttled before output: %v %v", r, err)
	}
}
