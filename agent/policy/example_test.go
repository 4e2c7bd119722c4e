package policy_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/policy"
)

// A teller may look up any account; everyone else is denied by default.
func Example() {
	engine, err := policy.New([]byte(`
@id("tellers")
permit(principal, action == AgentCore::Action::"get_account", resource)
when { principal.hasTag("role") && principal.getTag("role") == "teller" };`), policy.Options{})
	if err != nil {
		panic(err)
	}
	lookup := agent.MustNewFuncTool("get_account", "Look up an account", func(ctx context.Context, in struct {
		AccountID string `json:"account_id"`
	}) (string, error) {
		return "balance: 100", nil
	})
	// In a server the verified caller comes from identity.Require.
	ctx := identity.WithCaller(context.Background(), &identity.Caller{Subject: "t-1", Claims: map[string]any{"role": "teller"}})
	out, d, err := agent.CallAuthorized(ctx, engine, lookup, json.RawMessage(`{"account_id":"A-1"}`))
	fmt.Println(d.Allowed, d.Policies, out, err)

	ctx = identity.WithCaller(context.Background(), &identity.Caller{Subject: "c-1", Claims: map[string]any{"role": "customer"}})
	_, d, err = agent.CallAuthorized(ctx, engine, lookup, json.RawMessage(`{"account_id":"A-1"}`))
	fmt.Println(d.Allowed, d.Reason)
	fmt.Println(err != nil)
	// Output:
	// true [tellers] [{balance: 100}] <nil>
	// false no policy permits this call
	// true
}
