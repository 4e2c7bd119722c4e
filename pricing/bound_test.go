package pricing

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

// FuzzReservationCoversCost checks the two halves of the budget guarantee
// on arbitrary input: InputTokenBound is at least what real BPE tokenizers
// count for the text (cl100k and o200k, as stand-ins for the models' own),
// and for every text model in the catalog the reservation is at least the
// cost of any usage within the bounds, however it splits between input,
// cache reads and cache writes (at the 1-hour rate when the request asks).
func FuzzReservationCoversCost(f *testing.F) {
	f.Add("hello", uint16(100), uint8(0), uint8(0), false)
	f.Add(hexText(9, 700), uint16(16), uint8(200), uint8(30), false)
	f.Add(strings.Repeat("料金は入力トークンと出力トークン", 30), uint16(1), uint8(0), uint8(255), true)
	f.Add(strings.Repeat("🙂\u200d", 100), uint16(4096), uint8(128), uint8(128), true)
	f.Add("", uint16(1), uint8(255), uint8(0), false)
	f.Add("\xff\xfe\x00 invalid", uint16(7), uint8(3), uint8(3), false)
	f.Add(`{"a": [1, 2, 3], "é": "\u00e9"}`, uint16(50), uint8(90), uint8(90), true)
	f.Fuzz(func(t *testing.T, text string, maxOut uint16, readShare, writeShare uint8, hour bool) {
		// internal/tokenizer is superlinear on one long pre-token (50,000
		// repeated letters take seconds); the bound is linear, so short
		// texts test it as well.
		if len(text) > 2048 {
			text = text[:2048]
		}
		if maxOut == 0 {
			maxOut = 1
		}
		req := &bedrockkit.Request{
			System:    []bedrockkit.Part{bedrockkit.Text{Text: text}},
			Messages:  []bedrockkit.Message{bedrockkit.UserText(text), bedrockkit.AssistantText(text), bedrockkit.UserText("and")},
			MaxTokens: int(maxOut),
		}
		if json.Valid([]byte(text)) {
			req.Messages[1].Parts = append(req.Messages[1].Parts, bedrockkit.ToolCall{ID: "t", Name: "n", Input: json.RawMessage(text)})
			req.Tools = []bedrockkit.ToolSpec{{Name: "n", Description: text, InputSchema: json.RawMessage(text)}}
		}
		if hour {
			req.System = append(req.System, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h})
		}
		bound, err := InputTokenBound(req, TokenBounds{})
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range []*tokenizer.Encoding{tokenizer.CL100K(), tokenizer.O200K()} {
			if n := 3 * enc.Count(text); bound < n {
				t.Fatalf("bound %d below %s's %d tokens for the texts", bound, enc.Name(), n)
			}
		}
		m := newMeter(t, MeterOptions{})
		for _, row := range Default().Rows() {
			if row.Kind != KindText || !row.Output.IsSet() {
				continue
			}
			p := Price{Row: row}
			cb, err := m.bound(context.Background(), p, row.ID(), req)
			if err != nil {
				t.Fatal(err)
			}
			if cb.inTokens != bound || cb.outTokens != int(maxOut) {
				t.Fatalf("%s: reserved %d in / %d out, want %d / %d", row.ID(), cb.inTokens, cb.outTokens, bound, maxOut)
			}
			read := bound * int(readShare) / 255
			write := (bound - read) * int(writeShare) / 255
			if row.NoPromptCaching || !row.CacheRead.IsSet() {
				read = 0
			}
			if row.NoPromptCaching || !row.CacheWrite5m.IsSet() || hour && !row.CacheWrite1h.IsSet() {
				write = 0
			}
			u := bedrockkit.Usage{InputTokens: bound - read - write, CacheReadTokens: read, CacheWriteTokens: write, OutputTokens: int(maxOut)}
			terms := Terms{CacheWriteTTL: cacheTTL(req)}
			bill, err := p.Cost(u, terms)
			if err != nil {
				t.Fatalf("%s: %+v: %v", row.ID(), u, err)
			}
			if bill.Total > cb.amount {
				t.Fatalf("%s: usage %+v costs %v, above the reservation %v", row.ID(), u, bill.Total, cb.amount)
			}
		}
	})
}

// The bound counts what a model bills around the content, not only the text.
func TestInputTokenBoundCountsEveryPart(t *testing.T) {
	base := must(InputTokenBound(&bedrockkit.Request{}, TokenBounds{}))
	schema := json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)
	cases := []struct {
		name string
		req  *bedrockkit.Request
		min  int // at least this much above the empty request
	}{
		{"text", &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("abcdef")}}, 6 + boundMessageOverhead},
		{"tools", &bedrockkit.Request{Tools: []bedrockkit.ToolSpec{{Name: "lookup", Description: "d", InputSchema: schema}}}, boundToolsOverhead + 3*len(schema)},
		{"tool call and result", &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "1", Name: "lookup", Input: json.RawMessage(`{"q":"x"}`)}}}, {Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
			bedrockkit.ToolResult{CallID: "1", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "0123456789"}, bedrockkit.JSON{Value: json.RawMessage(`[1]`)}}}}}}}, 3*9 + 10 + 3*3},
		{"reasoning", &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.Reasoning{Text: "think", Signature: "sig", Redacted: []byte("xx")}}}}}, 10},
		{"extra", &bedrockkit.Request{Extra: map[string]any{"top_k": 5}}, boundExtraOverhead},
		{"plain document", &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
			bedrockkit.Document{Name: "n", Format: bedrockkit.DocMD, Text: "# t"}}}}}, 1 + 3*3},
	}
	for _, tc := range cases {
		n, err := InputTokenBound(tc.req, TokenBounds{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n-base < tc.min {
			t.Errorf("%s: bound %d is %d above an empty request, want at least %d", tc.name, n, n-base, tc.min)
		}
	}
	if _, err := InputTokenBound(&bedrockkit.Request{Extra: map[string]any{"bad": func() {}}}, TokenBounds{}); err == nil {
		t.Error("an Extra that cannot be encoded was bounded")
	}
	// Saturation instead of overflow.
	huge := TokenBounds{Document: int(^uint(0) >> 1)}
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
		bedrockkit.Document{Format: bedrockkit.DocPDF, Bytes: []byte("x")}, bedrockkit.Document{Format: bedrockkit.DocPDF, Bytes: []byte("y")}}}}}
	if n, err := InputTokenBound(req, huge); err != nil || n != huge.Document {
		t.Fatalf("saturating bound: %d, %v", n, err)
	}
}
