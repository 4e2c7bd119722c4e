package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bedrockkit/bedrockkit"
)

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
		guarded, ok, err := r.guardInputOf(ctx, c, key)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			results[i] = guarded
			continue
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

// guardInputOf checks a validated call's arguments with the Guardrail. It
// returns true when the call may go on; otherwise it emits ToolCalled and
// returns the refusal the model sees.
func (r *runner) guardInputOf(ctx context.Context, c bedrockkit.ToolCall, key string) (bedrockkit.ToolResult, bool, error) {
	if r.a.Guardrail == nil {
		return bedrockkit.ToolResult{}, true, nil
	}
	v, err := GuardText(ctx, r.a.Guardrail, StageToolInput, string(c.Input))
	if err != nil {
		return bedrockkit.ToolResult{}, false, fmt.Errorf("agent: guardrail on tool input: %w", err)
	}
	if v.Intervened() {
		r.emit(GuardrailIntervened{Stage: StageToolInput, Verdict: v, CallID: c.ID})
	}
	if !v.Blocked {
		return bedrockkit.ToolResult{}, true, nil
	}
	msg := v.Message
	if msg == "" {
		msg = "This call was blocked by a guardrail."
	}
	res := textResult(c.ID, msg, true)
	r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: res, IdempotencyKey: key})
	return res, false, nil
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
	v, err := GuardText(ctx, r.a.Guardrail, StageToolResult, text)
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
