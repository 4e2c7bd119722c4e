package a2aserve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/identity"
	"github.com/bedrockkit/bedrockkit/agent/serve/a2aserve"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

func userInputs(req *bedrockkit.Request) []string {
	var out []string
	for _, m := range req.Messages {
		if m.Role == bedrockkit.RoleUser {
			if _, isResult := m.Parts[0].(bedrockkit.ToolResult); !isResult {
				out = append(out, m.Text())
			}
		}
	}
	return out
}

// echo answers "turn N: <input>"; an input holding "transfer" first calls
// the confirmation tool.
func echo() funcModel {
	return func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		in := userInputs(req)
		last := req.Messages[len(req.Messages)-1]
		if r, ok := last.Parts[0].(bedrockkit.ToolResult); ok {
			return &bedrockkit.Response{Message: bedrockkit.AssistantText("tool said " + bedrockkit.Message{Parts: r.Parts}.Text()), StopReason: bedrockkit.StopEndTurn}, nil
		}
		if strings.Contains(in[len(in)-1], "transfer") {
			return &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: json.RawMessage(`{"to":"bob"}`)}}}, StopReason: bedrockkit.StopToolUse}, nil
		}
		return &bedrockkit.Response{Message: bedrockkit.AssistantText(fmt.Sprintf("turn %d: %s", len(in), in[len(in)-1])), StopReason: bedrockkit.StopEndTurn}, nil
	}
}

type transferIn struct {
	To string `json:"to"`
}

func bankAgent() *agent.Agent {
	transfer := agent.MustNewFuncTool("transfer", "Move money.", func(ctx context.Context, in transferIn) (string, error) {
		return "sent to " + in.To, nil
	}, agent.ToolOptions{RequireConfirmation: true})
	return &agent.Agent{Name: "bank", Model: echo(), Memory: agent.NewInMemory(), Tools: []*agent.Tool{transfer}}
}

func serveA2A(t *testing.T, a *agent.Agent, opts a2aserve.Options) (*httptest.Server, *http.Client) {
	t.Helper()
	if opts.Authorizer == nil {
		opts.Authorizer = identity.Anonymous()
	}
	srv := httptest.NewUnstartedServer(nil)
	opts.URL = "http://" + srv.Listener.Addr().String() + "/" // the card names the real endpoint
	h, err := a2aserve.New(a, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr, Timeout: time.Minute}
}

func remote(t *testing.T, url string, hc *http.Client, opts a2aserve.RemoteOptions) *a2aserve.RemoteAgent {
	t.Helper()
	opts.HTTPClient = hc
	r, err := a2aserve.NewRemoteAgent(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestCardAndSend(t *testing.T) {
	srv, hc := serveA2A(t, bankAgent(), a2aserve.Options{Description: "Harborview's bank assistant."})
	resp, err := hc.Get(srv.URL + "/.well-known/agent-card.json")
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	json.NewDecoder(resp.Body).Decode(&card)
	resp.Body.Close()
	if card["name"] != "bank" || card["protocolVersion"] != a2aserve.ProtocolVersion || card["preferredTransport"] != "JSONRPC" ||
		card["capabilities"].(map[string]any)["streaming"] != true {
		t.Fatalf("card %v", card)
	}
	r := remote(t, srv.URL, hc, a2aserve.RemoteOptions{})
	if r.Card.Description != "Harborview's bank assistant." {
		t.Fatalf("card %+v", r.Card)
	}
	c, err := a2aclient.NewFromEndpoints(context.Background(), []a2a.AgentInterface{{URL: srv.URL, Transport: a2a.TransportProtocolJSONRPC}},
		a2aclient.WithDefaultsDisabled(), a2aclient.WithJSONRPCTransport(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	ctx := context.Background()
	send := func(contextID, text string) *a2a.Task {
		msg := a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: text})
		msg.ContextID = contextID
		res, err := c.SendMessage(ctx, &a2a.MessageSendParams{Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		task, ok := res.(*a2a.Task)
		if !ok {
			t.Fatalf("result %T", res)
		}
		return task
	}
	task := send("conv-1", "hello")
	if task.Status.State != a2a.TaskStateCompleted || len(task.Artifacts) != 1 || text(task.Artifacts[0].Parts) != "turn 1: hello" {
		t.Fatalf("task %+v", task)
	}
	if task := send("conv-1", "again"); text(task.Artifacts[0].Parts) != "turn 2: again" {
		t.Fatalf("the context's history was lost: %q", text(task.Artifacts[0].Parts))
	}
	if task := send("conv-2", "fresh"); text(task.Artifacts[0].Parts) != "turn 1: fresh" {
		t.Fatalf("contexts share history: %q", text(task.Artifacts[0].Parts))
	}

	// Streaming: the task, working, the answer in chunks, completed.
	msg := a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "stream a longer answer"})
	msg.ContextID = "conv-3"
	var kinds []string
	var chunks []string
	for ev, err := range c.SendStreamingMessage(ctx, &a2a.MessageSendParams{Message: msg}) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev := ev.(type) {
		case *a2a.Task:
			kinds = append(kinds, "task")
		case *a2a.TaskStatusUpdateEvent:
			kinds = append(kinds, string(ev.Status.State))
		case *a2a.TaskArtifactUpdateEvent:
			kinds = append(kinds, "artifact")
			chunks = append(chunks, text(ev.Artifact.Parts))
		}
	}
	if len(kinds) < 5 || kinds[0] != "task" || kinds[1] != "working" || kinds[len(kinds)-1] != "completed" || len(chunks) < 2 ||
		strings.Join(chunks, "") != "turn 1: stream a longer answer" {
		t.Fatalf("stream %v chunks %q", kinds, chunks)
	}
}

func text(ps a2a.ContentParts) string {
	var b strings.Builder
	for _, p := range ps {
		if t, ok := p.(a2a.TextPart); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func TestPauseAndResumeOverA2A(t *testing.T) {
	srv, hc := serveA2A(t, bankAgent(), a2aserve.Options{})
	c, err := a2aclient.NewFromEndpoints(context.Background(), []a2a.AgentInterface{{URL: srv.URL, Transport: a2a.TransportProtocolJSONRPC}},
		a2aclient.WithDefaultsDisabled(), a2aclient.WithJSONRPCTransport(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	ctx := context.Background()
	msg := a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "please transfer to bob"})
	msg.ContextID = "pay-1"
	res, err := c.SendMessage(ctx, &a2a.MessageSendParams{Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	task := res.(*a2a.Task)
	if task.Status.State != a2a.TaskStateInputRequired || task.Status.Message == nil {
		t.Fatalf("task %+v", task.Status)
	}
	var pending map[string]any
	for _, p := range task.Status.Message.Parts {
		if d, ok := p.(a2a.DataPart); ok {
			pending = d.Data
		}
	}
	calls, _ := pending["calls"].([]any)
	if pending["pending_id"] == "" || len(calls) != 1 || calls[0].(map[string]any)["name"] != "transfer" {
		t.Fatalf("pending %v", pending)
	}
	answer := a2a.NewMessageForTask(a2a.MessageRoleUser, task, a2a.DataPart{Data: map[string]any{
		"pending_id": pending["pending_id"], "decisions": []any{map[string]any{"call_id": "t1", "approved": true}}}})
	res, err = c.SendMessage(ctx, &a2a.MessageSendParams{Message: answer})
	if err != nil {
		t.Fatal(err)
	}
	task = res.(*a2a.Task)
	if task.Status.State != a2a.TaskStateCompleted || text(task.Artifacts[len(task.Artifacts)-1].Parts) != "tool said sent to bob" {
		t.Fatalf("resumed task %+v", task)
	}
}

func TestA2AAuth(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Use: "sig"}}})
	az, err := identity.NewJWTAuthorizer(identity.JWTOptions{Issuer: "https://idp", StaticJWKS: jwks, AllowedAudiences: []string{"bank"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, hc := serveA2A(t, bankAgent(), a2aserve.Options{Authorizer: az})
	resp, err := hc.Post(srv.URL+"/", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"message/send","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	tok, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://idp", Subject: "teller-7", Audience: jwt.Audience{"bank"},
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
	// The card is public; messages need the token.
	r := remote(t, srv.URL, hc, a2aserve.RemoteOptions{Token: func(context.Context) (string, error) { return tok, nil }})
	out, err := r.Send(context.Background(), "auth-1", "hi")
	if err != nil || out != "turn 1: hi" {
		t.Fatalf("with token: %q %v", out, err)
	}
	unauth := remote(t, srv.URL, hc, a2aserve.RemoteOptions{})
	if _, err := unauth.Send(context.Background(), "auth-2", "hi"); err == nil {
		t.Fatal("a message without a token was accepted")
	}
}

// TestRemoteAgentAsTool: a supervisor agent calls the served agent as a
// tool over A2A; each of its conversations is its own remote context.
func TestRemoteAgentAsTool(t *testing.T) {
	srv, hc := serveA2A(t, bankAgent(), a2aserve.Options{})
	r := remote(t, srv.URL, hc, a2aserve.RemoteOptions{})
	expert, err := r.Tool("bank_expert", "")
	if err != nil {
		t.Fatal(err)
	}
	sup := &agent.Agent{Name: "supervisor", Memory: agent.NewInMemory(), Tools: []*agent.Tool{expert},
		Model: funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
			last := req.Messages[len(req.Messages)-1]
			if res, ok := last.Parts[0].(bedrockkit.ToolResult); ok {
				return &bedrockkit.Response{Message: bedrockkit.AssistantText("the bank says: " + bedrockkit.Message{Parts: res.Parts}.Text()), StopReason: bedrockkit.StopEndTurn}, nil
			}
			in, _ := json.Marshal(map[string]string{"request": last.Text()})
			return &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.ToolCall{ID: "c" + fmt.Sprint(len(req.Messages)), Name: "bank_expert", Input: in}}}, StopReason: bedrockkit.StopToolUse}, nil
		})}
	ctx := context.Background()
	res, err := sup.Run(ctx, "s1", "balance?")
	if err != nil || res.Output != "the bank says: turn 1: balance?" {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = sup.Run(ctx, "s1", "and fees?")
	if err != nil || res.Output != "the bank says: turn 2: and fees?" {
		t.Fatalf("second call in the same session: %+v %v", res, err)
	}
	res, err = sup.Run(ctx, "s2", "hello")
	if err != nil || res.Output != "the bank says: turn 1: hello" {
		t.Fatalf("another session: %+v %v", res, err)
	}
	// A remote pause cannot be answered from inside a tool call: the tool
	// reports it as an error to the supervisor's model.
	res, err = sup.Run(ctx, "s3", "transfer to bob")
	if err != nil || !strings.Contains(res.Output, "input-required") {
		t.Fatalf("remote pause: %+v %v", res, err)
	}
}

func TestGuardrailHoldsBackStreamedText(t *testing.T) {
	a := bankAgent()
	a.Model = funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		return &bedrockkit.Response{Message: bedrockkit.AssistantText("your account is HV-1234-5678-90, ok"), StopReason: bedrockkit.StopEndTurn}, nil
	})
	a.Guardrail = agent.GuardFunc(func(ctx context.Context, stage agent.Stage, s string) (agent.Intervention, error) {
		if stage == agent.StageOutput && strings.Contains(s, "HV-1234") {
			return agent.Intervention{Text: strings.ReplaceAll(s, "HV-1234-5678-90", "HV-****-****-90")}, nil
		}
		return agent.Intervention{}, nil
	})
	srv, hc := serveA2A(t, a, a2aserve.Options{})
	c, err := a2aclient.NewFromEndpoints(context.Background(), []a2a.AgentInterface{{URL: srv.URL, Transport: a2a.TransportProtocolJSONRPC}},
		a2aclient.WithDefaultsDisabled(), a2aclient.WithJSONRPCTransport(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	var all strings.Builder
	for ev, err := range c.SendStreamingMessage(context.Background(), &a2a.MessageSendParams{Message: a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "my account?"})}) {
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := ev.(*a2a.TaskArtifactUpdateEvent); ok {
			all.WriteString(text(e.Artifact.Parts))
		}
	}
	if strings.Contains(all.String(), "5678") || all.String() != "your account is HV-****-****-90, ok" {
		t.Fatalf("streamed %q", all.String())
	}
}
