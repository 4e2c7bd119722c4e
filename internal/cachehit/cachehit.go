package cachehit

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Recorder collects the marks made on one traced call. Its methods are safe
// for concurrent use.
type Recorder struct {
	span        trace.SpanContext
	hit, shared atomic.Bool
	saved       atomic.Int64
}

type key struct{}

// WithRecorder returns ctx carrying a new Recorder for the span in ctx
// (trace.SpanFromContext), and that Recorder.
//
// A span with an invalid span context (a no-op tracer) cannot be told from
// a nested one by its span context, as all of them are equal: the
// Recorder then wraps the span in ctx, and a Mark counts only when ctx's
// span is still that wrapper (a nested call that started a span of its
// own, even a no-op one, has replaced it). A valid span is left as the
// tracer made it (an SDK span counts its children on itself).
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	span := trace.SpanFromContext(ctx)
	r := &Recorder{span: span.SpanContext()}
	if !r.span.IsValid() {
		ctx = trace.ContextWithSpan(ctx, ownedSpan{Span: span, r: r})
	}
	return context.WithValue(ctx, key{}, r), r
}

// ownedSpan marks the span of a Recorder whose span context is invalid.
type ownedSpan struct {
	trace.Span
	r *Recorder
}

// owns reports whether a Mark on ctx is for r's own call.
func (r *Recorder) owns(ctx context.Context) bool {
	if r.span.IsValid() {
		return r.span.Equal(trace.SpanContextFromContext(ctx))
	}
	o, ok := trace.SpanFromContext(ctx).(ownedSpan)
	return ok && o.r == r
}

// Detach returns ctx without its Recorder, if it has one.
func Detach(ctx context.Context) context.Context {
	if ctx.Value(key{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, key{}, (*Recorder)(nil))
}

// Mark records on ctx's Recorder, if any and if it belongs to ctx's span,
// that the call was answered without calling the model: shared is true for
// an answer shared with an identical call in flight, saved is the total
// tokens the answer originally cost.
func Mark(ctx context.Context, shared bool, saved int) {
	r, _ := ctx.Value(key{}).(*Recorder)
	if r == nil || !r.owns(ctx) {
		return
	}
	if shared {
		r.shared.Store(true)
	}
	r.saved.Add(int64(saved))
	r.hit.Store(true)
}

// Hit reports whether Mark was called for the Recorder.
func (r *Recorder) Hit() bool { return r.hit.Load() }

// Shared reports whether a Mark said the answer was shared.
func (r *Recorder) Shared() bool { return r.shared.Load() }

// Saved is the sum of the saved tokens given to Mark.
func (r *Recorder) Saved() int { return int(r.saved.Load()) }
