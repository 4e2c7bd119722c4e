package policy_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/policy"
)

// FuzzLoad feeds arbitrary policy text to Load: it never panics, and a
// failed load leaves the policies in force unchanged.
func FuzzLoad(f *testing.F) {
	f.Add(bankPolicies)
	f.Add(`permit(principal, action, resource) when { context.input.x == };`)
	f.Add(`@id("") permit(principal, action, resource);`)
	f.Add(`forbid(principal, action, resource) unless { [1,2,3].containsAll([`)
	f.Add(`permit(principal is A::"b", action in [X::"y"], resource) when { decimal("1.23456") };`)
	f.Fuzz(func(t *testing.T, text string) {
		e, err := policy.New([]byte(bankPolicies), policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Load([]byte(text)); err != nil {
			if string(e.Policies()) != bankPolicies {
				t.Fatal("a failed load changed the policies")
			}
			return
		}
		if string(e.Policies()) != text {
			t.Fatal("a successful load did not take effect")
		}
	})
}

// FuzzArguments decides calls with arbitrary arguments: never a panic, and
// either a decision or an error, never an allow from an engine with no
// permit.
func FuzzArguments(f *testing.F) {
	f.Add(`{"account_id":"A-1","to":"x","amount":12.5}`)
	f.Add(`{"account_id":"A-1","amount":1e308}`)
	f.Add(`{"account_id":"A-1","amount":-0.00001}`)
	f.Add(`{"account_id":"A-1","amount":123456789012345678901234567890}`)
	f.Add(`{"account_id":"A-1","nested":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`)
	f.Add(`{"account_id":["A-1"],"x":null,"y":[null]}`)
	f.Add(`{"account_id":"A-1"} trailing`)
	lookup := agent.MustNewFuncTool("transfer", "t", func(ctx context.Context, in map[string]any) (string, error) { return "", nil })
	e, err := policy.New([]byte(`forbid(principal, action, resource) when { context.input.amount.greaterThan(decimal("1.0")) };`), bankOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input string) {
		d, err := e.AuthorizeToolCall(teller(context.Background()), agent.ToolCallRequest{Tool: lookup, Call: bedrockkit.ToolCall{Name: "transfer", Input: json.RawMessage(input)}})
		if err == nil && d.Allowed {
			t.Fatalf("allowed with no permit policy: %s", input)
		}
	})
}
