package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// These tests drive the embedders through a real *bedrockruntime.Client
// (SigV4 signing, REST-JSON serialisation, error deserialisation) against
// bedrockkittest.FakeBedrock.

var quickRetry = bedrockkit.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("passage %d about embeddings and vectors", i)
	}
	return out
}

// fakeTokens is FakeBedrock's token count for a text.
func fakeTokens(s string) int { return (utf8.RuneCountInString(s) + 3) / 4 }

func sameVector(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// closeAndCheckLeaks closes the server (and with it the client's idle
// connections) and verifies no goroutine started by the test is left.
func closeAndCheckLeaks(t *testing.T, f *bedrockkittest.FakeBedrock, opts ...goleak.Option) {
	t.Helper()
	f.Close()
	goleak.VerifyNone(t, opts...)
}

func TestTitanEmbedderFakeBedrock(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := bedrockkittest.NewFakeBedrock(t)
	e, err := bedrockkit.NewTitanEmbedder(fakeClient(f), bedrockkit.TitanOptions{
		ModelID: "us.amazon.titan-embed-text-v2:0", Dimensions: 512, Concurrency: 3, Retry: quickRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(10)
	vecs, u, err := e.EmbedWithUsage(context.Background(), in, bedrockkit.PurposeDocument)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 10 {
		t.Fatalf("InvokeModel calls = %d, want 10 (one text per call)", got)
	}
	want := bedrockkittest.NewHashEmbedder(512)
	tokens := 0
	for i, s := range in {
		if !sameVector(vecs[i], want.Vector(s)) {
			t.Fatalf("vector %d is not the embedding of text %d", i, i)
		}
		tokens += fakeTokens(s)
	}
	if u.InputTokens != tokens || u.Estimated {
		t.Fatalf("usage = %+v, want %d reported tokens", u, tokens)
	}
	for _, r := range f.Requests() {
		if r.ModelID != "us.amazon.titan-embed-text-v2:0" {
			t.Fatalf("model ID sent = %q", r.ModelID)
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body["dimensions"] != float64(512) || body["normalize"] != true {
			t.Fatalf("body = %v", body)
		}
	}
	closeAndCheckLeaks(t, f, ignore)
}

func TestCohereEmbedderFakeBedrock(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := bedrockkittest.NewFakeBedrock(t)
	e, err := bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{Retry: quickRetry})
	if err != nil {
		t.Fatal(err)
	}
	in := texts(200)
	vecs, u, err := e.EmbedWithUsage(context.Background(), in, bedrockkit.PurposeQuery)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 3 {
		t.Fatalf("InvokeModel calls = %d, want 3 for 200 texts", got)
	}
	for _, r := range f.Requests() {
		var body struct {
			Texts     []string `json:"texts"`
			InputType string   `json:"input_type"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Texts) > 96 || body.InputType != "search_query" {
			t.Fatalf("batch of %d texts with input_type %q", len(body.Texts), body.InputType)
		}
	}
	want := bedrockkittest.NewHashEmbedder(1024)
	tokens := 0
	for i, s := range in {
		if !sameVector(vecs[i], want.Vector(s)) {
			t.Fatalf("vector %d is not the embedding of text %d", i, i)
		}
		tokens += fakeTokens(s)
	}
	if u.InputTokens != tokens || u.Estimated {
		t.Fatalf("usage = %+v, want %d tokens from the response header", u, tokens)
	}
	closeAndCheckLeaks(t, f, ignore)
}

func TestEmbedErrorClassesFakeBedrock(t *testing.T) {
	cases := []struct {
		code     string
		kind     error
		attempts int // attempts until the call ends, with one fault queued
		ok       bool
	}{
		{"ThrottlingException", bedrockkit.ErrThrottled, 2, true},
		{"ServiceUnavailableException", bedrockkit.ErrServiceUnavailable, 2, true},
		{"InternalServerException", bedrockkit.ErrInternal, 2, true},
		{"ModelNotReadyException", bedrockkit.ErrModelNotReady, 2, true},
		{"ModelTimeoutException", bedrockkit.ErrModelTimeout, 2, true},
		{"ValidationException", bedrockkit.ErrValidation, 1, false},
		{"AccessDeniedException", bedrockkit.ErrAccessDenied, 1, false},
		{"ResourceNotFoundException", bedrockkit.ErrNotFound, 1, false},
		{"ModelErrorException", bedrockkit.ErrModelError, 1, false},
		{"ServiceQuotaExceededException", bedrockkit.ErrQuotaExceeded, 1, false},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			f := bedrockkittest.NewFakeBedrock(t)
			f.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: c.code, Message: "scripted " + c.code}})
			for _, mk := range []func() (bedrockkit.Embedder, error){
				func() (bedrockkit.Embedder, error) {
					return bedrockkit.NewTitanEmbedder(fakeClient(f), bedrockkit.TitanOptions{Retry: quickRetry})
				},
				func() (bedrockkit.Embedder, error) {
					return bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{Retry: quickRetry})
				},
			} {
				e, err := mk()
				if err != nil {
					t.Fatal(err)
				}
				before := f.Calls(bedrockkittest.OpInvokeModel)
				_, err = e.Embed(context.Background(), []string{"one text"}, bedrockkit.PurposeDocument)
				calls := f.Calls(bedrockkittest.OpInvokeModel) - before
				if c.ok {
					if err != nil || calls != c.attempts {
						t.Fatalf("%T: err = %v after %d calls; want success after %d", e, err, calls, c.attempts)
					}
				} else {
					var ee *bedrockkit.EmbedError
					var api *bedrockkit.APIError
					if !errors.As(err, &ee) || ee.Index != 0 || !errors.Is(err, c.kind) || !errors.As(err, &api) ||
						api.Code != c.code || api.Attempts != c.attempts || calls != c.attempts {
						t.Fatalf("%T: err = %v after %d calls; want EmbedError for input 0 wrapping %v, %d attempt(s)", e, err, calls, c.kind, c.attempts)
					}
				}
				// Queue the fault again for the second embedder.
				f.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: c.code}})
			}
		})
	}
}

func TestEmbedRetryExhaustedFakeBedrock(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	throttle := bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException", Message: "Too many requests, please wait before trying again."}}
	f.Enqueue(bedrockkittest.OpInvokeModel, throttle, throttle, throttle, throttle)
	// The client has the SDK's standard retryer switched on; the embedder
	// must switch it off per call so 4 policy attempts stay 4 requests.
	client := fakeClient(f, func(o *bedrockruntime.Options) { o.Retryer = retry.NewStandard() })
	e, _ := bedrockkit.NewTitanEmbedder(client, bedrockkit.TitanOptions{Concurrency: 1, Retry: quickRetry})
	_, err := e.Embed(context.Background(), texts(3), bedrockkit.PurposeDocument)
	var ee *bedrockkit.EmbedError
	var api *bedrockkit.APIError
	if !errors.As(err, &ee) || ee.Index != 0 || !errors.Is(err, bedrockkit.ErrThrottled) || !errors.As(err, &api) || api.Attempts != 4 {
		t.Fatalf("err = %v; want EmbedError for input 0, throttled after 4 attempts", err)
	}
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 4 {
		t.Fatalf("InvokeModel calls = %d, want 4 (SDK retries must not multiply attempts)", got)
	}
	for _, want := range []string{"input 0", "ThrottlingException", "after 4 attempts", "lower the request rate"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message %q lacks %q", err, want)
		}
	}
}

func TestEmbedDimensionCheckFakeBedrock(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	// Titan answers 256 dimensions although 1024 were asked for.
	body, _ := json.Marshal(map[string]any{"embedding": make([]float32, 256), "inputTextTokenCount": 3})
	f.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Body: body})
	e, _ := bedrockkit.NewTitanEmbedder(fakeClient(f), bedrockkit.TitanOptions{Concurrency: 1})
	_, err := e.Embed(context.Background(), texts(2), bedrockkit.PurposeDocument)
	var ee *bedrockkit.EmbedError
	if !errors.As(err, &ee) || ee.Index != 0 || !errors.Is(err, bedrockkit.ErrDimensionMismatch) {
		t.Fatalf("err = %v, want EmbedError for input 0 wrapping ErrDimensionMismatch", err)
	}

	// Cohere: batch 0 answers fine, batch 1 has a 768-dimensional vector at offset 3.
	fc := bedrockkittest.NewFakeBedrock(t)
	h := bedrockkittest.NewHashEmbedder(1024)
	in := texts(100)
	batch0 := make([][]float32, 96)
	for i := range batch0 {
		batch0[i] = h.Vector(in[i])
	}
	batch1 := make([][]float32, 4)
	for i := range batch1 {
		batch1[i] = h.Vector(in[96+i])
	}
	batch1[3] = batch1[3][:768]
	b0, _ := json.Marshal(map[string]any{"embeddings": batch0, "response_type": "embeddings_floats"})
	b1, _ := json.Marshal(map[string]any{"embeddings": batch1, "response_type": "embeddings_floats"})
	fc.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Body: b0}, bedrockkittest.Reply{Body: b1})
	ec, _ := bedrockkit.NewCohereEmbedder(fakeClient(fc), bedrockkit.CohereOptions{Concurrency: 1})
	_, err = ec.Embed(context.Background(), in, bedrockkit.PurposeDocument)
	if !errors.As(err, &ee) || ee.Index != 99 || !errors.Is(err, bedrockkit.ErrDimensionMismatch) {
		t.Fatalf("err = %v, want EmbedError for input 99 wrapping ErrDimensionMismatch", err)
	}

	// A batch that returns fewer vectors than texts is a model error naming the batch.
	fc.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Body: b1})
	_, err = ec.Embed(context.Background(), in[:10], bedrockkit.PurposeDocument)
	if !errors.As(err, &ee) || ee.Index != 0 || ee.Count != 10 || !errors.Is(err, bedrockkit.ErrModelError) {
		t.Fatalf("err = %v, want EmbedError for inputs 0..9 wrapping ErrModelError", err)
	}
}

func TestCohereBatchFailureFakeBedrock(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := bedrockkittest.NewFakeBedrock(t)
	h := bedrockkittest.NewHashEmbedder(1024)
	in := texts(250)
	batch0 := make([][]float32, 96)
	for i := range batch0 {
		batch0[i] = h.Vector(in[i])
	}
	b0, _ := json.Marshal(map[string]any{"embeddings": batch0})
	f.Enqueue(bedrockkittest.OpInvokeModel,
		bedrockkittest.Reply{Body: b0},
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ValidationException", Message: "Malformed input request, please reformat your input and try again."}})
	e, _ := bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{Concurrency: 1, Retry: quickRetry})
	_, err := e.Embed(context.Background(), in, bedrockkit.PurposeDocument)
	var ee *bedrockkit.EmbedError
	if !errors.As(err, &ee) || ee.Index != 96 || ee.Count != 96 || !errors.Is(err, bedrockkit.ErrValidation) {
		t.Fatalf("err = %v, want EmbedError for inputs 96..191 wrapping ErrValidation", err)
	}
	if !strings.Contains(err.Error(), "inputs 96..191") {
		t.Fatalf("message %q should name the batch", err)
	}
	// The third batch was never sent: the failure cancelled the rest.
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 2 {
		t.Fatalf("InvokeModel calls = %d, want 2", got)
	}
	closeAndCheckLeaks(t, f, ignore)
}

func TestEmbedCancelDuringBackoffFakeBedrock(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	f := bedrockkittest.NewFakeBedrock(t)
	f.Enqueue(bedrockkittest.OpInvokeModel, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}})
	slow := bedrockkit.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}
	e, _ := bedrockkit.NewTitanEmbedder(fakeClient(f), bedrockkit.TitanOptions{Concurrency: 1, Retry: slow})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Embed(ctx, texts(5), bedrockkit.PurposeDocument)
		done <- err
	}()
	for f.Calls(bedrockkittest.OpInvokeModel) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel() // the embedder is now waiting (up to an hour) before its retry
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 1 {
		t.Fatalf("InvokeModel calls = %d, want 1", got)
	}
	closeAndCheckLeaks(t, f, ignore)
}

func TestEmbedRejectsBeforeSendingFakeBedrock(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	e, _ := bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{})
	in := texts(300)
	in[250] = strings.Repeat("x", 2049)
	_, err := e.Embed(context.Background(), in, bedrockkit.PurposeDocument)
	var ee *bedrockkit.EmbedError
	if !errors.As(err, &ee) || ee.Index != 250 || !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("err = %v, want EmbedError for input 250 wrapping ErrInvalidInput", err)
	}
	if got := f.Calls(bedrockkittest.OpInvokeModel); got != 0 {
		t.Fatalf("InvokeModel calls = %d; nothing should be sent when an input is invalid", got)
	}
	// With truncation the same input is accepted by the service's validation.
	et, _ := bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{Truncate: bedrockkit.CohereTruncateEnd})
	if _, err := et.Embed(context.Background(), in, bedrockkit.PurposeDocument); err != nil {
		t.Fatalf("with CohereTruncateEnd: %v", err)
	}
}

// fakeClient returns f's SDK client. (FakeBedrock.Client already works
// around the SDK's request-body race that would add unscripted calls.)
func fakeClient(f *bedrockkittest.FakeBedrock, optFns ...func(*bedrockruntime.Options)) *bedrockruntime.Client {
	return f.Client(optFns...)
}

// BenchmarkTitanEmbedFakeBedrock measures one Embed call of 32 texts (32
// InvokeModel requests, 8 at a time) through the real SDK client against
// FakeBedrock on loopback: client-side overhead plus the fake's hashing.
func BenchmarkTitanEmbedFakeBedrock(b *testing.B) {
	f := bedrockkittest.NewFakeBedrock(b)
	e, err := bedrockkit.NewTitanEmbedder(fakeClient(f), bedrockkit.TitanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in := texts(32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), in, bedrockkit.PurposeDocument); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCohereEmbedFakeBedrock measures one Embed call of 200 texts (3
// batched InvokeModel requests) through the real SDK client against FakeBedrock.
func BenchmarkCohereEmbedFakeBedrock(b *testing.B) {
	f := bedrockkittest.NewFakeBedrock(b)
	e, err := bedrockkit.NewCohereEmbedder(fakeClient(f), bedrockkit.CohereOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in := texts(200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), in, bedrockkit.PurposeDocument); err != nil {
			b.Fatal(err)
		}
	}
}
