package policy_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// BenchmarkAuthorize measures one decision with the bank's five policies:
// building the request (principal with claims as tags, typed arguments,
// entity lookup) and evaluating the set.
func BenchmarkAuthorize(b *testing.B) {
	var runs atomic.Int32
	transfer := bankTools(&runs)[1]
	e := mustEngine(b, bankPolicies, bankOptions())
	ctx := customer(context.Background(), "C-1")
	req := agent.ToolCallRequest{Tool: transfer, Call: bedrockkit.ToolCall{Name: "transfer", Input: json.RawMessage(`{"account_id":"A-1","to":"A-2","amount":250.5}`)}}
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.AuthorizeToolCall(ctx, req)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}
