package pgmemory_test

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// An agent whose sessions live in PostgreSQL: any process using the same
// table continues the conversation. (Compiled, not run: it needs a server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	mem, err := pgmemory.New(ctx, pool, pgmemory.Options{Table: "agent_sessions"})
	if err != nil {
		panic(err)
	}
	a := &agent.Agent{
		Model:  bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello Ana.")),
		Memory: mem,
	}
	res, err := a.Run(ctx, "user/ana", "Hi, I am Ana.")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Output)
}

// Options are validated before the pool is used.
func ExampleNew_options() {
	pool, _ := pgxpool.New(context.Background(), "postgres://localhost/none") // connects lazily
	defer pool.Close()
	_, err := pgmemory.New(context.Background(), pool, pgmemory.Options{Table: "Agent-Sessions"})
	fmt.Println(err)
	// Output:
	// pgmemory: table name "Agent-Sessions" must be lower-case letters, digits and underscores, at most 48 characters, not starting with a digit: bedrockkit: invalid input
}
