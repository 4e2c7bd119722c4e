package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ServerOptions configure ListenAndServe and Serve.
type ServerOptions struct {
	// Addr is the listen address; empty means ":8080", AgentCore Runtime's
	// HTTP port on all interfaces.
	Addr string
	// DrainTimeout bounds how long a shutdown waits for running
	// invocations; 0 means 15 minutes (AgentCore's longest synchronous
	// request).
	DrainTimeout time.Duration
	// Signals end the server gracefully; nil means SIGTERM and SIGINT. An
	// empty, non-nil slice watches no signal (only ctx ends the server).
	Signals []os.Signal
	// ReadHeaderTimeout bounds reading a request's headers; 0 means 10 s.
	ReadHeaderTimeout time.Duration
	// OnListen, if set, is called with the bound address once the server
	// listens (useful with port 0).
	OnListen func(addr net.Addr)
}

// ListenAndServe serves h on opts.Addr (":8080" by default) until ctx ends
// or one of opts.Signals (SIGTERM, SIGINT) arrives, then shuts down
// gracefully: new invocations are refused (HTTP 503) while the running
// ones finish (at most opts.DrainTimeout), then the server closes. It
// returns nil after a graceful shutdown.
func ListenAndServe(ctx context.Context, h http.Handler, opts ServerOptions) error {
	addr := opts.Addr
	if addr == "" {
		addr = ":8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	return Serve(ctx, ln, h, opts)
}

// Serve is ListenAndServe on a listener it takes over (and closes).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts ServerOptions) error {
	sigs := opts.Signals
	if sigs == nil {
		sigs = []os.Signal{syscall.SIGTERM, os.Interrupt}
	}
	if len(sigs) > 0 {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, sigs...)
		defer stop()
	}
	drain := opts.DrainTimeout
	if drain <= 0 {
		drain = 15 * time.Minute
	}
	rht := opts.ReadHeaderTimeout
	if rht <= 0 {
		rht = 10 * time.Second
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: rht}
	if opts.OnListen != nil {
		opts.OnListen(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	var herr error
	if hs, ok := h.(interface{ Shutdown(context.Context) error }); ok {
		herr = hs.Shutdown(sctx) // refuse new invocations, wait for running ones
	}
	serr := srv.Shutdown(sctx) // stop listening, wait for open requests
	if serr != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return errors.Join(herr, serr)
}
