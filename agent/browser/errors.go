package browser

import (
	"errors"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

var (
	// ErrNotAllowed: the URL's origin is not on Options.AllowedOrigins, or
	// its scheme is not http or https. It wraps bedrockkit.ErrAccessDenied.
	ErrNotAllowed = fmt.Errorf("browser: origin not allowed: %w", bedrockkit.ErrAccessDenied)
	// ErrLimitExceeded: a session reached one of its limits (time,
	// navigations, page size). The error is a *LimitError saying which.
	ErrLimitExceeded = fmt.Errorf("browser: limit exceeded: %w", bedrockkit.ErrQuotaExceeded)
	// ErrClosed: the session or the pool was closed, or its browser went
	// away. Open the page again in a new session.
	ErrClosed = errors.New("browser: session is closed")
	// ErrBusy: the pool holds its maximum number of sessions and all of them
	// are in use. Retry later or raise Options.MaxSessions.
	ErrBusy = fmt.Errorf("browser: every browser session is busy: %w", bedrockkit.ErrQuotaExceeded)
	// ErrNoElement: the element reference is unknown, stale (the page
	// changed since it was read) or names an element that is no longer
	// there or not visible. Read the page again to get current references.
	ErrNoElement = fmt.Errorf("browser: no such element: %w", bedrockkit.ErrNotFound)
	// ErrNoBrowser: no Chromium executable was found. Install Debian's
	// chromium package (apt-get install chromium) or set
	// LocalOptions.ExecPath.
	ErrNoBrowser = fmt.Errorf("browser: chromium not found: %w", bedrockkit.ErrUnsupported)
)

// Limit names a per-session limit.
type Limit string

// The limits of a session.
const (
	LimitTime        Limit = "time"        // the session's lifetime (Options.MaxSessionTime)
	LimitNavigations Limit = "navigations" // page loads in the session (Options.MaxNavigations)
	LimitPageSize    Limit = "page size"   // a page's size (Options.MaxPageBytes, MaxElements)
	LimitRequests    Limit = "requests"    // network requests in the session (Options.MaxRequests)
)

// LimitError is a session stopped at a limit. It wraps ErrLimitExceeded.
type LimitError struct {
	Limit Limit
	// Detail says what was exceeded and what to do, in words a model can
	// act on.
	Detail string
}

// Error says which limit and what to do.
func (e *LimitError) Error() string {
	return fmt.Sprintf("browser: %s limit exceeded: %s", e.Limit, e.Detail)
}

// Unwrap returns ErrLimitExceeded.
func (e *LimitError) Unwrap() error { return ErrLimitExceeded }
