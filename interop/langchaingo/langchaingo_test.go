package langchaingo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/fake"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

var balanceTool = bedrockkit.ToolSpec{
	Name:        "get_balance",
	Description: "Balance of an account",
	InputSchema: json.RawMessage(`{"type":"object","properties":{"account":{"type":"string"}},"required":["account"]}`),
}

func TestFromLLMFakeGenerateAndStream(t *testing.T) {
	ctx := context.Background()
	m := lcgo.FromLLM(fake.NewFakeLLM([]string{"first answer", "second answer"}), lcgo.Options{})
	req := &bedrockkit.Request{System: []bedrockkit.Part{bedrockkit.Text{Text: "Be brief."}}, Messages: []bedrockkit.Message{bedrockkit.UserText("hi there")}}
	resp, err := m.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Message.Text(); got != "first answer" || resp.StopReason != bedrockkit.StopEndTurn {
		t.Fatalf("got %q %q", got, resp.StopReason)
	}
	// The fake reports no usage: it is estimated from the text (4 bytes a token).
	if !resp.Usage.Estimated || resp.Usage.OutputTokens != 3 || resp.Usage.InputTokens != 5 {
		t.Fatalf("usage %+v", resp.Usage)
	}

	var kinds []string
	for ev, err := range m.Stream(ctx, req) {
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, reflect.TypeOf(ev).Name())
		if d, ok := ev.(bedrockkit.TextDelta); ok && d.Text != "second answer" {
			t.Fatalf("delta %q", d.Text)
		}
	}
	if want := []string{"TextDelta", "Stop", "StreamMetadata"}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
}

func TestFromLLMOpenAIToolRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := newFakeOpenAI(t)
	srv.push(jsonReply(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function","function":{"name":"get_balance","arguments":"{\"account\":\"A-1\"}"}}]}`,
		"tool_calls", `{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60,"prompt_tokens_details":{"cached_tokens":20}}`))
	srv.push(jsonReply(`{"role":"assistant","content":"You have 12 dollars."}`, "stop", `{"prompt_tokens":70,"completion_tokens":6,"total_tokens":76}`))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})

	temp := float32(0.5)
	req := &bedrockkit.Request{
		System:      []bedrockkit.Part{bedrockkit.Text{Text: "You are a bank."}, bedrockkit.CachePoint{}},
		Messages:    []bedrockkit.Message{bedrockkit.UserText("balance of A-1?")},
		Tools:       []bedrockkit.ToolSpec{balanceTool},
		ToolChoice:  bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "get_balance"},
		MaxTokens:   100,
		Temperature: &temp,
	}
	resp, err := m.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls()
	if resp.StopReason != bedrockkit.StopToolUse || len(calls) != 1 || calls[0].ID != "call_7" || calls[0].Name != "get_balance" || string(calls[0].Input) != `{"account":"A-1"}` {
		t.Fatalf("response %+v", resp)
	}
	if want := (bedrockkit.Usage{InputTokens: 30, CacheReadTokens: 20, OutputTokens: 10}); resp.Usage != want {
		t.Fatalf("usage %+v, want %+v", resp.Usage, want)
	}
	b := srv.body(0)
	if tools := jsonString(b["tools"]); !contains(tools, `"name":"get_balance"`) || !contains(tools, `"required":["account"]`) {
		t.Fatalf("tools sent: %s", tools)
	}
	if tc := jsonString(b["tool_choice"]); !contains(tc, `"name":"get_balance"`) {
		t.Fatalf("tool_choice sent: %s", tc)
	}
	if b["temperature"] != 0.5 || b["max_completion_tokens"] != float64(100) {
		t.Fatalf("settings sent: temperature %v max %v", b["temperature"], b["max_completion_tokens"])
	}

	// Second turn: the tool result goes back as a "tool" message with the call ID.
	req.Messages = append(req.Messages, resp.Message, bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.ToolResult{CallID: "call_7", Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"balance":12}`)}}},
	}})
	resp, err = m.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "You have 12 dollars." || resp.StopReason != bedrockkit.StopEndTurn {
		t.Fatalf("second response %+v", resp)
	}
	msgs := jsonString(srv.body(1)["messages"])
	for _, want := range []string{`"role":"system"`, `"content":"You are a bank."`, `"tool_calls":[{`, `"id":"call_7"`, `"role":"tool"`, `"tool_call_id":"call_7"`, `"content":"{\"balance\":12}"`} {
		if !contains(msgs, want) {
			t.Errorf("messages sent lack %s:\n%s", want, msgs)
		}
	}
}

func TestFromLLMOpenAIStreamText(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(sseReply(textChunk("Hel"), textChunk("lo, "), textChunk("world"), finishChunk("length"), usageChunk(12, 3, 0)))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})
	var deltas []string
	resp, err := bedrockkit.Collect(func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}) {
			if d, ok := ev.(bedrockkit.TextDelta); ok {
				deltas = append(deltas, d.Text)
			}
			if !yield(ev, err) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Hel", "lo, ", "world"}; !reflect.DeepEqual(deltas, want) {
		t.Fatalf("deltas %q, want %q", deltas, want)
	}
	if resp.Message.Text() != "Hello, world" || resp.StopReason != bedrockkit.StopMaxTokens || resp.Usage != (bedrockkit.Usage{InputTokens: 12, OutputTokens: 3}) {
		t.Fatalf("collected %+v", resp)
	}
	if srv.body(0)["stream"] != true {
		t.Fatal("request was not streamed")
	}
}

func TestFromLLMOpenAIStreamToolCall(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(sseReply(
		textChunk("Checking."),
		toolChunk(`[{"index":0,"id":"call_9","type":"function","function":{"name":"get_balance","arguments":""}}]`),
		toolChunk(`[{"index":0,"function":{"arguments":"{\"acc"}}]`),
		toolChunk(`[{"index":0,"function":{"arguments":"ount\":\"B-2\"}"}}]`),
		finishChunk("tool_calls"), usageChunk(40, 9, 0)))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})
	var text strings.Builder
	var done []bedrockkit.ToolCall
	var stop bedrockkit.StopReason
	for ev, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("balance B-2")}, Tools: []bedrockkit.ToolSpec{balanceTool}}) {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			text.WriteString(e.Text)
		case bedrockkit.ToolCallDone:
			done = append(done, e.Call)
		case bedrockkit.Stop:
			stop = e.Reason
		}
	}
	if text.String() != "Checking." {
		t.Fatalf("text %q: tool-call fragments leaked into the text", text.String())
	}
	if len(done) != 1 || done[0].ID != "call_9" || string(done[0].Input) != `{"account":"B-2"}` || stop != bedrockkit.StopToolUse {
		t.Fatalf("calls %+v stop %q", done, stop)
	}
}

func TestFromLLMStreamBreakEarly(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(sseReply(textChunk("one"), textChunk("two"), textChunk("three"), finishChunk("stop")))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})
	n := 0
	for _, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("count")}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("got %d events", n)
	}
}

func TestFromLLMErrors(t *testing.T) {
	ctx := context.Background()
	srv := newFakeOpenAI(t)
	srv.push(jsonReply(`{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"get_balance","arguments":"{not json"}}]}`, "tool_calls", `{}`))
	m := lcgo.FromLLM(srv.llm(t), lcgo.Options{})
	_, err := m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}, Tools: []bedrockkit.ToolSpec{balanceTool}})
	if !errors.Is(err, bedrockkit.ErrModelError) {
		t.Fatalf("invalid tool JSON: %v", err)
	}
	_, err = m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Image{Format: bedrockkit.ImagePNG, S3URI: "s3://b/k.png"}}}}})
	if !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("S3 image: %v", err)
	}
	// The server has no reply left: a server error comes back as an error.
	if _, err := m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}); err == nil {
		t.Fatal("want an error from the failing server")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Generate(cctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestNewLLMTools(t *testing.T) {
	ctx := context.Background()
	sm := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "get_balance", Input: json.RawMessage(`{"account":"A-1"}`)}),
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("12 dollars"), Usage: bedrockkit.Usage{InputTokens: 7, OutputTokens: 2, CacheReadTokens: 100}}},
	)
	llm := lcgo.NewLLM(sm, &bedrockkit.Request{MaxTokens: 300})
	tools := []llms.Tool{{Type: "function", Function: &llms.FunctionDefinition{Name: "get_balance", Description: "Balance", Parameters: map[string]any{"type": "object", "properties": map[string]any{"account": map[string]any{"type": "string"}}}}}}
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "You are a bank."),
		llms.TextParts(llms.ChatMessageTypeHuman, "balance of A-1?"),
	}
	out, err := llm.GenerateContent(ctx, msgs, llms.WithTools(tools), llms.WithToolChoice("required"), llms.WithTemperature(0.2))
	if err != nil {
		t.Fatal(err)
	}
	c := out.Choices[0]
	if len(c.ToolCalls) != 1 || c.ToolCalls[0].ID != "t1" || c.ToolCalls[0].FunctionCall.Arguments != `{"account":"A-1"}` || c.FuncCall == nil || c.StopReason != "tool_use" {
		t.Fatalf("choice %+v", c)
	}
	r := sm.Requests()[0]
	if r.MaxTokens != 300 || r.Temperature == nil || *r.Temperature != 0.2 || r.ToolChoice.Kind != bedrockkit.ToolChoiceAny ||
		len(r.Tools) != 1 || !contains(string(r.Tools[0].InputSchema), `"account"`) || (bedrockkit.Message{Parts: r.System}).Text() != "You are a bank." {
		t.Fatalf("request %+v", r)
	}

	// Two tool results in a row become one user turn.
	msgs = append(msgs,
		llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{c.ToolCalls[0]}},
		llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "t1", Name: "get_balance", Content: `{"balance":12}`}}},
		llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{llms.ToolCallResponse{ToolCallID: "t0", Content: "late"}}},
	)
	out, err = llm.GenerateContent(ctx, msgs, llms.WithTools(tools))
	if err != nil {
		t.Fatal(err)
	}
	if out.Choices[0].Content != "12 dollars" || out.Choices[0].GenerationInfo["CacheReadInputTokens"] != 100 || out.Choices[0].GenerationInfo["PromptTokens"] != 107 {
		t.Fatalf("second choice %+v", out.Choices[0])
	}
	r = sm.Requests()[1]
	if len(r.Messages) != 3 || r.Messages[2].Role != bedrockkit.RoleUser || len(r.Messages[2].Parts) != 2 {
		t.Fatalf("messages %+v", r.Messages)
	}
	if tr, ok := r.Messages[2].Parts[0].(bedrockkit.ToolResult); !ok || tr.CallID != "t1" {
		t.Fatalf("tool result %+v", r.Messages[2].Parts[0])
	}
}

func TestNewLLMStreaming(t *testing.T) {
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Events: []bedrockkit.StreamEvent{
		bedrockkit.TextDelta{Text: "Hello"}, bedrockkit.TextDelta{Text: ", you"},
		bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, bedrockkit.StreamMetadata{Usage: bedrockkit.Usage{InputTokens: 3, OutputTokens: 2}},
	}}, bedrockkittest.TextStep("never reached"))
	llm := lcgo.NewLLM(sm, nil)
	var chunks []string
	out, err := llm.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")},
		llms.WithStreamingFunc(func(_ context.Context, b []byte) error { chunks = append(chunks, string(b)); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(chunks, []string{"Hello", ", you"}) || out.Choices[0].Content != "Hello, you" {
		t.Fatalf("chunks %q content %q", chunks, out.Choices[0].Content)
	}
	// A callback error stops the call and is returned.
	boom := errors.New("boom")
	sm.Push(bedrockkittest.TextStep("x"))
	_, err = llm.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")},
		llms.WithStreamingFunc(func(context.Context, []byte) error { return boom }))
	if !errors.Is(err, boom) {
		t.Fatalf("callback error: %v", err)
	}
}

func TestNewLLMRejects(t *testing.T) {
	llm := lcgo.NewLLM(bedrockkittest.NewScriptedModel(), nil)
	_, err := llm.GenerateContent(context.Background(), []llms.MessageContent{{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.ImageURLPart("https://example.com/a.png")}}})
	if !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("http image: %v", err)
	}
	_, err = llm.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "x")}, llms.WithToolChoice("sometimes"))
	if !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad tool choice: %v", err)
	}
}

// A bedrockkit model that goes through langchaingo and back keeps tool calls,
// images and usage.
func TestRoundTrip(t *testing.T) {
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "Looking."}, bedrockkit.ToolCall{ID: "x1", Name: "get_balance", Input: json.RawMessage(`{"account":"C"}`)}}},
		Usage:   bedrockkit.Usage{InputTokens: 11, OutputTokens: 4, CacheReadTokens: 5, CacheWriteTokens: 6},
	}})
	m := lcgo.FromLLM(lcgo.NewLLM(sm, nil), lcgo.Options{})
	resp, err := m.Generate(context.Background(), &bedrockkit.Request{
		Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "see"}, bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{1, 2, 3}}}}},
		Tools:    []bedrockkit.ToolSpec{balanceTool},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "Looking." || len(resp.Message.ToolCalls()) != 1 || resp.StopReason != bedrockkit.StopToolUse {
		t.Fatalf("response %+v", resp)
	}
	if want := (bedrockkit.Usage{InputTokens: 11, OutputTokens: 4, CacheReadTokens: 5, CacheWriteTokens: 6}); resp.Usage != want {
		t.Fatalf("usage %+v", resp.Usage)
	}
	img, ok := sm.Requests()[0].Messages[0].Parts[1].(bedrockkit.Image)
	if !ok || img.Format != bedrockkit.ImagePNG || len(img.Bytes) != 3 {
		t.Fatalf("image %+v", sm.Requests()[0].Messages[0].Parts)
	}
	if !reflect.DeepEqual(sm.Requests()[0].Tools[0].InputSchema, balanceTool.InputSchema) && !contains(string(sm.Requests()[0].Tools[0].InputSchema), `"required":["account"]`) {
		t.Fatalf("schema %s", sm.Requests()[0].Tools[0].InputSchema)
	}
}

func TestRetriever(t *testing.T) {
	ctx := context.Background()
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: bedrockkittest.NewHashEmbedder(128)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.Sync(ctx, kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:cards.md", Data: []byte("Report a lost card by phone. A replacement card is free.")},
		kb.MemoryDocument{URI: "mem:fees.md", Data: []byte("The monthly fee is 6 dollars.")},
	)); err != nil {
		t.Fatal(err)
	}
	r := lcgo.NewRetriever(base, kb.RetrieveOptions{NumberOfResults: 1})
	docs, err := r.GetRelevantDocuments(ctx, "lost card replacement")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Metadata[lcgo.MetaDocumentID] != "mem:cards.md" || !contains(docs[0].PageContent, "replacement card") || docs[0].Score == 0 {
		t.Fatalf("docs %+v", docs)
	}
	if _, err := r.GetRelevantDocuments(ctx, "  "); !errors.Is(err, bedrockkit.ErrInvalidInput) && err == nil {
		t.Fatalf("empty query: %v", err)
	}
}

func TestEmbedders(t *testing.T) {
	ctx := context.Background()
	hash := bedrockkittest.NewHashEmbedder(64)
	// bedrockkit -> langchaingo -> bedrockkit gives the same vectors.
	back := lcgo.FromEmbedder(lcgo.ToEmbedder(hash), 64)
	want, _ := hash.Embed(ctx, []string{"a", "b"}, bedrockkit.PurposeDocument)
	got, err := back.Embed(ctx, []string{"a", "b"}, bedrockkit.PurposeDocument)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("documents: %v", err)
	}
	wantQ, _ := hash.Embed(ctx, []string{"q"}, bedrockkit.PurposeQuery)
	gotQ, err := back.Embed(ctx, []string{"q"}, bedrockkit.PurposeQuery)
	if err != nil || !reflect.DeepEqual(gotQ, wantQ) {
		t.Fatalf("query: %v", err)
	}

	// A langchaingo embedder of unknown size: learnt from the first call.
	var calls int
	lce, err := embeddings.NewEmbedder(embeddings.EmbedderClientFunc(func(_ context.Context, texts []string) ([][]float32, error) {
		calls++
		out := make([][]float32, len(texts))
		for i := range out {
			out[i] = []float32{1, 2, 3}
			if texts[i] == "odd" {
				out[i] = []float32{1}
			}
		}
		return out, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	e := lcgo.FromEmbedder(lce, 0)
	if e.Dimensions() != 0 {
		t.Fatal("dimensions known too early")
	}
	if _, err := e.Embed(ctx, []string{"x", "y"}, bedrockkit.PurposeDocument); err != nil || e.Dimensions() != 3 {
		t.Fatalf("learn: %v %d", err, e.Dimensions())
	}
	if _, err := e.Embed(ctx, []string{"odd"}, bedrockkit.PurposeQuery); !errors.Is(err, bedrockkit.ErrModelError) {
		t.Fatalf("size mismatch: %v", err)
	}
}

// Provider errors carry bedrockkit's classes, so the retry middleware
// retries a 503 from the OpenAI client.
func TestErrorsClassifiedAndRetried(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(func(w http.ResponseWriter, _ bool) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	})
	srv.push(jsonReply(`{"role":"assistant","content":"ok"}`, "stop", `{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}`))
	srv.push(func(w http.ResponseWriter, _ bool) {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
	})
	m := bedrockkit.Chain(lcgo.FromLLM(srv.llm(t), lcgo.Options{}), bedrockkit.RetryPolicy{BaseDelay: time.Millisecond, MaxAttempts: 3}.Middleware())
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}
	resp, err := m.Generate(context.Background(), req)
	if err != nil || resp.Message.Text() != "ok" {
		t.Fatalf("503 not retried: %v", err)
	}
	_, err = m.Generate(context.Background(), req)
	var le *lcgo.Error
	if !errors.Is(err, bedrockkit.ErrAccessDenied) || !errors.As(err, &le) || le.Code != llms.ErrCodeAuthentication {
		t.Fatalf("401: %v", err)
	}
}

// anthropicShaped answers like langchaingo's Anthropic provider: one choice
// per content block (thinking, text, tool use), usage on each.
type anthropicShaped struct{}

func (anthropicShaped) GenerateContent(context.Context, []llms.MessageContent, ...llms.CallOption) (*llms.ContentResponse, error) {
	info := func(extra map[string]any) map[string]any {
		m := map[string]any{"InputTokens": 30, "OutputTokens": 12, "CacheReadInputTokens": 1000, "CacheCreationInputTokens": 0}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{
		{StopReason: "tool_use", GenerationInfo: info(map[string]any{"ThinkingContent": "need the balance", "ThinkingSignature": "sig1"})},
		{Content: "Let me check.", StopReason: "tool_use", GenerationInfo: info(map[string]any{"ThinkingContent": ""})},
		{ToolCalls: []llms.ToolCall{{ID: "toolu_1", FunctionCall: &llms.FunctionCall{Name: "get_balance", Arguments: `{"account":"A-1"}`}}}, StopReason: "tool_use", GenerationInfo: info(nil)},
	}}, nil
}

func (a anthropicShaped) Call(ctx context.Context, p string, o ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, a, p, o...)
}

func TestFromLLMMergesContentBlocks(t *testing.T) {
	m := lcgo.FromLLM(anthropicShaped{}, lcgo.Options{})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("balance?")}, Tools: []bedrockkit.ToolSpec{balanceTool}}
	want := []bedrockkit.Part{
		bedrockkit.Reasoning{Text: "need the balance", Signature: "sig1"},
		bedrockkit.Text{Text: "Let me check."},
		bedrockkit.ToolCall{ID: "toolu_1", Name: "get_balance", Input: json.RawMessage(`{"account":"A-1"}`)},
	}
	resp, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(resp.Message.Parts, want) || resp.StopReason != bedrockkit.StopToolUse {
		t.Fatalf("parts %#v stop %q", resp.Message.Parts, resp.StopReason)
	}
	if resp.Usage != (bedrockkit.Usage{InputTokens: 30, OutputTokens: 12, CacheReadTokens: 1000}) {
		t.Fatalf("usage counted per block: %+v", resp.Usage)
	}
	streamed, err := bedrockkit.Collect(m.Stream(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(streamed.Message.Parts, want) || streamed.Usage != resp.Usage {
		t.Fatalf("streamed %#v", streamed)
	}
}
