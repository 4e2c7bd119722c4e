package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type whichIn struct {
	Which string `json:"which"`
}

// nestedTools returns a tool "outer" whose function calls one of three
// inner tools with Tool.Call and returns the inner error as it is (not
// wrapped): a schema refusal, a panic or a timeout of the inner call.
func nestedTools() *agent.Tool {
	strict := agent.MustNewFuncTool("strict", "Needs a city", func(ctx context.Context, in cityIn) (string, error) { return in.City, nil })
	boom := mustTool(agent.NewTool("boom", "Panics", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) { panic("inner boom") }))
	slow := mustTool(agent.NewTool("slow", "Times out", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, agent.ToolOptions{Timeout: time.Millisecond}))
	return agent.MustNewFuncTool("outer", "Calls another tool", func(ctx context.Context, in whichIn) (string, error) {
		var err error
		switch in.Which {
		case "refused":
			_, err = strict.Call(ctx, json.RawMessage(`{"town":"x"}`))
		case "panic":
			_, err = boom.Call(ctx, nil)
		case "timeout":
			_, err = slow.Call(ctx, nil)
		}
		return "", err
	})
}

// Errors an inner Tool.Call returned to the outer tool's function are the
// outer tool's own failure: not a refusal of the outer call, not a panic
// or timeout of the outer tool.
func TestNestedToolErrorsAreTheToolsOwnFailure(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			call("c1", "outer", `{"which":"refused"}`),
			call("c2", "outer", `{"which":"panic"}`),
			call("c3", "outer", `{"which":"timeout"}`),
		),
		bedrockkittest.TextStep("done"),
	)
	var mu sync.Mutex
	var called []agent.ToolCalled
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{nestedTools()}, OnEvent: func(e agent.RunEvent) {
		if tc, ok := e.(agent.ToolCalled); ok {
			mu.Lock()
			called = append(called, tc)
			mu.Unlock()
		}
	}}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil || res.Output != "done" {
		t.Fatalf("run: %v %+v", err, res)
	}
	rs := lastResults(t, m)
	if len(rs) != 3 {
		t.Fatalf("results %+v", rs)
	}
	inner := []string{`invalid call to tool "strict"`, `tool "boom" panicked: inner boom`, `tool "slow" timed out after 1ms`}
	for i, r := range rs {
		text := resultText(r)
		if !r.IsError || !strings.HasPrefix(text, `tool "outer" failed: `) || !strings.Contains(text, inner[i]) {
			t.Errorf("result %d = %q, want the outer tool's failure carrying %q", i, text, inner[i])
		}
		for _, wrong := range []string{"Correct the call", "failed unexpectedly", `tool "outer" timed out`} {
			if strings.Contains(text, wrong) {
				t.Errorf("result %d = %q, misclassified (%q)", i, text, wrong)
			}
		}
	}
	if len(called) != 3 {
		t.Fatalf("%d ToolCalled events", len(called))
	}
	for _, tc := range called {
		if tc.Panicked {
			t.Errorf("call %s reported as a panic of the outer tool", tc.Call.ID)
		}
	}
}

// The outer call's own refusal, panic and timeout are still reported as
// such, next to the nested ones.
func TestOwnToolFailuresStillClassified(t *testing.T) {
	boom := mustTool(agent.NewTool("boom", "Panics", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) { panic("own boom") }))
	slow := mustTool(agent.NewTool("slow", "Times out", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, agent.ToolOptions{Timeout: time.Millisecond}))
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "boom", `{}`), call("c2", "slow", `{}`), call("c3", "outer", `{"which":"panic"}`)),
		bedrockkittest.TextStep("done"),
	)
	var mu sync.Mutex
	panicked := map[string]bool{}
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{boom, slow, nestedTools()}, OnEvent: func(e agent.RunEvent) {
		if tc, ok := e.(agent.ToolCalled); ok {
			mu.Lock()
			panicked[tc.Call.ID] = tc.Panicked
			mu.Unlock()
		}
	}}
	if _, err := a.Run(context.Background(), "s", "go"); err != nil {
		t.Fatal(err)
	}
	rs := lastResults(t, m)
	if len(rs) != 3 || !strings.Contains(resultText(rs[0]), `tool "boom" failed unexpectedly (it panicked: own boom)`) ||
		resultText(rs[1]) != `tool "slow" timed out after 1ms` {
		t.Fatalf("results %q / %q", resultText(rs[0]), resultText(rs[1]))
	}
	if !panicked["c1"] || panicked["c2"] || panicked["c3"] {
		t.Fatalf("Panicked per call %v, want only c1", panicked)
	}
}

// A recovered panic matches the exported ErrToolPanicked, so Tool.Call
// users can detect it; a tool's ordinary error does not.
func TestToolPanicSentinel(t *testing.T) {
	ctx := context.Background()
	boom := mustTool(agent.NewTool("boom", "", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) { panic("x") }))
	if _, err := boom.Call(ctx, nil); !errors.Is(err, agent.ErrToolPanicked) || !strings.Contains(err.Error(), `tool "boom" panicked: x`) {
		t.Fatalf("panic: %v", err)
	}
	failing := mustTool(agent.NewTool("failing", "", nil, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) {
		return nil, errors.New("panicked? no, just failed")
	}))
	if _, err := failing.Call(ctx, nil); err == nil || errors.Is(err, agent.ErrToolPanicked) {
		t.Fatalf("ordinary error: %v", err)
	}
}
