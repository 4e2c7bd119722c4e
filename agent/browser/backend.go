package browser

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/bedrockkit/bedrockkit"
)

// Backend starts browsers. NewLocal runs headless Chromium on this
// machine; the agentcore sub-package starts Amazon Bedrock AgentCore
// Browser sessions; Connect attaches to any browser that speaks the
// Chrome DevTools Protocol. Everything above a Backend — the tools, the
// safety checks, the limits — is the same code for all of them.
type Backend interface {
	// Launch starts one browser for one session. The browser must be
	// released with Instance.Close; Launch itself releases whatever it
	// started when it fails or ctx ends before it returns.
	Launch(ctx context.Context, req LaunchRequest) (Instance, error)
}

// LaunchRequest is what a session asks of a new browser.
type LaunchRequest struct {
	// Allowed is the session's origin allow-list. A backend that can
	// enforce it below the DevTools protocol (Local routes every other
	// host to a closed proxy) does so in addition to the session's own
	// request interception.
	Allowed []Origin
	// Viewport is the window size in CSS pixels.
	Viewport Viewport
	// Timeout is the session's time limit; a remote backend passes it on
	// so that the service ends the session even if Close never comes.
	Timeout time.Duration
}

// Viewport is a window size in CSS pixels.
type Viewport struct {
	Width, Height int
}

// Instance is one running browser.
type Instance interface {
	// Context returns the chromedp context of the browser's tab: chromedp
	// actions run against it. It is done once the browser is closed or
	// lost.
	Context() context.Context
	// ID names the browser in errors and traces (a process ID, a remote
	// session ID).
	ID() string
	// Close releases the browser — the local process and all its
	// children, the remote session — and waits until it is released or
	// ctx ends. It is safe to call more than once and concurrently.
	Close(ctx context.Context) error
}

// ConnectOptions configure Connect.
type ConnectOptions struct {
	// Header is sent with the WebSocket handshake (credentials such as
	// AgentCore's SigV4 headers).
	Header http.Header
	// ID names the browser; "" means the URL without its query.
	ID string
	// Release, if set, is called once by Close after the connection is
	// closed, to end the browser (stop the remote session).
	Release func(ctx context.Context) error
	// DialTimeout bounds the WebSocket handshake; 0 means 30 seconds.
	DialTimeout time.Duration
}

// Connect attaches to a browser's DevTools WebSocket endpoint
// (ws://host:port/devtools/browser/<id>, or a service's automation
// stream) and opens a tab in it. ctx bounds the connection only; the
// instance lives until Close.
func Connect(ctx context.Context, wsURL string, opts ConnectOptions) (Instance, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 30 * time.Second
	}
	id := opts.ID
	if id == "" {
		id = wsURL
		if i := strings.IndexByte(id, '?'); i >= 0 {
			id = id[:i]
		}
	}
	ropts := []remote.Option{remote.NoModifyURL, remote.WithDialTimeout(opts.DialTimeout)}
	if len(opts.Header) > 0 {
		ropts = append(ropts, remote.WithDialHTTPHeader(opts.Header))
	}
	allocCtx, allocCancel := remote.NewAllocator(context.Background(), wsURL, ropts...)
	tabCtx, tabCancel := chromedp.NewContext(allocCtx)
	inst := &connected{ctx: tabCtx, id: id, release: opts.Release}
	inst.cancel = func() {
		tabCancel()
		allocCancel()
	}
	stop := context.AfterFunc(ctx, inst.cancel)
	err := chromedp.Do(tabCtx)
	stopped := stop()
	if err == nil && !stopped {
		err = ctx.Err()
	}
	if err != nil {
		cerr := inst.Close(context.WithoutCancel(ctx))
		return nil, errors.Join(fmt.Errorf("browser: connect to %s: %w", id, classifyStart(err)), cerr)
	}
	return inst, nil
}

// connected is an Instance reached over a WebSocket.
type connected struct {
	ctx     context.Context
	id      string
	cancel  func()
	release func(ctx context.Context) error

	once sync.Once
	err  error
}

func (c *connected) Context() context.Context { return c.ctx }
func (c *connected) ID() string               { return c.id }

func (c *connected) Close(ctx context.Context) error {
	c.once.Do(func() {
		c.cancel()
		if c.release != nil {
			c.err = c.release(ctx)
		}
	})
	return c.err
}

// classifyStart maps a start failure onto the root sentinels.
func classifyStart(err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, bedrockkit.ErrUnsupported), errors.Is(err, bedrockkit.ErrServiceUnavailable):
		return err
	}
	return fmt.Errorf("browser: %v: %w", err, bedrockkit.ErrServiceUnavailable)
}
