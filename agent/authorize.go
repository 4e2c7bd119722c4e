package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

var (
	// ErrToolCallDenied is returned by CallAuthorized when the authorizer
	// denied the call or could not decide. It wraps
	// bedrockkit.ErrAccessDenied.
	ErrToolCallDenied = fmt.Errorf("agent: tool call denied: %w", bedrockkit.ErrAccessDenied)
	// ErrAuthorizerFailed is returned by CallAuthorized when the
	// authorizer returned an error or panicked: the call was refused
	// without a decision (fail closed). It wraps ErrToolCallDenied.
	ErrAuthorizerFailed = fmt.Errorf("agent: the tool authorizer failed: %w", ErrToolCallDenied)
)

// ToolAuthorizer decides whether a tool call may run. The agent asks it
// about every call the model makes, after the call's arguments passed the
// tool's schema and the tool-input guardrail and before anything runs: tools
// the agent runs, tools that pause for confirmation (asked again when the
// approved call is about to run on Resume) and return-of-control tools
// (before the call is handed to the caller).
//
// The verified caller is in ctx (agent/identity.CallerFrom for requests
// served through agent/identity): decide by it, never by anything the model
// wrote. An error means the authorizer could not decide; the agent then fails
// closed: the tool does not run and the model is told the call was refused.
// agent/policy implements it with Cedar policies. Implementations must be
// safe for concurrent use.
type ToolAuthorizer interface {
	AuthorizeToolCall(ctx context.Context, req ToolCallRequest) (ToolDecision, error)
}

// ToolAuthorizerFunc adapts a function to ToolAuthorizer.
type ToolAuthorizerFunc func(ctx context.Context, req ToolCallRequest) (ToolDecision, error)

// AuthorizeToolCall calls f.
func (f ToolAuthorizerFunc) AuthorizeToolCall(ctx context.Context, req ToolCallRequest) (ToolDecision, error) {
	return f(ctx, req)
}

// ToolCallRequest is a tool call waiting for authorization. Its input has
// been validated against the tool's schema.
type ToolCallRequest struct {
	// Tool is the tool the model called.
	Tool *Tool
	// Call is the model's call: its ID, the tool's name and the validated
	// arguments (never empty: no arguments is {}).
	Call bedrockkit.ToolCall
	// Info describes the call as a running tool sees it (session ID and
	// attributes, iteration, idempotency key). Outside a run (CallAuthorized)
	// only what the caller put in the context is set.
	Info CallInfo
}

// ToolDecision is a ToolAuthorizer's answer.
type ToolDecision struct {
	// Allowed lets the call run.
	Allowed bool
	// Reason says why a call was denied, in words the model can act on. It
	// is shown to the model, so it must hold no secret. Empty gives a
	// generic refusal.
	Reason string
	// Policies are the IDs of the policies that decided: the forbids that
	// matched, or else the permits that matched. Empty for a deny because
	// no policy permits the call (default deny).
	Policies []string
	// Errors are problems met while deciding that did not stop the decision
	// (for Cedar, policies skipped because their evaluation failed).
	Errors []string
}

// ToolAuthorized reports the authorization of one tool call: the decision
// and the policies that made it, or the error that made the agent refuse
// the call (fail closed). A denied or refused call is then reported by a
// ToolCalled event whose result is the refusal.
type ToolAuthorized struct {
	Iteration      int
	Call           bedrockkit.ToolCall
	IdempotencyKey string
	Decision       ToolDecision
	// Err is set when the authorizer failed; the call did not run.
	Err error
}

func (ToolAuthorized) isEvent() {}

// refusal is the text the model sees for a denied call.
func (d ToolDecision) refusal(tool string) string {
	msg := fmt.Sprintf("The call to tool %q was denied by policy", tool)
	if len(d.Policies) > 0 {
		msg += " (" + strings.Join(d.Policies, ", ") + ")"
	}
	if d.Reason != "" {
		msg += ": " + d.Reason
	}
	return msg + ". Do not retry it with the same arguments; tell the user it is not permitted or continue without it."
}

const authFailedText = "The call to tool %q could not be authorized (the policy check failed), so it was not run. Do not retry it; tell the user it cannot be done now."

// authorize asks the agent's authorizer about a validated call. It returns
// true when the call may go on; otherwise it emits ToolAuthorized and
// ToolCalled and returns the refusal the model sees. With no authorizer
// every call goes on and nothing is emitted.
func (r *runner) authorize(ctx context.Context, t *Tool, c bedrockkit.ToolCall, key string) (bedrockkit.ToolResult, bool) {
	az := r.a.Authorizer
	if az == nil {
		return bedrockkit.ToolResult{}, true
	}
	info := CallInfo{SessionID: r.sess.ID, CallID: c.ID, IdempotencyKey: key, Iteration: r.iter,
		Attributes: r.sess.Attributes, PromptAttributes: r.sess.PromptAttributes}
	d, err := askAuthorizer(ctx, az, t, c, info)
	r.emit(ToolAuthorized{Iteration: r.iter, Call: c, IdempotencyKey: key, Decision: d, Err: err})
	if err == nil && d.Allowed {
		return bedrockkit.ToolResult{}, true
	}
	text := d.refusal(c.Name)
	if err != nil {
		text = fmt.Sprintf(authFailedText, c.Name)
	}
	res := textResult(c.ID, text, true)
	r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: res, IdempotencyKey: key})
	return res, false
}

// askAuthorizer calls az with a copy of the call, so that nothing the
// authorizer does can change what runs, and turns a panic into an error
// (fail closed).
func askAuthorizer(ctx context.Context, az ToolAuthorizer, t *Tool, c bedrockkit.ToolCall, info CallInfo) (d ToolDecision, err error) {
	if len(bytes.TrimSpace(c.Input)) == 0 {
		c.Input = json.RawMessage(`{}`)
	}
	c.Input = bytes.Clone(c.Input)
	info.Attributes, info.PromptAttributes = maps.Clone(info.Attributes), maps.Clone(info.PromptAttributes)
	defer func() {
		if v := recover(); v != nil {
			d, err = ToolDecision{}, fmt.Errorf("agent: tool authorizer panicked: %v", v)
		}
	}()
	d, err = az.AuthorizeToolCall(ctx, ToolCallRequest{Tool: t, Call: c, Info: info})
	if err != nil {
		return ToolDecision{}, fmt.Errorf("agent: authorize call to tool %q: %w", c.Name, err)
	}
	d.Policies = slices.Clone(d.Policies)
	return d, nil
}

// CallAuthorized is Tool.Call behind an authorizer, for calls made outside
// an agent run: the input is validated, then az decides, and only an
// allowed call runs. A denied call returns an error wrapping
// ErrToolCallDenied, and one az could not decide on an error wrapping
// ErrAuthorizerFailed and the authorizer's error, without running the
// tool; the decision is returned either way.
// The CallInfo in ctx, if any, is passed to az.
func CallAuthorized(ctx context.Context, az ToolAuthorizer, t *Tool, input json.RawMessage) ([]bedrockkit.Part, ToolDecision, error) {
	if t == nil {
		return nil, ToolDecision{}, fmt.Errorf("agent: nil tool: %w", ErrInvalidTool)
	}
	if az == nil {
		return nil, ToolDecision{}, fmt.Errorf("agent: CallAuthorized needs an authorizer: %w", bedrockkit.ErrInvalidInput)
	}
	if err := t.Validate(input); err != nil {
		return nil, ToolDecision{}, err
	}
	info, _ := CallInfoFrom(ctx)
	d, err := askAuthorizer(ctx, az, t, bedrockkit.ToolCall{ID: info.CallID, Name: t.name, Input: input}, info)
	if err != nil {
		return nil, d, fmt.Errorf("agent: %w: %w", err, ErrAuthorizerFailed)
	}
	if !d.Allowed {
		return nil, d, fmt.Errorf("agent: %s: %w", d.refusal(t.name), ErrToolCallDenied)
	}
	parts, err := t.Call(ctx, input)
	return parts, d, err
}
