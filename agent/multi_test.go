package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestAgentAsTool(t *testing.T) {
	mathModel := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("42"))
	mathAgent := &agent.Agent{Model: mathModel, Instructions: "You do arithmetic."}
	sup := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("d1", "math", `{"request":"6 times 7"}`)),
		bedrockkittest.TextStep("The answer is 42."),
	)
	a := &agent.Agent{Model: sup, Tools: []*agent.Tool{mustTool(mathAgent.AsTool("math", "Does arithmetic"))}}
	res, err := a.Run(context.Background(), "conv", "what is 6*7?")
	if err != nil || res.Output != "The answer is 42." {
		t.Fatal(err, res)
	}
	if got := resultText(lastResults(t, sup)[0]); got != "42" {
		t.Fatalf("collaborator result %q", got)
	}
	if got := mathModel.Requests()[0].Messages[0].Text(); got != "6 times 7" {
		t.Fatalf("collaborator got %q", got)
	}
}

func TestRouter(t *testing.T) {
	billing := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Your invoice is paid."))}
	fallback := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Let me coordinate."))}
	router := bedrockkittest.NewScriptedModel(
		bedrockkittest.ToolStep(call("r", "route", `{"collaborator":"billing"}`)),
		bedrockkittest.ToolStep(call("r", "route", `{"collaborator":"none"}`)),
		bedrockkittest.ToolStep(call("r", "route", `{"collaborator":"hacker"}`)),
	)
	r := &agent.Router{Model: router, Fallback: fallback, Collaborators: []agent.Collaborator{
		{Name: "billing", Instruction: "invoices and payments", Agent: billing},
		{Name: "tech", Instruction: "technical problems", Agent: &agent.Agent{Model: bedrockkittest.NewScriptedModel()}},
	}}
	res, who, err := r.Run(context.Background(), "s", "is my invoice paid?")
	if err != nil || who != "billing" || res.Output != "Your invoice is paid." {
		t.Fatal(err, who, res)
	}
	req := router.Requests()[0]
	if req.ToolChoice.Name != "route" || len(req.Tools) != 1 {
		t.Fatalf("routing request %+v", req)
	}
	var schema map[string]any
	_ = json.Unmarshal(req.Tools[0].InputSchema, &schema)
	res, who, err = r.Run(context.Background(), "s", "fix my bill and my wifi")
	if err != nil || who != "" || res.Output != "Let me coordinate." {
		t.Fatal(err, who, res)
	}
	if _, _, err = r.Run(context.Background(), "s", "x"); !errors.Is(err, agent.ErrInvalidToolCall) {
		t.Fatalf("out-of-enum route: %v", err)
	}
}
