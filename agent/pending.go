package agent

import (
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// PendingKind says what a paused call waits for.
type PendingKind string

// Pending kinds.
const (
	// KindConfirm: the tool needs the caller's approval before it runs
	// (answer with Approve or Deny).
	KindConfirm PendingKind = "confirm"
	// KindReturnControl: the caller runs the tool and supplies its result
	// (answer with Respond or RespondError).
	KindReturnControl PendingKind = "return_control"
)

// PendingCall is one tool call waiting for the caller.
type PendingCall struct {
	Call bedrockkit.ToolCall
	Kind PendingKind
	// IdempotencyKey identifies the call across retries; pass it on to any
	// external system the call changes.
	IdempotencyKey string
}

// Pending is a paused run: the tool calls waiting for approval or for their
// results, and everything needed to continue the run, possibly in another
// process. It encodes to JSON (json.Marshal) and back (json.Unmarshal); give
// the decoded value to Agent.Resume. Each Pending can be resumed once.
type Pending struct {
	// ID identifies this pause (Bedrock's invocationId).
	ID        string
	SessionID string
	// Turn is the index of the paused turn in the session.
	Turn int
	// Iteration is the number of model calls made so far in the turn.
	Iteration int
	// Messages is the turn so far; the last one is the assistant message
	// holding the calls.
	Messages []bedrockkit.Message
	// Calls are the calls waiting for the caller, in the model's order.
	Calls []PendingCall
	// Results are the results already known for the other calls of the last
	// message (tools that ran, or invalid calls).
	Results []bedrockkit.ToolResult
	// Usage is the token usage of the turn so far.
	Usage bedrockkit.Usage
	// PromptAttributes are the turn's prompt attributes.
	PromptAttributes map[string]string
	// InvalidCalls counts invalid tool calls in the turn so far.
	InvalidCalls int
}

type wirePendingCall struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Input          json.RawMessage `json:"input,omitempty"`
	InputText      string          `json:"input_text,omitempty"`
	Kind           PendingKind     `json:"kind"`
	IdempotencyKey string          `json:"idempotency_key"`
}

type wirePending struct {
	Version          int               `json:"version"`
	ID               string            `json:"id"`
	SessionID        string            `json:"session_id"`
	Turn             int               `json:"turn"`
	Iteration        int               `json:"iteration"`
	Messages         []wireMessage     `json:"messages"`
	Calls            []wirePendingCall `json:"calls"`
	Results          []wirePart        `json:"results,omitempty"`
	Usage            bedrockkit.Usage  `json:"usage"`
	PromptAttributes map[string]string `json:"prompt_attributes,omitempty"`
	InvalidCalls     int               `json:"invalid_calls,omitempty"`
}

const pendingFormat = 1

// MarshalJSON encodes the pending state.
func (p *Pending) MarshalJSON() ([]byte, error) {
	ms, err := encodeMessages(p.Messages)
	if err != nil {
		return nil, err
	}
	rs, err := encodeResults(p.Results)
	if err != nil {
		return nil, err
	}
	w := wirePending{Version: pendingFormat, ID: p.ID, SessionID: p.SessionID, Turn: p.Turn,
		Iteration: p.Iteration, Messages: ms, Results: rs, Usage: p.Usage,
		PromptAttributes: p.PromptAttributes, InvalidCalls: p.InvalidCalls}
	for _, c := range p.Calls {
		wc := wirePendingCall{ID: c.Call.ID, Name: c.Call.Name, Input: c.Call.Input, Kind: c.Kind, IdempotencyKey: c.IdempotencyKey}
		if len(wc.Input) > 0 && !json.Valid(wc.Input) {
			wc.Input, wc.InputText = nil, string(c.Call.Input)
		}
		w.Calls = append(w.Calls, wc)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a pending state written by MarshalJSON.
func (p *Pending) UnmarshalJSON(b []byte) error {
	var w wirePending
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("agent: decode pending state: %w", err)
	}
	if w.Version != pendingFormat {
		return fmt.Errorf("agent: pending state has format version %d, this build reads %d", w.Version, pendingFormat)
	}
	ms, err := decodeMessages(w.Messages)
	if err != nil {
		return err
	}
	rs, err := decodeResults(w.Results)
	if err != nil {
		return err
	}
	*p = Pending{ID: w.ID, SessionID: w.SessionID, Turn: w.Turn, Iteration: w.Iteration,
		Messages: ms, Results: rs, Usage: w.Usage, PromptAttributes: w.PromptAttributes, InvalidCalls: w.InvalidCalls}
	for _, c := range w.Calls {
		in := c.Input
		if c.InputText != "" {
			in = json.RawMessage(c.InputText)
		}
		p.Calls = append(p.Calls, PendingCall{Call: bedrockkit.ToolCall{ID: c.ID, Name: c.Name, Input: in}, Kind: c.Kind, IdempotencyKey: c.IdempotencyKey})
	}
	return nil
}

// Decision answers one pending call. Build it with Approve, Deny, Respond or
// RespondError.
type Decision struct {
	CallID string
	// Approved answers a KindConfirm call.
	Approved bool
	// Reason is shown to the model when a call is denied.
	Reason string
	// Result answers a KindReturnControl call; nil for confirmations.
	Result *bedrockkit.ToolResult
}

// Approve lets a call that needs confirmation run.
func Approve(callID string) Decision { return Decision{CallID: callID, Approved: true} }

// Deny refuses a call that needs confirmation; the model is told it was
// denied, with reason.
func Deny(callID, reason string) Decision { return Decision{CallID: callID, Reason: reason} }

// Respond supplies the result of a return-of-control call.
func Respond(callID string, parts ...bedrockkit.Part) Decision {
	return Decision{CallID: callID, Result: &bedrockkit.ToolResult{CallID: callID, Parts: parts}}
}

// RespondError reports that the caller's run of a return-of-control call failed.
func RespondError(callID, message string) Decision {
	return Decision{CallID: callID, Result: &bedrockkit.ToolResult{CallID: callID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: message}}, IsError: true}}
}
