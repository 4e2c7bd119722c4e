package pgmemory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/pgmemory"
)

// memoryBehaviour is the agent.Memory contract as a table. The agent
// package's own memory tests are unexported, so this is an equivalent (and
// wider) set; it runs against agent.InMemory and agent.FileMemory too, so
// the table itself is checked against the reference implementations even
// without a server.
var memoryBehaviour = []struct {
	name string
	run  func(t *testing.T, mem agent.Memory)
}{
	{"load unknown is ErrSessionNotFound", func(t *testing.T, mem agent.Memory) {
		_, err := mem.Load(context.Background(), "nobody")
		if !errors.Is(err, agent.ErrSessionNotFound) {
			t.Fatalf("want ErrSessionNotFound, got %v", err)
		}
	}},
	{"stale save is ErrConflict and the first save stays", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		s := &agent.Session{ID: "x", Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
		must(t, mem.Save(ctx, s))
		a := load(t, mem, "x")
		b := load(t, mem, "x")
		a.Summary = "first"
		must(t, mem.Save(ctx, a))
		b.Summary = "second"
		if err := mem.Save(ctx, b); !errors.Is(err, agent.ErrConflict) {
			t.Fatalf("stale save: want ErrConflict, got %v", err)
		}
		if b.Version != 1 {
			t.Fatalf("refused save changed Version to %d", b.Version)
		}
		got := load(t, mem, "x")
		if got.Summary != "first" || got.Messages[0].Text() != "hi" {
			t.Fatalf("stored %+v", got)
		}
	}},
	{"save increments Version and sets UpdatedAt", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		s := &agent.Session{ID: "v"}
		for want := int64(1); want <= 3; want++ {
			must(t, mem.Save(ctx, s))
			if s.Version != want || s.UpdatedAt.IsZero() {
				t.Fatalf("after save %d: Version %d UpdatedAt %v", want, s.Version, s.UpdatedAt)
			}
			if got := load(t, mem, "v"); got.Version != want || !got.UpdatedAt.Equal(s.UpdatedAt) {
				t.Fatalf("loaded Version %d UpdatedAt %v, saved %d %v", got.Version, got.UpdatedAt, want, s.UpdatedAt)
			}
		}
	}},
	{"a second new session with the same ID is ErrConflict", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		must(t, mem.Save(ctx, &agent.Session{ID: "dup", Summary: "one"}))
		if err := mem.Save(ctx, &agent.Session{ID: "dup", Summary: "two"}); !errors.Is(err, agent.ErrConflict) {
			t.Fatalf("want ErrConflict, got %v", err)
		}
		if got := load(t, mem, "dup"); got.Summary != "one" {
			t.Fatalf("stored summary %q", got.Summary)
		}
	}},
	{"a save based on a version never stored is ErrConflict", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		if err := mem.Save(ctx, &agent.Session{ID: "ghost", Version: 4}); !errors.Is(err, agent.ErrConflict) {
			t.Fatalf("want ErrConflict, got %v", err)
		}
		if _, err := mem.Load(ctx, "ghost"); !errors.Is(err, agent.ErrSessionNotFound) {
			t.Fatalf("refused save stored something: %v", err)
		}
	}},
	{"delete, then load is not found and a stale save conflicts", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		s := &agent.Session{ID: "d"}
		must(t, mem.Save(ctx, s))
		must(t, mem.Delete(ctx, "d"))
		if _, err := mem.Load(ctx, "d"); !errors.Is(err, agent.ErrSessionNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := mem.Save(ctx, s); !errors.Is(err, agent.ErrConflict) {
			t.Fatalf("save after delete: want ErrConflict, got %v", err)
		}
		must(t, mem.Delete(ctx, "d"))     // again: not an error
		must(t, mem.Delete(ctx, "never")) // unknown: not an error
		// The ID is free again for a new session.
		must(t, mem.Save(ctx, &agent.Session{ID: "d"}))
	}},
	{"sessions are independent", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		must(t, mem.Save(ctx, &agent.Session{ID: "a", Summary: "A"}))
		must(t, mem.Save(ctx, &agent.Session{ID: "b", Summary: "B"}))
		must(t, mem.Delete(ctx, "a"))
		if got := load(t, mem, "b"); got.Summary != "B" {
			t.Fatalf("b: %+v", got)
		}
	}},
	{"every field round-trips exactly", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		s := richSession("rich/é 🙂")
		must(t, mem.Save(ctx, s))
		got := load(t, mem, s.ID)
		want, _ := json.Marshal(s)
		have, _ := json.Marshal(got)
		if !bytes.Equal(want, have) {
			t.Fatalf("round trip changed the session:\nsaved  %s\nloaded %s", want, have)
		}
		// Raw JSON keeps its key order (jsonb would sort it).
		if in := string(got.Pending.Calls[0].Call.Input); in != `{"to":"bob","amount":10,"a":[1,2]}` {
			t.Fatalf("tool input %s", in)
		}
		if txt := got.Messages[0].Text(); txt != "nul\x00byte and \"quotes\" \u2028" {
			t.Fatalf("text %q", txt)
		}
	}},
	{"loaded sessions are copies", func(t *testing.T, mem agent.Memory) {
		ctx := context.Background()
		must(t, mem.Save(ctx, &agent.Session{ID: "c", Attributes: map[string]string{"k": "v"}}))
		a := load(t, mem, "c")
		a.Attributes["k"] = "changed"
		if got := load(t, mem, "c"); got.Attributes["k"] != "v" {
			t.Fatalf("store shares state with a loaded session: %v", got.Attributes)
		}
	}},
	{"cancelled context", func(t *testing.T, mem agent.Memory) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := mem.Load(ctx, "x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("load: %v", err)
		}
		if err := mem.Save(ctx, &agent.Session{ID: "x"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("save: %v", err)
		}
		if _, err := mem.Load(context.Background(), "x"); !errors.Is(err, agent.ErrSessionNotFound) {
			t.Fatalf("cancelled save stored something: %v", err)
		}
	}},
}

func TestMemoryBehaviour(t *testing.T) {
	impls := map[string]func(t *testing.T) agent.Memory{
		"in-memory": func(t *testing.T) agent.Memory { return agent.NewInMemory() },
		"file": func(t *testing.T) agent.Memory {
			m, err := agent.OpenFileMemory(context.Background(), t.TempDir(), agent.FileMemoryOptions{})
			must(t, err)
			return m
		},
		"postgres": func(t *testing.T) agent.Memory {
			m, err := pgmemory.New(context.Background(), sharedPool(t), pgmemory.Options{Table: newTable(t)})
			must(t, err)
			return m
		},
	}
	for _, impl := range []string{"in-memory", "file", "postgres"} {
		t.Run(impl, func(t *testing.T) {
			for _, tc := range memoryBehaviour {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, impls[impl](t)) })
			}
		})
	}
}

// richSession sets every field of agent.Session.
func richSession(id string) *agent.Session {
	call := bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: json.RawMessage(`{"to":"bob","amount":10,"a":[1,2]}`)}
	res := bedrockkit.ToolResult{CallID: "e1", Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"z":1,"y":{"x":null}}`)}}}
	return &agent.Session{
		ID: id,
		Messages: []bedrockkit.Message{
			bedrockkit.UserText("nul\x00byte and \"quotes\" \u2028"),
			{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "checking"}, call}},
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{res, bedrockkit.ToolResult{CallID: "t2", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "boom"}}, IsError: true}}},
		},
		Summary:          "earlier: the user asked for a refund",
		Attributes:       map[string]string{"tier": "gold", "empty": ""},
		PromptAttributes: map[string]string{"currency": "EUR"},
		Pending: &agent.Pending{ID: "p1", SessionID: id, Turn: 2, Iteration: 1,
			Messages:         []bedrockkit.Message{{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{call}}},
			Calls:            []agent.PendingCall{{Call: call, Kind: agent.KindConfirm, IdempotencyKey: "k-t1"}},
			Results:          []bedrockkit.ToolResult{res},
			Usage:            bedrockkit.Usage{InputTokens: 12, OutputTokens: 3},
			PromptAttributes: map[string]string{"currency": "EUR"}, InvalidCalls: 1},
		InProgress: &agent.Checkpoint{Input: "refund", ResumeID: "p0", Messages: []bedrockkit.Message{bedrockkit.UserText("refund")},
			Iteration: 2, Usage: bedrockkit.Usage{InputTokens: 5}, InvalidCalls: 1},
		Records: map[string]bedrockkit.ToolResult{"k-e1": res},
		Resumed: []string{"p0"},
		Turns:   2,
	}
}

func load(t *testing.T, mem agent.Memory, id string) *agent.Session {
	t.Helper()
	s, err := mem.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("load %q: %v", id, err)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
