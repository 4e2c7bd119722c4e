package bedrockkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// This file maps between the bedrockkit vocabulary and the SDK's Converse
// types. JSON (tool inputs and schemas, JSON tool results, additional model
// fields) travels as raw bytes both ways: rawDocument sends it verbatim, and
// readDocument reads documents through MarshalSmithyDocument, never
// UnmarshalSmithyDocument (aws/aws-sdk-go-v2#3288).

// rawDocument is a document.Interface over raw JSON bytes. The SDK's
// serializer writes the bytes of any document that implements
// MarshalSmithyDocument verbatim, so nothing is decoded and re-encoded.
// The embedded Interface only supplies the SDK's unexported marker method.
type rawDocument struct {
	document.Interface
	raw json.RawMessage
}

func newRawDocument(raw json.RawMessage) document.Interface {
	return rawDocument{Interface: document.NewLazyDocument(nil), raw: raw}
}

// MarshalSmithyDocument returns the raw JSON.
func (d rawDocument) MarshalSmithyDocument() ([]byte, error) { return d.raw, nil }

// UnmarshalSmithyDocument decodes the raw JSON into v with encoding/json.
func (d rawDocument) UnmarshalSmithyDocument(v any) error { return json.Unmarshal(d.raw, v) }

// readDocument returns a document's JSON, compacted. A nil document gives nil.
func readDocument(doc document.Interface) (json.RawMessage, error) {
	if doc == nil {
		return nil, nil
	}
	b, err := doc.MarshalSmithyDocument()
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// invalid returns an error wrapping ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("bedrockkit: %s: %w", fmt.Sprintf(format, args...), ErrInvalidInput)
}

// converseParts is the part of a Converse request shared by Converse,
// ConverseStream and CountTokens.
type converseParts struct {
	messages    []types.Message
	system      []types.SystemContentBlock
	inference   *types.InferenceConfiguration
	toolConfig  *types.ToolConfiguration
	extra       document.Interface
	serviceTier *types.ServiceTier
	performance *types.PerformanceConfiguration
	guardrail   *guardrailParams
}

// maxCachePoints is Bedrock's limit of cache points per request.
const maxCachePoints = 4

// toConverse validates req and converts it. caps is used to reject what the
// model is known not to support; pass nil to skip those checks.
func toConverse(req *Request, caps *Capabilities) (*converseParts, error) {
	if req == nil {
		return nil, invalid("request is nil")
	}
	if len(req.Messages) == 0 {
		return nil, invalid("request has no messages; Converse needs at least one user message")
	}
	out := &converseParts{}
	cache := cacheCheck{}
	var err error
	// Tools come first in Bedrock's cache order: tools, system, messages.
	if out.toolConfig, err = toToolConfig(req, caps, &cache); err != nil {
		return nil, err
	}
	if out.system, err = toSystem(req.System, &cache); err != nil {
		return nil, err
	}
	if out.messages, err = toMessages(req.Messages, caps, &cache); err != nil {
		return nil, err
	}
	if out.toolConfig == nil && hasToolBlocks(req.Messages) {
		return nil, invalid("the conversation holds ToolCall or ToolResult parts but Request.Tools is empty; Bedrock requires the tool definitions whenever tool blocks are present (pass the tools again)")
	}
	if out.inference, err = toInference(req); err != nil {
		return nil, err
	}
	if err := out.setSettings(req); err != nil {
		return nil, err
	}
	return out, nil
}

// toSystem converts the system prompt: Text and CachePoint parts.
func toSystem(system []Part, cache *cacheCheck) ([]types.SystemContentBlock, error) {
	var out []types.SystemContentBlock
	for i, p := range system {
		switch p := p.(type) {
		case Text:
			if p.Text == "" {
				return nil, invalid("system part %d: empty text", i)
			}
			out = append(out, &types.SystemContentBlockMemberText{Value: p.Text})
		case CachePoint:
			cp, err := cache.add(p, fmt.Sprintf("system part %d", i))
			if err != nil {
				return nil, err
			}
			out = append(out, &types.SystemContentBlockMemberCachePoint{Value: cp})
		default:
			return nil, invalid("system part %d: %T is not allowed in a system prompt (use Text and CachePoint)", i, p)
		}
	}
	return out, nil
}

// toMessages checks the conversation's shape (roles alternate from a user
// message, every message has parts) and converts its parts.
func toMessages(msgs []Message, caps *Capabilities, cache *cacheCheck) ([]types.Message, error) {
	out := make([]types.Message, 0, len(msgs))
	for i, m := range msgs {
		where := fmt.Sprintf("message %d", i)
		switch m.Role {
		case RoleUser, RoleAssistant:
		default:
			return nil, invalid("%s: role %q; use RoleUser or RoleAssistant", where, m.Role)
		}
		if i == 0 && m.Role != RoleUser {
			return nil, invalid("%s: a conversation must start with a user message", where)
		}
		if i > 0 && m.Role == msgs[i-1].Role {
			return nil, invalid("%s: two %s messages in a row; roles must alternate (merge their parts into one message)", where, m.Role)
		}
		if len(m.Parts) == 0 {
			return nil, invalid("%s: no parts; every message needs content", where)
		}
		if err := checkDocumentHasText(m, where); err != nil {
			return nil, err
		}
		blocks := make([]types.ContentBlock, 0, len(m.Parts))
		for j, p := range m.Parts {
			b, err := toContentBlock(p, m.Role, fmt.Sprintf("%s part %d", where, j), caps, cache)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		}
		out = append(out, types.Message{Role: types.ConversationRole(m.Role), Content: blocks})
	}
	return out, nil
}

// setSettings converts the request's service tier, latency mode,
// guardrail and extra model fields.
func (out *converseParts) setSettings(req *Request) error {
	switch req.ServiceTier {
	case "":
	case ServiceTierDefault, ServiceTierPriority, ServiceTierFlex, ServiceTierReserved:
		out.serviceTier = &types.ServiceTier{Type: types.ServiceTierType(req.ServiceTier)}
	default:
		return invalid("ServiceTier %q; use ServiceTierDefault, ServiceTierPriority, ServiceTierFlex or ServiceTierReserved", req.ServiceTier)
	}
	switch req.LatencyMode {
	case "":
	case LatencyStandard, LatencyOptimized:
		out.performance = &types.PerformanceConfiguration{Latency: types.PerformanceConfigLatency(req.LatencyMode)}
	default:
		return invalid("LatencyMode %q; use LatencyStandard or LatencyOptimized", req.LatencyMode)
	}
	if g := req.Guardrail; g != nil {
		gp, err := toGuardrail(g)
		if err != nil {
			return err
		}
		out.guardrail = &gp
	}
	if len(req.Extra) > 0 {
		raw, err := json.Marshal(req.Extra)
		if err != nil {
			return invalid("Request.Extra cannot be encoded as JSON: %v", err)
		}
		out.extra = newRawDocument(raw)
	}
	return nil
}

func hasToolBlocks(msgs []Message) bool {
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch p.(type) {
			case ToolCall, ToolResult:
				return true
			}
		}
	}
	return false
}

// checkDocumentHasText enforces Bedrock's rule that a message holding a
// document also holds a text block (a question about it).
func checkDocumentHasText(m Message, where string) error {
	hasDoc, hasText := false, false
	for _, p := range m.Parts {
		switch p := p.(type) {
		case Document:
			hasDoc = true
		case Text:
			hasText = hasText || p.Text != ""
		}
	}
	if hasDoc && !hasText {
		return invalid("%s: a message with a Document needs a Text part too (Bedrock rejects documents without text)", where)
	}
	return nil
}

// cacheCheck counts cache points and checks Bedrock's TTL ordering rule:
// TTLs must not increase from tools to system to messages.
type cacheCheck struct {
	n       int
	lastTTL CacheTTL
	lastAt  string
}

func ttlRank(t CacheTTL) int {
	if t == CacheTTL1h {
		return 2
	}
	return 1
}

func (c *cacheCheck) add(p CachePoint, where string) (types.CachePointBlock, error) {
	switch p.TTL {
	case CacheTTLDefault, CacheTTL5m, CacheTTL1h:
	default:
		return types.CachePointBlock{}, invalid("%s: cache TTL %q; use CacheTTLDefault, CacheTTL5m or CacheTTL1h", where, p.TTL)
	}
	c.n++
	if c.n > maxCachePoints {
		return types.CachePointBlock{}, invalid("%s: more than %d cache points in one request; Bedrock allows %d", where, maxCachePoints, maxCachePoints)
	}
	if c.lastAt != "" && ttlRank(p.TTL) > ttlRank(c.lastTTL) {
		return types.CachePointBlock{}, invalid("%s: cache TTL %s follows a shorter TTL at %s; TTLs must not increase from tools to system to messages", where, ttlOrDefault(p.TTL), c.lastAt)
	}
	c.lastTTL, c.lastAt = p.TTL, where
	cp := types.CachePointBlock{Type: types.CachePointTypeDefault}
	if p.TTL != CacheTTLDefault {
		cp.Ttl = types.CacheTTL(p.TTL)
	}
	return cp, nil
}

func ttlOrDefault(t CacheTTL) string {
	if t == CacheTTLDefault {
		return "5m (default)"
	}
	return string(t)
}

func toInference(req *Request) (*types.InferenceConfiguration, error) {
	var inf types.InferenceConfiguration
	set := false
	if req.MaxTokens < 0 {
		return nil, invalid("MaxTokens is %d; use 0 for the model's default or a positive limit", req.MaxTokens)
	}
	if req.MaxTokens > 0 {
		inf.MaxTokens = aws.Int32(int32(min(req.MaxTokens, 1<<31-1)))
		set = true
	}
	if t := req.Temperature; t != nil {
		if *t < 0 || *t > 1 {
			return nil, invalid("Temperature is %v; Converse accepts 0 to 1", *t)
		}
		inf.Temperature = aws.Float32(*t)
		set = true
	}
	if p := req.TopP; p != nil {
		if *p < 0 || *p > 1 {
			return nil, invalid("TopP is %v; Converse accepts 0 to 1", *p)
		}
		inf.TopP = aws.Float32(*p)
		set = true
	}
	if len(req.StopSequences) > 0 {
		for i, s := range req.StopSequences {
			if s == "" {
				return nil, invalid("StopSequences[%d] is empty", i)
			}
		}
		inf.StopSequences = append([]string(nil), req.StopSequences...)
		set = true
	}
	if !set {
		return nil, nil
	}
	return &inf, nil
}

// validToolName matches Bedrock's tool name pattern ^[a-zA-Z0-9_-]{1,64}$.
func validToolName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

func toToolConfig(req *Request, caps *Capabilities, cache *cacheCheck) (*types.ToolConfiguration, error) {
	if len(req.Tools) == 0 {
		if req.ToolChoice.Kind != ToolChoiceAuto {
			return nil, invalid("ToolChoice %q needs tools, but Request.Tools is empty", req.ToolChoice.Kind)
		}
		if req.ToolCache != nil {
			return nil, invalid("ToolCache is set but Request.Tools is empty")
		}
		return nil, nil
	}
	if caps != nil && caps.Known && !caps.Tools {
		return nil, fmt.Errorf("bedrockkit: model family %s does not support tool use through Converse: %w", caps.Family, ErrUnsupported)
	}
	tc := &types.ToolConfiguration{}
	names := map[string]bool{}
	for i, t := range req.Tools {
		if !validToolName(t.Name) {
			return nil, invalid("tool %d: name %q must be 1-64 characters of letters, digits, '_' and '-'", i, t.Name)
		}
		if names[t.Name] {
			return nil, invalid("tool %d: name %q is used twice", i, t.Name)
		}
		names[t.Name] = true
		schema, err := checkToolSchema(t)
		if err != nil {
			return nil, err
		}
		spec := types.ToolSpecification{
			Name:        aws.String(t.Name),
			InputSchema: &types.ToolInputSchemaMemberJson{Value: newRawDocument(schema)},
		}
		if t.Description != "" {
			spec.Description = aws.String(t.Description)
		}
		if t.Strict {
			if caps != nil && caps.Known && !caps.StructuredOutput {
				return nil, fmt.Errorf("bedrockkit: tool %q is Strict, but model family %s has no strict tool use (Capabilities.StructuredOutput); remove Strict: %w", t.Name, caps.Family, ErrUnsupported)
			}
			spec.Strict = aws.Bool(true)
		}
		tc.Tools = append(tc.Tools, &types.ToolMemberToolSpec{Value: spec})
	}
	if req.ToolCache != nil {
		if caps != nil && caps.Known && !caps.ToolCache {
			return nil, fmt.Errorf("bedrockkit: model family %s does not cache tool definitions; remove Request.ToolCache: %w", caps.Family, ErrUnsupported)
		}
		cp, err := cache.add(*req.ToolCache, "ToolCache")
		if err != nil {
			return nil, err
		}
		tc.Tools = append(tc.Tools, &types.ToolMemberCachePoint{Value: cp})
	}
	switch req.ToolChoice.Kind {
	case ToolChoiceAuto:
		// Bedrock's default; sending nothing keeps models that reject an
		// explicit choice working.
	case ToolChoiceAny:
		if caps != nil && caps.Known && !caps.ToolChoiceAny {
			return nil, fmt.Errorf("bedrockkit: model family %s does not support ToolChoiceAny; use ToolChoiceAuto: %w", caps.Family, ErrUnsupported)
		}
		tc.ToolChoice = &types.ToolChoiceMemberAny{Value: types.AnyToolChoice{}}
	case ToolChoiceTool:
		if !names[req.ToolChoice.Name] {
			return nil, invalid("ToolChoice names tool %q, which is not in Request.Tools", req.ToolChoice.Name)
		}
		if caps != nil && caps.Known && !caps.ToolChoiceTool {
			return nil, fmt.Errorf("bedrockkit: model family %s does not support naming a tool in ToolChoice (Bedrock supports it for Claude and Nova); use ToolChoiceAny or ToolChoiceAuto: %w", caps.Family, ErrUnsupported)
		}
		tc.ToolChoice = &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String(req.ToolChoice.Name)}}
	default:
		return nil, invalid("ToolChoice kind %q; use ToolChoiceAuto, ToolChoiceAny or ToolChoiceTool", req.ToolChoice.Kind)
	}
	return tc, nil
}

// checkToolSchema returns the tool's schema, compacted, after checking that
// it is a JSON object whose top-level type is "object". An empty schema
// becomes an object schema with no properties.
func checkToolSchema(t ToolSpec) (json.RawMessage, error) {
	if len(bytes.TrimSpace(t.InputSchema)) == 0 {
		return emptyObjectSchema, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(t.InputSchema, &top); err != nil {
		return nil, invalid("tool %q: InputSchema is not a JSON object: %v", t.Name, err)
	}
	var typ string
	if err := json.Unmarshal(top["type"], &typ); err != nil || typ != "object" {
		return nil, invalid(`tool %q: InputSchema must have "type": "object" at the top level (Bedrock rejects other schemas); wrap other values in an object property`, t.Name)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, t.InputSchema); err != nil {
		return nil, invalid("tool %q: InputSchema: %v", t.Name, err)
	}
	return buf.Bytes(), nil
}

func toContentBlock(p Part, role Role, where string, caps *Capabilities, cache *cacheCheck) (types.ContentBlock, error) {
	switch p := p.(type) {
	case Text:
		if p.Text == "" {
			return nil, invalid("%s: empty text; Bedrock rejects blank text blocks", where)
		}
		return &types.ContentBlockMemberText{Value: p.Text}, nil
	case CitedText:
		// A cited answer goes back as its text: the model sees its own
		// words, and the citations stay with the caller.
		if p.Text == "" {
			return nil, invalid("%s: empty cited text; Bedrock rejects blank text blocks", where)
		}
		if role != RoleAssistant {
			return nil, invalid("%s: CitedText is generated text and belongs in an assistant message", where)
		}
		return &types.ContentBlockMemberText{Value: p.Text}, nil
	case Image:
		if role != RoleUser {
			return nil, invalid("%s: images are allowed in user messages only", where)
		}
		img, err := toImage(p, where, caps)
		if err != nil {
			return nil, err
		}
		return &types.ContentBlockMemberImage{Value: img}, nil
	case Document:
		if role != RoleUser {
			return nil, invalid("%s: documents are allowed in user messages only", where)
		}
		doc, err := toDocument(p, where, caps)
		if err != nil {
			return nil, err
		}
		return &types.ContentBlockMemberDocument{Value: doc}, nil
	case ToolCall:
		if role != RoleAssistant {
			return nil, invalid("%s: a ToolCall belongs in an assistant message", where)
		}
		return toToolUse(p, where)
	case ToolResult:
		if role != RoleUser {
			return nil, invalid("%s: a ToolResult belongs in a user message", where)
		}
		return toToolResult(p, where, caps)
	case Reasoning:
		if role != RoleAssistant {
			return nil, invalid("%s: Reasoning belongs in an assistant message", where)
		}
		return toReasoning(p, where)
	case CachePoint:
		cp, err := cache.add(p, where)
		if err != nil {
			return nil, err
		}
		return &types.ContentBlockMemberCachePoint{Value: cp}, nil
	case JSON:
		return nil, invalid("%s: a JSON part is only allowed inside a ToolResult", where)
	case nil:
		return nil, invalid("%s: nil part", where)
	}
	return nil, invalid("%s: unsupported part type %T", where, p)
}

// toToolUse converts a tool call echoed back in an assistant message.
func toToolUse(p ToolCall, where string) (types.ContentBlock, error) {
	if p.ID == "" || p.Name == "" {
		return nil, invalid("%s: ToolCall needs ID and Name (echo the model's call unchanged)", where)
	}
	in, err := toolInput(p.Input)
	if err != nil {
		return nil, invalid("%s: ToolCall %q input: %v", where, p.Name, err)
	}
	return &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
		ToolUseId: aws.String(p.ID), Name: aws.String(p.Name), Input: newRawDocument(in),
	}}, nil
}

// toReasoning converts reasoning echoed back in an assistant message:
// text with its signature, or the redacted bytes alone.
func toReasoning(p Reasoning, where string) (types.ContentBlock, error) {
	if len(p.Redacted) > 0 {
		if p.Text != "" || p.Signature != "" {
			return nil, invalid("%s: Reasoning has both Redacted and Text/Signature; echo the model's block unchanged", where)
		}
		return &types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberRedactedContent{Value: p.Redacted}}, nil
	}
	rt := types.ReasoningTextBlock{Text: aws.String(p.Text)}
	if p.Signature != "" {
		rt.Signature = aws.String(p.Signature)
	}
	return &types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberReasoningText{Value: rt}}, nil
}

// toolInput checks raw tool-call input; empty input becomes {}.
func toolInput(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, raw)
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, errors.New("must be a JSON object")
	}
	return buf.Bytes(), nil
}

func toImage(p Image, where string, caps *Capabilities) (types.ImageBlock, error) {
	switch p.Format {
	case ImagePNG, ImageJPEG, ImageGIF, ImageWebP:
	default:
		return types.ImageBlock{}, invalid("%s: image format %q; use png, jpeg, gif or webp", where, p.Format)
	}
	img := types.ImageBlock{Format: types.ImageFormat(p.Format)}
	switch {
	case len(p.Bytes) > 0 && p.S3URI != "":
		return img, invalid("%s: image has both Bytes and S3URI; set exactly one", where)
	case len(p.Bytes) > 0:
		img.Source = &types.ImageSourceMemberBytes{Value: p.Bytes}
	case p.S3URI != "":
		if !strings.HasPrefix(p.S3URI, "s3://") {
			return img, invalid("%s: image S3URI %q must look like s3://bucket/key", where, p.S3URI)
		}
		img.Source = &types.ImageSourceMemberS3Location{Value: types.S3Location{Uri: aws.String(p.S3URI)}}
	default:
		return img, invalid("%s: image has neither Bytes nor S3URI; set exactly one", where)
	}
	if caps != nil && caps.Known && !caps.Images {
		return img, fmt.Errorf("bedrockkit: %s: model family %s does not accept images: %w", where, caps.Family, ErrUnsupported)
	}
	return img, nil
}

func toDocument(p Document, where string, caps *Capabilities) (types.DocumentBlock, error) {
	if strings.TrimSpace(p.Name) == "" {
		return types.DocumentBlock{}, invalid("%s: document needs a Name (visible to the model; keep it neutral)", where)
	}
	switch p.Format {
	case DocPDF, DocCSV, DocDOC, DocDOCX, DocXLS, DocXLSX, DocHTML, DocTXT, DocMD:
	default:
		return types.DocumentBlock{}, invalid("%s: document format %q; use pdf, csv, doc, docx, xls, xlsx, html, txt or md", where, p.Format)
	}
	doc := types.DocumentBlock{Name: aws.String(p.Name), Format: types.DocumentFormat(p.Format)}
	n := 0
	if len(p.Bytes) > 0 {
		n++
		doc.Source = &types.DocumentSourceMemberBytes{Value: p.Bytes}
	}
	if p.Text != "" {
		n++
		doc.Source = &types.DocumentSourceMemberText{Value: p.Text}
	}
	if p.S3URI != "" {
		n++
		if !strings.HasPrefix(p.S3URI, "s3://") {
			return doc, invalid("%s: document S3URI %q must look like s3://bucket/key", where, p.S3URI)
		}
		doc.Source = &types.DocumentSourceMemberS3Location{Value: types.S3Location{Uri: aws.String(p.S3URI)}}
	}
	if n != 1 {
		return doc, invalid("%s: document %q must set exactly one of Bytes, Text and S3URI (it sets %d)", where, p.Name, n)
	}
	if caps != nil && caps.Known && !caps.Documents {
		return doc, fmt.Errorf("bedrockkit: %s: model family %s does not accept documents: %w", where, caps.Family, ErrUnsupported)
	}
	if p.Citations {
		if caps != nil && caps.Known && !caps.Citations {
			return doc, fmt.Errorf("bedrockkit: %s: model family %s does not cite documents; remove Document.Citations: %w", where, caps.Family, ErrUnsupported)
		}
		doc.Citations = &types.CitationsConfig{Enabled: aws.Bool(true)}
	}
	return doc, nil
}

func toToolResult(p ToolResult, where string, caps *Capabilities) (types.ContentBlock, error) {
	if p.CallID == "" {
		return nil, invalid("%s: ToolResult needs the CallID of the ToolCall it answers", where)
	}
	tr := types.ToolResultBlock{ToolUseId: aws.String(p.CallID)}
	if p.IsError {
		tr.Status = types.ToolResultStatusError
	}
	for k, q := range p.Parts {
		w := fmt.Sprintf("%s result part %d", where, k)
		switch q := q.(type) {
		case Text:
			if q.Text == "" {
				return nil, invalid("%s: empty text; Bedrock rejects blank text blocks (send a short note such as \"(no output)\")", w)
			}
			tr.Content = append(tr.Content, &types.ToolResultContentBlockMemberText{Value: q.Text})
		case JSON:
			if !json.Valid(q.Value) {
				return nil, invalid("%s: JSON part is not valid JSON", w)
			}
			var buf bytes.Buffer
			_ = json.Compact(&buf, q.Value)
			tr.Content = append(tr.Content, &types.ToolResultContentBlockMemberJson{Value: newRawDocument(buf.Bytes())})
		case Image:
			img, err := toImage(q, w, caps)
			if err != nil {
				return nil, err
			}
			tr.Content = append(tr.Content, &types.ToolResultContentBlockMemberImage{Value: img})
		case Document:
			doc, err := toDocument(q, w, caps)
			if err != nil {
				return nil, err
			}
			tr.Content = append(tr.Content, &types.ToolResultContentBlockMemberDocument{Value: doc})
		default:
			return nil, invalid("%s: %T is not allowed in a ToolResult (use Text, JSON, Image or Document)", w, q)
		}
	}
	if len(tr.Content) == 0 {
		return nil, invalid("%s: ToolResult for %q has no parts; Bedrock needs content and rejects blank text (send a short note such as \"(no output)\")", where, p.CallID)
	}
	return &types.ContentBlockMemberToolResult{Value: tr}, nil
}

// ---- responses ----

// unsupportedBlock reports a response block bedrockkit cannot represent.
func unsupportedBlock(what string) error {
	return fmt.Errorf("bedrockkit: the response holds a %s block, which bedrockkit does not represent (ConverseOptions.Strict is set): %w", what, ErrUnsupported)
}

// fromContentBlocks maps response content. Blocks bedrockkit cannot
// represent are skipped, or are an error when strict is set. Citations
// content keeps its generated text as Text parts.
func fromContentBlocks(blocks []types.ContentBlock, strict bool) ([]Part, error) {
	var parts []Part
	for i, b := range blocks {
		p, err := fromContentBlock(b, strict)
		if err != nil {
			return nil, fmt.Errorf("content block %d: %w", i, err)
		}
		parts = append(parts, p...)
	}
	return parts, nil
}

func fromContentBlock(b types.ContentBlock, strict bool) ([]Part, error) {
	skip := func(what string) ([]Part, error) {
		if strict {
			return nil, unsupportedBlock(what)
		}
		return nil, nil
	}
	switch b := b.(type) {
	case *types.ContentBlockMemberText:
		return []Part{Text{Text: b.Value}}, nil
	case *types.ContentBlockMemberImage:
		img, ok := fromImage(b.Value)
		if !ok {
			return skip("image (unknown source)")
		}
		return []Part{img}, nil
	case *types.ContentBlockMemberDocument:
		doc, ok := fromDocument(b.Value)
		if !ok {
			return skip("document (unknown source)")
		}
		return []Part{doc}, nil
	case *types.ContentBlockMemberToolUse:
		return fromToolUse(b.Value)
	case *types.ContentBlockMemberToolResult:
		return fromToolResult(b.Value, strict)
	case *types.ContentBlockMemberReasoningContent:
		switch r := b.Value.(type) {
		case *types.ReasoningContentBlockMemberReasoningText:
			return []Part{Reasoning{Text: aws.ToString(r.Value.Text), Signature: aws.ToString(r.Value.Signature)}}, nil
		case *types.ReasoningContentBlockMemberRedactedContent:
			return []Part{Reasoning{Redacted: r.Value}}, nil
		}
		return skip("reasoning (unknown member)")
	case *types.ContentBlockMemberCachePoint:
		return []Part{CachePoint{TTL: CacheTTL(b.Value.Ttl)}}, nil
	case *types.ContentBlockMemberCitationsContent:
		return fromCitations(b.Value, strict)
	case *types.UnknownUnionMember:
		return skip(fmt.Sprintf("unknown %q", b.Tag))
	case nil:
		return skip("nil")
	}
	return skip(fmt.Sprintf("%T", b))
}

// fromToolUse reads a tool call; its input must be a JSON object (empty
// or null input becomes {}).
func fromToolUse(b types.ToolUseBlock) ([]Part, error) {
	in, err := readDocument(b.Input)
	if err != nil {
		return nil, fmt.Errorf("bedrockkit: tool call %q input: %v: %w", aws.ToString(b.Name), err, ErrMalformedStream)
	}
	switch t := bytes.TrimSpace(in); {
	case len(t) == 0 || string(t) == "null":
		in = json.RawMessage("{}")
	case t[0] != '{':
		return nil, fmt.Errorf("bedrockkit: tool call %q input is not a JSON object: %q: %w", aws.ToString(b.Name), truncate(string(t), 200), ErrMalformedStream)
	}
	return []Part{ToolCall{ID: aws.ToString(b.ToolUseId), Name: aws.ToString(b.Name), Input: in}}, nil
}

// fromToolResult reads a tool result and its text, JSON, image and
// document content; other content is skipped, or an error when strict.
func fromToolResult(b types.ToolResultBlock, strict bool) ([]Part, error) {
	tr := ToolResult{CallID: aws.ToString(b.ToolUseId), IsError: b.Status == types.ToolResultStatusError}
	for _, c := range b.Content {
		switch c := c.(type) {
		case *types.ToolResultContentBlockMemberText:
			tr.Parts = append(tr.Parts, Text{Text: c.Value})
		case *types.ToolResultContentBlockMemberJson:
			raw, err := readDocument(c.Value)
			if err != nil {
				return nil, fmt.Errorf("bedrockkit: tool result JSON: %v: %w", err, ErrMalformedStream)
			}
			tr.Parts = append(tr.Parts, JSON{Value: raw})
		case *types.ToolResultContentBlockMemberImage:
			if img, ok := fromImage(c.Value); ok {
				tr.Parts = append(tr.Parts, img)
			} else if strict {
				return nil, unsupportedBlock("tool result image (unknown source)")
			}
		case *types.ToolResultContentBlockMemberDocument:
			if doc, ok := fromDocument(c.Value); ok {
				tr.Parts = append(tr.Parts, doc)
			} else if strict {
				return nil, unsupportedBlock("tool result document (unknown source)")
			}
		default:
			if strict {
				return nil, unsupportedBlock(fmt.Sprintf("tool result %T", c))
			}
		}
	}
	return []Part{tr}, nil
}

// fromCitations reads cited generated text: a CitedText with its sources,
// plain Text when there are none, nothing when the block is empty.
func fromCitations(b types.CitationsContentBlock, strict bool) ([]Part, error) {
	var text strings.Builder
	for _, c := range b.Content {
		switch c := c.(type) {
		case *types.CitationGeneratedContentMemberText:
			text.WriteString(c.Value)
		default:
			if strict {
				return nil, unsupportedBlock(fmt.Sprintf("cited content %T", c))
			}
		}
	}
	sources := make([]CitationSource, 0, len(b.Citations))
	for _, c := range b.Citations {
		src, ok := fromCitation(c.Title, c.Source, c.Location)
		if !ok && strict {
			return nil, unsupportedBlock(fmt.Sprintf("citation location %T", c.Location))
		}
		var cited []string
		for _, sc := range c.SourceContent {
			if t, ok := sc.(*types.CitationSourceContentMemberText); ok {
				cited = append(cited, t.Value)
			}
		}
		src.Text = strings.Join(cited, "")
		sources = append(sources, src)
	}
	if text.Len() == 0 && len(sources) == 0 {
		return nil, nil
	}
	if len(sources) == 0 {
		return []Part{Text{Text: text.String()}}, nil
	}
	return []Part{CitedText{Text: text.String(), Sources: sources}}, nil
}

// fromCitation maps a Converse citation's title, source and location. It
// reports false for a location member bedrockkit does not know (the source
// is kept, without location).
func fromCitation(title, source *string, loc types.CitationLocation) (CitationSource, bool) {
	src := CitationSource{Title: aws.ToString(title), URI: aws.ToString(source)}
	i32 := func(p *int32) int { return int(aws.ToInt32(p)) }
	switch l := loc.(type) {
	case *types.CitationLocationMemberDocumentChar:
		src.Location = SourceLocation{Kind: LocationDocumentChar, Index: i32(l.Value.DocumentIndex), Start: i32(l.Value.Start), End: i32(l.Value.End)}
	case *types.CitationLocationMemberDocumentChunk:
		src.Location = SourceLocation{Kind: LocationDocumentChunk, Index: i32(l.Value.DocumentIndex), Start: i32(l.Value.Start), End: i32(l.Value.End)}
	case *types.CitationLocationMemberDocumentPage:
		src.Location = SourceLocation{Kind: LocationDocumentPage, Index: i32(l.Value.DocumentIndex), Start: i32(l.Value.Start), End: i32(l.Value.End)}
	case *types.CitationLocationMemberSearchResultLocation:
		src.Location = SourceLocation{Kind: LocationSearchResult, Index: i32(l.Value.SearchResultIndex), Start: i32(l.Value.Start), End: i32(l.Value.End)}
	case *types.CitationLocationMemberWeb:
		src.Location = SourceLocation{Kind: LocationWeb}
		if src.URI == "" {
			src.URI = aws.ToString(l.Value.Url)
		}
	case nil:
	default:
		return src, false
	}
	return src, true
}

func fromImage(b types.ImageBlock) (Image, bool) {
	img := Image{Format: ImageFormat(b.Format)}
	switch s := b.Source.(type) {
	case *types.ImageSourceMemberBytes:
		img.Bytes = s.Value
	case *types.ImageSourceMemberS3Location:
		img.S3URI = aws.ToString(s.Value.Uri)
	default:
		return img, false
	}
	return img, true
}

func fromDocument(b types.DocumentBlock) (Document, bool) {
	doc := Document{Name: aws.ToString(b.Name), Format: DocumentFormat(b.Format)}
	switch s := b.Source.(type) {
	case *types.DocumentSourceMemberBytes:
		doc.Bytes = s.Value
	case *types.DocumentSourceMemberText:
		doc.Text = s.Value
	case *types.DocumentSourceMemberS3Location:
		doc.S3URI = aws.ToString(s.Value.Uri)
	default:
		return doc, false
	}
	return doc, true
}

func fromUsage(u *types.TokenUsage) Usage {
	if u == nil {
		return Usage{Estimated: true}
	}
	return Usage{
		InputTokens:      int(aws.ToInt32(u.InputTokens)),
		OutputTokens:     int(aws.ToInt32(u.OutputTokens)),
		CacheReadTokens:  int(aws.ToInt32(u.CacheReadInputTokens)),
		CacheWriteTokens: int(aws.ToInt32(u.CacheWriteInputTokens)),
	}
}
