package bedrockkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExamplePrompt() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Amazon Bedrock serves foundation models through one API."))

	resp, err := model.Generate(context.Background(), bedrockkit.Prompt("What is Amazon Bedrock?"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Message.Text())
	// Output: Amazon Bedrock serves foundation models through one API.
}

func ExampleTextStream() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello, world."))

	for text, err := range bedrockkit.TextStream(model.Stream(context.Background(), bedrockkit.Prompt("Say hello"))) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(text)
	}
	fmt.Println()
	// Output: Hello, world.
}

func ExampleModelIDOf() {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	converse, err := bedrockkit.NewConverseModel(fake.Client(), "us.amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	retried := bedrockkit.Chain(converse, bedrockkit.RetryPolicy{}.Middleware())

	fmt.Printf("%q\n", bedrockkit.ModelIDOf(retried))
	fmt.Printf("%q\n", bedrockkit.ModelIDOf(bedrockkittest.NewScriptedModel()))
	// Output:
	// "us.amazon.nova-lite-v1:0"
	// ""
}

func ExampleToolResult_print() {
	result := bedrockkit.ToolResult{CallID: "tooluse_1", Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"rate":4.5}`)}}}
	call := bedrockkit.ToolCall{ID: "tooluse_1", Name: "savings_rate", Input: json.RawMessage(`{"product":"saver"}`)}

	fmt.Printf("%+v\n", call)
	fmt.Printf("%+v\n", result)
	// Output:
	// {ID:tooluse_1 Name:savings_rate Input:{"product":"saver"}}
	// {CallID:tooluse_1 Parts:[{"rate":4.5}] IsError:false}
}

func ExampleNewConverseModel_defaultConfig() {
	// A nil client loads the default AWS configuration: the Region from
	// AWS_REGION (or ~/.aws/config) and the standard credential chain. Here
	// the environment points the SDK at a FakeBedrock.
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	defer setenvForExample(map[string]string{
		"AWS_REGION":                       "us-east-1",
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake.URL(),
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "example",
		"AWS_PROFILE":                      "",
		"AWS_BEARER_TOKEN_BEDROCK":         "",
		"AWS_EC2_METADATA_DISABLED":        "true",
	})()
	fake.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText("Hello from Bedrock.")})

	model, err := bedrockkit.NewConverseModel(nil, "us.amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for text, err := range bedrockkit.TextStream(model.Stream(context.Background(), bedrockkit.Prompt("Say hello"))) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(text)
	}
	fmt.Println()
	// Output: Hello from Bedrock.
}

// setenvForExample sets the variables and returns a function restoring
// them (examples cannot use t.Setenv).
func setenvForExample(vars map[string]string) (restore func()) {
	old := map[string]*string{}
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		_ = os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				_ = os.Unsetenv(k)
			} else {
				_ = os.Setenv(k, *v)
			}
		}
	}
}
