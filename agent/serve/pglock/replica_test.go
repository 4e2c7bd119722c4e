package pglock_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/agent/serve/pglock"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// The scale-out test runs replicas as child processes: the test binary
// started again with childEnv set runs replicaMain instead of the tests.
const (
	childEnv   = "BEDROCKKIT_SERVE_REPLICA"
	tableEnv   = "BEDROCKKIT_SERVE_TABLE"
	gateDirEnv = "BEDROCKKIT_SERVE_GATES"
)

// replicaModel answers deterministically from the conversation, so two
// processes give the same answers: "turn N (replica R): <input>", N
// counting the user's messages. An input holding "TRANSFER" calls the
// confirmation tool first; one holding "SLOW" waits, after creating the
// file started-R in the gate directory, until the file "release" exists.
type replicaModel struct {
	name  string
	gates string
}

func (m replicaModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	var inputs []string
	for _, msg := range req.Messages {
		if msg.Role != bedrockkit.RoleUser {
			continue
		}
		if _, isResult := msg.Parts[0].(bedrockkit.ToolResult); !isResult {
			inputs = append(inputs, msg.Text())
		}
	}
	last := req.Messages[len(req.Messages)-1]
	if r, ok := last.Parts[0].(bedrockkit.ToolResult); ok {
		return &bedrockkit.Response{Message: bedrockkit.AssistantText(fmt.Sprintf("turn %d (replica %s): tool said %s", len(inputs), m.name,
			bedrockkit.Message{Parts: r.Parts}.Text())), StopReason: bedrockkit.StopEndTurn}, nil
	}
	input := inputs[len(inputs)-1]
	if strings.Contains(input, "TRANSFER") {
		return &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "tx-1", Name: "transfer", Input: json.RawMessage(`{"to":"bob","amount":25}`)}}}, StopReason: bedrockkit.StopToolUse}, nil
	}
	if strings.Contains(input, "SLOW") {
		if err := os.WriteFile(filepath.Join(m.gates, "started-"+m.name), nil, 0o644); err != nil {
			return nil, err
		}
		for {
			if _, err := os.Stat(filepath.Join(m.gates, "release")); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText(fmt.Sprintf("turn %d (replica %s): %s", len(inputs), m.name, input)),
		StopReason: bedrockkit.StopEndTurn}, nil
}

func (m replicaModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		resp, err := m.Generate(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range bedrockkittest.ResponseEvents(resp, 8) {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

type transferIn struct {
	To     string `json:"to"`
	Amount int    `json:"amount"`
}

// replicaMain serves the agent until SIGTERM, printing "LISTEN <addr>"
// once it listens, and exits 0 after a graceful shutdown.
func replicaMain() int {
	ctx := context.Background()
	name := os.Getenv(childEnv)
	dsn := os.Getenv("BEDROCKKIT_PG_DSN")
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "replica %s: %v\n", name, err)
		return 2
	}
	memPool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer memPool.Close()
	lockPool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer lockPool.Close()
	mem, err := pgmemory.New(ctx, memPool, pgmemory.Options{Table: os.Getenv(tableEnv)})
	if err != nil {
		return fail(err)
	}
	locker, err := pglock.New(lockPool, pglock.Options{})
	if err != nil {
		return fail(err)
	}
	gates := os.Getenv(gateDirEnv)
	transfer := agent.MustNewFuncTool("transfer", "Move money.", func(ctx context.Context, in transferIn) (string, error) {
		// Record each run of the tool, to show it runs once.
		f, err := os.OpenFile(filepath.Join(gates, "transfers"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return "", err
		}
		defer f.Close()
		fmt.Fprintf(f, "%s %s %d\n", name, in.To, in.Amount)
		return fmt.Sprintf("sent %d to %s", in.Amount, in.To), nil
	}, agent.ToolOptions{RequireConfirmation: true})
	a := &agent.Agent{Name: "bank", Model: replicaModel{name: name, gates: gates}, Memory: mem, Tools: []*agent.Tool{transfer}}
	h, err := serve.New(a, serve.Options{Authorizer: identity.Anonymous(), Locker: locker})
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	err = serve.Serve(ctx, ln, h, serve.ServerOptions{DrainTimeout: time.Minute, OnListen: func(addr net.Addr) {
		fmt.Printf("LISTEN %s\n", addr)
	}})
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(err)
	}
	fmt.Println("DRAINED")
	return 0
}
