package agent_test

// Timeouts are real (issue 14, item 8): a tool that ignores its context
// cannot hold a run past its timeout.

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// stuckTool returns a tool that ignores its context and blocks until
// release is closed, then does what after says.
func stuckTool(name string, release <-chan struct{}, after func() ([]bedrockkit.Part, error), opts ...agent.ToolOptions) *agent.Tool {
	return mustTool(agent.NewTool(name, "Blocks, ignoring its context", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		<-release
		return after()
	}, opts...))
}

// hangGuard fails the test if fn does not return within a minute: it
// detects a hang, it does not measure time.
func hangGuard[T any](t *testing.T, what string, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return: the stuck tool blocked it", what)
		panic("unreachable")
	}
}

type runOutcome struct {
	res *agent.RunResult
	err error
}

// waitAbandoned waits until t reports no abandoned call still running.
func waitAbandoned(t *testing.T, tool *agent.Tool) {
	t.Helper()
	for i := 0; tool.Abandoned() != 0; i++ {
		if i > 6000 {
			t.Fatalf("the abandoned call of %s never finished after its tool returned", tool.Name())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStuckToolTimesOutAndRunContinues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func() ([]bedrockkit.Part, error)
	}{
		{"returns", func() ([]bedrockkit.Part, error) { return []bedrockkit.Part{bedrockkit.Text{Text: "late"}}, nil }},
		{"errors", func() ([]bedrockkit.Part, error) { return nil, errors.New("late failure") }},
		{"panics", func() ([]bedrockkit.Part, error) { panic("late panic") }},
		{"goexits", func() ([]bedrockkit.Part, error) { runtime.Goexit(); return nil, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			release := make(chan struct{})
			stuck := stuckTool("stuck", release, tc.after)
			var events []agent.ToolCalled
			m := bedrockkittest.NewScriptedModel(
				bedrockkittest.ToolStep(call("s1", "stuck", `{}`)),
				bedrockkittest.TextStep("the tool timed out"),
			)
			a := &agent.Agent{Model: m, Tools: []*agent.Tool{stuck}, Limits: agent.Limits{ToolTimeout: 20 * time.Millisecond},
				OnEvent: func(ev agent.RunEvent) {
					if tc, ok := ev.(agent.ToolCalled); ok {
						events = append(events, tc)
					}
				}}
			out := hangGuard(t, "Run", func() runOutcome {
				res, err := a.Run(context.Background(), "s", "go")
				return runOutcome{res, err}
			})
			if out.err != nil || out.res.Output != "the tool timed out" {
				t.Fatalf("run: %v %+v", out.err, out.res)
			}
			rs := lastResults(t, m)
			if len(rs) != 1 || !rs[0].IsError || !strings.Contains(resultText(rs[0]), "timed out after 20ms") {
				t.Fatalf("the model was not told of the timeout: %+v", rs)
			}
			if len(events) != 1 || !events[0].Abandoned {
				t.Fatalf("ToolCalled does not report the abandoned call: %+v", events)
			}
			if stuck.Abandoned() != 1 {
				t.Fatalf("Tool.Abandoned = %d while the tool is stuck, want 1", stuck.Abandoned())
			}
			// The tool finally returns: its goroutine ends and its result is
			// dropped (goleak checks the goroutine is gone).
			close(release)
			waitAbandoned(t, stuck)
		})
	}
}

// Several stuck calls of one turn, run in parallel, all time out.
func TestStuckParallelToolsTimeOut(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	stuck := stuckTool("stuck", release, func() ([]bedrockkit.Part, error) { return nil, nil })
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("a", "stuck", `{}`), call("b", "stuck", `{}`), call("c", "echo", `{"city":"Oslo"}`)),
		bedrockkittest.TextStep("done"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{stuck, echoTool()}, Limits: agent.Limits{ToolTimeout: 20 * time.Millisecond, Parallelism: 2}}
	out := hangGuard(t, "Run", func() runOutcome {
		res, err := a.Run(context.Background(), "s", "go")
		return runOutcome{res, err}
	})
	if out.err != nil {
		t.Fatal(out.err)
	}
	rs := lastResults(t, m)
	if len(rs) != 3 || !rs[0].IsError || !rs[1].IsError || rs[2].IsError || resultText(rs[2]) != "Oslo" {
		t.Fatalf("results: %+v", rs)
	}
	if stuck.Abandoned() != 2 {
		t.Fatalf("Abandoned = %d, want 2", stuck.Abandoned())
	}
	close(release)
	waitAbandoned(t, stuck)
}

// Without any timeout, cancelling the run's context still frees it from a
// stuck tool.
func TestCancelFreesRunFromStuckTool(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	stuck := mustTool(agent.NewTool("stuck", "", nil, func(ctx context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) {
		once.Do(func() { close(entered) })
		<-release
		return nil, nil
	}))
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("s1", "stuck", `{}`)))
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{stuck}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	out := hangGuard(t, "Run", func() runOutcome {
		res, err := a.Run(ctx, "s", "go")
		return runOutcome{res, err}
	})
	if !errors.Is(out.err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", out.err)
	}
	close(release)
	waitAbandoned(t, stuck)
}

// Tool.Call honours the tool's timeout the same way.
func TestToolCallAbandonsStuckTool(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	stuck := stuckTool("stuck", release, func() ([]bedrockkit.Part, error) { return nil, nil }, agent.ToolOptions{Timeout: 20 * time.Millisecond})
	err := hangGuard(t, "Tool.Call", func() error {
		_, err := stuck.Call(context.Background(), nil)
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 20ms") {
		t.Fatalf("want the timeout error, got %v", err)
	}
	close(release)
	waitAbandoned(t, stuck)
}
