package bedrockkittest_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// upgradeEcho is a stand-in browser: it answers a WebSocket upgrade with
// 101 and echoes the raw bytes that follow.
func upgradeEcho(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Authorization") != "" {
			http.Error(w, "want a bare upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dialStream sends the automation stream's upgrade request, signed with
// creds unless creds is nil, and returns the status line and the
// connection.
func dialStream(t *testing.T, endpoint string, creds *aws.Credentials, at time.Time) (string, net.Conn, *bufio.Reader) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+u.Host+u.Path, nil)
	if creds != nil {
		if err := v4.NewSigner().SignHTTP(context.Background(), *creds, req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "bedrock-agentcore", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	b.WriteString("GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(h); v != "" {
			b.WriteString(h + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	return strings.TrimSpace(status), conn, br
}

func TestFakeBrowserSessionsAndSignedStream(t *testing.T) {
	f := bedrockkittest.NewFakeBrowser(t)
	echo := upgradeEcho(t)
	var stopped atomic.Int32
	f.SetAutomation(func(s bedrockkittest.BrowserSession) (string, func(), error) {
		return "ws" + strings.TrimPrefix(echo.URL, "http") + "/devtools/browser/" + s.ID, func() { stopped.Add(1) }, nil
	})
	c := f.Client()
	ctx := context.Background()

	out, err := c.StartBrowserSession(ctx, &bedrockagentcore.StartBrowserSessionInput{
		BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), Name: aws.String("fees"),
		ViewPort: &types.ViewPort{Width: aws.Int32(1280), Height: aws.Int32(800)},
	})
	if err != nil {
		t.Fatal(err)
	}
	sid := aws.ToString(out.SessionId)
	endpoint := aws.ToString(out.Streams.AutomationStream.StreamEndpoint)
	if !strings.HasSuffix(endpoint, "/browser-streams/aws.browser.v1/sessions/"+sid+"/automation") || out.Streams.AutomationStream.StreamStatus != types.AutomationStreamStatusEnabled {
		t.Fatalf("streams: %q %v", endpoint, out.Streams.AutomationStream.StreamStatus)
	}
	got, err := c.GetBrowserSession(ctx, &bedrockagentcore.GetBrowserSessionInput{BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), SessionId: aws.String(sid)})
	if err != nil || got.Status != types.BrowserSessionStatusReady || aws.ToInt32(got.SessionTimeoutSeconds) != 3600 || aws.ToInt32(got.ViewPort.Width) != 1280 {
		t.Fatalf("get: %+v, %v", got, err)
	}

	// The stream refuses unsigned, wrongly signed and stale connections.
	if status, _, _ := dialStream(t, endpoint, nil, time.Now()); !strings.Contains(status, " 403 ") {
		t.Fatalf("unsigned: %s", status)
	}
	wrong := aws.Credentials{AccessKeyID: "AKIDFAKEAGENTCORE", SecretAccessKey: "another-secret"}
	if status, _, _ := dialStream(t, endpoint, &wrong, time.Now()); !strings.Contains(status, " 403 ") {
		t.Fatalf("wrong key: %s", status)
	}
	right := aws.Credentials{AccessKeyID: "AKIDFAKEAGENTCORE", SecretAccessKey: "fake-secret-key"}
	if status, _, _ := dialStream(t, endpoint, &right, time.Now().Add(-10*time.Minute)); !strings.Contains(status, " 403 ") {
		t.Fatalf("stale: %s", status)
	}
	if f.Rejected() != 3 {
		t.Fatalf("rejected %d", f.Rejected())
	}
	// A signed connection reaches the session's browser, with the
	// credentials stripped.
	status, conn, br := dialStream(t, endpoint, &right, time.Now())
	if !strings.Contains(status, " 101 ") {
		t.Fatalf("signed: %s", status)
	}
	for line, _ := br.ReadString('\n'); strings.TrimSpace(line) != ""; line, _ = br.ReadString('\n') {
	}
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}

	list, err := c.ListBrowserSessions(ctx, &bedrockagentcore.ListBrowserSessionsInput{BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser)})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if _, err := c.StopBrowserSession(ctx, &bedrockagentcore.StopBrowserSessionInput{BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), SessionId: aws.String(sid)}); err != nil {
		t.Fatal(err)
	}
	if stopped.Load() != 1 {
		t.Fatalf("the session's browser was stopped %d times", stopped.Load())
	}
	if status, _, _ := dialStream(t, endpoint, &right, time.Now()); !strings.Contains(status, " 404 ") {
		t.Fatalf("a stopped session's stream: %s", status)
	}
	s := f.Sessions()
	if len(s) != 1 || s[0].Status != "TERMINATED" || s[0].Connections != 1 || s[0].Name != "fees" {
		t.Fatalf("sessions: %+v", s)
	}
}

func TestFakeBrowserValidatesAndExpires(t *testing.T) {
	f := bedrockkittest.NewFakeBrowser(t)
	var stopped atomic.Int32
	f.SetAutomation(func(s bedrockkittest.BrowserSession) (string, func(), error) {
		return "ws://127.0.0.1:1/devtools/browser/x", func() { stopped.Add(1) }, nil
	})
	c := f.Client()
	ctx := context.Background()
	for name, in := range map[string]*bedrockagentcore.StartBrowserSessionInput{
		"name too long":  {BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), Name: aws.String(strings.Repeat("n", 101))},
		"timeout 0":      {BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), SessionTimeoutSeconds: aws.Int32(0)},
		"timeout 8h+1s":  {BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), SessionTimeoutSeconds: aws.Int32(28801)},
		"viewport small": {BrowserIdentifier: aws.String(bedrockkittest.SystemBrowser), ViewPort: &types.ViewPort{Width: aws.Int32(100), Height: aws.Int32(800)}},
	} {
		var ve *types.ValidationException
		if _, err := c.StartBrowserSession(ctx, in); !errors.As(err, &ve) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.StartBrowserSession(ctx, &bedrockagentcore.StartBrowserSessionInput{BrowserIdentifier: aws.String("my-browser")}); !errors.As(err, &nf) {
		t.Fatalf("unknown browser: %v", err)
	}
	f.AddBrowser("my-browser")
	out, err := c.StartBrowserSession(ctx, &bedrockagentcore.StartBrowserSessionInput{BrowserIdentifier: aws.String("my-browser"), SessionTimeoutSeconds: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopBrowserSession(ctx, &bedrockagentcore.StopBrowserSessionInput{BrowserIdentifier: aws.String("my-browser"), SessionId: aws.String("nope")}); !errors.As(err, &nf) {
		t.Fatalf("stop an unknown session: %v", err)
	}
	f.SetNow(func() time.Time { return time.Now().Add(2 * time.Minute) })
	got, err := c.GetBrowserSession(ctx, &bedrockagentcore.GetBrowserSessionInput{BrowserIdentifier: aws.String("my-browser"), SessionId: out.SessionId})
	if err != nil || got.Status != types.BrowserSessionStatusTerminated || stopped.Load() != 1 {
		t.Fatalf("after the timeout: %v, %v, stopped %d", got.Status, err, stopped.Load())
	}
}
