package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// These tests run agents with Output through the real ConverseModel and
// aws-sdk-go-v2 client against FakeBedrock, which refuses requests Bedrock
// would refuse (a tool use without its result, roles out of turn, ...).

const (
	sonnet45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" // native structured output
	novaLite = "amazon.nova-lite-v1:0"                        // answer tool
)

func fakeModel(t *testing.T, fake *bedrockkittest.FakeBedrock, id string) *bedrockkit.ConverseModel {
	t.Helper()
	m, err := bedrockkit.NewConverseModel(fake.Client(), id, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wireBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func toolNames(body map[string]any) []string {
	var names []string
	tc, _ := body["toolConfig"].(map[string]any)
	tools, _ := tc["tools"].([]any)
	for _, tl := range tools {
		spec, _ := tl.(map[string]any)["toolSpec"].(map[string]any)
		name, _ := spec["name"].(string)
		names = append(names, name)
	}
	return names
}

func toolUse(id, name, input string) bedrockkit.Message {
	return bedrockkit.Message{Parts: []bedrockkit.Part{call(id, name, input)}}
}

// TestFakeBedrockNativeOutputWithTools: a model with native structured
// output gets outputConfig and the tools on every call, calls a tool, then
// answers with an invalid value, is asked to repair it, and the repaired
// value is decoded.
func TestFakeBedrockNativeOutputWithTools(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Message: toolUse("tooluse_1", "balance", `{"account":"A-1"}`), Usage: bedrockkit.Usage{InputTokens: 300, OutputTokens: 20}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText(`{"category":"card","priority":9,"summary":"Declined.","balance":1250}`), Usage: bedrockkit.Usage{InputTokens: 340, OutputTokens: 30}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText(goodTicket), Usage: bedrockkit.Usage{InputTokens: 400, OutputTokens: 30}},
	)
	a, calls := ticketAgent(t, fakeModel(t, fake, sonnet45))
	ticket, res, err := agent.RunValue[Ticket](context.Background(), a, "s1", "My card was declined. Account A-1.")
	if err != nil {
		t.Fatal(err)
	}
	if ticket.Priority != 2 || ticket.Balance != 1250 || len(*calls) != 1 || res.Usage.InputTokens != 1040 {
		t.Fatalf("ticket %+v, calls %v, usage %+v", ticket, *calls, res.Usage)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d Converse calls", len(reqs))
	}
	for i, r := range reqs {
		body := wireBody(t, r.Body)
		if _, ok := body["outputConfig"]; !ok {
			t.Fatalf("call %d has no outputConfig: %s", i, r.Body)
		}
		if names := toolNames(body); len(names) != 1 || names[0] != "balance" {
			t.Fatalf("call %d tools %v; want the agent's tool only (native path)", i, names)
		}
	}
	if !strings.Contains(string(reqs[2].Body), "at '/priority'") {
		t.Fatalf("the repair request does not say what is wrong: %s", reqs[2].Body)
	}
}

// TestFakeBedrockAnswerToolWithTools: a model without native structured
// output gets the answer tool offered beside the agent's tool (toolChoice
// auto: forcing it would stop the model calling balance), calls balance,
// then the answer tool together with another balance call, which is not
// run. A second turn's history passes FakeBedrock's validation (no tool
// use without its result).
//
// Streamed, the same holds when StructuredOutput runs the answer tool
// itself (OutputForcedTool). With OutputAuto, ConverseModel runs it and its
// stream still passes on the other tool's call (see the "stream, auto"
// case, where the answer is called alone).
func TestFakeBedrockAnswerToolWithTools(t *testing.T) {
	cases := []struct {
		name      string
		stream    bool
		technique bedrockkit.OutputTechnique
		beside    bool
	}{
		{"generate, auto", false, bedrockkit.OutputAuto, true},
		{"generate, forced tool", false, bedrockkit.OutputForcedTool, true},
		{"stream, forced tool", true, bedrockkit.OutputForcedTool, true},
		{"stream, auto", true, bedrockkit.OutputAuto, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := bedrockkittest.OpConverse
			if tc.stream {
				op = bedrockkittest.OpConverseStream
			}
			answer := bedrockkit.Message{Parts: []bedrockkit.Part{call("tooluse_3", "Ticket", goodTicket)}}
			if tc.beside {
				answer.Parts = append([]bedrockkit.Part{call("tooluse_2", "balance", `{"account":"A-2"}`)}, answer.Parts...)
			}
			fake := bedrockkittest.NewFakeBedrock(t)
			fake.Enqueue(op,
				bedrockkittest.Reply{Message: toolUse("tooluse_1", "balance", `{"account":"A-1"}`), ChunkSize: 4},
				bedrockkittest.Reply{Message: answer, ChunkSize: 4},
				bedrockkittest.Reply{Message: toolUse("tooluse_4", "Ticket", `{"category":"other","priority":1,"summary":"Thanks.","balance":0}`), ChunkSize: 4},
			)
			a, calls := ticketAgent(t, fakeModel(t, fake, novaLite))
			a.OutputOptions.Technique = tc.technique
			var streamed strings.Builder
			var deltas int
			ticket, _, err := runTicketEvents(t, a, tc.stream, "Card declined, account A-1.", func(ev agent.RunEvent) {
				if td, ok := ev.(agent.ModelText); ok && td.Iteration == 2 {
					streamed.WriteString(td.Text)
					deltas++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if ticket.Balance != 1250 || len(*calls) != 1 || (*calls)[0] != "A-1" {
				t.Fatalf("ticket %+v, balance calls %v", ticket, *calls)
			}
			if tc.stream && (deltas < 2 || !strings.Contains(streamed.String(), `"category":"card"`)) {
				t.Fatalf("streamed answer %q in %d deltas; want the answer tool's input as text, in pieces", streamed.String(), deltas)
			}
			for i, r := range fake.Requests()[:2] {
				body := wireBody(t, r.Body)
				names := toolNames(body)
				if len(names) != 2 || names[0] != "balance" || names[1] != "Ticket" {
					t.Fatalf("call %d tools %v", i, names)
				}
				choice, _ := body["toolConfig"].(map[string]any)["toolChoice"].(map[string]any)
				if _, forced := choice["tool"]; forced {
					t.Fatalf("call %d forces the answer tool beside the agent's tools: %v", i, choice)
				}
				if _, forced := choice["any"]; forced {
					t.Fatalf("call %d forces a tool: %v", i, choice)
				}
			}
			// The next turn: FakeBedrock validates the whole history.
			if _, _, err := runTicketEvents(t, a, tc.stream, "Thanks!", nil); err != nil {
				t.Fatalf("second turn: %v", err)
			}
		})
	}
}

// runTicketEvents is runTicket passing each streamed event to fn.
func runTicketEvents(t *testing.T, a *agent.Agent, stream bool, input string, fn func(agent.RunEvent)) (Ticket, *agent.RunResult, error) {
	t.Helper()
	if !stream {
		return agent.RunValue[Ticket](context.Background(), a, "s1", input)
	}
	var res *agent.RunResult
	for ev, err := range a.Stream(context.Background(), "s1", input) {
		if err != nil {
			return Ticket{}, res, err
		}
		if fn != nil {
			fn(ev)
		}
		if f, ok := ev.(agent.Finished); ok {
			res = f.Result
		}
	}
	v, err := agent.DecodeOutput[Ticket](res)
	return v, res, err
}
