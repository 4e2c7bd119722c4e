package agent

import (
	"errors"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// Sentinel errors of the agent package. Each wraps bedrockkit.ErrInvalidInput
// where the caller passed something invalid.
var (
	// ErrMaxIterations: the run reached Limits.MaxIterations model calls
	// without a final answer. Raise the limit, simplify the task, or check the
	// tools' results for a loop. The partial RunResult is returned with it.
	ErrMaxIterations = errors.New("agent: maximum iterations reached")
	// ErrTooManyInvalidCalls: the model made more invalid tool calls (unknown
	// tool, bad JSON, schema violation) than Limits.MaxToolRetries allows.
	// Improve the tool descriptions or use a stronger model.
	ErrTooManyInvalidCalls = errors.New("agent: too many invalid tool calls")
	// ErrInvalidToolCall: a tool call was refused before running. The model
	// is shown the reason; this error reaches callers only through CallError.
	ErrInvalidToolCall = errors.New("agent: invalid tool call")
	// ErrToolPanicked: a tool's function panicked; the panic was recovered
	// and the error says with what value. Tool.Call returns it wrapped; in
	// an agent run the model is shown the failure and ToolCalled.Panicked
	// is set.
	ErrToolPanicked = errors.New("agent: tool panicked")
	// ErrInvalidTool: a tool definition is invalid (bad name, schema that does
	// not compile, Go type without a JSON schema). Fix the tool.
	ErrInvalidTool = fmt.Errorf("agent: invalid tool: %w", bedrockkit.ErrInvalidInput)
	// ErrNotPending: Resume was given a state that is no longer waiting:
	// it was already resumed, or a later pause replaced it. Each pause can be
	// resumed once.
	ErrNotPending = fmt.Errorf("agent: run is not pending (already resumed?): %w", bedrockkit.ErrInvalidInput)
	// ErrUnknownCall: a decision names a call the pending state does not hold.
	ErrUnknownCall = fmt.Errorf("agent: decision for an unknown tool call: %w", bedrockkit.ErrInvalidInput)
	// ErrMissingDecision: Resume was not given a decision for every pending call.
	ErrMissingDecision = fmt.Errorf("agent: missing decision for a pending tool call: %w", bedrockkit.ErrInvalidInput)
	// ErrPendingUnsigned: Resume was given a pending state that is neither
	// the value Run returned in this process nor signed with the agent's
	// Pause.Key (hand-built, or decoded from a form without a signature).
	// Set Agent.Pause.Key, hand out the signed form (Pending.MarshalBinary
	// or json.Marshal) and resume with what comes back.
	ErrPendingUnsigned = fmt.Errorf("agent: pending state is not signed: %w", bedrockkit.ErrInvalidInput)
	// ErrPendingTampered: the pending state does not match the pause it
	// names — a bad signature (edited, forged, or signed with another key),
	// fields that differ from the stored pause, calls the model did not
	// make, or counters out of range. Nothing was run. Resume with the state
	// exactly as Run returned it, with the key that signed it.
	ErrPendingTampered = fmt.Errorf("agent: pending state was altered or forged: %w", bedrockkit.ErrInvalidInput)
	// ErrPendingExpired: the pause is older than Agent.Pause.TTL. Start a
	// new turn with Run.
	ErrPendingExpired = fmt.Errorf("agent: pending state has expired: %w", bedrockkit.ErrInvalidInput)
	// ErrInvalidDecision: a decision's result or reason is not acceptable:
	// parts a tool result cannot hold (tool calls, nested results,
	// reasoning), invalid UTF-8 or JSON, or more than
	// Agent.Pause.MaxResultBytes.
	ErrInvalidDecision = fmt.Errorf("agent: invalid decision: %w", bedrockkit.ErrInvalidInput)
	// ErrSessionNotFound: Memory has no session with that ID.
	ErrSessionNotFound = errors.New("agent: session not found")
	// ErrConflict: the session changed since it was loaded (two runs on one
	// session at once). Run turns of one session one after another.
	ErrConflict = errors.New("agent: session was modified concurrently")
)

// PendingError says why Resume (or decoding) refused a pending state. It
// wraps ErrPendingUnsigned, ErrPendingTampered or ErrPendingExpired.
type PendingError struct {
	// PendingID and SessionID are as the state claims them.
	PendingID string
	SessionID string
	// Reason says what is wrong.
	Reason string
	// Err is the sentinel.
	Err error
}

// Error says what is wrong and what to do.
func (e *PendingError) Error() string {
	what, todo := "refused", ""
	switch e.Err {
	case ErrPendingUnsigned:
		what, todo = "is not signed", "set Agent.Pause.Key and hand out the signed form (Pending.MarshalBinary or json.Marshal), or pass the *Pending Run returned"
	case ErrPendingTampered:
		what, todo = "was altered or forged", "nothing was run; resume with the state exactly as Run returned it, with the key that signed it"
	case ErrPendingExpired:
		what, todo = "has expired", "start a new turn with Run, or raise Agent.Pause.TTL"
	}
	msg := fmt.Sprintf("agent: pending state %q of session %q %s: %s", e.PendingID, e.SessionID, what, e.Reason)
	if todo != "" {
		msg += "; " + todo
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *PendingError) Unwrap() error { return e.Err }

// LimitError reports which limit stopped a run. It wraps ErrMaxIterations or
// ErrTooManyInvalidCalls (or bedrockkit.ErrBudgetExceeded for the token budget).
type LimitError struct {
	// Limit names the field of Limits that was reached.
	Limit string
	// Value is the limit's value.
	Value int
	// Err is the sentinel.
	Err error
}

// Error says which limit was reached and what to do.
func (e *LimitError) Error() string {
	switch e.Err {
	case ErrMaxIterations:
		return fmt.Sprintf("agent: no final answer after %d model calls (Limits.MaxIterations); raise the limit or check the tools for a loop; the partial result is returned", e.Value)
	case ErrTooManyInvalidCalls:
		return fmt.Sprintf("agent: the model made more than %d invalid tool calls (Limits.MaxToolRetries); improve the tool descriptions or schemas", e.Value)
	}
	return fmt.Sprintf("agent: %s (%d) reached: %v", e.Limit, e.Value, e.Err)
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }
