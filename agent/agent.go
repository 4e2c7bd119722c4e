package agent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bedrockkit/bedrockkit"
)

// Limits bound a run. The zero value gives the defaults.
type Limits struct {
	// MaxIterations is the most model calls in one turn; 0 means 10.
	MaxIterations int
	// MaxToolRetries is how many invalid tool calls (unknown tool, bad JSON,
	// schema violation) the model may make in one turn before the run fails
	// with ErrTooManyInvalidCalls; 0 means 3, a negative value means none.
	MaxToolRetries int
	// ToolTimeout bounds each tool run unless the tool sets its own; 0 means
	// none. A tool still running at its deadline is told through its context;
	// one that does not return within AbandonGrace after that is abandoned
	// (see Tool.Abandoned): the model gets a timeout error result and the run
	// goes on. Cancelling the run abandons a stuck tool the same way.
	ToolTimeout time.Duration
	// Parallelism is how many tool calls of one model turn run at once; 0 means 4.
	Parallelism int
	// MaxTokens caps the tokens (Usage.Total) one turn may use across its
	// model calls; 0 means no cap. Exceeding it ends the run with an error
	// wrapping bedrockkit.ErrBudgetExceeded.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxIterations <= 0 {
		l.MaxIterations = 10
	}
	if l.MaxToolRetries == 0 {
		l.MaxToolRetries = 3
	} else if l.MaxToolRetries < 0 {
		l.MaxToolRetries = 0
	}
	if l.Parallelism <= 0 {
		l.Parallelism = 4
	}
	return l
}

// Inference holds the model parameters copied into every request.
type Inference struct {
	MaxTokens     int
	Temperature   *float32
	TopP          *float32
	StopSequences []string
	Extra         map[string]any
}

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
	KnowledgeBases []KnowledgeBase
	// Guardrail, if set, checks input, output, tool inputs and tool results.
	Guardrail Guard
	// Budget, if set, is consulted around every model call.
	Budget Budget
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
	// for repair while invalid). Result.Output is then the JSON value;
	// RunValue, ResumeValue and DecodeOutput decode it. An answer still
	// invalid after the repairs ends the run with a *bedrockkit.OutputError.
	Output *bedrockkit.OutputSchema
	// OutputOptions chooses how a structured answer is obtained (natively
	// or through an answer tool) and how many repairs are allowed; the zero
	// value means bedrockkit's defaults.
	OutputOptions bedrockkit.StructuredOptions
	// OnEvent, if set, receives every event of Run and Resume as it happens,
	// on the run's goroutine. Stream and ResumeStream yield events instead.
	OnEvent func(Event)
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

	memOnce sync.Once
	mem     Memory
}

// Result is the outcome of a turn.
type Result struct {
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
func (r *Result) Paused() bool { return r != nil && r.Pending != nil }

// RunOption configures one Run or Stream.
type RunOption func(*runConfig)

type runConfig struct {
	sessionAttrs map[string]string
	promptAttrs  map[string]string
}

// WithSessionAttributes merges attrs into the session's attributes, which
// persist for the whole session and are passed to tools (CallInfo), not to
// the model.
func WithSessionAttributes(attrs map[string]string) RunOption {
	return func(c *runConfig) { c.sessionAttrs = attrs }
}

// WithPromptAttributes sets attributes for this turn only; they are shown to
// the model in the system prompt (Bedrock's promptSessionAttributes).
func WithPromptAttributes(attrs map[string]string) RunOption {
	return func(c *runConfig) { c.promptAttrs = attrs }
}

// CallInfo describes the tool call being run; tools read it with CallInfoFrom.
type CallInfo struct {
	SessionID string
	CallID    string
	// IdempotencyKey is stable across retries of the turn and resumes of a
	// pause; pass it to external systems the tool changes.
	IdempotencyKey   string
	Iteration        int
	Attributes       map[string]string
	PromptAttributes map[string]string
}

type callInfoKey struct{}

// CallInfoFrom returns the CallInfo of the tool call running under ctx.
func CallInfoFrom(ctx context.Context) (CallInfo, bool) {
	ci, ok := ctx.Value(callInfoKey{}).(*CallInfo)
	if !ok {
		return CallInfo{}, false
	}
	return *ci, true
}

func (a *Agent) memory() Memory {
	if a.Memory != nil {
		return a.Memory
	}
	a.memOnce.Do(func() { a.mem = NewInMemory() })
	return a.mem
}

// Run runs one turn of the session: input goes to the model, tools run as
// asked, and the final answer comes back in Result.Output. A paused run
// returns a Result with Pending set and a nil error. When a limit or an error
// stops the run, the partial Result is returned with the error.
//
// A Run on a session that has a pending pause abandons that pause: it can no
// longer be resumed.
func (a *Agent) Run(ctx context.Context, sessionID, input string, opts ...RunOption) (*Result, error) {
	return a.start(ctx, sessionID, input, opts, false, a.callback())
}

// Stream is Run yielding the events of the turn as they happen, model text
// included (TextDelta), ending with Finished, Paused or, on error, Failure
// followed by the error. Breaking out of the loop cancels the run.
func (a *Agent) Stream(ctx context.Context, sessionID, input string, opts ...RunOption) iter.Seq2[Event, error] {
	return streamOf(ctx, func(ctx context.Context, emit func(Event)) (*Result, error) {
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
func (a *Agent) Resume(ctx context.Context, p *Pending, decisions ...Decision) (*Result, error) {
	return a.resume(ctx, p, decisions, false, a.callback())
}

// ResumeStream is Resume yielding events as Stream does.
func (a *Agent) ResumeStream(ctx context.Context, p *Pending, decisions ...Decision) iter.Seq2[Event, error] {
	return streamOf(ctx, func(ctx context.Context, emit func(Event)) (*Result, error) {
		return a.resume(ctx, p, decisions, true, emit)
	})
}

func (a *Agent) callback() func(Event) {
	if a.OnEvent != nil {
		return a.OnEvent
	}
	return func(Event) {}
}

// streamOf turns a run into an iterator. Breaking out cancels the run.
func streamOf(ctx context.Context, run func(ctx context.Context, emit func(Event)) (*Result, error)) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		emit := func(ev Event) {
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

// runner is the state of one turn in progress.
type runner struct {
	a        *Agent
	limits   Limits
	mem      Memory
	sess     *Session
	tools    map[string]*Tool
	defs     []bedrockkit.Tool
	names    string
	system   []bedrockkit.Part
	turn     []bedrockkit.Message
	msgs     []bedrockkit.Message
	usage    bedrockkit.Usage
	iter     int
	invalid  int
	stream   bool
	emit     func(Event)
	resumeID string
	input    string
	dirty    bool
	modelID  string
	model    bedrockkit.Model
	recalled bool            // long-term memory was asked this turn
	memory   bedrockkit.Part // the recalled note, or nil
}

func (a *Agent) newRunner(ctx context.Context, stream bool, emit func(Event)) (*runner, error) {
	if obs := observerFrom(ctx); obs != nil {
		inner := emit
		emit = func(e Event) { obs(e); inner(e) }
	}
	if a.Model == nil {
		return nil, fmt.Errorf("agent: Agent.Model is nil; set a bedrockkit.Model: %w", bedrockkit.ErrInvalidInput)
	}
	if err := a.Pause.check(); err != nil {
		return nil, err
	}
	r := &runner{a: a, limits: a.Limits.withDefaults(), mem: a.memory(), stream: stream, emit: emit,
		tools: make(map[string]*Tool, len(a.Tools)+len(a.KnowledgeBases))}
	add := func(t *Tool) error {
		if t == nil {
			return fmt.Errorf("%w: nil tool", ErrInvalidTool)
		}
		if err := t.Err(); err != nil {
			return err
		}
		if _, dup := r.tools[t.name]; dup {
			return fmt.Errorf("%w: two tools are named %q", ErrInvalidTool, t.name)
		}
		r.tools[t.name] = t
		r.defs = append(r.defs, t.Definition())
		return nil
	}
	for _, t := range a.Tools {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	for _, k := range a.KnowledgeBases {
		if err := add(k.Tool()); err != nil {
			return nil, err
		}
	}
	if err := r.setupModel(); err != nil {
		return nil, err
	}
	if m, ok := a.Model.(interface{ ModelID() bedrockkit.ModelID }); ok {
		r.modelID = m.ModelID().Raw
	}
	names := slices.Sorted(maps.Keys(r.tools))
	r.names = strings.Join(names, ", ")
	return r, nil
}

func (a *Agent) loadSession(ctx context.Context, mem Memory, id string) (*Session, bool, error) {
	s, err := mem.Load(ctx, id)
	if errors.Is(err, ErrSessionNotFound) {
		return &Session{ID: id}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

func (a *Agent) start(ctx context.Context, sessionID, input string, opts []RunOption, stream bool, emit func(Event)) (*Result, error) {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	if sessionID == "" {
		return nil, fmt.Errorf("agent: empty session ID; pass a stable ID per conversation: %w", bedrockkit.ErrInvalidInput)
	}
	r, err := a.newRunner(ctx, stream, emit)
	if err != nil {
		return nil, err
	}
	if r.sess, _, err = a.loadSession(ctx, r.mem, sessionID); err != nil {
		return nil, err
	}
	r.input = input
	cp := r.sess.InProgress
	r.sess.InProgress = nil
	if r.sess.Pending != nil { // a new turn abandons the pause
		r.sess.Resumed = appendResumed(r.sess.Resumed, r.sess.Pending.ID)
		r.sess.Pending = nil
		r.sess.Resuming = time.Time{}
		r.sess.Records = nil
		cp = nil
	}
	if cp != nil && (cp.ResumeID != "" || cp.Input != input) {
		r.sess.Records = nil // a different turn abandons the unfinished one
		cp = nil
	}
	if len(cfg.sessionAttrs) > 0 {
		if r.sess.Attributes == nil {
			r.sess.Attributes = map[string]string{}
		}
		maps.Copy(r.sess.Attributes, cfg.sessionAttrs)
	}
	r.sess.PromptAttributes = cloneAttrs(cfg.promptAttrs)
	if cp != nil {
		// The same input after a failure: continue the unfinished turn from
		// its checkpoint instead of asking the model again, so tools that ran
		// are not run again.
		r.buildSystem()
		if err := r.restore(cp); err != nil {
			return nil, err
		}
		return r.continueTurn(ctx)
	}
	if err := r.summarize(ctx); err != nil {
		return r.fail(ctx, err)
	}
	if a.Guardrail != nil {
		v, err := a.Guardrail.Check(ctx, StageInput, input)
		if err != nil {
			return r.fail(ctx, fmt.Errorf("agent: guardrail on input: %w", err))
		}
		if v.Intervened() {
			r.emit(GuardrailIntervened{Stage: StageInput, Verdict: v})
		}
		if v.Blocked {
			res := r.result()
			res.Output = v.Message
			res.StopReason = bedrockkit.StopGuardrailIntervened
			err := &GuardrailError{Stage: StageInput, Verdict: v}
			r.emit(Failure{Err: err})
			return res, err
		}
		if v.Text != "" {
			input = v.Text
		}
	}
	r.buildSystem()
	r.turn = []bedrockkit.Message{bedrockkit.UserText(input)}
	return r.loop(ctx)
}

func (a *Agent) resume(ctx context.Context, p *Pending, decisions []Decision, stream bool, emit func(Event)) (*Result, error) {
	if p == nil || p.SessionID == "" || p.ID == "" {
		return nil, fmt.Errorf("agent: Resume needs the pending state returned by Run (with its ID and session ID): %w", bedrockkit.ErrInvalidInput)
	}
	r, err := a.newRunner(ctx, stream, emit)
	if err != nil {
		return nil, err
	}
	claimed, digest, err := a.authenticate(p)
	if err != nil {
		return nil, err
	}
	sess, found, err := a.loadSession(ctx, r.mem, claimed.SessionID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: Memory holds no session %q, so pause %s cannot be resumed; resume with the Memory the run paused in", ErrNotPending, claimed.SessionID, claimed.ID)
	}
	r.sess = sess
	if sess.Pending == nil || sess.Pending.ID != claimed.ID {
		if slices.Contains(sess.Resumed, claimed.ID) {
			return nil, fmt.Errorf("%w: pending state %s of session %q was already resumed or abandoned", ErrNotPending, claimed.ID, claimed.SessionID)
		}
		return nil, fmt.Errorf("%w: session %q has no pause with ID %s", ErrNotPending, claimed.SessionID, claimed.ID)
	}
	stored := sess.Pending // the stored copy is what runs
	if err := r.checkStored(stored, claimed, digest); err != nil {
		return nil, err
	}
	p = stored
	byID := map[string]Decision{}
	for _, d := range decisions {
		if _, dup := byID[d.CallID]; dup {
			return nil, fmt.Errorf("agent: two decisions for call %q: %w", d.CallID, bedrockkit.ErrInvalidInput)
		}
		byID[d.CallID] = d
	}
	pendingByID := map[string]PendingCall{}
	for _, c := range p.Calls {
		pendingByID[c.Call.ID] = c
		d, ok := byID[c.Call.ID]
		if !ok {
			return nil, fmt.Errorf("%w: call %q (tool %q) has none", ErrMissingDecision, c.Call.ID, c.Call.Name)
		}
		switch {
		case c.Kind == KindConfirm && d.Result != nil:
			return nil, fmt.Errorf("agent: call %q needs Approve or Deny, not a result: %w", c.Call.ID, bedrockkit.ErrInvalidInput)
		case c.Kind == KindReturnControl && d.Result == nil:
			return nil, fmt.Errorf("agent: call %q returns control; answer it with Respond or RespondError: %w", c.Call.ID, bedrockkit.ErrInvalidInput)
		}
		if err := a.checkDecision(d); err != nil {
			return nil, err
		}
	}
	for id := range byID {
		if _, ok := pendingByID[id]; !ok {
			return nil, fmt.Errorf("%w: %q is not one of the pending calls", ErrUnknownCall, id)
		}
	}
	// Claim the pause before running anything: the save fails with
	// ErrConflict if another Resume loaded the session at the same time,
	// and a Resume that comes later sees the claim.
	if since := sess.Resuming; !since.IsZero() && time.Since(since) < a.Pause.resumeLease() {
		return nil, fmt.Errorf("%w: pause %s of session %q is being resumed by another call since %s; wait for it to finish", ErrConflict, p.ID, sess.ID, since.Format(time.RFC3339))
	}
	sess.Resuming = time.Now().UTC()
	if err := r.mem.Save(ctx, sess); err != nil {
		return nil, fmt.Errorf("agent: claim pause %s of session %q: %w", p.ID, sess.ID, err)
	}
	r.dirty = true // fail must release the claim

	r.resumeID = p.ID
	if cp := sess.InProgress; cp != nil && cp.ResumeID == p.ID {
		// This resume already ran and failed later in the turn: continue
		// from where it stopped.
		r.sess.InProgress = nil
		r.sess.PromptAttributes = cloneAttrs(p.PromptAttributes)
		r.buildSystem()
		if err := r.restore(cp); err != nil {
			return r.fail(ctx, err)
		}
		return r.continueTurn(ctx)
	}
	r.sess.InProgress = nil
	r.turn = slices.Clone(p.Messages)
	r.iter = p.Iteration
	r.usage = p.Usage
	r.invalid = p.InvalidCalls
	r.sess.PromptAttributes = cloneAttrs(p.PromptAttributes)
	r.buildSystem()

	known := map[string]bedrockkit.ToolResult{}
	for _, res := range p.Results {
		known[res.CallID] = res
	}
	calls := r.turn[len(r.turn)-1].ToolCalls()
	results := make([]bedrockkit.ToolResult, len(calls))
	var jobs []job
	for i, c := range calls {
		if res, ok := known[c.ID]; ok {
			results[i] = res
			continue
		}
		pc, ok := pendingByID[c.ID]
		if !ok {
			return r.fail(ctx, fmt.Errorf("agent: pending state %s has no result or pending entry for call %q: %w", p.ID, c.ID, bedrockkit.ErrInvalidInput))
		}
		d := byID[c.ID]
		switch {
		case pc.Kind == KindReturnControl:
			res := bedrockkit.ToolResult{CallID: c.ID, Parts: slices.Clone(d.Result.Parts), IsError: d.Result.IsError}
			results[i] = res
			r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: res, IdempotencyKey: pc.IdempotencyKey})
		case !d.Approved:
			reason := d.Reason
			if reason == "" {
				reason = "no reason given"
			}
			res := textResult(c.ID, fmt.Sprintf("The user denied this call to %s (%s). Do not retry it; continue without it.", c.Name, reason), true)
			results[i] = res
			r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: res, IdempotencyKey: pc.IdempotencyKey})
		default:
			if res, ok := r.authorize(ctx, r.tools[c.Name], c, pc.IdempotencyKey); !ok {
				results[i] = res
				continue
			}
			if rec, ok := r.sess.Records[pc.IdempotencyKey]; ok {
				results[i] = rec
				r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: rec, IdempotencyKey: pc.IdempotencyKey, Replayed: true})
				continue
			}
			t := r.tools[c.Name]
			if t == nil {
				return r.fail(ctx, fmt.Errorf("agent: approved call %q names tool %q, which this agent does not have; resume with the same tools: %w", c.ID, c.Name, bedrockkit.ErrInvalidInput))
			}
			jobs = append(jobs, job{index: i, tool: t, call: c, key: pc.IdempotencyKey})
		}
	}
	if err := r.runJobs(ctx, jobs, results); err != nil {
		return r.fail(ctx, err)
	}
	r.observe(results)
	return r.loop(ctx)
}

// buildSystem assembles the system prompt: instructions, the summary of
// earlier history and the turn's prompt attributes.
func (r *runner) buildSystem() {
	var b strings.Builder
	b.WriteString(r.a.Instructions)
	if r.sess.Summary != "" {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("Summary of the earlier conversation:\n")
		b.WriteString(r.sess.Summary)
	}
	if len(r.sess.PromptAttributes) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("Context for this request:\n")
		for _, k := range slices.Sorted(maps.Keys(r.sess.PromptAttributes)) {
			fmt.Fprintf(&b, "%s: %s\n", k, r.sess.PromptAttributes[k])
		}
	}
	if b.Len() > 0 {
		r.system = []bedrockkit.Part{bedrockkit.Text{Text: b.String()}}
	}
}

func (r *runner) result() *Result {
	return &Result{SessionID: r.sess.ID, Usage: r.usage, Iterations: r.iter, Messages: slices.Clone(r.turn)}
}

// loop calls the model and runs tools until an answer, a pause or an error.
func (r *runner) loop(ctx context.Context) (*Result, error) {
	if err := r.recall(ctx); err != nil {
		return r.fail(ctx, err)
	}
	for {
		resp, gerr, err := r.callModel(ctx)
		if err != nil {
			return r.fail(ctx, err)
		}
		msg := resp.Message
		msg.Role = bedrockkit.RoleAssistant
		calls := msg.ToolCalls()
		if len(calls) == 0 && resp.StopReason == bedrockkit.StopMalformedToolUse {
			// The model tried to call a tool but produced nothing usable.
			if len(msg.Parts) == 0 {
				msg.Parts = []bedrockkit.Part{bedrockkit.Text{Text: "(malformed tool call)"}}
			}
			r.turn = append(r.turn, msg, bedrockkit.UserText("Your last tool call was malformed and could not be parsed. Call the tool again with arguments that are a single valid JSON object matching its schema."))
			if err := r.countInvalid(1); err != nil {
				return r.fail(ctx, err)
			}
			if err := r.checkIterations(); err != nil {
				return r.fail(ctx, err)
			}
			continue
		}
		sanitizeCalls(&msg)
		r.turn = append(r.turn, msg)
		if len(calls) == 0 {
			return r.finish(ctx, resp, gerr)
		}
		if err := r.checkIterations(); err != nil {
			return r.fail(ctx, err)
		}
		results, pending, err := r.handleCalls(ctx, calls)
		if err != nil {
			return r.fail(ctx, err)
		}
		if len(pending) > 0 {
			return r.pause(ctx, calls, results, pending)
		}
		r.observe(results)
	}
}

// sanitizeCalls replaces tool inputs that are not JSON with {} in the
// message kept in the transcript: Bedrock cannot carry invalid JSON back to
// the model, which is told about the bad input in the call's error result.
func sanitizeCalls(m *bedrockkit.Message) {
	cloned := false
	for i, p := range m.Parts {
		if c, ok := p.(bedrockkit.ToolCall); ok && !json.Valid(c.Input) {
			if !cloned {
				m.Parts, cloned = slices.Clone(m.Parts), true
			}
			c.Input = json.RawMessage(`{}`)
			m.Parts[i] = c
		}
	}
}

func (r *runner) checkIterations() error {
	if r.iter >= r.limits.MaxIterations {
		return &LimitError{Limit: "MaxIterations", Value: r.limits.MaxIterations, Err: ErrMaxIterations}
	}
	return nil
}

func (r *runner) countInvalid(n int) error {
	r.invalid += n
	if n > 0 && r.invalid > r.limits.MaxToolRetries {
		return &LimitError{Limit: "MaxToolRetries", Value: r.limits.MaxToolRetries, Err: ErrTooManyInvalidCalls}
	}
	return nil
}

// observe appends the tool results as the next user message.
func (r *runner) observe(results []bedrockkit.ToolResult) {
	parts := make([]bedrockkit.Part, len(results))
	for i, res := range results {
		parts[i] = res
	}
	r.turn = append(r.turn, bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: parts})
	r.emit(Observation{Iteration: r.iter, Results: results})
}

// callModel makes the next model call and guards the text of its answer
// (see guardText) before reporting it: the returned response holds the
// guarded message, and gerr is set when the guardrail blocked a final
// answer.
func (r *runner) callModel(ctx context.Context) (resp *bedrockkit.Response, gerr *GuardrailError, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if r.limits.MaxTokens > 0 && r.usage.Total() >= r.limits.MaxTokens {
		return nil, nil, &LimitError{Limit: "MaxTokens", Value: r.limits.MaxTokens, Err: bedrockkit.ErrBudgetExceeded}
	}
	r.msgs = append(append(r.msgs[:0], r.sess.Messages...), r.turn...)
	r.withMemory()
	inf := r.a.Inference
	req := &bedrockkit.Request{System: r.system, Messages: r.msgs, Tools: r.defs,
		MaxTokens: inf.MaxTokens, Temperature: inf.Temperature, TopP: inf.TopP,
		StopSequences: inf.StopSequences, Extra: inf.Extra, Output: r.a.Output}
	// With Output, the budget is asked per attempt under StructuredOutput
	// (setupModel); otherwise here, once per call.
	outerBudget := r.a.Budget != nil && r.a.Output == nil
	if outerBudget {
		if err := r.a.Budget.Allow(ctx, req); err != nil {
			return nil, nil, fmt.Errorf("agent: budget refused model call %d: %w", r.iter+1, err)
		}
	}
	r.iter++
	start := time.Now()
	if r.stream {
		var answered bool
		resp, err = bedrockkit.Collect(r.forward(ctx, r.model.Stream(ctx, req), &answered))
		if answered && err == nil {
			resp.Message = answerOnly(resp.Message)
		}
	} else {
		resp, err = r.model.Generate(ctx, req)
	}
	ev := ModelCalled{Iteration: r.iter, Model: r.modelID, Start: start, Duration: time.Since(start)}
	var oe *bedrockkit.OutputError
	switch {
	case resp != nil:
		r.usage = r.usage.Add(resp.Usage)
		if outerBudget {
			r.a.Budget.Spend(ctx, resp.Usage)
		}
		ev.StopReason, ev.Usage = resp.StopReason, resp.Usage
	case errors.As(err, &oe):
		// Generate's invalid structured answer: its attempts used tokens.
		r.usage = r.usage.Add(oe.Usage)
		ev.Usage = oe.Usage
	}
	if err != nil {
		err = r.redactOutputError(ctx, err)
		ev.Err = err
		r.emit(ev)
		return nil, nil, fmt.Errorf("agent: model call %d: %w", r.iter, err)
	}
	msg := resp.Message
	final := len(msg.ToolCalls()) == 0 && resp.StopReason != bedrockkit.StopMalformedToolUse
	msg, gerr, err = r.guardText(ctx, msg, final)
	if err != nil {
		r.emit(ev) // the call succeeded; its unguarded answer is not shown
		return nil, nil, err
	}
	if r.stream && r.a.Guardrail != nil {
		if text := msg.Text(); text != "" {
			r.emit(TextDelta{Iteration: r.iter, Text: text})
		}
	}
	ev.Message = &msg
	r.emit(ev)
	out := *resp
	out.Message = msg
	return &out, gerr, nil
}

// forward passes stream events through. Text deltas are emitted as they
// come unless a Guardrail must see the text first (callModel sends the
// guarded text); a structured answer's repairs are reported as OutputRetry.
// answered is set when the stream ends with a bedrockkit.OutputValue: the
// structured answer is final.
func (r *runner) forward(ctx context.Context, s iter.Seq2[bedrockkit.Event, error], answered *bool) iter.Seq2[bedrockkit.Event, error] {
	return func(yield func(bedrockkit.Event, error) bool) {
		for ev, err := range s {
			if err == nil {
				switch e := ev.(type) {
				case bedrockkit.OutputValue:
					*answered = true
				case bedrockkit.TextDelta:
					if r.a.Guardrail == nil {
						r.emit(TextDelta{Iteration: r.iter, Text: e.Text})
					}
				case bedrockkit.OutputRetry:
					r.emit(OutputRetry{Iteration: r.iter, Attempt: e.Attempt, Err: r.redactOutputError(ctx, e.Err)})
				}
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

type job struct {
	index int
	tool  *Tool
	call  bedrockkit.ToolCall
	key   string
}

// handleCalls validates the calls, runs those it can and returns the
// results in call order, with the calls that must wait for the caller.
func (r *runner) handleCalls(ctx context.Context, calls []bedrockkit.ToolCall) ([]bedrockkit.ToolResult, []PendingCall, error) {
	results := make([]bedrockkit.ToolResult, len(calls))
	var pending []PendingCall
	var jobs []job
	invalid := 0
	for i, c := range calls {
		key := r.key(c.ID)
		t := r.tools[c.Name]
		var verr error
		if t == nil {
			verr = &CallError{Tool: c.Name, Reason: fmt.Sprintf("no such tool; the available tools are: %s", r.names)}
		} else {
			verr = t.Validate(c.Input)
		}
		if verr != nil {
			invalid++
			results[i] = textResult(c.ID, verr.Error()+". Correct the call and try again.", true)
			r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: results[i], IdempotencyKey: key, Invalid: true})
			continue
		}
		if r.a.Guardrail != nil {
			v, err := r.a.Guardrail.Check(ctx, StageToolInput, string(c.Input))
			if err != nil {
				return nil, nil, fmt.Errorf("agent: guardrail on tool input: %w", err)
			}
			if v.Intervened() {
				r.emit(GuardrailIntervened{Stage: StageToolInput, Verdict: v, CallID: c.ID})
			}
			if v.Blocked {
				msg := v.Message
				if msg == "" {
					msg = "This call was blocked by a guardrail."
				}
				results[i] = textResult(c.ID, msg, true)
				r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: results[i], IdempotencyKey: key})
				continue
			}
		}
		if res, ok := r.authorize(ctx, t, c, key); !ok {
			results[i] = res
			continue
		}
		if rec, ok := r.sess.Records[key]; ok {
			results[i] = rec
			r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: rec, IdempotencyKey: key, Replayed: true})
			continue
		}
		switch {
		case t.returnControl:
			pending = append(pending, PendingCall{Call: c, Kind: KindReturnControl, IdempotencyKey: key})
		case t.confirm:
			pending = append(pending, PendingCall{Call: c, Kind: KindConfirm, IdempotencyKey: key})
		default:
			jobs = append(jobs, job{index: i, tool: t, call: c, key: key})
		}
	}
	if err := r.countInvalid(invalid); err != nil {
		return nil, nil, err
	}
	if err := r.runJobs(ctx, jobs, results); err != nil {
		return nil, nil, err
	}
	return results, pending, nil
}

type outcome struct {
	start     time.Time
	dur       time.Duration
	panicked  bool
	abandoned bool
}

// runJobs runs the jobs, at most Limits.Parallelism at once, puts their
// results at their index, records them for idempotency and emits their
// events in call order.
func (r *runner) runJobs(ctx context.Context, jobs []job, results []bedrockkit.ToolResult) error {
	if len(jobs) == 0 {
		return nil
	}
	outs := make([]outcome, len(jobs))
	info := CallInfo{SessionID: r.sess.ID, Iteration: r.iter, Attributes: r.sess.Attributes, PromptAttributes: r.sess.PromptAttributes}
	if len(jobs) == 1 || r.limits.Parallelism == 1 {
		for i, j := range jobs {
			results[j.index], outs[i] = r.exec(ctx, j, info)
		}
	} else {
		var g errgroup.Group
		g.SetLimit(r.limits.Parallelism)
		for i, j := range jobs {
			g.Go(func() error {
				results[j.index], outs[i] = r.exec(ctx, j, info)
				return nil
			})
		}
		_ = g.Wait() // exec never fails: errors become error results
	}
	if err := ctx.Err(); err != nil {
		// Record what finished, so a retry does not run it again.
		for i, j := range jobs {
			if outs[i].dur > 0 && !results[j.index].IsError {
				r.record(j.key, results[j.index])
			}
		}
		return err
	}
	for i, j := range jobs {
		res := results[j.index]
		if r.a.Guardrail != nil {
			g, err := r.guardResult(ctx, j.call.ID, res)
			if err != nil {
				return err
			}
			res = g
			results[j.index] = res
		}
		r.record(j.key, res)
		r.emit(ToolCalled{Iteration: r.iter, Call: j.call, Result: res, Start: outs[i].start, Duration: outs[i].dur, IdempotencyKey: j.key, Panicked: outs[i].panicked, Abandoned: outs[i].abandoned})
	}
	return nil
}

func (r *runner) record(key string, res bedrockkit.ToolResult) {
	if r.sess.Records == nil {
		r.sess.Records = map[string]bedrockkit.ToolResult{}
	}
	r.sess.Records[key] = res
	r.dirty = true
}

func (r *runner) guardResult(ctx context.Context, callID string, res bedrockkit.ToolResult) (bedrockkit.ToolResult, error) {
	text := bedrockkit.Message{Parts: res.Parts}.Text()
	for _, p := range res.Parts {
		if j, ok := p.(bedrockkit.JSON); ok {
			text += string(j.Value)
		}
	}
	v, err := r.a.Guardrail.Check(ctx, StageToolResult, text)
	if err != nil {
		return res, fmt.Errorf("agent: guardrail on tool result: %w", err)
	}
	if !v.Intervened() {
		return res, nil
	}
	r.emit(GuardrailIntervened{Stage: StageToolResult, Verdict: v, CallID: callID})
	if v.Blocked {
		msg := v.Message
		if msg == "" {
			msg = "The tool's result was blocked by a guardrail."
		}
		return textResult(callID, msg, true), nil
	}
	return textResult(callID, v.Text, res.IsError), nil
}

// exec runs one tool call through Tool.Call's code path with its timeout
// (the tool's own, else Limits.ToolTimeout) and turns what went wrong into
// an error result the model can act on.
func (r *runner) exec(ctx context.Context, j job, info CallInfo) (res bedrockkit.ToolResult, out outcome) {
	start := time.Now()
	info.CallID, info.IdempotencyKey = j.call.ID, j.key
	cctx := context.WithValue(ctx, callInfoKey{}, &info)
	timeout := j.tool.timeout
	if timeout == 0 {
		timeout = r.limits.ToolTimeout
	}
	parts, f, abandoned, err := j.tool.call(cctx, j.call.Input, timeout)
	out.start, out.dur, out.abandoned = start, max(time.Since(start), 1), abandoned
	if err != nil {
		// Classified by where the error arose in this call, not by its
		// type: a tool whose function calls another tool may return that
		// tool's refusal, panic or timeout; those are this tool's failure.
		switch f {
		case faultPanicked:
			out.panicked = true
			return textResult(j.call.ID, fmt.Sprintf("tool %q failed unexpectedly (it panicked: %v). Try different arguments or another approach.", j.call.Name, err.(*panicError).value), true), out
		case faultTimedOut:
			return textResult(j.call.ID, fmt.Sprintf("tool %q timed out after %s", j.call.Name, timeout), true), out
		case faultRefused:
			// Reachable on Resume, whose stored call is validated again.
			return textResult(j.call.ID, err.Error()+". Correct the call and try again.", true), out
		}
		return textResult(j.call.ID, fmt.Sprintf("tool %q failed: %v", j.call.Name, err), true), out
	}
	if len(parts) == 0 {
		parts = []bedrockkit.Part{bedrockkit.Text{Text: "(no output)"}}
	}
	return bedrockkit.ToolResult{CallID: j.call.ID, Parts: parts}, out
}

func textResult(callID, text string, isErr bool) bedrockkit.ToolResult {
	return bedrockkit.ToolResult{CallID: callID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: text}}, IsError: isErr}
}

// key derives a call's idempotency key from the session, the turn and the call ID.
func (r *runner) key(callID string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s", r.sess.ID, r.sess.Turns, callID))
	return hex.EncodeToString(h[:12])
}

// pause stores the pending state and returns it.
func (r *runner) pause(ctx context.Context, calls []bedrockkit.ToolCall, results []bedrockkit.ToolResult, pending []PendingCall) (*Result, error) {
	waiting := map[string]bool{}
	for _, p := range pending {
		waiting[p.Call.ID] = true
	}
	var known []bedrockkit.ToolResult
	for i, c := range calls {
		if !waiting[c.ID] {
			known = append(known, results[i])
		}
	}
	now := time.Now()
	p := &Pending{ID: newID(), SessionID: r.sess.ID, Turn: r.sess.Turns, Iteration: r.iter,
		Messages: slices.Clone(r.turn), Calls: pending, Results: known, Usage: r.usage,
		PromptAttributes: cloneAttrs(r.sess.PromptAttributes), InvalidCalls: r.invalid, origin: originRun}
	if ttl := r.a.Pause.ttl(); ttl > 0 {
		p.ExpiresAt = now.Add(ttl).UTC()
	}
	if key := r.a.Pause.Key; len(key) > 0 {
		tok, err := signPending(key, r.a.Name, p, now)
		if err != nil {
			return r.fail(ctx, err)
		}
		p.token = tok
	}
	if r.resumeID != "" {
		r.sess.Resumed = appendResumed(r.sess.Resumed, r.resumeID)
	}
	r.sess.Pending = p
	r.sess.Resuming = time.Time{}
	r.sess.InProgress = nil
	if err := r.mem.Save(ctx, r.sess); err != nil {
		return r.fail(ctx, fmt.Errorf("agent: save paused session: %w", err))
	}
	res := r.result()
	res.Pending = p
	res.StopReason = bedrockkit.StopToolUse
	r.emit(Paused{Pending: p})
	return res, nil
}

// finish commits the turn, whose last message is the answer callModel
// guarded, to the session and saves it. gerr is the guardrail's block of
// the answer, if it blocked it.
func (r *runner) finish(ctx context.Context, resp *bedrockkit.Response, gerr *GuardrailError) (*Result, error) {
	final := r.turn[len(r.turn)-1]
	r.sess.Messages = append(r.sess.Messages, r.turn...)
	r.sess.Turns++
	r.sess.Records = nil
	r.sess.PromptAttributes = nil
	r.sess.Pending = nil
	r.sess.Resuming = time.Time{}
	r.sess.InProgress = nil
	if r.resumeID != "" {
		r.sess.Resumed = appendResumed(r.sess.Resumed, r.resumeID)
	}
	if err := r.mem.Save(ctx, r.sess); err != nil {
		return r.fail(ctx, fmt.Errorf("agent: save session: %w", err))
	}
	res := r.result()
	res.Message = final
	res.Output = final.Text()
	res.StopReason = resp.StopReason
	if gerr != nil {
		res.StopReason = bedrockkit.StopGuardrailIntervened
		r.emit(Failure{Iteration: r.iter, Err: gerr})
		return res, gerr
	}
	r.remember(ctx)
	if r.a.Output != nil {
		r.emit(OutputValue{Iteration: r.iter, Value: json.RawMessage(res.Output)})
	}
	r.emit(Finished{Result: res})
	return res, nil
}

// restore loads an unfinished turn, refusing one whose counters no run
// could have saved (a damaged or edited store).
func (r *runner) restore(cp *Checkpoint) error {
	u := cp.Usage
	if len(cp.Messages) == 0 || cp.Iteration < 0 || cp.Iteration > r.limits.MaxIterations ||
		cp.InvalidCalls < 0 || cp.InvalidCalls > r.limits.MaxToolRetries ||
		!tokensInRange(u.InputTokens) || !tokensInRange(u.OutputTokens) || !tokensInRange(u.CacheReadTokens) || !tokensInRange(u.CacheWriteTokens) {
		return fmt.Errorf("agent: session %q holds an unfinished turn that is damaged (%d messages, iteration %d, invalid calls %d, usage %+v); run a different input to abandon it: %w",
			r.sess.ID, len(cp.Messages), cp.Iteration, cp.InvalidCalls, u, bedrockkit.ErrInvalidInput)
	}
	r.turn = slices.Clone(cp.Messages)
	r.iter = cp.Iteration
	r.usage = cp.Usage
	r.invalid = cp.InvalidCalls
	return nil
}

// continueTurn finishes the tool calls of a restored turn, if it stopped
// among them, and goes on with the loop.
func (r *runner) continueTurn(ctx context.Context) (*Result, error) {
	last := r.turn[len(r.turn)-1]
	if calls := last.ToolCalls(); last.Role == bedrockkit.RoleAssistant && len(calls) > 0 {
		results, pending, err := r.handleCalls(ctx, calls)
		if err != nil {
			return r.fail(ctx, err)
		}
		if len(pending) > 0 {
			return r.pause(ctx, calls, results, pending)
		}
		r.observe(results)
	}
	return r.loop(ctx)
}

// fail ends the run with err. Unless a limit or a guardrail stopped it, the
// unfinished turn is saved as the session's checkpoint, with the idempotency
// records of tools that already ran, so that running the same input again
// (or retrying the same Resume) continues the turn instead of repeating it.
func (r *runner) fail(ctx context.Context, err error) (*Result, error) {
	var le *LimitError
	var ge *GuardrailError
	if len(r.turn) > 0 && !errors.As(err, &le) && !errors.As(err, &ge) && !errors.Is(err, ErrConflict) {
		r.sess.InProgress = &Checkpoint{Input: r.input, ResumeID: r.resumeID, Messages: slices.Clone(r.turn),
			Iteration: r.iter, Usage: r.usage, InvalidCalls: r.invalid}
		r.dirty = true
	}
	r.sess.Resuming = time.Time{} // release a Resume's claim on its pause
	if r.dirty {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if serr := r.mem.Save(sctx, r.sess); serr != nil {
			err = errors.Join(err, fmt.Errorf("agent: save tool records: %w", serr))
		}
	}
	res := r.result()
	if n := len(r.turn); n > 0 && r.turn[n-1].Role == bedrockkit.RoleAssistant {
		res.Message = r.turn[n-1]
		res.Output = res.Message.Text()
	}
	r.emit(Failure{Iteration: r.iter, Err: err})
	return res, err
}

func appendResumed(ids []string, id string) []string {
	const keep = 16
	ids = append(ids, id)
	if len(ids) > keep {
		ids = ids[len(ids)-keep:]
	}
	return ids
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
