package bedrockkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// RetryPolicy controls how the Bedrock adapters retry failed calls. Throttling,
// ServiceUnavailable, InternalServer, ModelNotReady and ModelTimeout errors are
// retried with exponential backoff and full jitter; every other error is
// returned at once. Waiting never runs past the context's deadline: when the
// next wait would, the last error is returned instead.
//
// The zero value means 5 attempts, 200 ms base delay, 20 s maximum delay.
type RetryPolicy struct {
	// MaxAttempts is the total number of tries, including the first. 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt (before jitter).
	BaseDelay time.Duration
	// MaxDelay caps a single backoff.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 20 * time.Second
	}
	return p
}

// backoff returns the jittered wait before attempt n+1 (n >= 1 attempts done).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	// Full jitter, but never less than a tenth of the step so retries spread.
	return d/10 + time.Duration(rand.Int64N(int64(d-d/10)+1))
}

// do runs call until it succeeds, fails with a non-retryable error, runs out
// of attempts or would wait past ctx's deadline. Errors are classified into
// *APIError with op and the attempt count.
func (p RetryPolicy) do(ctx context.Context, op string, call func(context.Context) error) error {
	return p.loop(ctx, func(ctx context.Context, attempt int) error {
		err := classify(op, call(ctx))
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Attempts = attempt
		}
		return err
	})
}

// loop runs call (given the attempt number, from 1) until it returns nil or
// an error IsRetryable rejects, MaxAttempts is reached, or the next wait
// would pass ctx's deadline. It returns the last error.
func (p RetryPolicy) loop(ctx context.Context, call func(ctx context.Context, attempt int) error) error {
	p = p.withDefaults()
	for attempt := 1; ; attempt++ {
		err := call(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= p.MaxAttempts || !IsRetryable(err) {
			return err
		}
		wait := p.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			// The caller gave up: report that, not a retryable error an
			// outer loop would retry. The last failure stays in the text.
			return fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Middleware returns a Middleware that retries any Model by this policy:
// Generate is retried when its error IsRetryable (the model must wrap the
// root sentinels, as the Bedrock adapters do); Stream is retried only while
// it has yielded nothing, so the caller never sees text twice. The Bedrock
// adapters already retry; use this for other models.
func (p RetryPolicy) Middleware() Middleware {
	return func(next Model) Model { return retryModel{next: next, policy: p} }
}

type retryModel struct {
	next   Model
	policy RetryPolicy
}

// SupportsOutput forwards the wrapped model's OutputCapable answer, so
// StructuredOutput outside the retry still hands Output to a model that
// honours it.
func (m retryModel) SupportsOutput() bool {
	oc, ok := m.next.(OutputCapable)
	return ok && oc.SupportsOutput()
}

// ModelID forwards the wrapped model's ID (see ModelIDOf): retries call
// the same model.
func (m retryModel) ModelID() string { return ModelIDOf(m.next) }

func (m retryModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	var resp *Response
	err := m.policy.loop(ctx, func(ctx context.Context, _ int) error {
		var err error
		resp, err = m.next.Generate(ctx, req)
		return err
	})
	return resp, err
}

func (m retryModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		yielded := false
		stopped := false
		err := m.policy.loop(ctx, func(ctx context.Context, _ int) error {
			for ev, err := range m.next.Stream(ctx, req) {
				if err != nil {
					if yielded {
						// Too late to retry: the caller has seen output.
						yield(nil, err)
						stopped = true
						return nil
					}
					return err
				}
				yielded = true
				if !yield(ev, nil) {
					stopped = true
					return nil
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// errorKinds maps Bedrock error codes to sentinels.
var errorKinds = map[string]error{
	"ThrottlingException":           ErrThrottled,
	"TooManyRequestsException":      ErrThrottled,
	"ServiceUnavailableException":   ErrServiceUnavailable,
	"InternalServerException":       ErrInternal,
	"InternalFailure":               ErrInternal,
	"ModelNotReadyException":        ErrModelNotReady,
	"ModelTimeoutException":         ErrModelTimeout,
	"ValidationException":           ErrValidation,
	"AccessDeniedException":         ErrAccessDenied,
	"UnrecognizedClientException":   ErrAccessDenied,
	"ResourceNotFoundException":     ErrNotFound,
	"ModelErrorException":           ErrModelError,
	"ModelStreamErrorException":     ErrModelError,
	"ServiceQuotaExceededException": ErrQuotaExceeded,
}

// classify turns an error from the SDK into an *APIError whose Kind is the
// matching sentinel. Context errors and errors already classified pass through.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var already *APIError
	if errors.As(err, &already) {
		return err
	}
	out := &APIError{Op: op, Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out.Code = ae.ErrorCode()
		out.Message = ae.ErrorMessage()
		out.Kind = errorKinds[out.Code]
		if out.Kind == ErrValidation && isContextWindowMessage(out.Message) {
			out.Kind = ErrContextWindow
		}
	}
	if out.Kind == nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			switch re.HTTPStatusCode() {
			case http.StatusTooManyRequests:
				out.Kind = ErrThrottled
			case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
				out.Kind = ErrServiceUnavailable
			case http.StatusInternalServerError:
				out.Kind = ErrInternal
			}
		}
	}
	if out.Kind == nil && errors.Is(err, io.ErrUnexpectedEOF) {
		// The connection dropped mid-body: transient, like a reset.
		out.Kind = ErrServiceUnavailable
	}
	if out.Kind == nil {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) {
			out.Kind = ErrServiceUnavailable
		}
	}
	return out
}

func isContextWindowMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"too long", "context window", "context length", "too many input tokens", "input length"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
