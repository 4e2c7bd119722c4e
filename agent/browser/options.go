package browser

import (
	"time"

	"github.com/bedrockkit/bedrockkit/agent/credentials"
)

// Options configure sessions: what they may reach, their limits, and
// what the tools offer. The zero value allows no origin at all (every
// page is refused) and otherwise gives the defaults.
type Options struct {
	// AllowedOrigins are the only origins ("https://bank.example",
	// "http://127.0.0.1:8080") a session may contact: for pages the model
	// opens, links it follows, redirects, frames, new windows and every
	// resource a page loads. Everything else is refused, as are schemes
	// other than http and https (file, data, javascript, chrome, ...).
	AllowedOrigins []string

	// MaxSessionTime ends a session this long after it started; 0 means
	// 10 minutes.
	MaxSessionTime time.Duration
	// MaxNavigations is the most page loads (including redirects and
	// loads a click caused) in one session; 0 means 30.
	MaxNavigations int
	// MaxRequests is the most network requests in one session; 0 means
	// 3000.
	MaxRequests int
	// MaxPageBytes is the largest page, as serialised HTML, a session
	// reads; 0 means 4 MiB.
	MaxPageBytes int
	// MaxElements is the most DOM elements in a page a session reads; 0
	// means 25,000.
	MaxElements int
	// MaxReadBytes bounds the text one read returns to the model (longer
	// pages are cut, and the result says so); 0 means 24 KiB.
	MaxReadBytes int
	// StepTimeout bounds one action (a page load, a click and what it
	// loads, a read); 0 means 30 seconds.
	StepTimeout time.Duration
	// Viewport is the window size; zero means 1280×800.
	Viewport Viewport

	// AllowDownloads lets pages download files into DownloadDir (which
	// must be set), each up to MaxDownloadBytes (0 means 10 MiB). Off,
	// every download is refused.
	AllowDownloads   bool
	DownloadDir      string
	MaxDownloadBytes int64
	// UploadFiles, if set, enables the upload tool: the model may put one
	// of these files (name → local path) into a page's file input, by
	// name. Without it no file ever leaves the machine. Uploads need a
	// browser on this machine (Local).
	UploadFiles map[string]string

	// Credentials resolve the sign-in credentials named by Logins. The
	// model never sees them: it asks for a login by name, the tool types
	// the secret into the page's field, and the secret is removed from
	// every later result of the session.
	Credentials credentials.Provider
	// Logins are the sites the agent may sign in to.
	Logins []Login

	// Screenshots offers the screenshot tool. A screenshot shows the page
	// to the model as an image, which a text guardrail cannot read: leave
	// it off where pages may carry instructions aimed at the model.
	Screenshots bool

	// MaxSessions is the most browser sessions a Pool keeps open; 0
	// means 4.
	MaxSessions int
	// IdleTimeout closes a pooled session unused for this long; 0 means
	// 5 minutes.
	IdleTimeout time.Duration
}

// Login is a site the agent may sign in to with credentials from
// Options.Credentials.
type Login struct {
	// Name is what the model calls the login ("bank").
	Name string
	// Origin is the only origin whose pages may receive the credentials
	// ("https://bank.example").
	Origin string
	// Username and Password name the two secrets in Options.Credentials
	// (credentials.Provider.APIKey).
	Username, Password string
}

func (o Options) withDefaults() Options {
	if o.MaxSessionTime <= 0 {
		o.MaxSessionTime = 10 * time.Minute
	}
	if o.MaxNavigations <= 0 {
		o.MaxNavigations = 30
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 3000
	}
	if o.MaxPageBytes <= 0 {
		o.MaxPageBytes = 4 << 20
	}
	if o.MaxElements <= 0 {
		o.MaxElements = 25000
	}
	if o.MaxReadBytes <= 0 {
		o.MaxReadBytes = 24 << 10
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 30 * time.Second
	}
	if o.Viewport.Width <= 0 || o.Viewport.Height <= 0 {
		o.Viewport = Viewport{Width: 1280, Height: 800}
	}
	if o.MaxDownloadBytes <= 0 {
		o.MaxDownloadBytes = 10 << 20
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 4
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	return o
}
