package bedrockkit

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Errors returned by this module wrap one of these where it
// applies, so callers can test them with errors.Is.
var (
	// ErrThrottled: the service is rate limiting you. Retried automatically;
	// if it persists, lower your request rate or raise your quota.
	ErrThrottled = errors.New("bedrockkit: throttled")
	// ErrServiceUnavailable: the service is temporarily unavailable. Retried automatically.
	ErrServiceUnavailable = errors.New("bedrockkit: service unavailable")
	// ErrInternal: the service failed internally. Retried automatically.
	ErrInternal = errors.New("bedrockkit: internal server error")
	// ErrModelNotReady: the model is loading. Retried automatically.
	ErrModelNotReady = errors.New("bedrockkit: model not ready")
	// ErrModelTimeout: the model took too long. Retried automatically.
	ErrModelTimeout = errors.New("bedrockkit: model timeout")
	// ErrValidation: the request is invalid; fix it, retrying will not help.
	ErrValidation = errors.New("bedrockkit: invalid request")
	// ErrAccessDenied: the credentials lack permission (or model access is not enabled).
	ErrAccessDenied = errors.New("bedrockkit: access denied")
	// ErrNotFound: the model, profile or resource does not exist in this region.
	ErrNotFound = errors.New("bedrockkit: resource not found")
	// ErrModelError: the model failed to process the request.
	ErrModelError = errors.New("bedrockkit: model error")
	// ErrQuotaExceeded: a service quota is exhausted; request an increase.
	ErrQuotaExceeded = errors.New("bedrockkit: service quota exceeded")
	// ErrContextWindow: the input does not fit the model's context window.
	ErrContextWindow = errors.New("bedrockkit: context window exceeded")
	// ErrBudgetExceeded: a spending budget would be exceeded by the call.
	ErrBudgetExceeded = errors.New("bedrockkit: budget exceeded")
	// ErrGuardrailBlocked: a guardrail blocked the input or output.
	ErrGuardrailBlocked = errors.New("bedrockkit: blocked by guardrail")
	// ErrStreamIdle: a stream sent nothing for longer than its idle timeout.
	ErrStreamIdle = errors.New("bedrockkit: stream idle timeout")
	// ErrMalformedStream: a stream sent an event that could not be understood.
	ErrMalformedStream = errors.New("bedrockkit: malformed stream")
	// ErrUnsupported: the model or backend does not support what was asked.
	ErrUnsupported = errors.New("bedrockkit: not supported")
	// ErrInvalidInput: an argument given to this library is invalid.
	ErrInvalidInput = errors.New("bedrockkit: invalid input")
)

// APIError is a failed call to a Bedrock API. It wraps the sentinel for its
// class (ErrThrottled, ErrValidation, ...) and the SDK's error.
type APIError struct {
	// Op is the API operation, such as "Converse" or "InvokeModel".
	Op string
	// Code is the service's error code, such as "ThrottlingException".
	Code string
	// Message is the service's message.
	Message string
	// Attempts is how many times the call was tried.
	Attempts int
	// Kind is the sentinel for the error's class; nil when unknown.
	Kind error
	// Err is the underlying error.
	Err error
}

// Error reports the operation, the code, the message and the attempts.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("bedrockkit: %s failed", e.Op)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	} else if e.Err != nil && e.Code == "" {
		msg += ": " + e.Err.Error()
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if hint := hintFor(e.Kind); hint != "" {
		msg += "; " + hint
	}
	return msg
}

// Unwrap returns the class sentinel and the underlying error.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Kind == ErrContextWindow {
		errs = append(errs, ErrValidation) // a context-window error is a validation error too
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether the error's class is worth retrying.
func (e *APIError) Retryable() bool { return isRetryableKind(e.Kind) }

func hintFor(kind error) string {
	switch kind {
	case ErrThrottled:
		return "lower the request rate or raise the quota"
	case ErrAccessDenied:
		return "check IAM permissions and that model access is enabled in this region"
	case ErrNotFound:
		return "check the model ID and region; newer models need an inference-profile ID such as us.<model>"
	case ErrValidation:
		return "fix the request; retrying will not help"
	case ErrQuotaExceeded:
		return "request a quota increase"
	case ErrContextWindow:
		return "shorten the input or use a model with a larger context window"
	}
	return ""
}

// StreamError is a stream that failed after it started. Partial reports
// whether any content had already been yielded; such a stream is never
// retried, because the caller would see the text twice.
type StreamError struct {
	// Partial is true when content was yielded before the failure.
	Partial bool
	// Text is the text yielded before the failure.
	Text string
	// Err is the cause; it wraps a sentinel such as ErrThrottled or ErrStreamIdle.
	Err error
}

// Error describes the failure and how much was received.
func (e *StreamError) Error() string {
	if e.Partial {
		return fmt.Sprintf("bedrockkit: stream failed after partial output (%d bytes of text): %v", len(e.Text), e.Err)
	}
	return fmt.Sprintf("bedrockkit: stream failed: %v", e.Err)
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// IdleTimeoutError is a stream that sent nothing for Timeout.
type IdleTimeoutError struct {
	Timeout time.Duration
}

// Error says how long the stream was idle and what to do.
func (e *IdleTimeoutError) Error() string {
	return fmt.Sprintf("bedrockkit: stream sent nothing for %s; raise the idle timeout if the model is slow to start", e.Timeout)
}

// Unwrap returns ErrStreamIdle.
func (e *IdleTimeoutError) Unwrap() error { return ErrStreamIdle }

// IsRetryable reports whether err is of a class worth retrying (throttling,
// service unavailable, internal error, model not ready, model timeout). A
// StreamError with partial output is never retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var se *StreamError
	if errors.As(err, &se) && se.Partial {
		return false
	}
	for _, k := range retryableKinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

var retryableKinds = []error{ErrThrottled, ErrServiceUnavailable, ErrInternal, ErrModelNotReady, ErrModelTimeout}

func isRetryableKind(kind error) bool {
	for _, k := range retryableKinds {
		if kind == k {
			return true
		}
	}
	return false
}
