package bedrockkittest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// LambdaHandler is a fake Lambda function: it receives the invocation's
// payload and returns the response payload. An error is an unhandled
// function error: the invocation answers 200 with X-Amz-Function-Error
// "Unhandled" and {"errorMessage", "errorType"} as payload, as Lambda does.
type LambdaHandler func(ctx context.Context, payload []byte) ([]byte, error)

// LambdaInvocation is one Invoke request FakeLambda received.
type LambdaInvocation struct {
	Function, Qualifier string
	InvocationType      string
	ClientContext       string // decoded from base64
	Payload             []byte
}

// FakeLambda is a wire-level fake of the AWS Lambda Invoke API
// (POST /2015-03-31/functions/{FunctionName}/invocations): the real
// aws-sdk-go-v2 lambda client talks to it. Functions are registered by
// name with AddFunction; ARNs whose last segment (or function-name
// segment) names one resolve to it, with an optional qualifier. Invocation
// types RequestResponse (default), Event (202, handler run before the
// reply) and DryRun (204) are served; payloads over 6 MB are refused with
// RequestTooLargeException (413), unknown functions with
// ResourceNotFoundException (404), as Lambda does.
type FakeLambda struct {
	srv *httptest.Server

	mu          sync.Mutex
	functions   map[string]LambdaHandler
	invocations []LambdaInvocation
}

// maxLambdaPayload is Lambda's synchronous request and response limit.
const maxLambdaPayload = 6 << 20

// NewFakeLambda starts a FakeLambda closed when the test ends.
func NewFakeLambda(t testing.TB) *FakeLambda {
	t.Helper()
	f := StartFakeLambda()
	t.Cleanup(f.Close)
	return f
}

// StartFakeLambda starts a FakeLambda outside a test; the caller must
// Close it.
func StartFakeLambda() *FakeLambda {
	f := &FakeLambda{functions: map[string]LambdaHandler{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", f.serveInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeFault(w, &Fault{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("fakelambda: no operation at %s %s; FakeLambda serves Invoke", r.Method, r.URL.EscapedPath())})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

// URL returns the server's base URL.
func (f *FakeLambda) URL() string { return f.srv.URL }

// Close shuts the server down.
func (f *FakeLambda) Close() { f.srv.Close() }

// Client returns a real Lambda client for the server (us-east-1, static
// fake credentials, no retries). optFns run last.
func (f *FakeLambda) Client(optFns ...func(*lambda.Options)) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKELAMBDA", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

// AddFunction registers a function by name.
func (f *FakeLambda) AddFunction(name string, h LambdaHandler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.functions[name] = h
}

// Invocations returns the invocations received so far.
func (f *FakeLambda) Invocations() []LambdaInvocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]LambdaInvocation, len(f.invocations))
	copy(out, f.invocations)
	return out
}

// resolve finds the function a FunctionName names: a name, a partial ARN
// ("123456789012:function:name") or a full ARN, each with an optional
// ":qualifier".
func (f *FakeLambda) resolve(name string) (LambdaHandler, string, bool) {
	parts := strings.Split(name, ":")
	fn, qual := name, ""
	if i := indexOf(parts, "function"); i >= 0 && i+1 < len(parts) {
		fn = parts[i+1]
		if i+2 < len(parts) {
			qual = parts[i+2]
		}
	} else if len(parts) == 2 {
		fn, qual = parts[0], parts[1]
	}
	h, ok := f.functions[fn]
	return h, qual, ok
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func (f *FakeLambda) serveInvoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLambdaPayload+1))
	if err != nil {
		writeFault(w, &Fault{Code: "InvalidRequestContentException", Status: http.StatusBadRequest, Message: "fakelambda: " + err.Error()})
		return
	}
	if len(body) > maxLambdaPayload {
		writeFault(w, &Fault{Code: "RequestTooLargeException", Status: http.StatusRequestEntityTooLarge, Message: "fakelambda: Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
		return
	}
	if len(body) > 0 && !json.Valid(body) {
		writeFault(w, &Fault{Code: "InvalidRequestContentException", Status: http.StatusBadRequest, Message: "fakelambda: Could not parse request body into json"})
		return
	}
	f.mu.Lock()
	h, qual, ok := f.resolve(name)
	inv := LambdaInvocation{Function: name, Qualifier: r.URL.Query().Get("Qualifier"), InvocationType: r.Header.Get("X-Amz-Invocation-Type"), Payload: body}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil {
			f.mu.Unlock()
			writeFault(w, &Fault{Code: "InvalidRequestContentException", Status: http.StatusBadRequest, Message: "fakelambda: Client context must be a valid Base64-encoded JSON object."})
			return
		}
		inv.ClientContext = string(b)
	}
	if inv.Qualifier == "" {
		inv.Qualifier = qual
	}
	f.invocations = append(f.invocations, inv)
	f.mu.Unlock()
	if !ok {
		writeFault(w, &Fault{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf("fakelambda: Function not found: %s", name)})
		return
	}
	version := inv.Qualifier
	if version == "" {
		version = "$LATEST"
	}
	switch inv.InvocationType {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		_, _ = runLambda(r.Context(), h, body)
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		writeFault(w, &Fault{Code: "InvalidParameterValueException", Status: http.StatusBadRequest, Message: "fakelambda: invalid invocation type " + inv.InvocationType})
		return
	}
	out, err := runLambda(r.Context(), h, body)
	w.Header().Set("X-Amz-Executed-Version", version)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		b, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	if len(out) > maxLambdaPayload {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		b, _ := json.Marshal(map[string]any{"errorMessage": fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (6291556 bytes).", len(out)), "errorType": "Function.ResponseSizeTooLarge"})
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// runLambda runs a handler, turning a panic into a function error as the
// Lambda runtime does.
func runLambda(ctx context.Context, h LambdaHandler, payload []byte) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, fmt.Errorf("runtime error: %v", v)
		}
	}()
	return h(ctx, payload)
}
