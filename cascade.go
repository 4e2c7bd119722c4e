package bedrockkit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// CascadeCheck judges an answer of a cascade: nil accepts it, an error
// (saying why) escalates the request to the next, stronger model. A check
// must not change req or resp.
type CascadeCheck func(ctx context.Context, req *Request, resp *Response) error

// CascadeOptions configures Cascade.
type CascadeOptions struct {
	// Check judges each answer; it is required. Combine checks with
	// CheckAll.
	Check CascadeCheck
	// OnEscalate, if set, is told each time an answer failed the check
	// (or its model failed) and the next model is asked.
	OnEscalate func(ctx context.Context, ev CascadeEvent)
}

// CascadeEvent reports one escalation.
type CascadeEvent struct {
	// Level is the model whose answer failed (0 for the first), Err why.
	Level int
	Err   error
}

// ErrCascadeRejected is wrapped by the error of a cascade whose last
// model's answer also failed the check.
var ErrCascadeRejected = errors.New("bedrockkit: every model's answer failed the cascade check")

// CascadeError is returned, with the last model's response, when the
// strongest model's answer fails the check too. It wraps
// ErrCascadeRejected and the last check error.
type CascadeError struct {
	// Rejections are the check errors, one per model, in order.
	Rejections []error
}

// Error lists why each answer was rejected.
func (e *CascadeError) Error() string {
	parts := make([]string, len(e.Rejections))
	for i, r := range e.Rejections {
		parts[i] = fmt.Sprintf("model %d: %v", i, r)
	}
	return "bedrockkit: every model's answer failed the cascade check (" + strings.Join(parts, "; ") + "); the last answer is returned with this error"
}

// Unwrap returns ErrCascadeRejected and the last rejection.
func (e *CascadeError) Unwrap() []error {
	out := []error{ErrCascadeRejected}
	if n := len(e.Rejections); n > 0 {
		out = append(out, e.Rejections[n-1])
	}
	return out
}

// Cascade returns middleware that answers with the model it wraps (the
// cheapest) and, when the answer fails opts.Check or the model fails,
// asks each stronger model in turn. The answer returned is the first one
// the check accepts; its Usage and Latency sum every attempt (as
// StructuredOutput's do), so wrap each model with its own meter
// (pricing.Meter.Middleware) for each attempt to be priced at its own rates —
// a meter outside the cascade would price every attempt as one model.
// When the strongest model's answer fails too it is returned with a
// *CascadeError. A request the check must see whole is buffered: Stream
// yields an attempt's events only after its answer passed the check.
//
// Use it with bedrockkit.Chain like any middleware; retry and meters
// belong inside each model, caching and budgets outside.
func Cascade(opts CascadeOptions, stronger ...Model) Middleware {
	return func(first Model) Model {
		return &cascadeModel{models: append([]Model{first}, stronger...), opts: opts}
	}
}

type cascadeModel struct {
	models []Model
	opts   CascadeOptions
}

// SupportsOutput reports true when every model honours Request.Output.
func (c *cascadeModel) SupportsOutput() bool {
	for _, m := range c.models {
		oc, ok := m.(OutputCapable)
		if !ok || !oc.SupportsOutput() {
			return false
		}
	}
	return true
}

func (c *cascadeModel) check(ctx context.Context, req *Request, resp *Response) error {
	if c.opts.Check == nil {
		return fmt.Errorf("bedrockkit: CascadeOptions.Check is nil; give a check (CheckOutput, CheckJudge, CheckText, or your own): %w", ErrInvalidInput)
	}
	return c.opts.Check(ctx, req, resp)
}

func (c *cascadeModel) escalate(ctx context.Context, level int, err error) {
	if c.opts.OnEscalate != nil && level+1 < len(c.models) {
		c.opts.OnEscalate(ctx, CascadeEvent{Level: level, Err: err})
	}
}

// Generate asks each model in turn until an answer passes the check.
func (c *cascadeModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	var total Usage
	var latency time.Duration
	var rejections []error
	var last *Response
	for i, m := range c.models {
		resp, err := m.Generate(ctx, req)
		if resp != nil {
			total = total.Add(resp.Usage)
			latency += resp.Latency
		}
		if err != nil {
			if ctx.Err() != nil || i == len(c.models)-1 {
				return withUsage(resp, total, latency), err
			}
			rejections = append(rejections, err)
			c.escalate(ctx, i, err)
			continue
		}
		if resp == nil {
			return nil, fmt.Errorf("bedrockkit: cascade model %d returned no response and no error: %w", i, ErrModelError)
		}
		last = resp
		cerr := c.check(ctx, req, resp)
		if cerr == nil {
			return withUsage(resp, total, latency), nil
		}
		if errors.Is(cerr, ErrInvalidInput) && c.opts.Check == nil {
			return nil, cerr
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rejections = append(rejections, cerr)
		c.escalate(ctx, i, cerr)
	}
	return withUsage(last, total, latency), &CascadeError{Rejections: rejections}
}

// withUsage returns a copy of resp carrying the summed usage and latency.
func withUsage(resp *Response, u Usage, d time.Duration) *Response {
	if resp == nil {
		return nil
	}
	cp := *resp
	cp.Usage, cp.Latency = u, d
	return &cp
}

// Stream buffers each attempt, checks it, and replays the accepted one,
// ending with one Metadata event carrying the summed usage.
func (c *cascadeModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		var total Usage
		var latency time.Duration
		var rejections []error
		var lastEvents []StreamEvent
		var lastMeta StreamMetadata
		for i, m := range c.models {
			events, meta, resp, err := bufferStream(m.Stream(ctx, req))
			total = total.Add(meta.Usage)
			latency += meta.Latency
			if err != nil {
				if ctx.Err() != nil || i == len(c.models)-1 {
					yield(nil, err)
					return
				}
				rejections = append(rejections, err)
				c.escalate(ctx, i, err)
				continue
			}
			lastEvents, lastMeta = events, meta
			cerr := c.check(ctx, req, resp)
			if cerr == nil {
				replay(events, meta, total, latency, yield)
				return
			}
			if c.opts.Check == nil {
				yield(nil, cerr)
				return
			}
			if ctx.Err() != nil {
				yield(nil, ctx.Err())
				return
			}
			rejections = append(rejections, cerr)
			c.escalate(ctx, i, cerr)
		}
		if lastEvents != nil && !replay(lastEvents, lastMeta, total, latency, yield) {
			return
		}
		yield(nil, &CascadeError{Rejections: rejections})
	}
}

// bufferStream collects a stream's events and its response.
func bufferStream(s iter.Seq2[StreamEvent, error]) (events []StreamEvent, meta StreamMetadata, resp *Response, err error) {
	var evs []StreamEvent
	tee := func(yield func(StreamEvent, error) bool) {
		for ev, e := range s {
			if e == nil {
				if md, ok := ev.(StreamMetadata); ok {
					meta = md
				}
				evs = append(evs, ev)
			}
			if !yield(ev, e) {
				return
			}
		}
	}
	resp, err = Collect(tee)
	return evs, meta, resp, err
}

// replay yields events, replacing the Metadata event by one with the
// summed usage and latency. It reports false when the caller stopped.
func replay(events []StreamEvent, meta StreamMetadata, u Usage, d time.Duration, yield func(StreamEvent, error) bool) bool {
	for _, ev := range events {
		if _, ok := ev.(StreamMetadata); ok {
			continue
		}
		if !yield(ev, nil) {
			return false
		}
	}
	meta.Usage, meta.Latency = u, d
	return yield(meta, nil)
}

// CheckAll accepts an answer only when every check does, asking them in
// order and stopping at the first rejection.
func CheckAll(checks ...CascadeCheck) CascadeCheck {
	return func(ctx context.Context, req *Request, resp *Response) error {
		for _, ch := range checks {
			if err := ch(ctx, req, resp); err != nil {
				return err
			}
		}
		return nil
	}
}

// CheckOutput accepts an answer whose text is a value valid against
// Request.Output (requests without Output pass). An answer that calls
// tools passes when the request offers tools: the caller's loop runs them.
// The rejection is the *OutputError naming what is wrong.
func CheckOutput() CascadeCheck {
	return func(_ context.Context, req *Request, resp *Response) error {
		if req == nil || req.Output == nil {
			return nil
		}
		if len(req.Tools) > 0 && len(resp.Message.ToolCalls()) > 0 {
			return nil
		}
		return req.Output.Validate([]byte(resp.Message.Text()))
	}
}

// CheckText accepts an answer when check accepts its text, for example a
// guardrail assessment of the output (guardrail.Guard.Assess) or a
// user-supplied predicate.
func CheckText(check func(ctx context.Context, text string) error) CascadeCheck {
	return func(ctx context.Context, _ *Request, resp *Response) error {
		return check(ctx, resp.Message.Text())
	}
}

// CheckStop rejects an answer that stopped for one of reasons, such as
// StopMaxTokens (a truncated answer), StopGuardrailIntervened or
// StopContentFiltered.
func CheckStop(reasons ...StopReason) CascadeCheck {
	return func(_ context.Context, _ *Request, resp *Response) error {
		for _, r := range reasons {
			if resp.StopReason == r {
				return fmt.Errorf("bedrockkit: the answer stopped with %s", r)
			}
		}
		return nil
	}
}

// ErrJudgeRejected is wrapped by the rejection of CheckJudge.
var ErrJudgeRejected = errors.New("bedrockkit: the judge rejected the answer")

// CheckJudge asks judge whether an answer meets criteria: the judge sees
// the conversation's last user message, the answer and the criteria, and
// must reply starting with PASS or FAIL (a reason may follow). A reply
// that is neither rejects, as does a judge error. The judge's call is a
// model call like any other: wrap judge with a meter to price it.
func CheckJudge(judge Model, criteria string) CascadeCheck {
	return func(ctx context.Context, req *Request, resp *Response) error {
		question := ""
		if req != nil {
			for i := len(req.Messages) - 1; i >= 0; i-- {
				if req.Messages[i].Role == RoleUser && req.Messages[i].Text() != "" {
					question = req.Messages[i].Text()
					break
				}
			}
		}
		prompt := "You check answers. Criteria: " + criteria + "\n\n<question>\n" + question + "\n</question>\n<answer>\n" +
			resp.Message.Text() + "\n</answer>\n\nReply PASS if the answer meets the criteria, otherwise FAIL, then one sentence saying why."
		jr, err := judge.Generate(ctx, &Request{Messages: []Message{UserText(prompt)}, MaxTokens: 200})
		if err != nil {
			return fmt.Errorf("bedrockkit: the judge failed: %w: %w", err, ErrJudgeRejected)
		}
		verdict := strings.TrimSpace(jr.Message.Text())
		upper := strings.ToUpper(verdict)
		switch {
		case strings.HasPrefix(upper, "PASS"):
			return nil
		case strings.HasPrefix(upper, "FAIL"):
			return fmt.Errorf("bedrockkit: %s: %w", verdict, ErrJudgeRejected)
		}
		return fmt.Errorf("bedrockkit: the judge's reply is neither PASS nor FAIL: %q: %w", verdict, ErrJudgeRejected)
	}
}
