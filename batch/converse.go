package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// The Converse request and response bodies of Bedrock's API reference, as
// batch records carry them in modelInput and modelOutput.

type wireRequest struct {
	Messages        []wireMessage    `json:"messages"`
	System          []wireBlock      `json:"system,omitempty"`
	InferenceConfig *wireInference   `json:"inferenceConfig,omitempty"`
	ToolConfig      *wireToolConfig  `json:"toolConfig,omitempty"`
	Additional      json.RawMessage  `json:"additionalModelRequestFields,omitempty"`
	Guardrail       *wireGuardrail   `json:"guardrailConfig,omitempty"`
	ServiceTier     *wireServiceTier `json:"serviceTier,omitempty"`
	Performance     *wirePerformance `json:"performanceConfig,omitempty"`
}

type wireServiceTier struct {
	Type string `json:"type"`
}

type wirePerformance struct {
	Latency string `json:"latency"`
}

type wireGuardrail struct {
	ID      string `json:"guardrailIdentifier"`
	Version string `json:"guardrailVersion"`
	Trace   string `json:"trace,omitempty"`
}

type wireMessage struct {
	Role    string      `json:"role"`
	Content []wireBlock `json:"content"`
}

type wireInference struct {
	MaxTokens     *int     `json:"maxTokens,omitempty"`
	Temperature   *float32 `json:"temperature,omitempty"`
	TopP          *float32 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type wireToolConfig struct {
	Tools      []wireTool      `json:"tools"`
	ToolChoice json.RawMessage `json:"toolChoice,omitempty"`
}

type wireTool struct {
	ToolSpec *wireToolSpec `json:"toolSpec,omitempty"`
	// CachePoint after the tools.
	CachePoint *wireCachePoint `json:"cachePoint,omitempty"`
}

type wireToolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	InputSchema struct {
		JSON json.RawMessage `json:"json"`
	} `json:"inputSchema"`
	Strict *bool `json:"strict,omitempty"`
}

type wireCachePoint struct {
	Type string `json:"type"`
	TTL  string `json:"ttl,omitempty"`
}

type wireSource struct {
	Bytes      []byte `json:"bytes,omitempty"`
	Text       string `json:"text,omitempty"`
	S3Location *struct {
		URI string `json:"uri"`
	} `json:"s3Location,omitempty"`
}

type wireBlock struct {
	Text  *string `json:"text,omitempty"`
	Image *struct {
		Format string     `json:"format"`
		Source wireSource `json:"source"`
	} `json:"image,omitempty"`
	Document *struct {
		Format    string     `json:"format"`
		Name      string     `json:"name"`
		Source    wireSource `json:"source"`
		Citations *struct {
			Enabled bool `json:"enabled"`
		} `json:"citations,omitempty"`
	} `json:"document,omitempty"`
	JSON    json.RawMessage `json:"json,omitempty"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse,omitempty"`
	ToolResult *struct {
		ToolUseID string      `json:"toolUseId"`
		Content   []wireBlock `json:"content"`
		Status    string      `json:"status,omitempty"`
	} `json:"toolResult,omitempty"`
	Reasoning *struct {
		ReasoningText *struct {
			Text      string `json:"text"`
			Signature string `json:"signature,omitempty"`
		} `json:"reasoningText,omitempty"`
		RedactedContent []byte `json:"redactedContent,omitempty"`
	} `json:"reasoningContent,omitempty"`
	CachePoint *wireCachePoint `json:"cachePoint,omitempty"`
}

type wireResponse struct {
	Output struct {
		Message *wireMessage `json:"message,omitempty"`
	} `json:"output"`
	StopReason string    `json:"stopReason"`
	Usage      wireUsage `json:"usage"`
	Metrics    *struct {
		LatencyMs int64 `json:"latencyMs"`
	} `json:"metrics,omitempty"`
	AdditionalFields json.RawMessage  `json:"additionalModelResponseFields,omitempty"`
	ServiceTier      *wireServiceTier `json:"serviceTier,omitempty"`
	Performance      *wirePerformance `json:"performanceConfig,omitempty"`
}

type wireUsage struct {
	InputTokens      int `json:"inputTokens"`
	OutputTokens     int `json:"outputTokens"`
	TotalTokens      int `json:"totalTokens"`
	CacheReadTokens  int `json:"cacheReadInputTokens,omitempty"`
	CacheWriteTokens int `json:"cacheWriteInputTokens,omitempty"`
}

// maxDepth bounds the nesting of tool results in a decoded request.
const maxDepth = 4

// decodeRequest parses a Converse request body. Unknown fields are errors:
// a field this package does not carry would be dropped silently.
func decodeRequest(body []byte) (*bedrockkit.Request, error) {
	var w wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("batch: modelInput is not a Converse request body this package reads: %w: %w", err, bedrockkit.ErrInvalidInput)
	}
	if dec.More() {
		return nil, fmt.Errorf("batch: modelInput has data after the request body: %w", bedrockkit.ErrInvalidInput)
	}
	req := &bedrockkit.Request{}
	var err error
	if req.System, err = decodeBlocks(w.System, 0); err != nil {
		return nil, fmt.Errorf("batch: system: %w", err)
	}
	for i, m := range w.Messages {
		parts, err := decodeBlocks(m.Content, 0)
		if err != nil {
			return nil, fmt.Errorf("batch: message %d: %w", i, err)
		}
		if m.Role != string(bedrockkit.RoleUser) && m.Role != string(bedrockkit.RoleAssistant) {
			return nil, fmt.Errorf("batch: message %d has role %q; want user or assistant: %w", i, m.Role, bedrockkit.ErrInvalidInput)
		}
		req.Messages = append(req.Messages, bedrockkit.Message{Role: bedrockkit.Role(m.Role), Parts: parts})
	}
	if ic := w.InferenceConfig; ic != nil {
		if ic.MaxTokens != nil {
			req.MaxTokens = *ic.MaxTokens
		}
		req.Temperature, req.TopP, req.StopSequences = ic.Temperature, ic.TopP, ic.StopSequences
	}
	if tc := w.ToolConfig; tc != nil {
		if err := decodeToolConfig(req, tc); err != nil {
			return nil, err
		}
	}
	if len(w.Additional) > 0 && !bytes.Equal(bytes.TrimSpace(w.Additional), []byte("null")) {
		if err := json.Unmarshal(w.Additional, &req.Extra); err != nil {
			return nil, fmt.Errorf("batch: additionalModelRequestFields must be an object: %w", bedrockkit.ErrInvalidInput)
		}
	}
	if g := w.Guardrail; g != nil {
		req.Guardrail = &bedrockkit.GuardrailConfig{ID: g.ID, Version: g.Version, Trace: g.Trace}
	}
	if w.ServiceTier != nil {
		req.ServiceTier = bedrockkit.ServiceTier(w.ServiceTier.Type)
	}
	if w.Performance != nil {
		req.LatencyMode = bedrockkit.LatencyMode(w.Performance.Latency)
	}
	return req, nil
}

// decodeToolConfig reads the tools, the tool cache point and the tool
// choice into req.
func decodeToolConfig(req *bedrockkit.Request, tc *wireToolConfig) error {
	for _, t := range tc.Tools {
		switch {
		case t.ToolSpec != nil:
			tool := bedrockkit.ToolSpec{Name: t.ToolSpec.Name, Description: t.ToolSpec.Description, InputSchema: t.ToolSpec.InputSchema.JSON}
			if t.ToolSpec.Strict != nil {
				tool.Strict = *t.ToolSpec.Strict
			}
			req.Tools = append(req.Tools, tool)
		case t.CachePoint != nil:
			req.ToolCache = &bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL(t.CachePoint.TTL)}
		default:
			return fmt.Errorf("batch: a tool is neither toolSpec nor cachePoint: %w", bedrockkit.ErrInvalidInput)
		}
	}
	if len(tc.ToolChoice) == 0 {
		return nil
	}
	var choice map[string]struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(tc.ToolChoice, &choice); err != nil || len(choice) != 1 {
		return fmt.Errorf("batch: toolChoice must have exactly one of auto, any, tool: %w", bedrockkit.ErrInvalidInput)
	}
	for k, v := range choice {
		switch k {
		case "auto":
		case "any":
			req.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceAny}
		case "tool":
			req.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: v.Name}
		default:
			return fmt.Errorf("batch: toolChoice %q: %w", k, bedrockkit.ErrInvalidInput)
		}
	}
	return nil
}

func decodeBlocks(blocks []wireBlock, depth int) ([]bedrockkit.Part, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("tool results nested deeper than %d: %w", maxDepth, bedrockkit.ErrInvalidInput)
	}
	parts := make([]bedrockkit.Part, 0, len(blocks))
	for i, b := range blocks {
		p, err := decodeBlock(b, depth)
		if err != nil {
			return nil, fmt.Errorf("content block %d: %w", i, err)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func decodeBlock(b wireBlock, depth int) (bedrockkit.Part, error) {
	set := 0
	for _, ok := range []bool{b.Text != nil, b.Image != nil, b.Document != nil, b.JSON != nil, b.ToolUse != nil, b.ToolResult != nil, b.Reasoning != nil, b.CachePoint != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("a content block must have exactly one member, it has %d: %w", set, bedrockkit.ErrInvalidInput)
	}
	switch {
	case b.Text != nil:
		return bedrockkit.Text{Text: *b.Text}, nil
	case b.Image != nil:
		img := bedrockkit.Image{Format: bedrockkit.ImageFormat(b.Image.Format), Bytes: b.Image.Source.Bytes}
		if b.Image.Source.S3Location != nil {
			img.S3URI = b.Image.Source.S3Location.URI
		}
		return img, nil
	case b.Document != nil:
		d := bedrockkit.Document{Name: b.Document.Name, Format: bedrockkit.DocumentFormat(b.Document.Format), Bytes: b.Document.Source.Bytes, Text: b.Document.Source.Text}
		if b.Document.Source.S3Location != nil {
			d.S3URI = b.Document.Source.S3Location.URI
		}
		d.Citations = b.Document.Citations != nil && b.Document.Citations.Enabled
		return d, nil
	case b.JSON != nil:
		if depth == 0 {
			return nil, fmt.Errorf("a json block belongs inside a toolResult: %w", bedrockkit.ErrInvalidInput)
		}
		return bedrockkit.JSON{Value: b.JSON}, nil
	case b.ToolUse != nil:
		return bedrockkit.ToolCall{ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Input: b.ToolUse.Input}, nil
	case b.ToolResult != nil:
		inner, err := decodeBlocks(b.ToolResult.Content, depth+1)
		if err != nil {
			return nil, err
		}
		return bedrockkit.ToolResult{CallID: b.ToolResult.ToolUseID, Parts: inner, IsError: b.ToolResult.Status == "error"}, nil
	case b.Reasoning != nil:
		r := bedrockkit.Reasoning{Redacted: b.Reasoning.RedactedContent}
		if rt := b.Reasoning.ReasoningText; rt != nil {
			r.Text, r.Signature = rt.Text, rt.Signature
		}
		return r, nil
	}
	return bedrockkit.CachePoint{TTL: bedrockkit.CacheTTL(b.CachePoint.TTL)}, nil
}

// encodeRequest writes req as a Converse request body.
func encodeRequest(req *bedrockkit.Request) (json.RawMessage, error) {
	if req == nil {
		return nil, fmt.Errorf("batch: nil request: %w", bedrockkit.ErrInvalidInput)
	}
	if req.Output != nil {
		return nil, fmt.Errorf("batch: Bedrock batch jobs do not support structured output (Request.Output); ask for JSON in the prompt and validate the results: %w", bedrockkit.ErrUnsupported)
	}
	w := wireRequest{}
	var err error
	if w.System, err = encodeBlocks(req.System); err != nil {
		return nil, err
	}
	for _, m := range req.Messages {
		blocks, err := encodeBlocks(m.Parts)
		if err != nil {
			return nil, err
		}
		w.Messages = append(w.Messages, wireMessage{Role: string(m.Role), Content: blocks})
	}
	if req.MaxTokens != 0 || req.Temperature != nil || req.TopP != nil || len(req.StopSequences) > 0 {
		ic := &wireInference{Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.StopSequences}
		if req.MaxTokens != 0 {
			n := req.MaxTokens
			ic.MaxTokens = &n
		}
		w.InferenceConfig = ic
	}
	if len(req.Tools) > 0 {
		tc := &wireToolConfig{}
		for _, t := range req.Tools {
			spec := &wireToolSpec{Name: t.Name, Description: t.Description}
			spec.InputSchema.JSON = t.InputSchema
			if t.Strict {
				v := true
				spec.Strict = &v
			}
			tc.Tools = append(tc.Tools, wireTool{ToolSpec: spec})
		}
		if req.ToolCache != nil {
			tc.Tools = append(tc.Tools, wireTool{CachePoint: &wireCachePoint{Type: "default", TTL: string(req.ToolCache.TTL)}})
		}
		switch req.ToolChoice.Kind {
		case bedrockkit.ToolChoiceAny:
			tc.ToolChoice = json.RawMessage(`{"any":{}}`)
		case bedrockkit.ToolChoiceTool:
			b, _ := json.Marshal(map[string]any{"tool": map[string]string{"name": req.ToolChoice.Name}})
			tc.ToolChoice = b
		}
		w.ToolConfig = tc
	}
	if len(req.Extra) > 0 {
		if w.Additional, err = json.Marshal(req.Extra); err != nil {
			return nil, fmt.Errorf("batch: Request.Extra: %w: %w", err, bedrockkit.ErrInvalidInput)
		}
	}
	if g := req.Guardrail; g != nil {
		w.Guardrail = &wireGuardrail{ID: g.ID, Version: g.Version, Trace: g.Trace}
	}
	if req.ServiceTier != "" {
		w.ServiceTier = &wireServiceTier{Type: string(req.ServiceTier)}
	}
	if req.LatencyMode != "" {
		w.Performance = &wirePerformance{Latency: string(req.LatencyMode)}
	}
	return json.Marshal(w)
}

func encodeBlocks(parts []bedrockkit.Part) ([]wireBlock, error) {
	out := make([]wireBlock, 0, len(parts))
	for _, p := range parts {
		b, err := encodeBlock(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func src(b []byte, text, s3 string) wireSource {
	s := wireSource{Bytes: b, Text: text}
	if s3 != "" {
		s.S3Location = &struct {
			URI string `json:"uri"`
		}{URI: s3}
	}
	return s
}

func encodeBlock(p bedrockkit.Part) (wireBlock, error) {
	var b wireBlock
	switch p := p.(type) {
	case bedrockkit.Text:
		t := p.Text
		b.Text = &t
	case bedrockkit.CitedText:
		// Batch records carry no citations; the cited text is kept.
		t := p.Text
		b.Text = &t
	case bedrockkit.Image:
		b.Image = &struct {
			Format string     `json:"format"`
			Source wireSource `json:"source"`
		}{Format: string(p.Format), Source: src(p.Bytes, "", p.S3URI)}
	case bedrockkit.Document:
		encodeDocument(&b, p)
	case bedrockkit.JSON:
		if !json.Valid(p.Value) {
			return b, fmt.Errorf("batch: a JSON part is not valid JSON: %w", bedrockkit.ErrInvalidInput)
		}
		b.JSON = p.Value
	case bedrockkit.ToolCall:
		if err := encodeToolCall(&b, p); err != nil {
			return b, err
		}
	case bedrockkit.ToolResult:
		if err := encodeToolResult(&b, p); err != nil {
			return b, err
		}
	case bedrockkit.Reasoning:
		encodeReasoning(&b, p)
	case bedrockkit.CachePoint:
		b.CachePoint = &wireCachePoint{Type: "default", TTL: string(p.TTL)}
	default:
		return b, fmt.Errorf("batch: a %T part has no Converse form: %w", p, bedrockkit.ErrUnsupported)
	}
	return b, nil
}

func encodeDocument(b *wireBlock, p bedrockkit.Document) {
	d := &struct {
		Format    string     `json:"format"`
		Name      string     `json:"name"`
		Source    wireSource `json:"source"`
		Citations *struct {
			Enabled bool `json:"enabled"`
		} `json:"citations,omitempty"`
	}{Format: string(p.Format), Name: p.Name, Source: src(p.Bytes, p.Text, p.S3URI)}
	if p.Citations {
		d.Citations = &struct {
			Enabled bool `json:"enabled"`
		}{Enabled: true}
	}
	b.Document = d
}

// encodeToolCall encodes a tool call; an empty input is sent as {}.
func encodeToolCall(b *wireBlock, p bedrockkit.ToolCall) error {
	in := json.RawMessage(p.Input)
	if len(bytes.TrimSpace(in)) == 0 {
		in = json.RawMessage("{}")
	}
	if !json.Valid(in) {
		return fmt.Errorf("batch: tool call %q input is not valid JSON: %w", p.Name, bedrockkit.ErrInvalidInput)
	}
	b.ToolUse = &struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	}{ToolUseID: p.ID, Name: p.Name, Input: in}
	return nil
}

func encodeToolResult(b *wireBlock, p bedrockkit.ToolResult) error {
	inner, err := encodeBlocks(p.Parts)
	if err != nil {
		return err
	}
	status := "success"
	if p.IsError {
		status = "error"
	}
	b.ToolResult = &struct {
		ToolUseID string      `json:"toolUseId"`
		Content   []wireBlock `json:"content"`
		Status    string      `json:"status,omitempty"`
	}{ToolUseID: p.CallID, Content: inner, Status: status}
	return nil
}

// encodeReasoning encodes reasoning: its redacted content, else its text
// and signature.
func encodeReasoning(b *wireBlock, p bedrockkit.Reasoning) {
	r := &struct {
		ReasoningText *struct {
			Text      string `json:"text"`
			Signature string `json:"signature,omitempty"`
		} `json:"reasoningText,omitempty"`
		RedactedContent []byte `json:"redactedContent,omitempty"`
	}{RedactedContent: p.Redacted}
	if len(p.Redacted) == 0 {
		r.ReasoningText = &struct {
			Text      string `json:"text"`
			Signature string `json:"signature,omitempty"`
		}{Text: p.Text, Signature: p.Signature}
	}
	b.Reasoning = r
}

// encodeResponse writes resp as a Converse response body.
func encodeResponse(resp *bedrockkit.Response) (json.RawMessage, error) {
	var w wireResponse
	blocks, err := encodeBlocks(resp.Message.Parts)
	if err != nil {
		return nil, err
	}
	w.Output.Message = &wireMessage{Role: string(bedrockkit.RoleAssistant), Content: blocks}
	w.StopReason = string(resp.StopReason)
	u := resp.Usage
	w.Usage = wireUsage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.Total(),
		CacheReadTokens: u.CacheReadTokens, CacheWriteTokens: u.CacheWriteTokens}
	w.Metrics = &struct {
		LatencyMs int64 `json:"latencyMs"`
	}{LatencyMs: resp.Latency.Milliseconds()}
	w.AdditionalFields = resp.AdditionalFields
	if resp.ServiceTier != "" {
		w.ServiceTier = &wireServiceTier{Type: string(resp.ServiceTier)}
	}
	if resp.LatencyMode != "" {
		w.Performance = &wirePerformance{Latency: string(resp.LatencyMode)}
	}
	return json.Marshal(w)
}

// decodeResponse parses a Converse response body. Unknown fields are
// ignored: a newer service may add them.
func decodeResponse(body []byte) (*bedrockkit.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("batch: modelOutput is not a Converse response body: %w: %w", err, bedrockkit.ErrInvalidInput)
	}
	resp := &bedrockkit.Response{StopReason: bedrockkit.StopReason(w.StopReason), AdditionalFields: w.AdditionalFields,
		Usage: bedrockkit.Usage{InputTokens: w.Usage.InputTokens, OutputTokens: w.Usage.OutputTokens,
			CacheReadTokens: w.Usage.CacheReadTokens, CacheWriteTokens: w.Usage.CacheWriteTokens}}
	if w.Output.Message != nil {
		parts, err := decodeBlocks(w.Output.Message.Content, 1)
		if err != nil {
			return nil, fmt.Errorf("batch: modelOutput message: %w", err)
		}
		resp.Message = bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: parts}
	}
	if w.ServiceTier != nil {
		resp.ServiceTier = bedrockkit.ServiceTier(w.ServiceTier.Type)
	}
	if w.Performance != nil {
		resp.LatencyMode = bedrockkit.LatencyMode(strings.TrimSpace(w.Performance.Latency))
	}
	u := resp.Usage
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheReadTokens < 0 || u.CacheWriteTokens < 0 {
		return nil, fmt.Errorf("batch: modelOutput has negative token counts: %w", bedrockkit.ErrInvalidInput)
	}
	return resp, nil
}
