package cache

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// FuzzDecodeResponse: stored bytes from any Store must never panic the
// decoder, and what decodes must re-encode to an equal response.
func FuzzDecodeResponse(f *testing.F) {
	good, _ := encodeResponse(&bedrockkit.Response{
		Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.Text{Text: "hi"}, bedrockkit.ToolCall{ID: "1", Name: "f", Input: json.RawMessage(`{}`)},
			bedrockkit.Reasoning{Text: "r", Redacted: []byte{1}},
		}},
		StopReason: bedrockkit.StopToolUse, Usage: bedrockkit.Usage{InputTokens: 1},
	}, time.Unix(0, 0))
	f.Add(good)
	f.Add([]byte(`{"v":1,"message":{"role":"assistant","parts":[{"t":"nope"}]}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, _, stored, err := decodeResponse(b)
		if err != nil {
			return
		}
		again, err := encodeResponse(resp, stored)
		if err != nil {
			t.Fatalf("decoded response does not encode: %v", err)
		}
		resp2, _, _, err := decodeResponse(again)
		if err != nil || len(resp2.Message.Parts) != len(resp.Message.Parts) || resp2.StopReason != resp.StopReason {
			t.Fatalf("round trip changed the response: %v", err)
		}
	})
}

// FuzzCanon: canonical JSON is valid JSON and a fixed point.
func FuzzCanon(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1,2.50,"x"]}`, ` {"a" : {"c":null,"b":true}} `, `not json`, `1 2`, `"s"`, `1e400`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := canon(json.RawMessage(s), true)
		if len(s) == 0 {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("canon(%q) = %q is not JSON", s, c)
		}
		if c2 := canon(c, true); string(c2) != string(c) && json.Valid([]byte(s)) {
			t.Fatalf("canon not idempotent: %q -> %q", c, c2)
		}
	})
}
