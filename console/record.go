package console

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// RunInfo labels the agent runs the console records.
type RunInfo struct {
	// Agent names the agent.
	Agent string
	// Session is the session ID. Empty means the one the run reports when
	// it finishes or pauses (or, in Observe, pricing.SessionFrom(ctx)).
	Session string
	// Tenant and Tags attribute the runs' spend. Empty means, in Observe,
	// pricing.TenantFrom(ctx) and pricing.TagsFrom(ctx).
	Tenant string
	Tags   map[string]string
}

// Observe returns a context that records into the console every agent run
// (Run, Stream, Resume, ResumeStream) made with it, through
// agent.WithObserver. Runs made one after another with the same context are
// recorded as separate runs; a Resume is linked to the run that paused.
// Give each concurrent run its own Observe context: events of runs that
// share one cannot be told apart.
func (c *Console) Observe(ctx context.Context, info RunInfo) context.Context {
	if info.Session == "" {
		info.Session = pricing.SessionFrom(ctx)
	}
	if info.Tenant == "" {
		info.Tenant = pricing.TenantFrom(ctx)
	}
	if info.Tags == nil {
		info.Tags = pricing.TagsFrom(ctx)
	}
	return agent.WithObserver(ctx, c.Observer(info))
}

// Observer returns a function for agent.Agent.OnEvent that records the
// agent's runs into the console, one after another. An agent that runs
// concurrently should use Observe per run instead.
func (c *Console) Observer(info RunInfo) func(agent.RunEvent) {
	info.Tags = maps.Clone(info.Tags)
	t := &tracker{c: c, info: info}
	return t.observe
}

// tracker follows the runs of one observer: a new run starts with the first
// event after a run ended (finished, paused or failed).
type tracker struct {
	c    *Console
	info RunInfo
	cur  *runRec // guarded by c.mu
}

// Run states.
const (
	statusRunning  = "running"
	statusFinished = "finished"
	statusPaused   = "paused"
	statusFailed   = "failed"
)

// runRec is one recorded run (one Run, Stream or Resume call).
type runRec struct {
	id      string
	seq     uint64
	info    RunInfo
	started time.Time
	ended   time.Time
	status  string
	events  []recEvent
	dropped int   // events past MaxEventsPerRun
	bytes   int64 // approximate text held
	evicted bool
	version int // bumped on every change, for the render cache

	resumeOf  string // run whose pause this run resumed
	resumedBy string
}

// recEvent is an event with the time it arrived (Unix nanoseconds: a
// time.Time would make every kept event 16 bytes larger).
type recEvent struct {
	at int64
	ev agent.RunEvent
}

func (e recEvent) time() time.Time { return time.Unix(0, e.at) }

func (t *tracker) observe(e agent.RunEvent) {
	var at int64 // when the event happened, in Unix nanoseconds
	switch ev := e.(type) {
	case agent.ModelText, agent.Observation:
		// The model call's event carries the whole text, and the tool
		// events every result the observation repeats.
		return
	case agent.ModelCalled: // these say when they ended: no clock read
		at = ev.Start.UnixNano() + int64(ev.Duration)
	case agent.ToolCalled:
		if !ev.Start.IsZero() {
			at = ev.Start.UnixNano() + int64(ev.Duration)
		}
	}
	if at == 0 {
		at = time.Now().UnixNano()
	}
	now := time.Unix(0, at)
	e, size := trim(e)
	c := t.c
	c.mu.Lock()
	r := t.cur
	if r == nil || r.status != statusRunning {
		r = c.startRunLocked(t.info, e, now)
		t.cur = r
	}
	sample := false
	if r.evicted {
		r.dropped++ // nobody can see it any more; the overview counts evicted runs
	} else {
		if len(r.events) < c.opts.MaxEventsPerRun {
			r.events = append(r.events, recEvent{at: at, ev: e})
			r.bytes += size
			c.runBytes += size
		} else {
			r.dropped++
		}
		r.version++
		sample = c.endLocked(r, e, now)
		c.evictLocked()
	}
	c.mu.Unlock()
	if sample {
		c.sampleMeters(now, false)
	}
	c.changed()
}

// startRunLocked begins a record for a run whose first event is e. A run
// whose first event is the result of a call a paused run was waiting for is
// that pause's resumption.
func (c *Console) startRunLocked(info RunInfo, e agent.RunEvent, now time.Time) *runRec {
	c.nextRun++
	r := &runRec{id: "r" + strconv.FormatUint(c.nextRun, 10), seq: c.nextRun, info: info, started: now, status: statusRunning,
		events: make([]recEvent, 0, 32)}
	if tc, ok := e.(agent.ToolCalled); ok {
		if p := c.pending[pendingKey(tc.IdempotencyKey, tc.Call.ID)]; p != nil && (info.Session == "" || info.Session == p.info.Session) {
			r.resumeOf = p.id
			p.resumedBy = r.id
			p.version++
			if r.info.Session == "" {
				r.info.Session = p.info.Session
			}
			if r.info.Agent == "" {
				r.info.Agent = p.info.Agent
			}
			for id, q := range c.pending {
				if q == p {
					delete(c.pending, id)
				}
			}
		}
	}
	var start time.Time // when the first event began, if it says
	switch ev := e.(type) {
	case agent.ModelCalled:
		start = ev.Start
	case agent.ToolCalled:
		start = ev.Start
	}
	if !start.IsZero() && start.Before(now) {
		r.started = start
	}
	c.runs = append(c.runs, r)
	return r
}

// pendingKey names a paused call: by its idempotency key, which the agent
// derives from the session, the turn and the call ID, so call IDs a model
// reuses in other sessions do not match.
func pendingKey(idempotencyKey, callID string) string {
	if idempotencyKey != "" {
		return idempotencyKey
	}
	return "id:" + callID
}

// endLocked notes a terminal event; it reports whether meters should be
// sampled now.
func (c *Console) endLocked(r *runRec, e agent.RunEvent, now time.Time) bool {
	switch e := e.(type) {
	case agent.Finished:
		r.status = statusFinished
		if r.info.Session == "" && e.Result != nil {
			r.info.Session = e.Result.SessionID
		}
	case agent.Paused:
		r.status = statusPaused
		if e.Pending != nil {
			if r.info.Session == "" {
				r.info.Session = e.Pending.SessionID
			}
			for _, pc := range e.Pending.Calls {
				c.pending[pendingKey(pc.IdempotencyKey, pc.Call.ID)] = r
			}
		}
	case agent.Failure:
		r.status = statusFailed
	default:
		return false
	}
	r.ended = now
	if len(c.meters) > 0 && now.Sub(c.lastSample) >= c.opts.CostSampleInterval {
		return true
	}
	return false
}

// runLocked returns the kept run with ID id ("r<seq>"), or nil. The kept
// runs are in seq order, so it is a binary search.
func (c *Console) runLocked(id string) *runRec {
	seq, err := strconv.ParseUint(strings.TrimPrefix(id, "r"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "r") {
		return nil
	}
	i, ok := slices.BinarySearchFunc(c.runs, seq, func(r *runRec, s uint64) int { return cmp.Compare(r.seq, s) })
	if !ok {
		return nil
	}
	return c.runs[i]
}

// evictLocked drops the oldest runs while over MaxRuns or MaxBytes; the
// newest run is always kept.
func (c *Console) evictLocked() {
	for len(c.runs) > 1 && (len(c.runs) > c.opts.MaxRuns || c.runBytes > c.opts.MaxBytes) {
		old := c.runs[0]
		c.runs[0] = nil
		c.runs = c.runs[1:]
		old.evicted = true
		old.events = nil
		c.runBytes -= old.bytes
		delete(c.cache, old.id)
		for id, q := range c.pending {
			if q == old {
				delete(c.pending, id)
			}
		}
		c.evictedRuns++
	}
	if cap(c.runs) > 2*c.opts.MaxRuns+16 { // let the dropped head be collected
		c.runs = append([]*runRec(nil), c.runs...)
	}
}

// trim returns the event to keep and the approximate bytes it holds. The
// final result and the pause keep their counters but not the turn's
// messages, which the model and tool events already hold. Other events are
// kept as they came (the same interface value: no copy).
func trim(ev agent.RunEvent) (agent.RunEvent, int64) {
	const overhead = 96
	switch e := ev.(type) {
	case agent.ModelCalled:
		if e.Message != nil {
			return ev, overhead + partsSize(e.Message.Parts)
		}
	case agent.ToolCalled:
		return ev, overhead + int64(len(e.Call.Input)) + partsSize(e.Result.Parts)
	case agent.ToolAuthorized:
		return ev, overhead + int64(len(e.Call.Input)+len(e.Decision.Reason))
	case agent.GuardrailIntervened:
		return ev, overhead + int64(len(e.Verdict.Text)+len(e.Verdict.Message)+len(e.Verdict.Detail))
	case agent.OutputValidated:
		return ev, overhead + int64(len(e.Value))
	case agent.Finished:
		if e.Result != nil {
			res := *e.Result
			res.Messages = nil
			res.Message = bedrockkit.Message{}
			res.Pending = nil
			return agent.Finished{Result: &res}, overhead + int64(len(res.Output))
		}
	case agent.Paused:
		if e.Pending != nil {
			p := agent.Pending{ID: e.Pending.ID, SessionID: e.Pending.SessionID, Turn: e.Pending.Turn,
				Iteration: e.Pending.Iteration, Calls: e.Pending.Calls, Usage: e.Pending.Usage, ExpiresAt: e.Pending.ExpiresAt}
			n := int64(overhead)
			for _, pc := range p.Calls {
				n += int64(len(pc.Call.Input))
			}
			return agent.Paused{Pending: &p}, n
		}
	}
	return ev, overhead
}

func partsSize(parts []bedrockkit.Part) int64 {
	var n int64
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			n += int64(len(p.Text))
		case bedrockkit.CitedText:
			n += int64(len(p.Text))
		case bedrockkit.JSON:
			n += int64(len(p.Value))
		case bedrockkit.ToolCall:
			n += int64(len(p.Input))
		case bedrockkit.ToolResult:
			n += partsSize(p.Parts)
		case bedrockkit.Reasoning:
			n += int64(len(p.Text) + len(p.Redacted))
		case bedrockkit.Image:
			n += int64(len(p.Bytes))
		case bedrockkit.Document:
			n += int64(len(p.Bytes) + len(p.Text))
		}
	}
	return n
}
