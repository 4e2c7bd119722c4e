package bedrockkittest_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleScriptedModel() {
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: "t1", Name: "get_time", Input: json.RawMessage(`{"tz":"UTC"}`)}),
		bedrockkittest.TextStep("It is noon."),
	)
	ctx := context.Background()

	first, _ := model.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What time is it?")}})
	fmt.Println(first.StopReason, first.Message.ToolCalls()[0].Name)

	var chunks []string
	for ev, err := range model.Stream(ctx, &bedrockkit.Request{}) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		if d, ok := ev.(bedrockkit.TextDelta); ok {
			chunks = append(chunks, d.Text)
		}
	}
	fmt.Printf("%q\n", chunks)

	_, err := model.Generate(ctx, &bedrockkit.Request{})
	fmt.Println(err)
	fmt.Println("calls:", model.Calls(), "first question:", model.Requests()[0].Messages[0].Text())
	// Output:
	// tool_use get_time
	// ["It " "is " "noon."]
	// bedrockkittest: Generate call 3 but only 2 step(s) scripted; Push more steps or check for an unexpected model call: bedrockkittest: script exhausted
	// calls: 3 first question: What time is it?
}

func ExampleHashEmbedder() {
	emb := bedrockkittest.NewHashEmbedder(256)
	vecs, _ := emb.Embed(context.Background(), []string{
		"How do I reset my password?",
		"Steps to reset a forgotten password",
		"Quarterly revenue grew in Europe",
	}, bedrockkit.PurposeDocument)

	dot := func(a, b []float32) (s float32) {
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	// Vectors have unit length, so the dot product is the cosine similarity.
	fmt.Println(dot(vecs[0], vecs[1]) > dot(vecs[0], vecs[2]))
	fmt.Println(len(vecs[0]), emb.Dimensions())
	// Output:
	// true
	// 256 256
}
