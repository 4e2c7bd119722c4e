package agentcore_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/browser"
	"github.com/bedrockkit/bedrockkit/agent/browser/agentcore"
	"github.com/bedrockkit/bedrockkit/agent/browser/internal/testsite"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// remoteChromium stands in for the browser behind an AgentCore session:
// a Chromium with a DevTools port and no network restriction of its own
// (no proxy), so the allow-list rests on request interception alone.
type remoteChromium struct {
	exe     string
	mu      sync.Mutex
	running map[int]string // pid → profile directory
}

func (rc *remoteChromium) start(s bedrockkittest.BrowserSession) (string, func(), error) {
	dir, err := os.MkdirTemp("", "bka")
	if err != nil {
		return "", nil, err
	}
	args := []string{"--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", "--user-data-dir=" + dir, "about:blank"}
	if os.Getuid() == 0 {
		args = append([]string{"--no-sandbox"}, args...)
	}
	cmd := exec.Command(rc.exe, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	found := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-drained
			_ = cmd.Wait()
			_ = os.RemoveAll(dir)
			rc.mu.Lock()
			delete(rc.running, cmd.Process.Pid)
			rc.mu.Unlock()
		})
	}
	rc.mu.Lock()
	rc.running[cmd.Process.Pid] = dir
	rc.mu.Unlock()
	select {
	case u := <-found:
		return u, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("chromium printed no DevTools address")
	}
}

// fixture is a FakeBrowser whose sessions run in local Chromium.
func fixture(t *testing.T) (*bedrockkittest.FakeBrowser, *remoteChromium) {
	t.Helper()
	rc := &remoteChromium{exe: suite.Chromium(t), running: map[int]string{}}
	fb := bedrockkittest.NewFakeBrowser(t)
	fb.SetAutomation(rc.start)
	return fb, rc
}

func TestAgentCoreBrowserDrivesTheSite(t *testing.T) {
	site := testsite.Start(t)
	fb, rc := fixture(t)
	p := browser.NewPool(agentcore.New(fb.Client(), agentcore.Options{SessionName: "fees"}), browser.Options{
		AllowedOrigins: []string{site.Bank.URL}, MaxSessionTime: 20 * time.Minute, Viewport: browser.Viewport{Width: 1024, Height: 768},
	})
	ctx := context.Background()
	tb, release, err := p.Tab(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if _, err := tb.Open(ctx, site.Bank.URL+"/fees"); err != nil {
		t.Fatal(err)
	}
	c, err := tb.ReadText(ctx)
	if err != nil || !strings.Contains(c.Text, "International wire transfer\t25.00 EUR") {
		t.Fatalf("fees: %v\n%v", err, c)
	}
	sessions := fb.Sessions()
	if len(sessions) != 1 || sessions[0].Name != "fees" || sessions[0].Timeout != 20*time.Minute || sessions[0].ViewPortWidth != 1024 || sessions[0].Connections != 1 {
		t.Fatalf("sessions: %+v", sessions)
	}

	// With no proxy behind it, request interception alone keeps the
	// browser on the allowed origin.
	st, err := tb.Open(ctx, site.Bank.URL+"/news")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(st.Notices, "\n"), "not loaded, because "+site.Evil.URL+" is not an allowed site") {
		t.Errorf("notices: %q", st.Notices)
	}
	if _, err := tb.Open(ctx, site.Bank.URL+"/redirect-out"); err == nil {
		t.Error("the redirect to another origin was followed")
	}
	if _, err := tb.Open(ctx, site.Bank.URL+"/sneaky"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.WaitFor(ctx, "fetch failed", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	tree, err := tb.ReadTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := regexp.MustCompile(`button "Open offers" \[ref=(e\d+)\]`).FindStringSubmatch(tree.Text)
	if ref == nil {
		t.Fatalf("tree:\n%s", tree.Text)
	}
	if _, err := tb.Click(ctx, ref[1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if hits := site.EvilHits(); len(hits) != 0 {
		t.Fatalf("requests reached the evil origin: %v", hits)
	}

	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := fb.Sessions(); s[0].Status != "TERMINATED" || fb.Calls("StopBrowserSession") != 1 {
		t.Fatalf("after Close: %+v, %d stops", s, fb.Calls("StopBrowserSession"))
	}
	rc.mu.Lock()
	left := len(rc.running)
	rc.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d session browsers still running", left)
	}
}

// Every way a session ends stops the AgentCore session.
func TestAgentCoreBrowserSessionsAreStopped(t *testing.T) {
	site := testsite.Start(t)
	fb, _ := fixture(t)
	opts := browser.Options{AllowedOrigins: []string{site.Bank.URL}}
	ctx := context.Background()

	t.Run("context of OpenTab ends", func(t *testing.T) {
		before := fb.Calls("StopBrowserSession")
		cctx, cancel := context.WithCancel(ctx)
		tb, err := browser.OpenTab(cctx, agentcore.New(fb.Client(), agentcore.Options{}), opts)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		for deadline := time.Now().Add(10 * time.Second); !tb.Closed() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		_ = tb.Close(ctx)
		if fb.Calls("StopBrowserSession") != before+1 {
			t.Fatal("the session was not stopped")
		}
	})

	t.Run("a wrong signature", func(t *testing.T) {
		before := fb.Calls("StopBrowserSession")
		b := agentcore.New(fb.Client(), agentcore.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKEAGENTCORE", "wrong", "")})
		if _, err := browser.OpenTab(ctx, b, opts); err == nil {
			t.Fatal("connected with a wrong signature")
		}
		if fb.Rejected() == 0 || fb.Calls("StopBrowserSession") != before+1 {
			t.Fatalf("rejected %d, stops %d", fb.Rejected(), fb.Calls("StopBrowserSession")-before)
		}
	})

	t.Run("the service refuses", func(t *testing.T) {
		b := agentcore.New(fb.Client(), agentcore.Options{Identifier: "no-such-browser"})
		if _, err := browser.OpenTab(ctx, b, opts); !errors.Is(err, bedrockkit.ErrNotFound) {
			t.Fatalf("unknown browser: %v", err)
		}
		b = agentcore.New(fb.Client(), agentcore.Options{SessionName: strings.Repeat("x", 101)})
		if _, err := browser.OpenTab(ctx, b, opts); !errors.Is(err, bedrockkit.ErrValidation) {
			t.Fatalf("invalid name: %v", err)
		}
	})

	t.Run("no region or credentials", func(t *testing.T) {
		b := agentcore.New(clientOnly{fb.Client()}, agentcore.Options{})
		if _, err := browser.OpenTab(ctx, b, opts); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Fatalf("unsigned: %v", err)
		}
	})

	for _, s := range fb.Sessions() {
		if s.Status != "TERMINATED" {
			t.Fatalf("session %s is %s", s.ID, s.Status)
		}
	}
}

// clientOnly hides the concrete client, so New cannot read its region.
type clientOnly struct{ agentcore.Client }

func TestSignStream(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	h, err := agentcore.SignStream(context.Background(), "wss://bedrock-agentcore.eu-west-1.amazonaws.com/browser-streams/aws.browser.v1/sessions/abc/automation", "eu-west-1", creds, at)
	if err != nil {
		t.Fatal(err)
	}
	auth := h.Get("Authorization")
	if h.Get("X-Amz-Date") != "20261201T100000Z" || h.Get("X-Amz-Security-Token") != "session-token" ||
		!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-west-1/bedrock-agentcore/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=") {
		t.Fatalf("headers: %v", h)
	}
	h2, _ := agentcore.SignStream(context.Background(), "wss://bedrock-agentcore.eu-west-1.amazonaws.com/browser-streams/aws.browser.v1/sessions/abd/automation", "eu-west-1", creds, at)
	if h2.Get("Authorization") == auth {
		t.Fatal("the signature does not cover the path")
	}
	for _, bad := range []string{"ftp://x/y", "://", "wss://"} {
		if _, err := agentcore.SignStream(context.Background(), bad, "eu-west-1", creds, at); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
