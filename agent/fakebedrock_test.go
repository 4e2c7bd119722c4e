package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// TestStreamThroughFakeBedrock runs the agent on the real ConverseModel and
// the real aws-sdk-go-v2 client, against FakeBedrock speaking the
// ConverseStream event-stream protocol: a tool call streamed in fragments,
// then a final answer streamed as text deltas.
func TestStreamThroughFakeBedrock(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	fake.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{
			bedrockkit.Text{Text: "Let me check."},
			call("tooluse_1", "echo", `{"city":"Lisbon","unit":"c"}`),
		}}, Usage: bedrockkit.Usage{InputTokens: 50, OutputTokens: 10}, ChunkSize: 3},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("Lisbon is sunny."), Usage: bedrockkit.Usage{InputTokens: 80, OutputTokens: 5}},
	)
	model, err := bedrockkit.NewConverseModel(fake.Client(), "us.anthropic.claude-3-7-sonnet-20250219-v1:0", bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gotCity string
	tool := agent.MustNewFuncTool("echo", "Echo the city", func(ctx context.Context, in cityIn) (string, error) {
		gotCity = in.City
		return "sunny in " + in.City, nil
	})
	a := &agent.Agent{Model: model, Instructions: "Be brief.", Tools: []*agent.Tool{tool}}
	var text strings.Builder
	var final *agent.RunResult
	var toolEvents int
	for ev, err := range a.Stream(context.Background(), "s", "Weather in Lisbon?") {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case agent.ModelText:
			text.WriteString(e.Text)
		case agent.ToolCalled:
			toolEvents++
		case agent.Finished:
			final = e.Result
		}
	}
	if gotCity != "Lisbon" || toolEvents != 1 {
		t.Fatalf("tool got %q (%d events)", gotCity, toolEvents)
	}
	if text.String() != "Let me check.Lisbon is sunny." {
		t.Fatalf("streamed text %q", text.String())
	}
	if final == nil || final.Output != "Lisbon is sunny." || final.Usage.InputTokens != 130 || final.Usage.OutputTokens != 15 || final.Iterations != 2 {
		t.Fatalf("final %+v", final)
	}
	if n := fake.Calls(bedrockkittest.OpConverseStream); n != 2 {
		t.Fatalf("ConverseStream calls %d", n)
	}
	// The second request carried the tool result back in Bedrock's wire format.
	reqs := fake.Requests()
	if body := string(reqs[len(reqs)-1].Body); !strings.Contains(body, `"toolResult"`) || !strings.Contains(body, "sunny in Lisbon") {
		t.Fatalf("second request body lacks the tool result: %s", body)
	}
}
