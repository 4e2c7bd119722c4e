package serve_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// funcModel is a Model answering with a function; Stream yields the
// answer in small text chunks.
type funcModel func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error)

func (f funcModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	return f(ctx, req)
}

func (f funcModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		resp, err := f(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range bedrockkittest.ResponseEvents(resp, 4) {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// userTexts returns the user's text messages of a request (not tool results).
func userTexts(req *bedrockkit.Request) []string {
	var out []string
	for _, m := range req.Messages {
		if m.Role == bedrockkit.RoleUser && len(m.ToolCalls()) == 0 && m.Text() != "" {
			if _, isResult := m.Parts[0].(bedrockkit.ToolResult); !isResult {
				out = append(out, m.Text())
			}
		}
	}
	return out
}

// echo answers "turn N: <last input>", N counting the user's messages in
// the conversation, so lost or duplicated history shows in the answer.
func echo() funcModel {
	return func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		us := userTexts(req)
		last := ""
		if len(us) > 0 {
			last = us[len(us)-1]
		}
		return &bedrockkit.Response{Message: bedrockkit.AssistantText(fmt.Sprintf("turn %d: %s", len(us), last)),
			StopReason: bedrockkit.StopEndTurn, Usage: bedrockkit.Usage{InputTokens: 10, OutputTokens: 5}}, nil
	}
}

// gate is a model that blocks each call until released, reporting when a
// call has started.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan struct{}, 16), release: make(chan struct{})} }

func (g *gate) model() funcModel {
	e := echo()
	return func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		g.started <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return e(ctx, req)
	}
}

func (g *gate) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the model was not called")
	}
}

// newAgent returns an agent over m with in-memory sessions.
func newAgent(m bedrockkit.Model, tools ...*agent.Tool) *agent.Agent {
	return &agent.Agent{Name: "bank", Model: m, Memory: agent.NewInMemory(), Tools: tools, Instructions: "Help the customer."}
}

// start serves a over httptest with opts (Anonymous when no Authorizer).
func start(t *testing.T, a *agent.Agent, opts serve.Options) (*serve.Handler, *httptest.Server, *serve.Client) {
	t.Helper()
	if opts.Authorizer == nil {
		opts.Authorizer = identity.Anonymous()
	}
	h, err := serve.New(a, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := serve.NewClient(srv.URL, serve.ClientOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return h, srv, c
}

// sid returns a valid session ID (33+ characters) named after s.
func sid(s string) string {
	id := "sess-" + s
	if len(id) < serve.MinSessionIDLen {
		id += strings.Repeat("-", serve.MinSessionIDLen-len(id))
	}
	return id
}

// post sends a raw invocation.
func post(t *testing.T, srv *httptest.Server, session, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+"/invocations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.Header.Set(serve.SessionHeader, session)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func anonymous() identity.Authorizer { return identity.Anonymous() }

func newHTTPTest(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
