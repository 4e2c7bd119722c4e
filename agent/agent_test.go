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

type cityIn struct {
	City string `json:"city" description:"City name"`
	Unit string `json:"unit,omitempty" jsonschema:"enum=c|f"`
}

func call(id, name, input string) bedrockkit.ToolCall {
	return bedrockkit.ToolCall{ID: id, Name: name, Input: json.RawMessage(input)}
}

// lastResults returns the tool results of the last message of the model's
// last request.
func lastResults(t *testing.T, m *bedrockkittest.ScriptedModel) []bedrockkit.ToolResult {
	t.Helper()
	reqs := m.Requests()
	msgs := reqs[len(reqs)-1].Messages
	var out []bedrockkit.ToolResult
	for _, p := range msgs[len(msgs)-1].Parts {
		if r, ok := p.(bedrockkit.ToolResult); ok {
			out = append(out, r)
		}
	}
	return out
}

func resultText(r bedrockkit.ToolResult) string {
	var b strings.Builder
	for _, p := range r.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.Write(p.Value)
		}
	}
	return b.String()
}

// TestParallelTools: two calls in one turn run at the same time. Each tool
// waits at a barrier for the other, so a sequential loop would never get past
// it (the barrier gives up after a long timeout and the test fails). The
// first call finishes last, yet results come back in call order.
func TestParallelTools(t *testing.T) {
	secondDone := make(chan struct{})
	var started atomic.Int32
	bothStarted := make(chan struct{})
	wait := func(ctx context.Context) error {
		if started.Add(1) == 2 {
			close(bothStarted)
		}
		select {
		case <-bothStarted:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("the other tool never started: calls are not parallel")
		}
	}
	weather := agent.MustNewFuncTool("weather", "Current weather", func(ctx context.Context, in cityIn) (string, error) {
		if err := wait(ctx); err != nil {
			return "", err
		}
		<-secondDone // finish after the second call
		return "sunny in " + in.City, nil
	})
	clock := agent.MustNewFuncTool("clock", "Local time", func(ctx context.Context, in cityIn) (map[string]string, error) {
		if err := wait(ctx); err != nil {
			return nil, err
		}
		defer close(secondDone)
		return map[string]string{"time": "12:00", "city": in.City}, nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "weather", `{"city":"Paris"}`), call("c2", "clock", `{"city":"Paris","unit":"c"}`)),
		bedrockkittest.TextStep("Sunny, noon."),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{weather, clock}}
	res, err := a.Run(context.Background(), "s1", "weather and time in Paris?")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "Sunny, noon." || res.Iterations != 2 {
		t.Fatalf("got %q after %d iterations", res.Output, res.Iterations)
	}
	rs := lastResults(t, m)
	if len(rs) != 2 || rs[0].CallID != "c1" || rs[1].CallID != "c2" {
		t.Fatalf("results not in call order: %+v", rs)
	}
	if rs[0].IsError || resultText(rs[0]) != "sunny in Paris" {
		t.Fatalf("weather result: %+v", rs[0])
	}
	if _, ok := rs[1].Parts[0].(bedrockkit.JSON); !ok || !strings.Contains(resultText(rs[1]), `"time":"12:00"`) {
		t.Fatalf("clock result: %+v", rs[1])
	}
}

func echoTool() *agent.Tool {
	return agent.MustNewFuncTool("echo", "Echo the city", func(ctx context.Context, in cityIn) (string, error) {
		return in.City, nil
	})
}

func TestMaxIterations(t *testing.T) {
	var steps []bedrockkittest.Step
	for i := range 3 {
		steps = append(steps, bedrockkittest.ToolStep(call("c"+string(rune('a'+i)), "echo", `{"city":"x"}`)))
	}
	m := bedrockkittest.NewScriptedModel(steps...)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}, Limits: agent.Limits{MaxIterations: 3}}
	res, err := a.Run(context.Background(), "s", "loop forever")
	if !errors.Is(err, agent.ErrMaxIterations) {
		t.Fatalf("want ErrMaxIterations, got %v", err)
	}
	var le *agent.LimitError
	if !errors.As(err, &le) || le.Value != 3 || !strings.Contains(err.Error(), "MaxIterations") {
		t.Fatalf("want a LimitError naming the limit, got %v", err)
	}
	if res == nil || res.Iterations != 3 || len(res.Messages) != 6 {
		t.Fatalf("want the partial result (3 iterations, 6 messages), got %+v", res)
	}
	if m.Calls() != 3 {
		t.Fatalf("model called %d times, want 3", m.Calls())
	}
	// The failed turn is not committed to the session.
	s, err := a.Memory, error(nil)
	_ = s
	_ = err
}

func TestDefaultMaxIterationsIsTen(t *testing.T) {
	m := bedrockkittest.NewScriptedModel()
	for i := range 11 {
		m.Push(bedrockkittest.ToolStep(call(strings.Repeat("i", i+1), "echo", `{"city":"x"}`)))
	}
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}}
	_, err := a.Run(context.Background(), "s", "loop")
	if !errors.Is(err, agent.ErrMaxIterations) || m.Calls() != 10 {
		t.Fatalf("err=%v calls=%d, want ErrMaxIterations after 10 calls", err, m.Calls())
	}
}

func TestPanickingToolIsRecovered(t *testing.T) {
	boom := agent.MustNewFuncTool("boom", "Explodes", func(ctx context.Context, in cityIn) (string, error) {
		var m map[string]int
		m["x"] = 1 // nil map write panics
		return "", nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "boom", `{"city":"x"}`)),
		bedrockkittest.TextStep("The tool failed, sorry."),
	)
	var events []agent.RunEvent
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{boom}, OnEvent: func(e agent.RunEvent) { events = append(events, e) }}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "The tool failed, sorry." {
		t.Fatalf("run did not continue: %q", res.Output)
	}
	rs := lastResults(t, m)
	if len(rs) != 1 || !rs[0].IsError || !strings.Contains(resultText(rs[0]), "panicked") {
		t.Fatalf("model was not told about the panic: %+v", rs)
	}
	found := false
	for _, e := range events {
		if tc, ok := e.(agent.ToolCalled); ok && tc.Panicked {
			found = true
		}
	}
	if !found {
		t.Fatal("no ToolCalled event with Panicked")
	}
}

func TestInvalidCallsAreReportedAndLimited(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			call("c1", "nope", `{}`),
			call("c2", "echo", `{"city":`),
			call("c3", "echo", `{"city":"x","unit":"kelvin"}`),
			call("c4", "echo", `{"town":"x"}`),
		),
		bedrockkittest.TextStep("done"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}, Limits: agent.Limits{MaxToolRetries: 4}}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "done" {
		t.Fatal(res.Output)
	}
	rs := lastResults(t, m)
	want := []string{"no such tool; the available tools are: echo", "not valid JSON", "'c', 'f'", "additional properties 'town'"}
	for i, w := range want {
		if !rs[i].IsError || !strings.Contains(resultText(rs[i]), w) {
			t.Errorf("result %d = %q, want an error containing %q", i, resultText(rs[i]), w)
		}
	}

	// Over the limit the run fails.
	m2 := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "nope", `{}`), call("c2", "nope", `{}`)),
		bedrockkittest.TextStep("unreachable"),
	)
	a2 := &agent.Agent{Model: m2, Tools: []*agent.Tool{echoTool()}, Limits: agent.Limits{MaxToolRetries: 1}}
	_, err = a2.Run(context.Background(), "s", "go")
	if !errors.Is(err, agent.ErrTooManyInvalidCalls) {
		t.Fatalf("want ErrTooManyInvalidCalls, got %v", err)
	}
}

func TestToolErrorAndTimeoutGoBackToModel(t *testing.T) {
	failing := agent.MustNewFuncTool("fail", "Fails", func(ctx context.Context, in cityIn) (string, error) {
		return "", errors.New("upstream unavailable")
	})
	slow := agent.MustNewFuncTool("slow", "Never returns until cancelled", func(ctx context.Context, in cityIn) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}, agent.ToolOptions{Timeout: 20 * time.Millisecond})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "fail", `{"city":"x"}`), call("c2", "slow", `{"city":"x"}`)),
		bedrockkittest.TextStep("ok"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{failing, slow}}
	if _, err := a.Run(context.Background(), "s", "go"); err != nil {
		t.Fatal(err)
	}
	rs := lastResults(t, m)
	if !rs[0].IsError || !strings.Contains(resultText(rs[0]), "upstream unavailable") {
		t.Errorf("error result: %q", resultText(rs[0]))
	}
	if !rs[1].IsError || !strings.Contains(resultText(rs[1]), "timed out after 20ms") {
		t.Errorf("timeout result: %q", resultText(rs[1]))
	}
}

// TestCancelMidRunLeaksNothing cancels while parallel tools are running; the
// run returns context.Canceled and goleak (TestMain) checks no goroutine is
// left behind.
func TestCancelMidRunLeaksNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var running atomic.Int32
	block := agent.MustNewFuncTool("block", "Blocks until cancelled", func(ctx context.Context, in cityIn) (string, error) {
		if running.Add(1) == 2 {
			cancel()
		}
		<-ctx.Done()
		return "", ctx.Err()
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "block", `{"city":"a"}`), call("c2", "block", `{"city":"b"}`)),
		bedrockkittest.TextStep("unreachable"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{block}}
	_, err := a.Run(ctx, "s", "go")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if m.Calls() != 1 {
		t.Fatalf("model called %d times after cancellation", m.Calls())
	}
}

func TestStreamBreakCancels(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "echo", `{"city":"x"}`)),
		bedrockkittest.TextStep("final answer here"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}}
	for ev, err := range a.Stream(context.Background(), "s", "go") {
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.(agent.ModelCalled); ok {
			break
		}
	}
	if m.Calls() != 1 {
		t.Fatalf("model called %d times after break, want 1", m.Calls())
	}
}

func TestStreamYieldsTextAndFinish(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "echo", `{"city":"Oslo"}`)),
		bedrockkittest.TextStep("It is in Norway."),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}}
	var text strings.Builder
	var kinds []string
	var final *agent.RunResult
	for ev, err := range a.Stream(context.Background(), "s", "where is Oslo") {
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case agent.ModelText:
			text.WriteString(e.Text)
			continue
		case agent.Finished:
			final = e.Result
		}
		kinds = append(kinds, strings.TrimPrefix(strings.TrimPrefix(typeName(ev), "agent."), "*"))
	}
	if text.String() != "It is in Norway." || final == nil || final.Output != "It is in Norway." {
		t.Fatalf("text %q, final %+v", text.String(), final)
	}
	want := "ModelCalled ToolCalled Observation ModelCalled Finished"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case agent.ModelCalled:
		return "ModelCalled"
	case agent.ToolCalled:
		return "ToolCalled"
	case agent.Observation:
		return "Observation"
	case agent.Finished:
		return "Finished"
	case agent.Paused:
		return "Paused"
	case agent.Failure:
		return "Failure"
	case agent.GuardrailIntervened:
		return "GuardrailIntervened"
	case agent.Summarized:
		return "Summarized"
	}
	return "?"
}

// TestCancelledTurnResumesWithoutRerunningFinishedTools: after a
// cancellation among parallel tools, running the same input again replays
// the tool that finished and runs only the one that was interrupted.
func TestCancelledTurnResumesWithoutRerunningFinishedTools(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var fastRuns, slowRuns atomic.Int32
	fastDone := make(chan struct{})
	fast := agent.MustNewFuncTool("fast", "Fast", func(ctx context.Context, in cityIn) (string, error) {
		fastRuns.Add(1)
		close(fastDone)
		return "fast ok", nil
	})
	slow := agent.MustNewFuncTool("slow", "Slow", func(c context.Context, in cityIn) (string, error) {
		if slowRuns.Add(1) == 1 {
			<-fastDone
			cancel()
			<-c.Done()
			return "", c.Err()
		}
		return "slow ok", nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("f", "fast", `{"city":"a"}`), call("s", "slow", `{"city":"b"}`)),
		bedrockkittest.TextStep("both done"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{fast, slow}}
	if _, err := a.Run(ctx, "s", "go"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want cancellation, got %v", err)
	}
	var replayed []string
	a.OnEvent = func(e agent.RunEvent) {
		if tc, ok := e.(agent.ToolCalled); ok && tc.Replayed {
			replayed = append(replayed, tc.Call.Name)
		}
	}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil || res.Output != "both done" {
		t.Fatal(err, res)
	}
	if fastRuns.Load() != 1 || slowRuns.Load() != 2 || len(replayed) != 1 || replayed[0] != "fast" {
		t.Fatalf("fast runs %d, slow runs %d, replayed %v", fastRuns.Load(), slowRuns.Load(), replayed)
	}
	rs := lastResults(t, m)
	if resultText(rs[0]) != "fast ok" || resultText(rs[1]) != "slow ok" {
		t.Fatalf("results %+v", rs)
	}
}

func TestEmptySessionIDRejected(t *testing.T) {
	a := &agent.Agent{Model: bedrockkittest.NewScriptedModel()}
	if _, err := a.Run(context.Background(), "", "hi"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("want ErrInvalidInput, got %v", err)
	}
}

func TestConcurrentRunsOnOneSessionConflict(t *testing.T) {
	// Two runs load the same session version; the second save is refused.
	release := make(chan struct{})
	var started atomic.Int32
	both := make(chan struct{})
	wait := agent.MustNewFuncTool("wait", "Wait", func(ctx context.Context, in cityIn) (string, error) {
		if started.Add(1) == 2 {
			close(both)
		}
		<-release
		return "ok", nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("w", "wait", `{"city":"a"}`)),
		bedrockkittest.ToolStep(call("w", "wait", `{"city":"a"}`)),
		bedrockkittest.TextStep("one"), bedrockkittest.TextStep("two"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{wait}}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := a.Run(context.Background(), "shared", "go")
			errs <- err
		}()
	}
	<-both
	close(release)
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, agent.ErrConflict) || errors.Is(e2, agent.ErrConflict)) {
		t.Fatalf("want exactly one ErrConflict, got %v and %v", e1, e2)
	}
}

func TestStreamErrorEndsWithFailure(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.Step{
		Events: []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "partial "}},
		Err:    bedrockkit.ErrThrottled,
	})
	a := &agent.Agent{Model: m}
	var sawFailure bool
	var last error
	for ev, err := range a.Stream(context.Background(), "s", "hi") {
		if err != nil {
			last = err
			continue
		}
		if _, ok := ev.(agent.Failure); ok {
			sawFailure = true
		}
	}
	if !sawFailure || !errors.Is(last, bedrockkit.ErrThrottled) {
		t.Fatalf("failure event %v, error %v", sawFailure, last)
	}
}

func TestMalformedToolUseIsRetried(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Response: &bedrockkit.Response{StopReason: bedrockkit.StopMalformedToolUse}},
		bedrockkittest.TextStep("recovered"),
	)
	a := &agent.Agent{Model: m}
	res, err := a.Run(context.Background(), "s", "go")
	if err != nil || res.Output != "recovered" {
		t.Fatal(err, res)
	}
	msgs := m.Requests()[1].Messages
	if last := msgs[len(msgs)-1]; !strings.Contains(last.Text(), "malformed") || msgs[len(msgs)-2].Role != bedrockkit.RoleAssistant {
		t.Fatalf("model not told about the malformed call: %+v", msgs)
	}
}

// refusingModel refuses every call after the first allowed ones with
// ErrBudgetExceeded, as pricing's meter middleware does under a budget.
type refusingModel struct {
	bedrockkit.Model
	allowed int
}

func (m *refusingModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if m.allowed == 0 {
		return nil, fmt.Errorf("refused: %w", bedrockkit.ErrBudgetExceeded)
	}
	m.allowed--
	return m.Model.Generate(ctx, req)
}

// TestBudgetRefusalEndsRun: a model call refused for the budget (pricing's
// meter middleware around the model) ends the run with the partial result;
// the refused call counts as the run's second iteration.
func TestBudgetRefusalEndsRun(t *testing.T) {
	resp := &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{call("c", "echo", `{"city":"x"}`)}},
		Usage: bedrockkit.Usage{InputTokens: 7, OutputTokens: 1}}
	m := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: resp}, bedrockkittest.TextStep("never"))
	a := &agent.Agent{Model: &refusingModel{Model: m, allowed: 1}, Tools: []*agent.Tool{echoTool()}}
	res, err := a.Run(context.Background(), "s", "go")
	if !errors.Is(err, bedrockkit.ErrBudgetExceeded) || m.Calls() != 1 || res == nil || res.Iterations != 2 || res.Usage.InputTokens != 7 {
		t.Fatalf("err %v calls %d result %+v", err, m.Calls(), res)
	}
}

func TestOutputGuardBlocks(t *testing.T) {
	guard := agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		if stage == agent.StageOutput && strings.Contains(text, "secret") {
			return agent.Intervention{Blocked: true, Message: "[removed]"}, nil
		}
		return agent.Intervention{}, nil
	})
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("the secret is 42"), bedrockkittest.TextStep("ok"))
	a := &agent.Agent{Model: m, Guardrail: guard}
	res, err := a.Run(context.Background(), "s", "tell me")
	if !errors.Is(err, bedrockkit.ErrGuardrailBlocked) || res.Output != "[removed]" {
		t.Fatal(err, res)
	}
	if _, err := a.Run(context.Background(), "s", "again"); err != nil {
		t.Fatal(err)
	}
	for _, msg := range m.Requests()[1].Messages {
		if strings.Contains(msg.Text(), "secret") {
			t.Fatal("blocked answer kept in history")
		}
	}
}

// mustTool returns t and panics on err: the tools these tests build are
// fixed, so an error is a bug in the test.
func mustTool(t *agent.Tool, err error) *agent.Tool {
	if err != nil {
		panic(err)
	}
	return t
}

// TestOneRunOptions: a run takes at most one RunOptions; two are refused
// before the model is called rather than one being silently dropped.
func TestOneRunOptions(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("hi"))
	a := &agent.Agent{Model: m}
	two := []agent.RunOptions{{SessionAttributes: map[string]string{"a": "1"}}, {PromptAttributes: map[string]string{"b": "2"}}}
	if _, err := a.Run(context.Background(), "s", "hello", two...); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("Run with two RunOptions: %v; want ErrInvalidInput", err)
	}
	if n := len(m.Requests()); n != 0 {
		t.Fatalf("the model was called %d times", n)
	}
	res, err := a.Run(context.Background(), "s", "hello", agent.RunOptions{SessionAttributes: map[string]string{"a": "1"}})
	if err != nil || res.Output != "hi" {
		t.Fatalf("Run with one RunOptions: %+v, %v", res, err)
	}
}
