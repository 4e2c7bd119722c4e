package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestSessionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	{
		mem, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
		a := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hi Ana.")), Memory: mem}
		if _, err := a.Run(ctx, "user/ana", "I am Ana", agent.RunOptions{SessionAttributes: map[string]string{"tier": "gold"}}); err != nil {
			t.Fatal(err)
		}
	}
	mem, _ := agent.OpenFileMemory(context.Background(), dir, agent.FileMemoryOptions{})
	m := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("You are Ana."))
	var seen map[string]string
	who := agent.MustNewFuncTool("who", "Who is calling", func(ctx context.Context, in struct{}) (string, error) {
		ci, _ := agent.CallInfoFrom(ctx)
		seen = ci.Attributes
		return "ok", nil
	})
	m2 := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("w", "who", `{}`)), bedrockkittest.TextStep("You are Ana."))
	_ = m
	a := &agent.Agent{Model: m2, Memory: mem, Tools: []*agent.Tool{who}}
	if _, err := a.Run(ctx, "user/ana", "who am I?"); err != nil {
		t.Fatal(err)
	}
	msgs := m2.Requests()[0].Messages
	if len(msgs) != 3 || msgs[0].Text() != "I am Ana" || msgs[1].Text() != "Hi Ana." {
		t.Fatalf("history not restored: %+v", msgs)
	}
	if seen["tier"] != "gold" {
		t.Fatalf("session attributes not restored: %v", seen)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "session-user.2f.ana.json")); err != nil {
		t.Fatalf("session file name: %v", err)
	}
}

func TestMemoryConflictAndNotFound(t *testing.T) {
	ctx := context.Background()
	fm, _ := agent.OpenFileMemory(context.Background(), t.TempDir(), agent.FileMemoryOptions{})
	for name, mem := range map[string]agent.Memory{"in-memory": agent.NewInMemory(), "file": fm} {
		t.Run(name, func(t *testing.T) {
			if _, err := mem.Load(ctx, "x"); !errors.Is(err, agent.ErrSessionNotFound) {
				t.Fatalf("load unknown: %v", err)
			}
			s := &agent.Session{ID: "x", Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
			if err := mem.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			a, _ := mem.Load(ctx, "x")
			b, _ := mem.Load(ctx, "x")
			a.Summary = "first"
			if err := mem.Save(ctx, a); err != nil {
				t.Fatal(err)
			}
			b.Summary = "second"
			if err := mem.Save(ctx, b); !errors.Is(err, agent.ErrConflict) {
				t.Fatalf("stale save: want ErrConflict, got %v", err)
			}
			got, _ := mem.Load(ctx, "x")
			if got.Summary != "first" || got.Messages[0].Text() != "hi" {
				t.Fatalf("stored %+v", got)
			}
			if err := mem.Delete(ctx, "x"); err != nil {
				t.Fatal(err)
			}
			if _, err := mem.Load(ctx, "x"); !errors.Is(err, agent.ErrSessionNotFound) {
				t.Fatalf("after delete: %v", err)
			}
		})
	}
}

func TestSummarizationKeepsRecentTurns(t *testing.T) {
	ctx := context.Background()
	m := bedrockkittest.NewScriptedModel()
	a := &agent.Agent{Model: m, History: agent.HistoryLimits{MaxTokens: 60, KeepTurns: 1}}
	long := strings.Repeat("word ", 40) // ~50 tokens by the estimate
	m.Push(bedrockkittest.TextStep("answer one"))
	if _, err := a.Run(ctx, "s", "first "+long); err != nil {
		t.Fatal(err)
	}
	m.Push(bedrockkittest.TextStep("answer two"))
	if _, err := a.Run(ctx, "s", "second question"); err != nil {
		t.Fatal(err)
	}
	// Third turn: history (two turns) is over budget: the first turn is
	// summarised, the second is kept verbatim.
	m.Push(bedrockkittest.TextStep("The user asked a first question with many words."), bedrockkittest.TextStep("answer three"))
	var summarized bool
	a.OnEvent = func(e agent.RunEvent) {
		if s, ok := e.(agent.Summarized); ok && s.Messages == 2 {
			summarized = true
		}
	}
	if _, err := a.Run(ctx, "s", "third"); err != nil {
		t.Fatal(err)
	}
	reqs := m.Requests()
	sumReq, last := reqs[2], reqs[3]
	if !strings.Contains(sumReq.Messages[0].Text(), "first word") {
		t.Fatalf("summariser did not get the old turn: %q", sumReq.Messages[0].Text())
	}
	if len(last.Messages) != 3 || last.Messages[0].Text() != "second question" || last.Messages[2].Text() != "third" {
		t.Fatalf("recent turns not verbatim: %+v", last.Messages)
	}
	if sys := (bedrockkit.Message{Parts: last.System}).Text(); !strings.Contains(sys, "a first question with many words") {
		t.Fatalf("summary not in system prompt: %q", sys)
	}
	if !summarized {
		t.Fatal("no Summarized event")
	}
}

func TestGuardrailStages(t *testing.T) {
	guard := agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		switch {
		case stage == agent.StageInput && strings.Contains(text, "attack"):
			return agent.Intervention{Blocked: true, Message: "Sorry, I can't help with that.", Detail: "denied topic"}, nil
		case stage == agent.StageToolResult && strings.Contains(text, "555-0100"):
			return agent.Intervention{Text: strings.ReplaceAll(text, "555-0100", "{PHONE}")}, nil
		}
		return agent.Intervention{}, nil
	})
	phone := agent.MustNewFuncTool("phone", "Phone number", func(ctx context.Context, in cityIn) (string, error) {
		return "call 555-0100", nil
	})
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("p", "phone", `{"city":"x"}`)), bedrockkittest.TextStep("done"))
	a := &agent.Agent{Model: m, Guardrail: guard, Tools: []*agent.Tool{phone}}
	res, err := a.Run(context.Background(), "s", "plan an attack")
	var ge *agent.GuardrailError
	if !errors.Is(err, bedrockkit.ErrGuardrailBlocked) || !errors.As(err, &ge) || res.Output != "Sorry, I can't help with that." {
		t.Fatalf("blocked input: %v %+v", err, res)
	}
	if m.Calls() != 0 {
		t.Fatal("model called on blocked input")
	}
	if _, err := a.Run(context.Background(), "s", "phone?"); err != nil {
		t.Fatal(err)
	}
	if rs := lastResults(t, m); resultText(rs[0]) != "call {PHONE}" {
		t.Fatalf("tool result not masked: %q", resultText(rs[0]))
	}
}

func TestKnowledgeBaseTool(t *testing.T) {
	kb := agent.KnowledgeBaseTool{Name: "handbook", Description: "Company handbook", NumberOfResults: 2,
		Retriever: agent.RetrieverFunc(func(ctx context.Context, q string, n int) ([]agent.Passage, error) {
			return []agent.Passage{{Text: "Leave is 25 days.", Source: "hr.md"}}, nil
		})}
	m := bedrockkittest.NewScriptedModel(bedrockkittest.ToolStep(call("k", "handbook", `{"query":"leave days"}`)), bedrockkittest.TextStep("25 days."))
	a := &agent.Agent{Model: m, KnowledgeBases: []agent.KnowledgeBaseTool{kb}}
	if _, err := a.Run(context.Background(), "s", "how much leave?"); err != nil {
		t.Fatal(err)
	}
	if got := resultText(lastResults(t, m)[0]); got != "[1] (source: hr.md) Leave is 25 days.\n" {
		t.Fatalf("kb result %q", got)
	}
	if tools := m.Requests()[0].Tools; len(tools) != 1 || tools[0].Name != "handbook" {
		t.Fatalf("tools %+v", tools)
	}
}

func TestTokenBudget(t *testing.T) {
	resp := &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{call("c", "echo", `{"city":"x"}`)}},
		Usage: bedrockkit.Usage{InputTokens: 100, OutputTokens: 20}}
	m := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: resp}, bedrockkittest.TextStep("never"))
	a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}, Limits: agent.Limits{MaxTokens: 100}}
	res, err := a.Run(context.Background(), "s", "go")
	if !errors.Is(err, bedrockkit.ErrBudgetExceeded) || res.Usage.Total() != 120 || m.Calls() != 1 {
		t.Fatalf("err %v usage %+v calls %d", err, res.Usage, m.Calls())
	}
}
