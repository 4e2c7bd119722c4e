package gateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/gateway"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// Serve a Go function as the MCP tool "bank___balance" and call it with
// the official MCP client. In production pass an identity.JWTAuthorizer
// instead of identity.Anonymous.
func Example() {
	balance := agent.MustNewFuncTool("balance", "Balance of an account", func(ctx context.Context, in struct {
		AccountID string `json:"account_id"`
	}) (string, error) {
		return in.AccountID + ": 120.50 EUR", nil
	})
	g, err := gateway.New(gateway.Options{}, gateway.Target{Name: "bank", Tools: []*agent.Tool{balance}})
	if err != nil {
		panic(err)
	}
	defer g.Close()
	srv := httptest.NewServer(g.Handler(identity.Anonymous(), identity.RequireOptions{}))
	defer srv.Close()

	client := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: srv.URL}, nil)
	if err != nil {
		panic(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "bank___balance", Arguments: map[string]any{"account_id": "A-1"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(g.Tools(), res.Content[0].(*mcp.TextContent).Text, res.IsError)
	// Output: [bank___balance] A-1: 120.50 EUR false
}
