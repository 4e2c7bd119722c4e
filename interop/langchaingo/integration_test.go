package langchaingo_test

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent"
	lcgo "github.com/bedrockkit/bedrockkit/interop/langchaingo"
)

// A bedrockkit agent runs its tool loop on langchaingo's OpenAI client.
func TestAgentOnLangchaingoModel(t *testing.T) {
	srv := newFakeOpenAI(t)
	srv.push(jsonReply(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_balance","arguments":"{\"account\":\"A-1\"}"}}]}`,
		"tool_calls", `{"prompt_tokens":40,"completion_tokens":8,"total_tokens":48}`))
	srv.push(jsonReply(`{"role":"assistant","content":"Account A-1 holds 12 dollars."}`, "stop", `{"prompt_tokens":60,"completion_tokens":9,"total_tokens":69}`))

	type in struct {
		Account string `json:"account"`
	}
	var asked string
	balance := agent.MustNewFuncTool("get_balance", "Balance of an account", func(_ context.Context, x in) (string, error) {
		asked = x.Account
		return "12 dollars", nil
	})
	a := &agent.Agent{Model: lcgo.FromLLM(srv.llm(t), lcgo.Options{}), Instructions: "You are a bank assistant.", Tools: []*agent.Tool{balance}}
	res, err := a.Run(context.Background(), "s1", "How much is in A-1?")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "Account A-1 holds 12 dollars." || asked != "A-1" {
		t.Fatalf("output %q, tool asked %q", res.Output, asked)
	}
	if res.Usage.InputTokens != 100 || res.Usage.OutputTokens != 17 {
		t.Fatalf("usage %+v", res.Usage)
	}
	msgs := jsonString(srv.body(1)["messages"])
	if !contains(msgs, `"tool_call_id":"call_1"`) || !contains(msgs, `12 dollars`) {
		t.Fatalf("tool result not sent back: %s", msgs)
	}
}
