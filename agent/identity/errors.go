package identity

import (
	"errors"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// Errors of the package. Each AuthError wraps one of them; the first two
// also match bedrockkit.ErrAccessDenied, the third
// bedrockkit.ErrServiceUnavailable.
var (
	// ErrUnauthenticated: the request carries no usable bearer token, or
	// its token is malformed, badly signed, signed by an unknown key,
	// expired, not yet valid, or issued by or for someone else. HTTP 401.
	ErrUnauthenticated = fmt.Errorf("identity: caller is not authenticated: %w", bedrockkit.ErrAccessDenied)
	// ErrForbidden: the token is valid but its client, scopes or claims
	// are not among those allowed. HTTP 403.
	ErrForbidden = fmt.Errorf("identity: caller is not allowed: %w", bedrockkit.ErrAccessDenied)
	// ErrKeysUnavailable: the identity provider's discovery document or
	// key set could not be fetched, so no token can be checked. The
	// request may succeed later. HTTP 503.
	ErrKeysUnavailable = fmt.Errorf("identity: signing keys unavailable: %w", bedrockkit.ErrServiceUnavailable)
)

// AuthError says why a request was refused. Reason is a short machine
// word (see the Reason constants); the message is safe to show the caller:
// it never holds the token.
type AuthError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Detail says what to do, for logs and the caller.
	Detail string
	// Err is ErrUnauthenticated, ErrForbidden or ErrKeysUnavailable.
	Err error
}

// Reasons of an AuthError.
const (
	ReasonMissingToken = "missing_token" // no Authorization: Bearer header
	ReasonMalformed    = "malformed"     // not a compact JWS, or bad JSON
	ReasonAlgorithm    = "algorithm"     // alg not allowed (none, HS256, ...)
	ReasonUnknownKey   = "unknown_key"   // kid not in the key set, even after a refresh
	ReasonSignature    = "signature"     // signature does not verify
	ReasonExpired      = "expired"       // exp in the past (beyond the clock skew), or missing
	ReasonNotYetValid  = "not_yet_valid" // nbf or iat in the future
	ReasonIssuer       = "issuer"        // iss is not the configured issuer
	ReasonAudience     = "audience"      // aud holds none of the allowed audiences
	ReasonClient       = "client"        // client_id not allowed
	ReasonScope        = "scope"         // no allowed scope
	ReasonClaim        = "claim"         // a custom claim rule failed
	ReasonKeys         = "keys_unavailable"
)

// Error says why the request was refused and what failed.
func (e *AuthError) Error() string {
	return "identity: " + e.Reason + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *AuthError) Unwrap() error { return e.Err }

// StatusCode is the HTTP status for the error: 401, 403 or 503.
func (e *AuthError) StatusCode() int {
	switch {
	case errors.Is(e.Err, ErrForbidden):
		return 403
	case errors.Is(e.Err, ErrKeysUnavailable):
		return 503
	}
	return 401
}

// BearerError is the RFC 6750 error code for the WWW-Authenticate header:
// "invalid_request", "invalid_token" or "insufficient_scope" ("" when the
// token was simply missing, or the keys were unavailable).
func (e *AuthError) BearerError() string {
	switch e.Reason {
	case ReasonMissingToken, ReasonKeys:
		return ""
	case ReasonClient, ReasonScope, ReasonClaim:
		return "insufficient_scope"
	}
	return "invalid_token"
}

func unauthenticated(reason, format string, args ...any) *AuthError {
	return &AuthError{Reason: reason, Detail: fmt.Sprintf(format, args...), Err: ErrUnauthenticated}
}

func forbidden(reason, format string, args ...any) *AuthError {
	return &AuthError{Reason: reason, Detail: fmt.Sprintf(format, args...), Err: ErrForbidden}
}
