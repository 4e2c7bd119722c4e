package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type transferIn struct {
	To     string  `json:"to"`
	Amount float64 `json:"amount" jsonschema:"minimum=0"`
}

// bank returns a confirmation-gated transfer tool counting its runs.
func bank(runs *atomic.Int32) *agent.Tool {
	return agent.MustNewFuncTool("transfer", "Send money", func(ctx context.Context, in transferIn) (string, error) {
		runs.Add(1)
		info, _ := agent.CallInfoFrom(ctx)
		if info.IdempotencyKey == "" {
			return "", errors.New("no idempotency key")
		}
		return "sent", nil
	}, agent.ToolOptions{RequireConfirmation: true})
}

// TestPauseAndResumeInNewProcess pauses on a confirmation, serialises the
// signed state to JSON, and resumes with a fresh Agent value (same key) and
// a fresh FileMemory on the same directory, as a restarted process would.
func TestPauseAndResumeInNewProcess(t *testing.T) {
	dir := t.TempDir()
	var runs atomic.Int32
	script := []bedrockkittest.Step{
		bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":10}`), call("e1", "echo", `{"city":"Rome"}`)),
		bedrockkittest.TextStep("Sent 10 to bob."),
	}

	// Process 1: run until the pause.
	var stateJSON []byte
	{
		mem, err := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := bedrockkittest.NewScriptedModel(script[0])
		a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs), echoTool()}, Pause: testPause()}
		res, err := a.Run(context.Background(), "user-1", "send bob 10", agent.RunOptions{PromptAttributes: map[string]string{"currency": "EUR"}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Paused() || len(res.Pending.Calls) != 1 || res.Pending.Calls[0].Kind != agent.KindConfirm {
			t.Fatalf("want a pause on the transfer, got %+v", res)
		}
		if runs.Load() != 0 {
			t.Fatal("transfer ran before confirmation")
		}
		if stateJSON, err = json.Marshal(res.Pending); err != nil {
			t.Fatal(err)
		}
	}

	// Process 2: fresh values, state decoded from JSON.
	var p agent.Pending
	if err := json.Unmarshal(stateJSON, &p); err != nil {
		t.Fatal(err)
	}
	mem, err := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := bedrockkittest.NewScriptedModel(script[1])
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{bank(&runs), echoTool()}, Pause: testPause()}
	res, err := a.Resume(context.Background(), &p, agent.Approve(p.Calls[0].Call.ID))
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "Sent 10 to bob." || runs.Load() != 1 {
		t.Fatalf("output %q, transfer runs %d", res.Output, runs.Load())
	}
	req := m.Requests()[0]
	rs := lastResults(t, m)
	if len(rs) != 2 || rs[0].CallID != "t1" || resultText(rs[0]) != "sent" || rs[1].CallID != "e1" || resultText(rs[1]) != "Rome" {
		t.Fatalf("results after resume: %+v", rs)
	}
	if sys := (bedrockkit.Message{Parts: req.System}).Text(); !strings.Contains(sys, "currency: EUR") {
		t.Fatalf("prompt attributes lost across the restart: %q", sys)
	}

	// Resuming the same state again is refused, and nothing runs.
	_, err = a.Resume(context.Background(), &p, agent.Approve("t1"))
	if !errors.Is(err, agent.ErrNotPending) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("second resume: want ErrNotPending, got %v", err)
	}
	if runs.Load() != 1 {
		t.Fatal("second resume ran the tool again")
	}

	// The session holds the whole turn; a new turn sees it.
	s, err := mem.Load(context.Background(), "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Turns != 1 || len(s.Messages) != 4 || s.Pending != nil || len(s.Records) != 0 {
		t.Fatalf("session after resume: turns=%d messages=%d pending=%v records=%d", s.Turns, len(s.Messages), s.Pending, len(s.Records))
	}
}

func TestResumeErrors(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":1}`)))
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{bank(&runs)}}
	res, err := a.Run(context.Background(), "s", "pay")
	if err != nil || !res.Paused() {
		t.Fatal(err, res)
	}
	p := res.Pending
	if _, err := a.Resume(context.Background(), p, agent.Approve("t1"), agent.Approve("zzz")); !errors.Is(err, agent.ErrUnknownCall) {
		t.Fatalf("unknown call: %v", err)
	}
	if _, err := a.Resume(context.Background(), p); !errors.Is(err, agent.ErrMissingDecision) {
		t.Fatalf("missing decision: %v", err)
	}
	if _, err := a.Resume(context.Background(), p, agent.Respond("t1", bedrockkit.Text{Text: "x"})); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("wrong kind of decision: %v", err)
	}
	if runs.Load() != 0 {
		t.Fatal("a refused resume ran the tool")
	}
	// Deny: the model is told, the tool never runs.
	m.Push(bedrockkittest.TextStep("OK, not sent."))
	res, err = a.Resume(context.Background(), p, agent.Deny("t1", "too risky"))
	if err != nil || res.Output != "OK, not sent." {
		t.Fatal(err, res)
	}
	rs := lastResults(t, m)
	if !rs[0].IsError || !strings.Contains(resultText(rs[0]), "too risky") || runs.Load() != 0 {
		t.Fatalf("deny result %+v runs %d", rs, runs.Load())
	}
}

// TestRetriedResumeDoesNotRepeatSideEffects: the model fails after the
// approved tool ran; retrying Resume reuses the recorded result.
func TestRetriedResumeDoesNotRepeatSideEffects(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":1}`)),
		bedrockkittest.Step{Err: bedrockkit.ErrThrottled},
		bedrockkittest.TextStep("done"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{bank(&runs)}}
	res, _ := a.Run(context.Background(), "s", "pay")
	p := res.Pending
	if _, err := a.Resume(context.Background(), p, agent.Approve("t1")); !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("want the model error, got %v", err)
	}
	res, err := a.Resume(context.Background(), p, agent.Approve("t1"))
	if err != nil || res.Output != "done" {
		t.Fatal(err, res)
	}
	if runs.Load() != 1 {
		t.Fatalf("transfer ran %d times, want 1", runs.Load())
	}
	if rs := lastResults(t, m); len(rs) != 1 || resultText(rs[0]) != "sent" {
		t.Fatalf("retried resume lost the tool result: %+v", rs)
	}
	if _, err := a.Resume(context.Background(), p, agent.Approve("t1")); !errors.Is(err, agent.ErrNotPending) {
		t.Fatalf("third resume: %v", err)
	}
}

// TestRetriedRunContinuesTurn: a run fails after a side-effecting tool ran;
// running the same input again continues the turn from its checkpoint and
// the tool does not run again, even though a real model would have made a
// new call ID.
func TestRetriedRunContinuesTurn(t *testing.T) {
	var runs atomic.Int32
	charge := agent.MustNewFuncTool("charge", "Charge a card", func(ctx context.Context, in transferIn) (string, error) {
		runs.Add(1)
		return "charged", nil
	})
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "charge", `{"to":"card","amount":5}`)),
		bedrockkittest.Step{Err: bedrockkit.ErrThrottled},
		bedrockkittest.TextStep("Charged 5."),
	)
	dir := t.TempDir()
	mem, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	a := &agent.Agent{Model: m, Memory: mem, Tools: []*agent.Tool{charge}}
	if _, err := a.Run(context.Background(), "s", "charge 5"); !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("want throttled, got %v", err)
	}
	// A new process retries the same input.
	mem2, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	a2 := &agent.Agent{Model: m, Memory: mem2, Tools: []*agent.Tool{charge}}
	res, err := a2.Run(context.Background(), "s", "charge 5")
	if err != nil || res.Output != "Charged 5." || res.Iterations != 3 {
		t.Fatal(err, res)
	}
	if runs.Load() != 1 {
		t.Fatalf("charge ran %d times, want 1", runs.Load())
	}
	s, _ := mem2.Load(context.Background(), "s")
	if s.InProgress != nil || len(s.Messages) != 4 || s.Turns != 1 {
		t.Fatalf("session after retry: %+v", s)
	}

	// A different input abandons an unfinished turn.
	m.Push(bedrockkittest.ToolStep(call("c2", "charge", `{"to":"card","amount":7}`)), bedrockkittest.Step{Err: bedrockkit.ErrThrottled}, bedrockkittest.TextStep("Hello."))
	if _, err := a2.Run(context.Background(), "s", "charge 7"); err == nil {
		t.Fatal("want an error")
	}
	res, err = a2.Run(context.Background(), "s", "just say hello")
	if err != nil || res.Output != "Hello." {
		t.Fatal(err, res)
	}
	reqs := m.Requests()
	if msgs := reqs[len(reqs)-1].Messages; len(msgs) != 5 || msgs[4].Text() != "just say hello" {
		t.Fatalf("abandoned turn leaked into history: %d messages", len(msgs))
	}
}

func TestReturnControl(t *testing.T) {
	lookup := mustTool(agent.NewReturnControlTool("lookup_order", "Look up an order in the caller's system",
		json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`)))
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("r1", "lookup_order", `{"id":"A7"}`)),
		bedrockkittest.TextStep("Order A7 shipped."),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{lookup}}
	res, err := a.Run(context.Background(), "s", "where is A7")
	if err != nil || !res.Paused() || res.Pending.Calls[0].Kind != agent.KindReturnControl {
		t.Fatal(err, res)
	}
	if string(res.Pending.Calls[0].Call.Input) != `{"id":"A7"}` {
		t.Fatalf("input %s", res.Pending.Calls[0].Call.Input)
	}
	res, err = a.Resume(context.Background(), res.Pending, agent.Respond("r1", bedrockkit.JSON{Value: json.RawMessage(`{"status":"shipped"}`)}))
	if err != nil || res.Output != "Order A7 shipped." {
		t.Fatal(err, res)
	}
	if rs := lastResults(t, m); resultText(rs[0]) != `{"status":"shipped"}` {
		t.Fatalf("result %+v", rs)
	}
}

func TestNewRunAbandonsPause(t *testing.T) {
	var runs atomic.Int32
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":1}`)),
		bedrockkittest.TextStep("hello"),
	)
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{bank(&runs)}}
	res, _ := a.Run(context.Background(), "s", "pay")
	if _, err := a.Run(context.Background(), "s", "never mind, say hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resume(context.Background(), res.Pending, agent.Approve("t1")); !errors.Is(err, agent.ErrNotPending) {
		t.Fatalf("resume of abandoned pause: %v", err)
	}
}
