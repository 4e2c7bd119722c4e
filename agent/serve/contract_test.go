package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/serve"
)

func decode[T any](t *testing.T, r io.Reader) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(r).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

type errBody struct {
	Error     string `json:"error"`
	ErrorType string `json:"error_type"`
}

func TestInvokeJSON(t *testing.T) {
	_, srv, _ := start(t, newAgent(echo()), serve.Options{})
	s := sid("json")
	resp := post(t, srv, s, `{"prompt":"What is my balance?"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	if got := resp.Header.Get(serve.SessionHeader); got != s {
		t.Fatalf("session header %q, want %q", got, s)
	}
	out := decode[serve.InvocationResponse](t, resp.Body)
	if out.Status != serve.StatusSuccess || out.Output != "turn 1: What is my balance?" || out.SessionID != s ||
		out.StopReason != "end_turn" || out.Usage.InputTokens != 10 || out.Pending != nil {
		t.Fatalf("reply %+v", out)
	}
	resp = post(t, srv, s, `{"prompt":"And now?"}`, nil)
	if out := decode[serve.InvocationResponse](t, resp.Body); out.Output != "turn 2: And now?" {
		t.Fatalf("second turn: %+v", out)
	}
}

func TestSessionHeaderLimits(t *testing.T) {
	_, srv, _ := start(t, newAgent(echo()), serve.Options{})
	for _, tc := range []struct {
		name, session string
		status        int
	}{
		{"missing: a new session", "", 200},
		{"33 characters", strings.Repeat("a", 33), 200},
		{"256 characters", strings.Repeat("b", 256), 200},
		{"32 characters", strings.Repeat("c", 32), 400},
		{"257 characters", strings.Repeat("d", 257), 400},
		{"space inside", strings.Repeat("e", 20) + " " + strings.Repeat("e", 20), 400},
		{"non-ASCII", strings.Repeat("é", 20), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv, tc.session, `{"prompt":"hi"}`, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != 200 {
				if b := decode[errBody](t, resp.Body); b.ErrorType != "ValidationException" || !strings.Contains(b.Error, serve.SessionHeader) {
					t.Fatalf("error %+v", b)
				}
				return
			}
			got := resp.Header.Get(serve.SessionHeader)
			if tc.session != "" && got != tc.session {
				t.Fatalf("echoed %q", got)
			}
			if len(got) < serve.MinSessionIDLen || len(got) > serve.MaxSessionIDLen {
				t.Fatalf("generated session ID %q has length %d", got, len(got))
			}
			if out := decode[serve.InvocationResponse](t, resp.Body); out.SessionID != got {
				t.Fatalf("body session %q, header %q", out.SessionID, got)
			}
		})
	}
	// Two invocations without a session header are two sessions.
	a := post(t, srv, "", `{"prompt":"one"}`, nil)
	b := post(t, srv, "", `{"prompt":"two"}`, nil)
	if a.Header.Get(serve.SessionHeader) == b.Header.Get(serve.SessionHeader) {
		t.Fatal("invocations without a session shared one")
	}
	if out := decode[serve.InvocationResponse](t, b.Body); out.Output != "turn 1: two" {
		t.Fatalf("a fresh session saw history: %q", out.Output)
	}
}

func TestBadRequests(t *testing.T) {
	_, srv, _ := start(t, newAgent(echo()), serve.Options{MaxBodyBytes: 1024})
	s := sid("bad")
	for _, tc := range []struct {
		name, body string
		hdr        map[string]string
		status     int
		errSubstr  string
	}{
		{"invalid JSON", `{"prompt":`, nil, 400, "invalid JSON"},
		{"not an object", `[1,2]`, nil, 400, "invalid JSON"},
		{"bad UTF-8", "{\"prompt\":\"\xff\xfe\"}", nil, 400, "invalid encoding"},
		{"empty prompt", `{"prompt":"  "}`, nil, 400, "prompt"},
		{"prompt and resume", `{"prompt":"x","resume":{"pending_id":"p","decisions":[{"call_id":"c"}]}}`, nil, 400, "not both"},
		{"resume without id", `{"resume":{"decisions":[{"call_id":"c"}]}}`, nil, 400, "pending_id"},
		{"resume without decisions", `{"resume":{"pending_id":"p"}}`, nil, 400, "decision"},
		{"too large", `{"prompt":"` + strings.Repeat("x", 2000) + `"}`, nil, 413, "MaxBodyBytes"},
		{"wrong content type", `prompt=hi`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv, s, tc.body, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			b := decode[errBody](t, resp.Body)
			if b.ErrorType != "ValidationException" || !strings.Contains(b.Error, tc.errSubstr) {
				t.Fatalf("error %+v, want it to mention %q", b, tc.errSubstr)
			}
		})
	}
	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/invocations", "POST"}, {"PUT", "/invocations", "POST"}, {"POST", "/ping", "GET, HEAD"}, {"DELETE", "/ping", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
}

func TestPingStates(t *testing.T) {
	g := newGate()
	h, srv, c := start(t, newAgent(g.model()), serve.Options{})
	ping := func() serve.PingStatus {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("ping: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var raw map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		ts, ok := raw["time_of_last_update"].(float64)
		if len(raw) != 2 || !ok || ts != float64(int64(ts)) {
			t.Fatalf("ping body %v: want exactly status and an integer time_of_last_update", raw)
		}
		return serve.PingStatus{Status: raw["status"].(string), TimeOfLastUpdate: int64(ts)}
	}
	p0 := ping()
	if p0.Status != serve.Healthy || p0.TimeOfLastUpdate <= 0 || p0.TimeOfLastUpdate > time.Now().Unix() {
		t.Fatalf("idle ping %+v", p0)
	}
	time.Sleep(1100 * time.Millisecond) // let the clock's second change so a transition shows
	done := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), sid("ping"), serve.InvocationRequest{Prompt: "work"})
		done <- err
	}()
	g.waitStarted(t)
	p1 := ping() // answered while the invocation runs
	if p1.Status != serve.HealthyBusy || p1.TimeOfLastUpdate <= p0.TimeOfLastUpdate {
		t.Fatalf("busy ping %+v after %+v", p1, p0)
	}
	if again := ping(); again != p1 {
		t.Fatalf("time_of_last_update moved without a transition: %+v then %+v", p1, again)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p2 := ping()
	if p2.Status != serve.Healthy || p2.TimeOfLastUpdate < p1.TimeOfLastUpdate {
		t.Fatalf("ping after the invocation %+v", p2)
	}
	// Background work keeps the status busy.
	doneBusy := h.MarkBusy()
	if ping().Status != serve.HealthyBusy {
		t.Fatal("MarkBusy did not make the status busy")
	}
	doneBusy()
	doneBusy()
	if ping().Status != serve.Healthy {
		t.Fatal("status still busy after done")
	}
	if st, err := c.Ping(context.Background()); err != nil || st.Status != serve.Healthy {
		t.Fatalf("client ping %+v %v", st, err)
	}
}

// sseFrame matches one event as the handler writes it.
var sseFrame = regexp.MustCompile(`^data: (\{.*\})$`)

func TestSSEFraming(t *testing.T) {
	_, srv, _ := start(t, newAgent(echo()), serve.Options{})
	resp := post(t, srv, sid("sse"), `{"prompt":"Stream me an answer please"}`, map[string]string{"Accept": "text/event-stream"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("cache control %q", cc)
	}
	sc := bufio.NewScanner(resp.Body)
	var events []serve.InvocationEvent
	expectData := true
	for sc.Scan() {
		line := sc.Text()
		if expectData {
			m := sseFrame.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %q is not a data line", line)
			}
			var ev serve.InvocationEvent
			if err := json.Unmarshal([]byte(m[1]), &ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		} else if line != "" {
			t.Fatalf("event not followed by a blank line: %q", line)
		}
		expectData = !expectData
	}
	if !expectData {
		t.Fatal("the stream ended inside an event")
	}
	var text strings.Builder
	deltas := 0
	for _, ev := range events[:len(events)-1] {
		switch ev.Type {
		case "text_delta":
			deltas++
			text.WriteString(ev.Text)
		case "model_called":
			if ev.Usage == nil || ev.Usage.OutputTokens != 5 {
				t.Fatalf("model_called %+v", ev)
			}
		case "finished", "paused", "error":
			t.Fatalf("final event %q before the end", ev.Type)
		}
	}
	last := events[len(events)-1]
	want := "turn 1: Stream me an answer please"
	if deltas < 2 || text.String() != want {
		t.Fatalf("%d deltas making %q", deltas, text.String())
	}
	if last.Type != "finished" || last.Response == nil || last.Response.Output != want || last.Response.Status != serve.StatusSuccess {
		t.Fatalf("last event %+v", last)
	}
}

func TestConcurrentSameSessionRefused(t *testing.T) {
	g := newGate()
	_, srv, c := start(t, newAgent(g.model()), serve.Options{})
	s := sid("busy")
	first := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), s, serve.InvocationRequest{Prompt: "first"})
		first <- err
	}()
	g.waitStarted(t)
	resp := post(t, srv, s, `{"prompt":"second"}`, nil)
	if resp.StatusCode != 409 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("concurrent invocation: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if b := decode[errBody](t, resp.Body); b.ErrorType != "RetryableConflictException" {
		t.Fatalf("error %+v", b)
	}
	_, err := c.Invoke(context.Background(), s, serve.InvocationRequest{Prompt: "second"})
	var se *serve.Error
	if !errors.As(err, &se) || se.StatusCode != 409 || !errors.Is(err, agent.ErrConflict) {
		t.Fatalf("client error %v", err)
	}
	// Another session is not blocked.
	other := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), sid("other"), serve.InvocationRequest{Prompt: "x"})
		other <- err
	}()
	g.waitStarted(t)
	close(g.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	out, err := c.Invoke(context.Background(), s, serve.InvocationRequest{Prompt: "third"})
	if err != nil || out.Output != "turn 2: third" {
		t.Fatalf("after the first finished: %+v %v (the refused one must leave no trace)", out, err)
	}
}

func TestMaxConcurrent(t *testing.T) {
	g := newGate()
	_, srv, c := start(t, newAgent(g.model()), serve.Options{MaxConcurrent: 1})
	done := make(chan error, 1)
	go func() {
		_, err := c.Invoke(context.Background(), sid("a"), serve.InvocationRequest{Prompt: "x"})
		done <- err
	}()
	g.waitStarted(t)
	resp := post(t, srv, sid("b"), `{"prompt":"y"}`, nil)
	if resp.StatusCode != 429 || decode[errBody](t, resp.Body).ErrorType != "ThrottlingException" {
		t.Fatalf("over the limit: %d", resp.StatusCode)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// transferArgs is the input of the confirmation tool.
type transferArgs struct {
	To     string `json:"to"`
	Amount int    `json:"amount"`
}

func hitlAgent() (*agent.Agent, *sync.Map) {
	ran := &sync.Map{}
	transfer := agent.MustNewFuncTool("transfer", "Move money.", func(ctx context.Context, in transferArgs) (string, error) {
		ran.Store(in.To, in.Amount)
		return "transferred", nil
	}, agent.ToolOptions{RequireConfirmation: true})
	fx, err := agent.NewReturnControlTool("fx_rate", "Exchange rate, looked up by the caller.", json.RawMessage(`{"type":"object","properties":{"pair":{"type":"string"}},"required":["pair"]}`))
	if err != nil {
		panic(err) // a fixed, valid tool
	}
	m := funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		last := req.Messages[len(req.Messages)-1]
		if _, ok := last.Parts[0].(bedrockkit.ToolResult); ok {
			var texts []string
			for _, p := range last.Parts {
				r := p.(bedrockkit.ToolResult)
				texts = append(texts, bedrockkit.Message{Parts: r.Parts}.Text())
			}
			return &bedrockkit.Response{Message: bedrockkit.AssistantText("done: " + strings.Join(texts, " | ")), StopReason: bedrockkit.StopEndTurn}, nil
		}
		return &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.ToolCall{ID: "t1", Name: "transfer", Input: json.RawMessage(`{"to":"bob","amount":20}`)},
			bedrockkit.ToolCall{ID: "f1", Name: "fx_rate", Input: json.RawMessage(`{"pair":"EURUSD"}`)},
		}}, StopReason: bedrockkit.StopToolUse}, nil
	})
	return newAgent(m, transfer, fx), ran
}

func TestReturnOfControlOverHTTP(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		name := map[bool]string{false: "json", true: "sse"}[streaming]
		t.Run(name, func(t *testing.T) {
			a, ran := hitlAgent()
			_, _, c := start(t, a, serve.Options{})
			s := sid("hitl-" + name)
			ctx := context.Background()
			invoke := func(req serve.InvocationRequest) (*serve.InvocationResponse, error) {
				if !streaming {
					return c.Invoke(ctx, s, req)
				}
				var last *serve.InvocationResponse
				for ev, err := range c.Stream(ctx, s, req) {
					if err != nil {
						return nil, err
					}
					if ev.Type == "error" {
						return nil, &serve.Error{StatusCode: ev.StatusCode, Type: ev.ErrorType, Message: ev.Error}
					}
					last = ev.Response
				}
				return last, nil
			}
			out, err := invoke(serve.InvocationRequest{Prompt: "Send Bob 20 euros"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != serve.StatusPaused || out.Pending == nil || len(out.Pending.Calls) != 2 {
				t.Fatalf("paused reply %+v", out)
			}
			p := out.Pending
			if p.Calls[0].Kind != "confirm" || p.Calls[0].Name != "transfer" || string(p.Calls[0].Input) != `{"to":"bob","amount":20}` ||
				p.Calls[1].Kind != "return_control" || p.Calls[0].IdempotencyKey == "" {
				t.Fatalf("pending calls %+v", p.Calls)
			}
			if _, ok := ran.Load("bob"); ok {
				t.Fatal("the transfer ran before approval")
			}
			// The wire form carries no internal state.
			raw, _ := json.Marshal(out)
			for _, leak := range []string{`"messages"`, "Send Bob", `"turn"`, "prompt_attributes", `"session_id":"anonymous`} {
				if strings.Contains(string(raw), leak) {
					t.Fatalf("the pending state sent to the client holds %q: %s", leak, raw)
				}
			}
			// A wrong pending ID is refused.
			_, err = c.Resume(ctx, s, "not-the-id", agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1.08"}))
			if !errors.Is(err, agent.ErrConflict) {
				t.Fatalf("wrong pending id: %v", err)
			}
			// A missing decision is a validation error and keeps the pause.
			_, err = c.Resume(ctx, s, p.ID, agent.Approve("t1"))
			var se *serve.Error
			if !errors.As(err, &se) || se.StatusCode != 400 {
				t.Fatalf("missing decision: %v", err)
			}
			var final *serve.InvocationResponse
			if streaming {
				for ev, err := range c.ResumeStream(ctx, s, p.ID, agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1.08"})) {
					if err != nil {
						t.Fatal(err)
					}
					final = ev.Response
				}
			} else {
				final, err = c.Resume(ctx, s, p.ID, agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1.08"}))
				if err != nil {
					t.Fatal(err)
				}
			}
			if final == nil || final.Status != serve.StatusSuccess || final.Output != "done: transferred | 1.08" {
				t.Fatalf("resumed %+v", final)
			}
			if v, ok := ran.Load("bob"); !ok || v != 20 {
				t.Fatal("the approved transfer did not run")
			}
			// The same pause cannot be resumed twice.
			_, err = c.Resume(ctx, s, p.ID, agent.Approve("t1"), agent.Respond("f1", bedrockkit.Text{Text: "1.08"}))
			if !errors.As(err, &se) || se.StatusCode != 409 {
				t.Fatalf("second resume: %v", err)
			}
			// Resuming a session that does not exist is 404.
			_, err = c.Resume(ctx, sid("nobody"), p.ID, agent.Approve("t1"))
			if !errors.As(err, &se) || se.StatusCode != 404 || !errors.Is(err, bedrockkit.ErrNotFound) {
				t.Fatalf("unknown session: %v", err)
			}
		})
	}
}

func TestModelFailure(t *testing.T) {
	boom := funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		return nil, errors.New("model exploded")
	})
	_, srv, c := start(t, newAgent(boom), serve.Options{})
	resp := post(t, srv, sid("boom"), `{"prompt":"hi"}`, nil)
	if resp.StatusCode != 500 || decode[errBody](t, resp.Body).ErrorType != "InternalServerException" {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var last serve.InvocationEvent
	for ev, err := range c.Stream(context.Background(), sid("boom2"), serve.InvocationRequest{Prompt: "hi"}) {
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	if last.Type != "error" || last.StatusCode != 500 || last.ErrorType != "InternalServerException" || last.Message == "" || last.Error == "" {
		t.Fatalf("last event %+v", last)
	}
}

func TestGuardrailBlocked(t *testing.T) {
	a := newAgent(echo())
	a.Guardrail = agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		if stage == agent.StageInput && strings.Contains(text, "stocks") {
			return agent.Intervention{Blocked: true, Message: "No investment advice."}, nil
		}
		return agent.Intervention{}, nil
	})
	_, _, c := start(t, a, serve.Options{})
	out, err := c.Invoke(context.Background(), sid("guard"), serve.InvocationRequest{Prompt: "Which stocks?"})
	if err != nil || out.Status != serve.StatusBlocked || out.Output != "No investment advice." || out.StopReason != "guardrail_intervened" {
		t.Fatalf("%+v %v", out, err)
	}
	var last serve.InvocationEvent
	for ev, err := range c.Stream(context.Background(), sid("guard2"), serve.InvocationRequest{Prompt: "Which stocks?"}) {
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	if last.Type != "finished" || last.Response.Status != serve.StatusBlocked || last.Response.Output != "No investment advice." {
		t.Fatalf("streamed %+v", last)
	}
}

func TestNewRefusesUnsafeOptions(t *testing.T) {
	a := newAgent(echo())
	if _, err := serve.New(a, serve.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "Anonymous") {
		t.Fatalf("no authorizer: %v", err)
	}
	a.Memory = nil
	if _, err := serve.New(a, serve.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("no memory: %v", err)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	a := newAgent(echo())
	h, err := serve.New(a, serve.Options{Authorizer: anonymous()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var seen bool
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = true; next.ServeHTTP(w, r) })
	}
	mux.Handle("/agents/bank/", mw(http.StripPrefix("/agents/bank", h)))
	srv := newHTTPTest(t, mux)
	c, _ := serve.NewClient(srv.URL+"/agents/bank", serve.ClientOptions{HTTPClient: srv.Client()})
	out, err := c.Invoke(context.Background(), sid("mounted"), serve.InvocationRequest{Prompt: "hello"})
	if err != nil || out.Output != "turn 1: hello" || !seen {
		t.Fatalf("%+v %v (middleware ran: %v)", out, err, seen)
	}
	if st, err := c.Ping(context.Background()); err != nil || st.Status != serve.Healthy {
		t.Fatalf("ping under prefix: %+v %v", st, err)
	}
}

// TestStreamKeepsGuardrailMasking: with a guardrail, the raw model text
// (which the guardrail rewrites) is never streamed; the final answer is
// the guarded one.
func TestStreamKeepsGuardrailMasking(t *testing.T) {
	a := newAgent(funcModel(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		return &bedrockkit.Response{Message: bedrockkit.AssistantText("your account is HV-1234-5678-90"), StopReason: bedrockkit.StopEndTurn}, nil
	}))
	a.Guardrail = agent.GuardFunc(func(ctx context.Context, stage agent.Stage, text string) (agent.Intervention, error) {
		if stage == agent.StageOutput && strings.Contains(text, "HV-1234") {
			return agent.Intervention{Text: strings.ReplaceAll(text, "HV-1234-5678-90", "HV-****-****-90")}, nil
		}
		return agent.Intervention{}, nil
	})
	_, srv, _ := start(t, a, serve.Options{})
	resp := post(t, srv, sid("mask"), `{"prompt":"account?"}`, map[string]string{"Accept": "text/event-stream"})
	b, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(b), "5678") || !strings.Contains(string(b), "HV-****-****-90") {
		t.Fatalf("stream: %s", b)
	}
}
