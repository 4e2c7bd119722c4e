package agent_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type weatherIn struct {
	City string `json:"city" description:"City name, e.g. Paris"`
	Unit string `json:"unit,omitempty" jsonschema:"enum=celsius|fahrenheit"`
}

func Example() {
	weather := agent.Func("get_weather", "Current weather for a city",
		func(ctx context.Context, in weatherIn) (string, error) {
			return "18 degrees and sunny in " + in.City, nil
		})
	// A scripted model stands in for Bedrock: it calls the tool, then answers.
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "get_weather", Input: json.RawMessage(`{"city":"Paris"}`)}),
		bedrockkittest.TextStep("It is 18 degrees and sunny in Paris."),
	)
	a := &agent.Agent{Model: model, Instructions: "You are a weather assistant.", Tools: []*agent.Tool{weather}}
	res, err := a.Run(context.Background(), "session-1", "What's the weather in Paris?")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Output)
	fmt.Println("model calls:", res.Iterations)
	// Output:
	// It is 18 degrees and sunny in Paris.
	// model calls: 2
}

func ExampleSchemaFor() {
	schema, _ := agent.SchemaFor[weatherIn]()
	fmt.Println(string(schema))
	// Output:
	// {"additionalProperties":false,"properties":{"city":{"description":"City name, e.g. Paris","type":"string"},"unit":{"enum":["celsius","fahrenheit"],"type":"string"}},"required":["city"],"type":"object"}
}

func ExampleAgent_Resume() {
	refund := agent.Func("refund", "Refund an order",
		func(ctx context.Context, in struct {
			Order string `json:"order"`
		}) (string, error) {
			return "refunded " + in.Order, nil
		}, agent.RequireConfirmation())
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "r1", Name: "refund", Input: json.RawMessage(`{"order":"A7"}`)}),
		bedrockkittest.TextStep("Order A7 was refunded."),
	)
	// The key signs paused runs handed out of the process; every process
	// that resumes needs the same one. Keep it secret.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{refund}, Pause: agent.PauseOptions{Key: key}}
	res, _ := a.Run(context.Background(), "s", "Refund order A7")
	for _, c := range res.Pending.Calls {
		fmt.Printf("needs %s: %s(%s)\n", c.Kind, c.Call.Name, c.Call.Input)
	}
	// In this process, a.Resume(ctx, res.Pending, ...) is enough. To ask a
	// person elsewhere, send the signed state (it holds the calls and an
	// opaque token, not the conversation) and resume with what comes back.
	state, _ := json.Marshal(res.Pending)
	var p agent.Pending
	_ = json.Unmarshal(state, &p)
	res, err := a.Resume(context.Background(), &p, agent.Approve("r1"))
	fmt.Println(res.Output, err)
	// Output:
	// needs confirm: refund({"order":"A7"})
	// Order A7 was refunded. <nil>
}

func ExampleAgent_Stream() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello there."))
	a := &agent.Agent{Model: model}
	for ev, err := range a.Stream(context.Background(), "s", "Hi") {
		if err != nil {
			panic(err)
		}
		switch e := ev.(type) {
		case agent.TextDelta:
			fmt.Printf("%q\n", e.Text)
		case agent.Finished:
			fmt.Println("done:", e.Result.Output)
		}
	}
	// Output:
	// "Hello "
	// "there."
	// done: Hello there.
}
