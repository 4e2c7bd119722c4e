package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleConverseModel() {
	// Against real Bedrock:
	//   client, err := bedrockkit.NewRuntimeClient(ctx, bedrockkit.RuntimeClientOptions{Region: "us-east-1"})
	// Here a FakeBedrock stands in (in a test, use bedrockkittest.NewFakeBedrock(t)).
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	fake.Enqueue(bedrockkittest.OpConverse,
		// The first answer is throttled and retried automatically.
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}},
		bedrockkittest.Reply{
			Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.ToolCall{ID: "tu-1", Name: "get_weather", Input: json.RawMessage(`{"city":"Paris"}`)},
			}},
			Usage: bedrockkit.Usage{InputTokens: 42, OutputTokens: 9},
		},
	)

	model, err := bedrockkit.NewConverseModel(fake.Client(), "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		bedrockkit.ConverseOptions{Retry: bedrockkit.RetryPolicy{BaseDelay: time.Millisecond}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("model:", model.ModelID().BaseModel, "via", model.ModelID().Geo)

	resp, err := model.Generate(context.Background(), &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: "Use tools when they help."}},
		Messages: []bedrockkit.Message{bedrockkit.UserText("What is the weather in Paris?")},
		Tools: []bedrockkit.ToolSpec{{
			Name:        "get_weather",
			Description: "Current weather for a city",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
		}},
		MaxTokens: 512,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, call := range resp.Message.ToolCalls() {
		fmt.Printf("call %s(%s)\n", call.Name, call.Input)
	}
	fmt.Println("stop:", resp.StopReason, "tokens:", resp.Usage.Total(), "attempts:", fake.Calls(bedrockkittest.OpConverse))
	// Output:
	// model: anthropic.claude-3-7-sonnet-20250219-v1:0 via us
	// call get_weather({"city":"Paris"})
	// stop: tool_use tokens: 51 attempts: 2
}

func ExampleConverseModel_Stream() {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	fake.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message:   bedrockkit.AssistantText("Bonjour, Paris!"),
		ChunkSize: 6,
		// The service throttles after messageStart and two text deltas.
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 3, Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}},
	})
	model, _ := bedrockkit.NewConverseModel(fake.Client(), "amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})

	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("Greet Paris.")}}
	for ev, err := range model.Stream(context.Background(), req) {
		if err != nil {
			var se *bedrockkit.StreamError
			if errors.As(err, &se) && se.Partial {
				fmt.Printf("failed after %q; throttled: %v\n", se.Text, errors.Is(err, bedrockkit.ErrThrottled))
			}
			break
		}
		if d, ok := ev.(bedrockkit.TextDelta); ok {
			fmt.Printf("delta %q\n", d.Text)
		}
	}
	// Output:
	// delta "Bonjou"
	// delta "r, Par"
	// failed after "Bonjour, Par"; throttled: true
}

func ExampleParseModelID() {
	for _, s := range []string{
		"anthropic.claude-3-5-haiku-20241022-v1:0",
		"eu.amazon.nova-pro-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
	} {
		id, err := bedrockkit.ParseModelID(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		caps := bedrockkit.CapabilitiesOf(id)
		fmt.Printf("%s: provider=%q geo=%q known=%v cache-min=%d\n", id.Kind, id.Provider, id.Geo, caps.Known, caps.PromptCacheMinTokens)
	}
	// Output:
	// foundation-model: provider="anthropic" geo="" known=true cache-min=2048
	// inference-profile: provider="amazon" geo="eu" known=true cache-min=1000
	// application-inference-profile: provider="" geo="" known=false cache-min=0
}
