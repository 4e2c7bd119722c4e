package agent_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type weatherIn struct {
	City string `json:"city" description:"City name, e.g. Paris"`
	Unit string `json:"unit,omitempty" jsonschema:"enum=celsius|fahrenheit"`
}

func Example() {
	weather := agent.MustNewFuncTool("get_weather", "Current weather for a city",
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
	refund := agent.MustNewFuncTool("refund", "Refund an order",
		func(ctx context.Context, in struct {
			Order string `json:"order"`
		}) (string, error) {
			return "refunded " + in.Order, nil
		}, agent.ToolOptions{RequireConfirmation: true})
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
		case agent.ModelText:
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

func ExampleRunValue() {
	type Transfer struct {
		To       string  `json:"to"`
		Amount   float64 `json:"amount" jsonschema:"minimum=0.01"`
		Currency string  `json:"currency" jsonschema:"enum=EUR|USD"`
	}
	rate := agent.MustNewFuncTool("exchange_rate", "EUR per USD today",
		func(ctx context.Context, in struct{}) (string, error) { return "0.92", nil })
	// The scripted model calls the tool, answers with an invalid value (a
	// currency outside the enum), is asked to repair it, then answers.
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "1", Name: "exchange_rate", Input: json.RawMessage(`{}`)}),
		bedrockkittest.TextStep(`{"to":"Ana","amount":46,"currency":"eur"}`),
		bedrockkittest.TextStep(`{"to":"Ana","amount":46,"currency":"EUR"}`),
	)
	out, err := bedrockkit.OutputSchemaFor[Transfer]("A money transfer to make.")
	if err != nil {
		panic(err)
	}
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{rate}, Output: out}
	tr, res, err := agent.RunValue[Transfer](context.Background(), a, "s", "Send Ana 50 dollars, in euros.")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v after %d agent steps and %d model calls\n", tr, res.Iterations, model.Calls())
	// Output:
	// {To:Ana Amount:46 Currency:EUR} after 2 agent steps and 3 model calls
}

// With a Guardrail, Stream sends no text the guardrail has not checked:
// each model call's text is held until the call ends and then sent once,
// guarded (here the e-mail address masked).
func ExampleAgent_Stream_guardrail() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Write to sam@shop.example."))
	mask := agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		if stage == agent.StageOutput && strings.Contains(text, "@") {
			return agent.Intervention{Text: "Write to {EMAIL}."}, nil
		}
		return agent.Intervention{}, nil
	})
	a := &agent.Agent{Model: model, Guardrail: mask}
	for ev, err := range a.Stream(context.Background(), "s", "Who do I write to?") {
		if err != nil {
			panic(err)
		}
		if e, ok := ev.(agent.ModelText); ok {
			fmt.Printf("%q\n", e.Text)
		}
	}
	// Output:
	// "Write to {EMAIL}."
}
