package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// textField is a text as shown: redacted and cut to MaxFieldBytes.
type textField struct {
	Text string
	Cut  int // bytes not shown
}

// kv is a label pair.
type kv struct{ K, V string }

// runView is a run as its page shows it.
type runView struct {
	ID, Agent, Session, Tenant, Status string
	SessionKey                         string // the session page's path segment
	Tags                               []kv
	Started                            time.Time
	Duration                           time.Duration
	Usage                              bedrockkit.Usage
	Cost                               string
	ModelCalls, ToolCalls, Guardrails  int
	ResumeOf, ResumedBy                string
	Prelude                            []*stepView
	Iterations                         []*iterView
	Epilogue                           []*stepView
	Dropped                            int
	Gantt                              gantt
	version                            int
}

// iterView is one iteration: a model call and the tool calls it asked for.
type iterView struct {
	N        int
	Anchor   string
	Model    *modelView
	Tools    []*toolView
	Parallel bool // the model asked for several tools at once
	Overlap  bool // and their runs overlapped in time
	Notes    []*stepView
}

type modelView struct {
	Anchor, Model, StopReason string
	Offset, Duration          time.Duration
	Usage                     bedrockkit.Usage
	Cost                      string
	Text                      textField
	Reasoning                 textField
	Calls                     []string
	Err                       string
	Guardrails                []*stepView
}

type toolView struct {
	Anchor, Name, CallID string
	Args, Result         textField
	Offset, Duration     time.Duration
	Ran                  bool
	Status, StatusClass  string
	Key                  string
	Auth                 *authView
	Guardrails           []*stepView
	start                time.Time
}

type authView struct {
	Allowed  bool
	Policies []string
	Reason   string
	Err      string
	Errors   []string
}

// stepView is any other event.
type stepView struct {
	Anchor, Kind, Title, Class string
	Body                       textField
	Items                      []string
}

// runSnapshot is what a view is built from, copied under the lock.
type runSnapshot struct {
	id, status          string
	info                RunInfo
	started, ended      time.Time
	events              []recEvent
	dropped, version    int
	resumeOf, resumedBy string
}

func (c *Console) snapshotLocked(r *runRec) runSnapshot {
	return runSnapshot{id: r.id, status: r.status, info: r.info, started: r.started, ended: r.ended,
		events: r.events[:len(r.events):len(r.events)], dropped: r.dropped, version: r.version,
		resumeOf: r.resumeOf, resumedBy: r.resumedBy}
}

// runView returns the view of run id, from the cache when the run has not
// changed.
func (c *Console) runView(ctx context.Context, id string) (*runView, bool) {
	c.mu.Lock()
	r := c.runLocked(id)
	if r == nil {
		c.mu.Unlock()
		return nil, false
	}
	if v := c.cache[id]; v != nil && v.version == r.version {
		c.mu.Unlock()
		return v, true
	}
	s := c.snapshotLocked(r)
	c.mu.Unlock()
	v := c.buildRun(ctx, s)
	c.mu.Lock()
	if r := c.runLocked(id); r != nil && r.version == v.version {
		c.cache[id] = v
	}
	c.mu.Unlock()
	return v, true
}

// field redacts s and cuts it to MaxFieldBytes.
func (c *Console) field(ctx context.Context, s string) textField {
	max := c.opts.MaxFieldBytes
	head, _ := cut(s, max+1024) // redact a little more, so a secret at the cut is still seen whole
	red := c.red.text(ctx, head)
	shown, n := cut(red, max)
	return textField{Text: shown, Cut: n + len(s) - len(head)}
}

// sessionKey names a session in URLs without showing its ID, which may
// hold personal data.
func (c *Console) sessionKey(id string) string { return c.mac("session", id)[:24] }

// label redacts a short label (session, agent, tenant names).
func (c *Console) label(ctx context.Context, s string) string {
	t, _ := cut(s, 512)
	return c.red.text(ctx, t)
}

func (c *Console) errText(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	return c.field(ctx, err.Error()).Text
}

// cost prices usage on model with the console's catalog.
func (c *Console) cost(model string, u bedrockkit.Usage) (pricing.Money, string) {
	if model == "" {
		return 0, "no model ID"
	}
	b, err := c.opts.Catalog.Cost(model, u)
	if err != nil {
		return 0, "unpriced"
	}
	return b.Total, ""
}

func (c *Console) buildRun(ctx context.Context, s runSnapshot) *runView {
	v := &runView{ID: s.id, Status: s.status, Started: s.started, Dropped: s.dropped, version: s.version,
		Agent: c.label(ctx, s.info.Agent), Session: c.label(ctx, s.info.Session), Tenant: c.label(ctx, s.info.Tenant),
		ResumeOf: s.resumeOf, ResumedBy: s.resumedBy, SessionKey: c.sessionKey(s.info.Session)}
	for _, k := range slices.Sorted(maps.Keys(s.info.Tags)) {
		v.Tags = append(v.Tags, kv{c.label(ctx, k), c.label(ctx, s.info.Tags[k])})
	}
	end := s.ended
	if end.IsZero() && len(s.events) > 0 {
		end = s.events[len(s.events)-1].time()
	}
	v.Duration = end.Sub(s.started)
	b := &runBuilder{c: c, ctx: ctx, started: s.started, v: v, iters: map[int]*iterView{},
		tools: map[string]*toolView{}, heldTool: map[string][]*stepView{}}
	if s.resumeOf != "" {
		v.Prelude = append(v.Prelude, b.step("resumed", "Resumed the pause of run "+s.resumeOf+": the calls it waited for come first", "pause"))
	}
	for _, re := range s.events {
		b.event(re.ev)
	}
	b.finish()
	return v
}

// runBuilder lays a run's events out as a runView, step by step.
type runBuilder struct {
	c       *Console
	ctx     context.Context
	started time.Time
	v       *runView
	iters   map[int]*iterView
	// Tool calls by step and call ID (models may reuse call IDs from one
	// step to the next), for their authorizations and guardrail events.
	tools      map[string]*toolView
	cost       pricing.Money
	unpriced   bool
	lastIter   int
	heldOutput []*stepView // output-stage guardrail events wait for their model call
	heldTool   map[string][]*stepView
	n          int
}

// off is t's offset from the run's start.
func (b *runBuilder) off(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return max(t.Sub(b.started), 0)
}

// iter returns step n's view, adding it on first use.
func (b *runBuilder) iter(n int) *iterView {
	it := b.iters[n]
	if it == nil {
		it = &iterView{N: n, Anchor: "it" + strconv.Itoa(n)}
		b.iters[n] = it
		b.v.Iterations = append(b.v.Iterations, it)
	}
	return it
}

func callKey(iter int, id string) string { return strconv.Itoa(iter) + "\x00" + id }

// toolFor returns the view of call in step it, adding it on first use.
func (b *runBuilder) toolFor(it *iterView, call bedrockkit.ToolCall) *toolView {
	if t := b.tools[callKey(it.N, call.ID)]; t != nil && call.ID != "" {
		return t
	}
	t := &toolView{Anchor: fmt.Sprintf("it%d-t%d", it.N, len(it.Tools)+1), Name: b.c.label(b.ctx, call.Name),
		CallID: call.ID, Args: b.c.field(b.ctx, prettyJSON(call.Input))}
	it.Tools = append(it.Tools, t)
	b.tools[callKey(it.N, call.ID)] = t
	return t
}

// step returns a new numbered step.
func (b *runBuilder) step(kind, title, class string) *stepView {
	b.n++
	return &stepView{Anchor: "e" + strconv.Itoa(b.n), Kind: kind, Title: title, Class: class}
}

// event places one run event.
func (b *runBuilder) event(ev agent.RunEvent) {
	c, ctx, v := b.c, b.ctx, b.v
	switch e := ev.(type) {
	case agent.ModelCalled:
		b.modelCalled(e)
	case agent.ToolAuthorized:
		b.toolAuthorized(e)
	case agent.ToolCalled:
		b.toolCalled(e)
	case agent.GuardrailIntervened:
		b.guardrail(e)
	case agent.Observation:
		// The tool events already show every result.
	case agent.OutputRetried:
		sv := b.step("output-retry", fmt.Sprintf("Structured answer retried (attempt %d)", e.Attempt), "warn")
		sv.Body = c.field(ctx, errString(e.Err))
		b.iter(e.Iteration).Notes = append(b.iter(e.Iteration).Notes, sv)
	case agent.OutputValidated:
		sv := b.step("output", "Structured answer", "ok")
		sv.Body = c.field(ctx, prettyJSON(e.Value))
		v.Epilogue = append(v.Epilogue, sv)
	case agent.Summarized:
		sv := b.step("summarized", fmt.Sprintf("History summarized (%d messages, %d tokens)", e.Messages, e.Usage.Total()), "info")
		v.Usage = v.Usage.Add(e.Usage)
		if b.lastIter == 0 {
			v.Prelude = append(v.Prelude, sv)
		} else {
			v.Epilogue = append(v.Epilogue, sv)
		}
	case agent.Paused:
		v.Epilogue = append(v.Epilogue, b.paused(e))
	case agent.Failure:
		sv := b.step("failure", "Failed", "error")
		sv.Body = c.field(ctx, errString(e.Err))
		var ge *agent.GuardrailError
		if errors.As(e.Err, &ge) {
			sv.Title = "Stopped by the guardrail (" + strings.ReplaceAll(string(ge.Stage), "_", " ") + ")"
		}
		v.Epilogue = append(v.Epilogue, sv)
	case agent.Finished:
		sv := b.step("finished", "Finished", "ok")
		if e.Result != nil {
			sv.Title = fmt.Sprintf("Finished after %d model call(s): %s", e.Result.Iterations, e.Result.StopReason)
			sv.Body = c.field(ctx, e.Result.Output)
		}
		v.Epilogue = append(v.Epilogue, sv)
	default:
		b.unknown(ev)
	}
}

// modelCalled adds a model call to its step, with its cost and the
// output-stage guardrail events held for it.
func (b *runBuilder) modelCalled(e agent.ModelCalled) {
	c, ctx, v := b.c, b.ctx, b.v
	it := b.iter(e.Iteration)
	b.lastIter = e.Iteration
	v.ModelCalls++
	v.Usage = v.Usage.Add(e.Usage)
	m := &modelView{Anchor: it.Anchor + "-m", Model: c.label(ctx, e.Model), StopReason: string(e.StopReason),
		Offset: b.off(e.Start), Duration: e.Duration, Usage: e.Usage, Err: c.errText(ctx, e.Err), Guardrails: b.heldOutput}
	b.heldOutput = nil
	money, why := c.cost(e.Model, e.Usage)
	if why != "" {
		m.Cost = why
		b.unpriced = b.unpriced || why == "unpriced"
	} else {
		m.Cost = money.String()
		b.cost += money
	}
	if e.Message != nil {
		var text, reasoning strings.Builder
		for _, p := range e.Message.Parts {
			switch p := p.(type) {
			case bedrockkit.Text:
				text.WriteString(p.Text)
			case bedrockkit.CitedText:
				text.WriteString(p.Text)
			case bedrockkit.Reasoning:
				reasoning.WriteString(p.Text)
			case bedrockkit.ToolCall:
				m.Calls = append(m.Calls, c.label(ctx, p.Name))
			}
		}
		m.Text = c.field(ctx, text.String())
		m.Reasoning = c.field(ctx, reasoning.String())
	}
	it.Model = m
}

// toolAuthorized attaches an authorization decision to its tool call.
func (b *runBuilder) toolAuthorized(e agent.ToolAuthorized) {
	c, ctx := b.c, b.ctx
	t := b.toolFor(b.iter(e.Iteration), e.Call)
	a := &authView{Allowed: e.Decision.Allowed, Reason: c.field(ctx, e.Decision.Reason).Text, Err: c.errText(ctx, e.Err)}
	for _, p := range e.Decision.Policies {
		a.Policies = append(a.Policies, c.label(ctx, p))
	}
	for _, p := range e.Decision.Errors {
		a.Errors = append(a.Errors, c.label(ctx, p))
	}
	t.Auth = a
}

// toolCalled fills in a tool call's result, with the guardrail events held
// for it.
func (b *runBuilder) toolCalled(e agent.ToolCalled) {
	b.v.ToolCalls++
	t := b.toolFor(b.iter(e.Iteration), e.Call)
	t.Result = b.c.field(b.ctx, partsText(e.Result.Parts))
	t.Key = e.IdempotencyKey
	t.Ran = !e.Start.IsZero()
	t.start = e.Start
	t.Offset, t.Duration = b.off(e.Start), e.Duration
	t.Status, t.StatusClass = toolStatus(e, t.Auth)
	k := callKey(e.Iteration, e.Call.ID)
	t.Guardrails = append(t.Guardrails, b.heldTool[k]...)
	delete(b.heldTool, k)
}

// guardrail places a guardrail intervention: on its tool call, held for a
// tool or model call still to come, or in the prelude.
func (b *runBuilder) guardrail(e agent.GuardrailIntervened) {
	c, ctx, v := b.c, b.ctx, b.v
	v.Guardrails++
	sv := b.step("guardrail", "Guardrail "+verdictWord(e.Verdict)+" the "+strings.ReplaceAll(string(e.Stage), "_", " "), "guard")
	sv.Body = c.field(ctx, e.Verdict.Detail)
	if e.Verdict.Text != "" {
		sv.Items = append(sv.Items, "replaced by: "+c.field(ctx, e.Verdict.Text).Text)
	}
	if e.Verdict.Message != "" {
		sv.Items = append(sv.Items, "message: "+c.field(ctx, e.Verdict.Message).Text)
	}
	// A tool stage's event comes after its step's model call and
	// before the tool's own event.
	k := callKey(b.lastIter, e.CallID)
	switch {
	case e.CallID != "" && b.tools[k] != nil:
		b.tools[k].Guardrails = append(b.tools[k].Guardrails, sv)
	case e.CallID != "":
		b.heldTool[k] = append(b.heldTool[k], sv)
	case e.Stage == agent.StageInput && b.lastIter == 0:
		v.Prelude = append(v.Prelude, sv)
	default:
		b.heldOutput = append(b.heldOutput, sv)
	}
}

// paused is the step of a pause, with the calls it waits for.
func (b *runBuilder) paused(e agent.Paused) *stepView {
	c, ctx := b.c, b.ctx
	sv := b.step("paused", "Paused: waiting for the caller", "pause")
	if e.Pending != nil {
		sv.Title = fmt.Sprintf("Paused: %d call(s) wait for the caller", len(e.Pending.Calls))
		for _, pc := range e.Pending.Calls {
			sv.Items = append(sv.Items, fmt.Sprintf("%s %s(%s)", pc.Kind, c.label(ctx, pc.Call.Name), c.field(ctx, string(pc.Call.Input)).Text))
		}
		if !e.Pending.ExpiresAt.IsZero() {
			sv.Items = append(sv.Items, "expires "+e.Pending.ExpiresAt.Format(time.RFC3339))
		}
	}
	return sv
}

// unknown shows an event type this console does not know (a newer agent
// package) with its type name and fields.
func (b *runBuilder) unknown(ev agent.RunEvent) {
	sv := b.step("unknown", fmt.Sprintf("%T", ev), "info")
	sv.Body = b.c.field(b.ctx, describeUnknown(ev))
	if b.lastIter > 0 {
		b.iter(b.lastIter).Notes = append(b.iter(b.lastIter).Notes, sv)
	} else {
		b.v.Prelude = append(b.v.Prelude, sv)
	}
}

// finish places the guardrail events still held, orders the steps, marks
// parallel tool calls and totals the cost.
func (b *runBuilder) finish() {
	v := b.v
	for _, id := range slices.Sorted(maps.Keys(b.heldTool)) { // guardrail events of calls never reported
		v.Epilogue = append(v.Epilogue, b.heldTool[id]...)
	}
	if len(b.heldOutput) > 0 {
		v.Epilogue = append(v.Epilogue, b.heldOutput...)
	}
	sort.SliceStable(v.Iterations, func(i, j int) bool { return v.Iterations[i].N < v.Iterations[j].N })
	for _, it := range v.Iterations {
		ran := 0
		for _, t := range it.Tools {
			if t.Ran {
				ran++
			}
		}
		it.Parallel = len(it.Tools) > 1
		it.Overlap = ran > 1 && overlapping(it.Tools)
	}
	v.Cost = b.cost.String()
	if b.unpriced {
		v.Cost += " (some calls unpriced)"
	}
	v.Gantt = runGantt(v)
}

// overlapping reports whether two of the tools' runs overlapped in time.
func overlapping(ts []*toolView) bool {
	for i, a := range ts {
		for _, b := range ts[i+1:] {
			if a.Ran && b.Ran && a.start.Before(b.start.Add(b.Duration)) && b.start.Before(a.start.Add(a.Duration)) {
				return true
			}
		}
	}
	return false
}

func toolStatus(e agent.ToolCalled, auth *authView) (string, string) {
	switch {
	case auth != nil && auth.Err != "":
		return "not authorized (authorizer failed)", "error"
	case auth != nil && !auth.Allowed:
		return "denied by policy", "error"
	case e.Invalid:
		return "invalid call", "error"
	case e.Panicked:
		return "panicked", "error"
	case e.Abandoned:
		return "abandoned after its timeout", "error"
	case e.Replayed:
		return "replayed from the session", "info"
	case e.Result.IsError:
		return "error", "error"
	case e.Start.IsZero():
		return "not run", "warn"
	}
	return "ok", "ok"
}

func verdictWord(v agent.Intervention) string {
	if v.Blocked {
		return "blocked"
	}
	return "rewrote"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// partsText renders a tool result's parts as text.
func partsText(parts []bedrockkit.Part) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.CitedText:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.WriteString(prettyJSON(p.Value))
		case bedrockkit.Image:
			fmt.Fprintf(&b, "[image %s, %d bytes%s]", p.Format, len(p.Bytes), s3(p.S3URI))
		case bedrockkit.Document:
			fmt.Fprintf(&b, "[document %q %s, %d bytes%s]", p.Name, p.Format, len(p.Bytes)+len(p.Text), s3(p.S3URI))
		default:
			fmt.Fprintf(&b, "[%T]", p)
		}
	}
	return b.String()
}

func s3(uri string) string {
	if uri == "" {
		return ""
	}
	return ", " + uri
}

// prettyJSON indents valid JSON; anything else is returned as it is.
func prettyJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var b strings.Builder
	var v any
	if len(raw) > 1<<20 || json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// describeUnknown shows an event of an unknown type: its JSON when it has
// one, else its Go value.
func describeUnknown(e agent.RunEvent) (s string) {
	defer func() {
		if recover() != nil { // a hostile MarshalJSON or String method
			s = fmt.Sprintf("(%T: its fields could not be shown)", e)
		}
	}()
	if b, err := json.Marshal(e); err == nil && len(b) > 2 {
		return prettyJSON(b)
	}
	return fmt.Sprintf("%+v", e)
}
