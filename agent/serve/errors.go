package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// Errors of the package.
var (
	// ErrSessionBusy: another invocation of the same session is running
	// (on this replica or another). Invocations of one session are not
	// queued: the later one is refused with HTTP 409 and may be retried
	// when the first has finished. It wraps agent.ErrConflict.
	ErrSessionBusy = fmt.Errorf("serve: the session is busy with another invocation; retry when it has finished: %w", agent.ErrConflict)
	// ErrDraining: the server is shutting down and takes no new
	// invocations (HTTP 503); send it to another replica.
	ErrDraining = fmt.Errorf("serve: the server is shutting down; retry on another replica: %w", bedrockkit.ErrServiceUnavailable)
)

// Error is a refused or failed invocation as the Client sees it: the HTTP
// status and the JSON error body. It unwraps to the root sentinel for its
// status (bedrockkit.ErrInvalidInput for 400, ErrAccessDenied for 401 and
// 403, ErrNotFound for 404, agent.ErrConflict for 409, ErrThrottled for
// 429, ErrQuotaExceeded for 402 and 413, ErrServiceUnavailable for 503,
// ErrInternal otherwise), so errors.Is works across HTTP.
type Error struct {
	StatusCode int
	// Type is the error_type of the body ("ValidationException", ...).
	Type    string
	Message string
	// SessionID is the session the invocation named, when known.
	SessionID string
}

// Error gives the HTTP status, the error type and the server's message.
func (e *Error) Error() string {
	return fmt.Sprintf("serve: invocation failed with HTTP %d %s: %s", e.StatusCode, e.Type, e.Message)
}

// Unwrap returns the sentinel for the status.
func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case 400:
		return bedrockkit.ErrInvalidInput
	case 401, 403:
		return bedrockkit.ErrAccessDenied
	case 404:
		return bedrockkit.ErrNotFound
	case 409:
		return agent.ErrConflict
	case 402, 413:
		return bedrockkit.ErrQuotaExceeded
	case 429:
		return bedrockkit.ErrThrottled
	case 503:
		return bedrockkit.ErrServiceUnavailable
	}
	return bedrockkit.ErrInternal
}

// classify maps an invocation's error to an HTTP status and error_type, in
// the vocabulary of AgentCore's InvokeAgentRuntime errors.
func classify(err error) (int, string) {
	var le *agent.LimitError
	switch {
	case errors.Is(err, ErrDraining):
		return http.StatusServiceUnavailable, "ServiceUnavailableException"
	case errors.Is(err, ErrSessionBusy):
		return http.StatusConflict, "RetryableConflictException"
	case errors.Is(err, agent.ErrConflict), errors.Is(err, agent.ErrNotPending):
		return http.StatusConflict, "ConflictException"
	case errors.Is(err, agent.ErrSessionNotFound), errors.Is(err, bedrockkit.ErrNotFound):
		return http.StatusNotFound, "ResourceNotFoundException"
	case errors.Is(err, bedrockkit.ErrAccessDenied):
		return http.StatusForbidden, "AccessDeniedException"
	case errors.Is(err, bedrockkit.ErrBudgetExceeded), errors.Is(err, bedrockkit.ErrQuotaExceeded):
		return http.StatusPaymentRequired, "ServiceQuotaExceededException"
	case errors.Is(err, bedrockkit.ErrThrottled):
		return http.StatusTooManyRequests, "ThrottlingException"
	case errors.As(err, &le):
		return http.StatusInternalServerError, "LimitExceededException"
	case errors.Is(err, bedrockkit.ErrInvalidInput), errors.Is(err, bedrockkit.ErrValidation):
		return http.StatusBadRequest, "ValidationException"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "TimeoutException"
	}
	return http.StatusInternalServerError, "InternalServerException"
}
