package lambdatools_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit/agent/lambdatools"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// A function-details action group whose Lambda function was written for
// Bedrock Agents, called as an agent tool. FakeLambda stands in for AWS
// Lambda; in production pass lambda.NewFromConfig(cfg).
func ExampleFunctionTools() {
	fake := bedrockkittest.StartFakeLambda()
	defer fake.Close()
	fake.AddFunction("balances", func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev lambdatools.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		return json.Marshal(lambdatools.Response{MessageVersion: "1.0", Response: lambdatools.ResponseDetail{
			ActionGroup: ev.ActionGroup, Function: ev.Function,
			FunctionResponse: &lambdatools.FunctionResponse{ResponseBody: map[string]lambdatools.ResponseText{
				"TEXT": {Body: "Account " + ev.Parameters[0].Value + " holds 120.50 EUR"}}}}})
	})
	tools, err := lambdatools.FunctionTools(fake.Client(), lambdatools.Options{FunctionName: "balances", ActionGroup: "AccountsGroup"},
		lambdatools.Function{Name: "get_balance", Description: "Balance of an account",
			Parameters: map[string]lambdatools.ParameterDetail{"account_id": {Type: "string", Required: true}}})
	if err != nil {
		panic(err)
	}
	out, err := tools[0].Call(context.Background(), json.RawMessage(`{"account_id":"A-1"}`))
	fmt.Println(out, err)
	// Output: [{Account A-1 holds 120.50 EUR}] <nil>
}
