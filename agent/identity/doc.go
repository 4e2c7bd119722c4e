// Package identity says who is calling: an inbound authorizer that
// validates OAuth 2.0 / OpenID Connect bearer JWTs the way AgentCore's
// inbound JWT authorizer does, and the verified Caller it puts in the
// request's context for tools, memory namespaces, policies and traces.
//
// JWTAuthorizer checks a token's signature against the provider's key set
// (found through the OpenID discovery document, or given), its issuer,
// expiry and not-before with a clock skew, and then the allowed
// audiences, clients, scopes and custom claims. Only asymmetric signature
// algorithms are accepted, so "alg: none" and HMAC key-confusion tokens
// are refused; keys are refetched when a token names a key the set lacks
// (key rotation), at most once per MinRefreshInterval, so a flood of bad
// tokens cannot flood the provider. Refusals are *AuthError values
// wrapping ErrUnauthenticated (HTTP 401), ErrForbidden (403) or
// ErrKeysUnavailable (503).
//
// Require wraps an http.Handler: it authorizes each request and passes
// the Caller in the context (CallerFrom), or answers with a JSON error
// and a WWW-Authenticate: Bearer challenge. Serving without
// authentication is a choice made explicitly with Anonymous; a nil
// Authorizer refuses everything.
//
// Caller.Namespace is a stable, opaque key per caller (issuer and
// subject): keep each caller's sessions and records under it so no caller
// reaches another's. The caller's identity must come from the context;
// nothing a model produced may stand in for it.
//
// The package depends only on the standard library and go-jose.
package identity
