package bedrockkittest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
)

// EvaluationCall is one Evaluate request received by FakeEvaluations, as
// the scorer sees it: the evaluator, the session's traces read from the
// span documents, the target and the reference inputs.
type EvaluationCall struct {
	EvaluatorID string
	SessionID   string
	// Traces are the session's traces, in the order their first document
	// came.
	Traces []EvaluatedTrace
	// TargetTraceIDs and TargetSpanIDs are the evaluationTarget (at most
	// one is set; neither means the whole session).
	TargetTraceIDs, TargetSpanIDs []string
	References                    []EvaluationReference
	// Documents are the raw sessionSpans documents.
	Documents []map[string]any
}

// EvaluatedTrace is one trace (one request and response) of a session:
// the text of its agent span's input and output messages and the tool
// spans under it.
type EvaluatedTrace struct {
	TraceID       string
	Input, Output string
	Tools         []EvaluatedTool
}

// EvaluatedTool is one tool span (gen_ai.operation.name execute_tool).
type EvaluatedTool struct {
	SpanID, Name  string
	Input, Output string
}

// EvaluationReference is one evaluationReferenceInputs entry.
type EvaluationReference struct {
	TraceID, SpanID   string
	ExpectedResponse  string
	Assertions        []string
	ExpectedToolNames []string
}

// EvaluationScore is one evaluation result a scorer returns.
type EvaluationScore struct {
	// TraceID and SpanID place the result (its spanContext); empty
	// TraceID means the session.
	TraceID, SpanID string
	// Value is the numeric score; nil sends none (a categorical result).
	Value *float64
	Label string
	// Explanation is the evaluator's reasoning.
	Explanation               string
	InputTokens, OutputTokens int
	// ErrorCode and ErrorMessage report a failed evaluation.
	ErrorCode, ErrorMessage string
}

// FakeEvaluations is an in-process Amazon Bedrock AgentCore Evaluations
// data plane serving Evaluate (POST /evaluations/evaluate/{evaluatorId})
// over its REST-JSON wire protocol, so a real *bedrockagentcore.Client
// pointed at it (see Client) works unchanged.
//
// It validates what the service documents: an evaluator ID that is
// Builtin.<Name> or a custom <name>-<10 characters>; 1 to 1,000
// sessionSpans documents, each a span (spanId of 16 and traceId of 32
// hex digits, name, scope.name, start and end times, attributes with
// session.id, one session for all) or a log-record event (body, and the
// traceId and spanId of a span it belongs to); at least one span in a
// supported scope (strands.telemetry.tracer,
// opentelemetry.instrumentation.langchain,
// openinference.instrumentation.langchain), and an event for each agent
// (invoke_agent) span of those scopes; an evaluationTarget of 1 to 10
// known span IDs or trace IDs, not both; at most 1,000 reference inputs
// naming the session, with an expected response of at most 100,000
// characters and at most 100 assertions. Anything else is a
// ValidationException, as from the service.
//
// Scores come from the scorer set with SetScorer, which sees the request
// parsed into traces (the fake judges nothing itself); without one every
// result carries the error code "FakeNoScorer". Authentication is not
// checked. It is safe for concurrent use.
type FakeEvaluations struct {
	srv *httptest.Server

	mu     sync.Mutex
	scorer func(EvaluationCall) []EvaluationScore
	faults []Fault
	calls  []EvaluationCall
}

// NewFakeEvaluations starts a FakeEvaluations closed when the test ends.
func NewFakeEvaluations(t testing.TB) *FakeEvaluations {
	t.Helper()
	f := StartFakeEvaluations()
	t.Cleanup(f.Close)
	return f
}

// StartFakeEvaluations starts a FakeEvaluations outside a test; the caller
// must Close it.
func StartFakeEvaluations() *FakeEvaluations {
	f := &FakeEvaluations{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /evaluations/evaluate/{evaluatorId}", f.serveEvaluate)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakeevaluations: no operation at %s %s; FakeEvaluations serves Evaluate", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeEvaluations) URL() string { return f.srv.URL }

// Close shuts the server down. Calling it again does nothing.
func (f *FakeEvaluations) Close() { f.srv.Close() }

// Client returns a real AgentCore data-plane client for the server: region
// us-east-1, static fake credentials, BaseEndpoint set to URL and SDK
// retries off. optFns run last.
func (f *FakeEvaluations) Client(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	opts := bedrockagentcore.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEEVALUATIONS", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	return bedrockagentcore.New(opts, optFns...)
}

// SetScorer sets the function that scores each valid Evaluate call.
func (f *FakeEvaluations) SetScorer(fn func(EvaluationCall) []EvaluationScore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scorer = fn
}

// FailNext makes the next Evaluate calls fail with these faults, in order.
func (f *FakeEvaluations) FailNext(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Calls returns the valid Evaluate calls received so far, in order.
func (f *FakeEvaluations) Calls() []EvaluationCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

var (
	evaluatorIDPattern = regexp.MustCompile(`^(Builtin\.[a-zA-Z0-9_-]+|[a-zA-Z][a-zA-Z0-9_-]{0,99}-[a-zA-Z0-9]{10})$`)
	hex16              = regexp.MustCompile(`^[0-9a-f]{16}$`)
	hex32              = regexp.MustCompile(`^[0-9a-f]{32}$`)
	evaluationScopes   = []string{"strands.telemetry.tracer", "opentelemetry.instrumentation.langchain", "openinference.instrumentation.langchain"}
)

// maxEvaluateBody bounds a request body (the service's own limit is larger).
const maxEvaluateBody = 64 << 20

func evInvalid(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ValidationException", Message: "fakeevaluations: " + fmt.Sprintf(format, args...)})
}

type evaluateRequest struct {
	EvaluationInput *struct {
		SessionSpans []json.RawMessage `json:"sessionSpans"`
	} `json:"evaluationInput"`
	EvaluationTarget *struct {
		SpanIDs  []string `json:"spanIds"`
		TraceIDs []string `json:"traceIds"`
	} `json:"evaluationTarget"`
	EvaluationReferenceInputs []struct {
		Context *struct {
			SpanContext *struct {
				SessionID *string `json:"sessionId"`
				TraceID   string  `json:"traceId"`
				SpanID    string  `json:"spanId"`
			} `json:"spanContext"`
		} `json:"context"`
		ExpectedResponse *struct {
			Text string `json:"text"`
		} `json:"expectedResponse"`
		Assertions []struct {
			Text string `json:"text"`
		} `json:"assertions"`
		ExpectedTrajectory *struct {
			ToolNames []string `json:"toolNames"`
		} `json:"expectedTrajectory"`
	} `json:"evaluationReferenceInputs"`
}

func (f *FakeEvaluations) serveEvaluate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEvaluateBody+1))
	if err != nil {
		evInvalid(w, "cannot read the request body: %v", err)
		return
	}
	if len(body) > maxEvaluateBody {
		evInvalid(w, "the request body is over %d bytes", maxEvaluateBody)
		return
	}
	f.mu.Lock()
	if len(f.faults) > 0 {
		fault := f.faults[0]
		f.faults = f.faults[1:]
		f.mu.Unlock()
		writeFault(w, &fault)
		return
	}
	f.mu.Unlock()
	id := r.PathValue("evaluatorId")
	if !evaluatorIDPattern.MatchString(id) {
		evInvalid(w, "evaluatorId %q does not match (Builtin.[a-zA-Z0-9_-]+|[a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10})", id)
		return
	}
	var req evaluateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		evInvalid(w, "the request body is not valid JSON: %v", err)
		return
	}
	if req.EvaluationInput == nil || len(req.EvaluationInput.SessionSpans) == 0 {
		evInvalid(w, "evaluationInput.sessionSpans is required and must hold 1 to 1000 documents")
		return
	}
	if n := len(req.EvaluationInput.SessionSpans); n > 1000 {
		evInvalid(w, "evaluationInput.sessionSpans holds %d documents; the maximum is 1000", n)
		return
	}
	call, msg := parseSession(id, req.EvaluationInput.SessionSpans)
	if msg != "" {
		evInvalid(w, "%s", msg)
		return
	}
	if t := req.EvaluationTarget; t != nil {
		switch {
		case len(t.SpanIDs) > 0 && len(t.TraceIDs) > 0:
			evInvalid(w, "evaluationTarget is a union: set spanIds or traceIds, not both")
			return
		case len(t.SpanIDs) == 0 && len(t.TraceIDs) == 0:
			evInvalid(w, "evaluationTarget must set spanIds or traceIds")
			return
		case len(t.SpanIDs) > 10 || len(t.TraceIDs) > 10:
			evInvalid(w, "evaluationTarget holds more than 10 IDs")
			return
		}
		for _, s := range t.SpanIDs {
			if len(s) != 16 || !call.hasSpan(s) {
				evInvalid(w, "evaluationTarget.spanIds: %q is not a span of the session (span IDs have 16 characters)", s)
				return
			}
		}
		for _, s := range t.TraceIDs {
			if len(s) != 32 || call.trace(s) == nil {
				evInvalid(w, "evaluationTarget.traceIds: %q is not a trace of the session (trace IDs have 32 characters)", s)
				return
			}
		}
		call.TargetSpanIDs, call.TargetTraceIDs = t.SpanIDs, t.TraceIDs
	}
	if n := len(req.EvaluationReferenceInputs); n > 1000 {
		evInvalid(w, "evaluationReferenceInputs holds %d entries; the maximum is 1000", n)
		return
	}
	for i, ri := range req.EvaluationReferenceInputs {
		if ri.Context == nil || ri.Context.SpanContext == nil || ri.Context.SpanContext.SessionID == nil {
			evInvalid(w, "evaluationReferenceInputs[%d].context.spanContext.sessionId is required", i)
			return
		}
		sc := ri.Context.SpanContext
		if *sc.SessionID != call.SessionID {
			evInvalid(w, "evaluationReferenceInputs[%d] names session %q; the spans are of session %q", i, *sc.SessionID, call.SessionID)
			return
		}
		ref := EvaluationReference{TraceID: sc.TraceID, SpanID: sc.SpanID}
		if ri.ExpectedResponse != nil {
			if len([]rune(ri.ExpectedResponse.Text)) > 100_000 {
				evInvalid(w, "evaluationReferenceInputs[%d].expectedResponse.text is over 100000 characters", i)
				return
			}
			ref.ExpectedResponse = ri.ExpectedResponse.Text
		}
		if len(ri.Assertions) > 100 {
			evInvalid(w, "evaluationReferenceInputs[%d] holds more than 100 assertions", i)
			return
		}
		for _, a := range ri.Assertions {
			ref.Assertions = append(ref.Assertions, a.Text)
		}
		if ri.ExpectedTrajectory != nil {
			ref.ExpectedToolNames = ri.ExpectedTrajectory.ToolNames
		}
		call.References = append(call.References, ref)
	}
	f.mu.Lock()
	f.calls = append(f.calls, *call)
	scorer := f.scorer
	f.mu.Unlock()
	var scores []EvaluationScore
	if scorer != nil {
		scores = scorer(*call)
	} else {
		scores = []EvaluationScore{{ErrorCode: "FakeNoScorer", ErrorMessage: "fakeevaluations: no scorer; call SetScorer"}}
	}
	results := make([]map[string]any, 0, len(scores))
	name := strings.TrimPrefix(id, "Builtin.")
	arn := "arn:aws:bedrock-agentcore:::evaluator/" + id
	if !strings.HasPrefix(id, "Builtin.") {
		arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:evaluator/" + id
	}
	for _, s := range scores {
		sc := map[string]any{"sessionId": call.SessionID}
		if s.TraceID != "" {
			sc["traceId"] = s.TraceID
		}
		if s.SpanID != "" {
			sc["spanId"] = s.SpanID
		}
		res := map[string]any{"evaluatorArn": arn, "evaluatorId": id, "evaluatorName": name, "context": map[string]any{"spanContext": sc},
			"tokenUsage": map[string]any{"inputTokens": s.InputTokens, "outputTokens": s.OutputTokens, "totalTokens": s.InputTokens + s.OutputTokens}}
		if s.Value != nil {
			res["value"] = *s.Value
		}
		for k, v := range map[string]string{"label": s.Label, "explanation": s.Explanation, "errorCode": s.ErrorCode, "errorMessage": s.ErrorMessage} {
			if v != "" {
				res[k] = v
			}
		}
		results = append(results, res)
	}
	out, _ := json.Marshal(map[string]any{"evaluationResults": results})
	writeJSON(w, http.StatusOK, out)
}

func (c *EvaluationCall) trace(id string) *EvaluatedTrace {
	for i := range c.Traces {
		if c.Traces[i].TraceID == id {
			return &c.Traces[i]
		}
	}
	return nil
}

func (c *EvaluationCall) hasSpan(id string) bool {
	for _, d := range c.Documents {
		if _, isSpan := d["name"]; isSpan && d["spanId"] == id {
			return true
		}
	}
	return false
}

// parseSession validates the documents and reads them into traces; it
// returns the problem, if any.
func parseSession(evaluator string, raws []json.RawMessage) (*EvaluationCall, string) {
	call := &EvaluationCall{EvaluatorID: evaluator}
	type spanInfo struct {
		trace, op, tool string
		supported       bool
		hasEvent        bool
	}
	spans := map[string]*spanInfo{}
	var order []string
	var events []map[string]any
	for i, raw := range raws {
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil || d == nil {
			return nil, fmt.Sprintf("sessionSpans[%d] is not a JSON object", i)
		}
		call.Documents = append(call.Documents, d)
		if _, isSpan := d["name"]; !isSpan {
			if _, ok := d["body"].(map[string]any); !ok {
				return nil, fmt.Sprintf("sessionSpans[%d] is neither a span (name, spanId, traceId, ...) nor an event (body)", i)
			}
			events = append(events, d)
			continue
		}
		sid, _ := d["spanId"].(string)
		tid, _ := d["traceId"].(string)
		name, _ := d["name"].(string)
		scope, _ := d["scope"].(map[string]any)
		scopeName, _ := scope["name"].(string)
		attrs, _ := d["attributes"].(map[string]any)
		session, _ := attrs["session.id"].(string)
		switch {
		case !hex16.MatchString(sid):
			return nil, fmt.Sprintf("sessionSpans[%d].spanId %q must be 16 lower-case hex digits", i, sid)
		case !hex32.MatchString(tid):
			return nil, fmt.Sprintf("sessionSpans[%d].traceId %q must be 32 lower-case hex digits", i, tid)
		case name == "" || scopeName == "":
			return nil, fmt.Sprintf("sessionSpans[%d] needs a name and scope.name", i)
		case d["startTimeUnixNano"] == nil || d["endTimeUnixNano"] == nil:
			return nil, fmt.Sprintf("sessionSpans[%d] needs startTimeUnixNano and endTimeUnixNano", i)
		case attrs == nil || session == "":
			return nil, fmt.Sprintf("sessionSpans[%d].attributes needs session.id", i)
		case call.SessionID != "" && session != call.SessionID:
			return nil, fmt.Sprintf("sessionSpans[%d] is of session %q, not %q: one call evaluates one session", i, session, call.SessionID)
		case spans[sid] != nil:
			return nil, fmt.Sprintf("sessionSpans[%d] repeats span %s", i, sid)
		}
		call.SessionID = session
		op, _ := attrs["gen_ai.operation.name"].(string)
		tool, _ := attrs["gen_ai.tool.name"].(string)
		spans[sid] = &spanInfo{trace: tid, op: op, tool: tool, supported: slices.Contains(evaluationScopes, scopeName)}
		order = append(order, sid)
		if call.trace(tid) == nil {
			call.Traces = append(call.Traces, EvaluatedTrace{TraceID: tid})
		}
	}
	supported := false
	for _, s := range spans {
		supported = supported || s.supported
	}
	if !supported {
		return nil, "no span is in a supported scope (" + strings.Join(evaluationScopes, ", ") + ")"
	}
	for i, e := range events {
		sid, _ := e["spanId"].(string)
		tid, _ := e["traceId"].(string)
		s := spans[sid]
		if s == nil || s.trace != tid {
			return nil, fmt.Sprintf("event %d belongs to no span of the session (spanId %q, traceId %q)", i, sid, tid)
		}
		s.hasEvent = true
		body := e["body"].(map[string]any)
		in, out := messagesText(body["input"]), messagesText(body["output"])
		t := call.trace(tid)
		switch s.op {
		case "invoke_agent":
			t.Input, t.Output = in, out
		case "execute_tool":
			t.Tools = append(t.Tools, EvaluatedTool{SpanID: sid, Name: s.tool, Input: in, Output: out})
		}
	}
	for _, sid := range order {
		if s := spans[sid]; s.supported && s.op == "invoke_agent" && !s.hasEvent {
			return nil, fmt.Sprintf("span %s (invoke_agent) has no event with its input and output", sid)
		}
	}
	return call, ""
}

// messagesText joins the text of an event body's {"messages": [...]}:
// a content's "content" (a JSON list of {"text": ...} blocks, or plain
// text) or "message".
func messagesText(v any) string {
	m, _ := v.(map[string]any)
	msgs, _ := m["messages"].([]any)
	var parts []string
	for _, x := range msgs {
		msg, _ := x.(map[string]any)
		switch c := msg["content"].(type) {
		case string:
			parts = append(parts, c)
		case map[string]any:
			if s, ok := c["message"].(string); ok {
				parts = append(parts, s)
			}
			if s, ok := c["content"].(string); ok {
				var blocks []map[string]any
				if json.Unmarshal([]byte(s), &blocks) == nil {
					for _, b := range blocks {
						if t, ok := b["text"].(string); ok {
							parts = append(parts, t)
						}
					}
				} else {
					parts = append(parts, s)
				}
			}
		}
	}
	return strings.Join(parts, "\n")
}
