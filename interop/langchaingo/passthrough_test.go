package langchaingo_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
)

// capturing is a langchaingo model that records the messages and resolved
// options of each call, streams scripted reasoning and text chunks the way
// langchaingo's OpenAI client does (text to StreamingFunc, then both to
// StreamingReasoningFunc), and answers with resp.
type capturing struct {
	msgs   [][]llms.MessageContent
	opts   []llms.CallOptions
	chunks []streamChunk
	resp   *llms.ContentResponse
}

type streamChunk struct{ reasoning, text string }

func (c *capturing) GenerateContent(ctx context.Context, msgs []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	var o llms.CallOptions
	for _, opt := range options {
		opt(&o)
	}
	c.msgs = append(c.msgs, msgs)
	c.opts = append(c.opts, o)
	for _, ch := range c.chunks {
		if o.StreamingFunc != nil && ch.text != "" {
			if err := o.StreamingFunc(ctx, []byte(ch.text)); err != nil {
				return nil, err
			}
		}
		if o.StreamingReasoningFunc != nil {
			if err := o.StreamingReasoningFunc(ctx, []byte(ch.reasoning), []byte(ch.text)); err != nil {
				return nil, err
			}
		}
	}
	if c.resp != nil {
		return c.resp, nil
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "ok"}}}, nil
}

func (c *capturing) Call(ctx context.Context, p string, o ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, c, p, o...)
}

func userReq(extra map[string]any) *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, Extra: extra}
}

func TestFromLLMExtraThinking(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		extra map[string]any
		want  llms.ThinkingConfig
		topK  int
	}{
		{"claude", map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 2048}, "top_k": 40},
			llms.ThinkingConfig{Mode: llms.ThinkingModeAuto, BudgetTokens: 2048, ReturnThinking: true, StreamThinking: true}, 40},
		{"claude from JSON", mustJSON(`{"thinking":{"type":"enabled","budget_tokens":1024},"anthropic_beta":["interleaved-thinking-2025-05-14"]}`),
			llms.ThinkingConfig{Mode: llms.ThinkingModeAuto, BudgetTokens: 1024, ReturnThinking: true, StreamThinking: true, InterleaveThinking: true}, 0},
		{"disabled", map[string]any{"thinking": map[string]any{"type": "disabled"}},
			llms.ThinkingConfig{Mode: llms.ThinkingModeNone, ReturnThinking: true, StreamThinking: true}, 0},
		{"gpt-oss", map[string]any{"reasoning_effort": "high"},
			llms.ThinkingConfig{Mode: llms.ThinkingModeHigh, ReturnThinking: true, StreamThinking: true}, 0},
		{"nova", map[string]any{"reasoningConfig": map[string]any{"type": "enabled", "maxReasoningEffort": "medium"}},
			llms.ThinkingConfig{Mode: llms.ThinkingModeMedium, ReturnThinking: true, StreamThinking: true}, 0},
	}
	for _, c := range cases {
		llm := &capturing{}
		if _, err := lcgo.FromLLM(llm, lcgo.Options{Strict: true}).Generate(ctx, userReq(c.extra)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := llms.GetThinkingConfig(&llm.opts[0])
		if got == nil || *got != c.want || llm.opts[0].TopK != c.topK {
			t.Fatalf("%s: thinking %+v top_k %d", c.name, got, llm.opts[0].TopK)
		}
	}
	for name, bad := range map[string]map[string]any{
		"no budget":  {"thinking": map[string]any{"type": "enabled"}},
		"bad type":   {"thinking": "on"},
		"bad effort": {"reasoning_effort": "max"},
		"bad top_k":  {"top_k": "forty"},
	} {
		_, err := lcgo.FromLLM(&capturing{}, lcgo.Options{}).Generate(ctx, userReq(bad))
		if !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func mustJSON(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

// What langchaingo cannot express is dropped, or refused under Strict.
func TestFromLLMDropsOrRefuses(t *testing.T) {
	ctx := context.Background()
	reasoning := []bedrockkit.Message{
		bedrockkit.UserText("balance?"),
		{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.Reasoning{Text: "look it up", Signature: "s"}, bedrockkit.Text{Text: "Checking."}}},
		bedrockkit.UserText("go on"),
	}
	cases := map[string]*bedrockkit.Request{
		"reasoning":        {Messages: reasoning},
		"guardrail":        {Messages: reasoning[:1], Guardrail: &bedrockkit.GuardrailConfig{ID: "g", Version: "1"}},
		"tool cache":       {Messages: reasoning[:1], Tools: []bedrockkit.ToolSpec{balanceTool}, ToolCache: &bedrockkit.CachePoint{}},
		"unknown extra":    {Messages: reasoning[:1], Extra: map[string]any{"inferenceConfig": map[string]any{"topK": 5}}},
		"other beta":       {Messages: reasoning[:1], Extra: map[string]any{"anthropic_beta": []string{"context-1m-2025-08-07"}}},
		"system cache":     {System: []bedrockkit.Part{bedrockkit.Text{Text: "sys"}, bedrockkit.CachePoint{}}, Messages: reasoning[:1]},
		"user cache":       {Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "doc"}, bedrockkit.CachePoint{}}}}},
		"system non-text":  {System: []bedrockkit.Part{bedrockkit.Text{Text: "sys"}, bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{1}}}, Messages: reasoning[:1]},
		"cache after call": {Messages: []bedrockkit.Message{reasoning[0], {Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "1", Name: "get_balance", Input: json.RawMessage(`{}`)}, bedrockkit.CachePoint{}}}, {Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.ToolResult{CallID: "1", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "12"}}}}}}},
	}
	for name, req := range cases {
		llm := &capturing{}
		if _, err := lcgo.FromLLM(llm, lcgo.Options{}).Generate(ctx, req); err != nil {
			t.Fatalf("%s dropped: %v", name, err)
		}
		for _, m := range llm.msgs[0] {
			for _, p := range m.Parts {
				if _, ok := p.(llms.CachedContent); ok {
					t.Fatalf("%s: cache control sent without Options.CacheControl", name)
				}
			}
		}
		if md := llm.opts[0].Metadata; len(md) != 0 {
			t.Fatalf("%s: metadata sent %v", name, md)
		}
		strict := &capturing{}
		_, err := lcgo.FromLLM(strict, lcgo.Options{Strict: true}).Generate(ctx, req)
		if !errors.Is(err, bedrockkit.ErrUnsupported) || !strings.Contains(err.Error(), "Strict") {
			t.Fatalf("%s strict: %v", name, err)
		}
		if len(strict.msgs) != 0 {
			t.Fatalf("%s strict: the model was called", name)
		}
	}
	// The reasoning part was dropped, the assistant's text kept.
	llm := &capturing{}
	lcgo.FromLLM(llm, lcgo.Options{}).Generate(ctx, &bedrockkit.Request{Messages: reasoning})
	if ai := llm.msgs[0][1]; ai.Role != llms.ChatMessageTypeAI || len(ai.Parts) != 1 || ai.Parts[0] != (llms.TextContent{Text: "Checking."}) {
		t.Fatalf("assistant message %+v", ai)
	}
}

func TestFromLLMCacheControl(t *testing.T) {
	llm := &capturing{}
	m := lcgo.FromLLM(llm, lcgo.Options{CacheControl: true, Strict: true})
	img := []byte{1, 2, 3}
	_, err := m.Generate(context.Background(), &bedrockkit.Request{
		System: []bedrockkit.Part{bedrockkit.Text{Text: "You are a bank."}, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}},
		Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
			bedrockkit.Text{Text: "policy text"}, bedrockkit.CachePoint{},
			bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: img}, bedrockkit.CachePoint{},
			bedrockkit.Text{Text: "question"},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []llms.MessageContent{
		{Role: llms.ChatMessageTypeSystem, Parts: []llms.ContentPart{llms.WithCacheControl(llms.TextContent{Text: "You are a bank."}, &llms.CacheControl{Type: "ephemeral", Duration: time.Hour})}},
		{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{
			llms.WithCacheControl(llms.TextContent{Text: "policy text"}, &llms.CacheControl{Type: "ephemeral", Duration: 5 * time.Minute}),
			llms.WithCacheControl(llms.BinaryContent{MIMEType: "image/png", Data: img}, &llms.CacheControl{Type: "ephemeral", Duration: 5 * time.Minute}),
			llms.TextContent{Text: "question"},
		}},
	}
	if !reflect.DeepEqual(llm.msgs[0], want) {
		t.Fatalf("messages\n%#v\nwant\n%#v", llm.msgs[0], want)
	}

	// Through langchaingo and back into bedrockkit, cache points survive.
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("ok"))
	back := lcgo.FromLLM(lcgo.NewLLM(sm, nil), lcgo.Options{CacheControl: true})
	req := &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: "You are a bank."}, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}},
		Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "policy"}, bedrockkit.CachePoint{}, bedrockkit.Text{Text: "q"}}}},
	}
	if _, err := back.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := sm.Requests()[0]
	if !reflect.DeepEqual(got.System, req.System) || !reflect.DeepEqual(got.Messages, req.Messages) {
		t.Fatalf("round trip: system %#v messages %#v", got.System, got.Messages)
	}
}

// Reasoning streamed by a langchaingo provider arrives as ReasoningDelta
// events as it comes, the signature at the end, without duplicates.
func TestFromLLMStreamsReasoning(t *testing.T) {
	llm := &capturing{
		chunks: []streamChunk{{reasoning: "The user "}, {reasoning: "wants a balance."}, {text: "Let me "}, {text: "check."}},
		resp: &llms.ContentResponse{Choices: []*llms.ContentChoice{
			{GenerationInfo: map[string]any{"ThinkingContent": "The user wants a balance.", "ThinkingSignature": "sig-1"}},
			{Content: "Let me check.", StopReason: "end_turn"},
		}},
	}
	var events []bedrockkit.StreamEvent
	resp, err := bedrockkit.Collect(func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range lcgo.FromLLM(llm, lcgo.Options{}).Stream(context.Background(), userReq(nil)) {
			events = append(events, ev)
			if !yield(ev, err) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStart := []bedrockkit.StreamEvent{
		bedrockkit.ReasoningDelta{Text: "The user "},
		bedrockkit.ReasoningDelta{Text: "wants a balance."},
		bedrockkit.TextDelta{Index: 1, Text: "Let me "},
		bedrockkit.TextDelta{Index: 1, Text: "check."},
		bedrockkit.ReasoningDelta{Signature: "sig-1"},
	}
	if len(events) < len(wantStart) || !reflect.DeepEqual(events[:len(wantStart)], wantStart) {
		t.Fatalf("events %#v", events)
	}
	want := []bedrockkit.Part{bedrockkit.Reasoning{Text: "The user wants a balance.", Signature: "sig-1"}, bedrockkit.Text{Text: "Let me check."}}
	if !reflect.DeepEqual(resp.Message.Parts, want) {
		t.Fatalf("collected %#v", resp.Message.Parts)
	}

	// Breaking out during the reasoning stops the provider's call.
	llm.msgs = nil
	n := 0
	for ev, err := range lcgo.FromLLM(llm, lcgo.Options{}).Stream(context.Background(), userReq(nil)) {
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.(bedrockkit.ReasoningDelta); !ok {
			t.Fatalf("first event %#v", ev)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("%d events after break", n)
	}
}

// langchaingo's real OpenAI client streams reasoning_content (DeepSeek,
// gpt-oss behind OpenAI-compatible servers) to the reasoning callback.
func TestFromLLMOpenAIStreamReasoning(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(sseReply(reasoningChunk("Two plus "), reasoningChunk("two is four."), textChunk("4"), finishChunk("stop"), usageChunk(9, 7, 0)))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})
	var kinds []string
	resp, err := bedrockkit.Collect(func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range m.Stream(context.Background(), userReq(nil)) {
			kinds = append(kinds, reflect.TypeOf(ev).Name())
			if !yield(ev, err) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ReasoningDelta", "ReasoningDelta", "TextDelta", "Stop", "StreamMetadata"}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	want := []bedrockkit.Part{bedrockkit.Reasoning{Text: "Two plus two is four."}, bedrockkit.Text{Text: "4"}}
	if !reflect.DeepEqual(resp.Message.Parts, want) || resp.Usage.OutputTokens != 7 {
		t.Fatalf("collected %#v %+v", resp.Message.Parts, resp.Usage)
	}
}

func reasoningChunk(s string) string {
	b, _ := json.Marshal(s)
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"reasoning_content":` + string(b) + `}}]}`
}
