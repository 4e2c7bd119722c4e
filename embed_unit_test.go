package bedrockkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"
)

// fakeInvoke is an InvokeModelAPI for unit tests. answer builds the reply
// for one call; the fake records calls, bodies and the peak number of calls
// in flight.
type fakeInvoke struct {
	answer func(ctx context.Context, call int, body []byte) ([]byte, error)

	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64

	mu     sync.Mutex
	bodies [][]byte
	sdkOK  bool // every call disabled the SDK retryer
}

func (f *fakeInvoke) InvokeModel(ctx context.Context, in *bedrockruntime.InvokeModelInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.InvokeModelOutput, error) {
	n := f.calls.Add(1)
	cur := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if cur <= p || f.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	var o bedrockruntime.Options
	for _, fn := range optFns {
		fn(&o)
	}
	_, nop := o.Retryer.(aws.NopRetryer)
	f.mu.Lock()
	if n == 1 {
		f.sdkOK = true
	}
	f.sdkOK = f.sdkOK && nop
	f.bodies = append(f.bodies, append([]byte(nil), in.Body...))
	f.mu.Unlock()
	if aws.ToString(in.ContentType) != "application/json" {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "content type"}
	}
	out, err := f.answer(ctx, int(n), in.Body)
	if err != nil {
		return nil, err
	}
	return &bedrockruntime.InvokeModelOutput{Body: out}, nil
}

func (f *fakeInvoke) Bodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies
}

// textVector returns a vector of dims floats whose first element is the
// number at the end of text ("t17" -> 17), so tests can check order.
func textVector(text string, dims int) []float32 {
	v := make([]float32, dims)
	i := strings.LastIndexFunc(text, func(r rune) bool { return r < '0' || r > '9' })
	n, _ := strconv.Atoi(text[i+1:])
	v[0] = float32(n)
	return v
}

func titanAnswer(dims int) func(context.Context, int, []byte) ([]byte, error) {
	return func(_ context.Context, _ int, body []byte) ([]byte, error) {
		var req titanRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"embedding": textVector(req.InputText, dims), "inputTextTokenCount": len(req.InputText)})
	}
}

func cohereAnswer(dims int) func(context.Context, int, []byte) ([]byte, error) {
	return func(_ context.Context, _ int, body []byte) ([]byte, error) {
		var req cohereRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, err
		}
		vecs := make([][]float32, len(req.Texts))
		for i, t := range req.Texts {
			vecs[i] = textVector(t, dims)
		}
		return json.Marshal(map[string]any{"embeddings": vecs, "response_type": "embeddings_floats"})
	}
}

func numbered(n int) []string {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("text number %d", i)
	}
	return texts
}

func checkOrder(t *testing.T, vecs [][]float32, n, dims int) {
	t.Helper()
	if len(vecs) != n {
		t.Fatalf("got %d vectors, want %d", len(vecs), n)
	}
	for i, v := range vecs {
		if len(v) != dims {
			t.Fatalf("vector %d has %d dims, want %d", i, len(v), dims)
		}
		if int(v[0]) != i {
			t.Fatalf("vector %d belongs to text %d: order not kept", i, int(v[0]))
		}
	}
}

var fastRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

func TestTitanOneCallPerTextInOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := &fakeInvoke{answer: titanAnswer(1024)}
	e, err := NewTitanEmbedder(f, TitanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vecs, u, err := e.EmbedWithUsage(context.Background(), numbered(10), PurposeQuery)
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, vecs, 10, 1024)
	if got := f.calls.Load(); got != 10 {
		t.Fatalf("calls = %d, want 10 (Titan embeds one text per call)", got)
	}
	want := 0
	for _, s := range numbered(10) {
		want += len(s)
	}
	if u.InputTokens != want || u.Estimated {
		t.Fatalf("usage = %+v, want %d reported tokens", u, want)
	}
	if e.InputTokens() != int64(want) {
		t.Fatalf("InputTokens() = %d, want %d", e.InputTokens(), want)
	}
	if !f.sdkOK {
		t.Fatal("a call did not disable the SDK retryer")
	}
	var req map[string]any
	if err := json.Unmarshal(f.Bodies()[0], &req); err != nil {
		t.Fatal(err)
	}
	if req["dimensions"] != float64(1024) || req["normalize"] != true {
		t.Fatalf("request = %v, want dimensions 1024 and normalize true by default", req)
	}
}

func TestTitanNoNormalizeAndDimensions(t *testing.T) {
	f := &fakeInvoke{answer: titanAnswer(256)}
	e, err := NewTitanEmbedder(f, TitanOptions{Dimensions: 256, NoNormalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dimensions() != 256 {
		t.Fatalf("Dimensions() = %d", e.Dimensions())
	}
	if _, err := e.Embed(context.Background(), []string{"a 0"}, PurposeDocument); err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal(f.Bodies()[0], &req); err != nil {
		t.Fatal(err)
	}
	if req["dimensions"] != float64(256) || req["normalize"] != false {
		t.Fatalf("request = %v, want dimensions 256, normalize false", req)
	}
}

// saturating makes the first limit calls wait until limit calls are in
// flight at once, so peak must reach limit if the embedder runs calls
// concurrently, and exceeds it only if the bound is broken.
func saturating(limit int64, f *fakeInvoke, next func(context.Context, int, []byte) ([]byte, error)) func(context.Context, int, []byte) ([]byte, error) {
	full := make(chan struct{})
	var once sync.Once
	return func(ctx context.Context, n int, body []byte) ([]byte, error) {
		if f.inflight.Load() >= limit {
			once.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return nil, errors.New("saturating fake: limit never reached; calls are not concurrent")
		}
		return next(ctx, n, body)
	}
}

func TestTitanConcurrencyBound(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, limit := range []int{1, 3, 8} {
		f := &fakeInvoke{}
		f.answer = saturating(int64(limit), f, titanAnswer(512))
		e, err := NewTitanEmbedder(f, TitanOptions{Dimensions: 512, Concurrency: limit})
		if err != nil {
			t.Fatal(err)
		}
		vecs, err := e.Embed(context.Background(), numbered(40), PurposeDocument)
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, vecs, 40, 512)
		if p := f.peak.Load(); p != int64(limit) {
			t.Fatalf("limit %d: peak in-flight calls = %d", limit, p)
		}
	}
}

func TestCohereBatchesInOrder(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := &fakeInvoke{answer: cohereAnswer(1024)}
	e, err := NewCohereEmbedder(f, CohereOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vecs, u, err := e.EmbedWithUsage(context.Background(), numbered(200), PurposeDocument)
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, vecs, 200, 1024)
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("calls = %d, want 3 for 200 texts in batches of 96", got)
	}
	sizes := map[int]int{}
	for _, b := range f.Bodies() {
		var req cohereRequest
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		if req.InputType != "search_document" {
			t.Fatalf("input_type = %q, want search_document", req.InputType)
		}
		sizes[len(req.Texts)]++
	}
	if sizes[96] != 2 || sizes[8] != 1 {
		t.Fatalf("batch sizes = %v, want two of 96 and one of 8", sizes)
	}
	if !u.Estimated || u.InputTokens <= 0 {
		t.Fatalf("usage = %+v, want an estimate (the fake sends no token header)", u)
	}
	if !f.sdkOK {
		t.Fatal("a call did not disable the SDK retryer")
	}
}

func TestCohereBatchSizeAndQueryPurpose(t *testing.T) {
	f := &fakeInvoke{}
	f.answer = saturating(2, f, cohereAnswer(1024))
	e, err := NewCohereEmbedder(f, CohereOptions{BatchSize: 10, Concurrency: 2, ModelID: CohereEmbedMultilingualV3})
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := e.Embed(context.Background(), numbered(95), PurposeQuery)
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, vecs, 95, 1024)
	if got := f.calls.Load(); got != 10 {
		t.Fatalf("calls = %d, want 10", got)
	}
	if p := f.peak.Load(); p != 2 {
		t.Fatalf("peak in-flight batches = %d, want 2", p)
	}
	for _, b := range f.Bodies() {
		var req cohereRequest
		_ = json.Unmarshal(b, &req)
		if req.InputType != "search_query" || len(req.Texts) > 10 {
			t.Fatalf("request %s: want search_query and at most 10 texts", b)
		}
	}
	// InputType overrides Purpose.
	f2 := &fakeInvoke{answer: cohereAnswer(1024)}
	e2, _ := NewCohereEmbedder(f2, CohereOptions{InputType: "clustering"})
	if _, err := e2.Embed(context.Background(), []string{"x 0"}, PurposeQuery); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(f2.Bodies()[0]), `"input_type":"clustering"`) {
		t.Fatalf("body %s lacks input_type clustering", f2.Bodies()[0])
	}
}

func TestEmbedDimensionMismatch(t *testing.T) {
	// Titan configured for 1024 but the model answers 512.
	f := &fakeInvoke{answer: titanAnswer(512)}
	e, _ := NewTitanEmbedder(f, TitanOptions{Concurrency: 1})
	_, err := e.Embed(context.Background(), []string{"a 0", "b 1"}, PurposeDocument)
	var ee *EmbedError
	if !errors.As(err, &ee) || !errors.Is(err, ErrDimensionMismatch) || ee.Index != 0 {
		t.Fatalf("err = %v, want EmbedError at index 0 wrapping ErrDimensionMismatch", err)
	}
	if !strings.Contains(err.Error(), "512") || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("message %q should name both dimensions", err)
	}

	// Cohere: text 101 (offset 5 of the second batch) comes back short.
	good := cohereAnswer(1024)
	fc := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		out, err := good(ctx, n, body)
		var req cohereRequest
		_ = json.Unmarshal(body, &req)
		if req.Texts[0] != "text number 96" {
			return out, err
		}
		var resp struct{ Embeddings [][]float32 }
		_ = json.Unmarshal(out, &resp)
		resp.Embeddings[5] = resp.Embeddings[5][:768]
		return json.Marshal(map[string]any{"embeddings": resp.Embeddings})
	}}
	ec, _ := NewCohereEmbedder(fc, CohereOptions{})
	_, err = ec.Embed(context.Background(), numbered(150), PurposeDocument)
	if !errors.As(err, &ee) || !errors.Is(err, ErrDimensionMismatch) || ee.Index != 101 || ee.Count != 1 {
		t.Fatalf("err = %v, want EmbedError at index 101 wrapping ErrDimensionMismatch", err)
	}
	if !strings.Contains(err.Error(), "input 101") {
		t.Fatalf("message %q should name input 101", err)
	}
}

func TestEmbedReportsFailedInput(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	good := titanAnswer(1024)
	f := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		if strings.Contains(string(body), "text number 7\"") {
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Malformed input request"}
		}
		return good(ctx, n, body)
	}}
	e, _ := NewTitanEmbedder(f, TitanOptions{Retry: fastRetry})
	vecs, err := e.Embed(context.Background(), numbered(30), PurposeDocument)
	if vecs != nil {
		t.Fatal("vectors returned with an error")
	}
	var ee *EmbedError
	var api *APIError
	if !errors.As(err, &ee) || ee.Index != 7 || ee.Count != 1 {
		t.Fatalf("err = %v, want EmbedError for input 7", err)
	}
	if !errors.Is(err, ErrValidation) || !errors.As(err, &api) || api.Attempts != 1 || api.Code != "ValidationException" {
		t.Fatalf("err = %v, want a non-retried ValidationException", err)
	}
	for _, want := range []string{"input 7", "ValidationException", "fix the request"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message %q lacks %q", err, want)
		}
	}

	// A failing Cohere batch names its index range.
	fc := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		if strings.Contains(string(body), `"text number 96"`) {
			return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no access"}
		}
		return cohereAnswer(1024)(ctx, n, body)
	}}
	ec, _ := NewCohereEmbedder(fc, CohereOptions{Retry: fastRetry})
	_, err = ec.Embed(context.Background(), numbered(200), PurposeDocument)
	if !errors.As(err, &ee) || ee.Index != 96 || ee.Count != 96 || !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("err = %v, want EmbedError for inputs 96..191 wrapping ErrAccessDenied", err)
	}
	if !strings.Contains(err.Error(), "inputs 96..191") {
		t.Fatalf("message %q should name inputs 96..191", err)
	}
}

func TestEmbedFailureCancelsRest(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// Call 1 fails; the others wait for cancellation. Without cancelling
	// the rest, Embed would hang until the fake's safety timeout.
	var cancelled atomic.Int64
	f := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		if n == 1 {
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "bad"}
		}
		select {
		case <-ctx.Done():
			cancelled.Add(1)
			return nil, ctx.Err()
		case <-time.After(10 * time.Second):
			return nil, errors.New("not cancelled")
		}
	}}
	e, _ := NewTitanEmbedder(f, TitanOptions{Concurrency: 4, Retry: fastRetry})
	_, err := e.Embed(context.Background(), numbered(100), PurposeDocument)
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v, want the first failure", err)
	}
	if c := f.calls.Load(); c > 4 {
		t.Fatalf("%d calls were made; no call should start after the failure", c)
	}
}

func TestEmbedRetriesThrottling(t *testing.T) {
	throttled := map[string]int{} // text -> throttles left
	var mu sync.Mutex
	good := titanAnswer(1024)
	f := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		var req titanRequest
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		left := throttled[req.InputText]
		if left > 0 {
			throttled[req.InputText] = left - 1
		}
		mu.Unlock()
		if left > 0 {
			return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Too many requests, please wait before trying again."}
		}
		return good(ctx, n, body)
	}}
	throttled["text number 2"] = 2
	throttled["text number 4"] = 1
	e, _ := NewTitanEmbedder(f, TitanOptions{Retry: fastRetry})
	vecs, err := e.Embed(context.Background(), numbered(5), PurposeDocument)
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, vecs, 5, 1024)
	if got := f.calls.Load(); got != 5+3 {
		t.Fatalf("calls = %d, want 8 (5 texts + 3 retries)", got)
	}

	// Throttled beyond MaxAttempts: the error says so and counts attempts.
	throttled["text number 1"] = 100
	f.calls.Store(0)
	_, err = e.Embed(context.Background(), numbered(2), PurposeDocument)
	var ee *EmbedError
	var api *APIError
	if !errors.As(err, &ee) || ee.Index != 1 || !errors.Is(err, ErrThrottled) || !errors.As(err, &api) || api.Attempts != 4 {
		t.Fatalf("err = %v, want EmbedError for input 1 wrapping ErrThrottled after 4 attempts", err)
	}
	if !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("message %q should count attempts", err)
	}
	if got := f.calls.Load(); got != 1+4 {
		t.Fatalf("calls = %d, want 5 (1 + 4 attempts)", got)
	}
}

func TestEmbedContextCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 100)
	f := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	e, _ := NewCohereEmbedder(f, CohereOptions{BatchSize: 5, Concurrency: 3})
	done := make(chan error)
	go func() {
		_, err := e.Embed(ctx, numbered(100), PurposeDocument)
		done <- err
	}()
	<-started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if c := f.calls.Load(); c > 3 {
		t.Fatalf("%d calls made, want at most 3 (the concurrency limit)", c)
	}

	// An already-cancelled context sends nothing.
	f2 := &fakeInvoke{answer: titanAnswer(1024)}
	e2, _ := NewTitanEmbedder(f2, TitanOptions{})
	if _, err := e2.Embed(ctx, numbered(3), PurposeDocument); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f2.calls.Load() != 0 {
		t.Fatal("calls made with a cancelled context")
	}
}

func TestEmbedLocalValidation(t *testing.T) {
	f := &fakeInvoke{answer: titanAnswer(1024)}
	e, _ := NewTitanEmbedder(f, TitanOptions{})
	cases := []struct {
		texts []string
		index int
		want  string
	}{
		{[]string{"ok 0", "", "ok 2"}, 1, "empty"},
		{[]string{"ok 0", "ok 1", " \n\t"}, 2, "empty"},
		{[]string{"ok 0", strings.Repeat("é", 50_001)}, 1, "50001 characters"},
	}
	for _, c := range cases {
		_, err := e.Embed(context.Background(), c.texts, PurposeDocument)
		var ee *EmbedError
		if !errors.As(err, &ee) || ee.Index != c.index || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("texts %.20q: err = %v, want EmbedError at %d mentioning %q", c.texts, err, c.index, c.want)
		}
	}
	// 50,000 two-byte characters are within the limit (it counts characters, not bytes).
	if _, err := e.Embed(context.Background(), []string{strings.Repeat("é", 50_000)}, PurposeDocument); err != nil {
		t.Fatalf("50,000 characters rejected: %v", err)
	}
	if f.calls.Load() != 1 {
		t.Fatalf("calls = %d; invalid inputs must be rejected before any call", f.calls.Load())
	}
	if _, err := e.Embed(context.Background(), []string{"x"}, Purpose(7)); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("unknown purpose: err = %v", err)
	}
	vecs, err := e.Embed(context.Background(), nil, PurposeDocument)
	if err != nil || len(vecs) != 0 {
		t.Fatalf("no texts: %v, %v", vecs, err)
	}
}

func TestCohereTruncate(t *testing.T) {
	long := strings.Repeat("a", 1000) + strings.Repeat("ü", 1000) + strings.Repeat("z", 1000) + " 0"
	f := &fakeInvoke{answer: cohereAnswer(1024)}
	e, _ := NewCohereEmbedder(f, CohereOptions{})
	_, err := e.Embed(context.Background(), []string{"fine 0", long}, PurposeDocument)
	var ee *EmbedError
	if !errors.As(err, &ee) || ee.Index != 1 || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "Truncate") {
		t.Fatalf("err = %v, want EmbedError at 1 suggesting Truncate", err)
	}
	if f.calls.Load() != 0 {
		t.Fatal("a call was made despite an invalid input")
	}
	for _, mode := range []CohereTruncate{CohereTruncateEnd, CohereTruncateStart} {
		f := &fakeInvoke{answer: func(ctx context.Context, n int, body []byte) ([]byte, error) {
			var req cohereRequest
			_ = json.Unmarshal(body, &req)
			// make the text end in a digit for textVector
			req.Texts[0] = "0"
			b, _ := json.Marshal(req)
			return cohereAnswer(1024)(ctx, n, b)
		}}
		e, _ := NewCohereEmbedder(f, CohereOptions{Truncate: mode})
		if _, err := e.Embed(context.Background(), []string{long}, PurposeDocument); err != nil {
			t.Fatal(err)
		}
		var req cohereRequest
		_ = json.Unmarshal(f.Bodies()[0], &req)
		got := []rune(req.Texts[0])
		if len(got) != 2048 || req.Truncate != string(mode) {
			t.Fatalf("%s: sent %d characters, truncate %q", mode, len(got), req.Truncate)
		}
		runes := []rune(long)
		want := string(runes[:2048])
		if mode == CohereTruncateStart {
			want = string(runes[len(runes)-2048:])
		}
		if req.Texts[0] != want {
			t.Fatalf("%s: wrong part of the text kept", mode)
		}
	}
}

func TestEmbedderConstructors(t *testing.T) {
	f := &fakeInvoke{}
	titanOK := []string{
		"",
		TitanEmbedTextV2,
		"us.amazon.titan-embed-text-v2:0",
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4",
		"arn:aws:bedrock:us-east-1:123456789012:provisioned-model/xyz",
	}
	for _, id := range titanOK {
		if _, err := NewTitanEmbedder(f, TitanOptions{ModelID: id}); err != nil {
			t.Errorf("Titan %q: %v", id, err)
		}
	}
	for _, id := range []string{CohereEmbedEnglishV3, "amazon.titan-embed-text-v1", "arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3"} {
		if _, err := NewTitanEmbedder(f, TitanOptions{ModelID: id}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Titan %q: err = %v, want ErrUnsupported", id, err)
		}
	}
	for _, d := range []int{-1, 1, 300, 1536} {
		if _, err := NewTitanEmbedder(f, TitanOptions{Dimensions: d}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Titan dims %d: err = %v", d, err)
		}
	}
	if _, err := NewTitanEmbedder(f, TitanOptions{Concurrency: -1}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Titan concurrency -1: %v", err)
	}

	for _, id := range []string{"", CohereEmbedMultilingualV3, "us.cohere.embed-english-v3", "arn:aws:bedrock:eu-west-1::foundation-model/cohere.embed-multilingual-v3"} {
		e, err := NewCohereEmbedder(f, CohereOptions{ModelID: id})
		if err != nil || e.Dimensions() != 1024 || e.BatchSize() != 96 {
			t.Errorf("Cohere %q: %v", id, err)
		}
	}
	for _, id := range []string{TitanEmbedTextV2, "cohere.embed-v4:0"} {
		if _, err := NewCohereEmbedder(f, CohereOptions{ModelID: id}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Cohere %q: err = %v, want ErrUnsupported", id, err)
		}
	}
	for _, cfg := range []CohereOptions{{BatchSize: 97}, {BatchSize: -1}, {Concurrency: -2}, {Truncate: "MIDDLE"}} {
		if _, err := NewCohereEmbedder(f, cfg); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Cohere %+v: err = %v, want ErrInvalidInput", cfg, err)
		}
	}
}

func TestCohereVectorsShapes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		fail bool
	}{
		{`[[1,2],[3,4]]`, 2, false},
		{`{"float":[[1,2]]}`, 1, false},
		{`{"int8":[[1,2]]}`, 0, true},
		{`null`, 0, true},
		{``, 0, true},
		{`[1,2]`, 0, true},
	} {
		v, err := cohereVectors(json.RawMessage(c.in))
		if (err != nil) != c.fail || len(v) != c.n {
			t.Errorf("%s: %d vectors, err %v", c.in, len(v), err)
		}
		if err != nil && !errors.Is(err, ErrModelError) {
			t.Errorf("%s: err %v should wrap ErrModelError", c.in, err)
		}
	}
}

func FuzzCohereVectors(f *testing.F) {
	for _, s := range []string{`[[1,2],[3,4]]`, `{"float":[[0.5]]}`, `{"float":null}`, `[`, `"x"`, `[[1e40]]`, ` [ [ -0 ] ] `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := cohereVectors(b)
		if err != nil && !errors.Is(err, ErrModelError) {
			t.Fatalf("error %v does not wrap ErrModelError", err)
		}
		if err != nil && v != nil {
			t.Fatal("vectors returned with an error")
		}
	})
}

func FuzzEmbedModelName(f *testing.F) {
	for _, s := range []string{TitanEmbedTextV2, "us.cohere.embed-english-v3", "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0",
		"arn:aws:bedrock:us-east-1:1:application-inference-profile/x", "arn:", "arn:a:b:c:d:", "arn:a:b:c:d:e/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		name := embedModelName(id)
		if name != "" && !strings.Contains(id, name) {
			t.Fatalf("embedModelName(%q) = %q, not part of the ID", id, name)
		}
		if !strings.HasPrefix(id, "arn:") && name != id {
			t.Fatalf("non-ARN %q changed to %q", id, name)
		}
	})
}
