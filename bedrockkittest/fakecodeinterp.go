package bedrockkittest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/smithy-go/eventstream"
)

// SystemCodeInterpreter is the identifier of AWS's built-in code
// interpreter, which FakeCodeInterpreter always knows.
const SystemCodeInterpreter = "aws.codeinterpreter.v1"

// CodeCall is an executeCode call received by FakeCodeInterpreter, handed
// to its executor.
type CodeCall struct {
	CodeInterpreterID string
	SessionID         string
	// Language is "python", "javascript" or "typescript" (python when the
	// call names none).
	Language string
	Code     string
	// ClearContext is the call's clearContext argument.
	ClearContext bool
	// Files is the session's file space, by path; the executor may read
	// and change it (files the program writes).
	Files map[string][]byte
}

// CodeReply is an executor's answer to a CodeCall.
type CodeReply struct {
	Stdout, Stderr string
	ExitCode       int
	// IsError marks the result as failed; a non-zero ExitCode implies it.
	IsError bool
}

// CodeInterpreterFault fails the next InvokeCodeInterpreter call: with an
// HTTP error, or, when InStream is set, with an exception event inside an
// event stream that has already answered 200.
type CodeInterpreterFault struct {
	Fault
	InStream bool
}

// CodeInterpreterSession describes a session of FakeCodeInterpreter.
type CodeInterpreterSession struct {
	CodeInterpreterID string
	ID                string
	Name              string
	Status            string // READY or TERMINATED
	CreatedAt         time.Time
	Timeout           time.Duration
	Files             map[string][]byte

	lock *sync.Mutex // serialises the session's tool calls and guards Files
}

// FakeCodeInterpreter is an in-process Amazon Bedrock AgentCore Code
// Interpreter data plane serving StartCodeInterpreterSession,
// InvokeCodeInterpreter (a binary event stream), GetCodeInterpreterSession
// and StopCodeInterpreterSession over their real REST-JSON wire protocol,
// so a real *bedrockagentcore.Client pointed at it (see Client) works
// unchanged.
//
// Sessions keep a file space that writeFiles, readFiles, listFiles and
// removeFiles work on. executeCode is answered by the executor set with
// SetExecutor (the fake runs no code itself); without one it answers an
// error result. Requests are validated as the service documents: a known
// interpreter (SystemCodeInterpreter or one added with AddInterpreter),
// name 1..100 characters, sessionTimeoutSeconds 1..28800 (default 900), a
// session ID header on every invoke, a READY session, tool arguments
// present. A session past its timeout (by the clock set with SetNow) is
// TERMINATED. Errors come back the AWS way, which the SDK turns into its
// typed errors. Authentication is not checked.
//
// It is safe for concurrent use.
type FakeCodeInterpreter struct {
	srv *httptest.Server

	mu       sync.Mutex
	ids      map[string]bool
	sessions map[string]*CodeInterpreterSession
	exec     func(CodeCall) CodeReply
	faults   []CodeInterpreterFault
	calls    map[string]int
	now      func() time.Time
}

// NewFakeCodeInterpreter starts a FakeCodeInterpreter closed when the test
// ends.
func NewFakeCodeInterpreter(t testing.TB) *FakeCodeInterpreter {
	t.Helper()
	f := StartFakeCodeInterpreter()
	t.Cleanup(f.Close)
	return f
}

// StartFakeCodeInterpreter starts a FakeCodeInterpreter outside a test; the
// caller must Close it.
func StartFakeCodeInterpreter() *FakeCodeInterpreter {
	f := &FakeCodeInterpreter{
		ids:      map[string]bool{SystemCodeInterpreter: true},
		sessions: map[string]*CodeInterpreterSession{},
		calls:    map[string]int{},
		now:      time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /code-interpreters/{id}/sessions/start", f.serveStart)
	mux.HandleFunc("POST /code-interpreters/{id}/tools/invoke", f.serveInvoke)
	mux.HandleFunc("GET /code-interpreters/{id}/sessions/get", f.serveGet)
	mux.HandleFunc("PUT /code-interpreters/{id}/sessions/stop", f.serveStop)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakecodeinterp: no operation at %s %s; FakeCodeInterpreter serves Start/Get/StopCodeInterpreterSession and InvokeCodeInterpreter", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeCodeInterpreter) URL() string { return f.srv.URL }

// Close shuts the server down. Calling it again does nothing.
func (f *FakeCodeInterpreter) Close() { f.srv.Close() }

// Client returns a real AgentCore data-plane client for the server: region
// us-east-1, static fake credentials, BaseEndpoint set to URL and SDK
// retries off. optFns run last.
func (f *FakeCodeInterpreter) Client(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	opts := bedrockagentcore.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEAGENTCORE", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}
	return bedrockagentcore.New(opts, optFns...)
}

// AddInterpreter makes a custom code interpreter identifier known.
func (f *FakeCodeInterpreter) AddInterpreter(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids[id] = true
}

// SetExecutor sets the function that answers executeCode calls. Calls of
// one session run one at a time, and the executor may change CodeCall.Files.
func (f *FakeCodeInterpreter) SetExecutor(fn func(CodeCall) CodeReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exec = fn
}

// SetNow sets the clock used for session timeouts.
func (f *FakeCodeInterpreter) SetNow(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// FailNext makes the next InvokeCodeInterpreter calls fail, in order.
func (f *FakeCodeInterpreter) FailNext(faults ...CodeInterpreterFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Calls returns how many calls of an operation ("StartCodeInterpreterSession",
// "StopCodeInterpreterSession", "GetCodeInterpreterSession") or of a tool
// ("executeCode", "writeFiles", ...) the server received.
func (f *FakeCodeInterpreter) Calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// Sessions returns copies of all sessions, in no particular order.
func (f *FakeCodeInterpreter) Sessions() []CodeInterpreterSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]CodeInterpreterSession, 0, len(f.sessions))
	for _, s := range f.sessions {
		f.expire(s)
		c := *s
		c.lock = nil
		c.Files = map[string][]byte{}
		s.lock.Lock()
		for k, v := range s.Files {
			c.Files[k] = bytes.Clone(v)
		}
		s.lock.Unlock()
		out = append(out, c)
	}
	return out
}

// expire terminates s if its timeout has passed. f.mu is held.
func (f *FakeCodeInterpreter) expire(s *CodeInterpreterSession) {
	if s.Status == "READY" && f.now().Sub(s.CreatedAt) > s.Timeout {
		s.Status = "TERMINATED"
	}
}

func ciInvalid(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ValidationException", Message: "fakecodeinterp: " + fmt.Sprintf(format, args...)})
}

func ciNotFound(w http.ResponseWriter, format string, args ...any) {
	writeFault(w, &Fault{Code: "ResourceNotFoundException", Message: "fakecodeinterp: " + fmt.Sprintf(format, args...)})
}

func newSessionID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [26]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "01" + string(b[:])
}

func (f *FakeCodeInterpreter) serveStart(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Name                  *string `json:"name"`
		SessionTimeoutSeconds *int64  `json:"sessionTimeoutSeconds"`
		ClientToken           *string `json:"clientToken"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			ciInvalid(w, "request body is not valid JSON: %v", err)
			return
		}
	}
	id := r.PathValue("id")
	timeout := int64(900)
	if req.SessionTimeoutSeconds != nil {
		timeout = *req.SessionTimeoutSeconds
	}
	switch {
	case req.Name != nil && (utf8.RuneCountInString(*req.Name) < 1 || utf8.RuneCountInString(*req.Name) > 100):
		ciInvalid(w, "name must be 1 to 100 characters, got %d", utf8.RuneCountInString(*req.Name))
		return
	case timeout < 1 || timeout > 28800:
		ciInvalid(w, "sessionTimeoutSeconds must be between 1 and 28800, got %d", timeout)
		return
	}
	f.mu.Lock()
	f.calls["StartCodeInterpreterSession"]++
	if !f.ids[id] {
		f.mu.Unlock()
		ciNotFound(w, "code interpreter %s does not exist", id)
		return
	}
	s := &CodeInterpreterSession{CodeInterpreterID: id, ID: newSessionID(), Status: "READY",
		CreatedAt: f.now().UTC(), Timeout: time.Duration(timeout) * time.Second, Files: map[string][]byte{}, lock: &sync.Mutex{}}
	if req.Name != nil {
		s.Name = *req.Name
	}
	f.sessions[s.ID] = s
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"codeInterpreterIdentifier": id, "sessionId": s.ID, "createdAt": s.CreatedAt.Format(time.RFC3339Nano)})
	writeJSON(w, http.StatusOK, b)
}

func (f *FakeCodeInterpreter) serveGet(w http.ResponseWriter, r *http.Request) {
	id, sid := r.PathValue("id"), r.URL.Query().Get("sessionId")
	f.mu.Lock()
	f.calls["GetCodeInterpreterSession"]++
	s, ok := f.sessions[sid]
	if ok {
		f.expire(s)
	}
	var out []byte
	if ok && s.CodeInterpreterID == id {
		out, _ = json.Marshal(map[string]any{"codeInterpreterIdentifier": id, "sessionId": s.ID, "name": s.Name,
			"createdAt": s.CreatedAt.Format(time.RFC3339Nano), "sessionTimeoutSeconds": int64(s.Timeout / time.Second), "status": s.Status})
	}
	f.mu.Unlock()
	if out == nil {
		ciNotFound(w, "session %q of code interpreter %s does not exist", sid, id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *FakeCodeInterpreter) serveStop(w http.ResponseWriter, r *http.Request) {
	if _, ok := readBody(w, r); !ok {
		return
	}
	id, sid := r.PathValue("id"), r.URL.Query().Get("sessionId")
	if sid == "" {
		ciInvalid(w, "sessionId is required")
		return
	}
	f.mu.Lock()
	f.calls["StopCodeInterpreterSession"]++
	s, ok := f.sessions[sid]
	if ok && s.CodeInterpreterID == id {
		s.Status = "TERMINATED"
	}
	now := f.now().UTC()
	f.mu.Unlock()
	if !ok || s.CodeInterpreterID != id {
		ciNotFound(w, "session %q of code interpreter %s does not exist", sid, id)
		return
	}
	b, _ := json.Marshal(map[string]any{"codeInterpreterIdentifier": id, "sessionId": sid, "lastUpdatedAt": now.Format(time.RFC3339Nano)})
	writeJSON(w, http.StatusOK, b)
}

type ciInvokeBody struct {
	Name      string `json:"name"`
	Arguments *struct {
		Code         *string  `json:"code"`
		Language     string   `json:"language"`
		ClearContext bool     `json:"clearContext"`
		Paths        []string `json:"paths"`
		Content      []struct {
			Path *string `json:"path"`
			Text *string `json:"text"`
			Blob []byte  `json:"blob"`
		} `json:"content"`
		DirectoryPath *string `json:"directoryPath"`
	} `json:"arguments"`
}

func (f *FakeCodeInterpreter) serveInvoke(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	id, sid := r.PathValue("id"), r.Header.Get("x-amzn-code-interpreter-session-id")
	var req ciInvokeBody
	if err := json.Unmarshal(body, &req); err != nil {
		ciInvalid(w, "request body is not valid JSON: %v", err)
		return
	}
	f.mu.Lock()
	f.calls[req.Name]++
	var fault *CodeInterpreterFault
	if len(f.faults) > 0 {
		fault = &f.faults[0]
		f.faults = f.faults[1:]
	}
	s, known := f.sessions[sid]
	if known {
		f.expire(s)
	}
	exec := f.exec
	f.mu.Unlock()
	if fault != nil && !fault.InStream {
		writeFault(w, &fault.Fault)
		return
	}
	switch {
	case sid == "":
		ciInvalid(w, "the x-amzn-code-interpreter-session-id header is required: start a session first")
		return
	case !known || s.CodeInterpreterID != id:
		ciNotFound(w, "session %q of code interpreter %s does not exist", sid, id)
		return
	case s.Status != "READY":
		ciNotFound(w, "session %q is %s", sid, s.Status)
		return
	case req.Arguments == nil:
		ciInvalid(w, "arguments are required for tool %q", req.Name)
		return
	}
	result, bad := runCITool(s, id, sid, req, exec)
	if bad != "" {
		ciInvalid(w, "%s", bad)
		return
	}

	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("x-amzn-code-interpreter-session-id", sid)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := eventstream.NewEncoder()
	if fault != nil { // in-stream exception
		code := normalizeCode(fault.Code)
		payload, _ := json.Marshal(map[string]string{"message": faultMessage(&fault.Fault, code)})
		msg := eventstream.Message{Payload: payload}
		msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.ExceptionMessageType))
		msg.Headers.Set(eventstream.ExceptionTypeHeader, eventstream.StringValue(lowerFirst(code)))
		msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
		_ = enc.Encode(w, msg)
		_ = rc.Flush()
		return
	}
	payload, _ := json.Marshal(result)
	msg := eventstream.Message{Payload: payload}
	msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
	msg.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue("result"))
	msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
	_ = enc.Encode(w, msg)
	_ = rc.Flush()
}

// ciClean maps a path the way the sandbox's working directory resolves it.
func ciClean(p string) string {
	p = strings.TrimPrefix(p, "file://")
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func ciMime(p string) string {
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// runCITool runs one tool call on session s, holding the session's lock. It
// returns the result event's fields, or the reason the call is invalid.
func runCITool(s *CodeInterpreterSession, id, sid string, req ciInvokeBody, exec func(CodeCall) CodeReply) (map[string]any, string) {
	s.lock.Lock()
	defer s.lock.Unlock()
	a := req.Arguments
	result := map[string]any{}
	text := func(t string, isErr bool) {
		result["content"] = []map[string]any{{"type": "text", "text": t}}
		result["isError"] = isErr
	}
	switch req.Name {
	case "executeCode":
		lang := a.Language
		if lang == "" {
			lang = "python"
		}
		if a.Code == nil {
			return nil, "executeCode needs arguments.code"
		}
		if lang != "python" && lang != "javascript" && lang != "typescript" {
			return nil, fmt.Sprintf("language must be python, javascript or typescript, got %q", lang)
		}
		reply := CodeReply{IsError: true, ExitCode: 1, Stderr: "FakeCodeInterpreter has no executor: call SetExecutor"}
		start := time.Now()
		if exec != nil {
			reply = exec(CodeCall{CodeInterpreterID: id, SessionID: sid, Language: lang, Code: *a.Code, ClearContext: a.ClearContext, Files: s.Files})
		}
		isErr := reply.IsError || reply.ExitCode != 0
		out := reply.Stdout
		if isErr && reply.Stderr != "" {
			out = reply.Stderr
		}
		result["content"] = []map[string]any{{"type": "text", "text": out}}
		result["structuredContent"] = map[string]any{"stdout": reply.Stdout, "stderr": reply.Stderr,
			"exitCode": reply.ExitCode, "executionTime": time.Since(start).Seconds()}
		result["isError"] = isErr
	case "writeFiles":
		if len(a.Content) == 0 {
			return nil, "writeFiles needs arguments.content"
		}
		for _, c := range a.Content {
			if c.Path == nil || *c.Path == "" {
				return nil, "every writeFiles content block needs a path"
			}
		}
		for _, c := range a.Content {
			data := c.Blob
			if c.Text != nil {
				data = []byte(*c.Text)
			}
			s.Files[ciClean(*c.Path)] = bytes.Clone(data)
		}
		text(fmt.Sprintf("Successfully wrote %d file(s)", len(a.Content)), false)
	case "readFiles", "removeFiles":
		if len(a.Paths) == 0 {
			return nil, req.Name + " needs arguments.paths"
		}
		var blocks []map[string]any
		var missing []string
		for _, p := range a.Paths {
			key := ciClean(p)
			data, ok := s.Files[key]
			if !ok {
				missing = append(missing, p)
				continue
			}
			if req.Name == "removeFiles" {
				delete(s.Files, key)
				continue
			}
			res := map[string]any{"uri": "file:///" + key, "mimeType": ciMime(key)}
			if utf8.Valid(data) {
				res["type"], res["text"] = "text", string(data)
			} else {
				res["type"], res["blob"] = "blob", data
			}
			blocks = append(blocks, map[string]any{"type": "resource", "resource": res})
		}
		switch {
		case len(missing) > 0:
			text("No such file or directory: "+strings.Join(missing, ", "), true)
		case req.Name == "removeFiles":
			text(fmt.Sprintf("Successfully removed %d file(s)", len(a.Paths)), false)
		default:
			result["content"], result["isError"] = blocks, false
		}
	case "listFiles":
		dir := ""
		if a.DirectoryPath != nil {
			dir = ciClean(*a.DirectoryPath)
		}
		names := make([]string, 0, len(s.Files))
		for k := range s.Files {
			if dir == "" || dir == "." || strings.HasPrefix(k, dir+"/") {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		blocks := []map[string]any{}
		for _, k := range names {
			blocks = append(blocks, map[string]any{"type": "resource_link", "name": path.Base(k), "uri": "file:///" + k,
				"size": len(s.Files[k]), "mimeType": ciMime(k)})
		}
		result["content"], result["isError"] = blocks, false
	default:
		return nil, fmt.Sprintf("fakecodeinterp does not implement tool %q (it serves executeCode, writeFiles, readFiles, listFiles, removeFiles)", req.Name)
	}
	return result, ""
}
