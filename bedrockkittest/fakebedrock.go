package bedrockkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go/auth/bearer"
	"github.com/aws/smithy-go/eventstream"
	"github.com/bedrockkit/bedrockkit"
)

// Operation names a Bedrock runtime operation served by FakeBedrock.
type Operation string

// The operations FakeBedrock serves.
const (
	OpConverse                      Operation = "Converse"
	OpConverseStream                Operation = "ConverseStream"
	OpInvokeModel                   Operation = "InvokeModel"
	OpInvokeModelWithResponseStream Operation = "InvokeModelWithResponseStream"
	OpApplyGuardrail                Operation = "ApplyGuardrail"
	OpCountTokens                   Operation = "CountTokens"
)

// Reply is one scripted answer of FakeBedrock, taken in FIFO order per
// operation by Enqueue.
type Reply struct {
	// Message is the Converse or ConverseStream answer. Its role is sent as
	// assistant whatever it says. Its parts must be ContentBlock members: a
	// top-level JSON part (allowed only inside a ToolResult) makes the call
	// fail with an InternalServerException naming the mistake.
	Message bedrockkit.Message
	// StopReason defaults to tool_use when Message has tool calls, else end_turn.
	StopReason bedrockkit.StopReason
	// Usage is reported in the usage field (Converse) or metadata event
	// (ConverseStream); totalTokens is Usage.Total(). For CountTokens,
	// Usage.InputTokens is the count returned.
	Usage bedrockkit.Usage
	// ServiceTier is reported as the tier that served the call; empty
	// reports the tier the request asked for, if any.
	ServiceTier bedrockkit.ServiceTier
	// LatencyMode is reported as the latency that served the call; empty
	// reports the one the request asked for, if any.
	LatencyMode bedrockkit.LatencyMode
	// Chunks are the payloads of an InvokeModelWithResponseStream answer,
	// one chunk event each (the model's native streaming JSON).
	Chunks []json.RawMessage
	// Fault fails the call itself with an HTTP error. It counts as a call.
	Fault *Fault
	// Interrupt says what happens to a ConverseStream or
	// InvokeModelWithResponseStream after some events. It is ignored by
	// other operations.
	Interrupt *Interrupt
	// Body is sent verbatim as the JSON response body: the model's answer for
	// InvokeModel, the ApplyGuardrail response, or a Converse (or
	// CountTokens) response that replaces the one built from Message.
	// Ignored by the streaming operations.
	Body json.RawMessage
	// ChunkSize is, for ConverseStream, how many runes each text or reasoning
	// delta carries and how many bytes each tool-input fragment carries.
	// 0 means 4.
	ChunkSize int
	// AdditionalFields is sent as additionalModelResponseFields (in the
	// Converse response, or in the messageStop event of a stream).
	AdditionalFields json.RawMessage
	// LatencyMs is reported as metrics.latencyMs. Nothing waits for it.
	LatencyMs int64
}

// Fault is a Bedrock error response: HTTP status, the X-Amzn-ErrorType
// header and a JSON body {"message": ...}. In a stream interrupt it is sent
// as an exception event instead.
type Fault struct {
	// Code is the error code, such as "ThrottlingException". The
	// "Exception" suffix may be left out ("Throttling").
	Code string
	// Message is the error message; empty means a generic one naming the code.
	Message string
	// Status is the HTTP status; 0 means the status Bedrock uses for Code
	// (see StatusFor).
	Status int
}

// Interrupt makes a ConverseStream misbehave after AfterEvents events
// (0 = before the first event; the HTTP response has already started with
// status 200). Exactly one of Fault, Stall and Malformed should be set; when
// AfterEvents is at least the number of events, the interrupt happens after
// the last one.
type Interrupt struct {
	// AfterEvents is how many events are sent before the interrupt.
	AfterEvents int
	// Fault is sent as an exception event (":message-type" exception, with
	// ":exception-type" the code in lower camel case, e.g.
	// throttlingException) and ends the stream.
	Fault *Fault
	// Stall sends nothing more and keeps the connection open until the
	// client goes away or the server is closed.
	Stall bool
	// Malformed sends a frame whose checksum is wrong, which the SDK cannot
	// decode, and ends the stream.
	Malformed bool
}

// RecordedRequest is a request received by FakeBedrock.
type RecordedRequest struct {
	Op Operation
	// ModelID is the decoded model ID or ARN from the path; for
	// ApplyGuardrail it is the guardrail identifier.
	ModelID string
	// Body is the raw request body.
	Body []byte
	// Header is the request's HTTP header, including Authorization.
	Header http.Header
	// Path is the request's escaped URL path.
	Path string
}

// FakeBedrock is an in-process Bedrock runtime endpoint for tests. It speaks
// the real wire protocols of Converse, ConverseStream (binary event stream),
// InvokeModel, InvokeModelWithResponseStream, CountTokens and
// ApplyGuardrail, so a real *bedrockruntime.Client pointed at it (see
// Client) — or any other conforming client, such as the AWS SDK for
// JavaScript — works unchanged.
//
// It refuses what Bedrock refuses: every Converse, ConverseStream and
// CountTokens request is validated the way Bedrock validates it (see Check
// for the classes: model IDs, parameter ranges, the shape of the
// conversation, content blocks, tool use pairing, output schemas) and
// answered with a ValidationException carrying Bedrock's own message where
// it is known. A refused request is recorded but takes no scripted reply.
// Relax turns classes of checks off for tests that send such requests on
// purpose.
//
// Answers are scripted per operation with Enqueue. Without a queued reply,
// Converse, ConverseStream and InvokeModelWithResponseStream fail with a
// ValidationException telling the test to call Enqueue; CountTokens
// estimates the count (see serveCountTokens); InvokeModel answers embedding
// requests for Titan Text Embeddings V2 and Cohere Embed v3
// deterministically with HashEmbedder, enforcing those models' request
// validation; ApplyGuardrail answers action NONE.
//
// Authentication is not checked: SigV4 signatures and bearer tokens are both
// accepted and recorded in RecordedRequest.Header.
//
// FakeBedrock is safe for concurrent use. Its handlers never outlive the
// server: a stalled stream ends when the client disconnects or Close is
// called.
type FakeBedrock struct {
	srv       *httptest.Server
	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	queues  map[Operation][]Reply
	calls   map[Operation]int
	reqs    []RecordedRequest
	seq     int
	relaxed map[Check]bool
}

// NewFakeBedrock starts a FakeBedrock on plain HTTP. It is closed when the
// test ends.
func NewFakeBedrock(t testing.TB) *FakeBedrock {
	t.Helper()
	f := StartFakeBedrock()
	t.Cleanup(f.Close)
	return f
}

// NewFakeBedrockTLS starts a FakeBedrock on HTTPS with a self-signed
// certificate that Client trusts. Use it to test bearer-token (Bedrock API
// key) authentication, which the SDK refuses to send over plain HTTP.
func NewFakeBedrockTLS(t testing.TB) *FakeBedrock {
	t.Helper()
	f := newFake()
	f.srv = httptest.NewTLSServer(f.handler())
	t.Cleanup(f.Close)
	return f
}

// StartFakeBedrock starts a FakeBedrock outside a test — in an example, a
// local development server or a demo. The caller must Close it. In tests,
// prefer NewFakeBedrock, which closes the server when the test ends.
func StartFakeBedrock() *FakeBedrock {
	f := newFake()
	f.srv = newPlainServer(f.handler())
	return f
}

// newPlainServer starts an httptest server on plain HTTP that speaks both
// HTTP/1.1 and HTTP/2 with prior knowledge (h2c): the AWS SDK for
// JavaScript sends bedrock-runtime calls over HTTP/2 even to an http://
// endpoint, and the Go SDK uses HTTP/1.1.
func newPlainServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	return srv
}

func newFake() *FakeBedrock {
	return &FakeBedrock{
		done:    make(chan struct{}),
		queues:  map[Operation][]Reply{},
		calls:   map[Operation]int{},
		relaxed: map[Check]bool{},
	}
}

// Relax turns off the given classes of request validation, or all of them
// when called without arguments, for tests that send requests Bedrock
// would refuse (to test the code under test's own handling, say). The
// fake then still refuses bodies that are not JSON.
func (f *FakeBedrock) Relax(checks ...Check) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(checks) == 0 {
		checks = allChecks
	}
	for _, c := range checks {
		f.relaxed[c] = true
	}
}

// validator returns the checks in force.
func (f *FakeBedrock) validator() validator {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := validator{on: map[Check]bool{}}
	for _, c := range allChecks {
		v.on[c] = !f.relaxed[c]
	}
	return v
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeBedrock) URL() string { return f.srv.URL }

// Close shuts the server down, ending stalled streams. It is called
// automatically when the test ends; calling it again does nothing.
func (f *FakeBedrock) Close() {
	f.closeOnce.Do(func() {
		close(f.done)
		f.srv.Close()
	})
}

// Client returns a real Bedrock runtime client for the server: region
// us-east-1, static fake SigV4 credentials, BaseEndpoint set to URL, and SDK
// retries off (bedrockkit adapters retry themselves). The
// AWS_BEARER_TOKEN_BEDROCK environment variable is ignored; use
// WithBearerToken (and NewFakeBedrockTLS) for bearer auth. optFns run last
// and may change anything.
func (f *FakeBedrock) Client(optFns ...func(*bedrockruntime.Options)) *bedrockruntime.Client {
	opts := bedrockruntime.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEBEDROCK", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	hermetic := func(o *bedrockruntime.Options) {
		o.BearerAuthTokenProvider = nil
		o.AuthSchemePreference = nil
	}
	return bedrockruntime.New(opts, append([]func(*bedrockruntime.Options){hermetic}, optFns...)...)
}

// ownBodyClient gives the transport its own copy of each request body. The
// SDK closes a request body as soon as the response arrives; when that races
// with the transport's last touch of the body, the transport drops the
// connection and reading the response fails with "use of closed network
// connection" (aws/aws-sdk-go-v2#1825, #2737; measured at about 6 in 1,000
// calls against this server). Real services see it too, and bedrockkit's
// RetryPolicy retries it, but here it would add unscripted calls to tests
// that count them.
type ownBodyClient struct{ next *http.Client }

func (c ownBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return c.next.Do(req)
}

// WithBearerToken makes a client authenticate with a Bedrock API key
// ("Authorization: Bearer <token>") instead of SigV4. The SDK sends bearer
// tokens over HTTPS only: use it with NewFakeBedrockTLS.
func WithBearerToken(token string) func(*bedrockruntime.Options) {
	return func(o *bedrockruntime.Options) {
		o.BearerAuthTokenProvider = bearer.StaticTokenProvider{Token: bearer.Token{Value: token}}
		o.AuthSchemePreference = []string{"httpBearerAuth"}
	}
}

// Enqueue appends replies to op's queue. Each call of op takes the next one.
func (f *FakeBedrock) Enqueue(op Operation, replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[op] = append(f.queues[op], replies...)
}

// Pending returns how many replies are still queued for op.
func (f *FakeBedrock) Pending(op Operation) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queues[op])
}

// Requests returns copies of all requests received, in arrival order.
func (f *FakeBedrock) Requests() []RecordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]RecordedRequest, len(f.reqs))
	for i, r := range f.reqs {
		r.Body = bytes.Clone(r.Body)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Calls returns how many calls of op the server received, scripted or not.
func (f *FakeBedrock) Calls(op Operation) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// record stores the request and takes the next reply for op, if any.
func (f *FakeBedrock) record(op Operation, id string, r *http.Request, body []byte) (Reply, bool, int) {
	seq := f.note(op, id, r, body)
	rep, ok := f.take(op)
	return rep, ok, seq
}

// note stores the request and returns its sequence number.
func (f *FakeBedrock) note(op Operation, id string, r *http.Request, body []byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	f.seq++
	f.reqs = append(f.reqs, RecordedRequest{Op: op, ModelID: id, Body: body, Header: r.Header.Clone(), Path: r.URL.EscapedPath()})
	return f.seq
}

// take returns the next reply queued for op, if any.
func (f *FakeBedrock) take(op Operation) (Reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[op]
	if len(q) == 0 {
		return Reply{}, false
	}
	rep := q[0]
	f.queues[op] = q[1:]
	return rep, true
}

func (f *FakeBedrock) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{modelId}/converse", f.serveConverse)
	mux.HandleFunc("POST /model/{modelId}/converse-stream", f.serveConverseStream)
	mux.HandleFunc("POST /model/{modelId}/invoke", f.serveInvokeModel)
	mux.HandleFunc("POST /model/{modelId}/invoke-with-response-stream", f.serveInvokeModelStream)
	mux.HandleFunc("POST /model/{modelId}/count-tokens", f.serveCountTokens)
	mux.HandleFunc("POST /guardrail/{id}/version/{version}/apply", f.serveApplyGuardrail)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakebedrock: no operation at %s %s; FakeBedrock serves Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream, CountTokens and ApplyGuardrail", r.Method, r.URL.EscapedPath())})
	})
	return mux
}

// readBody reads the request body, answering a ValidationException on failure.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeFault(w, &Fault{Code: "ValidationException", Message: "fakebedrock: cannot read request body: " + err.Error()})
		return nil, false
	}
	return body, true
}

// checkConverseRequest validates a Converse or ConverseStream request the
// way Bedrock does, answering the ValidationException itself; it reports
// whether the request may proceed.
func (f *FakeBedrock) checkConverseRequest(w http.ResponseWriter, op Operation, modelID string, body []byte) bool {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		writeFault(w, &Fault{Code: "ValidationException", Message: "fakebedrock: request body is not a JSON object: " + err.Error()})
		return false
	}
	v := f.validator()
	if fault := v.checkModel(op, modelID); fault != nil {
		writeFault(w, fault)
		return false
	}
	if fault := v.checkConverse(body); fault != nil {
		writeFault(w, fault)
		return false
	}
	return true
}

func noReply(w http.ResponseWriter, op Operation) {
	writeFault(w, &Fault{Code: "ValidationException",
		Message: fmt.Sprintf("fakebedrock: no scripted reply for %s; call Enqueue(bedrockkittest.Op%s, ...)", op, op)})
}

func (f *FakeBedrock) serveConverse(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	modelID := r.PathValue("modelId")
	f.note(OpConverse, modelID, r, body)
	if !f.checkConverseRequest(w, OpConverse, modelID, body) {
		return
	}
	rep, ok := f.take(OpConverse)
	switch {
	case !ok:
		noReply(w, OpConverse)
	case rep.Fault != nil:
		writeFault(w, rep.Fault)
	case len(rep.Body) > 0:
		writeJSON(w, http.StatusOK, rep.Body)
	default:
		out, err := converseResponse(rep, body)
		if err != nil {
			writeFault(w, &Fault{Code: "InternalServerException", Message: "fakebedrock: invalid scripted reply: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", "fakebedrock-request")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// StatusFor returns the HTTP status Bedrock uses for an error code (with or
// without the "Exception" suffix), or 400 for codes it does not know.
func StatusFor(code string) int {
	switch normalizeCode(code) {
	case "ThrottlingException", "ModelNotReadyException", "TooManyRequestsException":
		return http.StatusTooManyRequests
	case "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	case "InternalServerException":
		return http.StatusInternalServerError
	case "ModelTimeoutException":
		return http.StatusRequestTimeout
	case "AccessDeniedException":
		return http.StatusForbidden
	case "ResourceNotFoundException", "UnknownOperationException":
		return http.StatusNotFound
	case "ModelErrorException", "ModelStreamErrorException":
		return http.StatusFailedDependency
	}
	// ValidationException, ServiceQuotaExceededException, ConflictException
	// (400 in Bedrock's service model, not 409) and the rest.
	return http.StatusBadRequest
}

func normalizeCode(code string) string {
	if code == "" {
		return "InternalServerException"
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	r, n := utf8.DecodeRuneInString(code)
	return string(unicode.ToUpper(r)) + code[n:]
}

func faultMessage(f *Fault, code string) string {
	if f.Message != "" {
		return f.Message
	}
	return "fakebedrock: scripted " + code
}

// writeFault answers f the way Bedrock does: status, X-Amzn-ErrorType and a
// JSON body with the message.
func writeFault(w http.ResponseWriter, f *Fault) {
	code := normalizeCode(f.Code)
	status := f.Status
	if status == 0 {
		status = StatusFor(code)
	}
	body := map[string]any{"message": faultMessage(f, code)}
	if code == "ModelErrorException" {
		body["originalStatusCode"] = 500
	}
	b, _ := json.Marshal(body)
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, b)
}

// ---- Converse bodies ----

type wireMessage struct {
	Role    string           `json:"role"`
	Content []map[string]any `json:"content"`
}

func converseResponse(rep Reply, reqBody []byte) ([]byte, error) {
	content, err := encodeMessageParts(rep.Message.Parts)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"output":     map[string]any{"message": wireMessage{Role: "assistant", Content: content}},
		"stopReason": stopReason(rep),
		"usage":      wireUsage(rep.Usage),
		"metrics":    map[string]any{"latencyMs": rep.LatencyMs},
	}
	if len(rep.AdditionalFields) > 0 {
		out["additionalModelResponseFields"] = rep.AdditionalFields
	}
	servedTier(rep, reqBody, out)
	return json.Marshal(out)
}

// servedTier adds serviceTier and performanceConfig to a response (or the
// metadata event): the reply's, else what the request asked for.
func servedTier(rep Reply, reqBody []byte, out map[string]any) {
	tier, latency := requestedTier(reqBody)
	if rep.ServiceTier != "" {
		tier = string(rep.ServiceTier)
	}
	if rep.LatencyMode != "" {
		latency = string(rep.LatencyMode)
	}
	if tier != "" {
		out["serviceTier"] = map[string]any{"type": tier}
	}
	if latency != "" {
		out["performanceConfig"] = map[string]any{"latency": latency}
	}
}

// encodeMessageParts maps the parts of a message (not of a tool result):
// a JSON part there is not a ContentBlock.
func encodeMessageParts(parts []bedrockkit.Part) ([]map[string]any, error) {
	for i, p := range parts {
		if _, ok := p.(bedrockkit.JSON); ok {
			return nil, fmt.Errorf("part %d is a JSON part, which is not a Bedrock ContentBlock (JSON content is allowed only inside a ToolResult); script the JSON as Text, or inside a ToolResult", i)
		}
	}
	return encodeParts(parts)
}

func stopReason(rep Reply) string {
	if rep.StopReason != "" {
		return string(rep.StopReason)
	}
	return string(defaultStopReason(rep.Message))
}

func wireUsage(u bedrockkit.Usage) map[string]any {
	m := map[string]any{
		"inputTokens":  u.InputTokens,
		"outputTokens": u.OutputTokens,
		"totalTokens":  u.Total(),
	}
	if u.CacheReadTokens > 0 {
		m["cacheReadInputTokens"] = u.CacheReadTokens
	}
	if u.CacheWriteTokens > 0 {
		m["cacheWriteInputTokens"] = u.CacheWriteTokens
	}
	return m
}

// encodeParts maps bedrockkit parts to Bedrock's ContentBlock JSON.
func encodeParts(parts []bedrockkit.Part) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(parts))
	for _, p := range parts {
		b, err := encodePart(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func encodePart(p bedrockkit.Part) (map[string]any, error) {
	switch p := p.(type) {
	case bedrockkit.Text:
		return map[string]any{"text": p.Text}, nil
	case bedrockkit.CitedText:
		cits := make([]map[string]any, 0, len(p.Sources))
		for _, s := range p.Sources {
			cits = append(cits, wireCitation(s))
		}
		return map[string]any{"citationsContent": map[string]any{
			"content":   []map[string]any{{"text": p.Text}},
			"citations": cits,
		}}, nil
	case bedrockkit.Image:
		src, err := source(p.Bytes, "", p.S3URI)
		if err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
		return map[string]any{"image": map[string]any{"format": string(p.Format), "source": src}}, nil
	case bedrockkit.Document:
		src, err := source(p.Bytes, p.Text, p.S3URI)
		if err != nil {
			return nil, fmt.Errorf("document %q: %w", p.Name, err)
		}
		doc := map[string]any{"format": string(p.Format), "name": p.Name, "source": src}
		if p.Citations {
			doc["citations"] = map[string]any{"enabled": true}
		}
		return map[string]any{"document": doc}, nil
	case bedrockkit.JSON:
		if !json.Valid(p.Value) {
			return nil, fmt.Errorf("json part is not valid JSON")
		}
		return map[string]any{"json": json.RawMessage(p.Value)}, nil
	case bedrockkit.ToolCall:
		in := json.RawMessage(p.Input)
		if len(bytes.TrimSpace(in)) == 0 {
			in = json.RawMessage("{}")
		}
		if !json.Valid(in) {
			return nil, fmt.Errorf("tool call %q input is not valid JSON", p.Name)
		}
		return map[string]any{"toolUse": map[string]any{"toolUseId": p.ID, "name": p.Name, "input": in}}, nil
	case bedrockkit.ToolResult:
		content, err := encodeParts(p.Parts)
		if err != nil {
			return nil, fmt.Errorf("tool result %q: %w", p.CallID, err)
		}
		status := "success"
		if p.IsError {
			status = "error"
		}
		return map[string]any{"toolResult": map[string]any{"toolUseId": p.CallID, "content": content, "status": status}}, nil
	case bedrockkit.Reasoning:
		if len(p.Redacted) > 0 {
			return map[string]any{"reasoningContent": map[string]any{"redactedContent": p.Redacted}}, nil
		}
		rt := map[string]any{"text": p.Text}
		if p.Signature != "" {
			rt["signature"] = p.Signature
		}
		return map[string]any{"reasoningContent": map[string]any{"reasoningText": rt}}, nil
	case bedrockkit.CachePoint:
		cp := map[string]any{"type": "default"}
		if p.TTL != "" {
			cp["ttl"] = string(p.TTL)
		}
		return map[string]any{"cachePoint": cp}, nil
	}
	return nil, fmt.Errorf("unsupported part type %T", p)
}

// wireCitation builds a Converse Citation (or the fields of a
// CitationsDelta) from a source.
func wireCitation(s bedrockkit.CitationSource) map[string]any {
	c := map[string]any{}
	if s.Title != "" {
		c["title"] = s.Title
	}
	if s.URI != "" && s.Location.Kind != bedrockkit.LocationWeb {
		c["source"] = s.URI
	}
	if s.Text != "" {
		c["sourceContent"] = []map[string]any{{"text": s.Text}}
	}
	l := s.Location
	span := map[string]any{"documentIndex": l.Index, "start": l.Start, "end": l.End}
	switch l.Kind {
	case bedrockkit.LocationDocumentChar:
		c["location"] = map[string]any{"documentChar": span}
	case bedrockkit.LocationDocumentChunk:
		c["location"] = map[string]any{"documentChunk": span}
	case bedrockkit.LocationDocumentPage:
		c["location"] = map[string]any{"documentPage": span}
	case bedrockkit.LocationSearchResult:
		c["location"] = map[string]any{"searchResultLocation": map[string]any{"searchResultIndex": l.Index, "start": l.Start, "end": l.End}}
	case bedrockkit.LocationWeb:
		c["location"] = map[string]any{"web": map[string]any{"url": s.URI}}
	}
	return c
}

// source builds an ImageSource / DocumentSource. []byte marshals as base64,
// which is how restJson1 sends blobs.
func source(b []byte, text, s3 string) (map[string]any, error) {
	switch {
	case b != nil:
		return map[string]any{"bytes": b}, nil
	case text != "":
		return map[string]any{"text": text}, nil
	case s3 != "":
		return map[string]any{"s3Location": map[string]any{"uri": s3}}, nil
	}
	return nil, fmt.Errorf("no bytes, text or S3 URI")
}

// ---- ConverseStream ----

// wireEvent is one event-stream message before encoding.
type wireEvent struct {
	typ     string
	payload any
}

func streamEvents(rep Reply, reqBody []byte) ([]wireEvent, error) {
	if _, err := encodeMessageParts(rep.Message.Parts); err != nil {
		return nil, err
	}
	chunk := rep.ChunkSize
	if chunk <= 0 {
		chunk = 4
	}
	evs := []wireEvent{{"messageStart", map[string]any{"role": "assistant"}}}
	delta := func(i int, d any) wireEvent {
		return wireEvent{"contentBlockDelta", map[string]any{"contentBlockIndex": i, "delta": d}}
	}
	idx := 0
	for _, p := range rep.Message.Parts {
		i := idx
		switch p := p.(type) {
		case bedrockkit.Text:
			for _, c := range splitText(p.Text, chunk) {
				evs = append(evs, delta(i, map[string]any{"text": c}))
			}
		case bedrockkit.CitedText:
			for _, c := range splitText(p.Text, chunk) {
				evs = append(evs, delta(i, map[string]any{"text": c}))
			}
			for _, src := range p.Sources {
				evs = append(evs, delta(i, map[string]any{"citation": wireCitation(src)}))
			}
		case bedrockkit.Reasoning:
			for _, c := range splitText(p.Text, chunk) {
				evs = append(evs, delta(i, map[string]any{"reasoningContent": map[string]any{"text": c}}))
			}
			if p.Signature != "" {
				evs = append(evs, delta(i, map[string]any{"reasoningContent": map[string]any{"signature": p.Signature}}))
			}
			if len(p.Redacted) > 0 {
				evs = append(evs, delta(i, map[string]any{"reasoningContent": map[string]any{"redactedContent": p.Redacted}}))
			}
		case bedrockkit.ToolCall:
			evs = append(evs, wireEvent{"contentBlockStart", map[string]any{
				"contentBlockIndex": i,
				"start":             map[string]any{"toolUse": map[string]any{"toolUseId": p.ID, "name": p.Name}},
			}})
			in := string(p.Input)
			if strings.TrimSpace(in) == "" {
				in = "{}"
			}
			for _, frag := range splitBytes(in, chunk) {
				evs = append(evs, delta(i, map[string]any{"toolUse": map[string]any{"input": frag}}))
			}
		default:
			continue // models do not stream other content
		}
		evs = append(evs, wireEvent{"contentBlockStop", map[string]any{"contentBlockIndex": i}})
		idx++
	}
	stop := map[string]any{"stopReason": stopReason(rep)}
	if len(rep.AdditionalFields) > 0 {
		stop["additionalModelResponseFields"] = rep.AdditionalFields
	}
	md := map[string]any{"usage": wireUsage(rep.Usage), "metrics": map[string]any{"latencyMs": rep.LatencyMs}}
	servedTier(rep, reqBody, md)
	evs = append(evs, wireEvent{"messageStop", stop}, wireEvent{"metadata", md})
	return evs, nil
}

func (f *FakeBedrock) serveConverseStream(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	modelID := r.PathValue("modelId")
	f.note(OpConverseStream, modelID, r, body)
	if !f.checkConverseRequest(w, OpConverseStream, modelID, body) {
		return
	}
	rep, ok := f.take(OpConverseStream)
	switch {
	case !ok:
		noReply(w, OpConverseStream)
		return
	case rep.Fault != nil:
		writeFault(w, rep.Fault)
		return
	}
	evs, err := streamEvents(rep, body)
	if err != nil {
		writeFault(w, &Fault{Code: "InternalServerException", Message: "fakebedrock: invalid scripted reply: " + err.Error()})
		return
	}
	f.sendEvents(w, r, evs, rep.Interrupt)
}

// sendEvents writes evs as an event stream, with the interrupt if any.
func (f *FakeBedrock) sendEvents(w http.ResponseWriter, r *http.Request, evs []wireEvent, interrupt *Interrupt) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-RequestId", "fakebedrock-request")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := eventstream.NewEncoder()
	for i := 0; i <= len(evs); i++ {
		if in := interrupt; in != nil && (i == in.AfterEvents || (i == len(evs) && in.AfterEvents > len(evs))) {
			f.interrupt(w, rc, enc, r, in)
			return
		}
		if i == len(evs) {
			return
		}
		payload, err := json.Marshal(evs[i].payload)
		if err != nil {
			return // cannot happen: payloads are built from JSON-safe values
		}
		msg := eventstream.Message{Payload: payload}
		msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
		msg.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue(evs[i].typ))
		msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
		if err := enc.Encode(w, msg); err != nil {
			return // client went away
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func (f *FakeBedrock) interrupt(w http.ResponseWriter, rc *http.ResponseController, enc *eventstream.Encoder, r *http.Request, in *Interrupt) {
	switch {
	case in.Fault != nil:
		code := normalizeCode(in.Fault.Code)
		body := map[string]any{"message": faultMessage(in.Fault, code)}
		if code == "ModelStreamErrorException" {
			body["originalStatusCode"] = 500
			body["originalMessage"] = body["message"]
		}
		payload, _ := json.Marshal(body)
		msg := eventstream.Message{Payload: payload}
		msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.ExceptionMessageType))
		msg.Headers.Set(eventstream.ExceptionTypeHeader, eventstream.StringValue(lowerFirst(code)))
		msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
		_ = enc.Encode(w, msg)
		_ = rc.Flush()
	case in.Stall:
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
	case in.Malformed:
		var buf bytes.Buffer
		msg := eventstream.Message{Payload: []byte(`{"contentBlockIndex":0,"delta":{"text":"garbled"}}`)}
		msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
		msg.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue("contentBlockDelta"))
		_ = enc.Encode(&buf, msg)
		b := buf.Bytes()
		b[len(b)-1] ^= 0xff // break the message checksum
		_, _ = w.Write(b)
		_ = rc.Flush()
	}
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// ---- ApplyGuardrail ----

func (f *FakeBedrock) serveApplyGuardrail(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	rep, ok, _ := f.record(OpApplyGuardrail, r.PathValue("id"), r, body)
	switch {
	case ok && rep.Fault != nil:
		writeFault(w, rep.Fault)
		return
	case ok && len(rep.Body) > 0:
		writeJSON(w, http.StatusOK, rep.Body)
		return
	}
	var req struct {
		Source  string            `json:"source"`
		Content []json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeFault(w, &Fault{Code: "ValidationException", Message: "fakebedrock: request body is not valid JSON: " + err.Error()})
		return
	}
	if req.Source != "INPUT" && req.Source != "OUTPUT" {
		writeFault(w, &Fault{Code: "ValidationException", Message: fmt.Sprintf("fakebedrock: source must be INPUT or OUTPUT, got %q", req.Source)})
		return
	}
	if len(req.Content) == 0 {
		writeFault(w, &Fault{Code: "ValidationException", Message: "fakebedrock: content must not be empty"})
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"usage":{"topicPolicyUnits":0,"contentPolicyUnits":0,"wordPolicyUnits":0,"sensitiveInformationPolicyUnits":0,"sensitiveInformationPolicyFreeUnits":0,"contextualGroundingPolicyUnits":0},"action":"NONE","outputs":[],"assessments":[]}`))
}
