package serve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
)

// issuer signs tokens for a static key set.
type issuer struct {
	key  *ecdsa.PrivateKey
	jwks []byte
}

func newIssuer(t *testing.T) *issuer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Use: "sig"}}})
	return &issuer{key: k, jwks: jwks}
}

func (i *issuer) token(t *testing.T, sub string) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: i.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(jwt.Claims{Issuer: "https://idp.test", Subject: sub, Audience: jwt.Audience{"bank"},
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (i *issuer) authorizer(t *testing.T) identity.Authorizer {
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: "https://idp.test", StaticJWKS: i.jwks, AllowedAudiences: []string{"bank"}})
	if err != nil {
		t.Fatal(err)
	}
	return az
}

func TestAuthenticatedCallers(t *testing.T) {
	iss := newIssuer(t)
	a, _ := hitlAgent()
	var toolCaller *identity.Caller
	a.Tools = append(a.Tools, agent.MustNewFuncTool("whoami", "Who is calling.", func(ctx context.Context, _ struct{}) (string, error) {
		toolCaller, _ = identity.CallerFrom(ctx)
		return "ok", nil
	}))
	_, srv, _ := start(t, a, serve.Options{Authorizer: iss.authorizer(t),
		Challenge: identity.RequireOptions{ResourceMetadata: "https://svc.test/.well-known/oauth-protected-resource"}})

	resp := post(t, srv, sid("auth"), `{"prompt":"hi"}`, nil)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `Bearer resource_metadata="https://svc.test/`) {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if b := decode[errBody](t, resp.Body); b.ErrorType != "UnauthorizedException" {
		t.Fatalf("body %+v", b)
	}
	resp = post(t, srv, sid("auth"), `{"prompt":"hi"}`, map[string]string{"Authorization": "Bearer " + iss.token(t, "ana")[:40]})
	if resp.StatusCode != 401 {
		t.Fatalf("broken token: %d", resp.StatusCode)
	}
	// Ping needs no token (AgentCore's health checks carry none).
	if r, err := srv.Client().Get(srv.URL + "/ping"); err != nil || r.StatusCode != 200 {
		t.Fatalf("ping: %v", err)
	} else {
		r.Body.Close()
	}

	client := func(sub string) *serve.Client {
		tok := iss.token(t, sub)
		c, err := serve.NewClient(srv.URL, serve.ClientOptions{HTTPClient: srv.Client(),
			Token: func(context.Context) (string, error) { return tok, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ana, ben := client("ana"), client("ben")
	ctx := context.Background()
	s := sid("shared-name") // both callers use the same session ID
	out, err := ana.Invoke(ctx, s, serve.InvocationRequest{Prompt: "Send Bob 20 euros"})
	if err != nil || out.Status != serve.StatusPaused {
		t.Fatalf("ana: %+v %v", out, err)
	}
	// Ben cannot see or resume Ana's pause, though he names the same session.
	_, err = ben.Resume(ctx, s, out.Pending.ID, agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1"}))
	if !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("ben resuming ana's pause: %v", err)
	}
	if _, err := ana.Resume(ctx, s, out.Pending.ID, agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1"})); err != nil {
		t.Fatalf("ana resuming: %v", err)
	}

	// The verified caller reaches tools through the context.
	a2 := newAgent(funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		if len(req.Messages) == 1 {
			return &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.ToolCall{ID: "w", Name: "whoami", Input: json.RawMessage(`{}`)}}}, StopReason: bedrockkit.StopToolUse}, nil
		}
		return &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn}, nil
	}), a.Tools[len(a.Tools)-1])
	_, srv2, _ := start(t, a2, serve.Options{Authorizer: iss.authorizer(t)})
	c2, _ := serve.NewClient(srv2.URL, serve.ClientOptions{HTTPClient: srv2.Client(), Token: func(context.Context) (string, error) { return iss.token(t, "carla"), nil }})
	if _, err := c2.Invoke(ctx, sid("who"), serve.InvocationRequest{Prompt: "who am I"}); err != nil {
		t.Fatal(err)
	}
	if toolCaller == nil || toolCaller.Subject != "carla" || toolCaller.Issuer != "https://idp.test" {
		t.Fatalf("tool saw caller %+v", toolCaller)
	}
}

func TestTraceContinuesCallerTrace(t *testing.T) {
	for _, record := range []bool{false, true} {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		_, srv, _ := start(t, newAgent(echo()), serve.Options{TracerProvider: tp, RecordContent: record})
		// The caller's span context, sent as W3C traceparent.
		callerTP := sdktrace.NewTracerProvider()
		ctx, callerSpan := callerTP.Tracer("caller").Start(context.Background(), "client")
		hdr := map[string]string{}
		propagation.TraceContext{}.Inject(ctx, propagation.MapCarrier(hdr))
		callerSpan.End()
		s := sid("trace")
		resp := post(t, srv, s, `{"prompt":"secret prompt"}`, hdr)
		if resp.StatusCode != 200 {
			t.Fatal(resp.StatusCode)
		}
		decode[serve.InvocationResponse](t, resp.Body)
		srv.Close() // the span ends after the reply is written
		spans := rec.Ended()
		var server, invoke sdktrace.ReadOnlySpan
		for _, sp := range spans {
			switch {
			case sp.Name() == "POST /invocations":
				server = sp
			case strings.HasPrefix(sp.Name(), "invoke_agent"):
				invoke = sp
			}
		}
		if server == nil || invoke == nil {
			t.Fatalf("spans %v", names(spans))
		}
		if server.SpanKind() != trace.SpanKindServer || server.Parent().SpanID() != callerSpan.SpanContext().SpanID() ||
			server.SpanContext().TraceID() != callerSpan.SpanContext().TraceID() {
			t.Fatal("the invocation span does not continue the caller's trace")
		}
		if invoke.Parent().SpanID() != server.SpanContext().SpanID() {
			t.Fatal("the agent span is not under the invocation span")
		}
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range server.Attributes() {
			attrs[kv.Key] = kv.Value
		}
		if attrs["session.id"].AsString() != s || attrs["gen_ai.conversation.id"].AsString() != s || attrs["http.response.status_code"].AsInt64() != 200 {
			t.Fatalf("attributes %v", attrs)
		}
		_, hasIn := attrs["gen_ai.input.messages"]
		_, hasOut := attrs["gen_ai.output.messages"]
		if hasIn != record || hasOut != record {
			t.Fatalf("RecordContent=%v but input recorded %v, output %v", record, hasIn, hasOut)
		}
		if record && !strings.Contains(attrs["gen_ai.input.messages"].AsString(), "secret prompt") {
			t.Fatal("prompt not recorded")
		}
		_ = tp.Shutdown(context.Background())
		_ = callerTP.Shutdown(context.Background())
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// TestGracefulShutdown: a running invocation finishes after shutdown
// begins; new invocations are refused; Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	g := newGate()
	h, err := serve.New(newAgent(g.model()), serve.Options{Authorizer: identity.Anonymous()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve.Serve(ctx, ln, h, serve.ServerOptions{Signals: []os.Signal{}}) }()
	url := "http://" + ln.Addr().String()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, _ := serve.NewClient(url, serve.ClientOptions{HTTPClient: &http.Client{Transport: tr}})
	inflight := make(chan *serve.InvocationResponse, 1)
	go func() {
		out, err := c.Invoke(context.Background(), sid("drain"), serve.InvocationRequest{Prompt: "long job"})
		if err != nil {
			t.Error(err)
		}
		inflight <- out
	}()
	g.waitStarted(t)
	stop() // as SIGTERM would
	// New invocations are refused while the running one drains.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Invoke(context.Background(), sid("late"), serve.InvocationRequest{Prompt: "x"})
		var se *serve.Error
		if errors.As(err, &se) && se.StatusCode == 503 && errors.Is(err, bedrockkit.ErrServiceUnavailable) {
			break
		}
		if err != nil && !errors.As(err, &se) {
			break // the listener is already closed: refused too
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new invocation during shutdown was not refused: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(g.release)
	if out := <-inflight; out == nil || out.Output != "turn 1: long job" {
		t.Fatalf("the running invocation did not finish: %+v", out)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
