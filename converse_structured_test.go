package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// These tests drive structured output, service tiers, citations and
// CountTokens through ConverseModel, a real *bedrockruntime.Client and
// FakeBedrock.

const (
	sonnet45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" // native structured output
	nova     = "amazon.nova-lite-v1:0"                        // forced tool
)

// wire decodes a recorded request body.
func wire(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConverseNativeStructuredOutput(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText(goodInvoice), Usage: bedrockkit.Usage{InputTokens: 50, OutputTokens: 30}})
	inv, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("Extract the invoice."), bedrockkit.StructuredOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "INV-7" || inv.Lines[0].Price != 9.5 || resp.Usage.OutputTokens != 30 {
		t.Fatalf("%+v %+v", inv, resp)
	}
	body := wire(t, f.Requests()[0].Body)
	tf := body["outputConfig"].(map[string]any)["textFormat"].(map[string]any)
	js := tf["structure"].(map[string]any)["jsonSchema"].(map[string]any)
	if tf["type"] != "json_schema" || js["name"] != "invoice" || !strings.Contains(js["schema"].(string), `"currency"`) {
		t.Fatalf("outputConfig %v", tf)
	}
	if _, ok := body["toolConfig"]; ok {
		t.Fatal("the native path must not add a tool")
	}
}

func TestConverseForcedToolForModelsWithoutNativeOutput(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, nova, bedrockkit.ConverseOptions{})
	bad := `{"number":"INV-7","currency":"EUR","lines":[{"sku":"A1","quantity":0,"price":9.5}]}`
	f.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "tooluse_1", Name: "invoice", Input: json.RawMessage(bad)}}}, Usage: bedrockkit.Usage{InputTokens: 400, OutputTokens: 40}},
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "tooluse_2", Name: "invoice", Input: json.RawMessage(goodInvoice)}}}, Usage: bedrockkit.Usage{InputTokens: 480, OutputTokens: 41}},
	)
	inv, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("Extract the invoice."), bedrockkit.StructuredOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Lines[0].Quantity != 2 || resp.Usage.InputTokens != 880 || resp.StopReason != bedrockkit.StopEndTurn {
		t.Fatalf("%+v %+v", inv, resp)
	}
	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	b0 := wire(t, reqs[0].Body)
	if _, ok := b0["outputConfig"]; ok {
		t.Fatal("Nova Lite has no native structured output in the table; it must get the tool")
	}
	tc := b0["toolConfig"].(map[string]any)
	if choice := tc["toolChoice"].(map[string]any)["tool"].(map[string]any); choice["name"] != "invoice" {
		t.Fatalf("toolChoice %v", tc["toolChoice"])
	}
	// The repair passed FakeBedrock's validation: ConverseModel turned the
	// invalid call into the assistant's text, and the next user turn says
	// what is wrong; the tool is forced again.
	b1 := wire(t, reqs[1].Body)
	msgs := b1["messages"].([]any)
	prev := msgs[1].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]
	last := msgs[2].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
	var got, want any
	_ = json.Unmarshal([]byte(prev.(string)), &got)
	_ = json.Unmarshal([]byte(bad), &want)
	if len(msgs) != 3 || !reflect.DeepEqual(got, want) || !strings.Contains(last, "at '/lines/0/quantity'") || b1["toolConfig"] == nil {
		t.Fatalf("repair turn %s", reqs[1].Body)
	}
}

func TestConverseFallsBackWhenBedrockRefusesTheSchema(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	refusal := bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ValidationException", Message: "The model returned the following errors: output_config.format: Extra inputs are not permitted"}}
	answer := bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(goodInvoice)}}}}
	f.Enqueue(bedrockkittest.OpConverse, refusal, answer, answer)
	for range 2 {
		if _, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("x"), bedrockkit.StructuredOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d calls", len(reqs))
	}
	if _, ok := wire(t, reqs[0].Body)["outputConfig"]; !ok {
		t.Fatal("first call should try the native schema")
	}
	for _, r := range reqs[1:] {
		b := wire(t, r.Body)
		if _, ok := b["outputConfig"]; ok || b["toolConfig"] == nil {
			t.Fatalf("after the refusal every call uses the tool: %s", r.Body)
		}
	}
	// A forced native technique does not fall back.
	m2 := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{OutputTechnique: bedrockkit.OutputNative})
	f.Enqueue(bedrockkittest.OpConverse, refusal)
	if _, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m2, ask("x"), bedrockkit.StructuredOptions{}); !errors.Is(err, bedrockkit.ErrValidation) {
		t.Fatalf("OutputNative: %v", err)
	}
}

func TestConverseForcedToolWithThinkingIsAsked(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{}) // Claude 3.7: no native output
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{
		bedrockkit.Reasoning{Text: "The invoice lists one line.", Signature: "sig"},
		bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(goodInvoice)}}}})
	req := ask("x")
	req.Extra = map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}}
	req.MaxTokens = 4096
	inv, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m, req, bedrockkit.StructuredOptions{})
	if err != nil || inv.Number != "INV-7" {
		t.Fatalf("FakeBedrock refuses a forced tool with thinking, so the tool must be asked for: %v", err)
	}
	b := wire(t, f.Requests()[0].Body)
	if _, forced := b["toolConfig"].(map[string]any)["toolChoice"]; forced {
		t.Fatalf("tool choice sent with thinking: %v", b["toolConfig"])
	}
}

func TestConverseStructuredStreamWrappedSchema(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText(`{"value":["red","green"]}`), ChunkSize: 3})
	s, err := bedrockkit.OutputSchemaFor[[]string]("colours")
	if err != nil {
		t.Fatal(err)
	}
	req := ask("List two colours.")
	req.Output = s
	resp, err := bedrockkit.Collect(bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Stream(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != `["red","green"]` {
		t.Fatalf("text %q", resp.Message.Text())
	}
	js := wire(t, f.Requests()[0].Body)["outputConfig"].(map[string]any)["textFormat"].(map[string]any)["structure"].(map[string]any)["jsonSchema"].(map[string]any)
	if !strings.Contains(js["schema"].(string), `"value"`) {
		t.Fatalf("a non-object schema is sent wrapped: %v", js["schema"])
	}
}

func TestConverseServiceTierAndLatency(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok"), ServiceTier: bedrockkit.ServiceTierDefault})
	req := ask("hi")
	req.ServiceTier = bedrockkit.ServiceTierFlex
	req.LatencyMode = bedrockkit.LatencyOptimized
	resp, err := m.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ServiceTier != bedrockkit.ServiceTierDefault || resp.LatencyMode != bedrockkit.LatencyOptimized {
		t.Fatalf("served %q %q", resp.ServiceTier, resp.LatencyMode)
	}
	b := wire(t, f.Requests()[0].Body)
	if b["serviceTier"].(map[string]any)["type"] != "flex" || b["performanceConfig"].(map[string]any)["latency"] != "optimized" {
		t.Fatalf("sent %v %v", b["serviceTier"], b["performanceConfig"])
	}
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
	req.ServiceTier = bedrockkit.ServiceTierPriority
	resp, err = bedrockkit.Collect(m.Stream(context.Background(), req))
	if err != nil || resp.ServiceTier != bedrockkit.ServiceTierPriority {
		t.Fatalf("stream served %q %v", resp.ServiceTier, err)
	}
	req.ServiceTier = "turbo"
	if _, err := m.Generate(context.Background(), req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("unknown tier: %v", err)
	}
}

func TestConverseCitations(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	src := bedrockkit.CitationSource{Title: "policy", Text: "Refunds are paid within 5 days.", Location: bedrockkit.SourceLocation{Kind: bedrockkit.LocationDocumentChar, Start: 0, End: 31}}
	reply := bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{
		bedrockkit.Text{Text: "According to the policy, "}, bedrockkit.CitedText{Text: "refunds arrive within 5 days", Sources: []bedrockkit.CitationSource{src}}, bedrockkit.Text{Text: "."}}}}
	f.Enqueue(bedrockkittest.OpConverse, reply)
	f.Enqueue(bedrockkittest.OpConverseStream, reply)
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Document{Name: "policy", Format: bedrockkit.DocTXT, Text: "Refunds are paid within 5 days.", Citations: true},
		bedrockkit.Text{Text: "How long do refunds take?"}}}}}
	for _, stream := range []bool{false, true} {
		var resp *bedrockkit.Response
		var err error
		if stream {
			resp, err = bedrockkit.Collect(m.Stream(context.Background(), req))
		} else {
			resp, err = m.Generate(context.Background(), req)
		}
		if err != nil {
			t.Fatal(err)
		}
		text := resp.Message.Text()
		cits := resp.Message.Citations()
		if text != "According to the policy, refunds arrive within 5 days." || len(cits) != 1 || text[cits[0].Span.Start:cits[0].Span.End] != "refunds arrive within 5 days" {
			t.Fatalf("stream=%v text %q citations %+v", stream, text, cits)
		}
		if got := cits[0].Sources[0]; got.Title != "policy" || got.Text != src.Text || got.Location != src.Location {
			t.Fatalf("stream=%v source %+v", stream, got)
		}
	}
	doc := wire(t, f.Requests()[0].Body)["messages"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["document"].(map[string]any)
	if doc["citations"].(map[string]any)["enabled"] != true {
		t.Fatalf("citations not enabled on the document: %v", doc)
	}
	// Sent back in a later turn, the cited answer is its text.
	req.Messages = append(req.Messages, reply.Message, bedrockkit.UserText("Thanks"))
	req.Messages[1].Role = bedrockkit.RoleAssistant
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("You're welcome.")})
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	// Models without citations refuse the flag locally.
	mn := newModel(t, f, nova, bedrockkit.ConverseOptions{})
	if _, err := mn.Generate(context.Background(), req); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("nova with citations: %v", err)
	}
}

func TestConverseCountTokens(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	var tc bedrockkit.TokenCounter = m
	n, err := tc.CountTokens(context.Background(), ask("Hello there, how are you?"))
	if err != nil || n != 10 {
		t.Fatalf("%d %v", n, err)
	}
	r := f.Requests()[0]
	if r.Op != bedrockkittest.OpCountTokens || r.ModelID != "anthropic.claude-sonnet-4-5-20250929-v1:0" {
		t.Fatalf("CountTokens must use the base model ID: %+v", r.ModelID)
	}
	// With Output through a tool, the answer tool is counted too.
	mn := newModel(t, f, nova, bedrockkit.ConverseOptions{NoCapabilityCheck: true})
	if _, err := mn.CountTokens(context.Background(), ask("x")); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("Nova: Bedrock refuses to count, want ErrUnsupported: %v", err)
	}
	mn = newModel(t, f, nova, bedrockkit.ConverseOptions{})
	if _, err := mn.CountTokens(context.Background(), ask("x")); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("Nova by capability: %v", err)
	}
	mt := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	s, _ := bedrockkit.OutputSchemaFor[invoice]("")
	req := ask("Hello there, how are you?")
	plain, err := mt.CountTokens(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Output = s
	withTool, err := mt.CountTokens(context.Background(), req)
	if err != nil || withTool <= plain {
		t.Fatalf("the forced answer tool should be counted: %d vs %d (%v)", withTool, plain, err)
	}
	f.Enqueue(bedrockkittest.OpCountTokens, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}}, bedrockkittest.Reply{Usage: bedrockkit.Usage{InputTokens: 77}})
	mr := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{Retry: fastRetry})
	if n, err := mr.CountTokens(context.Background(), ask("x")); err != nil || n != 77 {
		t.Fatalf("retried count: %d %v", n, err)
	}
}

func TestConverseStructuredStreamForcedToolWithRepair(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, nova, bedrockkit.ConverseOptions{})
	bad := `{"number":"INV-7","currency":"XXX","lines":[{"sku":"A1","quantity":2,"price":9.5}]}`
	f.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(bad)}}}, ChunkSize: 7},
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "t2", Name: "invoice", Input: json.RawMessage(goodInvoice)}}}, ChunkSize: 7},
	)
	s, _ := bedrockkit.OutputSchemaFor[invoice]("")
	req := ask("x")
	req.Output = s
	var deltas, retries int
	var value json.RawMessage
	for ev, err := range bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Stream(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case bedrockkit.TextDelta:
			deltas++
		case bedrockkit.ToolCallDelta, bedrockkit.ToolCallDone:
			t.Fatalf("the answer tool leaked into the stream: %+v", e)
		case bedrockkit.OutputRetry:
			retries++
		case bedrockkit.OutputValue:
			value = e.Value
		}
	}
	var got, want invoice
	_ = json.Unmarshal(value, &got)
	_ = json.Unmarshal([]byte(goodInvoice), &want)
	if retries != 1 || deltas < 10 || !reflect.DeepEqual(got, want) {
		t.Fatalf("retries %d, text deltas %d, value %s", retries, deltas, value)
	}
}

func TestConverseStreamFallsBackWhenBedrockRefusesTheSchema(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, sonnet45, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ValidationException", Message: "The model returned the following errors: output_config.format: Extra inputs are not permitted"}},
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(goodInvoice)}}}},
	)
	s, _ := bedrockkit.OutputSchemaFor[invoice]("")
	req := ask("x")
	req.Output = s
	resp, err := bedrockkit.Collect(m.Stream(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	var got invoice
	if err := json.Unmarshal([]byte(resp.Message.Text()), &got); err != nil || got.Number != "INV-7" || resp.StopReason != bedrockkit.StopEndTurn {
		t.Fatalf("%q %s %v", resp.Message.Text(), resp.StopReason, err)
	}
	if n := f.Calls(bedrockkittest.OpConverseStream); n != 2 {
		t.Fatalf("%d stream calls", n)
	}
}
