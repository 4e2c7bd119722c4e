package agent

import (
	"context"
	"iter"
	"sync"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// Agent runs a tool-calling loop: the model is called with the conversation
// and the tools; the tool calls it makes are validated and run (several at
// once when it asks for several), their results go back to the model, and so
// on until the model answers without calling a tool, a limit is reached, or a
// tool needs the caller (confirmation or return of control), which pauses
// the run.
//
// Set the fields, then call Run, Stream or Resume; do not change the fields
// while runs are in flight. An Agent is safe for concurrent runs on different
// sessions; runs of one session must follow each other.
type Agent struct {
	// Name identifies the agent in traces and when it is used as a tool.
	Name string
	// Model is required.
	Model bedrockkit.Model
	// Instructions are the system prompt.
	Instructions string
	Tools        []*Tool
	// KnowledgeBases are offered to the model as search tools.
	KnowledgeBases []KnowledgeBaseTool
	// Guardrail, if set, checks the user's input, the model's text (the
	// answer and text beside tool calls), tool-call arguments and tool
	// results: guardrail.NewLocal, NewRemote, Both, or a GuardFunc. User
	// input and tool results are assessed as guardrail.SourceInput (the
	// model reads them), the model's text and tool-call arguments as
	// guardrail.SourceOutput; GuardStageFrom tells a guard which stage it
	// is looking at.
	//
	// Budgets are not set here: wrap Model in pricing's meter middleware
	// and give the run's context a budget (pricing.WithBudget); every
	// model call of the run, summaries and structured-output repairs
	// included, is then reserved and refused past the limit, ending the
	// run with the partial result and an error wrapping
	// bedrockkit.ErrBudgetExceeded.
	Guardrail guardrail.Guard
	// Memory stores sessions; nil means a private in-memory store.
	Memory Memory
	Limits Limits
	// History bounds the history sent to the model; see HistoryLimits.
	History   HistoryLimits
	Inference Inference
	// Output, if set, makes the final answer a JSON value matching this
	// schema (bedrockkit.OutputSchemaFor[T] or NewOutputSchema) while the
	// model may still call tools: every model call carries the schema with
	// the tools, through bedrockkit.StructuredOutput; an answer that calls
	// tools runs them and goes on, the final one is validated (and sent back
	// for repair while invalid). RunResult.Output is then the JSON value;
	// RunValue, ResumeValue and DecodeOutput decode it. An answer still
	// invalid after the repairs ends the run with a *bedrockkit.OutputError.
	Output *bedrockkit.OutputSchema
	// OutputOptions chooses how a structured answer is obtained (natively
	// or through an answer tool) and how many repairs are allowed; the zero
	// value means bedrockkit's defaults.
	OutputOptions bedrockkit.StructuredOptions
	// OnEvent, if set, receives every event of Run and Resume as it happens,
	// on the run's goroutine. Stream and ResumeStream yield events instead.
	OnEvent func(RunEvent)
	// Pause signs and checks paused runs handed out of the process: set
	// Pause.Key to resume in another process or from a client (see
	// Pending and PauseOptions).
	Pause PauseOptions
	// Authorizer, if set, decides whether each tool call may run, before
	// it runs (see ToolAuthorizer); denied calls get a refusal result.
	Authorizer ToolAuthorizer
	// LongTerm, if set, is what the agent remembers about the caller across
	// sessions: recalled at the start of each turn, handed each finished
	// turn (see LongTermMemory).
	LongTerm LongTermMemory
	// ContinueOnRecallError makes a failed LongTerm.Recall leave the turn
	// without memory instead of ending the run: the turn goes on as for a
	// caller with nothing remembered, and the MemoryRecalled event carries
	// the error. By default (false) the run ends with the error (fail
	// closed): what is remembered may be what the answer must respect (a
	// preference, a consent), and a Recall that fails because the caller
	// cannot be identified is an error to fix, not a caller without a past.
	// Set it when an answer without memory is better than none (a memory
	// store that is down). A Guardrail that fails on the recollections
	// still ends the run.
	ContinueOnRecallError bool

	memOnce sync.Once
	mem     Memory
}

// RunResult is the outcome of a turn.
type RunResult struct {
	SessionID string
	// Output is the final answer's text (or the guardrail's message when
	// blocked). Empty while paused.
	Output string
	// Message is the final assistant message.
	Message    bedrockkit.Message
	StopReason bedrockkit.StopReason
	// Usage sums the turn's model calls.
	Usage bedrockkit.Usage
	// Iterations counts the turn's model calls.
	Iterations int
	// Messages is the turn's transcript, starting with the user's input.
	Messages []bedrockkit.Message
	// Pending is set when the run paused; pass it to Resume.
	Pending *Pending
}

// Paused reports whether the run is waiting for Resume.
func (r *RunResult) Paused() bool { return r != nil && r.Pending != nil }

func (a *Agent) memory() Memory {
	if a.Memory != nil {
		return a.Memory
	}
	a.memOnce.Do(func() { a.mem = NewInMemory() })
	return a.mem
}

// Run runs one turn of the session: input goes to the model, tools run as
// asked, and the final answer comes back in RunResult.Output. A paused run
// returns a RunResult with Pending set and a nil error. When a limit or an error
// stops the run, the partial RunResult is returned with the error.
//
// A Run on a session that has a pending pause abandons that pause: it can no
// longer be resumed.
//
// The run's model calls are attributed to sessionID for cost: a
// pricing.Meter wrapped around Model reports them in Meter.SessionCost
// (sessionID) unless ctx already names a session (pricing.WithSession), in
// which case they count toward that one. An agent run as another agent's
// tool counts toward the outer run's session.
func (a *Agent) Run(ctx context.Context, sessionID, input string, opts ...RunOptions) (*RunResult, error) {
	return a.start(ctx, sessionID, input, opts, false, a.callback())
}

// Stream is Run yielding the events of the turn as they happen, model text
// included (ModelText), ending with Finished, Paused or, on error, Failure
// followed by the error. Breaking out of the loop cancels the run.
func (a *Agent) Stream(ctx context.Context, sessionID, input string, opts ...RunOptions) iter.Seq2[RunEvent, error] {
	return streamOf(ctx, func(ctx context.Context, emit func(RunEvent)) (*RunResult, error) {
		return a.start(ctx, sessionID, input, opts, true, emit)
	})
}

// Resume continues a paused run with a decision for every pending call:
// Approve or Deny for confirmations, Respond or RespondError for return of
// control.
//
// p names the pause; the run continues from the copy stored in Memory, so
// the session must be in the Memory the run paused in. p is the *Pending
// Run returned in this process, the Session.Pending of the session loaded
// from Memory (a server that authenticated its client and identifies the
// pause itself), or one decoded (UnmarshalBinary, json.Unmarshal) from the
// signed form made with Agent.Pause.Key. Resume refuses, running nothing:
//   - an unsigned state from outside the process (ErrPendingUnsigned)
//     unless Pause.InsecureAllowUnsigned;
//   - a bad signature, a state that differs from the stored pause in any
//     way (session, turn, call IDs, tool names, arguments, kinds), or a
//     stored pause with calls the model did not make or counters out of
//     range (ErrPendingTampered);
//   - an expired pause (ErrPendingExpired);
//   - a pause already resumed or abandoned, or one Memory does not hold
//     (ErrNotPending);
//   - decisions for calls p does not hold (ErrUnknownCall), missing ones
//     (ErrMissingDecision), and results or reasons a tool result cannot
//     carry (ErrInvalidDecision).
//
// If Resume fails midway (a model error), it can be retried with the same
// state; tools that already ran are not run again.
//
// Its model calls are attributed to the pause's session for cost, as Run's
// are.
func (a *Agent) Resume(ctx context.Context, p *Pending, decisions ...Decision) (*RunResult, error) {
	return a.resume(ctx, p, decisions, false, a.callback())
}

// ResumeStream is Resume yielding events as Stream does.
func (a *Agent) ResumeStream(ctx context.Context, p *Pending, decisions ...Decision) iter.Seq2[RunEvent, error] {
	return streamOf(ctx, func(ctx context.Context, emit func(RunEvent)) (*RunResult, error) {
		return a.resume(ctx, p, decisions, true, emit)
	})
}

func (a *Agent) callback() func(RunEvent) {
	if a.OnEvent != nil {
		return a.OnEvent
	}
	return func(RunEvent) {}
}

// streamOf turns a run into an iterator. Breaking out cancels the run.
func streamOf(ctx context.Context, run func(ctx context.Context, emit func(RunEvent)) (*RunResult, error)) iter.Seq2[RunEvent, error] {
	return func(yield func(RunEvent, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		emit := func(ev RunEvent) {
			if stopped {
				return
			}
			if !yield(ev, nil) {
				stopped = true
				cancel()
			}
		}
		_, err := run(ctx, emit)
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}
