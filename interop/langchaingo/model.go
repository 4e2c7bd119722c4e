package langchaingo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/bedrockkit/bedrockkit"
)

// Options configure FromLLM. The zero value is ready to use.
type Options struct {
	// CallOptions are passed on every call, before the options derived from
	// the request (for example llms.WithModel("gpt-4o-mini") or
	// llms.WithSeed(1)).
	CallOptions []llms.CallOption
	// Estimate counts the tokens of a text when the provider reports no
	// usage; the Usage is then marked Estimated. Nil means one token per
	// started 4 bytes.
	Estimate func(text string) int
	// CacheControl sends CachePoint parts as llms.CachedContent wrapping
	// the part before them (text or an image of a user message; the whole
	// system prompt for a cache point in System), with Type "ephemeral"
	// and the TTL as Duration. Set it only for providers that read
	// llms.CachedContent: in langchaingo v0.1.14 that is the Anthropic
	// provider (which honours it on user messages and ignores it on the
	// system prompt); others, such as OpenAI's, reject the unknown part.
	// Without it cache points are dropped.
	CacheControl bool
	// Strict fails a request holding something langchaingo v0.1.14 cannot
	// express (see FromLLM) with an error wrapping bedrockkit.ErrUnsupported,
	// instead of dropping it.
	Strict bool
}

// FromLLM returns a bedrockkit.Model that calls llm. It is safe for
// concurrent use when llm is.
//
// The request maps as follows: System text becomes a system message; user
// and assistant messages keep their text, images (bytes only), documents and
// tool calls; each ToolResult becomes a langchaingo "tool" message; Tools
// become llms.Tool function definitions and ToolChoice Any / Tool become
// "required" / an llms.ToolChoice naming the function; MaxTokens,
// Temperature, TopP and StopSequences become the matching call options.
//
// Request.Extra (Bedrock's additionalModelRequestFields) is read for what
// langchaingo has options for: "thinking" ({"type":"enabled",
// "budget_tokens":N} or {"type":"disabled"}, Claude's form),
// "reasoning_effort" ("low"/"medium"/"high") and "reasoningConfig" (Nova's
// {"type":"enabled","maxReasoningEffort":...}) become llms.WithThinking
// with that budget or mode and ReturnThinking set; an "anthropic_beta" list
// naming interleaved thinking sets InterleaveThinking; "top_k" becomes
// llms.WithTopK. A malformed value of these keys fails with
// bedrockkit.ErrInvalidInput. CachePoint parts become llms.CachedContent
// when Options.CacheControl is set.
//
// langchaingo v0.1.14 cannot express the rest, which is dropped, or fails
// the call with bedrockkit.ErrUnsupported when Options.Strict is set:
// Reasoning parts in messages (there is no content part for reasoning or
// its signature, so Claude's extended thinking cannot continue a tool-use
// turn through langchaingo), Request.Guardrail, ToolCache, other Extra
// keys, and cache points without Options.CacheControl or where
// CachedContent cannot go (after a tool call or result, in an assistant
// message).
//
// The answer becomes the Response. Several choices are taken as the content
// blocks of one answer (langchaingo's Anthropic provider returns one per
// block) and merged in order: ReasoningContent (or a thinking block's
// ThinkingContent and ThinkingSignature) as a Reasoning part, Content as
// Text, ToolCalls as ToolCall parts (arguments
// that are not valid JSON fail the call with an error wrapping
// bedrockkit.ErrModelError). Finish reasons map to StopReason ("length" ->
// max_tokens, "tool_calls" -> tool_use, "content_filter" ->
// content_filtered, ...). Usage is read from GenerationInfo (Anthropic-,
// OpenAI-, Gemini- and Ollama-style keys); when absent it is estimated.
//
// Provider errors come back as *Error, which wraps the matching bedrockkit
// sentinel (ErrThrottled for a 429, ErrServiceUnavailable for a 503, ...),
// so bedrockkit.RetryPolicy.Middleware retries them; context errors are
// returned as they are.
//
// Stream passes llms.WithStreamingFunc and yields each chunk as a
// TextDelta, and llms.WithStreamingReasoningFunc, whose reasoning chunks
// (OpenAI-compatible reasoning_content, Anthropic thinking) it yields as
// ReasoningDelta events as they arrive; the signature of Anthropic
// thinking, known only at the end, follows in a last ReasoningDelta. langchaingo hands tool-call fragments to the same callback as
// text, so from the first chunk that looks like a tool-call fragment (a
// JSON array of tool calls, or a function-call object) the text is held
// back; when the call returns, whatever part of the final text was not yet
// yielded is yielded, then each tool call (ToolCallDelta and ToolCallDone),
// Stop and Metadata. Providers that do not stream yield the whole text at
// the end. Breaking out of the loop cancels the provider's call.
func FromLLM(llm llms.Model, opts Options) bedrockkit.Model {
	m := &lcModel{llm: llm, est: estimateBytes}
	m.cfg = toLCConfig{cache: opts.CacheControl, strict: opts.Strict}
	m.opts = opts.CallOptions
	if opts.Estimate != nil {
		m.est = opts.Estimate
	}
	return m
}

type lcModel struct {
	llm  llms.Model
	opts []llms.CallOption
	est  func(string) int
	cfg  toLCConfig
}

func (m *lcModel) prepare(req *bedrockkit.Request) ([]llms.MessageContent, []llms.CallOption, error) {
	if req == nil {
		return nil, nil, fmt.Errorf("langchaingo: nil request: %w", bedrockkit.ErrInvalidInput)
	}
	msgs, err := toLCMessages(req, m.cfg)
	if err != nil {
		return nil, nil, err
	}
	callOpts, err := toLCOptions(req, m.cfg)
	if err != nil {
		return nil, nil, err
	}
	return msgs, append(append([]llms.CallOption(nil), m.opts...), callOpts...), nil
}

func (m *lcModel) call(ctx context.Context, req *bedrockkit.Request, msgs []llms.MessageContent, opts []llms.CallOption) (*bedrockkit.Response, error) {
	start := time.Now()
	out, err := m.llm.GenerateContent(ctx, msgs, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classify(err)
	}
	if out == nil || len(out.Choices) == 0 {
		return nil, fmt.Errorf("langchaingo: the langchaingo model returned no choices: %w", bedrockkit.ErrModelError)
	}
	resp, err := fromLCResponse(out.Choices, m.est, req)
	if err != nil {
		return nil, err
	}
	resp.Latency = time.Since(start)
	return resp, nil
}

// Generate calls the langchaingo model once.
func (m *lcModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	msgs, opts, err := m.prepare(req)
	if err != nil {
		return nil, err
	}
	return m.call(ctx, req, msgs, opts)
}

var errStopped = errors.New("langchaingo: stream consumer stopped")

// Stream calls the langchaingo model with a streaming callback.
func (m *lcModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		msgs, opts, err := m.prepare(req)
		if err != nil {
			yield(nil, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := &lcStreamer{yield: yield, cancel: cancel}
		resp, err := m.call(ctx, req, msgs, append(opts, llms.WithStreamingFunc(s.text), llms.WithStreamingReasoningFunc(s.reason)))
		if s.stopped {
			return
		}
		if err != nil {
			if s.sent.Len() > 0 {
				err = &bedrockkit.StreamError{Partial: true, Text: s.sent.String(), Err: err}
			}
			yield(nil, err)
			return
		}
		for _, ev := range finalEvents(resp, s.sent.String(), s.thought.String()) {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

const textBlock = 1 // reasoning is block 0, text 1, tool calls 2...

// lcStreamer yields langchaingo's streaming callbacks as stream events.
type lcStreamer struct {
	yield   func(bedrockkit.StreamEvent, error) bool
	cancel  context.CancelFunc
	sent    strings.Builder // text yielded so far
	thought strings.Builder // reasoning yielded so far
	holding bool            // a tool-call-looking chunk was seen: buffer from here
	stopped bool
}

// reason is the streaming reasoning func. The text chunk (second
// argument) also goes to the streaming func, which handles it.
func (s *lcStreamer) reason(_ context.Context, chunk, _ []byte) error {
	if s.stopped {
		return errStopped
	}
	if len(chunk) == 0 {
		return nil
	}
	s.thought.Write(chunk)
	if !s.yield(bedrockkit.ReasoningDelta{Index: 0, Text: string(chunk)}, nil) {
		s.stopped = true
		s.cancel()
		return errStopped
	}
	return nil
}

// text is the streaming func; from the first chunk that looks like a tool
// call on, text is held back for the final response.
func (s *lcStreamer) text(_ context.Context, chunk []byte) error {
	if s.stopped {
		return errStopped
	}
	if len(chunk) == 0 || s.holding {
		return nil
	}
	if looksLikeToolFragment(chunk) {
		s.holding = true
		return nil
	}
	s.sent.Write(chunk)
	if !s.yield(bedrockkit.TextDelta{Index: textBlock, Text: string(chunk)}, nil) {
		s.stopped = true
		s.cancel()
		return errStopped
	}
	return nil
}

// finalEvents are the events of resp not streamed yet (given the text
// sent and the reasoning thought so far): the rest of the reasoning and
// text, the tool calls, the stop and the metadata.
func finalEvents(resp *bedrockkit.Response, sent, thought string) []bedrockkit.StreamEvent {
	var events []bedrockkit.StreamEvent
	if rest, ok := strings.CutPrefix(resp.Message.Text(), sent); ok && rest != "" {
		events = append(events, bedrockkit.TextDelta{Index: textBlock, Text: rest})
	}
	var reasoning, signature string
	for _, p := range resp.Message.Parts {
		if r, ok := p.(bedrockkit.Reasoning); ok {
			reasoning += r.Text
			if r.Signature != "" {
				signature = r.Signature
			}
		}
	}
	rest, ok := strings.CutPrefix(reasoning, thought)
	if !ok { // the provider's final reasoning differs from what it streamed
		rest = ""
	}
	if rest != "" || signature != "" {
		events = append([]bedrockkit.StreamEvent{bedrockkit.ReasoningDelta{Index: 0, Text: rest, Signature: signature}}, events...)
	}
	block := textBlock + 1
	for _, p := range resp.Message.Parts {
		switch p := p.(type) {
		case bedrockkit.ToolCall:
			events = append(events,
				bedrockkit.ToolCallDelta{Index: block, ID: p.ID, Name: p.Name},
				bedrockkit.ToolCallDelta{Index: block, InputFragment: string(p.Input)},
				bedrockkit.ToolCallDone{Index: block, Call: p})
			block++
		}
	}
	return append(events, bedrockkit.Stop{Reason: resp.StopReason}, bedrockkit.StreamMetadata{Usage: resp.Usage, Latency: resp.Latency})
}

// looksLikeToolFragment reports whether a streamed chunk is a tool-call
// fragment rather than text: a JSON array of objects with a "function" or
// "id" key (OpenAI-style tool-call deltas) or an object holding exactly
// "name" and "arguments" (a legacy function call).
func looksLikeToolFragment(chunk []byte) bool {
	b := bytes.TrimSpace(chunk)
	if len(b) < 2 {
		return false
	}
	switch b[0] {
	case '[':
		var arr []map[string]json.RawMessage
		if json.Unmarshal(b, &arr) != nil || len(arr) == 0 {
			return false
		}
		for _, o := range arr {
			_, f := o["function"]
			_, id := o["id"]
			if !f && !id {
				return false
			}
		}
		return true
	case '{':
		var o map[string]json.RawMessage
		if json.Unmarshal(b, &o) != nil || len(o) != 2 {
			return false
		}
		_, n := o["name"]
		_, a := o["arguments"]
		return n && a
	}
	return false
}
