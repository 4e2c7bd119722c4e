package bedrockkit_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// TestConverseAndStreamSendTheSameRequest checks that Generate and Stream
// send one request body: the fields of fullRequest (every part type, tools,
// cache points, a guardrail, extra fields) plus a service tier, a latency
// mode, response field paths and a native output schema, differing only in
// the guardrail's stream processing mode, which only ConverseStream has.
func TestConverseAndStreamSendTheSameRequest(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", bedrockkit.ConverseOptions{AdditionalResponseFieldPaths: []string{"/stop_sequence"}})
	req := fullRequest()
	req.ServiceTier = bedrockkit.ServiceTierFlex
	req.LatencyMode = bedrockkit.LatencyOptimized
	schema, err := bedrockkit.NewOutputSchema("answer", "the answer", []byte(`{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Output = schema
	req.ToolChoice = bedrockkit.ToolChoice{} // a forced tool choice and a native schema do not mix
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText(`{"id":1}`)})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText(`{"id":1}`)})
	if _, err := m.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := bedrockkit.Collect(m.Stream(context.Background(), req)); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	conv := decodeJSON(t, reqs[0].Body).(map[string]any)
	stream := decodeJSON(t, reqs[1].Body).(map[string]any)
	g := stream["guardrailConfig"].(map[string]any)
	if g["streamProcessingMode"] != "async" {
		t.Errorf("stream guardrail %v, want streamProcessingMode async", g)
	}
	delete(g, "streamProcessingMode")
	for _, k := range []string{"serviceTier", "performanceConfig", "outputConfig", "additionalModelResponseFieldPaths", "guardrailConfig", "toolConfig", "system", "additionalModelRequestFields"} {
		if conv[k] == nil {
			t.Errorf("Converse body has no %s", k)
		}
	}
	if !reflect.DeepEqual(conv, stream) {
		t.Errorf("Converse and ConverseStream bodies differ:\n%v\n%v", conv, stream)
	}
}
