package langchaingo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/bedrockkit/bedrockkit"
)

// ---- bedrockkit -> langchaingo (used by FromLLM) ----

// toLCConfig holds the FromLLM options that steer the conversion.
type toLCConfig struct {
	// cache sends CachePoint parts as llms.CachedContent.
	cache bool
	// strict fails on what langchaingo cannot express instead of dropping it.
	strict bool
}

// drop reports that what cannot be sent: nil (it is dropped) unless the
// conversion is strict.
func (c toLCConfig) drop(format string, args ...any) error {
	if !c.strict {
		return nil
	}
	return fmt.Errorf("langchaingo: %s: langchaingo v0.1.14 has no way to send it; remove it from the request or unset Options.Strict to drop it: %w", fmt.Sprintf(format, args...), bedrockkit.ErrUnsupported)
}

// cacheControl is langchaingo's form of a cache point: Anthropic's
// "ephemeral" type with the TTL as Duration (5 minutes by default).
func cacheControl(p bedrockkit.CachePoint) *llms.CacheControl {
	d := 5 * time.Minute
	if p.TTL == bedrockkit.CacheTTL1h {
		d = time.Hour
	}
	return &llms.CacheControl{Type: "ephemeral", Duration: d}
}

// toLCMessages converts a bedrockkit request's system prompt and messages to
// langchaingo messages. Tool results become one "tool" message each, as
// langchaingo's providers expect. Reasoning parts cannot be sent; CachePoint
// parts become llms.CachedContent when cfg.cache is set. What cannot be
// sent is dropped, or fails the call when cfg.strict is set.
func toLCMessages(req *bedrockkit.Request, cfg toLCConfig) ([]llms.MessageContent, error) {
	out, err := lcSystemMessages(req.System, cfg)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // tool call ID -> tool name
	for i, m := range req.Messages {
		if out, err = appendLCMessage(out, i, m, names, cfg); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lcSystemMessages converts the system prompt: its text, as one system
// message, with its cache point when cfg.cache is set.
func lcSystemMessages(system []bedrockkit.Part, cfg toLCConfig) ([]llms.MessageContent, error) {
	var sysCache *bedrockkit.CachePoint
	for _, p := range system {
		switch p := p.(type) {
		case bedrockkit.Text:
		case bedrockkit.CachePoint:
			sysCache = &p
		default:
			if err := cfg.drop("a %T in the system prompt (only text is sent)", p); err != nil {
				return nil, err
			}
		}
	}
	sys := (bedrockkit.Message{Parts: system}).Text()
	if sys == "" {
		return nil, nil
	}
	var part llms.ContentPart = llms.TextContent{Text: sys}
	if sysCache != nil {
		if cfg.cache {
			part = llms.WithCacheControl(part, cacheControl(*sysCache))
		} else if err := cfg.drop("a cache point in the system prompt (set Options.CacheControl for providers that read llms.CachedContent)"); err != nil {
			return nil, err
		}
	}
	return []llms.MessageContent{{Role: llms.ChatMessageTypeSystem, Parts: []llms.ContentPart{part}}}, nil
}

// appendLCMessage appends message i: its parts in one message of its
// role, split around each tool result, which becomes a tool message.
// names records the tool name of each tool call ID.
func appendLCMessage(out []llms.MessageContent, i int, m bedrockkit.Message, names map[string]string, cfg toLCConfig) ([]llms.MessageContent, error) {
	role := llms.ChatMessageTypeHuman
	if m.Role == bedrockkit.RoleAssistant {
		role = llms.ChatMessageTypeAI
	} else if m.Role != bedrockkit.RoleUser {
		return nil, fmt.Errorf("langchaingo: message %d has role %q; use user or assistant: %w", i, m.Role, bedrockkit.ErrInvalidInput)
	}
	cur := llms.MessageContent{Role: role}
	flush := func() {
		if len(cur.Parts) > 0 {
			out = append(out, cur)
		}
		cur = llms.MessageContent{Role: role}
	}
	for _, p := range m.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			cur.Parts = append(cur.Parts, llms.TextContent{Text: p.Text})
		case bedrockkit.Image, bedrockkit.Document:
			part, err := lcMediaPart(p, i)
			if err != nil {
				return nil, err
			}
			cur.Parts = append(cur.Parts, part)
		case bedrockkit.JSON:
			cur.Parts = append(cur.Parts, llms.TextContent{Text: string(p.Value)})
		case bedrockkit.ToolCall:
			names[p.ID] = p.Name
			args := string(p.Input)
			if args == "" {
				args = "{}"
			}
			cur.Parts = append(cur.Parts, llms.ToolCall{ID: p.ID, Type: "function", FunctionCall: &llms.FunctionCall{Name: p.Name, Arguments: args}})
		case bedrockkit.ToolResult:
			flush()
			content := resultText(p.Parts)
			if p.IsError && content == "" {
				content = "error"
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
				llms.ToolCallResponse{ToolCallID: p.CallID, Name: names[p.CallID], Content: content},
			}})
		case bedrockkit.Reasoning:
			if err := cfg.drop("message %d holds reasoning (langchaingo has no content part for reasoning or its signature)", i); err != nil {
				return nil, err
			}
		case bedrockkit.CachePoint:
			if err := cachePart(&cur, p, i, cfg); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("langchaingo: message %d: part type %T: %w", i, p, bedrockkit.ErrUnsupported)
		}
	}
	flush()
	return out, nil
}

// lcMediaPart converts an image or a document of message i: by bytes
// (or a document's text), never by S3 URI.
func lcMediaPart(p bedrockkit.Part, i int) (llms.ContentPart, error) {
	switch p := p.(type) {
	case bedrockkit.Image:
		if p.S3URI != "" {
			return nil, fmt.Errorf("langchaingo: message %d: an image given by S3 URI cannot be sent to a langchaingo model; pass its bytes: %w", i, bedrockkit.ErrUnsupported)
		}
		return llms.BinaryContent{MIMEType: "image/" + string(p.Format), Data: p.Bytes}, nil
	case bedrockkit.Document:
		switch {
		case p.Text != "":
			return llms.TextContent{Text: p.Text}, nil
		case p.S3URI != "":
			return nil, fmt.Errorf("langchaingo: message %d: a document given by S3 URI cannot be sent to a langchaingo model; pass its bytes or text: %w", i, bedrockkit.ErrUnsupported)
		default:
			return llms.BinaryContent{MIMEType: docMIME(p.Format), Data: p.Bytes}, nil
		}
	}
	return nil, fmt.Errorf("langchaingo: message %d: part type %T: %w", i, p, bedrockkit.ErrUnsupported)
}

// cachePart marks the last part of cur as the end of a cached prefix by
// wrapping it in llms.CachedContent. langchaingo's Anthropic provider, the
// one that reads cache control, accepts it on text and images of user
// messages only, so elsewhere the cache point cannot be sent.
func cachePart(cur *llms.MessageContent, p bedrockkit.CachePoint, i int, cfg toLCConfig) error {
	if !cfg.cache {
		return cfg.drop("message %d holds a cache point (set Options.CacheControl for providers that read llms.CachedContent)", i)
	}
	n := len(cur.Parts)
	if cur.Role != llms.ChatMessageTypeHuman || n == 0 {
		return cfg.drop("message %d has a cache point that does not follow text or an image in a user message", i)
	}
	switch cur.Parts[n-1].(type) {
	case llms.TextContent, llms.BinaryContent:
		cur.Parts[n-1] = llms.WithCacheControl(cur.Parts[n-1], cacheControl(p))
		return nil
	}
	return cfg.drop("message %d has a cache point after a %T; langchaingo caches text and images only", i, cur.Parts[n-1])
}

// resultText renders tool-result parts as text: Text as is, JSON as its
// encoding.
func resultText(parts []bedrockkit.Part) string {
	var b strings.Builder
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			b.WriteString(p.Text)
		case bedrockkit.JSON:
			b.Write(p.Value)
		case bedrockkit.Document:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func docMIME(f bedrockkit.DocumentFormat) string {
	switch f {
	case bedrockkit.DocPDF:
		return "application/pdf"
	case bedrockkit.DocCSV:
		return "text/csv"
	case bedrockkit.DocHTML:
		return "text/html"
	case bedrockkit.DocTXT:
		return "text/plain"
	case bedrockkit.DocMD:
		return "text/markdown"
	case bedrockkit.DocDOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case bedrockkit.DocXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case bedrockkit.DocDOC:
		return "application/msword"
	case bedrockkit.DocXLS:
		return "application/vnd.ms-excel"
	}
	return "application/octet-stream"
}

// toLCOptions converts the request's tools, inference settings and the
// Extra fields langchaingo has an option for (see extraOptions).
func toLCOptions(req *bedrockkit.Request, cfg toLCConfig) ([]llms.CallOption, error) {
	var opts []llms.CallOption
	if req.Guardrail != nil {
		if err := cfg.drop("a guardrail configuration (guard a langchaingo model with bedrockkit's guardrail middleware instead)"); err != nil {
			return nil, err
		}
	}
	if req.ToolCache != nil && len(req.Tools) > 0 {
		if err := cfg.drop("a cache point after the tool definitions (llms.Tool has no cache control)"); err != nil {
			return nil, err
		}
	}
	extra, err := extraOptions(req.Extra, cfg)
	if err != nil {
		return nil, err
	}
	opts = append(opts, extra...)
	if len(req.Tools) > 0 {
		tools := make([]llms.Tool, len(req.Tools))
		for i, t := range req.Tools {
			var params map[string]any
			if len(t.InputSchema) > 0 {
				if err := json.Unmarshal(t.InputSchema, &params); err != nil {
					return nil, fmt.Errorf("langchaingo: tool %q: input schema is not a JSON object: %v: %w", t.Name, err, bedrockkit.ErrInvalidInput)
				}
			}
			tools[i] = llms.Tool{Type: "function", Function: &llms.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params}}
		}
		opts = append(opts, llms.WithTools(tools))
		switch req.ToolChoice.Kind {
		case bedrockkit.ToolChoiceAny:
			opts = append(opts, llms.WithToolChoice("required"))
		case bedrockkit.ToolChoiceTool:
			opts = append(opts, llms.WithToolChoice(llms.ToolChoice{Type: "function", Function: &llms.FunctionReference{Name: req.ToolChoice.Name}}))
		}
	}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	if req.Temperature != nil {
		opts = append(opts, llms.WithTemperature(float64(*req.Temperature)))
	}
	if req.TopP != nil {
		opts = append(opts, llms.WithTopP(float64(*req.TopP)))
	}
	if len(req.StopSequences) > 0 {
		opts = append(opts, llms.WithStopWords(req.StopSequences))
	}
	return opts, nil
}

// extraOptions maps the Request.Extra fields (Bedrock's
// additionalModelRequestFields) that langchaingo v0.1.14 can express:
//
//   - "thinking" (Claude: {"type":"enabled","budget_tokens":N} or
//     {"type":"disabled"}) and "reasoning_effort" (gpt-oss: "low",
//     "medium", "high") and "reasoningConfig" (Nova:
//     {"type":"enabled","maxReasoningEffort":"low"|"medium"|"high"}) become
//     llms.WithThinking with the budget or mode, returning the thinking;
//   - "anthropic_beta" holding "interleaved-thinking-..." sets the thinking
//     config's InterleaveThinking;
//   - "top_k" becomes llms.WithTopK.
//
// Other keys are dropped, or fail when cfg.strict is set.
func extraOptions(extra map[string]any, cfg toLCConfig) ([]llms.CallOption, error) {
	if len(extra) == 0 {
		return nil, nil
	}
	var opts []llms.CallOption
	var t extraThinking
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		v := extra[k]
		var err error
		switch k {
		case "thinking":
			err = t.claude(k, v)
		case "reasoning_effort":
			mode, ok := effortMode(v)
			if !ok {
				return nil, badExtra(k, v, `"low", "medium" or "high"`)
			}
			t.config().Mode = mode
		case "reasoningConfig":
			err = t.nova(k, v)
		case "anthropic_beta":
			err = t.anthropicBeta(k, v, cfg)
		case "top_k":
			n, ok := intOf(extra, k)
			if !ok || n <= 0 {
				return nil, badExtra(k, v, "a positive integer")
			}
			opts = append(opts, llms.WithTopK(n))
		default:
			err = cfg.drop("Request.Extra[%q] (put provider options in Options.CallOptions)", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if t.think != nil {
		opts = append(opts, llms.WithThinking(t.think))
	}
	return opts, nil
}

// badExtra says that Request.Extra[k] is v but should be want.
func badExtra(k string, v any, want string) error {
	return fmt.Errorf("langchaingo: Request.Extra[%q] is %.80v; want %s: %w", k, v, want, bedrockkit.ErrInvalidInput)
}

// extraThinking is the thinking config the Extra fields build, if any.
type extraThinking struct {
	think *llms.ThinkingConfig
}

// config returns the thinking config, creating it.
func (t *extraThinking) config() *llms.ThinkingConfig {
	if t.think == nil {
		t.think = &llms.ThinkingConfig{Mode: llms.ThinkingModeAuto, ReturnThinking: true, StreamThinking: true}
	}
	return t.think
}

// claude reads Claude's "thinking" field.
func (t *extraThinking) claude(k string, v any) error {
	m, _ := v.(map[string]any)
	switch m["type"] {
	case "enabled":
		n, ok := intOf(m, "budget_tokens")
		if !ok || n <= 0 {
			return badExtra(k, v, `{"type":"enabled","budget_tokens":N} with N > 0`)
		}
		t.config().BudgetTokens = n
	case "disabled":
		t.config().Mode = llms.ThinkingModeNone
	default:
		return badExtra(k, v, `{"type":"enabled","budget_tokens":N} or {"type":"disabled"}`)
	}
	return nil
}

// nova reads Nova's "reasoningConfig" field.
func (t *extraThinking) nova(k string, v any) error {
	m, _ := v.(map[string]any)
	switch m["type"] {
	case "enabled":
		if e, ok := m["maxReasoningEffort"]; ok {
			mode, ok := effortMode(e)
			if !ok {
				return badExtra(k, v, `maxReasoningEffort "low", "medium" or "high"`)
			}
			t.config().Mode = mode
		} else {
			t.config()
		}
	case "disabled":
		t.config().Mode = llms.ThinkingModeNone
	default:
		return badExtra(k, v, `{"type":"enabled","maxReasoningEffort":"low"} or {"type":"disabled"}`)
	}
	return nil
}

// anthropicBeta reads "anthropic_beta": an interleaved-thinking flag sets
// InterleaveThinking; other flags cannot be sent.
func (t *extraThinking) anthropicBeta(k string, v any, cfg toLCConfig) error {
	var interleaved, other bool
	list, _ := v.([]any)
	if s, ok := v.([]string); ok {
		for _, x := range s {
			list = append(list, x)
		}
	}
	for _, x := range list {
		if s, _ := x.(string); strings.HasPrefix(s, "interleaved-thinking-") {
			interleaved = true
		} else {
			other = true
		}
	}
	if interleaved {
		t.config().InterleaveThinking = true
	}
	if other || len(list) == 0 {
		return cfg.drop("Request.Extra[%q] beyond interleaved thinking (use the provider's own options, such as anthropic.WithBetaHeader, in Options.CallOptions)", k)
	}
	return nil
}

func effortMode(v any) (llms.ThinkingMode, bool) {
	switch v {
	case "low":
		return llms.ThinkingModeLow, true
	case "medium":
		return llms.ThinkingModeMedium, true
	case "high":
		return llms.ThinkingModeHigh, true
	}
	return "", false
}

// fromLCResponse converts a langchaingo answer to a bedrockkit response.
// bedrockkit never asks for several candidates, so several choices are the
// content blocks of one answer (langchaingo's Anthropic provider returns
// one choice per block: thinking, text, tool use) and are merged in order.
func fromLCResponse(choices []*llms.ContentChoice, est func(string) int, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	resp := &bedrockkit.Response{Message: bedrockkit.Message{Role: bedrockkit.RoleAssistant}}
	var info map[string]any
	var finish, outText string
	hasCalls := false
	for _, c := range choices {
		if c == nil {
			continue
		}
		if info == nil && hasUsage(c.GenerationInfo) {
			info = c.GenerationInfo
		}
		if c.StopReason != "" {
			finish = c.StopReason
		}
		reasoning := c.ReasoningContent
		sig := ""
		if reasoning == "" && c.Content == "" && len(c.ToolCalls) == 0 && c.FuncCall == nil {
			// A thinking block (Anthropic): the reasoning is in GenerationInfo.
			reasoning, _ = c.GenerationInfo["ThinkingContent"].(string)
			sig, _ = c.GenerationInfo["ThinkingSignature"].(string)
		}
		if reasoning != "" || sig != "" {
			resp.Message.Parts = append(resp.Message.Parts, bedrockkit.Reasoning{Text: reasoning, Signature: sig})
			outText += reasoning
		}
		if c.Content != "" {
			resp.Message.Parts = append(resp.Message.Parts, bedrockkit.Text{Text: c.Content})
			outText += c.Content
		}
		calls, err := fromLCToolCalls(c)
		if err != nil {
			return nil, err
		}
		for _, tc := range calls {
			resp.Message.Parts = append(resp.Message.Parts, tc)
			outText += string(tc.Input)
			hasCalls = true
		}
	}
	resp.StopReason = stopReason(finish, hasCalls)
	resp.Usage = usageOf(info, func() (int, int) {
		return estimateInput(req, est), est(outText)
	})
	return resp, nil
}

func hasUsage(info map[string]any) bool {
	_, a := info["InputTokens"]
	_, b := info["PromptTokens"]
	return a || b
}

func fromLCToolCalls(c *llms.ContentChoice) ([]bedrockkit.ToolCall, error) {
	lc := c.ToolCalls
	if len(lc) == 0 && c.FuncCall != nil {
		lc = []llms.ToolCall{{Type: "function", FunctionCall: c.FuncCall}}
	}
	var out []bedrockkit.ToolCall
	for i, t := range lc {
		if t.FunctionCall == nil {
			continue
		}
		args := strings.TrimSpace(t.FunctionCall.Arguments)
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) {
			return nil, fmt.Errorf("langchaingo: tool call %q: arguments are not valid JSON: %.200q: %w", t.FunctionCall.Name, args, bedrockkit.ErrModelError)
		}
		id := t.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		out = append(out, bedrockkit.ToolCall{ID: id, Name: t.FunctionCall.Name, Input: json.RawMessage(args)})
	}
	return out, nil
}

// stopReason maps the finish reasons of langchaingo's providers (OpenAI,
// Anthropic, Gemini, Ollama, ...) to bedrockkit's.
func stopReason(s string, hasCalls bool) bedrockkit.StopReason {
	switch strings.ToLower(s) {
	case "length", "max_tokens", "max_output_tokens":
		return bedrockkit.StopMaxTokens
	case "tool_calls", "tool_use", "function_call":
		return bedrockkit.StopToolUse
	case "stop_sequence":
		return bedrockkit.StopSequence
	case "content_filter", "safety", "recitation", "blocklist", "prohibited_content", "spii", "refusal":
		return bedrockkit.StopContentFiltered
	}
	if hasCalls {
		return bedrockkit.StopToolUse
	}
	return bedrockkit.StopEndTurn
}

// usageOf reads token counts from GenerationInfo. Anthropic's keys
// (InputTokens excludes cached tokens) are preferred; otherwise the
// OpenAI/Gemini/Ollama keys (PromptTokens includes cached tokens, which are
// moved to CacheReadTokens as Bedrock counts them). Without either, est
// supplies an estimate and Usage.Estimated is set.
func usageOf(info map[string]any, est func() (in, out int)) bedrockkit.Usage {
	if in, ok := intOf(info, "InputTokens"); ok {
		out, _ := intOf(info, "OutputTokens")
		cr, _ := intOf(info, "CacheReadInputTokens")
		cw, _ := intOf(info, "CacheCreationInputTokens")
		return bedrockkit.Usage{InputTokens: in, OutputTokens: out, CacheReadTokens: cr, CacheWriteTokens: cw}
	}
	if p, ok := intOf(info, "PromptTokens"); ok {
		out, _ := intOf(info, "CompletionTokens")
		cached, ok := intOf(info, "PromptCachedTokens")
		if !ok {
			cached, _ = intOf(info, "CacheReadInputTokens")
		}
		cached = min(max(cached, 0), p)
		if p > 0 || out > 0 {
			return bedrockkit.Usage{InputTokens: p - cached, OutputTokens: out, CacheReadTokens: cached}
		}
	}
	in, out := est()
	return bedrockkit.Usage{InputTokens: in, OutputTokens: out, Estimated: true}
}

func intOf(m map[string]any, k string) (int, bool) {
	switch v := m[k].(type) {
	case int:
		return v, true
	case int32:
		return int(v), true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case float32:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// estimateInput estimates the input tokens of req with est: text of the
// system prompt, messages and tool definitions.
func estimateInput(req *bedrockkit.Request, est func(string) int) int {
	var b strings.Builder
	b.WriteString((bedrockkit.Message{Parts: req.System}).Text())
	for _, m := range req.Messages {
		for _, p := range m.Parts {
			switch p := p.(type) {
			case bedrockkit.Text:
				b.WriteString(p.Text)
			case bedrockkit.ToolCall:
				b.WriteString(p.Name)
				b.Write(p.Input)
			case bedrockkit.ToolResult:
				b.WriteString(resultText(p.Parts))
			}
		}
	}
	for _, t := range req.Tools {
		b.WriteString(t.Name)
		b.WriteString(t.Description)
		b.Write(t.InputSchema)
	}
	return est(b.String())
}

// estimateBytes is one token per started 4 bytes, the estimate
// pricing.EstimateBytes also uses.
func estimateBytes(s string) int { return (len(s) + 3) / 4 }

// ---- langchaingo -> bedrockkit (used by NewLLM) ----

// fromLCMessages converts langchaingo messages to a bedrockkit request's
// system prompt and messages. Consecutive messages of the same role (tool
// results following each other, for example) are merged, as Bedrock wants
// user and assistant turns to alternate.
func fromLCMessages(msgs []llms.MessageContent) (system []bedrockkit.Part, out []bedrockkit.Message, err error) {
	add := func(role bedrockkit.Role, parts ...bedrockkit.Part) {
		if len(parts) == 0 {
			return
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Parts = append(out[n-1].Parts, parts...)
			return
		}
		out = append(out, bedrockkit.Message{Role: role, Parts: parts})
	}
	for i, m := range msgs {
		var parts []bedrockkit.Part
		for _, p := range m.Parts {
			var cp *bedrockkit.CachePoint
			if cc, ok := p.(llms.CachedContent); ok {
				// A cached part is the part followed by a cache point.
				p, cp = cc.ContentPart, &bedrockkit.CachePoint{}
				if cc.CacheControl != nil && cc.CacheControl.Duration >= time.Hour {
					cp.TTL = bedrockkit.CacheTTL1h
				}
			}
			bp, err := fromLCPart(p)
			if err != nil {
				return nil, nil, fmt.Errorf("message %d: %w", i, err)
			}
			parts = append(parts, bp)
			if cp != nil {
				parts = append(parts, *cp)
			}
		}
		switch m.Role {
		case llms.ChatMessageTypeSystem:
			for _, p := range parts {
				if _, ok := p.(bedrockkit.CachePoint); ok {
					continue
				}
				if _, ok := p.(bedrockkit.Text); !ok {
					return nil, nil, fmt.Errorf("langchaingo: message %d: a system message may hold text only, not %T: %w", i, p, bedrockkit.ErrInvalidInput)
				}
			}
			system = append(system, parts...)
		case llms.ChatMessageTypeHuman, llms.ChatMessageTypeGeneric, llms.ChatMessageTypeTool:
			add(bedrockkit.RoleUser, parts...)
		case llms.ChatMessageTypeAI:
			add(bedrockkit.RoleAssistant, parts...)
		default:
			return nil, nil, fmt.Errorf("langchaingo: message %d has role %q; use system, human, ai or tool: %w", i, m.Role, bedrockkit.ErrUnsupported)
		}
	}
	return system, out, nil
}

func fromLCPart(p llms.ContentPart) (bedrockkit.Part, error) {
	switch p := p.(type) {
	case llms.TextContent:
		return bedrockkit.Text{Text: p.Text}, nil
	case llms.BinaryContent:
		return binaryPart(p.MIMEType, p.Data)
	case llms.ImageURLContent:
		mime, data, ok := parseDataURL(p.URL)
		if !ok {
			return nil, fmt.Errorf("langchaingo: image URL %.60q: only data: URLs can be sent; download the image and pass it with llms.BinaryPart: %w", p.URL, bedrockkit.ErrUnsupported)
		}
		return binaryPart(mime, data)
	case llms.ToolCall:
		if p.FunctionCall == nil {
			return nil, fmt.Errorf("langchaingo: tool call %q has no function: %w", p.ID, bedrockkit.ErrInvalidInput)
		}
		args := strings.TrimSpace(p.FunctionCall.Arguments)
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) {
			return nil, fmt.Errorf("langchaingo: tool call %q: arguments are not valid JSON: %w", p.FunctionCall.Name, bedrockkit.ErrInvalidInput)
		}
		return bedrockkit.ToolCall{ID: p.ID, Name: p.FunctionCall.Name, Input: json.RawMessage(args)}, nil
	case llms.ToolCallResponse:
		return bedrockkit.ToolResult{CallID: p.ToolCallID, Parts: []bedrockkit.Part{bedrockkit.Text{Text: p.Content}}}, nil
	}
	return nil, fmt.Errorf("langchaingo: content part %T: %w", p, bedrockkit.ErrUnsupported)
}

func binaryPart(mime string, data []byte) (bedrockkit.Part, error) {
	mime = strings.ToLower(strings.TrimSpace(strings.SplitN(mime, ";", 2)[0]))
	switch mime {
	case "image/png":
		return bedrockkit.Image{Format: bedrockkit.ImagePNG, Bytes: data}, nil
	case "image/jpeg", "image/jpg":
		return bedrockkit.Image{Format: bedrockkit.ImageJPEG, Bytes: data}, nil
	case "image/gif":
		return bedrockkit.Image{Format: bedrockkit.ImageGIF, Bytes: data}, nil
	case "image/webp":
		return bedrockkit.Image{Format: bedrockkit.ImageWebP, Bytes: data}, nil
	}
	for _, f := range []bedrockkit.DocumentFormat{bedrockkit.DocPDF, bedrockkit.DocCSV, bedrockkit.DocHTML, bedrockkit.DocTXT, bedrockkit.DocMD, bedrockkit.DocDOCX, bedrockkit.DocXLSX, bedrockkit.DocDOC, bedrockkit.DocXLS} {
		if docMIME(f) == mime {
			return bedrockkit.Document{Name: "document-" + string(f), Format: f, Bytes: data}, nil
		}
	}
	return nil, fmt.Errorf("langchaingo: MIME type %q; Bedrock takes png, jpeg, gif and webp images and pdf, csv, html, txt, md, doc(x) and xls(x) documents: %w", mime, bedrockkit.ErrUnsupported)
}

// parseDataURL decodes "data:<mime>;base64,<data>".
func parseDataURL(u string) (mime string, data []byte, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", nil, false
	}
	meta, payload, found := strings.Cut(rest, ",")
	if !found || !strings.HasSuffix(meta, ";base64") {
		return "", nil, false
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, false
	}
	return strings.TrimSuffix(meta, ";base64"), data, true
}

// fromLCOptions applies langchaingo call options to req. Zero-valued
// numeric options mean "not set" (langchaingo cannot tell them apart).
func fromLCOptions(o *llms.CallOptions, req *bedrockkit.Request) error {
	req.MaxTokens = o.MaxTokens
	if o.Temperature != 0 {
		t := float32(o.Temperature)
		req.Temperature = &t
	}
	if o.TopP != 0 {
		t := float32(o.TopP)
		req.TopP = &t
	}
	req.StopSequences = o.StopWords
	defs := make([]llms.FunctionDefinition, 0, len(o.Tools)+len(o.Functions))
	for _, t := range o.Tools {
		if t.Function != nil {
			defs = append(defs, *t.Function)
		}
	}
	defs = append(defs, o.Functions...)
	for _, d := range defs {
		schema := json.RawMessage(`{"type":"object","properties":{}}`)
		if d.Parameters != nil {
			b, err := json.Marshal(d.Parameters)
			if err != nil {
				return fmt.Errorf("langchaingo: tool %q: parameters do not encode as JSON: %v: %w", d.Name, err, bedrockkit.ErrInvalidInput)
			}
			schema = b
		}
		req.Tools = append(req.Tools, bedrockkit.ToolSpec{Name: d.Name, Description: d.Description, InputSchema: schema})
	}
	switch c := o.ToolChoice.(type) {
	case nil:
	case string:
		switch c {
		case "", "auto":
		case "required", "any":
			req.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceAny}
		case "none":
			req.Tools = nil // Bedrock has no "none": offer no tools.
		default:
			return fmt.Errorf("langchaingo: tool choice %q; use auto, required, none or an llms.ToolChoice naming a function: %w", c, bedrockkit.ErrInvalidInput)
		}
	case llms.ToolChoice:
		if c.Function == nil || c.Function.Name == "" {
			return fmt.Errorf("langchaingo: llms.ToolChoice without a function name: %w", bedrockkit.ErrInvalidInput)
		}
		req.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: c.Function.Name}
	case *llms.ToolChoice:
		if c == nil || c.Function == nil || c.Function.Name == "" {
			return fmt.Errorf("langchaingo: llms.ToolChoice without a function name: %w", bedrockkit.ErrInvalidInput)
		}
		req.ToolChoice = bedrockkit.ToolChoice{Kind: bedrockkit.ToolChoiceTool, Name: c.Function.Name}
	default:
		return fmt.Errorf("langchaingo: tool choice of type %T: %w", o.ToolChoice, bedrockkit.ErrUnsupported)
	}
	return nil
}

// toLCChoice converts a bedrockkit response to a langchaingo choice. Usage
// goes into GenerationInfo under both the Anthropic-style and the
// OpenAI-style keys langchaingo's providers use.
func toLCChoice(r *bedrockkit.Response) *llms.ContentChoice {
	c := &llms.ContentChoice{StopReason: string(r.StopReason)}
	var text, reasoning strings.Builder
	for _, p := range r.Message.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			text.WriteString(p.Text)
		case bedrockkit.Reasoning:
			reasoning.WriteString(p.Text)
		case bedrockkit.ToolCall:
			c.ToolCalls = append(c.ToolCalls, llms.ToolCall{ID: p.ID, Type: "function", FunctionCall: &llms.FunctionCall{Name: p.Name, Arguments: string(p.Input)}})
		}
	}
	c.Content = text.String()
	c.ReasoningContent = reasoning.String()
	if len(c.ToolCalls) > 0 {
		c.FuncCall = c.ToolCalls[0].FunctionCall
	}
	u := r.Usage
	c.GenerationInfo = map[string]any{
		"InputTokens":              u.InputTokens,
		"OutputTokens":             u.OutputTokens,
		"CacheReadInputTokens":     u.CacheReadTokens,
		"CacheCreationInputTokens": u.CacheWriteTokens,
		"PromptTokens":             u.InputTokens + u.CacheReadTokens + u.CacheWriteTokens,
		"CompletionTokens":         u.OutputTokens,
		"TotalTokens":              u.Total(),
		"UsageEstimated":           u.Estimated,
		"ThinkingContent":          c.ReasoningContent,
	}
	return c
}
