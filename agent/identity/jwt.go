package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bedrockkit/bedrockkit"
)

// ClaimOperator compares a custom claim with the configured values, as
// AgentCore's customClaims do.
type ClaimOperator string

// Claim operators.
const (
	// ClaimEquals: the claim is a string equal to the single value.
	ClaimEquals ClaimOperator = "EQUALS"
	// ClaimContains: the claim is a list of strings holding the single value.
	ClaimContains ClaimOperator = "CONTAINS"
	// ClaimContainsAny: the claim is a list of strings holding at least
	// one of the values.
	ClaimContainsAny ClaimOperator = "CONTAINS_ANY"
)

// ClaimRule is a check on one claim of the token.
type ClaimRule struct {
	// Name is the claim's name ("groups", "tenant").
	Name     string
	Operator ClaimOperator
	Values   []string
}

// DefaultAlgorithms are the signature algorithms accepted when
// JWTOptions.Algorithms is empty: the asymmetric ones. "none" and the
// HMAC algorithms are never accepted with a public key set.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTOptions configure a JWTAuthorizer, mirroring AgentCore's
// customJWTAuthorizer. Give DiscoveryURL, or Issuer with JWKSURL or
// StaticJWKS; and at least one of AllowedAudiences and AllowedClients, so
// that a token the provider issued for another application is refused.
type JWTOptions struct {
	// DiscoveryURL is the provider's OpenID discovery document, ending in
	// /.well-known/openid-configuration; the issuer and the JWKS URL are
	// read from it.
	DiscoveryURL string
	// Issuer is the expected "iss". With DiscoveryURL it is optional and,
	// when set, must equal the discovery document's issuer.
	Issuer string
	// JWKSURL is the key set's URL, when not discovered.
	JWKSURL string
	// StaticJWKS is a JWKS document holding the keys, for providers whose
	// keys are configured rather than fetched (and for tests).
	StaticJWKS []byte
	// AllowedAudiences: the token's "aud" must hold at least one of them.
	AllowedAudiences []string
	// AllowedClients: the token's "client_id" (or "azp") must be one of them.
	AllowedClients []string
	// AllowedScopes: the token's scopes must hold at least one of them.
	AllowedScopes []string
	// CustomClaims are further checks on named claims; all must pass.
	CustomClaims []ClaimRule
	// Algorithms are the accepted signature algorithms; empty means
	// DefaultAlgorithms. HMAC algorithms and "none" are refused here.
	Algorithms []string
	// ClockSkew is the tolerance when comparing exp, nbf and iat with the
	// clock; 0 means one minute, a negative value none.
	ClockSkew time.Duration
	// HTTPClient fetches the discovery document and key set; nil means a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between two fetches of the key
	// set caused by tokens naming unknown keys; 0 means 30 s.
	MinRefreshInterval time.Duration
	// MaxKeyAge is how long a fetched key set is used before it is fetched
	// again on the next request (old keys are kept if that fails); 0 means
	// one hour.
	MaxKeyAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWTAuthorizer validates OAuth 2.0 / OpenID Connect bearer JWTs against a
// provider's key set: signature (asymmetric algorithms only), issuer,
// expiry and not-before with clock skew, audience, client, scopes and
// custom claims, in that order, as AgentCore's inbound JWT authorizer
// does. Keys are fetched on first use and refetched when a token names a
// key the set lacks (key rotation), at most once per MinRefreshInterval.
// It is safe for concurrent use.
type JWTAuthorizer struct {
	opts JWTOptions
	algs []jose.SignatureAlgorithm
	keys *keySource
	skew time.Duration
	now  func() time.Time
}

var _ Authorizer = (*JWTAuthorizer)(nil)

// NewJWTAuthorizer checks opts and returns the authorizer. It does not
// touch the network: the discovery document and keys are fetched on the
// first request.
func NewJWTAuthorizer(opts JWTOptions) (*JWTAuthorizer, error) {
	bad := func(format string, args ...any) (*JWTAuthorizer, error) {
		return nil, fmt.Errorf("identity: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
	}
	switch {
	case opts.DiscoveryURL != "" && (opts.JWKSURL != "" || opts.StaticJWKS != nil):
		return bad("set DiscoveryURL, or JWKSURL or StaticJWKS, not both")
	case opts.DiscoveryURL != "" && !strings.HasSuffix(opts.DiscoveryURL, "/.well-known/openid-configuration"):
		return bad("DiscoveryURL %q must end with /.well-known/openid-configuration", opts.DiscoveryURL)
	case opts.DiscoveryURL == "" && opts.JWKSURL == "" && opts.StaticJWKS == nil:
		return bad("set DiscoveryURL, or Issuer with JWKSURL or StaticJWKS")
	case opts.JWKSURL != "" && opts.StaticJWKS != nil:
		return bad("set JWKSURL or StaticJWKS, not both")
	case opts.DiscoveryURL == "" && opts.Issuer == "":
		return bad("Issuer is required with JWKSURL or StaticJWKS")
	case len(opts.AllowedAudiences) == 0 && len(opts.AllowedClients) == 0:
		return bad("set AllowedAudiences or AllowedClients (or both), so tokens the provider issued for other applications are refused")
	}
	for _, r := range opts.CustomClaims {
		switch {
		case r.Name == "":
			return bad("a custom claim rule has no Name")
		case len(r.Values) == 0:
			return bad("custom claim rule %q has no Values", r.Name)
		case (r.Operator == ClaimEquals || r.Operator == ClaimContains) && len(r.Values) != 1:
			return bad("custom claim rule %q: %s takes exactly one value", r.Name, r.Operator)
		case r.Operator != ClaimEquals && r.Operator != ClaimContains && r.Operator != ClaimContainsAny:
			return bad("custom claim rule %q: operator %q is not EQUALS, CONTAINS or CONTAINS_ANY", r.Name, r.Operator)
		}
	}
	algNames := opts.Algorithms
	if len(algNames) == 0 {
		algNames = DefaultAlgorithms
	}
	a := &JWTAuthorizer{opts: opts, skew: opts.ClockSkew, now: opts.Now}
	for _, n := range algNames {
		if !slices.Contains(DefaultAlgorithms, n) {
			return bad("algorithm %q is not accepted; use asymmetric ones (%s)", n, strings.Join(DefaultAlgorithms, ", "))
		}
		a.algs = append(a.algs, jose.SignatureAlgorithm(n))
	}
	if a.skew == 0 {
		a.skew = time.Minute
	} else if a.skew < 0 {
		a.skew = 0
	}
	if a.now == nil {
		a.now = time.Now
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	ks := &keySource{client: client, discovery: opts.DiscoveryURL, wantIssuer: opts.Issuer,
		jwksURL: opts.JWKSURL, issuer: opts.Issuer, minRefresh: opts.MinRefreshInterval,
		maxAge: opts.MaxKeyAge, now: a.now, sem: make(chan struct{}, 1)}
	if ks.minRefresh <= 0 {
		ks.minRefresh = 30 * time.Second
	}
	if ks.maxAge <= 0 {
		ks.maxAge = time.Hour
	}
	if opts.StaticJWKS != nil {
		keys, err := parseKeySet(opts.StaticJWKS)
		if err != nil {
			return bad("StaticJWKS: %v", err)
		}
		if len(keys) == 0 {
			return bad("StaticJWKS holds no usable public signing key")
		}
		ks.static, ks.keys = true, keys
	}
	a.keys = ks
	return a, nil
}

// Authorize verifies the request's bearer token (see BearerToken and
// Verify).
func (a *JWTAuthorizer) Authorize(r *http.Request) (*Caller, error) {
	tok, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	return a.Verify(r.Context(), tok)
}

// Verify checks a compact JWT and returns its caller, or an *AuthError
// saying why it was refused.
func (a *JWTAuthorizer) Verify(ctx context.Context, token string) (*Caller, error) {
	if len(token) > maxTokenLen {
		return nil, unauthenticated(ReasonMalformed, "the token is longer than %d bytes", maxTokenLen)
	}
	if alg, ok := peekAlg(token); ok && !slices.Contains(a.algs, jose.SignatureAlgorithm(alg)) {
		return nil, unauthenticated(ReasonAlgorithm, "the token's signature algorithm %q is not accepted (accepted: %s)", alg, algList(a.algs))
	}
	tok, err := jwt.ParseSigned(token, a.algs)
	if err != nil {
		return nil, unauthenticated(ReasonMalformed, "the token is not a signed compact JWT")
	}
	if len(tok.Headers) != 1 {
		return nil, unauthenticated(ReasonMalformed, "the token must carry exactly one signature")
	}
	hdr := tok.Headers[0]
	issuer, keys, err := a.keys.state(ctx)
	if err != nil {
		return nil, err
	}
	candidates := matchKeys(keys, hdr)
	if len(candidates) == 0 {
		// Perhaps the provider rotated its keys: fetch the set again
		// (rate limited) before refusing.
		changed, err := a.keys.refreshForUnknownKey(ctx)
		if err != nil {
			return nil, err
		}
		if changed {
			if issuer, keys, err = a.keys.state(ctx); err != nil {
				return nil, err
			}
			candidates = matchKeys(keys, hdr)
		}
		if len(candidates) == 0 {
			return nil, unauthenticated(ReasonUnknownKey, "the token is signed with key %q, which the provider's key set does not hold", hdr.KeyID)
		}
	}
	var std jwt.Claims
	var all map[string]any
	for _, k := range candidates {
		if err := tok.Claims(k.Key, &std, &all); err == nil {
			return a.check(std, all, issuer)
		}
	}
	return nil, unauthenticated(ReasonSignature, "the token's signature does not verify")
}

// peekAlg reads the "alg" of a compact JWS's protected header, to say
// precisely why a token with a refused algorithm fails.
func peekAlg(token string) (string, bool) {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 4096 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "", false
	}
	return h.Alg, true
}

// matchKeys returns the keys that may have signed a token with header h:
// the key with its kid (and a compatible alg), or, for a token without
// kid, the only key of the set.
func matchKeys(keys []jose.JSONWebKey, h jose.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if h.KeyID == "" && len(keys) > 1 {
			break
		}
		if h.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		out = append(out, k)
	}
	return out
}

func algList(algs []jose.SignatureAlgorithm) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// check validates the claims of a token whose signature verified.
func (a *JWTAuthorizer) check(std jwt.Claims, all map[string]any, issuer string) (*Caller, error) {
	if std.Issuer != issuer {
		return nil, unauthenticated(ReasonIssuer, "the token was issued by %q, not by %q", std.Issuer, issuer)
	}
	if std.Expiry == nil {
		return nil, unauthenticated(ReasonExpired, "the token has no expiry (exp); tokens must expire")
	}
	err := std.ValidateWithLeeway(jwt.Expected{Time: a.now()}, a.skew)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, unauthenticated(ReasonExpired, "the token expired at %s; get a new one", std.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, unauthenticated(ReasonNotYetValid, "the token is not valid yet (nbf or iat in the future); check the clocks")
	case err != nil:
		return nil, unauthenticated(ReasonMalformed, "the token's claims are invalid: %v", err)
	}
	if len(a.opts.AllowedAudiences) > 0 && !slices.ContainsFunc(std.Audience, func(s string) bool { return slices.Contains(a.opts.AllowedAudiences, s) }) {
		return nil, unauthenticated(ReasonAudience, "the token's audience %q is not one this service accepts", []string(std.Audience))
	}
	c := &Caller{Issuer: std.Issuer, Subject: std.Subject, Audience: []string(std.Audience),
		ExpiresAt: std.Expiry.Time(), Claims: all}
	if s, ok := all["client_id"].(string); ok {
		c.ClientID = s
	} else if s, ok := all["azp"].(string); ok {
		c.ClientID = s
	}
	c.Scopes = scopes(all)
	if len(a.opts.AllowedClients) > 0 && !slices.Contains(a.opts.AllowedClients, c.ClientID) {
		return nil, forbidden(ReasonClient, "client %q is not allowed to call this service", c.ClientID)
	}
	if len(a.opts.AllowedScopes) > 0 && !slices.ContainsFunc(c.Scopes, func(s string) bool { return slices.Contains(a.opts.AllowedScopes, s) }) {
		return nil, forbidden(ReasonScope, "the token holds none of the scopes this service requires (%s)", strings.Join(a.opts.AllowedScopes, ", "))
	}
	for _, r := range a.opts.CustomClaims {
		if !r.match(all[r.Name]) {
			return nil, forbidden(ReasonClaim, "claim %q does not satisfy %s %q", r.Name, r.Operator, r.Values)
		}
	}
	if c.Subject == "" {
		return nil, unauthenticated(ReasonMalformed, "the token has no subject (sub)")
	}
	return c, nil
}

// scopes reads "scope" (space-separated string) or "scp" (string or list).
func scopes(all map[string]any) []string {
	if s, ok := all["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch v := all["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		return stringList(v)
	}
	return nil
}

func stringList(v []any) []string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (r ClaimRule) match(v any) bool {
	switch r.Operator {
	case ClaimEquals:
		s, ok := v.(string)
		return ok && s == r.Values[0]
	case ClaimContains, ClaimContainsAny:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		have := stringList(list)
		return slices.ContainsFunc(r.Values, func(want string) bool { return slices.Contains(have, want) })
	}
	return false
}
