package bedrockkit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"
)

// FallbackTarget is a model a fallback may answer with when the one before
// it in the list is throttled, unavailable or too slow: another model, or
// the same model in another Region.
type FallbackTarget struct {
	// Name identifies the target in events and errors, such as its model ID
	// or Region.
	Name string
	// Model answers the requests. Wrap it with its own meter
	// (pricing.Meter.Middleware) so each attempt is priced at its own model's
	// rates.
	Model Model
	// Capabilities are the target model's (CapabilitiesOf): a target that
	// cannot serve what a request needs — tools, a tool choice, images,
	// documents — is skipped rather than sent a request whose meaning it
	// would drop. The zero value (Known false) skips nothing.
	Capabilities Capabilities
	// Guardrail, if set, replaces Request.Guardrail for this target: a
	// guardrail's ID and version differ from one Region to another. A
	// request without a guardrail is sent without one.
	Guardrail *GuardrailConfig
	// Adapt, if set, rewrites a copy of the request for this target (for
	// example Request.Extra fields only one model family accepts). It must
	// keep the request's meaning; an error skips the target.
	Adapt func(*Request) (*Request, error)
}

// FallbackOptions configures a fallback. The zero value moves on after
// errors IsFallbackError accepts, with no attempt timeout.
type FallbackOptions struct {
	// When says whether an attempt's error moves on to the next target;
	// nil means IsFallbackError.
	When func(error) bool
	// AttemptTimeout bounds each attempt but the last: a Generate that has
	// not answered, or a Stream that has not produced its first event,
	// within it is abandoned for the next target. 0 means no timeout. The
	// caller's own deadline or cancellation never moves on.
	AttemptTimeout time.Duration
	// OnFallback, if set, is told each time a target is skipped or failed
	// and the next one is tried.
	OnFallback func(ctx context.Context, ev FallbackEvent)
}

// FallbackEvent reports one move to the next target.
type FallbackEvent struct {
	// From is the target that failed or was skipped, To the next one.
	From, To string
	// Err is why: the attempt's error, or a *FallbackSkipError.
	Err error
}

// ErrAttemptTimeout is wrapped by the error of an attempt abandoned after
// FallbackOptions.AttemptTimeout.
var ErrAttemptTimeout = errors.New("bedrockkit: fallback attempt timed out")

// IsFallbackError reports whether err is worth trying another model or
// Region for: throttling, service unavailable, internal error, model not
// ready, model timeout, an exhausted quota, or an attempt timeout. A
// stream that failed after producing output is not: the caller has seen
// it. Validation, access and guardrail errors are not either: another
// model would not fix the request.
func IsFallbackError(err error) bool {
	if err == nil {
		return false
	}
	var se *StreamError
	if errors.As(err, &se) && se.Partial {
		return false
	}
	return IsRetryable(err) || errors.Is(err, ErrQuotaExceeded) || errors.Is(err, ErrAttemptTimeout)
}

// FallbackSkipError says why a target was not tried. It wraps
// ErrUnsupported.
type FallbackSkipError struct {
	Target string
	Reason string
}

// Error names the target and the reason.
func (e *FallbackSkipError) Error() string {
	return fmt.Sprintf("bedrockkit: fallback skipped %s: %s", e.Target, e.Reason)
}

// Unwrap returns ErrUnsupported.
func (e *FallbackSkipError) Unwrap() error { return ErrUnsupported }

// FallbackError is the error of a fallback whose every target failed or
// was skipped. It unwraps to each attempt's error, so errors.Is finds
// ErrThrottled when the last target was throttled.
type FallbackError struct {
	// Attempts are the targets in order with their errors.
	Attempts []FallbackAttempt
}

// FallbackAttempt is one target's outcome.
type FallbackAttempt struct {
	Target string
	Err    error
}

// Error lists the attempts.
func (e *FallbackError) Error() string {
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		parts[i] = a.Target + ": " + a.Err.Error()
	}
	return "bedrockkit: every fallback target failed (" + strings.Join(parts, "; ") + "); lower the request rate, add targets or raise quotas"
}

// Unwrap returns the attempts' errors, the last first.
func (e *FallbackError) Unwrap() []error {
	errs := make([]error, 0, len(e.Attempts))
	for i := len(e.Attempts) - 1; i >= 0; i-- {
		errs = append(errs, e.Attempts[i].Err)
	}
	return errs
}

// Fallback returns middleware that answers with the model it wraps and,
// when that call fails with an error opts.When accepts (by default
// IsFallbackError: throttled, unavailable, timed out), with each target in
// turn, as NewFallbackModel does with the wrapped model named "primary"
// and its capabilities unknown. Compose it with bedrockkit.Chain: retry
// inside each target (so a target gives up before the next is tried), a
// meter inside each target (so each attempt is priced at its own rates),
// and caching, budgets and tracing outside.
func Fallback(opts FallbackOptions, targets ...FallbackTarget) Middleware {
	return func(primary Model) Model {
		all := append([]FallbackTarget{{Name: "primary", Model: primary}}, targets...)
		return &fallbackModel{targets: all, opts: opts}
	}
}

// NewFallbackModel returns a Model that sends each request to the first
// target and, when it fails with an error opts.When accepts, to the next,
// until one answers. Targets whose capabilities cannot serve a request
// (see FallbackTarget.Capabilities), or that do not honour Request.Output
// when the request has one, are skipped. A stream moves on only while it
// has yielded nothing: once the caller has seen output (text or a tool
// call), a failure is returned as it is, so nothing is produced twice.
// The error when every target fails is a *FallbackError.
func NewFallbackModel(opts FallbackOptions, targets ...FallbackTarget) (Model, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("bedrockkit: NewFallbackModel needs at least one target: %w", ErrInvalidInput)
	}
	for i, t := range targets {
		if t.Model == nil {
			return nil, fmt.Errorf("bedrockkit: fallback target %d (%q) has no Model: %w", i, t.Name, ErrInvalidInput)
		}
	}
	return &fallbackModel{targets: targets, opts: opts}, nil
}

type fallbackModel struct {
	targets []FallbackTarget
	opts    FallbackOptions
}

// SupportsOutput reports true when every target honours Request.Output,
// so StructuredOutput outside the fallback hands it the schema; otherwise
// StructuredOutput uses its forced tool, which every target can serve.
func (f *fallbackModel) SupportsOutput() bool {
	for _, t := range f.targets {
		oc, ok := t.Model.(OutputCapable)
		if !ok || !oc.SupportsOutput() {
			return false
		}
	}
	return true
}

func (f *fallbackModel) when(err error) bool {
	if f.opts.When != nil {
		return f.opts.When(err)
	}
	return IsFallbackError(err)
}

// prepare returns the request for target t, or why t cannot serve it.
func (f *fallbackModel) prepare(t FallbackTarget, req *Request) (*Request, error) {
	if reason := cannotServe(t, req); reason != "" {
		return nil, &FallbackSkipError{Target: t.Name, Reason: reason}
	}
	if t.Guardrail == nil && t.Adapt == nil {
		return req, nil
	}
	cp := *req
	if t.Guardrail != nil && req.Guardrail != nil {
		g := *t.Guardrail
		cp.Guardrail = &g
	}
	if t.Adapt != nil {
		out, err := t.Adapt(&cp)
		if err != nil {
			return nil, &FallbackSkipError{Target: t.Name, Reason: "Adapt: " + err.Error()}
		}
		if out == nil {
			return nil, &FallbackSkipError{Target: t.Name, Reason: "Adapt returned no request"}
		}
		return out, nil
	}
	return &cp, nil
}

// cannotServe says why target t would drop part of req's meaning, or "".
func cannotServe(t FallbackTarget, req *Request) string {
	if req == nil {
		return ""
	}
	if req.Output != nil {
		oc, ok := t.Model.(OutputCapable)
		if !ok || !oc.SupportsOutput() {
			return "the request asks for structured output (Request.Output) and the model does not honour it; put StructuredOutput outside the fallback"
		}
	}
	c := t.Capabilities
	if !c.Known {
		return ""
	}
	if len(req.Tools) > 0 && !c.Tools {
		return "the request has tools and " + c.Family + " takes none"
	}
	switch req.ToolChoice.Kind {
	case ToolChoiceAny:
		if !c.ToolChoiceAny {
			return "the request forces tool use and " + c.Family + " cannot be forced"
		}
	case ToolChoiceTool:
		if !c.ToolChoiceTool {
			return "the request forces tool " + req.ToolChoice.Name + " and " + c.Family + " cannot be forced to one tool"
		}
	}
	for _, m := range req.Messages {
		for _, p := range m.Parts {
			if reason := partNeeds(c, p); reason != "" {
				return reason
			}
		}
	}
	return ""
}

func partNeeds(c Capabilities, p Part) string {
	switch p := p.(type) {
	case Image:
		if !c.Images {
			return "the request has an image and " + c.Family + " takes none"
		}
	case Document:
		if !c.Documents {
			return "the request has a document and " + c.Family + " takes none"
		}
		if p.Citations && !c.Citations {
			return "the request asks for citations and " + c.Family + " cannot cite"
		}
	case ToolResult:
		for _, q := range p.Parts {
			if reason := partNeeds(c, q); reason != "" {
				return reason
			}
		}
	}
	return ""
}

// attemptCtx returns the context of attempt i (the last has no timeout).
func (f *fallbackModel) attemptCtx(ctx context.Context, i int) (context.Context, context.CancelFunc) {
	if f.opts.AttemptTimeout <= 0 || i == len(f.targets)-1 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, f.opts.AttemptTimeout, ErrAttemptTimeout)
}

// attemptErr turns an attempt's error into ErrAttemptTimeout when the
// attempt's own timeout (not the caller's context) ended it.
func attemptErr(ctx, actx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), ErrAttemptTimeout) {
		return fmt.Errorf("bedrockkit: %w: %w", err, ErrAttemptTimeout)
	}
	return err
}

// next records a failed or skipped attempt and reports whether to go on.
func (f *fallbackModel) next(ctx context.Context, i int, err error, fe *FallbackError) bool {
	fe.Attempts = append(fe.Attempts, FallbackAttempt{Target: f.targets[i].Name, Err: err})
	var skip *FallbackSkipError
	if !errors.As(err, &skip) && !f.when(err) {
		return false
	}
	if i+1 < len(f.targets) && f.opts.OnFallback != nil {
		f.opts.OnFallback(ctx, FallbackEvent{From: f.targets[i].Name, To: f.targets[i+1].Name, Err: err})
	}
	return i+1 < len(f.targets)
}

// final returns the error of a fallback that stopped: the one attempt's
// error as it is, or a *FallbackError when several were tried.
func final(fe *FallbackError) error {
	if len(fe.Attempts) == 1 {
		return fe.Attempts[0].Err
	}
	return fe
}

// Generate tries the targets in order.
func (f *fallbackModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	var fe FallbackError
	for i, t := range f.targets {
		r, err := f.prepare(t, req)
		if err == nil {
			var resp *Response
			actx, cancel := f.attemptCtx(ctx, i)
			resp, err = t.Model.Generate(actx, r)
			err = attemptErr(ctx, actx, err)
			cancel()
			if err == nil {
				return resp, nil
			}
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if !f.next(ctx, i, err, &fe) {
			return nil, final(&fe)
		}
	}
	return nil, final(&fe)
}

// Stream tries the targets in order while nothing has been yielded.
func (f *fallbackModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		var fe FallbackError
		for i, t := range f.targets {
			r, err := f.prepare(t, req)
			if err == nil {
				var yielded, stopped bool
				yielded, stopped, err = f.streamOne(ctx, i, t, r, yield)
				if stopped || (err == nil) {
					return
				}
				if yielded {
					yield(nil, err) // too late to move on: the caller has seen output
					return
				}
			}
			if ctx.Err() != nil {
				yield(nil, err)
				return
			}
			if !f.next(ctx, i, err, &fe) {
				yield(nil, final(&fe))
				return
			}
		}
		yield(nil, final(&fe))
	}
}

// streamOne streams one attempt. The attempt timeout stops applying at the
// first event.
func (f *fallbackModel) streamOne(ctx context.Context, i int, t FallbackTarget, r *Request, yield func(StreamEvent, error) bool) (yielded, stopped bool, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var timer *time.Timer
	var mu sync.Mutex
	timedOut := false
	if f.opts.AttemptTimeout > 0 && i < len(f.targets)-1 {
		timer = time.AfterFunc(f.opts.AttemptTimeout, func() {
			mu.Lock()
			if !yielded {
				timedOut = true
				cancel(ErrAttemptTimeout)
			}
			mu.Unlock()
		})
		defer timer.Stop()
	}
	for ev, serr := range t.Model.Stream(actx, r) {
		if serr != nil {
			mu.Lock()
			to := timedOut
			mu.Unlock()
			if to && ctx.Err() == nil {
				serr = fmt.Errorf("bedrockkit: %w: %w", serr, ErrAttemptTimeout)
			}
			return yielded, false, serr
		}
		mu.Lock()
		if timedOut {
			mu.Unlock()
			continue // abandoned: drain until the stream notices
		}
		yielded = true
		mu.Unlock()
		if !yield(ev, nil) {
			return true, true, nil
		}
	}
	mu.Lock()
	to := timedOut
	mu.Unlock()
	if to && ctx.Err() == nil {
		return false, false, fmt.Errorf("bedrockkit: no event for %s: %w", f.opts.AttemptTimeout, ErrAttemptTimeout)
	}
	return yielded, false, nil
}
