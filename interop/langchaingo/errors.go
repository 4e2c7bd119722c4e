package langchaingo

import (
	"errors"
	"fmt"

	"github.com/tmc/langchaingo/llms"

	"github.com/bedrockkit/bedrockkit"
)

// Error is a failed call to a langchaingo model or embedder. It wraps the
// bedrockkit sentinel for its class (Kind), so errors.Is(err,
// bedrockkit.ErrThrottled) works and bedrockkit.RetryPolicy.Middleware
// retries throttling and unavailability, and the provider's error (Err).
//
// The class comes from langchaingo's own standardised *llms.Error when the
// provider returns one, else from langchaingo's error mapper, which matches
// the message text ("429", "rate limit", "503", ...); Kind is nil when
// nothing matched.
type Error struct {
	// Code is langchaingo's standardised error code.
	Code llms.ErrorCode
	// Kind is the bedrockkit sentinel for Code, or nil.
	Kind error
	// Err is the provider's error.
	Err error
}

// Error describes the failure.
func (e *Error) Error() string {
	return fmt.Sprintf("langchaingo: the model failed: %v", e.Err)
}

// Unwrap returns Kind (when known) and Err.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

var codeKinds = map[llms.ErrorCode]error{
	llms.ErrCodeRateLimit:           bedrockkit.ErrThrottled,
	llms.ErrCodeProviderUnavailable: bedrockkit.ErrServiceUnavailable,
	llms.ErrCodeTimeout:             bedrockkit.ErrModelTimeout,
	llms.ErrCodeAuthentication:      bedrockkit.ErrAccessDenied,
	llms.ErrCodeInvalidRequest:      bedrockkit.ErrValidation,
	llms.ErrCodeResourceNotFound:    bedrockkit.ErrNotFound,
	llms.ErrCodeQuotaExceeded:       bedrockkit.ErrQuotaExceeded,
	llms.ErrCodeTokenLimit:          bedrockkit.ErrContextWindow,
	llms.ErrCodeNotImplemented:      bedrockkit.ErrUnsupported,
}

// classify wraps a provider error in *Error.
func classify(err error) error {
	var le *llms.Error
	if !errors.As(err, &le) {
		errors.As(llms.NewErrorMapper("").WrapError(err), &le)
	}
	e := &Error{Code: llms.ErrCodeUnknown, Err: err}
	if le != nil {
		e.Code = le.Code
		e.Kind = codeKinds[le.Code]
	}
	return e
}
