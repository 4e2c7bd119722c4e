package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"slices"
	"time"
)

// Caller is the verified identity of whoever made a request: the claims of
// a bearer token an Authorizer checked, or an anonymous caller when the
// service was deliberately configured without authentication.
//
// Take it from the context (CallerFrom); nothing a model produced, and no
// unverified header, may stand in for it.
type Caller struct {
	// Issuer is the token's "iss" claim: the identity provider.
	Issuer string
	// Subject is the token's "sub" claim: the user or workload, unique
	// within Issuer.
	Subject string
	// ClientID is the OAuth client the token was issued to ("client_id",
	// or "azp" for OIDC ID tokens), when the token names one.
	ClientID string
	// Audience is the token's "aud" claim.
	Audience []string
	// Scopes are the token's scopes ("scope", space-separated, or "scp").
	Scopes []string
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
	// Claims are all the token's claims, decoded from JSON (numbers are
	// float64). Treat the map as read-only: it is shared.
	Claims map[string]any
	// Anonymous is true for the caller of a service that runs without
	// authentication (Anonymous authorizer). Its other fields are empty.
	Anonymous bool
}

// AnonymousNamespace is the Namespace of anonymous callers.
const AnonymousNamespace = "anonymous"

// Namespace returns a short key that is the same for every token of this
// caller (same issuer and subject) and differs between callers: use it to
// keep each caller's sessions, memory records and files apart. It is
// AnonymousNamespace for anonymous callers, else "u-" and 26 base32
// characters of a SHA-256 of issuer and subject, safe in paths, keys and
// SQL identifiers.
func (c *Caller) Namespace() string {
	if c == nil || c.Anonymous {
		return AnonymousNamespace
	}
	// The issuer's length first, so no (issuer, subject) pair can be
	// shifted into another.
	in := binary.AppendUvarint(nil, uint64(len(c.Issuer)))
	in = append(append(in, c.Issuer...), c.Subject...)
	h := sha256.Sum256(in)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])
	b := []byte(enc[:26])
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + ('a' - 'A')
		}
	}
	return "u-" + string(b)
}

// HasScope reports whether the caller's token holds scope.
func (c *Caller) HasScope(scope string) bool {
	return c != nil && slices.Contains(c.Scopes, scope)
}

type callerKey struct{}

// WithCaller returns a context carrying c. Authorizers' HTTP middleware
// (Require) calls it; call it yourself only with a Caller you verified.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the verified caller carried by ctx, if any.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok && c != nil
}
