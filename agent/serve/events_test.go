package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// memoryOf recalls fixed recollections (or fails) and refuses hand-offs
// with handOffErr.
type memoryOf struct {
	recs       []agent.Recollection
	recallErr  error
	handOffErr error
}

func (m memoryOf) Recall(context.Context, agent.RecallQuery) ([]agent.Recollection, error) {
	return m.recs, m.recallErr
}

func (m memoryOf) Remember(context.Context, agent.FinishedTurn) error { return m.handOffErr }

// streamEvents runs one streamed invocation and returns its events.
func streamEvents(t *testing.T, c *serve.Client, session, prompt string) []serve.InvocationEvent {
	t.Helper()
	var out []serve.InvocationEvent
	for ev, err := range c.Stream(context.Background(), session, serve.InvocationRequest{Prompt: prompt}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func ofType(evs []serve.InvocationEvent, typ string) []serve.InvocationEvent {
	var out []serve.InvocationEvent
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestStreamAuthorizationAndMemoryEvents: tool authorizations and
// long-term memory recalls and hand-offs are streamed, without the
// remembered text or the underlying errors' messages.
func TestStreamAuthorizationAndMemoryEvents(t *testing.T) {
	type cityIn struct {
		City string `json:"city"`
	}
	weather := agent.MustNewFuncTool("weather", "Weather", func(ctx context.Context, v cityIn) (string, error) { return "sunny", nil })
	transfer := agent.MustNewFuncTool("transfer", "Transfer", func(ctx context.Context, v cityIn) (string, error) { return "sent", nil })
	a := newAgent(bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(
			bedrockkit.ToolCall{ID: "c1", Name: "weather", Input: json.RawMessage(`{"city":"Oslo"}`)},
			bedrockkit.ToolCall{ID: "c2", Name: "transfer", Input: json.RawMessage(`{"city":"Oslo"}`)},
		),
		bedrockkittest.TextStep("Sunny; no transfer."),
		bedrockkittest.TextStep("Hello again."),
	), weather, transfer)
	a.Authorizer = agent.ToolAuthorizerFunc(func(ctx context.Context, req agent.ToolCallRequest) (agent.ToolDecision, error) {
		if req.Call.Name == "weather" {
			return agent.ToolDecision{Allowed: true, Policies: []string{"p-read"}}, nil
		}
		return agent.ToolDecision{Policies: []string{"f-money"}}, nil
	})
	a.LongTerm = memoryOf{recs: []agent.Recollection{{ID: "m1", Text: "secret-ish: lives in Porto"}}, handOffErr: errors.New("queue full at shard-7")}
	_, _, c := start(t, a, serve.Options{})

	evs := streamEvents(t, c, sid("events"), "weather?")
	az := ofType(evs, "tool_authorized")
	if len(az) != 2 {
		t.Fatalf("tool_authorized events %+v", az)
	}
	slices.SortFunc(az, func(x, y serve.InvocationEvent) int { return strings.Compare(x.CallID, y.CallID) })
	if e := az[0]; e.CallID != "c1" || e.Name != "weather" || !e.Allowed || !slices.Equal(e.Policies, []string{"p-read"}) || e.Iteration != 1 {
		t.Errorf("weather authorization %+v", e)
	}
	if e := az[1]; e.CallID != "c2" || e.Name != "transfer" || e.Allowed || !slices.Equal(e.Policies, []string{"f-money"}) || e.Error != "" {
		t.Errorf("transfer authorization %+v", e)
	}
	rec := ofType(evs, "memory_recalled")
	if len(rec) != 1 || rec[0].Recalled != 1 || rec[0].Withheld != 0 || rec[0].Error != "" {
		t.Fatalf("memory_recalled events %+v", rec)
	}
	hand := ofType(evs, "memory_handed_off")
	if len(hand) != 1 || hand[0].Error == "" || strings.Contains(hand[0].Error, "shard-7") {
		t.Fatalf("memory_handed_off events %+v; want an error that does not repeat the store's message", hand)
	}
	for _, e := range evs {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "Porto") {
			t.Fatalf("remembered text streamed: %s", b)
		}
	}
	if last := evs[len(evs)-1]; last.Type != "finished" {
		t.Fatalf("last event %+v", last)
	}

	// A recall that failed, which the agent went on without.
	a2 := newAgent(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Hello.")))
	a2.LongTerm = memoryOf{recallErr: errors.New("dial tcp 10.0.0.7:5432: refused")}
	a2.ContinueOnRecallError = true
	_, _, c2 := start(t, a2, serve.Options{})
	evs = streamEvents(t, c2, sid("recallfail"), "hi")
	rec = ofType(evs, "memory_recalled")
	if len(rec) != 1 || rec[0].Recalled != 0 || rec[0].Error == "" || strings.Contains(rec[0].Error, "10.0.0.7") {
		t.Fatalf("memory_recalled after a failed recall %+v", rec)
	}
	if hand := ofType(evs, "memory_handed_off"); len(hand) != 1 || hand[0].Error != "" {
		t.Fatalf("memory_handed_off %+v", hand)
	}
}
