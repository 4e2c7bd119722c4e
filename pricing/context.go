package pricing

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit/internal/costsession"
)

// attribution is what the context carries for the meter: one value, so a
// metered call does a single context lookup.
type attribution struct {
	tenant  string
	session string
	tags    map[string]string // never modified after creation
	tagsKey string            // canonical encoding of tags
	budgets []*Budget         // run budgets, outermost first
}

type ctxKey struct{}

func attributionFrom(ctx context.Context) *attribution {
	a, _ := ctx.Value(ctxKey{}).(*attribution)
	if a == nil {
		a = &noAttribution
	}
	if a.session == "" {
		// A session set without this package: an agent run's (package
		// agent sets it through internal/costsession, not importing pricing).
		if s := costsession.From(ctx); s != "" {
			c := *a
			c.session = s
			return &c
		}
	}
	return a
}

var noAttribution attribution

func with(ctx context.Context, f func(*attribution)) context.Context {
	a := *attributionFrom(ctx)
	f(&a)
	return context.WithValue(ctx, ctxKey{}, &a)
}

// WithTenant returns a context whose metered calls are attributed to tenant
// and checked against its budget (Meter.SetBudget with ScopeTenant).
func WithTenant(ctx context.Context, tenant string) context.Context {
	return with(ctx, func(a *attribution) { a.tenant = tenant })
}

// WithSession returns a context whose metered calls are attributed to
// session and checked against its budget (Meter.SetBudget with ScopeSession).
//
// An agent run (package agent) sets its session ID unless ctx already has
// a session.
func WithSession(ctx context.Context, session string) context.Context {
	ctx = costsession.With(ctx, session) // what agent runs look for
	return with(ctx, func(a *attribution) { a.session = session })
}

// WithTags returns a context whose metered calls carry tags (for example
// feature, agent or job names) merged over the tags ctx already has. Keep
// tag values few: each distinct combination is a separate meter entry and
// metric series.
func WithTags(ctx context.Context, tags map[string]string) context.Context {
	return with(ctx, func(a *attribution) {
		merged := maps.Clone(a.tags)
		if merged == nil {
			merged = make(map[string]string, len(tags))
		}
		maps.Copy(merged, tags)
		a.tags = merged
		a.tagsKey = encodeTags(merged)
	})
}

// WithBudget returns a context whose metered calls are also checked against
// b, for example one agent run's budget. Budgets nest: an inner run's calls
// count against every budget on the context.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	if b == nil {
		return ctx
	}
	return with(ctx, func(a *attribution) {
		a.budgets = append(slices.Clip(a.budgets), b)
	})
}

// TenantFrom returns the tenant set by WithTenant, or "".
func TenantFrom(ctx context.Context) string { return attributionFrom(ctx).tenant }

// SessionFrom returns the session set by WithSession, or "".
func SessionFrom(ctx context.Context) string { return attributionFrom(ctx).session }

// TagsFrom returns a copy of the tags set by WithTags.
func TagsFrom(ctx context.Context) map[string]string { return maps.Clone(attributionFrom(ctx).tags) }

// encodeTags returns the tags as sorted, query-escaped k=v pairs joined by
// '&': unambiguous, and readable in CSV.
func encodeTags(tags map[string]string) string {
	keys := slices.Sorted(maps.Keys(tags))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(tags[k]))
	}
	return b.String()
}
