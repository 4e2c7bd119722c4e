package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOfflineSaysTheModelIsScripted(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"uses a SCRIPTED model",
		`tool order_status({"order":"A-1001"}): REFUSED by the schema check`,
		"missing property 'order_id'",
		`tool order_status({"order_id":"A-1001"}): ok`,
		`"expected_delivery":"2026-12-02"`,
		"Answer (scripted text): Your order A-1001 has shipped",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// TestBedrock runs the -bedrock path against a fake Bedrock endpoint: the
// agent's tool loop goes through Converse on the real SDK client.
func TestBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "c1", Name: "order_status", Input: json.RawMessage(`{"order_id":"a-1002"}`)}}}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("It is still processing."), Usage: bedrockkit.Usage{InputTokens: 90, OutputTokens: 6}},
	)
	var out strings.Builder
	if err := run(context.Background(), &out, options{bedrock: true, modelID: "us.amazon.nova-lite-v1:0", endpoint: fake.URL()}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "SCRIPTED") || !strings.Contains(s, `"status":"processing"`) ||
		!strings.Contains(s, "Answer: It is still processing.") || !strings.Contains(s, "90 input and 6 output tokens") {
		t.Fatalf("output:\n%s", s)
	}
	if got := fake.Calls(bedrockkittest.OpConverse); got != 2 {
		t.Fatalf("%d Converse calls, want 2", got)
	}
}
