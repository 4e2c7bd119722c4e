package agent

import (
	"encoding/json"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// RunEvent is one step of a run, for tracing and streaming. It is sealed: the
// concrete types are ModelText, ModelCalled, OutputRetried, ToolAuthorized,
// ToolCalled, Observation, GuardrailIntervened, Summarized, MemoryRecalled,
// MemoryHandedOff, OutputValidated, Failure, Paused and Finished. They mirror
// Bedrock's agent traces (model invocation, invocation input, observation,
// guardrail, failure) and map onto OpenTelemetry GenAI spans.
type RunEvent interface {
	isEvent()
}

// ModelText is a piece of model text, sent only by Stream and
// ResumeStream. Without a Guardrail it is sent as the model writes it.
// With a Guardrail, no text is sent before the guardrail has checked it:
// the text of each model call is held until the call ends and the output
// check is done, then sent as one ModelText holding the guarded text (the
// masked text, or for a blocked answer the blocked message; text beside
// tool calls that the guardrail blocks is not sent at all). The TextDeltas
// of the last model call then spell RunResult.Output.
type ModelText struct {
	Iteration int
	Text      string
}

// ModelCalled reports one model call.
type ModelCalled struct {
	Iteration int
	// Model is the model ID when the Model reports one (ModelID() method,
	// as bedrockkit.ConverseModel has), else empty.
	Model      string
	Start      time.Time
	StopReason bedrockkit.StopReason
	Usage      bedrockkit.Usage
	Duration   time.Duration
	// Message is what the model answered (nil when the call failed). With
	// a Guardrail its text is the guarded text (nil when the guardrail
	// failed), never the raw text the guardrail masked or blocked.
	Message *bedrockkit.Message
	Err     error
}

// OutputRetried reports that the structured answer of an agent with Output
// did not match the schema and the model is being asked to repair it (see
// bedrockkit.StructuredOutput); Stream and ResumeStream send it, between
// the model's text deltas. Discard the TextDeltas of this Iteration sent
// before it: a repaired answer follows. Err is the *bedrockkit.OutputError
// (wrapping bedrockkit.ErrInvalidOutput); with a Guardrail, the answer text
// and the violation messages (which may quote the answer) are withheld
// unless the guardrail passes them.
type OutputRetried struct {
	Iteration int
	Attempt   int
	Err       error
}

// OutputValidated is the validated final answer of an agent with Output, sent
// just before Finished (after the output guardrail). Value is the JSON
// value, also RunResult.Output; decode it with DecodeOutput.
type OutputValidated struct {
	Iteration int
	Value     json.RawMessage
}

// ToolCalled reports one tool call and its result.
type ToolCalled struct {
	Iteration int
	Call      bedrockkit.ToolCall
	Result    bedrockkit.ToolResult
	// Start and Duration time the tool's run (zero for calls that did not run).
	Start    time.Time
	Duration time.Duration
	// IdempotencyKey identifies the call across retries and resumes.
	IdempotencyKey string
	// Replayed is true when the result was taken from the session's record of
	// an earlier run of the same call instead of running the tool again.
	Replayed bool
	// Invalid is true when the call was refused (unknown tool, bad arguments).
	Invalid bool
	// Panicked is true when the tool's function panicked; the panic was
	// recovered. A panic of another tool that the function called and
	// returned as its error is the tool's own failure and does not set it.
	Panicked bool
	// Abandoned is true when the tool did not return within AbandonGrace
	// after its timeout (or the run's cancellation): the run went on without
	// it, the model was told it timed out, and its goroutine is left to
	// finish on its own, its result discarded (see Tool.Abandoned).
	Abandoned bool
}

// Observation reports the tool results sent back to the model.
type Observation struct {
	Iteration int
	Results   []bedrockkit.ToolResult
}

// GuardrailIntervened reports a Guard that blocked or rewrote content.
type GuardrailIntervened struct {
	Stage   Stage
	Verdict Intervention
	// CallID is set for the tool stages.
	CallID string
}

// Summarized reports that older history was replaced by a summary.
type Summarized struct {
	Messages int
	Usage    bedrockkit.Usage
}

// Failure reports an error that ended the run.
type Failure struct {
	Iteration int
	Err       error
}

// Paused reports that the run waits for the caller (confirmation or return of control).
type Paused struct {
	Pending *Pending
}

// Finished reports the final result of a run.
type Finished struct {
	Result *RunResult
}

func (ModelText) isEvent()           {}
func (OutputRetried) isEvent()       {}
func (OutputValidated) isEvent()     {}
func (ModelCalled) isEvent()         {}
func (ToolCalled) isEvent()          {}
func (Observation) isEvent()         {}
func (GuardrailIntervened) isEvent() {}
func (Summarized) isEvent()          {}
func (Failure) isEvent()             {}
func (Paused) isEvent()              {}
func (Finished) isEvent()            {}
