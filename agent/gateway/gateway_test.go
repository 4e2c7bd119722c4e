package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/credentials"
	"github.com/bedrockkit/bedrockkit/agent/gateway"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/lambdatools"
	"github.com/bedrockkit/bedrockkit/agent/mcptools"
	"github.com/bedrockkit/bedrockkit/agent/openapitools"
	"github.com/bedrockkit/bedrockkit/agent/policy"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// testAuthorizer admits two bearer tokens: a teller and a customer.
var testAuthorizer = identity.AuthorizerFunc(func(r *http.Request) (*identity.Caller, error) {
	tok, err := identity.BearerToken(r)
	if err != nil {
		return nil, err
	}
	switch tok {
	case "teller-token":
		return &identity.Caller{Issuer: "https://idp", Subject: "t-1", Claims: map[string]any{"role": "teller"}}, nil
	case "customer-token":
		return &identity.Caller{Issuer: "https://idp", Subject: "c-1", Claims: map[string]any{"role": "customer", "customer_id": "C-1"}}, nil
	}
	return nil, &identity.AuthError{Reason: identity.ReasonSignature, Err: identity.ErrUnauthenticated}
})

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func connect(t *testing.T, url, token string) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	return c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}}, nil)
}

type lookupIn struct {
	AccountID string `json:"account_id"`
}

const accountsAPI = `{"openapi":"3.0.0","info":{"title":"core","version":"1"},"paths":{"/accounts/{account_id}/history":{"get":{"operationId":"history",
"parameters":[{"name":"account_id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}}}}}}`

// allTools builds one target of each kind: Go functions, OpenAPI, a
// Lambda action group and tools imported from another MCP server.
func allTools(t *testing.T, seenAuth *string, mu *sync.Mutex) []gateway.Target {
	t.Helper()
	goTool := agent.MustNewFuncTool("get_account", "Look up an account", func(ctx context.Context, in lookupIn) (string, error) {
		return "account " + in.AccountID + ": 100 EUR", nil
	})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*seenAuth = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(api.Close)
	doc, err := openapitools.Parse([]byte(accountsAPI))
	if err != nil {
		t.Fatal(err)
	}
	// The caller's own token is passed through to the core system.
	apiTools, _, err := doc.Tools(openapitools.Options{BaseURL: api.URL, Auth: credentials.CallerToken{}})
	if err != nil {
		t.Fatal(err)
	}
	fake := bedrockkittest.NewFakeLambda(t)
	fake.AddFunction("rates", func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev lambdatools.Event
		_ = json.Unmarshal(payload, &ev)
		return json.Marshal(lambdatools.Response{MessageVersion: "1.0", Response: lambdatools.ResponseDetail{ActionGroup: ev.ActionGroup, Function: ev.Function,
			FunctionResponse: &lambdatools.FunctionResponse{ResponseBody: map[string]lambdatools.ResponseText{"TEXT": {Body: "EUR/USD 1.08"}}}}})
	})
	lambdaTools, err := lambdatools.FunctionTools(fake.Client(), lambdatools.Options{FunctionName: "rates", ActionGroup: "Rates"}, lambdatools.Function{Name: "fx_rate"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := mcp.NewServer(&mcp.Implementation{Name: "upstream", Version: "1"}, nil)
	mcp.AddTool(upstream, &mcp.Tool{Name: "echo", Description: "Echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in struct {
		Text string `json:"text"`
	}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := upstream.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "gw", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	mcpTools, err := mcptools.Tools(context.Background(), cs, mcptools.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return []gateway.Target{
		{Name: "bank", Tools: []*agent.Tool{goTool}},
		{Name: "core", Tools: apiTools},
		{Name: "rates", Tools: lambdaTools},
		{Name: "upstream", Tools: mcpTools},
	}
}

const gatewayPolicies = `
@id("tellers") permit(principal, action, resource) when { principal.hasTag("role") && principal.getTag("role") == "teller" };
@id("customers-read-rates") permit(principal, action in AgentCore::Action::"rates", resource) when { principal.hasTag("role") && principal.getTag("role") == "customer" };
@id("customers-own-account") permit(principal, action == AgentCore::Action::"bank___get_account", resource)
  when { principal.hasTag("customer_id") && context.input.account_id == principal.getTag("customer_id") };
`

func callText(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestGatewayServesAllKindsBehindPolicy(t *testing.T) {
	var mu sync.Mutex
	var seenAuth string
	engine, err := policy.New([]byte(gatewayPolicies), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var events []agent.RunEvent
	g, err := gateway.New(gateway.Options{Authorizer: engine, OnEvent: func(e agent.RunEvent) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}}, allTools(t, &seenAuth, &mu)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(testAuthorizer, identity.RequireOptions{}))
	defer srv.Close()

	want := []string{"bank___get_account", "core___history", "rates___fx_rate", "upstream___echo"}
	if got := g.Tools(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tools %v", got)
	}
	teller, err := connect(t, srv.URL, "teller-token")
	if err != nil {
		t.Fatal(err)
	}
	defer teller.Close()
	list, err := teller.ListTools(context.Background(), nil)
	if err != nil || len(list.Tools) != 4 {
		t.Fatalf("list: %v %v", err, list)
	}
	for name, args := range map[string]map[string]any{
		"bank___get_account": {"account_id": "A-9"},
		"core___history":     {"account_id": "A-9"},
		"rates___fx_rate":    {},
		"upstream___echo":    {"text": "hi"},
	} {
		out, isErr := callText(t, teller, name, args)
		if isErr {
			t.Fatalf("teller %s: %s", name, out)
		}
	}
	mu.Lock()
	if seenAuth != "Bearer teller-token" {
		t.Fatalf("the caller's token was not passed through: %q", seenAuth)
	}
	mu.Unlock()

	customer, err := connect(t, srv.URL, "customer-token")
	if err != nil {
		t.Fatal(err)
	}
	defer customer.Close()
	if out, isErr := callText(t, customer, "bank___get_account", map[string]any{"account_id": "C-1"}); isErr {
		t.Fatalf("own account: %s", out)
	}
	if out, isErr := callText(t, customer, "bank___get_account", map[string]any{"account_id": "A-9"}); !isErr || !strings.Contains(out, "denied by policy") {
		t.Fatalf("another's account: %v %s", isErr, out)
	}
	if out, isErr := callText(t, customer, "rates___fx_rate", nil); isErr || out != "EUR/USD 1.08" {
		t.Fatalf("rates: %s", out)
	}
	if out, isErr := callText(t, customer, "upstream___echo", map[string]any{"text": "x"}); !isErr {
		t.Fatalf("upstream for a customer: %s", out)
	}
	if out, isErr := callText(t, customer, "bank___get_account", map[string]any{"account_id": 5}); !isErr || !strings.Contains(out, "invalid call") {
		t.Fatalf("invalid arguments: %s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	denied := 0
	for _, e := range events {
		if d, ok := e.(agent.ToolAuthorized); ok && !d.Decision.Allowed {
			denied++
		}
	}
	if denied != 2 {
		t.Fatalf("want 2 denials in the events, got %d", denied)
	}
}

func TestGatewayAuthentication(t *testing.T) {
	g, err := gateway.New(gateway.Options{}, gateway.Target{Tools: []*agent.Tool{agent.MustNewFuncTool("ping", "p", func(ctx context.Context, in struct{}) (string, error) { return "pong", nil })}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(testAuthorizer, identity.RequireOptions{}))
	defer srv.Close()
	if _, err := connect(t, srv.URL, "wrong"); err == nil {
		t.Fatal("a bad token connected")
	}
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// An oversized body is refused without taking the server down.
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"`+strings.Repeat("a", 5<<20)+`"}}`))
	req.Header.Set("Authorization", "Bearer teller-token")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("oversized request: %d", resp.StatusCode)
		}
	}
	// A nil authorizer refuses everything.
	closed := httptest.NewServer(g.Handler(nil, identity.RequireOptions{}))
	defer closed.Close()
	if _, err := connect(t, closed.URL, "teller-token"); err == nil {
		t.Fatal("a nil authorizer admitted a caller")
	}
	// Anonymous serving is a deliberate choice.
	open := httptest.NewServer(g.Handler(identity.Anonymous(), identity.RequireOptions{}))
	defer open.Close()
	cs, err := connect(t, open.URL, "anything")
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if out, isErr := callText(t, cs, "ping", nil); isErr || out != "pong" {
		t.Fatalf("anonymous ping: %s", out)
	}
}

// TestSessionBoundToCaller: another caller cannot use a session's ID.
func TestSessionBoundToCaller(t *testing.T) {
	g, err := gateway.New(gateway.Options{}, gateway.Target{Tools: []*agent.Tool{agent.MustNewFuncTool("ping", "p", func(ctx context.Context, in struct{}) (string, error) { return "pong", nil })}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(testAuthorizer, identity.RequireOptions{}))
	defer srv.Close()
	defer g.Close()
	post := func(token, session, body string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := post("teller-token", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d %q", resp.StatusCode, sid)
	}
	if r := post("customer-token", sid, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another caller used the session: %d", r.StatusCode)
	}
}

// TestGatewayFailsClosed: an authorizer that errors runs nothing and the
// event carries the error.
func TestGatewayFailsClosed(t *testing.T) {
	ran := false
	ping := agent.MustNewFuncTool("ping", "p", func(ctx context.Context, in struct{}) (string, error) { ran = true; return "pong", nil })
	var mu sync.Mutex
	var failed []agent.ToolAuthorized
	g, err := gateway.New(gateway.Options{
		Authorizer: agent.ToolAuthorizerFunc(func(context.Context, agent.ToolCallRequest) (agent.ToolDecision, error) {
			return agent.ToolDecision{Allowed: true}, errors.New("policy store unreachable")
		}),
		OnEvent: func(e agent.RunEvent) {
			if d, ok := e.(agent.ToolAuthorized); ok && d.Err != nil {
				mu.Lock()
				failed = append(failed, d)
				mu.Unlock()
			}
		},
	}, gateway.Target{Tools: []*agent.Tool{ping}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(testAuthorizer, identity.RequireOptions{}))
	defer srv.Close()
	cs, err := connect(t, srv.URL, "teller-token")
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	out, isErr := callText(t, cs, "ping", nil)
	mu.Lock()
	defer mu.Unlock()
	if !isErr || ran || len(failed) != 1 || !strings.Contains(out, "could not be authorized") || strings.Contains(out, "unreachable") {
		t.Fatalf("isErr=%v ran=%v failed=%d out=%q", isErr, ran, len(failed), out)
	}
}

func TestNewErrors(t *testing.T) {
	ping := agent.MustNewFuncTool("ping", "p", func(ctx context.Context, in struct{}) (string, error) { return "pong", nil })
	if _, err := gateway.New(gateway.Options{}, gateway.Target{Tools: []*agent.Tool{ping}}, gateway.Target{Tools: []*agent.Tool{ping}}); err == nil {
		t.Fatal("duplicate names accepted")
	}
	if _, err := gateway.New(gateway.Options{}, gateway.Target{Tools: []*agent.Tool{nil}}); err == nil {
		t.Fatal("nil tool accepted")
	}
	if _, err := gateway.New(gateway.Options{}, gateway.Target{Tools: []*agent.Tool{{}}}); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("tool no constructor built: %v", err)
	}
}
