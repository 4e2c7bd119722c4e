package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type amountIn struct {
	Account string  `json:"account"`
	Amount  float64 `json:"amount"`
}

// countingTool returns a tool that counts its runs.
func countingTool(name string, runs *atomic.Int32, opts ...agent.ToolOptions) *agent.Tool {
	return agent.MustNewFuncTool(name, "test tool", func(ctx context.Context, in amountIn) (string, error) {
		runs.Add(1)
		return "done " + in.Account, nil
	}, opts...)
}

// limitAuthorizer allows calls whose amount is at most limit, and records
// what it was asked.
type limitAuthorizer struct {
	limit float64
	mu    sync.Mutex
	seen  []agent.ToolCallRequest
}

func (l *limitAuthorizer) AuthorizeToolCall(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
	l.mu.Lock()
	l.seen = append(l.seen, req)
	l.mu.Unlock()
	var in amountIn
	if err := json.Unmarshal(req.Call.Input, &in); err != nil {
		return agent.ToolDecision{}, err
	}
	if in.Amount > l.limit {
		return agent.ToolDecision{Reason: "amount over the limit", Policies: []string{"limit"}}, nil
	}
	return agent.ToolDecision{Allowed: true, Policies: []string{"allow-small"}}, nil
}

func TestAuthorizerDeniesBeforeRunning(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("a", "pay", `{"account":"x","amount":5}`), call("b", "pay", `{"account":"y","amount":500}`),
			call("c", "pay", `{"account":"z","amount":"not a number"}`)),
		bedrockkittest.TextStep("ok"),
	)
	az := &limitAuthorizer{limit: 100}
	var events []agent.RunEvent
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{countingTool("pay", &runs)}, Authorizer: az,
		OnEvent: func(e agent.RunEvent) { events = append(events, e) }}
	_, err := a.Run(context.Background(), "s1", "pay", agent.RunOptions{SessionAttributes: map[string]string{"branch": "north"}})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("tool ran %d times, want 1 (only the allowed call)", runs.Load())
	}
	// The invalid call never reaches the authorizer: it is refused by the schema first.
	if len(az.seen) != 2 {
		t.Fatalf("authorizer asked %d times, want 2", len(az.seen))
	}
	for _, req := range az.seen {
		if req.Tool == nil || req.Tool.Name() != "pay" || req.Info.SessionID != "s1" || req.Info.Attributes["branch"] != "north" || req.Info.IdempotencyKey == "" {
			t.Fatalf("request lacks the call's context: %+v", req)
		}
	}
	rs := lastResults(t, m)
	if rs[0].IsError || !rs[1].IsError || !strings.Contains(resultText(rs[1]), "denied by policy (limit): amount over the limit") {
		t.Fatalf("results: %+v", rs)
	}
	var decisions []agent.ToolAuthorized
	for _, e := range events {
		if d, ok := e.(agent.ToolAuthorized); ok {
			decisions = append(decisions, d)
		}
	}
	if len(decisions) != 2 || !decisions[0].Decision.Allowed || decisions[1].Decision.Allowed ||
		decisions[1].Decision.Policies[0] != "limit" || decisions[1].Call.ID != "b" {
		t.Fatalf("decision events: %+v", decisions)
	}
}

// TestAuthorizerFailsClosed: an authorizer that errors or panics runs
// nothing, for every kind of tool.
func TestAuthorizerFailsClosed(t *testing.T) {
	for _, mode := range []string{"error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			var runs, confirmRuns atomic.Int32
			m := bedrockkittest.NewScriptedModel(
				bedrockkittest.ToolStep(call("a", "pay", `{"account":"x","amount":1}`), call("b", "confirm_pay", `{"account":"x","amount":1}`),
					call("c", "handoff", `{}`)),
				bedrockkittest.TextStep("ok"),
			)
			az := agent.ToolAuthorizerFunc(func(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
				if mode == "panic" {
					panic("engine exploded")
				}
				// An error even with Allowed set must not let the call run.
				return agent.ToolDecision{Allowed: true}, errors.New("engine unavailable")
			})
			var failed int
			a := &agent.Agent{Model: m, Authorizer: az, Tools: []*agent.Tool{
				countingTool("pay", &runs),
				countingTool("confirm_pay", &confirmRuns, agent.ToolOptions{RequireConfirmation: true}),
				mustTool(agent.NewReturnControlTool("handoff", "the caller runs it", nil)),
			}, OnEvent: func(e agent.RunEvent) {
				if d, ok := e.(agent.ToolAuthorized); ok && d.Err != nil {
					failed++
				}
			}}
			res, err := a.Run(context.Background(), "s1", "go")
			if err != nil {
				t.Fatal(err)
			}
			if res.Paused() {
				t.Fatal("a call the authorizer could not decide on paused the run (it should be refused)")
			}
			if runs.Load() != 0 || confirmRuns.Load() != 0 {
				t.Fatal("a tool ran although the authorizer failed")
			}
			if failed != 3 {
				t.Fatalf("want 3 failed authorizations in the trace, got %d", failed)
			}
			for _, r := range lastResults(t, m) {
				if !r.IsError || !strings.Contains(resultText(r), "could not be authorized") {
					t.Fatalf("result: %+v", r)
				}
			}
		})
	}
}

// TestAuthorizerAskedAgainOnResume: the approved call of a confirmation is
// authorized again when it is about to run, so a policy changed meanwhile
// (or a different caller resuming) is enforced.
func TestAuthorizerAskedAgainOnResume(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("a", "pay", `{"account":"x","amount":50}`)),
		bedrockkittest.TextStep("done"),
	)
	az := &limitAuthorizer{limit: 100}
	a := &agent.Agent{Model: m, Authorizer: az, Tools: []*agent.Tool{countingTool("pay", &runs, agent.ToolOptions{RequireConfirmation: true})}}
	res, err := a.Run(context.Background(), "s1", "pay")
	if err != nil || !res.Paused() {
		t.Fatalf("want a pause, got %+v, %v", res, err)
	}
	az.mu.Lock()
	az.limit = 10 // the policy tightened while the call waited
	az.mu.Unlock()
	if _, err := a.Resume(context.Background(), res.Pending, agent.Approve("a")); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 0 {
		t.Fatal("the approved call ran although the policy now denies it")
	}
	if len(az.seen) != 2 {
		t.Fatalf("authorizer asked %d times, want 2 (before the pause and before running)", len(az.seen))
	}
	if rs := lastResults(t, m); !rs[0].IsError || !strings.Contains(resultText(rs[0]), "denied by policy") {
		t.Fatalf("result: %+v", rs)
	}
}

// TestAuthorizerCannotChangeInput: the authorizer gets a copy of the
// arguments; scribbling on it does not change what the tool receives.
func TestAuthorizerCannotChangeInput(t *testing.T) {
	var got string
	tool := agent.MustNewFuncTool("pay", "t", func(ctx context.Context, in amountIn) (string, error) { got = in.Account; return "ok", nil })
	az := agent.ToolAuthorizerFunc(func(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
		req.Info.Attributes["role"] = "admin" // must not reach the session
		for i := range req.Call.Input {
			if req.Call.Input[i] == 'x' {
				req.Call.Input[i] = 'y'
			}
		}
		return agent.ToolDecision{Allowed: true}, nil
	})
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("a", "pay", `{"account":"x","amount":1}`)), bedrockkittest.TextStep("ok"))
	mem := agent.NewInMemory()
	a := &agent.Agent{Model: m, Memory: mem, Authorizer: az, Tools: []*agent.Tool{tool}}
	if _, err := a.Run(context.Background(), "s", "go", agent.RunOptions{SessionAttributes: map[string]string{"role": "user"}}); err != nil {
		t.Fatal(err)
	}
	if got != "x" {
		t.Fatalf("tool saw account %q; the authorizer changed the input", got)
	}
	if s, err := mem.Load(context.Background(), "s"); err != nil || s.Attributes["role"] != "user" {
		t.Fatalf("the authorizer changed the session attributes: %v %v", s.Attributes, err)
	}
}

func TestCallAuthorized(t *testing.T) {
	var runs atomic.Int32
	tool := countingTool("pay", &runs)
	az := &limitAuthorizer{limit: 100}
	parts, d, err := agent.CallAuthorized(context.Background(), az, tool, json.RawMessage(`{"account":"a","amount":1}`))
	if err != nil || !d.Allowed || runs.Load() != 1 || (bedrockkit.Message{Parts: parts}).Text() != "done a" {
		t.Fatalf("allowed call: %v %+v %d", err, d, runs.Load())
	}
	_, d, err = agent.CallAuthorized(context.Background(), az, tool, json.RawMessage(`{"account":"a","amount":1000}`))
	if !errors.Is(err, agent.ErrToolCallDenied) || errors.Is(err, agent.ErrAuthorizerFailed) || !errors.Is(err, bedrockkit.ErrAccessDenied) || d.Allowed || runs.Load() != 1 {
		t.Fatalf("denied call: %v %+v %d", err, d, runs.Load())
	}
	_, _, err = agent.CallAuthorized(context.Background(), az, tool, json.RawMessage(`{"amount":"x"}`))
	if !errors.Is(err, agent.ErrInvalidToolCall) || runs.Load() != 1 {
		t.Fatalf("invalid call: %v", err)
	}
	failing := agent.ToolAuthorizerFunc(func(context.Context, agent.ToolCallRequest) (agent.ToolDecision, error) {
		return agent.ToolDecision{Allowed: true}, errors.New("boom")
	})
	_, _, err = agent.CallAuthorized(context.Background(), failing, tool, json.RawMessage(`{"account":"a","amount":1}`))
	if !errors.Is(err, agent.ErrAuthorizerFailed) || !errors.Is(err, agent.ErrToolCallDenied) || runs.Load() != 1 {
		t.Fatalf("failing authorizer: %v, runs %d", err, runs.Load())
	}
	if _, _, err = agent.CallAuthorized(context.Background(), nil, tool, nil); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil authorizer: %v", err)
	}
}
