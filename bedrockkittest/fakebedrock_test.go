package bedrockkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
	"github.com/bedrockkit/bedrockkit"
)

const claude = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

func userMsg(text string) []types.Message {
	return []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: text}}}}
}

func docJSON(t *testing.T, d interface{ MarshalSmithyDocument() ([]byte, error) }) string {
	t.Helper()
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConverseAllContentTypes(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	f.Enqueue(OpConverse, Reply{
		Message: bedrockkit.Message{Parts: []bedrockkit.Part{
			bedrockkit.Reasoning{Text: "thinking", Signature: "sig"},
			bedrockkit.Reasoning{Redacted: []byte{0, 1, 2}},
			bedrockkit.Text{Text: "héllo"},
			bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: []byte("PNGDATA")},
			bedrockkit.Image{Format: bedrockkit.ImageJPEG, S3URI: "s3://b/k.jpg"},
			bedrockkit.Document{Name: "doc", Format: bedrockkit.DocTXT, Text: "doc text"},
			bedrockkit.Document{Name: "pdf", Format: bedrockkit.DocPDF, Bytes: []byte("%PDF")},
			bedrockkit.ToolCall{ID: "t1", Name: "lookup", Input: json.RawMessage(`{"q":"x","n":[1,2]}`)},
			bedrockkit.ToolResult{CallID: "t0", IsError: true, Parts: []bedrockkit.Part{
				bedrockkit.Text{Text: "failed"}, bedrockkit.JSON{Value: json.RawMessage(`{"code":7}`)}}},
			bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL1h},
		}},
		Usage:            bedrockkit.Usage{InputTokens: 10, OutputTokens: 20, CacheReadTokens: 30, CacheWriteTokens: 40},
		AdditionalFields: json.RawMessage(`{"stop_sequence":null}`),
		LatencyMs:        42,
	})
	out, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	if msg.Role != types.ConversationRoleAssistant || len(msg.Content) != 10 {
		t.Fatalf("role %q, %d blocks", msg.Role, len(msg.Content))
	}
	rt := msg.Content[0].(*types.ContentBlockMemberReasoningContent).Value.(*types.ReasoningContentBlockMemberReasoningText).Value
	if *rt.Text != "thinking" || *rt.Signature != "sig" {
		t.Errorf("reasoning %+v", rt)
	}
	if red := msg.Content[1].(*types.ContentBlockMemberReasoningContent).Value.(*types.ReasoningContentBlockMemberRedactedContent).Value; !bytes.Equal(red, []byte{0, 1, 2}) {
		t.Errorf("redacted %v", red)
	}
	if txt := msg.Content[2].(*types.ContentBlockMemberText).Value; txt != "héllo" {
		t.Errorf("text %q", txt)
	}
	img := msg.Content[3].(*types.ContentBlockMemberImage).Value
	if img.Format != types.ImageFormatPng || string(img.Source.(*types.ImageSourceMemberBytes).Value) != "PNGDATA" {
		t.Errorf("image %+v", img)
	}
	if s3 := msg.Content[4].(*types.ContentBlockMemberImage).Value.Source.(*types.ImageSourceMemberS3Location).Value; *s3.Uri != "s3://b/k.jpg" {
		t.Errorf("s3 %v", *s3.Uri)
	}
	d := msg.Content[5].(*types.ContentBlockMemberDocument).Value
	if *d.Name != "doc" || d.Format != types.DocumentFormatTxt || d.Source.(*types.DocumentSourceMemberText).Value != "doc text" {
		t.Errorf("doc %+v", d)
	}
	if b := msg.Content[6].(*types.ContentBlockMemberDocument).Value.Source.(*types.DocumentSourceMemberBytes).Value; string(b) != "%PDF" {
		t.Errorf("pdf %q", b)
	}
	tu := msg.Content[7].(*types.ContentBlockMemberToolUse).Value
	if *tu.ToolUseId != "t1" || *tu.Name != "lookup" || docJSON(t, tu.Input) != `{"n":[1,2],"q":"x"}` {
		t.Errorf("toolUse %+v %s", tu, docJSON(t, tu.Input))
	}
	tr := msg.Content[8].(*types.ContentBlockMemberToolResult).Value
	if *tr.ToolUseId != "t0" || tr.Status != types.ToolResultStatusError || len(tr.Content) != 2 ||
		tr.Content[0].(*types.ToolResultContentBlockMemberText).Value != "failed" ||
		docJSON(t, tr.Content[1].(*types.ToolResultContentBlockMemberJson).Value) != `{"code":7}` {
		t.Errorf("toolResult %+v", tr)
	}
	if cp := msg.Content[9].(*types.ContentBlockMemberCachePoint).Value; cp.Type != types.CachePointTypeDefault || cp.Ttl != types.CacheTTLOneHour {
		t.Errorf("cachePoint %+v", cp)
	}
	if out.StopReason != types.StopReasonToolUse {
		t.Errorf("stop %q", out.StopReason)
	}
	u := out.Usage
	if *u.InputTokens != 10 || *u.OutputTokens != 20 || *u.CacheReadInputTokens != 30 || *u.CacheWriteInputTokens != 40 || *u.TotalTokens != 100 {
		t.Errorf("usage %+v", u)
	}
	if *out.Metrics.LatencyMs != 42 || docJSON(t, out.AdditionalModelResponseFields) != `{"stop_sequence":null}` {
		t.Errorf("metrics/additional: %v %s", *out.Metrics.LatencyMs, docJSON(t, out.AdditionalModelResponseFields))
	}
	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Op != OpConverse || reqs[0].ModelID != claude || !strings.Contains(string(reqs[0].Body), `"text":"hi"`) {
		t.Fatalf("recorded %+v", reqs)
	}
	if !strings.HasPrefix(reqs[0].Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		t.Errorf("Authorization = %q, want SigV4", reqs[0].Header.Get("Authorization"))
	}
}

func TestConverseRawBodyAndUnscripted(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	f.Enqueue(OpConverse, Reply{Body: json.RawMessage(`{"output":{"message":{"role":"assistant","content":[{"text":"raw"}]}},"stopReason":"max_tokens","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":5}}`)})
	out, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if out.StopReason != types.StopReasonMaxTokens || out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value != "raw" {
		t.Fatalf("%+v", out)
	}
	_, err = c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "fakebedrock: no scripted reply for Converse; call Enqueue") {
		t.Fatalf("err = %v", err)
	}
	if f.Calls(OpConverse) != 2 {
		t.Errorf("calls %d", f.Calls(OpConverse))
	}
}

func TestModelIDWithARNIsDecoded(t *testing.T) {
	f := NewFakeBedrock(t)
	arn := "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3:x"
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := f.Client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(arn), Messages: userMsg("hi")}); err != nil {
		t.Fatal(err)
	}
	r := f.Requests()[0]
	if r.ModelID != arn {
		t.Fatalf("ModelID = %q (path %q), want %q", r.ModelID, r.Path, arn)
	}
}

func TestFaultsMapToSDKErrorTypes(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	cases := []struct {
		code   string
		status int
		target any
	}{
		{"ThrottlingException", 429, new(*types.ThrottlingException)},
		{"ServiceUnavailableException", 503, new(*types.ServiceUnavailableException)},
		{"InternalServerException", 500, new(*types.InternalServerException)},
		{"ModelNotReadyException", 429, new(*types.ModelNotReadyException)},
		{"ModelTimeoutException", 408, new(*types.ModelTimeoutException)},
		{"ValidationException", 400, new(*types.ValidationException)},
		{"AccessDeniedException", 403, new(*types.AccessDeniedException)},
		{"ResourceNotFoundException", 404, new(*types.ResourceNotFoundException)},
		{"ModelErrorException", 424, new(*types.ModelErrorException)},
		{"ServiceQuotaExceededException", 400, new(*types.ServiceQuotaExceededException)},
		{"Throttling", 429, new(*types.ThrottlingException)}, // suffix may be omitted
	}
	for _, tc := range cases {
		for _, op := range []Operation{OpConverse, OpConverseStream, OpInvokeModel, OpApplyGuardrail} {
			f.Enqueue(op, Reply{Fault: &Fault{Code: tc.code, Message: "scripted " + tc.code}})
			var err error
			switch op {
			case OpConverse:
				_, err = c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("x")})
			case OpConverseStream:
				_, err = c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("x")})
			case OpInvokeModel:
				_, err = c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String("amazon.titan-embed-text-v2:0"), Body: []byte(`{"inputText":"x"}`)})
			case OpApplyGuardrail:
				_, err = c.ApplyGuardrail(context.Background(), &bedrockruntime.ApplyGuardrailInput{GuardrailIdentifier: aws.String("gr1"), GuardrailVersion: aws.String("1"),
					Source: types.GuardrailContentSourceInput, Content: []types.GuardrailContentBlock{&types.GuardrailContentBlockMemberText{Value: types.GuardrailTextBlock{Text: aws.String("x")}}}})
			}
			if !errors.As(err, tc.target) {
				t.Errorf("%s %s: err = %T %v", op, tc.code, err, err)
				continue
			}
			var api smithy.APIError
			if !errors.As(err, &api) || !strings.Contains(api.ErrorMessage(), "scripted "+tc.code) {
				t.Errorf("%s %s: message lost: %v", op, tc.code, err)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != tc.status {
				t.Errorf("%s %s: status %d, want %d", op, tc.code, re.HTTPStatusCode(), tc.status)
			}
		}
	}
}

// drain reads a ConverseStream to the end, returning its events and Err().
func drain(t *testing.T, out *bedrockruntime.ConverseStreamOutput) ([]types.ConverseStreamOutput, error) {
	t.Helper()
	s := out.GetStream()
	defer s.Close()
	var evs []types.ConverseStreamOutput
	for ev := range s.Events() {
		evs = append(evs, ev)
	}
	return evs, s.Err()
}

func TestConverseStreamFraming(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	f.Enqueue(OpConverseStream, Reply{
		Message: bedrockkit.Message{Parts: []bedrockkit.Part{
			bedrockkit.Reasoning{Text: "let me think", Signature: "sig=="},
			bedrockkit.Text{Text: "Hello, wörld!"},
			bedrockkit.ToolCall{ID: "tu1", Name: "search", Input: json.RawMessage(`{"query":"go bedrock","k":3}`)},
		}},
		Usage:     bedrockkit.Usage{InputTokens: 7, OutputTokens: 9, CacheReadTokens: 2},
		ChunkSize: 5,
		LatencyMs: 11,
	})
	out, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(t, out)
	if err != nil {
		t.Fatal(err)
	}
	var (
		kinds            []string
		reasoning, sig   string
		texts            []string
		toolFrags        []string
		toolID, toolName string
		stop             types.StopReason
		usage            *types.TokenUsage
		latency          int64
	)
	for _, ev := range evs {
		switch e := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			kinds = append(kinds, "start:"+string(e.Value.Role))
		case *types.ConverseStreamOutputMemberContentBlockStart:
			tu := e.Value.Start.(*types.ContentBlockStartMemberToolUse).Value
			toolID, toolName = *tu.ToolUseId, *tu.Name
			kinds = append(kinds, "blockStart")
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			switch d := e.Value.Delta.(type) {
			case *types.ContentBlockDeltaMemberText:
				texts = append(texts, d.Value)
			case *types.ContentBlockDeltaMemberToolUse:
				toolFrags = append(toolFrags, *d.Value.Input)
				if *e.Value.ContentBlockIndex != 2 {
					t.Errorf("tool delta index %d", *e.Value.ContentBlockIndex)
				}
			case *types.ContentBlockDeltaMemberReasoningContent:
				switch r := d.Value.(type) {
				case *types.ReasoningContentBlockDeltaMemberText:
					reasoning += r.Value
				case *types.ReasoningContentBlockDeltaMemberSignature:
					sig += r.Value
				}
			}
		case *types.ConverseStreamOutputMemberContentBlockStop:
			kinds = append(kinds, "blockStop")
		case *types.ConverseStreamOutputMemberMessageStop:
			stop = e.Value.StopReason
			kinds = append(kinds, "messageStop")
		case *types.ConverseStreamOutputMemberMetadata:
			usage = e.Value.Usage
			latency = *e.Value.Metrics.LatencyMs
			kinds = append(kinds, "metadata")
		default:
			t.Errorf("unexpected event %T", ev)
		}
	}
	if want := []string{"start:assistant", "blockStop", "blockStop", "blockStart", "blockStop", "messageStop", "metadata"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("event order %v, want %v", kinds, want)
	}
	if reasoning != "let me think" || sig != "sig==" {
		t.Errorf("reasoning %q sig %q", reasoning, sig)
	}
	if want := []string{"Hello", ", wör", "ld!"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("text deltas %q, want %q (5 runes each)", texts, want)
	}
	if toolID != "tu1" || toolName != "search" || strings.Join(toolFrags, "") != `{"query":"go bedrock","k":3}` || len(toolFrags) != 6 {
		t.Errorf("tool %s %s frags %q", toolID, toolName, toolFrags)
	}
	if stop != types.StopReasonToolUse || *usage.InputTokens != 7 || *usage.OutputTokens != 9 || *usage.CacheReadInputTokens != 2 || *usage.TotalTokens != 18 || latency != 11 {
		t.Errorf("stop %q usage %+v latency %d", stop, usage, latency)
	}
}

func TestConverseStreamMidStreamException(t *testing.T) {
	for _, tc := range []struct {
		code   string
		target any
	}{
		{"ThrottlingException", new(*types.ThrottlingException)},
		{"ModelStreamErrorException", new(*types.ModelStreamErrorException)},
		{"ValidationException", new(*types.ValidationException)},
		{"InternalServerException", new(*types.InternalServerException)},
		{"ServiceUnavailableException", new(*types.ServiceUnavailableException)},
	} {
		f := NewFakeBedrock(t)
		f.Enqueue(OpConverseStream, Reply{
			Message:   bedrockkit.AssistantText("abcdefghijkl"),
			Interrupt: &Interrupt{AfterEvents: 2, Fault: &Fault{Code: tc.code, Message: "too fast"}},
		})
		out, err := f.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := drain(t, out)
		if len(evs) != 2 {
			t.Errorf("%s: got %d events before the exception, want 2", tc.code, len(evs))
		}
		if !errors.As(err, tc.target) || !strings.Contains(err.Error(), "too fast") {
			t.Errorf("%s: stream.Err() = %T %v", tc.code, err, err)
		}
	}
}

func TestConverseStreamMalformedFrame(t *testing.T) {
	f := NewFakeBedrock(t)
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("hello"), Interrupt: &Interrupt{AfterEvents: 1, Malformed: true}})
	out, err := f.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(t, out)
	if err == nil || len(evs) != 1 {
		t.Fatalf("events %d, err %v: want 1 event then a decode error", len(evs), err)
	}
}

func TestConverseStreamStallEndsOnCancel(t *testing.T) {
	f := NewFakeBedrock(t)
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("hello world"), Interrupt: &Interrupt{AfterEvents: 2, Stall: true}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, err := f.Client().ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	s := out.GetStream()
	defer s.Close()
	var n int
	for ev := range s.Events() {
		n++
		if _, done := ev.(*types.ConverseStreamOutputMemberMessageStop); done {
			t.Fatal("stalled stream completed")
		}
		if n == 2 {
			cancel() // the caller gives up on the stalled stream
		}
	}
	if n != 2 || s.Err() == nil {
		t.Errorf("got %d events and err %v; want the 2 events before the stall, then an error", n, s.Err())
	}
	// goleak in TestMain checks that neither the handler nor the SDK reader leaked.
}

func TestConverseStreamStallEndsOnServerClose(t *testing.T) {
	f := NewFakeBedrock(t)
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("hi"), Interrupt: &Interrupt{AfterEvents: 0, Stall: true}})
	out, err := f.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := drain(t, out)
		done <- err
	}()
	f.Close() // must not hang on the stalled handler
	<-done
}

func TestConverseStreamUnscripted(t *testing.T) {
	f := NewFakeBedrock(t)
	_, err := f.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "no scripted reply for ConverseStream") {
		t.Fatalf("err = %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	const n = 20
	for i := 0; i < n; i++ {
		f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("c")})
		f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("stream text")})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Go(func() {
			_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("x")})
			errs <- err
		})
		wg.Go(func() {
			// A fresh protocol per call works around aws/smithy-go#714: every
			// stream of a client shares one event-stream codec, which is a data
			// race when streams run concurrently.
			out, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("x")},
				func(o *bedrockruntime.Options) { o.Protocol = restjson1.New(schemas.AmazonBedrockFrontendService) })
			if err == nil {
				_, err = drain(t, out)
			}
			errs <- err
		})
		wg.Go(func() {
			_, err := c.InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String("amazon.titan-embed-text-v2:0"), Body: []byte(`{"inputText":"x"}`)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.Calls(OpConverse) != n || f.Calls(OpConverseStream) != n || f.Calls(OpInvokeModel) != n || len(f.Requests()) != 3*n {
		t.Fatalf("calls %d %d %d", f.Calls(OpConverse), f.Calls(OpConverseStream), f.Calls(OpInvokeModel))
	}
}

func TestBearerTokenOverTLS(t *testing.T) {
	f := NewFakeBedrockTLS(t)
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")})
	c := f.Client(WithBearerToken("bedrock-api-key-123"))
	if _, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")}); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].Header.Get("Authorization"); got != "Bearer bedrock-api-key-123" {
		t.Fatalf("Authorization = %q", got)
	}
	// Default client on TLS still signs with SigV4.
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := f.Client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")}); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[1].Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256") {
		t.Fatalf("Authorization = %q", got)
	}
}

func TestApplyGuardrailDefaultAndScripted(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	in := &bedrockruntime.ApplyGuardrailInput{GuardrailIdentifier: aws.String("arn:aws:bedrock:us-east-1:1:guardrail/abc"), GuardrailVersion: aws.String("DRAFT"),
		Source: types.GuardrailContentSourceOutput, Content: []types.GuardrailContentBlock{&types.GuardrailContentBlockMemberText{Value: types.GuardrailTextBlock{Text: aws.String("hello")}}}}
	out, err := c.ApplyGuardrail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != types.GuardrailActionNone || len(out.Assessments) != 0 {
		t.Fatalf("%+v", out)
	}
	if r := f.Requests()[0]; r.ModelID != "arn:aws:bedrock:us-east-1:1:guardrail/abc" || !strings.Contains(string(r.Body), `"source":"OUTPUT"`) {
		t.Fatalf("recorded %+v", r)
	}
	f.Enqueue(OpApplyGuardrail, Reply{Body: json.RawMessage(`{"usage":{"topicPolicyUnits":1,"contentPolicyUnits":1,"wordPolicyUnits":1,"sensitiveInformationPolicyUnits":1,"sensitiveInformationPolicyFreeUnits":0,"contextualGroundingPolicyUnits":0},"action":"GUARDRAIL_INTERVENED","outputs":[{"text":"Sorry."}],"assessments":[{"wordPolicy":{"customWords":[{"match":"hello","action":"BLOCKED","detected":true}]}}]}`)})
	out, err = c.ApplyGuardrail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != types.GuardrailActionGuardrailIntervened || *out.Outputs[0].Text != "Sorry." || *out.Assessments[0].WordPolicy.CustomWords[0].Match != "hello" {
		t.Fatalf("%+v", out)
	}
}

func TestUnknownPath(t *testing.T) {
	f := NewFakeBedrock(t)
	resp, err := f.srv.Client().Get(f.URL() + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
