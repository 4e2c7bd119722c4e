package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type lineItem struct {
	SKU      string  `json:"sku"`
	Quantity int     `json:"quantity" jsonschema:"minimum=1"`
	Price    float64 `json:"price" jsonschema:"minimum=0"`
}

type invoice struct {
	Number   string     `json:"number" description:"The invoice number"`
	Currency string     `json:"currency" jsonschema:"enum=EUR|USD"`
	Lines    []lineItem `json:"lines" jsonschema:"minItems=1"`
}

const goodInvoice = `{"number":"INV-7","currency":"EUR","lines":[{"sku":"A1","quantity":2,"price":9.5}]}`

func ask(text string) *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(text)}}
}

func TestGenerateValueNativeDecodesTypedValue(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(goodInvoice))
	inv, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("extract"), bedrockkit.StructuredOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "INV-7" || inv.Currency != "EUR" || len(inv.Lines) != 1 || inv.Lines[0].Quantity != 2 {
		t.Fatalf("decoded %+v", inv)
	}
	if resp.Message.Text() != goodInvoice {
		t.Fatalf("text %q", resp.Message.Text())
	}
	reqs := m.Requests()
	if len(reqs) != 1 || reqs[0].Output == nil || reqs[0].Output.Name() != "invoice" || len(reqs[0].Tools) != 0 {
		t.Fatalf("the native path should hand Output to the model unchanged: %+v", reqs[0])
	}
	if !strings.Contains(string(reqs[0].Output.JSON()), `"enum":["EUR","USD"]`) {
		t.Fatalf("schema not derived from the type: %s", reqs[0].Output.JSON())
	}
}

func TestRepairAfterInvalidFirstAnswer(t *testing.T) {
	bad := `{"number":"INV-7","currency":"GBP","lines":[{"sku":"A1","quantity":0,"price":9.5}]}`
	first := bedrockkittest.TextStep(bad)
	first.Response.Usage = bedrockkit.Usage{InputTokens: 100, OutputTokens: 20}
	second := bedrockkittest.TextStep("```json\n" + goodInvoice + "\n```")
	second.Response.Usage = bedrockkit.Usage{InputTokens: 150, OutputTokens: 22}
	m := bedrockkittest.NewScriptedModel(first, second)
	inv, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("extract"), bedrockkit.StructuredOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Currency != "EUR" {
		t.Fatalf("decoded %+v", inv)
	}
	if resp.Usage.InputTokens != 250 || resp.Usage.OutputTokens != 42 {
		t.Fatalf("usage should sum both attempts: %+v", resp.Usage)
	}
	reqs := m.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	msgs := reqs[1].Messages
	if len(msgs) != 3 || msgs[1].Role != bedrockkit.RoleAssistant || msgs[1].Text() != bad || msgs[2].Role != bedrockkit.RoleUser {
		t.Fatalf("repair conversation: %+v", msgs)
	}
	for _, want := range []string{"at '/currency'", "at '/lines/0/quantity'", `"invoice"`} {
		if !strings.Contains(msgs[2].Text(), want) {
			t.Errorf("repair message %q does not mention %s", msgs[2].Text(), want)
		}
	}
}

func TestRepairsExhaustedNamePathAndReason(t *testing.T) {
	bad := `{"number":"INV-7","currency":"EUR","lines":[{"sku":"A1","quantity":-3,"price":1}]}`
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(bad), bedrockkittest.TextStep(bad), bedrockkittest.TextStep("not json at all"))
	_, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("extract"), bedrockkit.StructuredOptions{})
	var oe *bedrockkit.OutputError
	if !errors.As(err, &oe) || !errors.Is(err, bedrockkit.ErrInvalidOutput) {
		t.Fatalf("got %v", err)
	}
	if oe.Attempts != 3 || oe.Reason == "" || !strings.Contains(oe.Error(), "after 3 attempts") {
		t.Fatalf("last answer was not JSON: %+v", oe)
	}
	// With one repair the last answer is the out-of-range quantity.
	m = bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(bad), bedrockkittest.TextStep(bad))
	_, _, err = bedrockkit.GenerateValue[invoice](context.Background(), m, ask("extract"), bedrockkit.StructuredOptions{MaxRepairs: 1})
	if !errors.As(err, &oe) || oe.Path() != "/lines/0/quantity" || oe.Attempts != 2 || !strings.Contains(oe.Error(), "minimum") {
		t.Fatalf("got %v (path %q)", err, oe.Path())
	}
	if m.Remaining() != 0 {
		t.Fatalf("%d steps unused", m.Remaining())
	}
	// No repairs at all.
	m = bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(bad))
	if _, _, err = bedrockkit.GenerateValue[invoice](context.Background(), m, ask("x"), bedrockkit.StructuredOptions{MaxRepairs: -1}); !errors.As(err, &oe) || oe.Attempts != 1 || m.Calls() != 1 {
		t.Fatalf("got %v after %d calls", err, m.Calls())
	}
}

func TestForcedToolFallback(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(`{"number":"INV-7","currency":"EUR","lines":[]}`)}),
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t2", Name: "invoice", Input: json.RawMessage(goodInvoice)}),
	)
	m.SetSupportsOutput(false)
	inv, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("extract"), bedrockkit.StructuredOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "INV-7" || resp.StopReason != bedrockkit.StopEndTurn || len(resp.Message.ToolCalls()) != 0 {
		t.Fatalf("value %+v, response %+v", inv, resp)
	}
	reqs := m.Requests()
	r0 := reqs[0]
	if r0.Output != nil || len(r0.Tools) != 1 || r0.Tools[0].Name != "invoice" || r0.ToolChoice != (bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "invoice"}) {
		t.Fatalf("forced tool request: output %v tools %+v choice %+v", r0.Output, r0.Tools, r0.ToolChoice)
	}
	// The repair answers the tool call with an error result.
	msgs := reqs[1].Messages
	last := msgs[len(msgs)-1]
	tr, ok := last.Parts[0].(bedrockkit.ToolResult)
	if !ok || tr.CallID != "t1" || !tr.IsError || !strings.Contains(tr.Parts[0].(bedrockkit.Text).Text, "at '/lines'") {
		t.Fatalf("repair turn %+v", last)
	}
	if calls := msgs[len(msgs)-2].ToolCalls(); len(calls) != 1 || calls[0].ID != "t1" {
		t.Fatalf("the invalid call must be echoed: %+v", msgs[len(msgs)-2])
	}
}

func TestForcedToolWithThinkingIsNotForced(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(goodInvoice)}))
	req := ask("extract")
	req.Extra = map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 2000}}
	if _, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m, req, bedrockkit.StructuredOptions{Technique: bedrockkit.OutputForcedTool}); err != nil {
		t.Fatal(err)
	}
	r := m.Requests()[0]
	if r.ToolChoice.Kind != bedrockkit.ToolChoiceAuto || len(r.System) != 1 || !strings.Contains(r.System[0].(bedrockkit.Text).Text, `"invoice"`) {
		t.Fatalf("with thinking the tool must be asked for, not forced: choice %+v system %+v", r.ToolChoice, r.System)
	}
}

func TestRefusedForcedChoiceDowngrades(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Err: bedrockkit.ErrUnsupported},
		bedrockkittest.TextStep(goodInvoice), // prose answer holding the JSON
	)
	inv, _, err := bedrockkit.GenerateValue[invoice](context.Background(), m, ask("x"), bedrockkit.StructuredOptions{Technique: bedrockkit.OutputForcedTool})
	if err != nil || inv.Number != "INV-7" {
		t.Fatalf("%+v %v", inv, err)
	}
	if r := m.Requests()[1]; r.ToolChoice.Kind != bedrockkit.ToolChoiceAuto {
		t.Fatalf("second call choice %+v", r.ToolChoice)
	}
}

func TestNonObjectSchemaIsWrappedForTools(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "structured_output", Input: json.RawMessage(`{"value":["a","b"]}`)}))
	m.SetSupportsOutput(false)
	got, _, err := bedrockkit.GenerateValue[[]string](context.Background(), m, ask("x"), bedrockkit.StructuredOptions{})
	if err != nil || len(got) != 2 || got[1] != "b" {
		t.Fatalf("%v %v", got, err)
	}
	if s := string(m.Requests()[0].Tools[0].InputSchema); !strings.Contains(s, `"value"`) || !strings.HasPrefix(s, `{"additionalProperties":false`) {
		t.Fatalf("wire schema %s", s)
	}
}

func TestToolCallsOfOtherToolsAreReturned(t *testing.T) {
	call := bedrockkit.ToolCall{ID: "w1", Name: "weather", Input: json.RawMessage(`{"city":"Oslo"}`)}
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call))
	m.SetSupportsOutput(false)
	s, err := bedrockkit.OutputSchemaFor[invoice]("")
	if err != nil {
		t.Fatal(err)
	}
	req := ask("x")
	req.Output = s
	req.Tools = []bedrockkit.ToolSpec{{Name: "weather", InputSchema: json.RawMessage(`{"type":"object"}`)}}
	resp, err := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if calls := resp.Message.ToolCalls(); len(calls) != 1 || calls[0].Name != "weather" {
		t.Fatalf("%+v", resp.Message)
	}
	r := m.Requests()[0]
	if len(r.Tools) != 2 || r.ToolChoice.Kind != bedrockkit.ToolChoiceAuto || len(r.System) != 1 {
		t.Fatalf("with the caller's tools the answer tool is offered, not forced: %+v", r)
	}
	// A tool named like the schema is refused.
	req.Tools = append(req.Tools, bedrockkit.ToolSpec{Name: "invoice"})
	if _, err := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Generate(context.Background(), req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("name clash: %v", err)
	}
	// GenerateValue does not run tools.
	m.Push(bedrockkittest.ToolStep(call))
	req.Tools = req.Tools[:1]
	if _, resp, err := bedrockkit.GenerateValue[invoice](context.Background(), m, req, bedrockkit.StructuredOptions{}); !errors.Is(err, bedrockkit.ErrUnsupported) || resp == nil {
		t.Fatalf("%v", err)
	}
}

func TestStructuredStreamRetriesAndEndsWithValue(t *testing.T) {
	bad := `{"number":"INV-7","currency":"EUR","lines":[]}`
	for _, toolTechnique := range []bool{false, true} {
		var steps []bedrockkittest.Step
		if toolTechnique {
			steps = []bedrockkittest.Step{
				bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "invoice", Input: json.RawMessage(bad)}),
				bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t2", Name: "invoice", Input: json.RawMessage(goodInvoice)}),
			}
		} else {
			steps = []bedrockkittest.Step{bedrockkittest.TextStep(bad), bedrockkittest.TextStep(goodInvoice)}
		}
		for i := range steps {
			steps[i].Response.Usage = bedrockkit.Usage{InputTokens: 10, OutputTokens: 5}
		}
		m := bedrockkittest.NewScriptedModel(steps...)
		m.SetSupportsOutput(!toolTechnique)
		s, _ := bedrockkit.OutputSchemaFor[invoice]("")
		req := ask("x")
		req.Output = s
		var text strings.Builder
		var kinds []string
		var value json.RawMessage
		stream := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Stream(context.Background(), req)
		for ev, err := range stream {
			if err != nil {
				t.Fatal(err)
			}
			switch e := ev.(type) {
			case bedrockkit.TextDelta:
				text.WriteString(e.Text)
				if len(kinds) == 0 || kinds[len(kinds)-1] != "text" {
					kinds = append(kinds, "text")
				}
			case bedrockkit.OutputRetry:
				if !errors.Is(e.Err, bedrockkit.ErrInvalidOutput) || e.Attempt != 1 {
					t.Fatalf("retry %+v", e)
				}
				kinds = append(kinds, "retry")
				text.Reset()
			case bedrockkit.Stop:
				kinds = append(kinds, "stop:"+string(e.Reason))
			case bedrockkit.StreamMetadata:
				kinds = append(kinds, "meta")
				if e.Usage.InputTokens != 20 {
					t.Errorf("metadata usage %+v", e.Usage)
				}
			case bedrockkit.OutputValue:
				kinds = append(kinds, "value")
				value = e.Value
			default:
				t.Fatalf("unexpected event %T", ev)
			}
		}
		if got := strings.Join(kinds, ","); got != "text,retry,text,stop:end_turn,meta,value" {
			t.Fatalf("tool=%v events %s", toolTechnique, got)
		}
		if text.String() != goodInvoice || string(value) != goodInvoice {
			t.Fatalf("tool=%v text %q value %s", toolTechnique, text.String(), value)
		}
		// Collect gives the validated value and the summed usage.
		m = bedrockkittest.NewScriptedModel(steps...)
		m.SetSupportsOutput(!toolTechnique)
		resp, err := bedrockkit.Collect(bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{})(m).Stream(context.Background(), req))
		if err != nil || resp.Message.Text() != goodInvoice || resp.Usage.InputTokens != 20 {
			t.Fatalf("collect: %q %+v %v", resp.Message.Text(), resp.Usage, err)
		}
	}
}

func TestStructuredStreamFailsAfterRepairs(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("{}"), bedrockkittest.TextStep("{}"))
	s, _ := bedrockkit.OutputSchemaFor[invoice]("")
	req := ask("x")
	req.Output = s
	var last error
	var sawMeta bool
	for ev, err := range bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{MaxRepairs: 1})(m).Stream(context.Background(), req) {
		if err != nil {
			last = err
		}
		if _, ok := ev.(bedrockkit.StreamMetadata); ok {
			sawMeta = true
		}
	}
	var oe *bedrockkit.OutputError
	if !errors.As(last, &oe) || oe.Attempts != 2 || !sawMeta {
		t.Fatalf("%v (metadata %v)", last, sawMeta)
	}
}

func TestOutputSchemaValidation(t *testing.T) {
	if _, err := bedrockkit.NewOutputSchema("bad name", "", json.RawMessage(`{}`)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := bedrockkit.NewOutputSchema("x", "", json.RawMessage(`{"type":"nonsense"}`)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad schema: %v", err)
	}
	if _, err := bedrockkit.OutputSchemaFor[chan int](""); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("chan: %v", err)
	}
	s, err := bedrockkit.OutputSchemaFor[[]int]("numbers")
	if err != nil || s.Name() != bedrockkit.DefaultOutputName || s.Description() != "numbers" {
		t.Fatalf("%v %v", s, err)
	}
	if err := s.Validate(json.RawMessage(`[1,2]`)); err != nil {
		t.Fatal(err)
	}
	var oe *bedrockkit.OutputError
	if err := s.Validate(json.RawMessage(`[1,"x"]`)); !errors.As(err, &oe) || oe.Path() != "/1" {
		t.Fatalf("%v", err)
	}
	var zero *bedrockkit.OutputSchema
	if err := zero.Validate(nil); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil schema: %v", err)
	}
}

func TestDecodeOutputTypeMismatch(t *testing.T) {
	_, err := bedrockkit.DecodeOutput[invoice](&bedrockkit.Response{Message: bedrockkit.AssistantText(`{"number":7}`)})
	var oe *bedrockkit.OutputError
	if !errors.As(err, &oe) || !strings.Contains(oe.Reason, "does not decode") {
		t.Fatalf("%v", err)
	}
}

func TestRetryMiddlewareForwardsOutputCapability(t *testing.T) {
	m := bedrockkittest.NewScriptedModel()
	wrapped := bedrockkit.Chain(m, bedrockkit.RetryPolicy{}.Middleware())
	oc, ok := wrapped.(bedrockkit.OutputCapable)
	if !ok || !oc.SupportsOutput() {
		t.Fatal("the retry middleware hides the model's structured-output support")
	}
	m.SetSupportsOutput(false)
	if oc.SupportsOutput() {
		t.Fatal("the retry middleware claims support the model lacks")
	}
}

// FuzzStructuredAnswer gives the middleware arbitrary model answers, as
// text and as calls of the answer tool: the result is either a value the
// schema accepts or an *OutputError, never a panic.
func FuzzStructuredAnswer(f *testing.F) {
	for _, seed := range []string{goodInvoice, "", "```json\n{}\n```", "```", `{"value":1}`, "null", `{"number":1}`, "\xff", strings.Repeat("[", 2000)} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	schema, err := bedrockkit.OutputSchemaFor[invoice]("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, answer string, tool bool) {
		step := bedrockkittest.TextStep(answer)
		if tool {
			step = bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t", Name: "invoice", Input: json.RawMessage(answer)})
		}
		m := bedrockkittest.NewScriptedModel(step)
		m.SetSupportsOutput(!tool)
		req := ask("x")
		req.Output = schema
		resp, err := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{MaxRepairs: -1})(m).Generate(context.Background(), req)
		if err != nil {
			var oe *bedrockkit.OutputError
			if !errors.As(err, &oe) {
				t.Fatalf("%q: error %v is not an *OutputError", answer, err)
			}
			return
		}
		if err := schema.Validate(json.RawMessage(resp.Message.Text())); err != nil {
			t.Fatalf("%q: accepted an answer the schema refuses: %v", answer, err)
		}
	})
}
