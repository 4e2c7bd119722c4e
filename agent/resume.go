package agent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bedrockkit/bedrockkit"
)

// resume continues a paused run in named steps: find and check the stored
// pause p names (loadPause), match the decisions to its calls
// (matchDecisions), claim it (claim), then either continue a resume of it
// that failed midway, or apply the decisions (decide), run the approved
// calls and go on with the loop.
func (a *Agent) resume(ctx context.Context, p *Pending, decisions []Decision, stream bool, emit func(RunEvent)) (*RunResult, error) {
	if p == nil || p.SessionID == "" || p.ID == "" {
		return nil, fmt.Errorf("agent: Resume needs the pending state returned by Run (with its ID and session ID): %w", bedrockkit.ErrInvalidInput)
	}
	r, err := a.newRunner(ctx, stream, emit)
	if err != nil {
		return nil, err
	}
	if p, err = r.loadPause(ctx, p); err != nil {
		return nil, err
	}
	ctx = withCostSession(ctx, r.sess.ID)
	ds, err := a.matchDecisions(p, decisions)
	if err != nil {
		return nil, err
	}
	if err := r.claim(ctx, p); err != nil {
		return nil, err
	}
	r.resumeID = p.ID
	if cp := r.sess.InProgress; cp != nil && cp.ResumeID == p.ID {
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
	r.restorePause(p)
	results, jobs, err := r.decide(ctx, p, ds)
	if err != nil {
		return r.fail(ctx, err)
	}
	if err := r.runJobs(ctx, jobs, results); err != nil {
		return r.fail(ctx, err)
	}
	r.observe(results)
	return r.loop(ctx)
}

// loadPause authenticates what the caller claims, loads its session into
// r.sess and returns the stored pause, which is what runs, once it matches
// the claim (checkStored).
func (r *runner) loadPause(ctx context.Context, p *Pending) (*Pending, error) {
	claimed, digest, err := r.a.authenticate(p)
	if err != nil {
		return nil, err
	}
	sess, found, err := r.a.loadSession(ctx, r.mem, claimed.SessionID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("agent: Memory holds no session %q, so pause %s cannot be resumed; resume with the Memory the run paused in: %w", claimed.SessionID, claimed.ID, ErrNotPending)
	}
	r.sess = sess
	if sess.Pending == nil || sess.Pending.ID != claimed.ID {
		if slices.Contains(sess.Resumed, claimed.ID) {
			return nil, fmt.Errorf("agent: pending state %s of session %q was already resumed or abandoned: %w", claimed.ID, claimed.SessionID, ErrNotPending)
		}
		return nil, fmt.Errorf("agent: session %q has no pause with ID %s: %w", claimed.SessionID, claimed.ID, ErrNotPending)
	}
	stored := sess.Pending
	if err := r.checkStored(stored, claimed, digest); err != nil {
		return nil, err
	}
	return stored, nil
}

// decisionSet is the caller's decisions matched to the calls of a pause.
type decisionSet struct {
	byCall  map[string]Decision    // the decision for each call ID
	pending map[string]PendingCall // the pause's calls by ID
}

// matchDecisions checks that there is exactly one fitting decision for
// every pending call of p, and none for any other call.
func (a *Agent) matchDecisions(p *Pending, decisions []Decision) (decisionSet, error) {
	ds := decisionSet{byCall: map[string]Decision{}, pending: map[string]PendingCall{}}
	for _, d := range decisions {
		if _, dup := ds.byCall[d.CallID]; dup {
			return decisionSet{}, fmt.Errorf("agent: two decisions for call %q: %w", d.CallID, bedrockkit.ErrInvalidInput)
		}
		ds.byCall[d.CallID] = d
	}
	for _, c := range p.Calls {
		ds.pending[c.Call.ID] = c
		d, ok := ds.byCall[c.Call.ID]
		if !ok {
			return decisionSet{}, fmt.Errorf("agent: call %q (tool %q) has none: %w", c.Call.ID, c.Call.Name, ErrMissingDecision)
		}
		switch {
		case c.Kind == KindConfirm && d.Result != nil:
			return decisionSet{}, fmt.Errorf("agent: call %q needs Approve or Deny, not a result: %w", c.Call.ID, bedrockkit.ErrInvalidInput)
		case c.Kind == KindReturnControl && d.Result == nil:
			return decisionSet{}, fmt.Errorf("agent: call %q returns control; answer it with Respond or RespondError: %w", c.Call.ID, bedrockkit.ErrInvalidInput)
		}
		if err := a.checkDecision(d); err != nil {
			return decisionSet{}, err
		}
	}
	for id := range ds.byCall {
		if _, ok := ds.pending[id]; !ok {
			return decisionSet{}, fmt.Errorf("agent: %q is not one of the pending calls: %w", id, ErrUnknownCall)
		}
	}
	return ds, nil
}

// claim marks the pause as being resumed before anything runs: the save
// fails with ErrConflict if another Resume loaded the session at the same
// time, and a Resume that comes later sees the claim until it lapses
// (PauseOptions.ResumeLease). fail releases it.
func (r *runner) claim(ctx context.Context, p *Pending) error {
	sess := r.sess
	if since := sess.Resuming; !since.IsZero() && time.Since(since) < r.a.Pause.resumeLease() {
		return fmt.Errorf("agent: pause %s of session %q is being resumed by another call since %s; wait for it to finish: %w", p.ID, sess.ID, since.Format(time.RFC3339), ErrConflict)
	}
	sess.Resuming = time.Now().UTC()
	if err := r.mem.Save(ctx, sess); err != nil {
		return fmt.Errorf("agent: claim pause %s of session %q: %w", p.ID, sess.ID, err)
	}
	r.dirty = true // fail must release the claim
	return nil
}

// restorePause puts the runner back where the run paused.
func (r *runner) restorePause(p *Pending) {
	r.sess.InProgress = nil
	r.turn = slices.Clone(p.Messages)
	r.iter = p.Iteration
	r.usage = p.Usage
	r.invalid = p.InvalidCalls
	r.sess.PromptAttributes = cloneAttrs(p.PromptAttributes)
	r.buildSystem()
}

// decide applies the decisions to the calls of the paused model turn: the
// results known at the pause are kept, return-of-control answers and denials
// become results, and approved calls that pass the authorizer become jobs
// (or replay their recorded result). It returns the results in call order,
// the jobs filling the rest.
func (r *runner) decide(ctx context.Context, p *Pending, ds decisionSet) ([]bedrockkit.ToolResult, []job, error) {
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
		pc, ok := ds.pending[c.ID]
		if !ok {
			return nil, nil, fmt.Errorf("agent: pending state %s has no result or pending entry for call %q: %w", p.ID, c.ID, bedrockkit.ErrInvalidInput)
		}
		d := ds.byCall[c.ID]
		if pc.Kind == KindReturnControl || !d.Approved {
			results[i] = answered(c, pc.Kind, d)
			r.emit(ToolCalled{Iteration: r.iter, Call: c, Result: results[i], IdempotencyKey: pc.IdempotencyKey})
			continue
		}
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
			return nil, nil, fmt.Errorf("agent: approved call %q names tool %q, which this agent does not have; resume with the same tools: %w", c.ID, c.Name, bedrockkit.ErrInvalidInput)
		}
		jobs = append(jobs, job{index: i, tool: t, call: c, key: pc.IdempotencyKey})
	}
	return results, jobs, nil
}

// answered is the result of a call the caller answered without it running
// here: the caller's result of a return-of-control call, or the refusal of
// a denied one.
func answered(c bedrockkit.ToolCall, kind PendingKind, d Decision) bedrockkit.ToolResult {
	if kind == KindReturnControl { // matchDecisions made sure d.Result is set
		return bedrockkit.ToolResult{CallID: c.ID, Parts: slices.Clone(d.Result.Parts), IsError: d.Result.IsError}
	}
	reason := d.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return textResult(c.ID, fmt.Sprintf("The user denied this call to %s (%s). Do not retry it; continue without it.", c.Name, reason), true)
}

// pause stores the pending state and returns it.
func (r *runner) pause(ctx context.Context, calls []bedrockkit.ToolCall, results []bedrockkit.ToolResult, pending []PendingCall) (*RunResult, error) {
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
