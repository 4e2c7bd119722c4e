package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// An agent-style loop: each step sends the growing conversation, the model
// asks for a tool, the tool result is appended, and so on. With a run budget
// the loop must stop with ErrBudgetExceeded at the first step whose worst
// case does not fit, before that step reaches the model, and spending must
// never pass the limit.
func TestBudgetStopsAgentLoopBeforeOvershoot(t *testing.T) {
	const maxTokens = 300
	// Every step really uses 400 input (cached prefix grows) and 120 output
	// tokens: less than the reservation, as a real call would.
	var steps []bedrockkittest.Step
	for i := range 20 {
		st := bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: fmt.Sprint("t", i), Name: "search", Input: json.RawMessage(`{"q":"more"}`)})
		st.Response.Usage = bedrockkit.Usage{InputTokens: 400, OutputTokens: 120, CacheReadTokens: 200 * i}
		steps = append(steps, st)
	}
	script := bedrockkittest.NewScriptedModel(steps...)
	m := newMeter(t, MeterOptions{})
	model := metered(m, haiku45, script) // $1 in / $5 out / $0.10 cache read per 1M
	run := NewBudget(ScopeRun, "run-1", MustMoney("0.01"))
	ctx := WithBudget(WithTenant(context.Background(), "acme"), run)

	history := []bedrockkit.Message{bedrockkit.UserText("Find everything about " + strings.Repeat("pricing ", 50))}
	var (
		done    int
		stopErr error
		worst   []Money
	)
	for done < len(steps) {
		req := &bedrockkit.Request{Messages: history, MaxTokens: maxTokens}
		// The reservation rule: the input bound at the highest input-side
		// rate ($1.25/1M, the 5-minute cache write) plus MaxTokens at the
		// output rate ($5/1M), each rounded up, plus 2 n$ for line rounding.
		in := must(InputTokenBound(req, TokenBounds{}))
		worst = append(worst, ceilMillionths(uint64(in), 1_250_000_000)+ceilMillionths(maxTokens, 5_000_000_000)+2)
		resp, err := model.Generate(ctx, req)
		if err != nil {
			stopErr = err
			break
		}
		done++
		call := resp.Message.ToolCalls()[0]
		history = append(history, resp.Message, bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
			bedrockkit.ToolResult{CallID: call.ID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: strings.Repeat("result ", 40)}}}}})
	}
	if !errors.Is(stopErr, bedrockkit.ErrBudgetExceeded) {
		t.Fatalf("loop ended after %d steps with %v, want ErrBudgetExceeded", done, stopErr)
	}
	var be *BudgetError
	if !errors.As(stopErr, &be) || be.Scope != ScopeRun || be.ID != "run-1" {
		t.Fatalf("error %#v, want *BudgetError for run-1", stopErr)
	}
	st := run.State()
	if st.Reserved != 0 {
		t.Fatalf("reservations left: %v", st.Reserved)
	}
	if st.Spent > st.Limit {
		t.Fatalf("overshoot: spent %v of %v", st.Spent, st.Limit)
	}
	// The refused step truly would not fit, and the one before did.
	if st.Spent+worst[done] <= st.Limit || be.Needed != worst[done] {
		t.Fatalf("step %d refused: spent %v + worst %v (error says %v) fits %v", done, st.Spent, worst[done], be.Needed, st.Limit)
	}
	if script.Calls() != done {
		t.Fatalf("model called %d times for %d completed steps: the refused step reached the model", script.Calls(), done)
	}
	// Spending equals the metered cost of the completed steps.
	e := m.Snapshot().Total()
	if e.Cost.Total != st.Spent || e.Calls != int64(done) || e.Refused != 1 {
		t.Fatalf("meter %+v vs budget spent %v", e, st.Spent)
	}
	if done < 2 || done >= len(steps) {
		t.Fatalf("budget stopped the loop after %d steps; the test wants a stop in the middle", done)
	}
	t.Logf("stopped after %d steps: spent %v of %v, refused step needed %v", done, st.Spent, st.Limit, be.Needed)
}

func TestBudgetsTenantSessionRollback(t *testing.T) {
	m := newMeter(t, MeterOptions{DefaultMaxTokens: 1000})
	inner := newUsageModel(bedrockkit.Usage{InputTokens: 10, OutputTokens: 10})
	model := metered(m, micro, inner)
	tenant := m.SetTenantBudget("acme", Dollar)
	session := m.SetSessionBudget("s1", MustMoney("0.0000001")) // far below one call's worst case
	ctx := WithSession(WithTenant(context.Background(), "acme"), "s1")
	_, err := model.Generate(ctx, userReq("hello", 0)) // MaxTokens 0: the default cap is reserved
	var be *BudgetError
	if !errors.As(err, &be) || be.Scope != ScopeSession {
		t.Fatalf("want session budget error, got %v", err)
	}
	// The tenant reservation made before the session refused is released.
	if st := tenant.State(); st.Reserved != 0 || st.Spent != 0 {
		t.Fatalf("tenant budget after refused call: %+v", st)
	}
	if inner.calls.Load() != 0 {
		t.Fatal("refused call reached the model")
	}
	// Raising the limit lets calls through; both budgets are charged.
	m.SetSessionBudget("s1", Dollar)
	if _, err := model.Generate(ctx, userReq("hello", 0)); err != nil {
		t.Fatal(err)
	}
	want := MustMoney("0.00000175") // 10 x $0.035/1M + 10 x $0.14/1M
	if tenant.State().Spent != want || session.State().Spent != want {
		t.Fatalf("spent tenant %v session %v, want %v", tenant.State().Spent, session.State().Spent, want)
	}
	// Other tenants are not limited by acme's budget.
	if _, err := model.Generate(WithTenant(context.Background(), "globex"), userReq("hello", 0)); err != nil {
		t.Fatal(err)
	}
	m.RemoveBudget(session)
	m.SetSessionBudget("s2", 0)
	if _, err := model.Generate(ctx, userReq("hello", 0)); err != nil {
		t.Fatalf("removed budget still enforced: %v", err)
	}
}

func TestBudgetReleasedOnFailure(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	boom := errors.New("throttled")
	model := metered(m, micro, bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: boom}, bedrockkittest.Step{Events: []bedrockkit.StreamEvent{}, Err: boom}))
	run := NewBudget(ScopeRun, "r", Dollar)
	ctx := WithBudget(context.Background(), run)
	if _, err := model.Generate(ctx, userReq("x", 100)); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	for range model.Stream(ctx, userReq("x", 100)) {
	}
	if st := run.State(); st.Reserved != 0 || st.Spent != 0 {
		t.Fatalf("failed calls left %+v", st)
	}
	if e := m.Snapshot().Total(); e.Failed != 2 || e.Cost.Total != 0 {
		t.Fatalf("entry %+v", e)
	}
}

func TestBudgetConcurrentNeverOvershoots(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	// Real usage within the reservation (the input bound of "hello" and 100
	// output tokens), as every real call is.
	model := metered(m, micro, newUsageModel(bedrockkit.Usage{InputTokens: 5, OutputTokens: 100}))
	limit := MustMoney("0.001")
	run := NewBudget(ScopeRun, "r", limit)
	ctx := WithBudget(context.Background(), run)
	var mu sync.Mutex
	ok, refused := 0, 0
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				_, err := model.Generate(ctx, userReq("hello", 100))
				mu.Lock()
				if err == nil {
					ok++
				} else if errors.Is(err, bedrockkit.ErrBudgetExceeded) {
					refused++
				} else {
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := run.State()
	if st.Spent > limit || st.Reserved != 0 {
		t.Fatalf("spent %v reserved %v of %v", st.Spent, st.Reserved, limit)
	}
	one := MustMoney("0.000014175") // 5 x 0.035 + 100 x 0.14 per 1M
	if st.Spent != Money(ok)*one || ok == 0 || refused == 0 || ok+refused != 64*200 {
		t.Fatalf("ok %d refused %d spent %v", ok, refused, st.Spent)
	}
	t.Logf("%d calls fitted, %d refused, %v of %v spent", ok, refused, st.Spent, limit)
}

func TestBudgetRespectsCanceledContext(t *testing.T) {
	m := newMeter(t, MeterOptions{})
	inner := newUsageModel(bedrockkit.Usage{InputTokens: 1})
	model := metered(m, micro, inner)
	ctx, cancel := context.WithCancel(WithBudget(context.Background(), NewBudget(ScopeRun, "r", Dollar)))
	cancel()
	if _, err := model.Generate(ctx, userReq("x", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: %v", err)
	}
}
