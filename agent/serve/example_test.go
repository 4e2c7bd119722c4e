package serve_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Serve an agent over AgentCore Runtime's HTTP contract and call it.
// In a real service: serve.ListenAndServe(ctx, h, serve.ServerOptions{}).
func Example() {
	a := &agent.Agent{
		Name:   "assistant",
		Model:  bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello! How can I help?")),
		Memory: agent.NewInMemory(),
	}
	h, err := serve.New(a, serve.Options{Authorizer: identity.Anonymous()})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	c, err := serve.NewClient(srv.URL, serve.ClientOptions{HTTPClient: srv.Client()})
	if err != nil {
		panic(err)
	}
	out, err := c.Invoke(context.Background(), serve.NewSessionID(), serve.InvocationRequest{Prompt: "Hi"})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Status, out.Output)
	// Output: success Hello! How can I help?
}
