package a2aserve_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve/a2aserve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Serve an agent over A2A and talk to it as a remote agent.
func Example() {
	a := &agent.Agent{Name: "greeter", Memory: agent.NewInMemory(),
		Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello from A2A!"))}
	srv := httptest.NewUnstartedServer(nil)
	h, err := a2aserve.New(a, a2aserve.Options{Authorizer: identity.Anonymous(), URL: "http://" + srv.Listener.Addr().String() + "/"})
	if err != nil {
		panic(err)
	}
	srv.Config.Handler = h
	srv.Start()
	defer srv.Close()

	r, err := a2aserve.NewRemoteAgent(context.Background(), srv.URL, a2aserve.RemoteOptions{HTTPClient: srv.Client()})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	answer, err := r.Send(context.Background(), "conversation-1", "Hi")
	fmt.Println(r.Card.Name, answer, err)
	// Output: greeter Hello from A2A! <nil>
}
