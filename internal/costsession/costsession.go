// Package costsession carries, on a context, the session that metered
// model calls are attributed to. It is the seam between package pricing,
// which reads it (pricing.WithSession writes it, pricing.SessionFrom and the
// meter read it), and package agent, which sets it for a run so that a
// pricing.Meter reports each session's cost without agent importing pricing
// (and the catalog and telemetry that come with it).
package costsession

import "context"

type key struct{}

// With returns a context whose metered calls are attributed to session.
func With(ctx context.Context, session string) context.Context {
	return context.WithValue(ctx, key{}, session)
}

// From returns the session set by With (or pricing.WithSession), or "".
func From(ctx context.Context) string {
	s, _ := ctx.Value(key{}).(string)
	return s
}
