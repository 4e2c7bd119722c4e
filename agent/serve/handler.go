package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/agentotel"
	"github.com/bedrockkit/bedrockkit/agent/identity"
)

// DefaultMaxBodyBytes is the default limit of an invocation's body.
const DefaultMaxBodyBytes = 4 << 20

// Options configure a Handler. Authorizer must be set.
type Options struct {
	// Authorizer decides who the caller is; required. Use an
	// identity.JWTAuthorizer, or identity.Anonymous() to serve without
	// authentication on purpose (behind AgentCore's own authorizer, say).
	Authorizer identity.Authorizer
	// Challenge configures the WWW-Authenticate challenge of refused
	// requests (realm, protected-resource metadata URL).
	Challenge identity.RequireOptions
	// Locker gives each session one invocation at a time; nil means a
	// LocalLocker, which is enough for one process. Replicas sharing a
	// database need a shared one (package agent/serve/pglock).
	Locker SessionLocker
	// MaxBodyBytes limits an invocation's body; 0 means
	// DefaultMaxBodyBytes. Larger bodies are refused with HTTP 413.
	MaxBodyBytes int64
	// MaxConcurrent limits invocations running at once in this Handler;
	// more are refused with HTTP 429. 0 means no limit.
	MaxConcurrent int
	// TracerProvider makes the invocation spans; nil means the global
	// OpenTelemetry provider (otel.GetTracerProvider).
	TracerProvider trace.TracerProvider
	// Propagator reads the caller's trace context from the request
	// headers; nil means W3C trace context and baggage.
	Propagator propagation.TextMapPropagator
	// RecordContent records prompts, answers and tool arguments and
	// results on spans. They may hold personal data; off by default.
	RecordContent bool
	// ExposeToolContent includes tool arguments and results in streamed
	// tool_called events. Off by default: a tool's result may hold data
	// meant for the model, not the end user.
	ExposeToolContent bool
}

// Handler serves one agent on AgentCore Runtime's HTTP protocol contract:
//
//   - POST /invocations runs a turn (or resumes a paused run) of the
//     session named by the X-Amzn-Bedrock-AgentCore-Runtime-Session-Id
//     header, answering JSON, or server-sent events when the request's
//     Accept header asks for text/event-stream.
//   - GET /ping answers {"status":"Healthy"|"HealthyBusy",
//     "time_of_last_update":<unix seconds of the last change>}.
//
// It matches on the last path element, so it can be mounted under a prefix
// of an existing mux (mux.Handle("/agent/", http.StripPrefix("/agent", h)))
// and wrapped in the caller's middleware. Invocations and Ping return the
// two endpoints alone.
//
// Sessions: each caller's sessions are kept apart (the stored session ID is
// prefixed with identity.Caller.Namespace), so a caller can never continue
// another's session. One invocation runs per session at a time; a
// concurrent one is refused with HTTP 409 (RetryableConflictException), not
// queued. State lives in the agent's Memory, so with a shared Memory and
// Locker any replica can continue any session.
type Handler struct {
	a      *agent.Agent
	opts   Options
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	lock   SessionLocker
	sem    chan struct{}

	mu         sync.Mutex
	inflight   int // running invocations
	background int // MarkBusy holders
	draining   bool
	idle       chan struct{} // closed when draining and inflight == 0
	changed    time.Time     // last Healthy <-> HealthyBusy change
}

// New returns a Handler serving a. It fails when a has no Model or no
// Memory (set agent.NewInMemory() for one process, or a shared store such
// as agent/pgmemory for several), or when opts.Authorizer is nil.
func New(a *agent.Agent, opts Options) (*Handler, error) {
	switch {
	case a == nil || a.Model == nil:
		return nil, fmt.Errorf("serve: the agent has no Model: %w", bedrockkit.ErrInvalidInput)
	case a.Memory == nil:
		return nil, fmt.Errorf("serve: Agent.Memory is nil; set agent.NewInMemory() for one process, or a shared Memory (agent/pgmemory) so any replica can continue any session: %w", bedrockkit.ErrInvalidInput)
	case opts.Authorizer == nil:
		return nil, fmt.Errorf("serve: Options.Authorizer is nil; pass an identity.JWTAuthorizer, or identity.Anonymous() to serve without authentication on purpose: %w", bedrockkit.ErrInvalidInput)
	case opts.MaxBodyBytes < 0 || opts.MaxConcurrent < 0:
		return nil, fmt.Errorf("serve: MaxBodyBytes and MaxConcurrent must not be negative: %w", bedrockkit.ErrInvalidInput)
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{a: a, opts: opts, lock: opts.Locker, prop: opts.Propagator, changed: time.Now(), idle: make(chan struct{})}
	if h.lock == nil {
		h.lock = NewLocalLocker()
	}
	if h.prop == nil {
		h.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	h.tracer = tp.Tracer("github.com/bedrockkit/bedrockkit/agent/serve")
	if opts.MaxConcurrent > 0 {
		h.sem = make(chan struct{}, opts.MaxConcurrent)
	}
	return h, nil
}

// ServeHTTP routes POST .../invocations and GET .../ping; other paths are
// 404 and other methods 405, with a JSON error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/invocations" || strings.HasSuffix(path, "/invocations"):
		h.serveInvocation(w, r)
	case path == "/ping" || strings.HasSuffix(path, "/ping"):
		h.servePing(w, r)
	default:
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "no such endpoint; use POST /invocations or GET /ping", "")
	}
}

// Invocations returns the POST /invocations endpoint alone.
func (h *Handler) Invocations() http.Handler { return http.HandlerFunc(h.serveInvocation) }

// Ping returns the GET /ping endpoint alone.
func (h *Handler) Ping() http.Handler { return http.HandlerFunc(h.servePing) }

// Status returns what GET /ping answers now.
func (h *Handler) Status() PingStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := Healthy
	if h.inflight+h.background > 0 {
		s = HealthyBusy
	}
	return PingStatus{Status: s, TimeOfLastUpdate: h.changed.Unix()}
}

// MarkBusy reports background work (work that outlives the invocation
// that started it) so /ping answers HealthyBusy, which keeps an AgentCore
// session alive, until done is called. done may be called more than once.
func (h *Handler) MarkBusy() (done func()) {
	h.mu.Lock()
	h.setBusy(func() { h.background++ })
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			h.setBusy(func() { h.background-- })
			h.mu.Unlock()
		})
	}
}

// setBusy applies change to the counters (h.mu held) and records the time
// when the ping status changes.
func (h *Handler) setBusy(change func()) {
	was := h.inflight+h.background > 0
	change()
	if now := h.inflight+h.background > 0; now != was {
		h.changed = time.Now()
	}
	if h.draining && h.inflight == 0 {
		select {
		case <-h.idle:
		default:
			close(h.idle)
		}
	}
}

// begin admits an invocation unless the handler is draining.
func (h *Handler) begin() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return false
	}
	h.setBusy(func() { h.inflight++ })
	return true
}

func (h *Handler) end() {
	h.mu.Lock()
	h.setBusy(func() { h.inflight-- })
	h.mu.Unlock()
}

// Shutdown stops taking invocations (new ones get HTTP 503) and waits
// until the running ones have finished or ctx ends. ListenAndServe calls
// it on SIGTERM; call it yourself when the Handler is mounted in your own
// server, before that server's Shutdown.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.draining = true
	h.setBusy(func() {})
	idle := h.idle
	h.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("serve: invocations still running at shutdown: %w", ctx.Err())
	}
}

func (h *Handler) servePing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "ValidationException", "use GET /ping", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	b, _ := json.Marshal(h.Status())
	w.Write(append(b, '\n'))
}

// NewSessionID returns a new random session ID of 41 characters, within
// AgentCore's limits.
func NewSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "session-" + hex.EncodeToString(b[:]) + "-0"
}

// validSessionID checks AgentCore's length limits and that the ID is
// visible ASCII.
func validSessionID(id string) error {
	if len(id) < MinSessionIDLen || len(id) > MaxSessionIDLen {
		return fmt.Errorf("serve: the %s header must be %d to %d characters, got %d", SessionHeader, MinSessionIDLen, MaxSessionIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("serve: the %s header must be visible ASCII characters", SessionHeader)
		}
	}
	return nil
}

// wantsSSE reports whether the Accept header asks for an event stream.
func wantsSSE(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "text/event-stream" && params["q"] != "0" {
				return true
			}
		}
	}
	return false
}

func (h *Handler) serveInvocation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "ValidationException", "use POST /invocations", "")
		return
	}
	ctx := h.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.tracer.Start(ctx, "POST /invocations", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("http.route", "/invocations"),
			agentotel.AttrAgentName.String(h.a.Name)))
	defer span.End()
	rep := &invocationReply{w: w, span: span}
	defer rep.recordStatus()

	if !h.begin() {
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		rep.fail(http.StatusServiceUnavailable, "ServiceUnavailableException", ErrDraining.Error(), "")
		return
	}
	defer h.end()
	freeSlot, ok := h.takeSlot(rep)
	if !ok {
		return
	}
	defer freeSlot()

	caller, err := identity.Authorize(h.opts.Authorizer, r)
	if err != nil {
		rep.unauthorized(err, h.opts.Challenge)
		return
	}
	ctx = identity.WithCaller(ctx, caller)
	if !caller.Anonymous {
		span.SetAttributes(attribute.String("enduser.id", caller.Subject))
	}
	sessionID, ok := sessionOf(r, rep)
	if !ok {
		return
	}
	req, code, typ, err := h.readRequest(w, r)
	if err != nil {
		rep.fail(code, typ, err.Error(), sessionID)
		return
	}

	key := caller.Namespace() + "/" + sessionID
	release, err := h.lock.TryLock(ctx, key)
	if err != nil {
		code, typ := classify(err)
		if code == http.StatusConflict {
			w.Header().Set("Retry-After", "1")
		}
		rep.fail(code, typ, err.Error(), sessionID)
		return
	}
	// The lock is released as soon as the run has saved its state, before
	// the final reply is written, so a client that sends its next
	// invocation the moment it reads the reply never finds the session busy.
	release = sync.OnceFunc(release)
	defer release()

	run := &invocation{h: h, req: req, key: key, sessionID: sessionID, span: span, release: release}
	if h.opts.RecordContent && req.Prompt != "" {
		span.SetAttributes(attribute.String("gen_ai.input.messages", messagesJSON("user", req.Prompt)))
	}
	if wantsSSE(r) {
		rep.status = run.stream(ctx, w)
		return
	}
	h.replyJSON(ctx, r, run, rep)
}

// invocationReply writes an invocation's error replies and keeps the HTTP
// status sent for the server span.
type invocationReply struct {
	w      http.ResponseWriter
	span   trace.Span
	status int
}

// fail sends an error reply and marks the span failed.
func (rep *invocationReply) fail(code int, typ, msg, session string) {
	rep.status = code
	rep.span.SetStatus(codes.Error, msg)
	rep.span.SetAttributes(attribute.String("error.type", typ))
	writeError(rep.w, code, typ, msg, session)
}

// unauthorized sends identity's reply to a caller it did not authorize.
func (rep *invocationReply) unauthorized(err error, challenge identity.RequireOptions) {
	var ae *identity.AuthError
	errors.As(err, &ae)
	if ae != nil {
		rep.status = ae.StatusCode()
		rep.span.SetAttributes(attribute.String("error.type", "auth."+ae.Reason))
	}
	rep.span.SetStatus(codes.Error, "caller not authorized")
	identity.WriteError(rep.w, err, challenge)
}

// recordStatus puts the status sent, if known, on the span.
func (rep *invocationReply) recordStatus() {
	if rep.status != 0 {
		rep.span.SetAttributes(attribute.Int("http.response.status_code", rep.status))
	}
}

// takeSlot takes one of Options.MaxConcurrent slots, or replies 429 when
// none is free; free gives the slot back.
func (h *Handler) takeSlot(rep *invocationReply) (free func(), ok bool) {
	if h.sem == nil {
		return func() {}, true
	}
	select {
	case h.sem <- struct{}{}:
		return func() { <-h.sem }, true
	default:
		rep.w.Header().Set("Retry-After", "1")
		rep.fail(http.StatusTooManyRequests, "ThrottlingException", "serve: too many invocations at once (Options.MaxConcurrent); retry later", "")
		return nil, false
	}
}

// sessionOf returns the request's session ID, or a new one, and echoes it
// in the reply; an invalid ID is answered with 400.
func sessionOf(r *http.Request, rep *invocationReply) (string, bool) {
	sessionID := r.Header.Get(SessionHeader)
	if sessionID == "" {
		sessionID = NewSessionID()
	} else if err := validSessionID(sessionID); err != nil {
		rep.fail(http.StatusBadRequest, "ValidationException", err.Error(), "")
		return "", false
	}
	rep.w.Header().Set(SessionHeader, sessionID)
	rep.span.SetAttributes(attribute.String("session.id", sessionID), agentotel.AttrConversation.String(sessionID))
	if rid := r.Header.Get(RequestIDHeader); rid != "" && len(rid) <= 256 {
		rep.span.SetAttributes(attribute.String("aws.agentcore.request_id", rid))
	}
	return sessionID, true
}

// replyJSON runs the invocation to its end and replies with its JSON.
func (h *Handler) replyJSON(ctx context.Context, r *http.Request, run *invocation, rep *invocationReply) {
	resp, err := run.invoke(ctx)
	run.release()
	if err != nil {
		code, typ := classify(err)
		if ctx.Err() != nil && r.Context().Err() != nil {
			code, typ = 499, "ClientClosedRequest" // nobody reads it; for the span
		}
		rep.fail(code, typ, err.Error(), run.sessionID)
		return
	}
	rep.status = http.StatusOK
	h.recordOutput(rep.span, resp)
	rep.w.Header().Set("Content-Type", "application/json")
	rep.w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(rep.w).Encode(resp)
}

func (h *Handler) recordOutput(span trace.Span, resp *InvocationResponse) {
	span.SetAttributes(attribute.String("bedrockkit.invocation.status", resp.Status))
	if h.opts.RecordContent && resp.Output != "" {
		span.SetAttributes(attribute.String("gen_ai.output.messages", messagesJSON("assistant", resp.Output)))
	}
}

// messagesJSON renders one text message the way the GenAI semantic
// conventions record gen_ai.input.messages and gen_ai.output.messages.
func messagesJSON(role, text string) string {
	b, _ := json.Marshal([]map[string]any{{"role": role, "parts": []map[string]string{{"type": "text", "content": text}}}})
	return string(b)
}

// readRequest reads and checks the body.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) (*InvocationRequest, int, string, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, http.StatusUnsupportedMediaType, "ValidationException", fmt.Errorf("serve: send the invocation as application/json, not %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, "ValidationException", fmt.Errorf("serve: the body is larger than %d bytes (Options.MaxBodyBytes)", h.opts.MaxBodyBytes)
		}
		return nil, http.StatusBadRequest, "ValidationException", fmt.Errorf("serve: read the body: %v", err)
	}
	req, err := decodeRequest(body)
	if err != nil {
		return nil, http.StatusBadRequest, "ValidationException", err
	}
	return req, 0, "", nil
}

// decodeRequest parses and checks an invocation body.
func decodeRequest(body []byte) (*InvocationRequest, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("serve: invalid encoding: the body is not UTF-8")
	}
	var req InvocationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("serve: invalid JSON: %v", err)
	}
	switch {
	case req.Resume != nil && req.Prompt != "":
		return nil, errors.New(`serve: send "prompt" for a new turn or "resume" to answer a paused run, not both`)
	case req.Resume == nil && strings.TrimSpace(req.Prompt) == "":
		return nil, errors.New(`serve: the body needs a non-empty "prompt" (or "resume" with decisions)`)
	case req.Resume != nil && req.Resume.PendingID == "":
		return nil, errors.New(`serve: "resume" needs the "pending_id" of the pause it answers`)
	case req.Resume != nil && len(req.Resume.Decisions) == 0:
		return nil, errors.New(`serve: "resume" needs one decision per pending call`)
	}
	return &req, nil
}

// invocation is one running invocation.
type invocation struct {
	h         *Handler
	req       *InvocationRequest
	key       string // stored session ID (namespaced)
	sessionID string // the caller's session ID
	span      trace.Span
	release   func() // releases the session lock; idempotent
}

func (v *invocation) runOptions() agent.RunOptions {
	return agent.RunOptions{SessionAttributes: v.req.SessionAttributes, PromptAttributes: v.req.PromptAttributes}
}

// pending loads the session's stored pause and checks it is the one the
// caller answers: the server never trusts a pending state sent by a client.
func (v *invocation) pending(ctx context.Context) (*agent.Pending, []agent.Decision, error) {
	ds := make([]agent.Decision, 0, len(v.req.Resume.Decisions))
	for _, d := range v.req.Resume.Decisions {
		dec, err := d.Decision()
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, dec)
	}
	sess, err := v.h.a.Memory.Load(ctx, v.key)
	if errors.Is(err, agent.ErrSessionNotFound) {
		return nil, nil, fmt.Errorf("serve: session %q does not exist, so it has nothing to resume: %w", v.sessionID, agent.ErrSessionNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	if sess.Pending == nil || sess.Pending.ID != v.req.Resume.PendingID {
		return nil, nil, fmt.Errorf("serve: session %q has no pause %q waiting (already resumed, or replaced by a later turn): %w", v.sessionID, v.req.Resume.PendingID, agent.ErrNotPending)
	}
	return sess.Pending, ds, nil
}

// tracing starts the agent span under the invocation span.
func (v *invocation) tracing(ctx context.Context) (context.Context, *agentotel.Run) {
	tp := v.h.opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return agentotel.Start(ctx, tp.Tracer("github.com/bedrockkit/bedrockkit/agent/agentotel"), v.h.a.Name, v.sessionID,
		agentotel.Options{RecordContent: v.h.opts.RecordContent})
}

// invoke runs the invocation to its end and returns the JSON reply.
func (v *invocation) invoke(ctx context.Context) (*InvocationResponse, error) {
	ctx, tr := v.tracing(ctx)
	var res *agent.RunResult
	var err error
	if v.req.Resume != nil {
		var p *agent.Pending
		var ds []agent.Decision
		if p, ds, err = v.pending(ctx); err == nil {
			res, err = v.h.a.Resume(ctx, p, ds...)
		}
	} else {
		res, err = v.h.a.Run(ctx, v.key, v.req.Prompt, v.runOptions())
	}
	var ge *agent.GuardrailError
	if errors.As(err, &ge) && res != nil {
		tr.End(nil)
		return v.response(res, StatusBlocked), nil
	}
	tr.End(err)
	if err != nil {
		return nil, err
	}
	if res.Paused() {
		return v.response(res, StatusPaused), nil
	}
	return v.response(res, StatusSuccess), nil
}

func (v *invocation) response(res *agent.RunResult, status string) *InvocationResponse {
	return &InvocationResponse{SessionID: v.sessionID, Status: status, Output: res.Output, StopReason: string(res.StopReason),
		Usage: usageOf(res.Usage), Iterations: res.Iterations, Pending: pendingOf(res.Pending)}
}

// stream runs the invocation as server-sent events and returns the HTTP
// status sent.
func (v *invocation) stream(ctx context.Context, w http.ResponseWriter) int {
	ctx, tr := v.tracing(ctx)
	var events func(yield func(agent.RunEvent, error) bool)
	if v.req.Resume != nil {
		p, ds, err := v.pending(ctx)
		if err != nil {
			tr.End(err)
			code, typ := classify(err)
			writeError(w, code, typ, err.Error(), v.sessionID)
			return code
		}
		events = v.h.a.ResumeStream(ctx, p, ds...)
	} else {
		events = v.h.a.Stream(ctx, v.key, v.req.Prompt, v.runOptions())
	}
	send := startSSE(w)
	sum, runErr := v.forward(events, send)
	v.release()
	v.endStream(tr, sum, runErr, send)
	return http.StatusOK
}

// startSSE sends the event-stream headers and returns a function that
// sends one event, reporting false if it could not.
func startSSE(w http.ResponseWriter) func(InvocationEvent) bool {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	return func(e InvocationEvent) bool {
		b, err := json.Marshal(e)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		_ = rc.Flush()
		return true
	}
}

// streamSummary is what a streamed run leaves for its last event.
type streamSummary struct {
	usage      bedrockkit.Usage
	iterations int
	final      *InvocationEvent // sent once the run has ended and the lock is released
}

// forward sends the run's events as they come, keeping back the final
// one, and returns the summary and the error that ended the run.
func (v *invocation) forward(events func(yield func(agent.RunEvent, error) bool), send func(InvocationEvent) bool) (streamSummary, error) {
	var sum streamSummary
	for ev, err := range events {
		if err != nil {
			return sum, err
		}
		switch e := ev.(type) {
		case agent.ModelCalled:
			sum.usage = sum.usage.Add(e.Usage)
			sum.iterations = e.Iteration
		case agent.Finished:
			resp := v.response(e.Result, StatusSuccess)
			v.h.recordOutput(v.span, resp)
			sum.final = &InvocationEvent{Type: "finished", Response: resp}
			continue
		case agent.Paused:
			resp := &InvocationResponse{SessionID: v.sessionID, Status: StatusPaused, StopReason: string(bedrockkit.StopToolUse),
				Usage: usageOf(e.Pending.Usage), Iterations: e.Pending.Iteration, Pending: pendingOf(e.Pending)}
			v.h.recordOutput(v.span, resp)
			sum.final = &InvocationEvent{Type: "paused", Response: resp}
			continue
		}
		if out, ok := eventOf(ev, v.h.opts.ExposeToolContent); ok && !send(out) {
			return sum, errors.New("serve: the client went away")
		}
	}
	return sum, nil
}

// endStream sends the last event: the final reply, a guardrail block, or
// the error that ended the run; and ends the agent span.
func (v *invocation) endStream(tr *agentotel.Run, sum streamSummary, runErr error, send func(InvocationEvent) bool) {
	var ge *agent.GuardrailError
	switch {
	case sum.final != nil && runErr == nil:
		tr.End(nil)
		send(*sum.final)
	case errors.As(runErr, &ge):
		tr.End(nil)
		resp := &InvocationResponse{SessionID: v.sessionID, Status: StatusBlocked, Output: ge.Verdict.Message,
			StopReason: string(bedrockkit.StopGuardrailIntervened), Usage: usageOf(sum.usage), Iterations: sum.iterations}
		v.h.recordOutput(v.span, resp)
		send(InvocationEvent{Type: "finished", Response: resp})
	case runErr != nil:
		tr.End(runErr)
		code, typ := classify(runErr)
		v.span.SetStatus(codes.Error, runErr.Error())
		v.span.SetAttributes(attribute.String("error.type", typ))
		send(InvocationEvent{Type: "error", Error: runErr.Error(), ErrorType: typ, Message: runErr.Error(), StatusCode: code})
	default:
		tr.End(nil)
		send(InvocationEvent{Type: "error", Error: "serve: the run ended without a result", ErrorType: "InternalServerException", Message: "the run ended without a result", StatusCode: 500})
	}
}

func writeError(w http.ResponseWriter, code int, typ, msg, session string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if code == 499 {
		return
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg, ErrorType: typ, SessionID: session})
}

// statusText is used by the client for bodies that are not our JSON.
func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
