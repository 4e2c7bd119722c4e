package browser

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// LocalOptions configure a Local backend. The zero value gives the
// defaults.
type LocalOptions struct {
	// ExecPath is the Chromium executable; "" looks for chromium,
	// chromium-browser, google-chrome and google-chrome-stable on PATH.
	ExecPath string
	// StartTimeout bounds starting one browser; 0 means 30 seconds.
	StartTimeout time.Duration
	// Output, if set, receives the browser's own log output.
	Output io.Writer
	// Sandbox keeps Chromium's sandbox on when running as root (Chromium
	// refuses to start as root with it, so it is off for root by default,
	// as in containers). Other users always get the sandbox.
	Sandbox bool
}

// Local starts headless Chromium processes on this machine, one per
// session, each with a fresh temporary profile that is deleted when the
// session closes. Every host the session's allow-list does not name is
// routed to a closed local proxy, so the allow-list also holds for
// traffic the DevTools protocol cannot intercept (WebSockets, WebRTC).
// Processes end with the session (Close), with a context that ends
// before Launch returns, and — through the kernel's parent-death signal
// — with this process.
type Local struct {
	opts LocalOptions
}

// NewLocal returns a Local backend.
func NewLocal(opts LocalOptions) *Local {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	return &Local{opts: opts}
}

// FindChromium returns the path of the Chromium executable Local would
// run, or ErrNoBrowser.
func FindChromium(execPath string) (string, error) {
	if execPath != "" {
		if p, err := exec.LookPath(execPath); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("browser: %s is not an executable: %w", execPath, ErrNoBrowser)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Launch starts a headless Chromium.
func (l *Local) Launch(ctx context.Context, req LaunchRequest) (Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := FindChromium(l.opts.ExecPath)
	if err != nil {
		return nil, err
	}
	// A proxy that refuses every connection: hosts outside the allow-list
	// go there and fail, whatever the page does.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("browser: local proxy listener: %w", err)
	}
	// Chromium's own temporary files (shared memory, crash reports) go in
	// a directory of the session's, removed with it: a killed browser
	// does not clean up after itself.
	tmp, err := os.MkdirTemp("", "bkb-") // short: Chromium puts Unix sockets under it
	if err != nil {
		_ = dead.Close()
		return nil, fmt.Errorf("browser: temporary directory: %w", err)
	}
	inst := &localInstance{dead: dead, tmp: tmp}
	inst.wg.Add(1)
	go inst.refuseConnections()
	if err := l.start(ctx, inst, path, l.allocatorOptions(path, dead.Addr().String(), tmp, req)); err != nil {
		return nil, err
	}
	return inst, nil
}

// refuseConnections accepts and closes every connection to the dead proxy
// until it is closed.
func (inst *localInstance) refuseConnections() {
	defer inst.wg.Done()
	for {
		c, err := inst.dead.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// allocatorOptions are Chromium's flags: headless, quiet, its traffic
// through the dead proxy at proxyAddr except for loopback and the allowed
// origins, its temporary files in tmp.
func (l *Local) allocatorOptions(path, proxyAddr, tmp string, req LaunchRequest) []chromedp.ExecAllocatorOption {
	bypass := []string{"<-loopback>"}
	for _, o := range req.Allowed {
		bypass = append(bypass, o.hostPort())
	}
	vp := req.Viewport
	if vp.Width <= 0 || vp.Height <= 0 {
		vp = Viewport{Width: 1280, Height: 800}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(vp.Width, vp.Height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,InterestFeedContentSuggestions,PrivacySandboxSettings4"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("proxy-server", "http://"+proxyAddr),
		chromedp.Flag("proxy-bypass-list", strings.Join(bypass, ";")),
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Env("TMPDIR=" + tmp),
		chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp"),
	}
	if os.Getuid() == 0 && !l.opts.Sandbox {
		opts = append(opts, chromedp.NoSandbox)
	}
	if l.opts.Output != nil {
		opts = append(opts, chromedp.CombinedOutput(l.opts.Output))
	}
	return opts
}

// start runs the browser with opts for inst, bounded by ctx and
// StartTimeout; on failure inst is closed.
func (l *Local) start(ctx context.Context, inst *localInstance, path string, opts []chromedp.ExecAllocatorOption) error {
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, tabCancel := chromedp.NewContext(allocCtx)
	inst.ctx = tabCtx
	inst.cancel = func() {
		tabCancel()
		allocCancel() // kills the process and waits for it, its children and its profile
	}
	// Either ctx or StartTimeout ending kills the browser, which makes
	// chromedp.Do return.
	timer := time.AfterFunc(l.opts.StartTimeout, allocCancel)
	stop := context.AfterFunc(ctx, allocCancel)
	err := chromedp.Do(tabCtx)
	timer.Stop()
	stop()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = inst.Close(context.Background())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("browser: start %s: %w", path, classifyStart(err))
	}
	if c := chromedp.FromContext(tabCtx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		inst.pid = c.Browser.Process().Pid
	}
	return nil
}

// localInstance is one local Chromium process.
type localInstance struct {
	ctx    context.Context
	cancel func()
	pid    int
	dead   net.Listener
	tmp    string         // the browser's TMPDIR
	wg     sync.WaitGroup // the dead proxy's accept loop

	once sync.Once
	err  error
}

func (i *localInstance) Context() context.Context { return i.ctx }

func (i *localInstance) ID() string { return "chromium pid " + strconv.Itoa(i.pid) }

// Close kills the browser and waits for its processes and profile
// directory to be gone. ctx is not needed: the kill cannot block.
func (i *localInstance) Close(ctx context.Context) error {
	i.once.Do(func() {
		if i.cancel != nil {
			i.cancel()
		}
		_ = i.dead.Close()
		i.wg.Wait()
		// A helper process may still be writing there for a moment after
		// the kill (as chromedp also finds for the profile directory).
		for try := 0; ; try++ {
			if i.err = os.RemoveAll(i.tmp); i.err == nil || try == 50 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return i.err
}
