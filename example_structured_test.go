package bedrockkit_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleGenerateValue() {
	type Weather struct {
		City    string  `json:"city"`
		Celsius float64 `json:"celsius" jsonschema:"minimum=-90,maximum=60"`
	}
	// The scripted model's first answer is out of range; the repair fixes it.
	model := bedrockkittest.NewScriptedModel(
		bedrockkittest.TextStep(`{"city":"Oslo","celsius":300}`),
		bedrockkittest.TextStep(`{"city":"Oslo","celsius":4.5}`),
	)
	w, _, err := bedrockkit.GenerateValue[Weather](context.Background(), model, &bedrockkit.Request{
		Messages: []bedrockkit.Message{bedrockkit.UserText("What is the weather in Oslo? It is 4.5 degrees.")},
	}, bedrockkit.StructuredOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.1f °C after %d answers\n", w.City, w.Celsius, model.Calls())
	// Output: Oslo: 4.5 °C after 2 answers
}

func ExampleOutputError() {
	schema, _ := bedrockkit.NewOutputSchema("order", "", []byte(`{"type":"object","properties":{"qty":{"type":"integer","minimum":1}},"required":["qty"]}`))
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(`{"qty":0}`))
	_, err := bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{MaxRepairs: -1})(model).Generate(context.Background(), &bedrockkit.Request{
		Messages: []bedrockkit.Message{bedrockkit.UserText("Order nothing.")},
		Output:   schema,
	})
	var oe *bedrockkit.OutputError
	if errors.As(err, &oe) {
		fmt.Println(oe.Path(), "-", oe.Details())
	}
	// Output: /qty - at '/qty': minimum: got 0, want 1
}
