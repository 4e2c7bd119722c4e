package bedrockkittest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// TestJavaScriptSDKAgainstFakeBedrock points the AWS SDK for JavaScript v3
// at FakeBedrock (testdata/jssdk/check.js): valid calls must decode, and
// every invalid-request class must come back as a ValidationException with
// Bedrock's message, to any conforming client and not only to the Go SDK.
// It needs node and the SDK installed by testdata/jssdk/run.sh, which sets
// BEDROCKKIT_JS_SDK_DIR; without it the test is skipped, saying why.
func TestJavaScriptSDKAgainstFakeBedrock(t *testing.T) {
	dir := os.Getenv("BEDROCKKIT_JS_SDK_DIR")
	if dir == "" {
		t.Skip("BEDROCKKIT_JS_SDK_DIR is not set; run bedrockkittest/testdata/jssdk/run.sh to install the AWS SDK for JavaScript and run this test")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("BEDROCKKIT_JS_SDK_DIR is set but node is not on PATH: %v", err)
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@aws-sdk", "client-bedrock-runtime")); err != nil {
		t.Fatalf("BEDROCKKIT_JS_SDK_DIR=%s has no @aws-sdk/client-bedrock-runtime: %v", dir, err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "jssdk", "check.js"))
	if err != nil {
		t.Fatal(err)
	}

	f := NewFakeBedrock(t)
	f.Enqueue(OpConverse,
		Reply{Message: bedrockkit.AssistantText("hello from the fake"), Usage: bedrockkit.Usage{InputTokens: 12, OutputTokens: 4}},
		Reply{Message: bedrockkit.AssistantText(`{"total":12.5}`)},
	)
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("streamed words"), Usage: bedrockkit.Usage{OutputTokens: 3}})
	f.Enqueue(OpInvokeModelWithResponseStream, Reply{Chunks: []json.RawMessage{json.RawMessage(`{"type":"message_start"}`), json.RawMessage(`{"type":"message_stop"}`)}})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, f.URL())
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.js: %v", err)
	}
	type outcome struct {
		OK      bool            `json:"ok"`
		Value   json.RawMessage `json:"value"`
		Name    string          `json:"name"`
		Message string          `json:"message"`
		Status  int             `json:"status"`
	}
	var got map[string]outcome
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("check.js printed %q: %v", stdout, err)
	}
	ok := map[string]string{
		"converse":     `{"text":"hello from the fake","stopReason":"end_turn","tier":"flex","input":12}`,
		"structured":   `{"text":"{\"total\":12.5}"}`,
		"stream":       `{"text":"streamed words","stop":"end_turn","output":3}`,
		"countTokens":  `{"tokens":10}`,
		"invokeStream": `{"chunks":[{"type":"message_start"},{"type":"message_stop"}]}`,
	}
	for name, want := range ok {
		o, found := got[name]
		if !found || !o.OK || string(o.Value) != want {
			t.Errorf("%s: got %+v (value %s), want %s", name, o, o.Value, want)
		}
	}
	refused := map[string]string{
		"invalid.startsWithAssistant":     "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
		"invalid.twoUserTurns":            "A conversation must alternate between user and assistant roles.",
		"invalid.resultWithoutUse":        "The number of toolResult blocks at messages.2.content exceeds the number of toolUse blocks of previous turn.",
		"invalid.useNotAnswered":          "Expected toolResult blocks at messages.2.content for the following Ids: t1",
		"invalid.toolBlocksWithoutConfig": "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
		"invalid.maxTokensZero":           "Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
		"invalid.temperatureTooHigh":      "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1",
		"invalid.blankText":               "The text field in the ContentBlock object at messages.0.content.0 is blank.",
		"invalid.emptyContent":            "The content field in the Message object at messages.1 is empty.",
		"invalid.thinkingWithForcedTool":  "Thinking may not be enabled when tool_choice forces tool use.",
		"invalid.badModelId":              "at 'modelId' failed to satisfy constraint",
		"invalid.bareProfileModel":        "with on-demand throughput isn't supported",
		"invalid.countTokensProfile":      "The provided model doesn't support counting tokens.",
		"invalid.rawJsonBlock":            "not a ContentBlock member",
	}
	for name, want := range refused {
		o, found := got[name]
		if !found || o.OK || o.Name != "ValidationException" || o.Status != 400 || !strings.Contains(o.Message, want) {
			t.Errorf("%s: got %+v, want a 400 ValidationException containing %q", name, o, want)
		}
	}
	if len(got) != len(ok)+len(refused) {
		t.Errorf("check.js reported %d outcomes, the test knows %d", len(got), len(ok)+len(refused))
	}
}
