package langchaingo

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/llms"

	"github.com/bedrockkit/bedrockkit"
)

// LLM is a bedrockkit.Model seen as a langchaingo llms.Model, so langchaingo
// chains, agents and tools can run on Bedrock (or on any bedrockkit model and
// middleware stack). Create it with NewLLM. It is safe for concurrent use
// when the model is.
type LLM struct {
	model bedrockkit.Model
	base  bedrockkit.Request
}

var _ llms.Model = (*LLM)(nil)

// NewLLM returns model as a langchaingo llms.Model. base, if not nil, is a
// template for every request: its System parts come before the
// conversation's system messages (use it for a cached system prompt ending
// in a CachePoint), and its Guardrail, ToolCache and Extra are kept; its
// other fields are defaults the call options override.
func NewLLM(model bedrockkit.Model, base *bedrockkit.Request) *LLM {
	l := &LLM{model: model}
	if base != nil {
		l.base = *base
	}
	return l
}

// GenerateContent converts messages and options to a bedrockkit.Request and
// calls the model. System messages become the system prompt; human, generic
// and tool messages become user turns (consecutive ones merged); ai messages
// become assistant turns; TextContent, BinaryContent and data: image URLs,
// ToolCall and ToolCallResponse parts are converted. Tools and Functions
// become tool definitions; ToolChoice "required" / "none" / an
// llms.ToolChoice map to Any / no tools / Tool. An llms.CachedContent part
// becomes its part followed by a CachePoint (TTL 1h when its Duration is an
// hour or more). Zero MaxTokens,
// Temperature and TopP mean the model's defaults. With a StreamingFunc (or
// StreamingReasoningFunc) the model's Stream is used and text (and
// reasoning) deltas are passed on as they arrive.
//
// The single returned choice holds the text, the reasoning
// (ReasoningContent), the tool calls (ToolCalls and FuncCall), the stop
// reason (bedrockkit's, such as "end_turn" or "tool_use") and the usage in
// GenerationInfo under InputTokens, OutputTokens, CacheReadInputTokens,
// CacheCreationInputTokens, PromptTokens, CompletionTokens and TotalTokens.
func (l *LLM) GenerateContent(ctx context.Context, messages []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	var o llms.CallOptions
	for _, opt := range options {
		opt(&o)
	}
	req := l.base
	req.System = append([]bedrockkit.Part(nil), l.base.System...)
	system, msgs, err := fromLCMessages(messages)
	if err != nil {
		return nil, err
	}
	req.System = append(req.System, system...)
	req.Messages = append(append([]bedrockkit.Message(nil), l.base.Messages...), msgs...)
	req.Tools = append([]bedrockkit.ToolSpec(nil), l.base.Tools...)
	base := req
	if err := fromLCOptions(&o, &req); err != nil {
		return nil, err
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = base.MaxTokens
	}
	if req.Temperature == nil {
		req.Temperature = base.Temperature
	}
	if req.TopP == nil {
		req.TopP = base.TopP
	}
	if req.StopSequences == nil {
		req.StopSequences = base.StopSequences
	}
	var resp *bedrockkit.Response
	if o.StreamingFunc == nil && o.StreamingReasoningFunc == nil {
		resp, err = l.model.Generate(ctx, &req)
	} else {
		resp, err = bedrockkit.Collect(forward(ctx, l.model.Stream(ctx, &req), &o))
	}
	if err != nil {
		return nil, err
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{toLCChoice(resp)}}, nil
}

// forward passes text and reasoning deltas to the langchaingo callbacks; a
// callback error ends the stream with that error.
func forward(ctx context.Context, s func(func(bedrockkit.StreamEvent, error) bool), o *llms.CallOptions) func(func(bedrockkit.StreamEvent, error) bool) {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range s {
			if err == nil {
				var cbErr error
				switch e := ev.(type) {
				case bedrockkit.TextDelta:
					if o.StreamingFunc != nil {
						cbErr = o.StreamingFunc(ctx, []byte(e.Text))
					}
					if cbErr == nil && o.StreamingReasoningFunc != nil {
						cbErr = o.StreamingReasoningFunc(ctx, nil, []byte(e.Text))
					}
				case bedrockkit.ReasoningDelta:
					if o.StreamingReasoningFunc != nil && e.Text != "" {
						cbErr = o.StreamingReasoningFunc(ctx, []byte(e.Text), nil)
					}
				}
				if cbErr != nil {
					yield(nil, fmt.Errorf("langchaingo: streaming callback: %w", cbErr))
					return
				}
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

// Call answers a single prompt with the model's text.
//
// Deprecated: langchaingo deprecates Call; use GenerateContent (or
// llms.GenerateFromSinglePrompt).
func (l *LLM) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, l, prompt, options...)
}
