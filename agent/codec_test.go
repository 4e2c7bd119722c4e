package agent_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

func TestSessionJSONRoundTrip(t *testing.T) {
	s := &agent.Session{ID: "s", Summary: "sum", Turns: 3, Version: 2,
		Attributes: map[string]string{"a": "b"},
		Messages: []bedrockkit.Message{
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "hi"}, bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte{1, 2}},
				bedrockkit.Document{Name: "d", Format: bedrockkit.DocMD, Text: "# x"}, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}}},
			{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.Reasoning{Text: "think", Signature: "sig"}, call("c", "t", `{"a":1}`), call("d", "t", `{"a":`)}},
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.ToolResult{CallID: "c", IsError: true, Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"x":1}`)}}}}},
		},
		Records: map[string]bedrockkit.ToolResult{"k": {CallID: "c", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "r"}}}},
		Pending: &agent.Pending{ID: "p", SessionID: "s", Calls: []agent.PendingCall{{Call: call("c", "t", `{}`), Kind: agent.KindConfirm, IdempotencyKey: "k"}},
			Messages: []bedrockkit.Message{bedrockkit.AssistantText("x")}},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got agent.Session
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&got)
	if string(b) != string(b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if !reflect.DeepEqual(got.Messages[1].Parts[2], call("d", "t", `{"a":`)) || !reflect.DeepEqual(got.Messages[0].Parts[1], s.Messages[0].Parts[1]) {
		t.Fatalf("parts differ: %+v", got.Messages)
	}
}

// FuzzSessionJSON: decoding arbitrary bytes as a stored session never
// panics, and whatever decodes re-encodes stably.
func FuzzSessionJSON(f *testing.F) {
	s := &agent.Session{ID: "s", Messages: []bedrockkit.Message{bedrockkit.UserText("hi")},
		Records:    map[string]bedrockkit.ToolResult{"k": {CallID: "c", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "r"}}}},
		InProgress: &agent.Checkpoint{Input: "hi", Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}}
	seed, _ := json.Marshal(s)
	f.Add(seed)
	f.Add([]byte(`{"id":"x","messages":[{"role":"system","parts":[]}]}`))
	f.Add([]byte(`{"id":"x","records":{"k":[{"type":"text","text":"not a result"}]}}`))
	f.Add([]byte(`{"id":"x","in_progress":{"messages":[{"role":"user","parts":[{"type":"tool_result","parts":[{"type":"?"}]}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s agent.Session
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		b2, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var s2 agent.Session
		if err := json.Unmarshal(b2, &s2); err != nil {
			t.Fatalf("decode of re-encoded session: %v", err)
		}
		if b3, _ := json.Marshal(&s2); string(b2) != string(b3) {
			t.Fatalf("not stable:\n%s\n%s", b2, b3)
		}
	})
}
