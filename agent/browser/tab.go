package browser

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/bedrockkit/bedrockkit"
)

// lockdownScript runs in every frame before the page's own scripts. It
// takes away the ways out that request interception cannot see
// (WebSockets, WebTransport, WebRTC) and service workers, whose requests
// outlive the page. It is a second line: Local also routes every host
// outside the allow-list to a closed proxy.
const lockdownScript = `(() => {
  const kill = (o, k) => { try { Object.defineProperty(o, k, {value: undefined, writable: false, configurable: false}); } catch (e) {} };
  for (const k of ['WebSocket', 'WebTransport', 'RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel']) kill(window, k);
  try { Object.defineProperty(Navigator.prototype, 'serviceWorker', {get: () => undefined, configurable: false}); } catch (e) {}
})();`

// maxNotices bounds the notices kept between two calls.
const maxNotices = 20

// Tab is one browser session the tools drive: a browser (local or
// remote) with one page, its origin allow-list, its limits and the
// element references it has shown. Get one from a Pool, or with OpenTab.
// A Tab runs one action at a time; it is safe for concurrent use.
type Tab struct {
	inst     Instance
	ctx      context.Context // the instance's chromedp tab context
	opts     Options
	allow    allowList
	logins   map[string]Login
	started  time.Time
	deadline time.Time
	targetID target.ID

	sem     chan struct{} // held by the running action
	wcancel context.CancelFunc
	workers sync.WaitGroup
	timer   *time.Timer
	onClose func() bool // stops OpenTab's context watch

	mu          sync.Mutex
	closed      bool
	closeErr    error
	closeDone   chan struct{}
	expired     bool
	mainFrame   cdp.FrameID
	loaderID    cdp.LoaderID
	url         string
	loading     bool
	starts      int           // main-frame loads started
	changed     chan struct{} // closed and replaced on every load event
	navigations int
	requests    int
	limitHit    *LimitError
	notices     []string
	dropped     int
	// refused lists, per origin, the kinds of requests refused since the
	// last state(); one line per origin reads as a plain report (a list of
	// near-identical lines is what prompt-attack filters flag).
	refused      map[string][]string
	refusedOrder []string
	refusedMore  int
	refs         map[cdp.BackendNodeID]element
	red          redactor
	isolated     isolatedWorld
}

type isolatedWorld struct {
	loader cdp.LoaderID
	id     int64
}

// OpenTab starts a browser from backend and returns a session bound to
// ctx: when ctx ends, the session is closed and its browser released.
// Close it when done. Most callers use a Pool instead.
func OpenTab(ctx context.Context, backend Backend, opts Options) (*Tab, error) {
	t, err := newTab(ctx, backend, opts, nil)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = t.Close(context.Background()) })
	t.mu.Lock()
	t.onClose = stop
	t.mu.Unlock()
	return t, nil
}

// usage is what earlier sessions of one pool key used: a new session of
// the key continues their time and page-load budget, so that closing and
// reopening does not reset the limits.
type usage struct {
	first       time.Time
	navigations int
	requests    int
}

func newTab(ctx context.Context, backend Backend, opts Options, carry *usage) (*Tab, error) {
	if backend == nil {
		return nil, fmt.Errorf("browser: no Backend: use NewLocal or agentcore.New: %w", bedrockkit.ErrInvalidInput)
	}
	opts = opts.withDefaults()
	allow, err := newAllowList(opts.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	logins := map[string]Login{}
	for _, l := range opts.Logins {
		if l.Name == "" || l.Username == "" || l.Password == "" {
			return nil, fmt.Errorf("browser: login %q needs a Name, a Username and a Password (credential names): %w", l.Name, bedrockkit.ErrInvalidInput)
		}
		if _, err := ParseOrigin(l.Origin); err != nil {
			return nil, fmt.Errorf("browser: login %q: %w", l.Name, err)
		}
		if !allow.allows(l.Origin) {
			return nil, fmt.Errorf("browser: login %q is for %s, which is not in AllowedOrigins: %w", l.Name, l.Origin, bedrockkit.ErrInvalidInput)
		}
		logins[l.Name] = l
	}
	if len(logins) > 0 && opts.Credentials == nil {
		return nil, fmt.Errorf("browser: Logins need Options.Credentials: %w", bedrockkit.ErrInvalidInput)
	}
	if opts.AllowDownloads {
		if opts.DownloadDir == "" {
			return nil, fmt.Errorf("browser: AllowDownloads needs a DownloadDir: %w", bedrockkit.ErrInvalidInput)
		}
		if opts.DownloadDir, err = filepath.Abs(opts.DownloadDir); err != nil {
			return nil, fmt.Errorf("browser: DownloadDir: %v: %w", err, bedrockkit.ErrInvalidInput)
		}
	}
	for name, p := range opts.UploadFiles {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("browser: upload file %q (%s) is not a readable regular file: %w", name, p, bedrockkit.ErrInvalidInput)
		}
	}
	inst, err := backend.Launch(ctx, LaunchRequest{Allowed: allow.list, Viewport: opts.Viewport, Timeout: opts.MaxSessionTime})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	first := now
	if carry != nil && !carry.first.IsZero() {
		first = carry.first
	}
	t := &Tab{
		inst: inst, ctx: inst.Context(), opts: opts, allow: allow, logins: logins,
		started: first, deadline: first.Add(opts.MaxSessionTime),
		sem: make(chan struct{}, 1), changed: make(chan struct{}), closeDone: make(chan struct{}),
		refs: map[cdp.BackendNodeID]element{},
	}
	if carry != nil {
		t.navigations, t.requests = carry.navigations, carry.requests
	}
	if err := t.setup(ctx); err != nil {
		cerr := t.Close(context.WithoutCancel(ctx))
		return nil, errors.Join(err, cerr)
	}
	t.timer = time.AfterFunc(time.Until(t.deadline), t.expire)
	return t, nil
}

// setup installs the interception, the event handlers and the lockdown
// script. A failure here closes the session: a browser whose requests are
// not checked is never used.
func (t *Tab) setup(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(t.ctx, t.opts.StepTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	c := chromedp.FromContext(t.ctx)
	if c == nil || c.Target == nil {
		return fmt.Errorf("browser: the instance's context has no tab: %w", bedrockkit.ErrInvalidInput)
	}
	t.targetID = c.Target.TargetID
	tree, err := chromedp.Call(sctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return fmt.Errorf("browser: read the frame tree: %w", err)
	}
	if tree.FrameTree != nil && tree.FrameTree.Frame != nil {
		t.mainFrame, t.loaderID, t.url = tree.FrameTree.Frame.ID, tree.FrameTree.Frame.LoaderID, tree.FrameTree.Frame.URL
	}

	wctx, wcancel := context.WithCancel(t.ctx)
	t.wcancel = wcancel
	if err := chromedp.Listen(wctx, t.onEvent); err != nil {
		return err
	}
	// Every request of every target of the browser is paused until the
	// fetch worker has checked its origin.
	fetchEvents := chromedp.BrowserEvents(wctx, fetch.RequestPaused)
	targets := chromedp.BrowserEvents(wctx, target.TargetCreated)
	dialogs := chromedp.Events(wctx, page.JavascriptDialogOpening)
	choosers := chromedp.Events(wctx, page.FileChooserOpened)
	downloads := chromedp.BrowserEvents(wctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(wctx, cdpbrowser.DownloadProgress)
	t.goWorker(func() { t.fetchWorker(wctx, fetchEvents) })
	t.goWorker(func() { t.targetWorker(wctx, targets) })
	t.goWorker(func() { t.dialogWorker(wctx, dialogs) })
	t.goWorker(func() { t.chooserWorker(choosers) })
	t.goWorker(func() { t.downloadWorker(wctx, downloads, progress) })

	if _, err := chromedp.CallBrowser(sctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		return fmt.Errorf("browser: enable request interception: %w", err)
	}
	if _, err := chromedp.CallBrowser(sctx, target.SetDiscoverTargets, target.SetDiscoverTargetsParams{Discover: true}); err != nil {
		return fmt.Errorf("browser: watch new windows: %w", err)
	}
	dl := cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorDeny, EventsEnabled: ptr(true)}
	if t.opts.AllowDownloads {
		dl.Behavior, dl.DownloadPath = cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, t.opts.DownloadDir
	}
	if _, err := chromedp.CallBrowser(sctx, cdpbrowser.SetDownloadBehavior, dl); err != nil {
		return fmt.Errorf("browser: set the download behaviour: %w", err)
	}
	if _, err := chromedp.Call(sctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(t.opts.Viewport.Width), Height: int64(t.opts.Viewport.Height), DeviceScaleFactor: 1}); err != nil {
		return fmt.Errorf("browser: set the viewport: %w", err)
	}
	if _, err := chromedp.Call(sctx, page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: true}); err != nil {
		return fmt.Errorf("browser: intercept file choosers: %w", err)
	}
	if _, err := chromedp.Call(sctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: lockdownScript}); err != nil {
		return fmt.Errorf("browser: install the lockdown script: %w", err)
	}
	if _, err := chromedp.Call(sctx, network.SetBypassServiceWorker, network.SetBypassServiceWorkerParams{Bypass: true}); err != nil {
		return fmt.Errorf("browser: bypass service workers: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func (t *Tab) goWorker(fn func()) {
	t.workers.Add(1)
	go func() {
		defer t.workers.Done()
		fn()
	}()
}

// onEvent runs on chromedp's read loop: it only records state.
func (t *Tab) onEvent(ev any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e := ev.(type) {
	case *page.EventFrameStartedLoading:
		if e.FrameID == t.mainFrame {
			t.loading = true
			t.starts++
			t.signal()
		}
	case *page.EventFrameStoppedLoading:
		if e.FrameID == t.mainFrame {
			t.loading = false
			t.signal()
		}
	case *page.EventFrameNavigated:
		if e.Frame != nil && e.Frame.ParentID == "" {
			t.mainFrame = e.Frame.ID
			if e.Frame.LoaderID != t.loaderID {
				t.refs = map[cdp.BackendNodeID]element{}
			}
			t.loaderID, t.url = e.Frame.LoaderID, e.Frame.URL
			t.signal()
		}
	case *page.EventNavigatedWithinDocument:
		if e.FrameID == t.mainFrame {
			t.url = e.URL
			t.signal()
		}
	}
}

// signal wakes waiters. t.mu is held.
func (t *Tab) signal() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// noteLocked records a notice for the next result. t.mu is held.
func (t *Tab) noteLocked(format string, args ...any) {
	if len(t.notices) >= maxNotices {
		t.dropped++
		return
	}
	t.notices = append(t.notices, fmt.Sprintf(format, args...))
}

func (t *Tab) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noteLocked(format, args...)
}

// decide says whether a paused request may go on, counting it against
// the session's limits.
func (t *Tab) decide(ev *fetch.EventRequestPaused) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := ""
	if ev.Request != nil {
		u = ev.Request.URL
	}
	if t.closed || t.expired || time.Now().After(t.deadline) {
		return false
	}
	t.requests++
	if t.requests > t.opts.MaxRequests {
		if t.limitHit == nil {
			t.limitHit = &LimitError{Limit: LimitRequests, Detail: fmt.Sprintf("the session made more than %d requests; close it and start again", t.opts.MaxRequests)}
		}
		return false
	}
	mainDoc := ev.ResourceType == network.ResourceTypeDocument && (ev.FrameID == t.mainFrame || ev.FrameID == "")
	if !t.allow.allows(u) {
		t.refusedLocked(originForNote(u), resourceKind(ev.ResourceType, mainDoc))
		return false
	}
	if mainDoc {
		t.navigations++
		if t.navigations > t.opts.MaxNavigations {
			if t.limitHit == nil {
				t.limitHit = &LimitError{Limit: LimitNavigations, Detail: fmt.Sprintf("the session loaded %d pages; close it and start again", t.opts.MaxNavigations)}
			}
			t.noteLocked("blocked a page load: the session reached its %d page loads", t.opts.MaxNavigations)
			return false
		}
	}
	return true
}

// maxRefusedOrigins bounds the origins listed between two calls.
const maxRefusedOrigins = 5

// refusedLocked records a request refused for its origin; state() reports
// them as one line per origin. t.mu is held.
func (t *Tab) refusedLocked(origin, kind string) {
	kinds, ok := t.refused[origin]
	if !ok {
		if len(t.refusedOrder) >= maxRefusedOrigins {
			t.refusedMore++
			return
		}
		t.refusedOrder = append(t.refusedOrder, origin)
	}
	for _, k := range kinds {
		if k == kind {
			return
		}
	}
	if t.refused == nil {
		t.refused = map[string][]string{}
	}
	t.refused[origin] = append(kinds, kind)
}

// resourceKind names a request's resource type for a notice.
func resourceKind(rt network.ResourceType, mainDoc bool) string {
	switch rt {
	case network.ResourceTypeDocument:
		if mainDoc {
			return "a page"
		}
		return "a frame"
	case network.ResourceTypeImage:
		return "an image"
	case network.ResourceTypeStylesheet:
		return "a stylesheet"
	case network.ResourceTypeScript:
		return "a script"
	case network.ResourceTypeFont:
		return "a font"
	case network.ResourceTypeMedia:
		return "a media file"
	case network.ResourceTypeXHR, network.ResourceTypeFetch, network.ResourceTypeEventSource:
		return "a data request"
	case network.ResourceTypePing:
		return "a beacon"
	case network.ResourceTypeWebSocket:
		return "a WebSocket"
	}
	return "a resource"
}

// originForNote shortens a URL to its origin (or scheme) for a notice.
func originForNote(u string) string {
	if o, err := OriginOf(u); err == nil {
		return o.String()
	}
	if i := strings.IndexByte(u, ':'); i > 0 && i < 20 {
		return u[:i] + ":"
	}
	return "an invalid URL"
}

func (t *Tab) fetchWorker(ctx context.Context, events iter.Seq2[fetch.EventRequestPaused, error]) {
	for ev, err := range events {
		if err != nil {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if t.decide(&ev) {
			_, _ = chromedp.CallBrowser(cctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		} else {
			_, _ = chromedp.CallBrowser(cctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
		cancel()
	}
}

// targetWorker closes every new window or tab a page opens: a session has
// one page, and a window the session does not watch is a way around it.
func (t *Tab) targetWorker(ctx context.Context, events iter.Seq2[target.EventTargetCreated, error]) {
	for ev, err := range events {
		if err != nil {
			return
		}
		info := ev.TargetInfo
		if info == nil || info.TargetID == t.targetID || (info.Type != "page" && info.Type != "tab") {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _ = chromedp.CallBrowser(cctx, target.CloseTarget, target.CloseTargetParams{TargetID: info.TargetID})
		cancel()
		if info.URL != "" && info.URL != "about:blank" {
			t.note("the page opened a new window (%s); it was closed. Open that address with the open tool if you need it", originForNote(info.URL))
		} else {
			t.note("the page opened a new window; it was closed")
		}
	}
}

// dialogWorker dismisses alert, confirm and prompt dialogs (accepting
// only "leave this page?" ones) and reports their text.
func (t *Tab) dialogWorker(ctx context.Context, events iter.Seq2[page.EventJavascriptDialogOpening, error]) {
	for ev, err := range events {
		if err != nil {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _ = chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: ev.Type == page.DialogTypeBeforeunload})
		cancel()
		t.note("the page showed a %s dialog, which was dismissed: %q", ev.Type, oneLine(ev.Message, 300))
	}
}

func (t *Tab) chooserWorker(events iter.Seq2[page.EventFileChooserOpened, error]) {
	for _, err := range events {
		if err != nil {
			return
		}
		if len(t.opts.UploadFiles) > 0 {
			t.note("the page asked for a file: use the upload tool on its file field")
		} else {
			t.note("the page asked for a file; uploads are disabled")
		}
	}
}

// downloadWorker reports downloads and cancels those over the size limit.
func (t *Tab) downloadWorker(ctx context.Context, begins iter.Seq2[cdpbrowser.EventDownloadWillBegin, error], progress iter.Seq2[cdpbrowser.EventDownloadProgress, error]) {
	var wg sync.WaitGroup
	defer wg.Wait()
	names := sync.Map{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range progress {
			if err != nil {
				return
			}
			name, _ := names.Load(ev.GUID)
			switch {
			case ev.State == cdpbrowser.DownloadProgressStateInProgress && int64(ev.ReceivedBytes) > t.opts.MaxDownloadBytes:
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, _ = chromedp.CallBrowser(cctx, cdpbrowser.CancelDownload, cdpbrowser.CancelDownloadParams{GUID: ev.GUID})
				cancel()
				t.note("the download of %q was stopped: it is larger than %d bytes", name, t.opts.MaxDownloadBytes)
			case ev.State == cdpbrowser.DownloadProgressStateCompleted && t.opts.AllowDownloads:
				t.note("downloaded %q (%d bytes) into the download folder as %s", name, int64(ev.ReceivedBytes), ev.GUID)
			}
		}
	}()
	for ev, err := range begins {
		if err != nil {
			return
		}
		names.Store(ev.GUID, oneLine(ev.SuggestedFilename, 100))
		if !t.opts.AllowDownloads {
			t.note("the page tried to download %q; downloads are disabled", oneLine(ev.SuggestedFilename, 100))
		}
	}
}

// expire ends the session at its time limit.
func (t *Tab) expire() {
	t.mu.Lock()
	t.expired = true
	t.mu.Unlock()
	_ = t.Close(context.Background())
}

// Close releases the session's browser and waits until it is released
// (for Local: the process and its children gone, its profile deleted).
// Calling it again returns the first call's result.
func (t *Tab) Close(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		select {
		case <-t.closeDone:
		case <-ctx.Done():
			return ctx.Err()
		}
		return t.closeErr
	}
	t.closed = true
	onClose := t.onClose
	t.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	if t.timer != nil {
		t.timer.Stop()
	}
	if t.wcancel != nil {
		t.wcancel()
	}
	err := t.inst.Close(ctx)
	t.workers.Wait()
	t.mu.Lock()
	t.closeErr = err
	t.mu.Unlock()
	close(t.closeDone)
	return err
}

// used returns the session's usage, for the next session of its key.
func (t *Tab) used() usage {
	t.mu.Lock()
	defer t.mu.Unlock()
	return usage{first: t.started, navigations: t.navigations, requests: t.requests}
}

// Closed reports whether the session is closed (by Close, its time limit
// or its pool).
func (t *Tab) Closed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// ID names the session's browser.
func (t *Tab) ID() string { return t.inst.ID() }

// begin starts an action: one at a time, within the session's limits,
// bounded by StepTimeout and ctx. The returned context is a chromedp
// context of the tab.
func (t *Tab) begin(ctx context.Context) (context.Context, func(), error) {
	if err := t.usable(); err != nil {
		return nil, nil, err
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-t.closeDone:
		return nil, nil, ErrClosed
	}
	if err := t.usable(); err != nil {
		<-t.sem
		return nil, nil, err
	}
	step := min(t.opts.StepTimeout, time.Until(t.deadline))
	actx, cancel := context.WithTimeout(t.ctx, step)
	stop := context.AfterFunc(ctx, cancel)
	return actx, func() {
		stop()
		cancel()
		<-t.sem
	}, nil
}

func (t *Tab) usable() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.expired || time.Now().After(t.deadline):
		return &LimitError{Limit: LimitTime, Detail: fmt.Sprintf("the session ran for its %s; close it and start again", t.opts.MaxSessionTime)}
	case t.closed:
		return ErrClosed
	case t.limitHit != nil:
		return t.limitHit
	}
	if t.ctx.Err() != nil {
		return fmt.Errorf("browser: the browser went away: %w", ErrClosed)
	}
	return nil
}
