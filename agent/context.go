package agent

import (
	"context"

	"github.com/bedrockkit/bedrockkit/internal/costsession"
)

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

type observerKey struct{}

// WithObserver returns a context whose runs (Run, Stream, Resume and
// ResumeStream called with it) also deliver every event to fn, on the run's
// goroutine, before Agent.OnEvent. Tracing integrations such as
// agent/agentotel use it to follow one run.
func WithObserver(ctx context.Context, fn func(RunEvent)) context.Context {
	if prev, ok := ctx.Value(observerKey{}).(func(RunEvent)); ok && prev != nil {
		inner := fn
		fn = func(e RunEvent) { prev(e); inner(e) }
	}
	return context.WithValue(ctx, observerKey{}, fn)
}

func observerFrom(ctx context.Context) func(RunEvent) {
	fn, _ := ctx.Value(observerKey{}).(func(RunEvent))
	return fn
}

// withCostSession attributes the run's metered calls to sessionID, so that
// a pricing.Meter wrapped around the model reports the session's cost
// (pricing.SessionFrom, Meter.SessionCost), unless ctx already names a
// session: one the caller set with pricing.WithSession, or the session of
// an outer agent run whose tool this run is.
func withCostSession(ctx context.Context, sessionID string) context.Context {
	if costsession.From(ctx) != "" {
		return ctx
	}
	return costsession.With(ctx, sessionID)
}
