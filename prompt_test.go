package bedrockkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func TestPrompt(t *testing.T) {
	req := bedrockkit.Prompt("What is Bedrock?")
	if len(req.Messages) != 1 || req.Messages[0].Role != bedrockkit.RoleUser || req.Messages[0].Text() != "What is Bedrock?" || len(req.Messages[0].Parts) != 1 {
		t.Fatalf("Prompt = %+v", req)
	}
	// Each call is a new request: changing one does not change another.
	other := bedrockkit.Prompt("x")
	other.Messages[0].Parts[0] = bedrockkit.Text{Text: "changed"}
	if req.Messages[0].Text() != "What is Bedrock?" {
		t.Fatal("requests share their messages")
	}
}

// seq replays events and then err, and records how far the consumer read.
type seq struct {
	events   []bedrockkit.StreamEvent
	err      error
	produced int
	stopped  bool
}

func (s *seq) stream() iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for _, ev := range s.events {
			s.produced++
			if !yield(ev, nil) {
				s.stopped = true
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
		}
	}
}

func collectText(st iter.Seq2[string, error]) ([]string, error) {
	var out []string
	for text, err := range st {
		if err != nil {
			return out, err
		}
		out = append(out, text)
	}
	return out, nil
}

func TestTextStream(t *testing.T) {
	full := []bedrockkit.StreamEvent{
		bedrockkit.ReasoningDelta{Index: 0, Text: "thinking"},
		bedrockkit.TextDelta{Index: 1, Text: "Hello"},
		bedrockkit.CitationDelta{Index: 1},
		bedrockkit.TextDelta{Index: 1, Text: ""},
		bedrockkit.TextDelta{Index: 1, Text: ", world"},
		bedrockkit.ToolCallDelta{Index: 2, ID: "t1", Name: "f"},
		bedrockkit.ToolCallDone{Index: 2, Call: bedrockkit.ToolCall{ID: "t1", Name: "f", Input: json.RawMessage(`{}`)}},
		bedrockkit.Stop{Reason: bedrockkit.StopToolUse},
		bedrockkit.StreamMetadata{Usage: bedrockkit.Usage{InputTokens: 3}},
	}
	got, err := collectText(bedrockkit.TextStream((&seq{events: full}).stream()))
	if err != nil || strings.Join(got, "|") != "Hello|, world" {
		t.Fatalf("got %q, %v; want the two non-empty text deltas only", got, err)
	}

	// A failure midway: the text before it, then the error itself.
	boom := &bedrockkit.StreamError{Partial: true, Err: bedrockkit.ErrThrottled}
	got, err = collectText(bedrockkit.TextStream((&seq{events: full[:3], err: boom}).stream()))
	if strings.Join(got, "|") != "Hello" || !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("got %q, %v; want the text then the stream's error", got, err)
	}

	// A structured repair cannot be shown as text: the view fails closed.
	retry := []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: `{"a":`}, bedrockkit.OutputRetry{Attempt: 1}, bedrockkit.TextDelta{Text: `{"a":1}`}}
	got, err = collectText(bedrockkit.TextStream((&seq{events: retry}).stream()))
	if len(got) != 1 || !errors.Is(err, bedrockkit.ErrUnsupported) || !strings.Contains(err.Error(), "Collect") {
		t.Fatalf("got %q, %v; want the first text, then ErrUnsupported naming Collect", got, err)
	}

	// A nil event is a malformed stream, not an empty string.
	_, err = collectText(bedrockkit.TextStream((&seq{events: []bedrockkit.StreamEvent{nil}}).stream()))
	if !errors.Is(err, bedrockkit.ErrMalformedStream) {
		t.Fatalf("nil event: %v", err)
	}

	// Breaking out stops the underlying stream at once.
	s := &seq{events: full}
	for range bedrockkit.TextStream(s.stream()) {
		break
	}
	if !s.stopped || s.produced != 2 {
		t.Fatalf("after break: stopped=%v produced=%d, want the stream stopped at the first text", s.stopped, s.produced)
	}
}

func TestTextStreamConverse(t *testing.T) {
	leakCheck(t)
	f := bedrockkittest.NewFakeBedrock(t)
	m := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	f.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{Message: bedrockkit.AssistantText("Hi there"), ChunkSize: 3})
	var b strings.Builder
	for text, err := range bedrockkit.TextStream(m.Stream(context.Background(), bedrockkit.Prompt("hello"))) {
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(text)
	}
	if b.String() != "Hi there" {
		t.Fatalf("text %q", b.String())
	}
	if body := string(f.Requests()[0].Body); !strings.Contains(body, `"messages":[{"content":[{"text":"hello"}],"role":"user"}]`) {
		t.Fatalf("request body %s, want one user message", body)
	}
}

func TestModelIDOf(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	cm := newModel(t, f, claude, bedrockkit.ConverseOptions{})
	titan, err := bedrockkit.NewTitanEmbedder(f.Client(), bedrockkit.TitanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scripted := bedrockkittest.NewScriptedModel()
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"converse", cm, claude},
		{"retry", bedrockkit.Chain(cm, bedrockkit.RetryPolicy{}.Middleware()), claude},
		{"structured+retry", bedrockkit.Chain(cm, bedrockkit.StructuredOutput(bedrockkit.StructuredOptions{}), bedrockkit.RetryPolicy{}.Middleware()), claude},
		{"titan", titan, bedrockkit.TitanEmbedTextV2},
		{"scripted", scripted, ""},
		{"retry around scripted", bedrockkit.RetryPolicy{}.Middleware()(scripted), ""},
		// A fallback may call another model: it must not claim one ID.
		{"fallback", bedrockkit.Fallback(bedrockkit.FallbackOptions{}, bedrockkit.FallbackTarget{Name: "b", Model: scripted})(cm), ""},
		{"nil", nil, ""},
		{"named scripted", bedrockkit.WithModelID(scripted, "amazon.nova-lite-v1:0"), "amazon.nova-lite-v1:0"},
		{"named converse, renamed", bedrockkit.WithModelID(cm, "amazon.nova-pro-v1:0"), "amazon.nova-pro-v1:0"},
		{"retry around named", bedrockkit.RetryPolicy{}.Middleware()(bedrockkit.WithModelID(scripted, "x")), "x"},
	} {
		if got := bedrockkit.ModelIDOf(tc.v); got != tc.want {
			t.Errorf("%s: ModelIDOf = %q, want %q", tc.name, got, tc.want)
		}
	}
	// WithModelID passes on the model's OutputCapable answer, both ways.
	for _, want := range []bool{true, false} {
		scripted.SetSupportsOutput(want)
		oc, ok := bedrockkit.WithModelID(scripted, "x").(bedrockkit.OutputCapable)
		if !ok || oc.SupportsOutput() != want {
			t.Errorf("WithModelID: SupportsOutput = %v, want %v", ok && oc.SupportsOutput(), want)
		}
	}
}

func TestPartsPrintJSONAsText(t *testing.T) {
	res := bedrockkit.ToolResult{CallID: "t1", Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"rate":4.5}`)}}}
	call := bedrockkit.ToolCall{ID: "t1", Name: "rates", Input: json.RawMessage(`{"product":"savings"}`)}
	msg := bedrockkit.Message{Role: bedrockkit.RoleUser, Parts: []bedrockkit.Part{res}}
	for _, tc := range []struct {
		got, want string
	}{
		{fmt.Sprintf("%+v", res), `{CallID:t1 Parts:[{"rate":4.5}] IsError:false}`},
		{fmt.Sprintf("%v", res), `{t1 [{"rate":4.5}] false}`},
		{fmt.Sprintf("%+v", call), `{ID:t1 Name:rates Input:{"product":"savings"}}`},
		{fmt.Sprint(call), `{ID:t1 Name:rates Input:{"product":"savings"}}`},
		{fmt.Sprintf("%+v", bedrockkit.ToolCallDone{Index: 2, Call: call}), `{Index:2 Call:{ID:t1 Name:rates Input:{"product":"savings"}}}`},
		{fmt.Sprintf("%+v", msg), `{Role:user Parts:[{CallID:t1 Parts:[{"rate":4.5}] IsError:false}]}`},
		{fmt.Sprintf("%v", bedrockkit.OutputValue{Value: json.RawMessage(`[1,2]`)}), `[1,2]`},
	} {
		if tc.got != tc.want {
			t.Errorf("printed %s, want %s", tc.got, tc.want)
		}
	}
}

func TestNilClientUsesDefaultAWSConfig(t *testing.T) {
	leakCheck(t)
	isolateAWSEnv(t)
	f := bedrockkittest.NewFakeBedrock(t)
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDDEFAULTCHAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")

	m, err := bedrockkit.NewConverseModel(nil, claude, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("from the default chain")})
	resp, err := m.Generate(context.Background(), bedrockkit.Prompt("hi"))
	if err != nil || resp.Message.Text() != "from the default chain" {
		t.Fatalf("Generate = %v, %v", resp, err)
	}
	auth := f.Requests()[0].Header.Get("Authorization")
	if !strings.Contains(auth, "Credential=AKIDDEFAULTCHAIN/") || !strings.Contains(auth, "/eu-west-3/bedrock/aws4_request") {
		t.Fatalf("Authorization = %q, want a SigV4 signature with the environment's key and Region", auth)
	}

	titan, err := bedrockkit.NewTitanEmbedder(nil, bedrockkit.TitanOptions{Dimensions: 256})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := titan.Embed(context.Background(), []string{"a"}, bedrockkit.PurposeDocument); err != nil || len(v) != 1 || len(v[0]) != 256 {
		t.Fatalf("Titan Embed = %d vectors, %v", len(v), err)
	}
	cohere, err := bedrockkit.NewCohereEmbedder(nil, bedrockkit.CohereOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cohere.Embed(context.Background(), []string{"a", "b"}, bedrockkit.PurposeQuery); err != nil || len(v) != 2 {
		t.Fatalf("Cohere Embed = %d vectors, %v", len(v), err)
	}
}

func TestNilClientWithoutRegionFails(t *testing.T) {
	isolateAWSEnv(t)
	_, err := bedrockkit.NewConverseModel(nil, claude, bedrockkit.ConverseOptions{})
	if !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "AWS_REGION") || !strings.HasPrefix(err.Error(), "bedrockkit: NewConverseModel") {
		t.Fatalf("err = %v, want ErrInvalidInput from NewConverseModel naming AWS_REGION", err)
	}
	if _, err := bedrockkit.NewTitanEmbedder(nil, bedrockkit.TitanOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Titan: %v", err)
	}
	if _, err := bedrockkit.NewCohereEmbedder(nil, bedrockkit.CohereOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Cohere: %v", err)
	}
	// A malformed model ID is reported as such, before the configuration
	// is loaded.
	if _, err := bedrockkit.NewConverseModel(nil, "not a model", bedrockkit.ConverseOptions{}); err == nil || strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("bad model ID: %v", err)
	}
	// A nil *bedrockruntime.Client is a bug, not a request for the default.
	t.Setenv("AWS_REGION", "us-east-1")
	var nilClient *bedrockruntime.Client
	if _, err := bedrockkit.NewConverseModel(nilClient, claude, bedrockkit.ConverseOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("nil *bedrockruntime.Client: %v", err)
	}
	if _, err := bedrockkit.NewTitanEmbedder(nilClient, bedrockkit.TitanOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("Titan nil *bedrockruntime.Client: %v", err)
	}
}
