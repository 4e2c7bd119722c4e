package identity

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Authorizer decides who made an HTTP request. It returns the verified
// Caller, or an error (an *AuthError for a refused request) and no Caller.
// Implementations must be safe for concurrent use.
type Authorizer interface {
	Authorize(r *http.Request) (*Caller, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(r *http.Request) (*Caller, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request) (*Caller, error) { return f(r) }

// Anonymous returns the Authorizer of a service that deliberately runs
// without authentication: every request is accepted, as an anonymous
// Caller (Namespace AnonymousNamespace), and any Authorization header is
// ignored. Use it only behind something that authenticates callers (an
// AgentCore Runtime with IAM or JWT auth, a gateway), or for local
// development.
func Anonymous() Authorizer {
	return AuthorizerFunc(func(*http.Request) (*Caller, error) {
		return &Caller{Anonymous: true}, nil
	})
}

// maxTokenLen bounds the bearer token read from a header; real access
// tokens are a few kilobytes.
const maxTokenLen = 16 << 10

// BearerToken returns the token of the request's "Authorization: Bearer"
// header (RFC 6750 section 2.1; the scheme is case-insensitive). A missing
// header, another scheme, several Authorization headers, an empty or
// over-long token, or characters outside the token68 alphabet are an
// *AuthError with ReasonMissingToken or ReasonMalformed.
func BearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", unauthenticated(ReasonMissingToken, "send the access token in an Authorization: Bearer header")
	case 1:
	default:
		return "", unauthenticated(ReasonMalformed, "send exactly one Authorization header")
	}
	v := strings.TrimSpace(vals[0])
	if strings.EqualFold(v, "Bearer") {
		return "", unauthenticated(ReasonMalformed, "the bearer token is empty")
	}
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated(ReasonMissingToken, "the Authorization header must use the Bearer scheme")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", unauthenticated(ReasonMalformed, "the bearer token is empty")
	}
	if len(tok) > maxTokenLen {
		return "", unauthenticated(ReasonMalformed, "the bearer token is longer than %d bytes", maxTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0) {
			return "", unauthenticated(ReasonMalformed, "the bearer token holds a character outside the token68 alphabet")
		}
	}
	return tok, nil
}

// RequireOptions configure Require.
type RequireOptions struct {
	// Realm is the realm of the WWW-Authenticate challenge; empty omits it.
	Realm string
	// ResourceMetadata, if set, is the URL of the OAuth protected-resource
	// metadata (RFC 9728), added to the challenge as AgentCore does.
	ResourceMetadata string
}

// Require returns middleware that authorizes every request with a before
// calling next with the Caller in the request's context (CallerFrom). A
// refused request gets a JSON error {"error", "error_type", "reason"}
// with status 401, 403 or 503 (see AuthError.StatusCode), and a
// WWW-Authenticate: Bearer challenge for 401 and 403. A nil a refuses
// every request: unauthenticated serving must be chosen with Anonymous.
func Require(a Authorizer, opts RequireOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Authorize(a, r)
		if err != nil {
			WriteError(w, err, opts)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}

// Authorize runs a on r. It refuses the request when a is nil or returns
// no Caller, and turns errors that are not an *AuthError into one (a 401).
func Authorize(a Authorizer, r *http.Request) (*Caller, error) {
	if a == nil {
		return nil, unauthenticated(ReasonMissingToken, "the service has no authorizer configured; refusing every request")
	}
	c, err := a.Authorize(r)
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &AuthError{Reason: ReasonMalformed, Detail: err.Error(), Err: ErrUnauthenticated}
	}
	if c == nil {
		return nil, unauthenticated(ReasonMissingToken, "the authorizer returned no caller")
	}
	return c, nil
}

// WriteError writes the JSON error and challenge for an authorization
// failure err (an *AuthError; anything else is written as a 401).
func WriteError(w http.ResponseWriter, err error, opts RequireOptions) {
	var ae *AuthError
	if !errors.As(err, &ae) {
		ae = &AuthError{Reason: ReasonMalformed, Detail: err.Error(), Err: ErrUnauthenticated}
	}
	status := ae.StatusCode()
	errType := "UnauthorizedException"
	switch status {
	case 403:
		errType = "AccessDeniedException"
	case 503:
		errType = "ServiceUnavailableException"
		w.Header().Set("Retry-After", "5")
	}
	if status != 503 {
		w.Header().Set("WWW-Authenticate", challenge(ae, opts))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": ae.Error(), "error_type": errType, "reason": ae.Reason})
}

func challenge(ae *AuthError, opts RequireOptions) string {
	var parts []string
	quote := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	if opts.Realm != "" {
		parts = append(parts, "realm="+quote(opts.Realm))
	}
	if code := ae.BearerError(); code != "" {
		parts = append(parts, "error="+quote(code))
	}
	if opts.ResourceMetadata != "" {
		parts = append(parts, "resource_metadata="+quote(opts.ResourceMetadata))
	}
	if len(parts) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(parts, ", ")
}
