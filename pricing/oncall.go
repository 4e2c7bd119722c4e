package pricing

import (
	"context"
	"slices"
)

// CallOutcome says how a metered call ended.
type CallOutcome string

// The outcomes of metered calls.
const (
	// CallOK: the call succeeded and reported its usage.
	CallOK CallOutcome = "ok"
	// CallEstimated: the call's usage was estimated (an embedder, or a
	// stream that ended without its usage).
	CallEstimated CallOutcome = "estimated"
	// CallFailed: the call returned an error.
	CallFailed CallOutcome = "failed"
	// CallRefused: a budget stopped the call before it reached the model.
	CallRefused CallOutcome = "refused"
	// CallUnpriced: the catalog could not price the call's usage.
	CallUnpriced CallOutcome = "unpriced"
)

// MeteredCall is one call as the meter recorded it, given to the functions
// registered with Meter.OnCall.
type MeteredCall struct {
	// Tenant, Session and Tags are the call's attribution (WithTenant,
	// WithSession, WithTags). Tags is shared with other calls: read it,
	// never modify it.
	Tenant  string
	Session string
	Tags    map[string]string
	// TagsKey is Tags in one canonical string (sorted, query-escaped k=v
	// pairs joined by '&'), usable as a map key.
	TagsKey string
	// Model is the ID the call was metered as.
	Model   string
	Outcome CallOutcome
	// Bill is the call's priced usage: zero for a refused call or one that
	// failed without usage, without cost for an unpriced one.
	Bill Bill
}

type callHook struct {
	fn func(context.Context, MeteredCall)
}

// OnCall registers fn to be told about every call the meter records (the
// calls Snapshot counts), after it is recorded, on the goroutine that made
// the call, with that call's context. fn must be quick and safe for
// concurrent use; it may call the meter. It returns a function that
// unregisters fn (calling it again does nothing); calls already in
// progress may still reach fn.
//
// Package otelkit uses it to export the meter's cost, token and call
// counters as OpenTelemetry metrics (otelkit.NewCostMetrics), so that this
// package does not depend on OpenTelemetry.
func (m *Meter) OnCall(fn func(context.Context, MeteredCall)) (remove func()) {
	h := &callHook{fn: fn}
	m.updateHooks(func(hs []*callHook) []*callHook { return append(hs, h) })
	return func() {
		m.updateHooks(func(hs []*callHook) []*callHook {
			return slices.DeleteFunc(hs, func(x *callHook) bool { return x == h })
		})
	}
}

// updateHooks replaces the hook list with f's copy of it.
func (m *Meter) updateHooks(f func([]*callHook) []*callHook) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	var cur []*callHook
	if p := m.hooks.Load(); p != nil {
		cur = *p
	}
	next := f(slices.Clone(cur))
	m.hooks.Store(&next)
}

// notify tells the hooks about one recorded call.
func (m *Meter) notify(ctx context.Context, a *attribution, modelID string, bill Bill, o outcome) {
	p := m.hooks.Load()
	if p == nil || len(*p) == 0 {
		return
	}
	c := MeteredCall{Tenant: a.tenant, Session: a.session, Tags: a.tags, TagsKey: a.tagsKey, Model: modelID, Outcome: outcomeNames[o], Bill: bill}
	for _, h := range *p {
		h.fn(ctx, c)
	}
}
