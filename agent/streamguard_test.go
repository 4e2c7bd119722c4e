package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

const streamGuardPolicy = `{
  "name": "stream-guard",
  "blockedInputMessaging": "Sorry, I can't help with that.",
  "blockedOutputsMessaging": "Sorry, I can't share that.",
  "wordPolicyConfig": {"wordsConfig": [{"text": "Project Nightingale"}]},
  "topicPolicyConfig": {"topicsConfig": [
    {"name": "Investment advice", "definition": "Recommendations about investing money in stocks, funds or crypto.",
     "examples": ["Which stocks should I buy?", "Is bitcoin a good investment?"], "type": "DENY"}
  ]},
  "sensitiveInformationPolicyConfig": {"piiEntitiesConfig": [
    {"type": "EMAIL", "action": "ANONYMIZE"},
    {"type": "CREDIT_DEBIT_CARD_NUMBER", "action": "BLOCK"}
  ]}
}`

func streamGuard(t testing.TB) guardrail.Guard {
	t.Helper()
	p, err := guardrail.ParsePolicy([]byte(streamGuardPolicy))
	if err != nil {
		t.Fatal(err)
	}
	g, err := guardrail.NewLocal(p, guardrail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// chunked scripts resp as a stream of 3-rune text deltas (tool inputs in
// 3-byte fragments), so a guard that looked at deltas one by one would miss
// what they spell together.
func chunked(resp *bedrockkit.Response) bedrockkittest.Step {
	if resp.StopReason == "" {
		resp.StopReason = bedrockkit.StopEndTurn
		if len(resp.Message.ToolCalls()) > 0 {
			resp.StopReason = bedrockkit.StopToolUse
		}
	}
	resp.Message.Role = bedrockkit.RoleAssistant
	return bedrockkittest.Step{Events: bedrockkittest.ResponseEvents(resp, 3)}
}

// leaks reports the path of the first string inside v (walking structs,
// pointers, interfaces, slices, maps and errors' messages) that contains
// secret, case-insensitively.
func leaks(v any, secret string) string {
	secret = strings.ToLower(secret)
	seen := map[uintptr]bool{}
	var walk func(rv reflect.Value, path string) string
	walk = func(rv reflect.Value, path string) string {
		if !rv.IsValid() {
			return ""
		}
		if rv.CanInterface() {
			if e, ok := rv.Interface().(error); ok && !(rv.Kind() == reflect.Pointer && rv.IsNil()) && !(rv.Kind() == reflect.Interface && rv.IsNil()) {
				if strings.Contains(strings.ToLower(e.Error()), secret) {
					return path + ".Error()"
				}
			}
		}
		switch rv.Kind() {
		case reflect.String:
			if strings.Contains(strings.ToLower(rv.String()), secret) {
				return path
			}
		case reflect.Pointer:
			if rv.IsNil() || seen[rv.Pointer()] {
				return ""
			}
			seen[rv.Pointer()] = true
			return walk(rv.Elem(), path)
		case reflect.Interface:
			return walk(rv.Elem(), path)
		case reflect.Struct:
			for i := range rv.NumField() {
				if p := walk(rv.Field(i), path+"."+rv.Type().Field(i).Name); p != "" {
					return p
				}
			}
		case reflect.Slice, reflect.Array:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				b := make([]byte, rv.Len())
				reflect.Copy(reflect.ValueOf(b), rv)
				if strings.Contains(strings.ToLower(string(b)), secret) {
					return path
				}
				return ""
			}
			for i := range rv.Len() {
				if p := walk(rv.Index(i), path+"["+string(rune('0'+i%10))+"]"); p != "" {
					return p
				}
			}
		case reflect.Map:
			for _, k := range rv.MapKeys() {
				if p := walk(rv.MapIndex(k), path+"[key]"); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(reflect.ValueOf(v), "$")
}

// TestGuardedStreamNeverLeaks streams answers the output guardrail masks or
// blocks, split into 3-rune deltas, and checks that the raw text appears in
// no event of the stream (text deltas, model calls, guardrail events,
// results, errors) nor in the error, while the streamed text equals the
// guarded answer.
func TestGuardedStreamNeverLeaks(t *testing.T) {
	lookup := agent.MustNewFuncTool("lookup", "Look up a customer.", func(ctx context.Context, v cityIn) (string, error) {
		return "customer found", nil
	})
	cases := []struct {
		name    string
		steps   []bedrockkittest.Step
		secret  string
		text    string // the streamed text of the last model call
		blocked bool
	}{
		{
			name:   "masked e-mail in the answer",
			steps:  []bedrockkittest.Step{chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("Write to sam@shop.example for a refund.")})},
			secret: "sam@shop.example", text: "Write to {EMAIL} for a refund.",
		},
		{
			name:   "blocked word",
			steps:  []bedrockkittest.Step{chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("Project Nightingale launches on Monday.")})},
			secret: "nightingale", text: "Sorry, I can't share that.", blocked: true,
		},
		{
			name:   "blocked card number",
			steps:  []bedrockkittest.Step{chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("The card on file is 4111 1111 1111 1111, valid until 2030.")})},
			secret: "4111 1111", text: "Sorry, I can't share that.", blocked: true,
		},
		{
			name:   "denied topic",
			steps:  []bedrockkittest.Step{chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("You should buy stocks in Acme and put the rest of your savings in bitcoin; it is a good investment.")})},
			secret: "bitcoin", text: "Sorry, I can't share that.", blocked: true,
		},
		{
			name: "e-mail in the text beside a tool call",
			steps: []bedrockkittest.Step{
				chunked(&bedrockkit.Response{Message: bedrockkit.Message{Parts: []bedrockkit.Part{
					bedrockkit.Text{Text: "Let me look up sam@shop.example first."},
					bedrockkit.ToolCall{ID: "c1", Name: "lookup", Input: json.RawMessage(`{"city":"Oslo","unit":"c"}`)},
				}}}),
				chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("Found the customer.")}),
			},
			secret: "sam@shop.example", text: "Found the customer.",
		},
		{
			name: "blocked word beside a tool call",
			steps: []bedrockkittest.Step{
				chunked(&bedrockkit.Response{Message: bedrockkit.Message{Parts: []bedrockkit.Part{
					bedrockkit.Text{Text: "Checking Project Nightingale records."},
					bedrockkit.ToolCall{ID: "c1", Name: "lookup", Input: json.RawMessage(`{"city":"Oslo","unit":"c"}`)},
				}}}),
				chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("Found the customer.")}),
			},
			secret: "nightingale", text: "Found the customer.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			model := bedrockkittest.NewScriptedModel(tc.steps...)
			a := &agent.Agent{Model: model, Tools: []*agent.Tool{lookup}, Guardrail: streamGuard(t)}
			var events []agent.RunEvent
			var runErr error
			texts := map[int]string{}
			for ev, err := range a.Stream(context.Background(), "s", "Help me please.") {
				if err != nil {
					runErr = err
					continue
				}
				events = append(events, ev)
				if td, ok := ev.(agent.ModelText); ok {
					texts[td.Iteration] += td.Text
				}
			}
			var all strings.Builder
			for i := range len(tc.steps) + 1 {
				all.WriteString(texts[i])
			}
			if leaks(all.String(), tc.secret) != "" {
				t.Fatalf("the streamed text %q spells the raw %q", all.String(), tc.secret)
			}
			for i, ev := range events {
				if p := leaks(ev, tc.secret); p != "" {
					t.Fatalf("event %d (%T) holds the raw %q at %s", i, ev, tc.secret, p)
				}
			}
			if p := leaks(runErr, tc.secret); p != "" {
				t.Fatalf("the error holds the raw %q at %s", tc.secret, p)
			}
			var gerr *agent.GuardrailError
			if tc.blocked != errors.As(runErr, &gerr) {
				t.Fatalf("error %v; blocked = %v", runErr, tc.blocked)
			}
			if !tc.blocked && runErr != nil {
				t.Fatal(runErr)
			}
			if got := texts[len(tc.steps)]; got != tc.text {
				t.Fatalf("streamed text of the last call %q; want %q (all: %v)", got, tc.text, texts)
			}
			// Run (no stream) gives the same guarded events, text aside.
			model2 := bedrockkittest.NewScriptedModel(tc.steps...)
			b := &agent.Agent{Model: model2, Tools: []*agent.Tool{lookup}, Guardrail: streamGuard(t)}
			var runEvents []agent.RunEvent
			b.OnEvent = func(e agent.RunEvent) { runEvents = append(runEvents, e) }
			res, err := b.Run(context.Background(), "s", "Help me please.")
			for i, ev := range runEvents {
				if p := leaks(ev, tc.secret); p != "" {
					t.Fatalf("Run: event %d (%T) holds the raw %q at %s", i, ev, tc.secret, p)
				}
			}
			if p := leaks(res, tc.secret); p != "" {
				t.Fatalf("Run: result holds the raw %q at %s", tc.secret, p)
			}
			if p := leaks(err, tc.secret); p != "" {
				t.Fatalf("Run: error holds the raw %q at %s", tc.secret, p)
			}
			if res == nil || res.Output != tc.text {
				t.Fatalf("Run output %+v; want %q", res, tc.text)
			}
		})
	}
}

// TestUnguardedStreamStillStreams: without a guardrail, text deltas arrive
// while the model call is in progress, before its ModelCalled event.
func TestUnguardedStreamStillStreams(t *testing.T) {
	model := bedrockkittest.NewScriptedModel(chunked(&bedrockkit.Response{Message: bedrockkit.AssistantText("Hello there, how can I help?")}))
	a := &agent.Agent{Model: model}
	deltas := 0
	for ev, err := range a.Stream(context.Background(), "s", "hi") {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.(type) {
		case agent.ModelText:
			deltas++
		case agent.ModelCalled:
			if deltas < 5 {
				t.Fatalf("%d text deltas before ModelCalled; want the 3-rune pieces live", deltas)
			}
		}
	}
}

// FuzzGuardedStream: whatever the answer and however it is split into
// deltas, a guarded stream never emits a character the guard removed, and
// the streamed text of the answer is the guarded answer. The guard masks
// every digit, so a digit anywhere in an event is a leak.
func FuzzGuardedStream(f *testing.F) {
	for _, s := range []struct {
		text  string
		chunk uint8
	}{{"card 4111 1111 1111 1111", 1}, {"no digits here", 3}, {"", 2}, {"1", 0}, {"日本語 123 ünï", 2}} {
		f.Add(s.text, s.chunk)
	}
	mask := agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		if stage != agent.StageOutput || !strings.ContainsAny(text, "0123456789") {
			return agent.Intervention{}, nil
		}
		return agent.Intervention{Text: strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '#'
			}
			return r
		}, text)}, nil
	})
	f.Fuzz(func(t *testing.T, text string, chunk uint8) {
		if !strings.ContainsAny(text, "0123456789") {
			text += " 7" // always something to mask
		}
		resp := &bedrockkit.Response{Message: bedrockkit.AssistantText(text), StopReason: bedrockkit.StopEndTurn}
		model := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Events: bedrockkittest.ResponseEvents(resp, int(chunk%8))})
		a := &agent.Agent{Model: model, Guardrail: mask}
		var streamed strings.Builder
		var final *agent.RunResult
		for ev, err := range a.Stream(context.Background(), "s", "hi") {
			if err != nil {
				t.Fatal(err)
			}
			for d := range 10 {
				if p := leaks(ev, string(rune('0'+d))); p != "" {
					t.Fatalf("%T holds a digit at %s", ev, p)
				}
			}
			switch e := ev.(type) {
			case agent.ModelText:
				streamed.WriteString(e.Text)
			case agent.Finished:
				final = e.Result
			}
		}
		if final == nil || streamed.String() != final.Output {
			t.Fatalf("streamed %q, final %+v", streamed.String(), final)
		}
	})
}
