package bedrockkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/bedrockkit/bedrockkit"
)

func text(s string) types.ContentBlock { return &types.ContentBlockMemberText{Value: s} }

func msg(role types.ConversationRole, blocks ...types.ContentBlock) types.Message {
	return types.Message{Role: role, Content: blocks}
}

const (
	user      = types.ConversationRoleUser
	assistant = types.ConversationRoleAssistant
)

func toolUse(id string) types.ContentBlock {
	return &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{ToolUseId: aws.String(id), Name: aws.String("lookup"), Input: document.NewLazyDocument(map[string]any{})}}
}

func toolResult(id string) types.ContentBlock {
	return &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: aws.String(id), Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: "ok"}}}}
}

var lookupTool = &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
	Name: aws.String("lookup"), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{"type": "object"})},
}}}}

// invalidRequests are requests Bedrock refuses, each with (a part of)
// Bedrock's message.
func invalidRequests() []struct {
	name string
	in   bedrockruntime.ConverseInput
	want string
	chk  Check
} {
	cache := &types.ContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}}
	return []struct {
		name string
		in   bedrockruntime.ConverseInput
		want string
		chk  Check
	}{
		{"starts with assistant", bedrockruntime.ConverseInput{Messages: []types.Message{msg(assistant, text("hi")), msg(user, text("hi"))}},
			"A conversation must start with a user message. Try again with a conversation that starts with a user message.", CheckConversation},
		{"no messages", bedrockruntime.ConverseInput{Messages: []types.Message{}},
			"A conversation must start with a user message.", CheckConversation},
		{"two user turns", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(user, text("b"))}},
			"A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.", CheckConversation},
		{"result without tool use", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(assistant, text("b")), msg(user, toolResult("t9"))}, ToolConfig: lookupTool},
			"The number of toolResult blocks at messages.2.content exceeds the number of toolUse blocks of previous turn.", CheckTools},
		{"tool use not answered", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(assistant, toolUse("t1"), toolUse("t2")), msg(user, toolResult("t2"))}, ToolConfig: lookupTool},
			"Expected toolResult blocks at messages.2.content for the following Ids: t1", CheckTools},
		{"result for another id", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(assistant, toolUse("t1")), msg(user, toolResult("zz"))}, ToolConfig: lookupTool},
			"Expected toolResult blocks at messages.2.content for the following Ids: t1", CheckTools},
		{"tool blocks without toolConfig", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(assistant, toolUse("t1")), msg(user, toolResult("t1"))}},
			"The toolConfig field must be defined when using toolUse and toolResult content blocks.", CheckTools},
		{"maxTokens 0", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))}, InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(0)}},
			"1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", CheckParameters},
		{"negative maxTokens and out-of-range sampling", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))},
			InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(-5), Temperature: aws.Float32(1.5), TopP: aws.Float32(-0.5)}},
			"3 validation errors detected: Value '-5' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1; Value '-0.5' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value greater than or equal to 0", CheckParameters},
		{"blank text", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"), text("  \n"))}},
			"The text field in the ContentBlock object at messages.0.content.1 is blank. Add text to the text field, and try again.", CheckContent},
		{"empty text", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text(""))}},
			"The text field in the ContentBlock object at messages.0.content.0 is blank.", CheckContent},
		{"empty content", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), {Role: assistant, Content: []types.ContentBlock{}}}},
			"The content field in the Message object at messages.1 is empty. Add a ContentBlock object to the content field and try again.", CheckContent},
		{"error result without content", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a")), msg(assistant, toolUse("t1")),
			msg(user, &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: aws.String("t1"), Status: types.ToolResultStatusError, Content: []types.ToolResultContentBlock{}}})}, ToolConfig: lookupTool},
			"The content field at messages.2.content.0.toolResult cannot be empty when status value is error.", CheckContent},
		{"five cache points", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"), cache, cache, cache, cache, cache)}},
			"A maximum of 4 blocks with cache_control may be provided. Found 5.", CheckContent},
		{"thinking with a forced tool", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))},
			ToolConfig:                   &types.ToolConfiguration{Tools: lookupTool.Tools, ToolChoice: &types.ToolChoiceMemberAny{}},
			AdditionalModelRequestFields: document.NewLazyDocument(map[string]any{"thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}})},
			"Thinking may not be enabled when tool_choice forces tool use.", CheckTools},
		{"bad tool name", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))}, ToolConfig: &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
			Name: aws.String("look up"), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{"type": "object"})}}}}}},
			"Value 'look up' at 'toolConfig.tools.1.member.toolSpec.name' failed to satisfy constraint", CheckParameters},
		{"unknown service tier", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))}, ServiceTier: &types.ServiceTier{Type: "turbo"}},
			"Value 'turbo' at 'serviceTier.type' failed to satisfy constraint: Member must satisfy enum value set", CheckParameters},
		{"output schema not JSON", bedrockruntime.ConverseInput{Messages: []types.Message{msg(user, text("a"))}, OutputConfig: &types.OutputConfig{TextFormat: &types.OutputFormat{
			Type: types.OutputFormatTypeJsonSchema, Structure: &types.OutputFormatStructureMemberJsonSchema{Value: types.JsonSchemaDefinition{Schema: aws.String("{not json"), Name: aws.String("x")}}}}},
			"outputConfig.textFormat.structure.jsonSchema.schema is not a JSON object", CheckOutput},
	}
}

func TestFakeRefusesWhatBedrockRefuses(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	for _, tc := range invalidRequests() {
		for _, op := range []Operation{OpConverse, OpConverseStream} {
			f.Enqueue(op, Reply{Message: bedrockkit.AssistantText("should not be used")})
			in := tc.in
			in.ModelId = aws.String(claude)
			var err error
			if op == OpConverse {
				_, err = c.Converse(context.Background(), &in)
			} else {
				sin := bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages, InferenceConfig: in.InferenceConfig, ToolConfig: in.ToolConfig,
					AdditionalModelRequestFields: in.AdditionalModelRequestFields, ServiceTier: in.ServiceTier, OutputConfig: in.OutputConfig}
				var out *bedrockruntime.ConverseStreamOutput
				out, err = c.ConverseStream(context.Background(), &sin)
				if err == nil {
					out.GetStream().Close()
				}
			}
			var ve *types.ValidationException
			if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tc.want) {
				t.Errorf("%s (%s): got %v, want a ValidationException containing %q", tc.name, op, err, tc.want)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != 400 {
				t.Errorf("%s (%s): status %d", tc.name, op, re.HTTPStatusCode())
			}
			if f.Pending(op) != 1 {
				t.Errorf("%s (%s): a refused request took the scripted reply", tc.name, op)
			}
			f.take(op)
		}
	}
}

func TestFakeRefusesMalformedModelIDs(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	for id, want := range map[string]string{
		"anthropic claude": "1 validation error detected: Value 'anthropic claude' at 'modelId' failed to satisfy constraint: Member must satisfy regular expression pattern",
		"claude":           "The provided model identifier is invalid.",
		"us.anthropic.":    "The provided model identifier is invalid.",
		"anthropic.claude-3-7-sonnet-20250219-v1:0":           "Invocation of model ID anthropic.claude-3-7-sonnet-20250219-v1:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
		"amazon.titan-embed-text-v2:0":                        "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
		"arn:aws:bedrock:us-east-1:123456789012:bogus-type/x": "The provided model identifier is invalid.",
	} {
		_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(id), Messages: userMsg("hi")})
		var ve *types.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), want) {
			t.Errorf("%q: got %v, want %q", id, err, want)
		}
	}
	// Valid identifiers of every kind pass.
	for _, id := range []string{"amazon.nova-lite-v1:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"} {
		f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")})
		if _, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(id), Messages: userMsg("hi")}); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
}

// rawPost sends a body to the fake the way any client would.
func rawPost(t *testing.T, f *FakeBedrock, path, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(f.URL()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(b)
}

func TestTopLevelJSONBlockIsNotAContentBlock(t *testing.T) {
	f := NewFakeBedrock(t)
	status, code, body := rawPost(t, f, "/model/"+claude+"/converse", `{"messages":[{"role":"user","content":[{"text":"a"},{"json":{"x":1}}]}]}`)
	if status != 400 || code != "ValidationException" || !strings.Contains(body, "not a ContentBlock member") {
		t.Fatalf("%d %s %s", status, code, body)
	}
	status, _, body = rawPost(t, f, "/model/"+claude+"/converse", `{"messages":[{"role":"user","content":[{"text":"a","image":{}}]}]}`)
	if status != 400 || !strings.Contains(body, "exactly one member") {
		t.Fatalf("%d %s", status, body)
	}
	// Scripting one is refused too: JSON belongs in a ToolResult.
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"x":1}`)}}}})
	_, err := f.Client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	var ie *types.InternalServerException
	if !errors.As(err, &ie) || !strings.Contains(ie.ErrorMessage(), "not a Bedrock ContentBlock") {
		t.Fatalf("scripted top-level JSON: %v", err)
	}
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.JSON{Value: json.RawMessage(`{"x":1}`)}}}})
	if _, err := f.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")}); !errors.As(err, &ie) {
		t.Fatalf("scripted top-level JSON in a stream: %v", err)
	}
}

func TestRelax(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: []types.Message{msg(assistant, text("hi")), msg(user, text(""))}}
	f.Relax(CheckConversation)
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")})
	if _, err := c.Converse(context.Background(), in); err == nil || !strings.Contains(err.Error(), "is blank") {
		t.Fatalf("relaxing the conversation checks must keep the content checks: %v", err)
	}
	f.Relax()
	if _, err := c.Converse(context.Background(), in); err != nil {
		t.Fatalf("relaxed: %v", err)
	}
	if _, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String("bad model"), Messages: userMsg("x")}); err == nil || !strings.Contains(err.Error(), "no scripted reply") {
		t.Fatalf("relaxed model IDs: %v", err)
	}
	if status, _, _ := rawPost(t, f, "/model/x.y/converse", `{`); status != 400 {
		t.Fatalf("a body that is not JSON is refused even relaxed: %d", status)
	}
}

func TestConflictExceptionIs400(t *testing.T) {
	if StatusFor("ConflictException") != 400 || StatusFor("Conflict") != 400 {
		t.Fatalf("ConflictException is HTTP 400 in Bedrock's model, got %d", StatusFor("ConflictException"))
	}
}

func TestServiceTierAndLatencyAreServed(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.AssistantText("ok")}, Reply{Message: bedrockkit.AssistantText("ok"), ServiceTier: bedrockkit.ServiceTierDefault})
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi"),
		ServiceTier: &types.ServiceTier{Type: types.ServiceTierTypeFlex}, PerformanceConfig: &types.PerformanceConfiguration{Latency: types.PerformanceConfigLatencyOptimized}}
	out, err := c.Converse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if out.ServiceTier == nil || out.ServiceTier.Type != types.ServiceTierTypeFlex || out.PerformanceConfig == nil || out.PerformanceConfig.Latency != types.PerformanceConfigLatencyOptimized {
		t.Fatalf("echo: %+v %+v", out.ServiceTier, out.PerformanceConfig)
	}
	out, err = c.Converse(context.Background(), in)
	if err != nil || out.ServiceTier.Type != types.ServiceTierTypeDefault {
		t.Fatalf("scripted tier: %+v %v", out.ServiceTier, err)
	}
	if !strings.Contains(string(f.Requests()[0].Body), `"serviceTier":{"type":"flex"}`) {
		t.Fatalf("body %s", f.Requests()[0].Body)
	}
	// Streams report it in the metadata event.
	f.Enqueue(OpConverseStream, Reply{Message: bedrockkit.AssistantText("ok"), ServiceTier: bedrockkit.ServiceTierPriority})
	sout, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := drain(t, sout)
	md, ok := evs[len(evs)-1].(*types.ConverseStreamOutputMemberMetadata)
	if err != nil || !ok || md.Value.ServiceTier == nil || md.Value.ServiceTier.Type != types.ServiceTierTypePriority {
		t.Fatalf("stream metadata %+v %v", evs[len(evs)-1], err)
	}
}

func TestCountTokens(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	base := "anthropic.claude-sonnet-4-5-20250929-v1:0"
	count := func(id string, msgs []types.Message) (int, error) {
		out, err := c.CountTokens(context.Background(), &bedrockruntime.CountTokensInput{ModelId: aws.String(id),
			Input: &types.CountTokensInputMemberConverse{Value: types.ConverseTokensRequest{Messages: msgs}}})
		if err != nil {
			return 0, err
		}
		return int(*out.InputTokens), nil
	}
	n, err := count(base, userMsg("Hello there, how are you?")) // 25 characters: 7 tokens, + 3 for the message
	if err != nil || n != 10 {
		t.Fatalf("estimate %d %v", n, err)
	}
	f.Enqueue(OpCountTokens, Reply{Usage: bedrockkit.Usage{InputTokens: 4242}})
	if n, err := count(base, userMsg("x")); err != nil || n != 4242 {
		t.Fatalf("scripted %d %v", n, err)
	}
	for _, id := range []string{claude, "amazon.nova-lite-v1:0"} {
		_, err := count(id, userMsg("x"))
		var ve *types.ValidationException
		if !errors.As(err, &ve) || ve.ErrorMessage() != "The provided model doesn't support counting tokens." {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := count(base, []types.Message{msg(assistant, text("x"))}); err == nil || !strings.Contains(err.Error(), "must start with a user message") {
		t.Fatalf("CountTokens validates the conversation: %v", err)
	}
	out, err := c.CountTokens(context.Background(), &bedrockruntime.CountTokensInput{ModelId: aws.String(base),
		Input: &types.CountTokensInputMemberInvokeModel{Value: types.InvokeModelTokensRequest{Body: []byte(`{"messages":[]}`)}}})
	if err != nil || *out.InputTokens != 4 {
		t.Fatalf("invokeModel input: %v %v", out, err)
	}
	if f.Calls(OpCountTokens) != 6 {
		t.Fatalf("calls %d", f.Calls(OpCountTokens))
	}
}

func TestInvokeModelWithResponseStream(t *testing.T) {
	f := NewFakeBedrock(t)
	c := f.Client()
	chunks := []json.RawMessage{json.RawMessage(`{"type":"message_start"}`), json.RawMessage(`{"type":"content_block_delta","delta":{"text":"hi"}}`), json.RawMessage(`{"type":"message_stop"}`)}
	f.Enqueue(OpInvokeModelWithResponseStream, Reply{Chunks: chunks}, Reply{Chunks: chunks, Interrupt: &Interrupt{AfterEvents: 1, Fault: &Fault{Code: "ModelStreamErrorException", Message: "boom"}}})
	call := func() ([][]byte, error) {
		out, err := c.InvokeModelWithResponseStream(context.Background(), &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String(claude), Body: []byte(`{"messages":[]}`)})
		if err != nil {
			return nil, err
		}
		s := out.GetStream()
		defer s.Close()
		var got [][]byte
		for ev := range s.Events() {
			if c, ok := ev.(*types.ResponseStreamMemberChunk); ok {
				got = append(got, c.Value.Bytes)
			}
		}
		return got, s.Err()
	}
	got, err := call()
	if err != nil || len(got) != 3 || !bytes.Equal(got[1], chunks[1]) {
		t.Fatalf("%q %v", got, err)
	}
	got, err = call()
	var mse *types.ModelStreamErrorException
	if len(got) != 1 || !errors.As(err, &mse) {
		t.Fatalf("interrupted: %q %v", got, err)
	}
	if _, err := call(); err == nil || !strings.Contains(err.Error(), "no scripted reply") {
		t.Fatalf("unscripted: %v", err)
	}
}

func TestCitationsRoundTripThroughTheSDK(t *testing.T) {
	f := NewFakeBedrock(t)
	src := bedrockkit.CitationSource{Title: "policy", Text: "Refunds within 5 days.", Location: bedrockkit.SourceLocation{Kind: bedrockkit.LocationDocumentChar, Index: 0, Start: 3, End: 25}}
	f.Enqueue(OpConverse, Reply{Message: bedrockkit.Message{Parts: []bedrockkit.Part{bedrockkit.Text{Text: "Yes: "}, bedrockkit.CitedText{Text: "refunds take 5 days", Sources: []bedrockkit.CitationSource{src}}}}})
	out, err := f.Client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userMsg("hi")})
	if err != nil {
		t.Fatal(err)
	}
	cc := out.Output.(*types.ConverseOutputMemberMessage).Value.Content[1].(*types.ContentBlockMemberCitationsContent).Value
	loc := cc.Citations[0].Location.(*types.CitationLocationMemberDocumentChar).Value
	if *cc.Citations[0].Title != "policy" || *loc.Start != 3 || *loc.End != 25 || cc.Content[0].(*types.CitationGeneratedContentMemberText).Value != "refunds take 5 days" {
		t.Fatalf("%+v", cc)
	}
}
