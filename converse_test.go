package bedrockkit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"go.uber.org/goleak"
)

// These tests drive ConverseModel through a real *bedrockruntime.Client
// against bedrockkittest.FakeBedrock, which speaks Bedrock's wire protocols.

// leakCheck verifies, after the test and its FakeBedrock have been cleaned
// up, that no goroutine is left behind. Call it before NewFakeBedrock so its
// cleanup runs last.
func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

const claude = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"

func newModel(t *testing.T, f *bedrockkittest.FakeBedrock, id string, opts bedrockkit.ConverseOptions) *bedrockkit.ConverseModel {
	t.Helper()
	m, err := bedrockkit.NewConverseModel(f.Client(), id, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fastRetry keeps retry tests quick.
var fastRetry = bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

func f32(v float32) *float32 { return &v }

// decodeJSON decodes with numbers kept as written.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// fullRequest uses every part type, both sources of images, all three of
// documents, tool choice by name, cache points in all three places,
// inference settings, a guardrail and extra model fields.
func fullRequest() *bedrockkit.Request {
	return &bedrockkit.Request{
		System:     []bedrockkit.Part{bedrockkit.Text{Text: "You are terse."}, bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h}},
		Tools:      []bedrockkit.ToolSpec{{Name: "lookup", Description: "Look up a record", InputSchema: json.RawMessage(`{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}`)}},
		ToolCache:  &bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h},
		ToolChoice: bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "lookup"},
		Messages: []bedrockkit.Message{
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
				bedrockkit.Text{Text: "Compare these"},
				bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte("\x89PNG")},
				bedrockkit.Image{Format: bedrockkit.ImageJPEG, S3URI: "s3://bucket/cat.jpg"},
				bedrockkit.Document{Name: "report", Format: bedrockkit.DocPDF, Bytes: []byte("%PDF")},
				bedrockkit.Document{Name: "notes", Format: bedrockkit.DocMD, Text: "# Notes"},
				bedrockkit.Document{Name: "data", Format: bedrockkit.DocCSV, S3URI: "s3://bucket/data.csv"},
				bedrockkit.CachePoint{},
			}},
			{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
				bedrockkit.Reasoning{Text: "thinking", Signature: "sig=="},
				bedrockkit.Reasoning{Redacted: []byte("secret")},
				bedrockkit.Text{Text: "I'll look it up."},
				bedrockkit.ToolCall{ID: "tu-1", Name: "lookup", Input: json.RawMessage(`{"id": 12345678901234567890}`)},
				bedrockkit.ToolCall{ID: "tu-2", Name: "lookup", Input: json.RawMessage(`{"id":7}`)},
			}},
			{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{
				bedrockkit.ToolResult{CallID: "tu-1", Parts: []bedrockkit.Part{
					bedrockkit.Text{Text: "found"},
					bedrockkit.JSON{Value: json.RawMessage(`{"price": 1.10, "tags": ["a"]}`)},
					bedrockkit.Image{Format: bedrockkit.ImageGIF, Bytes: []byte("GIF")},
					bedrockkit.Document{Name: "r2", Format: bedrockkit.DocTXT, Text: "plain"},
				}},
				bedrockkit.ToolResult{CallID: "tu-2", IsError: true, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "timeout"}}},
			}},
		},
		MaxTokens:     256,
		Temperature:   f32(0.25),
		TopP:          f32(0.75),
		StopSequences: []string{"STOP"},
		Guardrail:     &bedrockkit.GuardrailConfig{ID: "gr-1", Version: "2", Trace: "enabled", StreamMode: "async"},
		Extra:         map[string]any{"top_k": 40},
	}
}

// wantBody is fullRequest as Bedrock's restJson1 body (Converse flavour).
func wantBody() string {
	return `{
 "additionalModelRequestFields": {"top_k": 40},
 "guardrailConfig": {"guardrailIdentifier": "gr-1", "guardrailVersion": "2", "trace": "enabled"},
 "inferenceConfig": {"maxTokens": 256, "stopSequences": ["STOP"], "temperature": 0.25, "topP": 0.75},
 "additionalModelResponseFieldPaths": ["/stop_sequence"],
 "messages": [
  {"role": "user", "content": [
   {"text": "Compare these"},
   {"image": {"format": "png", "source": {"bytes": "` + b64("\x89PNG") + `"}}},
   {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/cat.jpg"}}}},
   {"document": {"format": "pdf", "name": "report", "source": {"bytes": "` + b64("%PDF") + `"}}},
   {"document": {"format": "md", "name": "notes", "source": {"text": "# Notes"}}},
   {"document": {"format": "csv", "name": "data", "source": {"s3Location": {"uri": "s3://bucket/data.csv"}}}},
   {"cachePoint": {"type": "default"}}]},
  {"role": "assistant", "content": [
   {"reasoningContent": {"reasoningText": {"text": "thinking", "signature": "sig=="}}},
   {"reasoningContent": {"redactedContent": "` + b64("secret") + `"}},
   {"text": "I'll look it up."},
   {"toolUse": {"toolUseId": "tu-1", "name": "lookup", "input": {"id": 12345678901234567890}}},
   {"toolUse": {"toolUseId": "tu-2", "name": "lookup", "input": {"id": 7}}}]},
  {"role": "user", "content": [
   {"toolResult": {"toolUseId": "tu-1", "content": [
     {"text": "found"},
     {"json": {"price": 1.10, "tags": ["a"]}},
     {"image": {"format": "gif", "source": {"bytes": "` + b64("GIF") + `"}}},
     {"document": {"format": "txt", "name": "r2", "source": {"text": "plain"}}}]}},
   {"toolResult": {"toolUseId": "tu-2", "status": "error", "content": [{"text": "timeout"}]}}]}],
 "system": [{"text": "You are terse."}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
 "toolConfig": {
  "tools": [
   {"toolSpec": {"name": "lookup", "description": "Look up a record", "inputSchema": {"json": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}},
   {"cachePoint": {"type": "default", "ttl": "1h"}}],
  "toolChoice": {"tool": {"name": "lookup"}}}
}`
}

// replyParts is what the fake answers with: every part type a response can hold.
func replyParts() []bedrockkit.Part {
	return []bedrockkit.Part{
		bedrockkit.Reasoning{Text: "Let me think.", Signature: "c2ln"},
		bedrockkit.Text{Text: "Here you go."},
		bedrockkit.Image{Format: bedrockkit.ImageWebP, Bytes: []byte("RIFF")},
		bedrockkit.Image{Format: bedrockkit.ImagePNG, S3URI: "s3://bucket/out.png"},
		bedrockkit.Document{Name: "summary", Format: bedrockkit.DocHTML, Text: "<p>hi</p>"},
		bedrockkit.Document{Name: "raw", Format: bedrockkit.DocDOCX, Bytes: []byte("PK")},
		bedrockkit.ToolCall{ID: "tu-9", Name: "lookup", Input: json.RawMessage(`{"id":98765432109876543210,"price":1.10}`)},
		bedrockkit.ToolResult{CallID: "tu-8", IsError: true, Parts: []bedrockkit.Part{bedrockkit.Text{Text: "nope"}, bedrockkit.JSON{Value: json.RawMessage(`{"code":7}`)}}},
		bedrockkit.Reasoning{Redacted: []byte("hidden")},
		bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL5m},
	}
}

func TestConverseRoundTripAllParts(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{AdditionalResponseFieldPaths: []string{"/stop_sequence"}})
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{
		Message:          bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: replyParts()},
		StopReason:       bedrockkit.StopSequence,
		Usage:            bedrockkit.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 1024, CacheWriteTokens: 7},
		AdditionalFields: json.RawMessage(`{"stop_sequence": "STOP"}`),
		LatencyMs:        42,
	})
	resp, err := m.Generate(context.Background(), fullRequest())
	if err != nil {
		t.Fatal(err)
	}

	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Op != bedrockkittest.OpConverse || reqs[0].ModelID != claude {
		t.Fatalf("requests = %+v", reqs)
	}
	got, want := decodeJSON(t, reqs[0].Body), decodeJSON(t, []byte(wantBody()))
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("request body mismatch:\n got %s\nwant %s", gb, wantBody())
	}
	// Raw JSON travels byte for byte: no float64 rounding, no re-encoding.
	for _, lit := range []string{`"input":{"id": 12345678901234567890}`, `{"price": 1.10, "tags": ["a"]}`} {
		if !bytes.Contains(reqs[0].Body, []byte(lit)) && !bytes.Contains(reqs[0].Body, []byte(strings.ReplaceAll(lit, " ", ""))) {
			t.Errorf("request body lost the literal %s:\n%s", lit, reqs[0].Body)
		}
	}

	if !reflect.DeepEqual(resp.Message.Parts, replyParts()) {
		t.Errorf("response parts:\n got %#v\nwant %#v", resp.Message.Parts, replyParts())
	}
	if resp.Message.Role != bedrockkit.RoleAssistant || resp.StopReason != bedrockkit.StopSequence {
		t.Errorf("role %q stop %q", resp.Message.Role, resp.StopReason)
	}
	if want := (bedrockkit.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 1024, CacheWriteTokens: 7}); resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}
	if resp.Latency != 42*time.Millisecond {
		t.Errorf("latency = %v", resp.Latency)
	}
	if string(resp.AdditionalFields) != `{"stop_sequence":"STOP"}` {
		t.Errorf("additional fields = %s", resp.AdditionalFields)
	}
}

func TestConverseToolChoiceKinds(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, "amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})
	tools := []bedrockkit.ToolSpec{{Name: "a", InputSchema: json.RawMessage(`{"type":"object"}`)}}
	for _, tc := range []struct {
		choice bedrockkit.ToolChoice
		want   string
	}{
		{bedrockkit.ToolChoice{}, `null`},
		{bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceAny}, `{"any":{}}`},
		{bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "a"}, `{"tool":{"name":"a"}}`},
	} {
		f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
		if _, err := m.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, Tools: tools, ToolChoice: tc.choice}); err != nil {
			t.Fatal(err)
		}
		reqs := f.Requests()
		var body struct {
			ToolConfig struct {
				ToolChoice json.RawMessage `json:"toolChoice"`
			} `json:"toolConfig"`
		}
		if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
			t.Fatal(err)
		}
		got := string(body.ToolConfig.ToolChoice)
		if got == "" {
			got = "null"
		}
		if got != tc.want {
			t.Errorf("tool choice %+v sent %s, want %s", tc.choice, got, tc.want)
		}
	}
}

func TestConverseStreamToolCallFragments(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	input := `{"city":"Paris","units":"metric","days":[1,2,3]}`
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{
			bedrockkit.Reasoning{Text: "Weather needs a tool.", Signature: "sig"},
			bedrockkit.Text{Text: "Checking the forecast."},
			bedrockkit.ToolCall{ID: "tu-1", Name: "forecast", Input: json.RawMessage(input)},
		}},
		Usage:            bedrockkit.Usage{InputTokens: 31, OutputTokens: 17, CacheReadTokens: 5},
		ChunkSize:        5,
		AdditionalFields: json.RawMessage(`{"x":1}`),
		LatencyMs:        12,
	})
	req := &bedrockkit.Request{
		Messages:  []bedrockkit.Message{bedrockkit.UserText("Weather in Paris?")},
		Tools:     []bedrockkit.ToolSpec{{Name: "forecast", InputSchema: json.RawMessage(`{"type":"object"}`)}},
		Guardrail: &bedrockkit.GuardrailConfig{ID: "gr", Version: "DRAFT", StreamMode: "async"},
	}
	var fragments []string
	var events []bedrockkit.StreamEvent
	for ev, err := range m.Stream(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
		if d, ok := ev.(bedrockkit.ToolCallDelta); ok && d.InputFragment != "" {
			fragments = append(fragments, d.InputFragment)
		}
	}
	if len(fragments) < 5 || strings.Join(fragments, "") != input {
		t.Fatalf("fragments = %q, want the input in several pieces", fragments)
	}
	resp, err := bedrockkit.Collect(func(yield func(bedrockkit.StreamEvent, error) bool) {
		for _, ev := range events {
			if !yield(ev, nil) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []bedrockkit.Part{
		bedrockkit.Reasoning{Text: "Weather needs a tool.", Signature: "sig"},
		bedrockkit.Text{Text: "Checking the forecast."},
		bedrockkit.ToolCall{ID: "tu-1", Name: "forecast", Input: json.RawMessage(input)},
	}
	if !reflect.DeepEqual(resp.Message.Parts, want) {
		t.Errorf("collected parts:\n got %#v\nwant %#v", resp.Message.Parts, want)
	}
	if resp.StopReason != bedrockkit.StopToolUse || resp.Usage != (bedrockkit.Usage{InputTokens: 31, OutputTokens: 17, CacheReadTokens: 5}) || resp.Latency != 12*time.Millisecond {
		t.Errorf("stop %q usage %+v latency %v", resp.StopReason, resp.Usage, resp.Latency)
	}
	if string(resp.AdditionalFields) != `{"x":1}` {
		t.Errorf("additional fields = %s", resp.AdditionalFields)
	}
	if _, ok := events[len(events)-1].(bedrockkit.StreamMetadata); !ok {
		t.Errorf("last event is %T, want Metadata (usage arrives last)", events[len(events)-1])
	}
	var body struct {
		GuardrailConfig map[string]string `json:"guardrailConfig"`
	}
	if err := json.Unmarshal(f.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.GuardrailConfig["streamProcessingMode"] != "async" || body.GuardrailConfig["guardrailIdentifier"] != "gr" {
		t.Errorf("stream guardrail config = %v", body.GuardrailConfig)
	}
}

// TestConverseErrorClasses checks, for Generate and for opening a stream,
// which error codes are retried and how many attempts each takes.
func TestConverseErrorClasses(t *testing.T) {
	tests := []struct {
		code     string
		message  string
		kind     error
		attempts int
	}{
		{"ThrottlingException", "", bedrockkit.ErrThrottled, 3},
		{"ServiceUnavailableException", "", bedrockkit.ErrServiceUnavailable, 3},
		{"InternalServerException", "", bedrockkit.ErrInternal, 3},
		{"ModelNotReadyException", "", bedrockkit.ErrModelNotReady, 3},
		{"ModelTimeoutException", "", bedrockkit.ErrModelTimeout, 3},
		{"ValidationException", "", bedrockkit.ErrValidation, 1},
		{"ValidationException", "Input is too long for requested model.", bedrockkit.ErrContextWindow, 1},
		{"AccessDeniedException", "", bedrockkit.ErrAccessDenied, 1},
		{"ResourceNotFoundException", "", bedrockkit.ErrNotFound, 1},
		{"ModelErrorException", "", bedrockkit.ErrModelError, 1},
		{"ServiceQuotaExceededException", "", bedrockkit.ErrQuotaExceeded, 1},
	}
	for _, stream := range []bool{false, true} {
		op := bedrockkittest.OpConverse
		if stream {
			op = bedrockkittest.OpConverseStream
		}
		for _, tt := range tests {
			t.Run(string(op)+"/"+tt.code+"/"+tt.kind.Error(), func(t *testing.T) {
				leakCheck(t)
				f := bedrockkittest.NewFakeBedrock(t)
				m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: fastRetry})
				for range fastRetry.MaxAttempts {
					f.Enqueue(op, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: tt.code, Message: tt.message}})
				}
				req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
				var err error
				if stream {
					_, err = bedrockkit.Collect(m.Stream(context.Background(), req))
				} else {
					_, err = m.Generate(context.Background(), req)
				}
				if !errors.Is(err, tt.kind) {
					t.Fatalf("err = %v, want it to wrap %v", err, tt.kind)
				}
				var apiErr *bedrockkit.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %T %v, want an *APIError", err, err)
				}
				if apiErr.Code != tt.code || apiErr.Attempts != tt.attempts || f.Calls(op) != tt.attempts {
					t.Fatalf("code %q attempts %d calls %d, want %q and %d", apiErr.Code, apiErr.Attempts, f.Calls(op), tt.code, tt.attempts)
				}
				if bedrockkit.IsRetryable(err) != (tt.attempts > 1) {
					t.Errorf("IsRetryable = %v", bedrockkit.IsRetryable(err))
				}
				var se *bedrockkit.StreamError
				if errors.As(err, &se) {
					t.Errorf("a failure to open the stream should not be a StreamError: %v", err)
				}
			})
		}
	}
}

func TestConverseRetryThenSuccess(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: fastRetry})
	f.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ModelNotReadyException"}},
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("finally")},
	)
	resp, err := m.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "finally" || f.Calls(bedrockkittest.OpConverse) != 3 {
		t.Fatalf("text %q after %d calls", resp.Message.Text(), f.Calls(bedrockkittest.OpConverse))
	}
}

// The caller's deadline bounds the retries: a deadline shorter than the
// backoff returns the last error instead of waiting.
func TestConverseRetryBoundedByDeadline(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: bedrockkit.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour}})
	for range 10 {
		f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := m.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}})
	if !errors.Is(err, bedrockkit.ErrThrottled) || f.Calls(bedrockkittest.OpConverse) != 1 {
		t.Fatalf("err %v after %d calls; want the throttle after 1 call", err, f.Calls(bedrockkittest.OpConverse))
	}
}

func TestConverseStreamThrottleMidStream(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: fastRetry})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message:   bedrockkit.AssistantText("The answer is forty-two."),
		ChunkSize: 4,
		// messageStart and three text deltas, then the service throttles.
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 4, Fault: &bedrockkittest.Fault{Code: "ThrottlingException", Message: "Too many tokens"}},
	})
	var text strings.Builder
	var gotErr error
	for ev, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}) {
		if err != nil {
			gotErr = err
			break
		}
		if d, ok := ev.(bedrockkit.TextDelta); ok {
			text.WriteString(d.Text)
		}
	}
	var se *bedrockkit.StreamError
	if !errors.As(gotErr, &se) || !se.Partial {
		t.Fatalf("err = %v, want a *StreamError with Partial", gotErr)
	}
	if se.Text != "The answer i" || text.String() != se.Text {
		t.Errorf("partial text %q, yielded %q", se.Text, text.String())
	}
	if !errors.Is(gotErr, bedrockkit.ErrThrottled) || bedrockkit.IsRetryable(gotErr) {
		t.Errorf("err %v: Is(ErrThrottled)=%v IsRetryable=%v, want true and false", gotErr, errors.Is(gotErr, bedrockkit.ErrThrottled), bedrockkit.IsRetryable(gotErr))
	}
	if n := f.Calls(bedrockkittest.OpConverseStream); n != 1 {
		t.Errorf("a stream that already yielded text was retried: %d calls", n)
	}
}

// A stream that fails before yielding anything is retried: nothing repeats.
func TestConverseStreamFailureBeforeContentIsRetried(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: fastRetry})
	f.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("x"), Interrupt: &bedrockkittest.Interrupt{AfterEvents: 1, Fault: &bedrockkittest.Fault{Code: "ServiceUnavailableException"}}},
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("hello")},
	)
	resp, err := bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "hello" || f.Calls(bedrockkittest.OpConverseStream) != 3 {
		t.Fatalf("text %q after %d calls", resp.Message.Text(), f.Calls(bedrockkittest.OpConverseStream))
	}

	// A non-retryable mid-stream error before content is a StreamError
	// without Partial, after one call.
	f.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("x"), Interrupt: &bedrockkittest.Interrupt{AfterEvents: 1, Fault: &bedrockkittest.Fault{Code: "ValidationException", Message: "bad"}}})
	_, err = bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}))
	var se *bedrockkit.StreamError
	if !errors.As(err, &se) || se.Partial || !errors.Is(err, bedrockkit.ErrValidation) || f.Calls(bedrockkittest.OpConverseStream) != 4 {
		t.Fatalf("err = %v after %d calls", err, f.Calls(bedrockkittest.OpConverseStream))
	}
}

func TestConverseStreamMalformed(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{Retry: fastRetry})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}

	// A frame the SDK cannot decode, after some text.
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("abcdefgh"), ChunkSize: 4,
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 2, Malformed: true},
	})
	_, err := bedrockkit.Collect(m.Stream(context.Background(), req))
	var se *bedrockkit.StreamError
	if !errors.As(err, &se) || !se.Partial || se.Text != "abcd" || !errors.Is(err, bedrockkit.ErrMalformedStream) {
		t.Fatalf("undecodable frame: err = %v", err)
	}

	// A stream that just ends before messageStop is an error, not success.
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("abcdefgh"), ChunkSize: 4,
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 3},
	})
	resp, err := bedrockkit.Collect(m.Stream(context.Background(), req))
	if !errors.As(err, &se) || !se.Partial || !errors.Is(err, bedrockkit.ErrMalformedStream) {
		t.Fatalf("truncated stream: err = %v", err)
	}
	if resp.Message.Text() != "abcdefgh" || !resp.Usage.Estimated {
		t.Errorf("partial response %+v", resp)
	}
	if n := f.Calls(bedrockkittest.OpConverseStream); n != 2 {
		t.Errorf("%d calls; broken streams must not be retried", n)
	}
}

func TestConverseStreamIdleTimeout(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{IdleTimeout: 200 * time.Millisecond})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("slow model"), ChunkSize: 5,
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 2, Stall: true},
	})
	_, err := bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}))
	var se *bedrockkit.StreamError
	var idle *bedrockkit.IdleTimeoutError
	if !errors.As(err, &se) || !se.Partial || se.Text != "slow " || !errors.Is(err, bedrockkit.ErrStreamIdle) || !errors.As(err, &idle) || idle.Timeout != 200*time.Millisecond {
		t.Fatalf("err = %v, want a partial StreamError wrapping an IdleTimeoutError of 200ms", err)
	}

	// A stall before any content is an idle timeout too, and is not retried.
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("x"), Interrupt: &bedrockkittest.Interrupt{AfterEvents: 1, Stall: true},
	})
	_, err = bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}))
	if !errors.As(err, &se) || se.Partial || !errors.Is(err, bedrockkit.ErrStreamIdle) || f.Calls(bedrockkittest.OpConverseStream) != 2 {
		t.Fatalf("stall before content: err = %v after %d calls", err, f.Calls(bedrockkittest.OpConverseStream))
	}
}

// Cancelling the context ends a stalled stream within 100 ms (the bound the
// design requires) and leaves no goroutine behind.
func TestConverseStreamCancel(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message: bedrockkit.AssistantText("never finishes"), ChunkSize: 5,
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 2, Stall: true},
	})
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := make(chan time.Time, 1)
	var gotErr error
	for _, err := range m.Stream(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}) {
		if err != nil {
			gotErr = err
			break
		}
		// The stream stalls after this event; cancel while it waits.
		time.AfterFunc(20*time.Millisecond, func() { cancelled <- time.Now(); cancel() })
	}
	elapsed := time.Since(<-cancelled)
	if !errors.Is(gotErr, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", gotErr)
	}
	var se *bedrockkit.StreamError
	if !errors.As(gotErr, &se) || !se.Partial {
		t.Errorf("err = %v, want a partial StreamError", gotErr)
	}
	if elapsed > 100*time.Millisecond {
		t.Errorf("the stream took %v to end after cancel; the bound is 100ms", elapsed)
	}
	// The stream's goroutines are gone even while the server still runs.
	goleak.VerifyNone(t, before)
}

// Breaking out of the range loop closes the stream and its connection.
func TestConverseStreamEarlyBreak(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverseStream,
		bedrockkittest.Reply{Message: bedrockkit.AssistantText(strings.Repeat("long answer ", 50)), ChunkSize: 3, Interrupt: &bedrockkittest.Interrupt{AfterEvents: 30, Stall: true}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("second")},
	)
	before := goleak.IgnoreCurrent()
	n := 0
	for _, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break
		}
	}
	goleak.VerifyNone(t, before)
	// The model is still usable.
	resp, err := bedrockkit.Collect(m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("?")}}))
	if err != nil || resp.Message.Text() != "second" {
		t.Fatalf("second stream: %v, %v", resp, err)
	}
}

func TestConverseLocalValidationSendsNothing(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, "meta.llama3-1-70b-instruct-v1:0", bedrockkit.ConverseOptions{})
	tools := []bedrockkit.ToolSpec{{Name: "a", InputSchema: json.RawMessage(`{"type":"object"}`)}}
	bad := []*bedrockkit.Request{
		{},
		{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}, Tools: []bedrockkit.ToolSpec{{Name: "a", InputSchema: json.RawMessage(`{"type":"array"}`)}}},
		{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}, Tools: tools, ToolChoice: bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "b"}},
		{Messages: []bedrockkit.Message{{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{bedrockkit.Image{Format: bedrockkit.ImagePNG}}}}},
	}
	for i, req := range bad {
		if _, err := m.Generate(context.Background(), req); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("request %d: Generate err = %v, want ErrInvalidInput", i, err)
		}
		if _, err := bedrockkit.Collect(m.Stream(context.Background(), req)); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("request %d: Stream err = %v, want ErrInvalidInput", i, err)
		}
	}
	// Llama takes no named tool choice: the capability table says so.
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}, Tools: tools, ToolChoice: bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: "a"}}
	if _, err := m.Generate(context.Background(), req); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Errorf("named tool choice on Llama: err = %v, want ErrUnsupported", err)
	}
	if len(f.Requests()) != 0 {
		t.Errorf("invalid requests reached the service: %d", len(f.Requests()))
	}
	// NoCapabilityCheck leaves the decision to Bedrock.
	lenient := newModel(t, f, "meta.llama3-1-70b-instruct-v1:0", bedrockkit.ConverseOptions{NoCapabilityCheck: true})
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := lenient.Generate(context.Background(), req); err != nil {
		t.Errorf("NoCapabilityCheck: %v", err)
	}
}

func TestNewConverseModel(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	c := f.Client()
	for _, tc := range []struct {
		id   string
		opts bedrockkit.ConverseOptions
		want error
	}{
		{"", bedrockkit.ConverseOptions{}, bedrockkit.ErrInvalidInput},
		{"not a model", bedrockkit.ConverseOptions{}, bedrockkit.ErrInvalidInput},
		{"arn:aws:bedrock:us-east-1:123456789012:imported-model/abc", bedrockkit.ConverseOptions{}, bedrockkit.ErrUnsupported},
		{"amazon.titan-embed-text-v2:0", bedrockkit.ConverseOptions{}, bedrockkit.ErrUnsupported},
		{claude, bedrockkit.ConverseOptions{IdleTimeout: -time.Second}, bedrockkit.ErrInvalidInput},
		{"anthropic.claude-sonnet-4-20250514-v1:0", bedrockkit.ConverseOptions{}, bedrockkit.ErrInvalidInput},
		{"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0", bedrockkit.ConverseOptions{}, bedrockkit.ErrInvalidInput},
		{claude, bedrockkit.ConverseOptions{AdditionalResponseFieldPaths: []string{"stop_sequence"}}, bedrockkit.ErrInvalidInput},
		{claude, bedrockkit.ConverseOptions{BaseModel: "arn:aws:bedrock:us-east-1:1:provisioned-model/x"}, bedrockkit.ErrInvalidInput},
	} {
		if _, err := bedrockkit.NewConverseModel(c, tc.id, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("NewConverseModel(%q, %+v) = %v, want %v", tc.id, tc.opts, err, tc.want)
		}
	}
	if _, err := bedrockkit.NewConverseModel(c, "anthropic.claude-sonnet-4-20250514-v1:0", bedrockkit.ConverseOptions{NoCapabilityCheck: true}); err != nil {
		t.Errorf("NoCapabilityCheck should allow a bare ID: %v", err)
	}
	// A nil client means the default AWS configuration: see
	// TestNilClientUsesDefaultAWSConfig.
	var nilClient *bedrockruntime.Client
	if _, err := bedrockkit.NewConverseModel(nilClient, claude, bedrockkit.ConverseOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("nil *bedrockruntime.Client: %v", err)
	}
	// An application inference profile hides its model; BaseModel declares it.
	arn := "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
	m, err := bedrockkit.NewConverseModel(c, arn, bedrockkit.ConverseOptions{})
	if err != nil || m.Capabilities().Known {
		t.Fatalf("profile without BaseModel: %v %+v", err, m.Capabilities())
	}
	m, err = bedrockkit.NewConverseModel(c, arn, bedrockkit.ConverseOptions{BaseModel: "anthropic.claude-3-7-sonnet-20250219-v1:0"})
	if err != nil || m.Capabilities().Family != "claude-3.7-sonnet" || m.ModelID().Kind != bedrockkit.KindApplicationInferenceProfile {
		t.Fatalf("profile with BaseModel: %v %+v", err, m.Capabilities())
	}
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := m.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].ModelID; got != arn {
		t.Errorf("the request went to %q, want the profile ARN", got)
	}
}
