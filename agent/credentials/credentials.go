package credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

var (
	// ErrNoCredential: the provider holds no credential of that name. It
	// wraps bedrockkit.ErrNotFound.
	ErrNoCredential = fmt.Errorf("credentials: no such credential: %w", bedrockkit.ErrNotFound)
	// ErrNoCallerToken: the call carries no verified caller token to pass
	// through or exchange (see KeepCallerToken). It wraps
	// bedrockkit.ErrAccessDenied.
	ErrNoCallerToken = fmt.Errorf("credentials: the request carries no verified caller token: %w", bedrockkit.ErrAccessDenied)
	// ErrAuthorizationRequired: the user must first grant access (OAuth
	// 2.0 authorization code flow); see AuthorizationRequiredError. It
	// wraps bedrockkit.ErrAccessDenied.
	ErrAuthorizationRequired = fmt.Errorf("credentials: the user must authorize access first: %w", bedrockkit.ErrAccessDenied)
	// ErrProvider: the provider failed to produce a credential (token
	// endpoint or vault unavailable or refusing). It wraps
	// bedrockkit.ErrAccessDenied.
	ErrProvider = fmt.Errorf("credentials: the credential provider failed: %w", bedrockkit.ErrAccessDenied)
)

// AuthorizationRequiredError says that the user must consent before a
// token can be had: send them to URL, and call again (with the same
// SessionURI, for AgentCore) once they have. It matches
// ErrAuthorizationRequired. URL is meant for the user and holds no secret.
type AuthorizationRequiredError struct {
	Provider   string
	URL        string
	SessionURI string
}

// Error says where the user must go.
func (e *AuthorizationRequiredError) Error() string {
	return fmt.Sprintf("credentials: %q needs the user's authorization: open %s and try again", e.Provider, e.URL)
}

// Unwrap returns ErrAuthorizationRequired.
func (e *AuthorizationRequiredError) Unwrap() error { return ErrAuthorizationRequired }

// Flow is how an OAuth 2.0 token is obtained.
type Flow string

// OAuth 2.0 flows, named as AgentCore Identity names them.
const (
	// FlowClientCredentials is the machine-to-machine client credentials
	// grant: a token for the agent itself (AgentCore "M2M").
	FlowClientCredentials Flow = "M2M"
	// FlowUser is a token the user delegated through the authorization
	// code grant (AgentCore "USER_FEDERATION"); the first call may return
	// an AuthorizationRequiredError.
	FlowUser Flow = "USER_FEDERATION"
	// FlowOnBehalfOf exchanges the verified caller's token for one of the
	// downstream audience (AgentCore "ON_BEHALF_OF_TOKEN_EXCHANGE").
	FlowOnBehalfOf Flow = "ON_BEHALF_OF_TOKEN_EXCHANGE"
)

// TokenRequest asks a Provider for an OAuth 2.0 access token.
type TokenRequest struct {
	// Provider names the credential provider (the OAuth client) holding
	// the configuration.
	Provider string
	Scopes   []string
	// Flow is FlowClientCredentials when empty.
	Flow Flow
}

// Provider resolves credentials by name, per call. The verified caller
// and the caller's token, when there are any, are in ctx. Implementations
// must be safe for concurrent use, cache what they may, and return errors
// that never contain the secret.
type Provider interface {
	APIKey(ctx context.Context, name string) (Secret, error)
	OAuth2Token(ctx context.Context, req TokenRequest) (Secret, error)
}

// Auth is how a tool authenticates an outbound HTTP request: it resolves
// the credential for this call and sets it on req. It must be safe for
// concurrent use.
type Auth interface {
	Authenticate(ctx context.Context, req *http.Request) error
}

// Location is where an API key goes.
type Location string

// API key locations.
const (
	InHeader Location = "header"
	InQuery  Location = "query"
)

// APIKey sends the API key Name from Provider in a header (the default)
// or a query parameter, as AgentCore Gateway's API_KEY credential
// provider does.
type APIKey struct {
	Provider Provider
	// Name is the key's name in Provider.
	Name string
	// In is InHeader (default) or InQuery.
	In Location
	// Param is the header or query parameter; empty means "X-API-Key"
	// for a header and "api_key" for a query parameter.
	Param string
	// Prefix goes before the key, such as "Bearer " or "ApiKey ".
	Prefix string
}

// Authenticate sets the key on req.
func (a APIKey) Authenticate(ctx context.Context, req *http.Request) error {
	if a.Provider == nil || a.Name == "" {
		return fmt.Errorf("credentials: APIKey needs a Provider and a Name: %w", bedrockkit.ErrInvalidInput)
	}
	key, err := a.Provider.APIKey(ctx, a.Name)
	if err != nil {
		return err
	}
	switch a.In {
	case InHeader, "":
		param := a.Param
		if param == "" {
			param = "X-API-Key"
		}
		req.Header.Set(param, a.Prefix+key.Reveal())
	case InQuery:
		param := a.Param
		if param == "" {
			param = "api_key"
		}
		q := req.URL.Query()
		q.Set(param, a.Prefix+key.Reveal())
		req.URL.RawQuery = q.Encode()
	default:
		return fmt.Errorf("credentials: APIKey.In %q: use InHeader or InQuery: %w", a.In, bedrockkit.ErrInvalidInput)
	}
	return nil
}

// OAuth2 sends an OAuth 2.0 access token from Provider as
// "Authorization: Bearer".
type OAuth2 struct {
	Provider Provider
	// Name is the credential provider (OAuth client) in Provider.
	Name   string
	Scopes []string
	// Flow is FlowClientCredentials when empty.
	Flow Flow
}

// Authenticate sets the bearer token on req.
func (o OAuth2) Authenticate(ctx context.Context, req *http.Request) error {
	if o.Provider == nil || o.Name == "" {
		return fmt.Errorf("credentials: OAuth2 needs a Provider and a Name: %w", bedrockkit.ErrInvalidInput)
	}
	flow := o.Flow
	if flow == "" {
		flow = FlowClientCredentials
	}
	tok, err := o.Provider.OAuth2Token(ctx, TokenRequest{Provider: o.Name, Scopes: slices.Clone(o.Scopes), Flow: flow})
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	return nil
}

// CallerToken sends the verified caller's own bearer token downstream
// (AgentCore Gateway's JWT_PASSTHROUGH), or, with Exchange set, a token
// exchanged for it (on-behalf-of). The caller's token must have been put
// in the context by KeepCallerToken behind the inbound authorizer; a call
// without one fails with ErrNoCallerToken, and so does a call whose
// context has no verified caller.
type CallerToken struct {
	// Header is the header to set; empty means "Authorization", with the
	// "Bearer " scheme.
	Header string
	// Exchange, if set, trades the caller's token for another through
	// Exchange.Provider with FlowOnBehalfOf (Exchange.Flow is ignored).
	Exchange *OAuth2
}

// Authenticate sets the caller's (or the exchanged) token on req.
func (c CallerToken) Authenticate(ctx context.Context, req *http.Request) error {
	tok, ok := CallerTokenFrom(ctx)
	if !ok {
		return ErrNoCallerToken
	}
	if c.Exchange != nil {
		x := *c.Exchange
		if x.Provider == nil || x.Name == "" {
			return fmt.Errorf("credentials: CallerToken.Exchange needs a Provider and a Name: %w", bedrockkit.ErrInvalidInput)
		}
		var err error
		if tok, err = x.Provider.OAuth2Token(ctx, TokenRequest{Provider: x.Name, Scopes: slices.Clone(x.Scopes), Flow: FlowOnBehalfOf}); err != nil {
			return err
		}
	}
	h := c.Header
	if h == "" || strings.EqualFold(h, "Authorization") {
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
		return nil
	}
	req.Header.Set(h, tok.Reveal())
	return nil
}

type callerTokenKey struct{}

// WithCallerToken returns a context carrying the verified caller's bearer
// token. Call it only with a token the inbound authorizer verified;
// KeepCallerToken does it for HTTP servers.
func WithCallerToken(ctx context.Context, tok Secret) context.Context {
	return context.WithValue(ctx, callerTokenKey{}, tok)
}

// CallerTokenFrom returns the caller's token put in ctx by WithCallerToken
// or KeepCallerToken, if ctx also carries a verified, non-anonymous
// caller.
func CallerTokenFrom(ctx context.Context) (Secret, bool) {
	tok, ok := ctx.Value(callerTokenKey{}).(Secret)
	if !ok || tok.Empty() {
		return Secret{}, false
	}
	if c, ok := identity.CallerFrom(ctx); !ok || c == nil || c.Anonymous {
		return Secret{}, false
	}
	return tok, true
}

// KeepCallerToken is HTTP middleware that keeps the request's bearer token
// in the context for CallerToken and the AgentCore provider. Put it
// inside identity.Require, so that only tokens the authorizer verified
// are kept:
//
//	identity.Require(authz, opts, credentials.KeepCallerToken(handler))
//
// A request without a verified caller or a bearer token passes through
// unchanged.
func KeepCallerToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := identity.CallerFrom(r.Context()); ok && c != nil && !c.Anonymous {
			if tok, err := identity.BearerToken(r); err == nil {
				r = r.WithContext(WithCallerToken(r.Context(), NewSecret(tok)))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// providerError wraps a provider's failure without its details when they
// might echo the secret; status and code are kept.
func providerError(name, what string, err error) error {
	var ar *AuthorizationRequiredError
	if errors.As(err, &ar) || errors.Is(err, ErrNoCredential) || errors.Is(err, ErrNoCallerToken) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("credentials: %s for %q: %w", what, name, err)
	}
	return fmt.Errorf("credentials: %s for %q: %v: %w", what, name, err, ErrProvider)
}
