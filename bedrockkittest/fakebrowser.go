package bedrockkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
)

// SystemBrowser is the identifier of AWS's built-in browser, which
// FakeBrowser always knows.
const SystemBrowser = "aws.browser.v1"

// Static credentials of the fake AgentCore clients; FakeBrowser checks
// the automation stream's SigV4 signature against them.
const (
	fakeAccessKey = "AKIDFAKEAGENTCORE"
	fakeSecretKey = "fake-secret-key"
)

// BrowserSession describes a session of FakeBrowser.
type BrowserSession struct {
	BrowserID string
	ID        string
	Name      string
	Status    string // READY or TERMINATED
	CreatedAt time.Time
	Timeout   time.Duration
	// ViewPort is the requested size (0×0 when none was asked for).
	ViewPortWidth, ViewPortHeight int
	// Connections counts automation-stream connections that passed the
	// signature check.
	Connections int
}

// BrowserAutomation starts the browser behind a session's automation
// stream: it returns the DevTools WebSocket URL FakeBrowser forwards the
// stream to (a local Chromium's ws://127.0.0.1:port/devtools/browser/...)
// and a function that ends that browser.
type BrowserAutomation func(s BrowserSession) (cdpURL string, stop func(), err error)

type fakeBrowserSession struct {
	BrowserSession
	cdp  *url.URL
	stop func()
}

// FakeBrowser is an in-process Amazon Bedrock AgentCore Browser data
// plane: StartBrowserSession, GetBrowserSession, ListBrowserSessions and
// StopBrowserSession over their real REST-JSON wire protocol, so a real
// *bedrockagentcore.Client pointed at it (see Client) works unchanged,
// and the automation stream — the WebSocket at
// /browser-streams/{id}/sessions/{sid}/automation that
// StartBrowserSession's streams.automationStream.streamEndpoint names —
// which requires a SigV4 signature (service bedrock-agentcore, the fake
// clients' credentials, headers host and x-amz-date, signed at most five
// minutes ago) and forwards the connection to the browser the
// BrowserAutomation set with SetAutomation started. Without one,
// sessions start but their stream answers 503.
//
// Requests are validated as the service documents: a known browser
// (SystemBrowser or one added with AddBrowser), name 1..100 characters,
// sessionTimeoutSeconds 1..28800 (default 3600), viewPort width 320..3840
// and height 240..2160, a READY session for the stream. A session past
// its timeout (by the clock set with SetNow) is TERMINATED and its
// browser stopped. It is safe for concurrent use.
type FakeBrowser struct {
	srv *httptest.Server

	mu       sync.Mutex
	ids      map[string]bool
	sessions map[string]*fakeBrowserSession
	auto     BrowserAutomation
	calls    map[string]int
	rejected int
	now      func() time.Time
}

// NewFakeBrowser starts a FakeBrowser closed (with every session's
// browser stopped) when the test ends.
func NewFakeBrowser(t testing.TB) *FakeBrowser {
	t.Helper()
	f := StartFakeBrowser()
	t.Cleanup(f.Close)
	return f
}

// StartFakeBrowser starts a FakeBrowser outside a test; the caller must
// Close it.
func StartFakeBrowser() *FakeBrowser {
	f := &FakeBrowser{
		ids:      map[string]bool{SystemBrowser: true},
		sessions: map[string]*fakeBrowserSession{},
		calls:    map[string]int{},
		now:      time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /browsers/{id}/sessions/start", f.serveStart)
	mux.HandleFunc("GET /browsers/{id}/sessions/get", f.serveGet)
	mux.HandleFunc("POST /browsers/{id}/sessions/list", f.serveList)
	mux.HandleFunc("PUT /browsers/{id}/sessions/stop", f.serveStop)
	mux.HandleFunc("GET /browser-streams/{id}/sessions/{sid}/automation", f.serveAutomation)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakebrowser: no operation at %s %s; FakeBrowser serves Start/Get/List/StopBrowserSession and the automation stream", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeBrowser) URL() string { return f.srv.URL }

// Close stops every session's browser and shuts the server down.
// Calling it again does nothing.
func (f *FakeBrowser) Close() {
	f.mu.Lock()
	var stops []func()
	for _, s := range f.sessions {
		if s.stop != nil {
			stops = append(stops, s.stop)
			s.stop = nil
		}
		s.Status = "TERMINATED"
	}
	f.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// Client returns a real AgentCore data-plane client for the server:
// region us-east-1, static fake credentials, BaseEndpoint set to URL and
// SDK retries off. optFns run last.
func (f *FakeBrowser) Client(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	opts := bedrockagentcore.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(fakeAccessKey, fakeSecretKey, ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	return bedrockagentcore.New(opts, optFns...)
}

// AddBrowser makes a custom browser identifier known.
func (f *FakeBrowser) AddBrowser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids[id] = true
}

// SetAutomation sets the function that starts a session's browser.
func (f *FakeBrowser) SetAutomation(fn BrowserAutomation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auto = fn
}

// SetNow sets the clock used for session timeouts.
func (f *FakeBrowser) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// Calls returns how many calls of an operation ("StartBrowserSession",
// "GetBrowserSession", "ListBrowserSessions", "StopBrowserSession",
// "Automation") the server received.
func (f *FakeBrowser) Calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// Rejected returns how many automation-stream connections were refused
// for a missing or wrong signature.
func (f *FakeBrowser) Rejected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected
}

// Sessions returns copies of all sessions, in no particular order.
func (f *FakeBrowser) Sessions() []BrowserSession {
	f.mu.Lock()
	var stops []func()
	out := make([]BrowserSession, 0, len(f.sessions))
	for _, s := range f.sessions {
		if stop := f.expire(s); stop != nil {
			stops = append(stops, stop)
		}
		out = append(out, s.BrowserSession)
	}
	f.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	return out
}

// expire terminates s if its timeout has passed and returns its browser's
// stop function, to be called without f.mu. f.mu is held.
func (f *FakeBrowser) expire(s *fakeBrowserSession) func() {
	if s.Status == "READY" && f.now().Sub(s.CreatedAt) > s.Timeout {
		return f.terminate(s)
	}
	return nil
}

// terminate marks s TERMINATED and returns its browser's stop function.
// f.mu is held.
func (f *FakeBrowser) terminate(s *fakeBrowserSession) func() {
	s.Status = "TERMINATED"
	stop := s.stop
	s.stop = nil
	return stop
}

func brInvalid(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ValidationException", Message: "fakebrowser: " + fmt.Sprintf(format, args...)})
}

func brNotFound(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ResourceNotFoundException", Message: "fakebrowser: " + fmt.Sprintf(format, args...)})
}

// streams returns a session's streams object, with endpoints on this
// server (the service's are wss://bedrock-agentcore.{region}.amazonaws.com).
func (f *FakeBrowser) streams(s *fakeBrowserSession) map[string]any {
	base := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/browser-streams/" + url.PathEscape(s.BrowserID) + "/sessions/" + s.ID
	status := "ENABLED"
	return map[string]any{
		"automationStream": map[string]any{"streamEndpoint": base + "/automation", "streamStatus": status},
		"liveViewStream":   map[string]any{"streamEndpoint": strings.Replace(base, "ws", "http", 1) + "/live-view"},
	}
}

func (f *FakeBrowser) serveStart(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Name                  *string `json:"name"`
		SessionTimeoutSeconds *int64  `json:"sessionTimeoutSeconds"`
		ViewPort              *struct {
			Width  *int64 `json:"width"`
			Height *int64 `json:"height"`
		} `json:"viewPort"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			brInvalid(w, "request body is not valid JSON: %v", err)
			return
		}
	}
	id := r.PathValue("id")
	timeout := int64(3600)
	if req.SessionTimeoutSeconds != nil {
		timeout = *req.SessionTimeoutSeconds
	}
	var vw, vh int64
	if vp := req.ViewPort; vp != nil {
		if vp.Width == nil || vp.Height == nil {
			brInvalid(w, "viewPort needs width and height")
			return
		}
		vw, vh = *vp.Width, *vp.Height
		if vw < 320 || vw > 3840 || vh < 240 || vh > 2160 {
			brInvalid(w, "viewPort must be 320..3840 wide and 240..2160 high, got %dx%d", vw, vh)
			return
		}
	}
	switch {
	case req.Name != nil && (utf8.RuneCountInString(*req.Name) < 1 || utf8.RuneCountInString(*req.Name) > 100):
		brInvalid(w, "name must be 1 to 100 characters, got %d", utf8.RuneCountInString(*req.Name))
		return
	case timeout < 1 || timeout > 28800:
		brInvalid(w, "sessionTimeoutSeconds must be between 1 and 28800, got %d", timeout)
		return
	}
	f.mu.Lock()
	f.calls["StartBrowserSession"]++
	known, auto := f.ids[id], f.auto
	f.mu.Unlock()
	if !known {
		brNotFound(w, "browser %s does not exist", id)
		return
	}
	s := &fakeBrowserSession{BrowserSession: BrowserSession{BrowserID: id, ID: newSessionID(), Status: "READY",
		CreatedAt: time.Now().UTC(), Timeout: time.Duration(timeout) * time.Second, ViewPortWidth: int(vw), ViewPortHeight: int(vh)}}
	if req.Name != nil {
		s.Name = *req.Name
	}
	if auto != nil {
		cdpURL, stop, err := auto(s.BrowserSession)
		if err != nil {
			writeFault(w, &Fault{Code: "InternalServerException", Message: "fakebrowser: the session's browser did not start: " + err.Error()})
			return
		}
		u, err := url.Parse(cdpURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "http") {
			if stop != nil {
				stop()
			}
			writeFault(w, &Fault{Code: "InternalServerException", Message: fmt.Sprintf("fakebrowser: the automation returned %q, not a ws:// URL", cdpURL)})
			return
		}
		u.Scheme = "http"
		s.cdp, s.stop = u, stop
	}
	f.mu.Lock()
	s.CreatedAt = f.now().UTC()
	f.sessions[s.ID] = s
	out, _ := json.Marshal(map[string]any{"browserIdentifier": id, "sessionId": s.ID,
		"createdAt": s.CreatedAt.Format(time.RFC3339Nano), "streams": f.streams(s)})
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (f *FakeBrowser) sessionJSON(s *fakeBrowserSession) map[string]any {
	m := map[string]any{"browserIdentifier": s.BrowserID, "sessionId": s.ID, "name": s.Name,
		"createdAt": s.CreatedAt.Format(time.RFC3339Nano), "lastUpdatedAt": s.CreatedAt.Format(time.RFC3339Nano),
		"sessionTimeoutSeconds": int64(s.Timeout / time.Second), "status": s.Status, "streams": f.streams(s)}
	if s.ViewPortWidth > 0 {
		m["viewPort"] = map[string]any{"width": s.ViewPortWidth, "height": s.ViewPortHeight}
	}
	return m
}

func (f *FakeBrowser) serveGet(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.URL.Query().Get("sessionId")
	f.mu.Lock()
	f.calls["GetBrowserSession"]++
	s, ok := f.sessions[sid]
	var stop func()
	var out []byte
	if ok && s.BrowserID == id {
		stop = f.expire(s)
		out, _ = json.Marshal(f.sessionJSON(s))
	}
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
	if out == nil {
		brNotFound(w, "session %q of browser %s does not exist", sid, id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *FakeBrowser) serveList(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Status string `json:"status"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			brInvalid(w, "request body is not valid JSON: %v", err)
			return
		}
	}
	id := r.PathValue("id")
	f.mu.Lock()
	f.calls["ListBrowserSessions"]++
	var stops []func()
	items := []map[string]any{}
	for _, s := range f.sessions {
		if s.BrowserID != id {
			continue
		}
		if stop := f.expire(s); stop != nil {
			stops = append(stops, stop)
		}
		if req.Status == "" || req.Status == s.Status {
			items = append(items, map[string]any{"browserIdentifier": id, "sessionId": s.ID, "name": s.Name, "status": s.Status,
				"createdAt": s.CreatedAt.Format(time.RFC3339Nano), "lastUpdatedAt": s.CreatedAt.Format(time.RFC3339Nano)})
		}
	}
	out, _ := json.Marshal(map[string]any{"items": items})
	f.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *FakeBrowser) serveStop(w http.ResponseWriter, r *http.Request) {
	if _, ok := readBody(w, r); !ok {
		return
	}
	id, sid := r.PathValue("id"), r.URL.Query().Get("sessionId")
	if sid == "" {
		brInvalid(w, "sessionId is required")
		return
	}
	f.mu.Lock()
	f.calls["StopBrowserSession"]++
	s, ok := f.sessions[sid]
	var stop func()
	if ok && s.BrowserID == id {
		stop = f.terminate(s)
	}
	now := f.now().UTC()
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
	if !ok || s.BrowserID != id {
		brNotFound(w, "session %q of browser %s does not exist", sid, id)
		return
	}
	out, _ := json.Marshal(map[string]any{"browserIdentifier": id, "sessionId": sid, "lastUpdatedAt": now.Format(time.RFC3339Nano)})
	writeJSON(w, http.StatusOK, out)
}

// checkStreamSignature verifies the automation stream's SigV4 headers the
// way the service does: it signs the same GET (https, the request's host
// and path, empty payload, service bedrock-agentcore, region us-east-1)
// with the fake credentials at the request's X-Amz-Date and compares.
func checkStreamSignature(r *http.Request) error {
	auth, date := r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
	if auth == "" || date == "" {
		return fmt.Errorf("the automation stream needs SigV4 headers Authorization and X-Amz-Date")
	}
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return fmt.Errorf("X-Amz-Date %q is not a SigV4 date", date)
	}
	if d := time.Since(at); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("the signature is %s old; sign right before connecting", d.Round(time.Second))
	}
	u := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if token != "" {
		req.Header.Set("X-Amz-Security-Token", token)
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: fakeAccessKey, SecretAccessKey: fakeSecretKey, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyHash, "bedrock-agentcore", "us-east-1", at); err != nil {
		return err
	}
	if req.Header.Get("Authorization") != auth {
		return fmt.Errorf("the signature does not match (sign GET https://%s%s for service bedrock-agentcore in us-east-1 with the headers host and x-amz-date)", r.Host, r.URL.Path)
	}
	return nil
}

func (f *FakeBrowser) serveAutomation(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.PathValue("sid")
	sigErr := checkStreamSignature(r)
	f.mu.Lock()
	f.calls["Automation"]++
	if sigErr != nil {
		f.rejected++
	}
	s, ok := f.sessions[sid]
	var stop func()
	var target *url.URL
	ready := false
	if ok && s.BrowserID == id {
		stop = f.expire(s)
		ready = s.Status == "READY"
		target = s.cdp
		if sigErr == nil && ready && target != nil {
			s.Connections++
		}
	}
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
	switch {
	case sigErr != nil:
		writeFault(w, &Fault{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: "fakebrowser: " + sigErr.Error()})
		return
	case !ok || s.BrowserID != id:
		brNotFound(w, "session %q of browser %s does not exist", sid, id)
		return
	case !ready:
		brNotFound(w, "session %q is TERMINATED", sid)
		return
	case target == nil:
		writeFault(w, &Fault{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Message: "fakebrowser: no browser behind this session: call SetAutomation"})
		return
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &url.URL{Scheme: target.Scheme, Host: target.Host, Path: target.Path}
			pr.Out.Host = target.Host
			for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
				pr.Out.Header.Del(h)
			}
		},
	}
	proxy.ServeHTTP(w, r)
}
