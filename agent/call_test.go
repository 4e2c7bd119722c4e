package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type addIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

func TestToolCall(t *testing.T) {
	ran := 0
	add := agent.MustNewFuncTool("add", "Add two integers", func(ctx context.Context, in addIn) (int, error) {
		ran++
		return in.A + in.B, nil
	})
	ctx := context.Background()

	parts, err := add.Call(ctx, json.RawMessage(`{"a":2,"b":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := (bedrockkit.Message{Parts: parts}).Text(); got != "5" || ran != 1 {
		t.Fatalf("Call = %q (ran %d), want \"5\" (ran 1)", got, ran)
	}

	for _, in := range []string{`{"a":"two","b":3}`, `{"a":1}`, `{"a":1,"b":2,"c":3}`, `not json`, `[1,2]`} {
		_, err := add.Call(ctx, json.RawMessage(in))
		var ce *agent.CallError
		if !errors.Is(err, agent.ErrInvalidToolCall) || !errors.As(err, &ce) || ce.Tool != "add" {
			t.Errorf("Call(%s) error = %v, want a *CallError for tool add", in, err)
		}
	}
	if ran != 1 {
		t.Fatalf("the tool ran %d times; invalid input must not run it", ran)
	}

	// Empty input is {}: a tool without required arguments runs.
	ping := agent.MustNewFuncTool("ping", "Ping", func(ctx context.Context, in struct{}) (string, error) { return "pong", nil })
	if parts, err := ping.Call(ctx, nil); err != nil || (bedrockkit.Message{Parts: parts}).Text() != "pong" {
		t.Fatalf("Call(nil) = %v, %v; want pong", parts, err)
	}
}

func TestToolCallErrors(t *testing.T) {
	ctx := context.Background()
	sentinel := errors.New("upstream is down")
	failing := mustTool(agent.NewTool("failing", "", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) {
		return nil, sentinel
	}))
	if _, err := failing.Call(ctx, nil); !errors.Is(err, sentinel) {
		t.Errorf("tool error = %v, want the tool's own error", err)
	}

	panicky := mustTool(agent.NewTool("panicky", "", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) {
		panic("boom")
	}))
	if _, err := panicky.Call(ctx, nil); err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("panic error = %v, want it recovered and reported", err)
	}

	slow := mustTool(agent.NewTool("slow", "", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, agent.ToolOptions{Timeout: time.Millisecond}))
	if _, err := slow.Call(ctx, nil); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `tool "slow" timed out after 1ms`) {
		t.Errorf("timeout error = %v, want the tool's timeout", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := slow.Call(cctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call error = %v, want context.Canceled", err)
	}

	rc := mustTool(agent.NewReturnControlTool("lookup", "", nil))
	if _, err := rc.Call(ctx, nil); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("ReturnControl Call error = %v, want ErrInvalidInput", err)
	}

	var unbuilt agent.Tool
	if _, err := unbuilt.Call(ctx, nil); !errors.Is(err, agent.ErrInvalidTool) {
		t.Errorf("unbuilt tool Call error = %v, want ErrInvalidTool", err)
	}
}

// A tool whose function calls another tool reports that tool's failure as
// its own: the agent does not mistake it for its own panic or bad arguments.
func TestNestedToolErrorsAreTheOuterToolsFailure(t *testing.T) {
	inner := mustTool(agent.NewTool("inner", "", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) {
		panic("inner boom")
	}))
	outer := mustTool(agent.NewTool("outer", "", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		_, err := inner.Call(ctx, json.RawMessage(`{}`))
		return nil, fmt.Errorf("inner failed: %w", err)
	}))
	var events []agent.ToolCalled
	a := &agent.Agent{
		Model: bedrockkittest.NewScriptedModel(
			bedrockkittest.ToolStep(call("1", "outer", `{}`)),
			bedrockkittest.TextStep("done"),
		),
		Tools: []*agent.Tool{outer},
		OnEvent: func(ev agent.RunEvent) {
			if tc, ok := ev.(agent.ToolCalled); ok {
				events = append(events, tc)
			}
		},
	}
	if _, err := a.Run(context.Background(), "s", "go"); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Panicked || !strings.Contains(resultText(events[0].Result), `tool "outer" failed: inner failed`) {
		t.Fatalf("events = %+v", events)
	}
}

func ExampleTool_Call() {
	add := agent.MustNewFuncTool("add", "Add two integers", func(ctx context.Context, in addIn) (int, error) {
		return in.A + in.B, nil
	})
	parts, err := add.Call(context.Background(), json.RawMessage(`{"a":2,"b":3}`))
	fmt.Println(bedrockkit.Message{Parts: parts}.Text(), err)

	// Arguments are checked against the schema first; the function does not run.
	_, err = add.Call(context.Background(), json.RawMessage(`{"a":"two","b":3}`))
	fmt.Println(errors.Is(err, agent.ErrInvalidToolCall))
	fmt.Println(err)
	// Output:
	// 5 <nil>
	// true
	// invalid call to tool "add": at '/a': got string, want integer
}

// A pending state edited outside the process cannot smuggle other
// arguments into an approved call: even with signatures switched off, the
// state must match the stored pause, and the tool does not run.
func TestResumeRefusesEditedArguments(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":10}`)),
		bedrockkittest.TextStep("The transfer was refused."),
	)
	mem := agent.NewInMemory()
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs)}}
	res, err := a.Run(context.Background(), "s", "send bob 10")
	if err != nil || !res.Paused() {
		t.Fatalf("want a pause, got %+v, %v", res, err)
	}
	state, _ := json.Marshal(res.Pending)
	if !strings.Contains(string(state), `"amount":10`) {
		t.Fatalf("state does not hold the call's arguments: %s", state)
	}
	state = []byte(strings.ReplaceAll(string(state), `"amount":10`, `"amount":-5`))
	var p agent.Pending
	if err := json.Unmarshal(state, &p); err != nil {
		t.Fatal(err)
	}
	b := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs)}, Pause: agent.PauseOptions{InsecureAllowUnsigned: true}}
	if _, err := b.Resume(context.Background(), &p, agent.Approve("t1")); !errors.Is(err, agent.ErrPendingTampered) {
		t.Fatalf("want ErrPendingTampered, got %v", err)
	}
	if runs.Load() != 0 {
		t.Fatal("the tool ran with edited arguments")
	}
}
