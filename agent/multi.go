package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

type delegateIn struct {
	Request string `json:"request" description:"The task for this collaborator, self-contained: it does not see the conversation."`
}

// AsTool returns the agent as a tool another agent (a supervisor) can call
// with {"request": "..."} — Bedrock's supervisor mode of multi-agent
// collaboration. Each call runs a turn of a's own session, named after the
// caller's session and the tool ("<session>/<name>"), so the collaborator
// keeps its history per conversation; it does not see the supervisor's
// conversation. A collaborator that pauses (confirmation or return of
// control) answers with an error result: nested pauses are not supported.
// Its model calls count toward the caller's session's cost (see Agent.Run).
// The error wraps ErrInvalidTool when name breaks Bedrock's rule for tool
// names.
func (a *Agent) AsTool(name, description string) (*Tool, error) {
	return NewFuncTool(name, description, func(ctx context.Context, in delegateIn) (string, error) {
		session := name
		if ci, ok := CallInfoFrom(ctx); ok && ci.SessionID != "" {
			session = ci.SessionID + "/" + name
		}
		// The collaborator's events are its own (Agent.OnEvent), not the caller's run's.
		ctx = context.WithValue(ctx, observerKey{}, (func(RunEvent))(nil))
		res, err := a.Run(ctx, session, in.Request)
		if err != nil {
			return "", err
		}
		if res.Paused() {
			return "", fmt.Errorf("collaborator %q paused for the caller (confirmation or return of control), which is not supported inside another agent", name)
		}
		return res.Output, nil
	})
}

// Collaborator is an agent a Router can send requests to.
type Collaborator struct {
	// Name identifies the collaborator to the routing model.
	Name string
	// Instruction tells the routing model what the collaborator handles.
	Instruction string
	Agent       *Agent
}

// Router sends each request to the one collaborator that should handle it,
// as chosen by a routing model — Bedrock's SUPERVISOR_ROUTER mode. When the
// model picks none (the request is not simple, or fits no collaborator),
// the Fallback agent handles it; typically the supervisor, with the
// collaborators as tools (AsTool).
type Router struct {
	// Model classifies requests; a small, fast model is enough.
	Model         bedrockkit.Model
	Collaborators []Collaborator
	// Fallback handles requests no collaborator was chosen for; nil makes
	// such requests fail with ErrNoRoute.
	Fallback *Agent
}

// ErrNoRoute: the routing model chose no collaborator and the Router has no
// Fallback.
var ErrNoRoute = fmt.Errorf("agent: no collaborator fits the request and Router.Fallback is nil")

type routeIn struct {
	Collaborator string `json:"collaborator"`
}

// Route asks the routing model which collaborator should handle input. It
// returns the collaborator's name, or "" for none.
func (r *Router) Route(ctx context.Context, input string) (string, error) {
	if r.Model == nil || len(r.Collaborators) == 0 {
		return "", fmt.Errorf("agent: Router needs a Model and Collaborators: %w", bedrockkit.ErrInvalidInput)
	}
	names := make([]any, 0, len(r.Collaborators)+1)
	var b strings.Builder
	b.WriteString("Choose who should handle the user's request. Call the route tool with the collaborator's name, or \"none\" when the request needs several collaborators or fits none.\nCollaborators:\n")
	for _, c := range r.Collaborators {
		names = append(names, c.Name)
		fmt.Fprintf(&b, "- %s: %s\n", c.Name, c.Instruction)
	}
	names = append(names, "none")
	schema, _ := json.Marshal(map[string]any{
		"type": "object", "additionalProperties": false, "required": []string{"collaborator"},
		"properties": map[string]any{"collaborator": map[string]any{"type": "string", "enum": names}},
	})
	tool, err := NewTool("route", "Send the request to one collaborator.", schema, func(context.Context, json.RawMessage) ([]bedrockkit.Part, error) { return nil, nil })
	if err != nil {
		return "", err
	}
	resp, err := r.Model.Generate(ctx, &bedrockkit.Request{
		System:     []bedrockkit.Part{bedrockkit.Text{Text: b.String()}},
		Messages:   []bedrockkit.Message{bedrockkit.UserText(input)},
		Tools:      []bedrockkit.ToolSpec{tool.Definition()},
		ToolChoice: bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "route"},
	})
	if err != nil {
		return "", fmt.Errorf("agent: routing model: %w", err)
	}
	for _, c := range resp.Message.ToolCalls() {
		if c.Name != "route" {
			continue
		}
		if err := tool.Validate(c.Input); err != nil {
			return "", fmt.Errorf("agent: routing model answered an invalid route: %w", err)
		}
		var in routeIn
		_ = json.Unmarshal(c.Input, &in)
		if in.Collaborator == "none" {
			return "", nil
		}
		return in.Collaborator, nil
	}
	return "", nil // no call: treat as no route
}

// Run routes input and runs a turn of the chosen collaborator (in session
// "<sessionID>/<name>") or of the Fallback (in sessionID). It returns the
// result and the name of the collaborator that handled it ("" for the
// Fallback). The routing call and the turn count toward sessionID's cost
// (see Agent.Run).
func (r *Router) Run(ctx context.Context, sessionID, input string, opts ...RunOptions) (*RunResult, string, error) {
	ctx = withCostSession(ctx, sessionID)
	name, err := r.Route(ctx, input)
	if err != nil {
		return nil, "", err
	}
	for _, c := range r.Collaborators {
		if c.Name == name {
			res, err := c.Agent.Run(ctx, sessionID+"/"+c.Name, input, opts...)
			return res, c.Name, err
		}
	}
	if r.Fallback == nil {
		return nil, "", ErrNoRoute
	}
	res, err := r.Fallback.Run(ctx, sessionID, input, opts...)
	return res, "", err
}
