package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Ticket is the typed answer of the structured-output tests.
type Ticket struct {
	Category string `json:"category" jsonschema:"enum=billing|card|fraud|other"`
	Priority int    `json:"priority" jsonschema:"minimum=1,maximum=3"`
	Summary  string `json:"summary" jsonschema:"maxLength=120"`
	Balance  int    `json:"balance"`
}

type accountIn struct {
	Account string `json:"account"`
}

// ticketAgent returns an agent with a balance tool and Output = Ticket; the
// tool records the accounts it was called for.
func ticketAgent(t *testing.T, m bedrockkit.Model) (*agent.Agent, *[]string) {
	t.Helper()
	out, err := bedrockkit.OutputSchemaFor[Ticket]("A support ticket.")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []string
	balance := agent.MustNewFuncTool("balance", "Current balance of an account.", func(ctx context.Context, in accountIn) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, in.Account)
		return `{"balance": 1250}`, nil
	})
	return &agent.Agent{Model: m, Tools: []*agent.Tool{balance}, Output: out}, &calls
}

const goodTicket = `{"category":"card","priority":2,"summary":"Card declined; balance 1250.","balance":1250}`

// TestRunValueWithTools: the model calls a tool, then answers with the
// JSON value; every call carried both the tools and Output, and RunValue
// decodes the answer.
func TestRunValueWithTools(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "balance", `{"account":"A-1"}`)),
		bedrockkittest.TextStep(goodTicket),
	)
	a, calls := ticketAgent(t, m)
	var values []json.RawMessage
	a.OnEvent = func(e agent.RunEvent) {
		if v, ok := e.(agent.OutputValidated); ok {
			values = append(values, v.Value)
		}
	}
	ticket, res, err := agent.RunValue[Ticket](context.Background(), a, "s1", "My card was declined. Account A-1.")
	if err != nil {
		t.Fatal(err)
	}
	if ticket.Category != "card" || ticket.Priority != 2 || ticket.Balance != 1250 {
		t.Fatalf("ticket %+v", ticket)
	}
	if len(*calls) != 1 || (*calls)[0] != "A-1" || res.Iterations != 2 {
		t.Fatalf("tool calls %v, iterations %d", *calls, res.Iterations)
	}
	if res.Output != goodTicket || len(values) != 1 || string(values[0]) != goodTicket {
		t.Fatalf("output %q, OutputValidated events %q", res.Output, values)
	}
	for i, req := range m.Requests() {
		if req.Output == nil || req.Output.Name() != "Ticket" || len(req.Tools) != 1 {
			t.Fatalf("request %d: Output %v, %d tools; want both", i, req.Output, len(req.Tools))
		}
	}
	// DecodeOutput gives the same from the RunResult.
	again, err := agent.DecodeOutput[Ticket](res)
	if err != nil || again != ticket {
		t.Fatalf("DecodeOutput %+v %v", again, err)
	}
}

// TestRunValueRepair: an invalid answer is sent back with what is wrong
// and the repaired one is the value; usage sums every attempt, and a meter
// around Agent.Model sees each attempt (a repair is a model call).
func TestRunValueRepair(t *testing.T) {
	bad := `{"category":"card","priority":7,"summary":"Card declined.","balance":1250}`
	steps := func() []bedrockkittest.Step {
		return []bedrockkittest.Step{
			{Response: &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{call("c1", "balance", `{"account":"A-1"}`)}}, Usage: bedrockkit.Usage{InputTokens: 100, OutputTokens: 10}}},
			{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(bad), Usage: bedrockkit.Usage{InputTokens: 120, OutputTokens: 20}}},
			{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(goodTicket), Usage: bedrockkit.Usage{InputTokens: 160, OutputTokens: 21}}},
		}
	}
	t.Run("Run", func(t *testing.T) {
		m := bedrockkittest.NewScriptedModel(steps()...)
		b := &attemptMeter{Model: m}
		a, _ := ticketAgent(t, b)
		ticket, res, err := agent.RunValue[Ticket](context.Background(), a, "s1", "Card declined, account A-1.")
		if err != nil {
			t.Fatal(err)
		}
		if ticket.Priority != 2 || res.Usage.InputTokens != 380 || res.Usage.OutputTokens != 51 || res.Iterations != 2 {
			t.Fatalf("ticket %+v, usage %+v, iterations %d", ticket, res.Usage, res.Iterations)
		}
		if b.allows != 3 || b.spent.InputTokens != 380 || b.spent.OutputTokens != 51 {
			t.Fatalf("meter saw %d calls, spent %+v; want 3 and every attempt", b.allows, b.spent)
		}
		reqs := m.Requests()
		last := reqs[2].Messages[len(reqs[2].Messages)-1].Text()
		if !strings.Contains(last, "at '/priority'") || reqs[2].Output == nil {
			t.Fatalf("repair request %q", last)
		}
	})
	t.Run("Stream", func(t *testing.T) {
		m := bedrockkittest.NewScriptedModel(steps()...)
		a, _ := ticketAgent(t, m)
		var retries []agent.OutputRetried
		var text strings.Builder
		var final *agent.RunResult
		var value json.RawMessage
		for ev, err := range a.Stream(context.Background(), "s1", "Card declined, account A-1.") {
			if err != nil {
				t.Fatal(err)
			}
			switch e := ev.(type) {
			case agent.ModelText:
				text.WriteString(e.Text)
			case agent.OutputRetried:
				retries = append(retries, e)
				text.Reset() // as documented: discard the text so far
			case agent.OutputValidated:
				value = e.Value
			case agent.Finished:
				final = e.Result
			}
		}
		if len(retries) != 1 || retries[0].Iteration != 2 || retries[0].Attempt != 1 || !errors.Is(retries[0].Err, bedrockkit.ErrInvalidOutput) {
			t.Fatalf("retries %+v", retries)
		}
		if text.String() != goodTicket || string(value) != goodTicket || final == nil || final.Output != goodTicket || final.Usage.InputTokens != 380 {
			t.Fatalf("text %q, value %s, final %+v", text.String(), value, final)
		}
		if got, err := agent.DecodeOutput[Ticket](final); err != nil || got.Priority != 2 {
			t.Fatalf("decode %+v %v", got, err)
		}
	})
}

// TestRunValueRepairsRunOut: an answer still invalid after MaxRepairs ends
// the run with the *bedrockkit.OutputError; the usage of every attempt is
// in the RunResult.
func TestRunValueRepairsRunOut(t *testing.T) {
	bad := bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(`{"category":"loan"}`), Usage: bedrockkit.Usage{InputTokens: 10, OutputTokens: 5}}}
	for _, stream := range []bool{false, true} {
		m := bedrockkittest.NewScriptedModel(bad, bad)
		a, _ := ticketAgent(t, m)
		a.OutputOptions.MaxRepairs = 1
		var err error
		var res *agent.RunResult
		if stream {
			for _, e := range a.Stream(context.Background(), "s1", "x") {
				if e != nil {
					err = e
				}
			}
		} else {
			_, res, err = agent.RunValue[Ticket](context.Background(), a, "s1", "x")
		}
		var oe *bedrockkit.OutputError
		if !errors.As(err, &oe) || !errors.Is(err, bedrockkit.ErrInvalidOutput) || oe.Attempts != 2 || !strings.Contains(oe.Details(), "/category") {
			t.Fatalf("stream=%v: error %v; want the OutputError after 2 attempts", stream, err)
		}
		if !stream && (res == nil || res.Usage.InputTokens != 20 || res.Usage.OutputTokens != 10) {
			t.Fatalf("result %+v; want the usage of both attempts", res)
		}
		if m.Remaining() != 0 {
			t.Fatalf("stream=%v: %d steps left", stream, m.Remaining())
		}
	}
}

// TestRunValueAnswerToolBesideOtherTools: a model without native structured
// output gets the answer tool offered (not forced, since the agent has
// tools) and calls it in the same message as a real tool. The answer ends
// the turn: the other call is not run, the transcript holds no call
// without a result, and the next turn goes on normally.
func TestRunValueAnswerToolBesideOtherTools(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "Run", true: "Stream"}[stream], func(t *testing.T) { answerToolBesideOtherTools(t, stream) })
	}
}

// runTicket runs one turn with RunValue, or with Stream and DecodeOutput.
func runTicket(t *testing.T, a *agent.Agent, stream bool, input string) (Ticket, *agent.RunResult, error) {
	t.Helper()
	if !stream {
		return agent.RunValue[Ticket](context.Background(), a, "s1", input)
	}
	var res *agent.RunResult
	for ev, err := range a.Stream(context.Background(), "s1", input) {
		if err != nil {
			return Ticket{}, res, err
		}
		if f, ok := ev.(agent.Finished); ok {
			res = f.Result
		}
	}
	v, err := agent.DecodeOutput[Ticket](res)
	return v, res, err
}

func answerToolBesideOtherTools(t *testing.T, stream bool) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "balance", `{"account":"A-1"}`)),
		bedrockkittest.ToolStep(call("c2", "balance", `{"account":"A-2"}`), call("c3", "Ticket", goodTicket)),
		bedrockkittest.ToolStep(call("c4", "Ticket", `{"category":"other","priority":1,"summary":"Thanks.","balance":0}`)),
	)
	m.SetSupportsOutput(false)
	a, calls := ticketAgent(t, m)
	ticket, res, err := runTicket(t, a, stream, "Card declined, account A-1.")
	if err != nil {
		t.Fatal(err)
	}
	if ticket.Balance != 1250 || len(*calls) != 1 || (*calls)[0] != "A-1" {
		t.Fatalf("ticket %+v, tool calls %v; the call beside the answer must not run", ticket, *calls)
	}
	reqs := m.Requests()
	for i, req := range reqs[:2] {
		names := []string{}
		for _, tl := range req.Tools {
			names = append(names, tl.Name)
		}
		if len(names) != 2 || names[1] != "Ticket" || req.ToolChoice.Kind == bedrockkit.ToolChoiceTool || req.ToolChoice.Kind == bedrockkit.ToolChoiceAny {
			t.Fatalf("request %d: tools %v, choice %+v; want the answer tool offered beside balance, not forced", i, names, req.ToolChoice)
		}
	}
	final := res.Messages[len(res.Messages)-1]
	if len(final.ToolCalls()) != 0 || final.Text() != goodTicket {
		t.Fatalf("final message %+v; want only the answer's text", final)
	}
	// Turn two: the history the model gets pairs every call with a result.
	if _, _, err := runTicket(t, a, stream, "Thanks!"); err != nil {
		t.Fatal(err)
	}
	reqs = m.Requests()
	open := map[string]bool{}
	for _, msg := range reqs[len(reqs)-1].Messages {
		for _, p := range msg.Parts {
			switch p := p.(type) {
			case bedrockkit.ToolCall:
				open[p.ID] = true
			case bedrockkit.ToolResult:
				delete(open, p.CallID)
			}
		}
	}
	if len(open) != 0 {
		t.Fatalf("calls without results in the next turn's history: %v", open)
	}
}

// TestResumeValue: a run that pauses for a confirmation returns no value;
// resumed, it finishes with the typed value.
func TestResumeValue(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("c1", "block_card", `{"account":"A-1"}`)),
		bedrockkittest.TextStep(goodTicket),
	)
	a, _ := ticketAgent(t, m)
	blocked := false
	a.Tools = append(a.Tools, agent.MustNewFuncTool("block_card", "Block the card.", func(ctx context.Context, in accountIn) (string, error) {
		blocked = true
		return "blocked", nil
	}, agent.ToolOptions{RequireConfirmation: true}))
	ticket, res, err := agent.RunValue[Ticket](context.Background(), a, "s1", "Block my card.")
	if err != nil || !res.Paused() || ticket != (Ticket{}) {
		t.Fatalf("ticket %+v, paused %v, err %v", ticket, res.Paused(), err)
	}
	if _, err := agent.DecodeOutput[Ticket](res); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("DecodeOutput of a paused result: %v", err)
	}
	ticket, res, err = agent.ResumeValue[Ticket](context.Background(), a, res.Pending, agent.Approve("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if !blocked || ticket.Category != "card" || res.Paused() {
		t.Fatalf("blocked %v, ticket %+v", blocked, ticket)
	}
	if reqs := m.Requests(); reqs[1].Output == nil {
		t.Fatal("the resumed call lacks Output")
	}
}

// TestOutputSummarisation: history summarisation asks for prose (no Output,
// no tools) while the turn's calls keep Output.
func TestOutputSummarisation(t *testing.T) {
	m := bedrockkittest.NewScriptedModel(
		bedrockkittest.TextStep(goodTicket),
		bedrockkittest.TextStep(goodTicket),
		bedrockkittest.TextStep("The customer's card was declined."),
		bedrockkittest.TextStep(goodTicket),
	)
	a, _ := ticketAgent(t, m)
	a.History = agent.HistoryLimits{MaxTokens: 20, KeepTurns: 1}
	for i, in := range []string{"first question about my card", "second question about my card", "third"} {
		if _, _, err := agent.RunValue[Ticket](context.Background(), a, "s1", in); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
	}
	reqs := m.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d model calls; want 2 turns, a summary, a turn", len(reqs))
	}
	if reqs[2].Output != nil || len(reqs[2].Tools) != 0 {
		t.Fatalf("the summary request has Output %v and %d tools; want prose", reqs[2].Output, len(reqs[2].Tools))
	}
	if reqs[3].Output == nil || !strings.Contains(reqs[3].System[0].(bedrockkit.Text).Text, "card was declined") {
		t.Fatalf("the turn after the summary: Output %v, system %v", reqs[3].Output, reqs[3].System)
	}
}

// TestOutputConfigErrors: RunValue needs Output; a tool named like the
// schema is refused before the model is called.
func TestOutputConfigErrors(t *testing.T) {
	m := bedrockkittest.NewScriptedModel()
	if _, _, err := agent.RunValue[Ticket](context.Background(), &agent.Agent{Model: m}, "s", "x"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("RunValue without Output: %v", err)
	}
	a, _ := ticketAgent(t, m)
	a.Tools = append(a.Tools, mustTool(agent.NewTool("Ticket", "", nil, noop)))
	if _, err := a.Run(context.Background(), "s", "x"); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("tool named like the schema: %v", err)
	}
	a, _ = ticketAgent(t, m)
	a.Output = &bedrockkit.OutputSchema{}
	if _, err := a.Run(context.Background(), "s", "x"); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("zero OutputSchema: %v", err)
	}
	if m.Calls() != 0 {
		t.Fatal("the model was called")
	}
}

// attemptMeter stands where pricing's meter middleware goes, around
// Agent.Model: it counts the calls it sees and sums their usage.
type attemptMeter struct {
	bedrockkit.Model
	mu     sync.Mutex
	allows int
	spent  bedrockkit.Usage
}

// SupportsOutput forwards the model's native structured output, as
// pricing's meter middleware does.
func (b *attemptMeter) SupportsOutput() bool {
	oc, ok := b.Model.(bedrockkit.OutputCapable)
	return ok && oc.SupportsOutput()
}

func (b *attemptMeter) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	b.mu.Lock()
	b.allows++
	b.mu.Unlock()
	resp, err := b.Model.Generate(ctx, req)
	if resp != nil {
		b.mu.Lock()
		b.spent = b.spent.Add(resp.Usage)
		b.mu.Unlock()
	}
	return resp, err
}

// Contact is an answer whose e-mail field only a real address matches, so
// masking it breaks the schema.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email" jsonschema:"pattern=^[a-z.]+@[a-z.]+$"`
}

// TestOutputGuardrail: the output guardrail sees the answer's JSON text. A
// masked answer that still matches the schema is the value; one that
// masking made invalid is withheld (a GuardrailError, never invalid JSON);
// an answer that stays invalid is reported without its raw text. No event
// holds the raw e-mail in any case.
func TestOutputGuardrail(t *testing.T) {
	const email = "sam@shop.example"
	run := func(t *testing.T, a *agent.Agent, stream bool) (*agent.RunResult, error, []agent.RunEvent) {
		t.Helper()
		var events []agent.RunEvent
		if stream {
			var res *agent.RunResult
			var err error
			for ev, e := range a.Stream(context.Background(), "s", "Who handles my case?") {
				if e != nil {
					err = e
					continue
				}
				events = append(events, ev)
				if f, ok := ev.(agent.Finished); ok {
					res = f.Result
				}
			}
			return res, err, events
		}
		a.OnEvent = func(e agent.RunEvent) { events = append(events, e) }
		res, err := a.Run(context.Background(), "s", "Who handles my case?")
		return res, err, events
	}
	noLeak := func(t *testing.T, res *agent.RunResult, err error, events []agent.RunEvent) {
		t.Helper()
		var text strings.Builder
		for i, ev := range events {
			if p := leaks(ev, email); p != "" {
				t.Fatalf("event %d (%T) holds the raw e-mail at %s", i, ev, p)
			}
			if td, ok := ev.(agent.ModelText); ok {
				text.WriteString(td.Text)
			}
		}
		if leaks(text.String(), email) != "" || leaks(err, email) != "" || leaks(res, email) != "" {
			t.Fatalf("the raw e-mail leaked: text %q, err %v", text.String(), err)
		}
	}
	for _, stream := range []bool{false, true} {
		name := map[bool]string{false: "Run", true: "Stream"}[stream]
		t.Run(name+"/masked and still valid", func(t *testing.T) {
			m := bedrockkittest.NewScriptedModel(chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText(`{"category":"card","priority":1,"summary":"Write to ` + email + `.","balance":0}`)}))
			a, _ := ticketAgent(t, m)
			a.Guardrail = streamGuard(t)
			res, err, events := run(t, a, stream)
			if err != nil {
				t.Fatal(err)
			}
			noLeak(t, res, err, events)
			ticket, err := agent.DecodeOutput[Ticket](res)
			if err != nil || ticket.Summary != "Write to {EMAIL}." {
				t.Fatalf("ticket %+v, %v", ticket, err)
			}
		})
		t.Run(name+"/masking breaks the schema", func(t *testing.T) {
			m := bedrockkittest.NewScriptedModel(chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText(`{"name":"Sam","email":"` + email + `"}`)}))
			out, err := bedrockkit.OutputSchemaFor[Contact]("")
			if err != nil {
				t.Fatal(err)
			}
			a := &agent.Agent{Model: m, Output: out, Guardrail: streamGuard(t)}
			var res *agent.RunResult
			var events []agent.RunEvent
			res, err, events = run(t, a, stream)
			var gerr *agent.GuardrailError
			if !errors.As(err, &gerr) || !errors.Is(err, bedrockkit.ErrGuardrailBlocked) || !strings.Contains(gerr.Verdict.Detail, "output schema") {
				t.Fatalf("error %v; want the answer withheld by the guardrail", err)
			}
			noLeak(t, res, err, events)
			var text string
			for _, ev := range events {
				if td, ok := ev.(agent.ModelText); ok {
					text += td.Text
				}
			}
			if (!stream && (res == nil || res.Output != "The answer was withheld by a guardrail.")) || (stream && text != "The answer was withheld by a guardrail.") {
				t.Fatalf("result %+v, streamed %q", res, text)
			}
			for _, ev := range events {
				if _, ok := ev.(agent.OutputValidated); ok {
					t.Fatal("an OutputValidated was sent for a withheld answer")
				}
			}
		})
		t.Run(name+"/invalid answer holding the e-mail", func(t *testing.T) {
			bad := bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(`{"category":"` + email + `","priority":1,"summary":"x","balance":0}`)}}
			m := bedrockkittest.NewScriptedModel(bad, bad)
			a, _ := ticketAgent(t, m)
			a.Guardrail = streamGuard(t)
			a.OutputOptions.MaxRepairs = 1
			res, err, events := run(t, a, stream)
			var oe *bedrockkit.OutputError
			if !errors.As(err, &oe) || oe.Attempts != 2 || len(oe.Violations) == 0 {
				t.Fatalf("error %v; want the OutputError", err)
			}
			noLeak(t, res, err, events)
			if stream {
				retried := false
				for _, ev := range events {
					if r, ok := ev.(agent.OutputRetried); ok && errors.Is(r.Err, bedrockkit.ErrInvalidOutput) {
						retried = true
					}
				}
				if !retried {
					t.Fatal("no OutputRetried event")
				}
			}
		})
	}
}
