package agentcore_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/agentcore"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleNew() {
	// In production: agentcore.New(bedrockagentcore.NewFromConfig(cfg), agentcore.Options{}).
	// Here the test kit's fake AgentCore answers, with an executor standing
	// in for the service's Python.
	fake := bedrockkittest.StartFakeCodeInterpreter()
	defer fake.Close()
	fake.SetExecutor(func(c bedrockkittest.CodeCall) bedrockkittest.CodeReply {
		return bedrockkittest.CodeReply{Stdout: fmt.Sprintf("ran %d bytes of %s with %d file(s)\n", len(c.Code), c.Language, len(c.Files))}
	})

	ctx := context.Background()
	interp := agentcore.New(fake.Client(), agentcore.Options{})
	sb, err := interp.Start(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)
	_ = sb.WriteFiles(ctx, codeinterp.File{Path: "tx.csv", Content: []byte("amount\n12.5\n")})
	ex, err := sb.Execute(ctx, "import pandas as pd\nprint(pd.read_csv('tx.csv').amount.sum())")
	if err != nil {
		panic(err)
	}
	fmt.Print(ex.Stdout)
	// Output:
	// ran 61 bytes of python with 1 file(s)
}
