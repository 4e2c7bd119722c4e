package serve

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// SessionHeader is the header that names the session of an invocation, as
// AgentCore Runtime sends it. Its value is 33 to 256 characters; an
// invocation without it starts a new session, whose ID the reply carries
// in the same header.
const SessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

// RequestIDHeader is the header AgentCore Runtime sets to the ID of each
// invocation; it is recorded on the invocation's span.
const RequestIDHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"

// Session ID length limits of AgentCore Runtime.
const (
	MinSessionIDLen = 33
	MaxSessionIDLen = 256
)

// InvocationRequest is the JSON body of POST /invocations: a new turn
// (Prompt), or the answer to a paused run (Resume).
type InvocationRequest struct {
	// Prompt is the user's input for a new turn.
	Prompt string `json:"prompt,omitempty"`
	// SessionAttributes are merged into the session's attributes, which
	// tools see (agent.RunOptions.SessionAttributes).
	SessionAttributes map[string]string `json:"session_attributes,omitempty"`
	// PromptAttributes hold for this turn and are shown to the model
	// (agent.RunOptions.PromptAttributes).
	PromptAttributes map[string]string `json:"prompt_attributes,omitempty"`
	// Resume answers the session's paused run instead of starting a turn.
	Resume *ResumeRequest `json:"resume,omitempty"`
}

// ResumeRequest answers a paused run: one decision per pending call.
type ResumeRequest struct {
	// PendingID is PendingState.ID of the pause being answered.
	PendingID string           `json:"pending_id"`
	Decisions []DecisionRecord `json:"decisions"`
}

// DecisionRecord is the JSON form of an agent.Decision. For a call that
// needs confirmation set Approved (and Reason when denying); for a call
// that returned control set Result (a JSON string becomes a text result,
// any other JSON value a JSON result) or Error.
type DecisionRecord struct {
	CallID   string          `json:"call_id"`
	Approved bool            `json:"approved,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// Decision converts the record to an agent.Decision.
func (d DecisionRecord) Decision() (agent.Decision, error) {
	switch {
	case d.CallID == "":
		return agent.Decision{}, fmt.Errorf("serve: a decision has no call_id: %w", bedrockkit.ErrInvalidInput)
	case d.Error != "" && d.Result != nil:
		return agent.Decision{}, fmt.Errorf("serve: decision for %q has both result and error; send one: %w", d.CallID, bedrockkit.ErrInvalidInput)
	case d.Error != "":
		return agent.RespondError(d.CallID, d.Error), nil
	case d.Result != nil:
		if !json.Valid(d.Result) {
			return agent.Decision{}, fmt.Errorf("serve: decision for %q has a result that is not JSON: %w", d.CallID, bedrockkit.ErrInvalidInput)
		}
		var s string
		if json.Unmarshal(d.Result, &s) == nil {
			return agent.Respond(d.CallID, bedrockkit.Text{Text: s}), nil
		}
		return agent.Respond(d.CallID, bedrockkit.JSON{Value: d.Result}), nil
	case d.Approved:
		return agent.Approve(d.CallID), nil
	}
	return agent.Deny(d.CallID, d.Reason), nil
}

// RecordOf converts an agent.Decision to its JSON form. Results must be
// text or JSON parts.
func RecordOf(d agent.Decision) (DecisionRecord, error) {
	r := DecisionRecord{CallID: d.CallID, Approved: d.Approved, Reason: d.Reason}
	if d.Result == nil {
		return r, nil
	}
	r.Approved, r.Reason = false, ""
	if d.Result.IsError {
		r.Error = bedrockkit.Message{Parts: d.Result.Parts}.Text()
		if r.Error == "" {
			r.Error = "the caller's run of the tool failed"
		}
		return r, nil
	}
	switch len(d.Result.Parts) {
	case 0:
		r.Result = json.RawMessage(`""`)
		return r, nil
	case 1:
		switch p := d.Result.Parts[0].(type) {
		case bedrockkit.Text:
			r.Result, _ = json.Marshal(p.Text)
			return r, nil
		case bedrockkit.JSON:
			r.Result = p.Value
			return r, nil
		}
	}
	text := ""
	for _, p := range d.Result.Parts {
		t, ok := p.(bedrockkit.Text)
		if !ok {
			return DecisionRecord{}, fmt.Errorf("serve: the result of call %q holds a %T part; only text or one JSON part cross HTTP: %w", d.CallID, p, bedrockkit.ErrUnsupported)
		}
		text += t.Text
	}
	r.Result, _ = json.Marshal(text)
	return r, nil
}

// Invocation statuses.
const (
	StatusSuccess = "success" // the turn finished with an answer
	StatusPaused  = "paused"  // the run waits for decisions (Pending)
	StatusBlocked = "blocked" // a guardrail blocked the input or the answer; Output is its message
)

// InvocationResponse is the JSON reply of a finished, paused or blocked
// invocation, and the Response of the final stream event.
type InvocationResponse struct {
	SessionID  string          `json:"session_id"`
	Status     string          `json:"status"`
	Output     string          `json:"output"`
	StopReason string          `json:"stop_reason,omitempty"`
	Usage      InvocationUsage `json:"usage"`
	Iterations int             `json:"iterations,omitempty"`
	// Pending is set when Status is "paused".
	Pending *PendingState `json:"pending,omitempty"`
}

// InvocationUsage is an invocation's token usage in the response JSON.
type InvocationUsage struct {
	InputTokens      int `json:"input_tokens"`
	OutputTokens     int `json:"output_tokens"`
	CacheReadTokens  int `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
}

func usageOf(u bedrockkit.Usage) InvocationUsage {
	return InvocationUsage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CacheReadTokens: u.CacheReadTokens, CacheWriteTokens: u.CacheWriteTokens}
}

// PendingState is what a caller sees of a paused run: its ID and the calls
// waiting for a decision. The run's state itself stays in the server's
// Memory; a caller answers with the ID (ResumeRequest) and can neither
// read nor alter the rest.
type PendingState struct {
	ID    string                  `json:"id"`
	Calls []InvocationPendingCall `json:"calls"`
}

// InvocationPendingCall is one tool call of a paused invocation waiting for
// the caller (return of control or confirmation), in the response JSON.
type InvocationPendingCall struct {
	CallID string          `json:"call_id"`
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input"`
	// Kind is "confirm" (approve or deny) or "return_control" (send the result).
	Kind           string `json:"kind"`
	IdempotencyKey string `json:"idempotency_key"`
}

func pendingOf(p *agent.Pending) *PendingState {
	if p == nil {
		return nil
	}
	s := &PendingState{ID: p.ID, Calls: make([]InvocationPendingCall, 0, len(p.Calls))}
	for _, c := range p.Calls {
		in := c.Call.Input
		if len(in) == 0 || !json.Valid(in) {
			in = json.RawMessage(`{}`)
		}
		s.Calls = append(s.Calls, InvocationPendingCall{CallID: c.Call.ID, Name: c.Call.Name, Input: in, Kind: string(c.Kind), IdempotencyKey: c.IdempotencyKey})
	}
	return s
}

// InvocationEvent is one server-sent event of a streaming invocation: the
// JSON of one "data:" line. Type says which fields are set:
//
//   - "text_delta": Iteration, Text (model text as it arrives; with a
//     Guardrail, each model call's text once the guardrail has checked it)
//   - "model_called": Iteration, Model, StopReason, Usage, DurationMS, Error
//   - "tool_called": Iteration, CallID, Name, IsError, Invalid, Replayed,
//     DurationMS, and Input and Result when Options.ExposeToolContent is set
//   - "tool_authorized": Iteration, CallID, Name, Allowed, Policies, and
//     Error when the authorizer failed (the call was refused); sent only
//     when the agent has an Authorizer
//   - "guardrail": Stage, Blocked, CallID
//   - "memory_recalled": Recalled (how many long-term memory records were
//     shown to the model), Withheld (how many the guardrail blocked), and
//     Error when the recall failed and the turn went on without memory
//     (agent.Agent.ContinueOnRecallError); never the remembered text
//   - "memory_handed_off": Error when long-term memory refused the
//     finished turn, which will then not be remembered
//   - "summarized": Messages
//   - "paused", "finished": Response (the last event of the stream)
//   - "error": Error, ErrorType, Message, StatusCode (the last event)
type InvocationEvent struct {
	Type       string              `json:"type"`
	Iteration  int                 `json:"iteration,omitempty"`
	Text       string              `json:"text,omitempty"`
	Model      string              `json:"model,omitempty"`
	StopReason string              `json:"stop_reason,omitempty"`
	Usage      *InvocationUsage    `json:"usage,omitempty"`
	DurationMS float64             `json:"duration_ms,omitempty"`
	CallID     string              `json:"call_id,omitempty"`
	Name       string              `json:"name,omitempty"`
	Input      json.RawMessage     `json:"input,omitempty"`
	Result     json.RawMessage     `json:"result,omitempty"`
	IsError    bool                `json:"is_error,omitempty"`
	Invalid    bool                `json:"invalid,omitempty"`
	Replayed   bool                `json:"replayed,omitempty"`
	Allowed    bool                `json:"allowed,omitempty"`
	Policies   []string            `json:"policies,omitempty"`
	Stage      string              `json:"stage,omitempty"`
	Blocked    bool                `json:"blocked,omitempty"`
	Recalled   int                 `json:"recalled,omitempty"`
	Withheld   int                 `json:"withheld,omitempty"`
	Messages   int                 `json:"messages,omitempty"`
	Response   *InvocationResponse `json:"response,omitempty"`
	Error      string              `json:"error,omitempty"`
	ErrorType  string              `json:"error_type,omitempty"`
	Message    string              `json:"message,omitempty"`
	StatusCode int                 `json:"status_code,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// eventOf converts an agent event; ok is false for events not streamed
// (Observation, Failure, Finished and Paused, which the handler turns
// into the final event itself).
func eventOf(ev agent.RunEvent, exposeTools bool) (InvocationEvent, bool) {
	switch e := ev.(type) {
	case agent.ModelText:
		return InvocationEvent{Type: "text_delta", Iteration: e.Iteration, Text: e.Text}, true
	case agent.ModelCalled:
		u := usageOf(e.Usage)
		out := InvocationEvent{Type: "model_called", Iteration: e.Iteration, Model: e.Model, StopReason: string(e.StopReason), Usage: &u, DurationMS: ms(e.Duration)}
		if e.Err != nil {
			out.Error = "the model call failed"
		}
		return out, true
	case agent.ToolCalled:
		out := InvocationEvent{Type: "tool_called", Iteration: e.Iteration, CallID: e.Call.ID, Name: e.Call.Name,
			IsError: e.Result.IsError, Invalid: e.Invalid, Replayed: e.Replayed, DurationMS: ms(e.Duration)}
		if exposeTools {
			if json.Valid(e.Call.Input) {
				out.Input = e.Call.Input
			}
			out.Result, _ = json.Marshal(bedrockkit.Message{Parts: e.Result.Parts}.Text())
		}
		return out, true
	case agent.ToolAuthorized:
		out := InvocationEvent{Type: "tool_authorized", Iteration: e.Iteration, CallID: e.Call.ID, Name: e.Call.Name,
			Allowed: e.Err == nil && e.Decision.Allowed, Policies: e.Decision.Policies}
		if e.Err != nil {
			out.Error = "the tool authorizer failed; the call was refused"
		}
		return out, true
	case agent.GuardrailIntervened:
		return InvocationEvent{Type: "guardrail", Stage: string(e.Stage), Blocked: e.Verdict.Blocked, CallID: e.CallID}, true
	case agent.MemoryRecalled:
		out := InvocationEvent{Type: "memory_recalled", Recalled: len(e.Recollections), Withheld: e.Withheld}
		if e.Err != nil {
			out.Error = "the long-term memory recall failed; the turn went on without memory"
		}
		return out, true
	case agent.MemoryHandedOff:
		out := InvocationEvent{Type: "memory_handed_off"}
		if e.Err != nil {
			out.Error = "long-term memory refused the turn; it will not be remembered"
		}
		return out, true
	case agent.Summarized:
		return InvocationEvent{Type: "summarized", Messages: e.Messages}, true
	}
	return InvocationEvent{}, false
}

// errorBody is the JSON of an error reply.
type errorBody struct {
	Error     string `json:"error"`
	ErrorType string `json:"error_type"`
	SessionID string `json:"session_id,omitempty"`
}

// PingStatus is the JSON reply of GET /ping.
type PingStatus struct {
	// Status is "Healthy" (idle) or "HealthyBusy" (invocations or
	// background work in progress).
	Status string `json:"status"`
	// TimeOfLastUpdate is when Status last changed, in Unix seconds.
	TimeOfLastUpdate int64 `json:"time_of_last_update"`
}

// Ping statuses.
const (
	Healthy     = "Healthy"
	HealthyBusy = "HealthyBusy"
)
