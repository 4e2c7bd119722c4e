package bedrockkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

func ptr[T any](v T) *T { return &v }

func TestToConverseValidation(t *testing.T) {
	user := UserText("hi")
	tool := ToolSpec{Name: "get_weather", InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}
	claude := CapabilitiesOfBase("anthropic.claude-3-5-sonnet-20240620-v1:0")
	llama := CapabilitiesOfBase("meta.llama3-1-70b-instruct-v1:0")
	micro := CapabilitiesOfBase("amazon.nova-micro-v1:0")
	tests := []struct {
		name string
		req  *Request
		caps *Capabilities
		want error
		msg  string
	}{
		{"nil", nil, nil, ErrInvalidInput, "nil"},
		{"no messages", &Request{}, nil, ErrInvalidInput, "no messages"},
		{"bad role", &Request{Messages: []Message{{Role: "system", Parts: []Part{Text{"x"}}}}}, nil, ErrInvalidInput, "role"},
		{"assistant first", &Request{Messages: []Message{AssistantText("x")}}, nil, ErrInvalidInput, "start with a user"},
		{"no alternation", &Request{Messages: []Message{user, user}}, nil, ErrInvalidInput, "alternate"},
		{"empty parts", &Request{Messages: []Message{{Role: RoleUser}}}, nil, ErrInvalidInput, "no parts"},
		{"empty text", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Text{}}}}}, nil, ErrInvalidInput, "empty text"},
		{"json at top level", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{JSON{Value: json.RawMessage(`{}`)}}}}}, nil, ErrInvalidInput, "inside a ToolResult"},
		{"image two sources", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Image{Format: ImagePNG, Bytes: []byte{1}, S3URI: "s3://b/k"}}}}}, nil, ErrInvalidInput, "exactly one"},
		{"image no source", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Image{Format: ImagePNG}}}}}, nil, ErrInvalidInput, "exactly one"},
		{"image bad format", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Image{Format: "bmp", Bytes: []byte{1}}}}}}, nil, ErrInvalidInput, "format"},
		{"image bad s3", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Image{Format: ImagePNG, S3URI: "https://x"}}}}}, nil, ErrInvalidInput, "s3://"},
		{"image in assistant", &Request{Messages: []Message{user, {Role: RoleAssistant, Parts: []Part{Image{Format: ImagePNG, Bytes: []byte{1}}}}}}, nil, ErrInvalidInput, "user messages only"},
		{"doc two sources", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Text{"q"}, Document{Name: "a", Format: DocTXT, Text: "x", S3URI: "s3://b/k"}}}}}, nil, ErrInvalidInput, "exactly one"},
		{"doc no source", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Text{"q"}, Document{Name: "a", Format: DocTXT}}}}}, nil, ErrInvalidInput, "exactly one"},
		{"doc no name", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Text{"q"}, Document{Format: DocTXT, Text: "x"}}}}}, nil, ErrInvalidInput, "Name"},
		{"doc without text", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Document{Name: "a", Format: DocTXT, Text: "x"}}}}}, nil, ErrInvalidInput, "needs a Text part"},
		{"tool schema not object", &Request{Messages: []Message{user}, Tools: []ToolSpec{{Name: "t", InputSchema: json.RawMessage(`{"type":"string"}`)}}}, nil, ErrInvalidInput, `"type": "object"`},
		{"tool schema not json", &Request{Messages: []Message{user}, Tools: []ToolSpec{{Name: "t", InputSchema: json.RawMessage(`[1]`)}}}, nil, ErrInvalidInput, "not a JSON object"},
		{"tool bad name", &Request{Messages: []Message{user}, Tools: []ToolSpec{{Name: "get weather"}}}, nil, ErrInvalidInput, "1-64"},
		{"tool duplicate", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool, tool}}, nil, ErrInvalidInput, "twice"},
		{"choice unknown tool", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: ToolChoiceTool, Name: "nope"}}, nil, ErrInvalidInput, "not in Request.Tools"},
		{"choice without tools", &Request{Messages: []Message{user}, ToolChoice: ToolChoice{Kind: ToolChoiceAny}}, nil, ErrInvalidInput, "needs tools"},
		{"choice bad kind", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: "some"}}, nil, ErrInvalidInput, "kind"},
		{"choice named unsupported", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: ToolChoiceTool, Name: "get_weather"}}, &llama, ErrUnsupported, "llama"},
		{"choice any unsupported", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: ToolChoiceAny}}, &llama, ErrUnsupported, "ToolChoiceAny"},
		{"image unsupported", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Image{Format: ImagePNG, Bytes: []byte{1}}}}}}, &micro, ErrUnsupported, "images"},
		{"tool cache unsupported", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolCache: &CachePoint{}}, &micro, ErrUnsupported, "cache"},
		{"tool call in user", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolCall{ID: "1", Name: "t"}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "assistant"},
		{"tool call bad json", &Request{Messages: []Message{user, {Role: RoleAssistant, Parts: []Part{ToolCall{ID: "1", Name: "t", Input: json.RawMessage(`{"a":`)}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "not valid JSON"},
		{"tool call array", &Request{Messages: []Message{user, {Role: RoleAssistant, Parts: []Part{ToolCall{ID: "1", Name: "t", Input: json.RawMessage(`[1]`)}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "object"},
		{"tool result no id", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{Parts: []Part{Text{"x"}}}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "CallID"},
		{"tool result bad part", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1", Parts: []Part{CachePoint{}}}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "not allowed"},
		{"tool result bad json", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1", Parts: []Part{JSON{Value: json.RawMessage(`{`)}}}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "valid JSON"},
		{"tool result empty", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1"}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "no parts"},
		{"tool result blank text", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1", Parts: []Part{Text{}}}}}}, Tools: []ToolSpec{tool}}, nil, ErrInvalidInput, "empty text"},
		{"tool blocks without tools", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1", Parts: []Part{Text{"x"}}}}}}}, nil, ErrInvalidInput, "Request.Tools is empty"},
		{"reasoning in user", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{Reasoning{Text: "x"}}}}}, nil, ErrInvalidInput, "assistant"},
		{"system image", &Request{System: []Part{Image{}}, Messages: []Message{user}}, nil, ErrInvalidInput, "system"},
		{"bad ttl", &Request{System: []Part{Text{"s"}, CachePoint{TTL: "2h"}}, Messages: []Message{user}}, nil, ErrInvalidInput, "TTL"},
		{"increasing ttl", &Request{System: []Part{Text{"s"}, CachePoint{TTL: CacheTTL5m}}, Messages: []Message{{Role: RoleUser, Parts: []Part{Text{"x"}, CachePoint{TTL: CacheTTL1h}}}}}, nil, ErrInvalidInput, "must not increase"},
		{"five cache points", &Request{System: []Part{Text{"s"}, CachePoint{}, CachePoint{}, CachePoint{}, CachePoint{}}, Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolCache: &CachePoint{}}, nil, ErrInvalidInput, "more than 4"},
		{"negative max tokens", &Request{Messages: []Message{user}, MaxTokens: -1}, nil, ErrInvalidInput, "MaxTokens"},
		{"temperature", &Request{Messages: []Message{user}, Temperature: ptr(float32(1.5))}, nil, ErrInvalidInput, "Temperature"},
		{"topP", &Request{Messages: []Message{user}, TopP: ptr(float32(-0.1))}, nil, ErrInvalidInput, "TopP"},
		{"empty stop sequence", &Request{Messages: []Message{user}, StopSequences: []string{""}}, nil, ErrInvalidInput, "StopSequences"},
		{"extra not json", &Request{Messages: []Message{user}, Extra: map[string]any{"f": func() {}}}, nil, ErrInvalidInput, "Extra"},
		{"tool cache without tools", &Request{Messages: []Message{user}, ToolCache: &CachePoint{}}, nil, ErrInvalidInput, "ToolCache"},
		{"nil part", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{nil}}}}, nil, ErrInvalidInput, "nil part"},
		// Valid requests for comparison.
		{"valid named choice on claude", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: ToolChoiceTool, Name: "get_weather"}}, &claude, nil, ""},
		{"valid unknown model anything", &Request{Messages: []Message{user}, Tools: []ToolSpec{tool}, ToolChoice: ToolChoice{Kind: ToolChoiceAny}}, &Capabilities{}, nil, ""},
		{"valid ttl order", &Request{Tools: []ToolSpec{tool}, ToolCache: &CachePoint{TTL: CacheTTL1h}, System: []Part{Text{"s"}, CachePoint{TTL: CacheTTL1h}}, Messages: []Message{{Role: RoleUser, Parts: []Part{Text{"x"}, CachePoint{}}}}}, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toConverse(tt.req, tt.caps)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.msg)
			}
		})
	}
}

func TestToConverseMapping(t *testing.T) {
	req := &Request{
		System:    []Part{Text{"be brief"}, CachePoint{TTL: CacheTTL5m}},
		Tools:     []ToolSpec{{Name: "t", Description: "d"}},
		ToolCache: &CachePoint{},
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{Text{"q"}}},
			{Role: RoleAssistant, Parts: []Part{Reasoning{Redacted: []byte{1, 2}}, ToolCall{ID: "c1", Name: "t"}}},
			{Role: RoleUser, Parts: []Part{ToolResult{CallID: "c1", Parts: []Part{Text{"done"}}}}},
		},
		MaxTokens:     100,
		StopSequences: []string{"END"},
		Extra:         map[string]any{"top_k": 5},
	}
	p, err := toConverse(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.system) != 2 || len(p.messages) != 3 || len(p.toolConfig.Tools) != 2 {
		t.Fatalf("unexpected shape: %+v", p)
	}
	schema := p.toolConfig.Tools[0].(*types.ToolMemberToolSpec).Value.InputSchema.(*types.ToolInputSchemaMemberJson).Value
	if b, _ := schema.MarshalSmithyDocument(); string(b) != `{"type":"object","properties":{}}` {
		t.Errorf("empty schema became %s", b)
	}
	call := p.messages[1].Content[1].(*types.ContentBlockMemberToolUse).Value
	if b, _ := call.Input.MarshalSmithyDocument(); string(b) != `{}` {
		t.Errorf("empty tool input became %s", b)
	}
	tr := p.messages[2].Content[0].(*types.ContentBlockMemberToolResult).Value
	if len(tr.Content) != 1 || tr.Status != "" {
		t.Errorf("empty successful tool result: %+v", tr)
	}
	if *p.inference.MaxTokens != 100 || p.inference.Temperature != nil {
		t.Errorf("inference: %+v", p.inference)
	}
	if b, _ := p.extra.MarshalSmithyDocument(); string(b) != `{"top_k":5}` {
		t.Errorf("extra = %s", b)
	}
	if p, _ := toConverse(&Request{Messages: []Message{UserText("x")}}, nil); p.inference != nil || p.toolConfig != nil || p.extra != nil {
		t.Errorf("a bare request should send no inference, tool or extra config: %+v", p)
	}
}

func TestRawDocumentIsSDKDocument(t *testing.T) {
	var d document.Interface = newRawDocument(json.RawMessage(`{"n":12345678901234567890,"s":"x"}`))
	b, err := d.MarshalSmithyDocument()
	if err != nil || string(b) != `{"n":12345678901234567890,"s":"x"}` {
		t.Fatalf("MarshalSmithyDocument = %s, %v", b, err)
	}
	var v map[string]json.RawMessage
	if err := d.UnmarshalSmithyDocument(&v); err != nil || string(v["n"]) != "12345678901234567890" {
		t.Fatalf("UnmarshalSmithyDocument = %v, %v", v, err)
	}
	raw, err := readDocument(d)
	if err != nil || string(raw) != string(b) {
		t.Fatalf("readDocument = %s, %v", raw, err)
	}
	if raw, err := readDocument(nil); raw != nil || err != nil {
		t.Fatalf("readDocument(nil) = %s, %v", raw, err)
	}
}

func TestFromContentBlocksUnknown(t *testing.T) {
	blocks := []types.ContentBlock{
		&types.ContentBlockMemberText{Value: "a"},
		&types.UnknownUnionMember{Tag: "hologram", Value: []byte(`{}`)},
		&types.ContentBlockMemberVideo{Value: types.VideoBlock{}},
		&types.ContentBlockMemberSearchResult{},
		&types.ContentBlockMemberImage{Value: types.ImageBlock{Format: "png"}}, // no source
	}
	parts, err := fromContentBlocks(blocks, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0] != (Text{"a"}) {
		t.Fatalf("lenient mapping = %#v, want the text", parts)
	}
	for i := 1; i < len(blocks); i++ {
		_, err := fromContentBlocks(blocks[i:i+1], true)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("strict mapping of %T: err = %v, want ErrUnsupported", blocks[i], err)
		}
	}
}

func TestFromContentBlocksAllParts(t *testing.T) {
	blocks := []types.ContentBlock{
		&types.ContentBlockMemberText{Value: "t"},
		&types.ContentBlockMemberImage{Value: types.ImageBlock{Format: "png", Source: &types.ImageSourceMemberBytes{Value: []byte{1}}}},
		&types.ContentBlockMemberImage{Value: types.ImageBlock{Format: "jpeg", Source: &types.ImageSourceMemberS3Location{Value: types.S3Location{Uri: ptr("s3://b/i")}}}},
		&types.ContentBlockMemberDocument{Value: types.DocumentBlock{Name: ptr("d"), Format: "md", Source: &types.DocumentSourceMemberText{Value: "# x"}}},
		&types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{ToolUseId: ptr("c"), Name: ptr("n"), Input: document.NewLazyDocument(map[string]any{"k": 1})}},
		&types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: ptr("c"), Status: types.ToolResultStatusError, Content: []types.ToolResultContentBlock{
			&types.ToolResultContentBlockMemberText{Value: "boom"},
			&types.ToolResultContentBlockMemberJson{Value: newRawDocument(json.RawMessage(`{"e":1}`))},
		}}},
		&types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberReasoningText{Value: types.ReasoningTextBlock{Text: ptr("hm"), Signature: ptr("sig")}}},
		&types.ContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: "default", Ttl: "1h"}},
	}
	parts, err := fromContentBlocks(blocks, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`bedrockkit.Text{Text:"t"}`,
		`bedrockkit.Image{Format:"png", Bytes:[]uint8{0x1}, S3URI:""}`,
		`bedrockkit.Image{Format:"jpeg", Bytes:[]uint8(nil), S3URI:"s3://b/i"}`,
		`bedrockkit.Document{Name:"d", Format:"md", Bytes:[]uint8(nil), Text:"# x", S3URI:"", Citations:false}`,
		`bedrockkit.ToolCall{ID:"c", Name:"n", Input:json.RawMessage{0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x31, 0x7d}}`,
		`bedrockkit.ToolResult{CallID:"c", Parts:[]bedrockkit.Part{bedrockkit.Text{Text:"boom"}, bedrockkit.JSON{Value:json.RawMessage{0x7b, 0x22, 0x65, 0x22, 0x3a, 0x31, 0x7d}}}, IsError:true}`,
		`bedrockkit.Reasoning{Text:"hm", Signature:"sig", Redacted:[]uint8(nil)}`,
		`bedrockkit.CachePoint{TTL:"1h"}`,
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	for i, p := range parts {
		if got := fmt.Sprintf("%#v", p); got != want[i] {
			t.Errorf("part %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// BenchmarkToConverse measures validating and mapping a ten-turn tool-use
// conversation.
func BenchmarkToConverse(b *testing.B) {
	req := &Request{
		System: []Part{Text{"You are terse."}, CachePoint{}},
		Tools:  []ToolSpec{{Name: "lookup", InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer"}}}`)}},
	}
	for i := range 5 {
		id := fmt.Sprintf("tu-%d", i)
		req.Messages = append(req.Messages,
			Message{Role: RoleUser, Parts: []Part{Text{"Look up record 7, please, and summarise it."}, ToolResult{CallID: "x", Parts: []Part{JSON{Value: json.RawMessage(`{"id":7,"name":"seven"}`)}}}}},
			Message{Role: RoleAssistant, Parts: []Part{Text{"Looking."}, ToolCall{ID: id, Name: "lookup", Input: json.RawMessage(`{"id": 7}`)}}},
		)
	}
	req.Messages[0].Parts = req.Messages[0].Parts[:1]
	req.Messages = append(req.Messages, Message{Role: RoleUser, Parts: []Part{ToolResult{CallID: "tu-4", Parts: []Part{Text{"ok"}}}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := toConverse(req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzToConverseJSON feeds arbitrary bytes as a tool schema, tool-call input
// and JSON tool result: mapping must not panic, must reject with
// ErrInvalidInput, or must send valid JSON.
func FuzzToConverseJSON(f *testing.F) {
	f.Add([]byte(`{"type":"object"}`), []byte(`{"a":1}`), []byte(`[1,2]`))
	f.Add([]byte(``), []byte(``), []byte(`null`))
	f.Add([]byte(`{"type":"string"}`), []byte(`{"a":`), []byte(`{`))
	f.Add([]byte(`{"type":["object"]}`), []byte(`"x"`), []byte(`1e999`))
	f.Fuzz(func(t *testing.T, schema, input, result []byte) {
		req := &Request{
			Tools: []ToolSpec{{Name: "t", InputSchema: schema}},
			Messages: []Message{
				UserText("q"),
				{Role: RoleAssistant, Parts: []Part{ToolCall{ID: "1", Name: "t", Input: input}}},
				{Role: RoleUser, Parts: []Part{ToolResult{CallID: "1", Parts: []Part{JSON{Value: result}}}}},
			},
		}
		p, err := toConverse(req, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		spec := p.toolConfig.Tools[0].(*types.ToolMemberToolSpec).Value
		docs := []document.Interface{
			spec.InputSchema.(*types.ToolInputSchemaMemberJson).Value,
			p.messages[1].Content[0].(*types.ContentBlockMemberToolUse).Value.Input,
			p.messages[2].Content[0].(*types.ContentBlockMemberToolResult).Value.Content[0].(*types.ToolResultContentBlockMemberJson).Value,
		}
		for i, d := range docs {
			b, _ := d.MarshalSmithyDocument()
			if !json.Valid(b) {
				t.Fatalf("document %d is not valid JSON: %q", i, b)
			}
		}
	})
}

func TestFromContentBlocksCitations(t *testing.T) {
	blocks := []types.ContentBlock{
		&types.ContentBlockMemberText{Value: "Per the policy, "},
		&types.ContentBlockMemberCitationsContent{Value: types.CitationsContentBlock{
			Content: []types.CitationGeneratedContent{&types.CitationGeneratedContentMemberText{Value: "refunds take 5 days"}},
			Citations: []types.Citation{
				{Title: ptr("policy"), SourceContent: []types.CitationSourceContent{&types.CitationSourceContentMemberText{Value: "Refunds are paid within 5 days."}},
					Location: &types.CitationLocationMemberDocumentChar{Value: types.DocumentCharLocation{DocumentIndex: i32(1), Start: i32(10), End: i32(41)}}},
				{Location: &types.CitationLocationMemberDocumentPage{Value: types.DocumentPageLocation{DocumentIndex: i32(0), Start: i32(2), End: i32(3)}}},
				{Location: &types.CitationLocationMemberWeb{Value: types.WebLocation{Url: ptr("https://example.com/p"), Domain: ptr("example.com")}}},
				{Location: &types.UnknownUnionMember{Tag: "future"}},
			},
		}},
		&types.ContentBlockMemberCitationsContent{Value: types.CitationsContentBlock{
			Content: []types.CitationGeneratedContent{&types.CitationGeneratedContentMemberText{Value: "."}},
		}},
	}
	parts, err := fromContentBlocks(blocks, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{Role: RoleAssistant, Parts: parts}
	if msg.Text() != "Per the policy, refunds take 5 days." {
		t.Fatalf("text %q", msg.Text())
	}
	cits := msg.Citations()
	if len(cits) != 1 {
		t.Fatalf("citations %+v", cits)
	}
	c := cits[0]
	if c.Text != "refunds take 5 days" || msg.Text()[c.Span.Start:c.Span.End] != c.Text || len(c.Sources) != 4 {
		t.Fatalf("citation %+v", c)
	}
	s0 := c.Sources[0]
	if s0.Title != "policy" || s0.Text != "Refunds are paid within 5 days." || s0.Location != (SourceLocation{Kind: LocationDocumentChar, Index: 1, Start: 10, End: 41}) {
		t.Fatalf("source 0 %+v", s0)
	}
	if c.Sources[1].Location.Kind != LocationDocumentPage || c.Sources[2].URI != "https://example.com/p" || c.Sources[2].Location.Kind != LocationWeb || c.Sources[3].Location.Kind != "" {
		t.Fatalf("sources %+v", c.Sources)
	}
	if _, err := fromContentBlocks(blocks[1:2], true); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("strict with an unknown location: %v", err)
	}
}
