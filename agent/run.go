package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// runner is the state of one turn in progress.
type runner struct {
	a        *Agent
	limits   Limits
	mem      Memory
	sess     *Session
	tools    map[string]*Tool
	defs     []bedrockkit.ToolSpec
	names    string
	system   []bedrockkit.Part
	turn     []bedrockkit.Message
	msgs     []bedrockkit.Message
	usage    bedrockkit.Usage
	iter     int
	invalid  int
	stream   bool
	emit     func(RunEvent)
	resumeID string
	input    string
	dirty    bool
	modelID  string
	model    bedrockkit.Model
	recalled bool            // long-term memory was asked this turn
	memory   bedrockkit.Part // the recalled note, or nil
}

func (a *Agent) newRunner(ctx context.Context, stream bool, emit func(RunEvent)) (*runner, error) {
	if obs := observerFrom(ctx); obs != nil {
		inner := emit
		emit = func(e RunEvent) { obs(e); inner(e) }
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
			return fmt.Errorf("agent: nil tool: %w", ErrInvalidTool)
		}
		if t.compiled == nil {
			return errUnbuiltTool
		}
		if _, dup := r.tools[t.name]; dup {
			return fmt.Errorf("agent: two tools are named %q: %w", t.name, ErrInvalidTool)
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
		t, err := k.Tool()
		if err != nil {
			return nil, err
		}
		if err := add(t); err != nil {
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

// start runs a new turn of session sessionID in named steps: load the
// session and decide whether an unfinished turn continues (openTurn),
// summarise old history, guard the input (guardInput), then the loop.
func (a *Agent) start(ctx context.Context, sessionID, input string, opts []RunOptions, stream bool, emit func(RunEvent)) (*RunResult, error) {
	cfg, err := runOptions(opts)
	if err != nil {
		return nil, err
	}
	if sessionID == "" {
		return nil, fmt.Errorf("agent: empty session ID; pass a stable ID per conversation: %w", bedrockkit.ErrInvalidInput)
	}
	ctx = withCostSession(ctx, sessionID)
	r, err := a.newRunner(ctx, stream, emit)
	if err != nil {
		return nil, err
	}
	cp, err := r.openTurn(ctx, sessionID, input, cfg)
	if err != nil {
		return nil, err
	}
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
	input, blocked, err := r.guardInput(ctx, input)
	if err != nil {
		return r.fail(ctx, err)
	}
	if blocked != nil {
		res := r.result()
		res.Output = blocked.Verdict.Message
		res.StopReason = bedrockkit.StopGuardrailIntervened
		r.emit(Failure{Err: blocked})
		return res, blocked
	}
	r.buildSystem()
	r.turn = []bedrockkit.Message{bedrockkit.UserText(input)}
	return r.loop(ctx)
}

// openTurn loads the session into r.sess for a new turn with input: a
// pending pause is abandoned, the run options' attributes are applied, and
// the checkpoint of an unfinished turn is returned when input is the same
// (nil otherwise: a different turn abandons it).
func (r *runner) openTurn(ctx context.Context, sessionID, input string, cfg RunOptions) (*Checkpoint, error) {
	var err error
	if r.sess, _, err = r.a.loadSession(ctx, r.mem, sessionID); err != nil {
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
	if len(cfg.SessionAttributes) > 0 {
		if r.sess.Attributes == nil {
			r.sess.Attributes = map[string]string{}
		}
		maps.Copy(r.sess.Attributes, cfg.SessionAttributes)
	}
	r.sess.PromptAttributes = cloneAttrs(cfg.PromptAttributes)
	return cp, nil
}

// guardInput checks the user's input with the Guardrail and returns the
// text the turn goes on with (the guard's rewrite, if it rewrote it), or
// the guard's block.
func (r *runner) guardInput(ctx context.Context, input string) (string, *GuardrailError, error) {
	if r.a.Guardrail == nil {
		return input, nil, nil
	}
	v, err := GuardText(ctx, r.a.Guardrail, StageInput, input)
	if err != nil {
		return "", nil, fmt.Errorf("agent: guardrail on input: %w", err)
	}
	if v.Intervened() {
		r.emit(GuardrailIntervened{Stage: StageInput, Verdict: v})
	}
	if v.Blocked {
		return "", &GuardrailError{Stage: StageInput, Verdict: v}, nil
	}
	if v.Text != "" {
		input = v.Text
	}
	return input, nil, nil
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

func (r *runner) result() *RunResult {
	return &RunResult{SessionID: r.sess.ID, Usage: r.usage, Iterations: r.iter, Messages: slices.Clone(r.turn)}
}

// loop calls the model and runs tools until an answer, a pause or an error.
func (r *runner) loop(ctx context.Context) (*RunResult, error) {
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
	req := r.nextRequest()
	r.iter++
	start := time.Now()
	resp, err = r.generate(ctx, req)
	ev := ModelCalled{Iteration: r.iter, Model: r.modelID, Start: start, Duration: time.Since(start)}
	var oe *bedrockkit.OutputError
	switch {
	case resp != nil:
		r.usage = r.usage.Add(resp.Usage)
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
			r.emit(ModelText{Iteration: r.iter, Text: text})
		}
	}
	ev.Message = &msg
	r.emit(ev)
	out := *resp
	out.Message = msg
	return &out, gerr, nil
}

// nextRequest builds the request of the next model call: the session's
// history and the turn so far (with the recalled memory), the system
// prompt, the tools and the inference parameters.
func (r *runner) nextRequest() *bedrockkit.Request {
	r.msgs = append(append(r.msgs[:0], r.sess.Messages...), r.turn...)
	r.withMemory()
	inf := r.a.Inference
	return &bedrockkit.Request{System: r.system, Messages: r.msgs, Tools: r.defs,
		MaxTokens: inf.MaxTokens, Temperature: inf.Temperature, TopP: inf.TopP,
		StopSequences: inf.StopSequences, Extra: inf.Extra, Output: r.a.Output}
}

// generate calls the model, streaming when the run streams (see forward).
func (r *runner) generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if !r.stream {
		return r.model.Generate(ctx, req)
	}
	var answered bool
	resp, err := bedrockkit.Collect(r.forward(ctx, r.model.Stream(ctx, req), &answered))
	if answered && err == nil {
		resp.Message = answerOnly(resp.Message)
	}
	return resp, err
}

// forward passes stream events through. Text deltas are emitted as they
// come unless a Guardrail must see the text first (callModel sends the
// guarded text); a structured answer's repairs are reported as OutputRetried.
// answered is set when the stream ends with a bedrockkit.OutputValue: the
// structured answer is final.
func (r *runner) forward(ctx context.Context, s iter.Seq2[bedrockkit.StreamEvent, error], answered *bool) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range s {
			if err == nil {
				switch e := ev.(type) {
				case bedrockkit.OutputValue:
					*answered = true
				case bedrockkit.TextDelta:
					if r.a.Guardrail == nil {
						r.emit(ModelText{Iteration: r.iter, Text: e.Text})
					}
				case bedrockkit.OutputRetry:
					r.emit(OutputRetried{Iteration: r.iter, Attempt: e.Attempt, Err: r.redactOutputError(ctx, e.Err)})
				}
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

// finish commits the turn, whose last message is the answer callModel
// guarded, to the session and saves it. gerr is the guardrail's block of
// the answer, if it blocked it.
func (r *runner) finish(ctx context.Context, resp *bedrockkit.Response, gerr *GuardrailError) (*RunResult, error) {
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
		r.emit(OutputValidated{Iteration: r.iter, Value: json.RawMessage(res.Output)})
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
func (r *runner) continueTurn(ctx context.Context) (*RunResult, error) {
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
func (r *runner) fail(ctx context.Context, err error) (*RunResult, error) {
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
