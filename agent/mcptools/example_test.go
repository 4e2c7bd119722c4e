package mcptools_test

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/mcptools"
)

func ExampleTools() {
	ctx := context.Background()
	// An in-process server stands in for a real one; in production connect
	// with &mcp.CommandTransport{Command: exec.Command("my-server")} (stdio)
	// or &mcp.StreamableClientTransport{Endpoint: "https://..."}.
	serverT, clientT := mcp.NewInMemoryTransports()
	ss, _ := newServer().Connect(ctx, serverT, nil)
	session, err := mcp.NewClient(&mcp.Implementation{Name: "my-app", Version: "1.0"}, nil).Connect(ctx, clientT, nil)
	if err != nil {
		panic(err)
	}
	defer func() { session.Close(); ss.Wait() }()

	tools, err := mcptools.Tools(ctx, session, mcptools.Options{ConfirmDestructive: true})
	if err != nil {
		panic(err)
	}
	for _, t := range tools {
		fmt.Println(t.Name(), "confirm:", t.NeedsConfirmation())
	}
	_ = &agent.Agent{Tools: tools} // give them to an agent
	// Output:
	// math_add confirm: false
	// wipe confirm: true
}
