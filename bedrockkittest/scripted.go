package bedrockkittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// ErrScriptExhausted is returned (wrapped) by a ScriptedModel called more
// times than it has steps. Push more steps, or check the code under test for
// an unexpected extra model call.
var ErrScriptExhausted = errors.New("bedrockkittest: script exhausted")

// Step is one scripted answer of a ScriptedModel.
//
// Generate returns Err if it is set, else Response, else the response
// collected from Events. Stream yields Events, or events synthesised from
// Response when Events is empty, and then Err if it is set. A Response
// without a StopReason gets tool_use when it holds tool calls and end_turn
// otherwise.
type Step struct {
	Response *bedrockkit.Response
	Events   []bedrockkit.StreamEvent
	Err      error
}

// TextStep returns a Step answering with an assistant text message.
func TextStep(text string) Step {
	return Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(text)}}
}

// ToolStep returns a Step answering with an assistant message that calls the
// given tools (stop reason tool_use).
func ToolStep(calls ...bedrockkit.ToolCall) Step {
	msg := bedrockkit.Message{Role: bedrockkit.RoleAssistant}
	for _, c := range calls {
		msg.Parts = append(msg.Parts, c)
	}
	return Step{Response: &bedrockkit.Response{Message: msg}}
}

// ScriptedModel is a bedrockkit.Model that replays scripted steps in order,
// one per call, and records every request. It is safe for concurrent use;
// concurrent calls take steps in the order they reach the model.
//
// Each Generate call and each iteration of a sequence returned by Stream is
// one call. A call whose context is already done returns the context's error
// without taking a step or being recorded.
//
// A ScriptedModel is bedrockkit.OutputCapable: it answers a request with
// Output the way a model with native structured output does, so script the
// JSON text of the answer (TextStep(`{"total": 12}`)). Call
// SetSupportsOutput(false) to have bedrockkit.StructuredOutput ask it
// through the forced answer tool instead, and script a call of that tool
// (ToolStep with the schema's name).
type ScriptedModel struct {
	mu        sync.Mutex
	steps     []Step
	next      int
	reqs      []*bedrockkit.Request
	noOutputs bool
}

var (
	_ bedrockkit.Model         = (*ScriptedModel)(nil)
	_ bedrockkit.OutputCapable = (*ScriptedModel)(nil)
)

// SupportsOutput reports whether the model presents itself as honouring
// Request.Output (true unless SetSupportsOutput(false) was called).
func (m *ScriptedModel) SupportsOutput() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.noOutputs
}

// SetSupportsOutput sets what SupportsOutput reports.
func (m *ScriptedModel) SetSupportsOutput(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noOutputs = !v
}

// NewScriptedModel returns a model that answers with steps, in order.
func NewScriptedModel(steps ...Step) *ScriptedModel {
	return &ScriptedModel{steps: slices.Clone(steps)}
}

// Push appends steps to the script.
func (m *ScriptedModel) Push(steps ...Step) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps = append(m.steps, steps...)
}

// Requests returns deep copies of the requests received so far, in order.
func (m *ScriptedModel) Requests() []*bedrockkit.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*bedrockkit.Request, len(m.reqs))
	for i, r := range m.reqs {
		out[i] = CloneRequest(r)
	}
	return out
}

// Calls returns how many calls the model has received, including calls that
// found the script exhausted.
func (m *ScriptedModel) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reqs)
}

// Remaining returns how many scripted steps have not been used yet.
func (m *ScriptedModel) Remaining() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.steps) - m.next
}

// take records req and returns the next step.
func (m *ScriptedModel) take(op string, req *bedrockkit.Request) (Step, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, CloneRequest(req))
	if m.next >= len(m.steps) {
		return Step{}, fmt.Errorf("bedrockkittest: %s call %d but only %d step(s) scripted; Push more steps or check for an unexpected model call: %w", op, len(m.reqs), len(m.steps), ErrScriptExhausted)
	}
	s := m.steps[m.next]
	m.next++
	return s, nil
}

// Generate returns the next scripted answer.
func (m *ScriptedModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := m.take("Generate", req)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Err != nil:
		return nil, s.Err
	case s.Response != nil:
		return completeResponse(s.Response), nil
	case len(s.Events) > 0:
		resp, err := bedrockkit.Collect(eventSeq(s.Events))
		if err != nil {
			return nil, err
		}
		return resp, nil
	}
	return completeResponse(&bedrockkit.Response{}), nil
}

// Stream yields the next scripted answer as events. See Step for what is
// yielded. The stream stops with the context's error when ctx is done.
func (m *ScriptedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		s, err := m.take("Stream", req)
		if err != nil {
			yield(nil, err)
			return
		}
		events := s.Events
		if len(events) == 0 && (s.Response != nil || s.Err == nil) {
			r := s.Response
			if r == nil {
				r = &bedrockkit.Response{}
			}
			events = ResponseEvents(completeResponse(r), 0)
		}
		for _, ev := range events {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
		if s.Err != nil {
			yield(nil, s.Err)
		}
	}
}

// completeResponse returns a deep copy of r with the role and stop reason
// filled in when missing.
func completeResponse(r *bedrockkit.Response) *bedrockkit.Response {
	out := *r
	out.Message = cloneMessage(r.Message)
	out.AdditionalFields = slices.Clone(r.AdditionalFields)
	if out.Message.Role == "" {
		out.Message.Role = bedrockkit.RoleAssistant
	}
	if out.StopReason == "" {
		out.StopReason = defaultStopReason(out.Message)
	}
	return &out
}

func defaultStopReason(m bedrockkit.Message) bedrockkit.StopReason {
	if len(m.ToolCalls()) > 0 {
		return bedrockkit.StopToolUse
	}
	return bedrockkit.StopEndTurn
}

// ResponseEvents returns the stream events a model would send for r: for each
// part (its index is the content-block index) TextDelta chunks, ReasoningDelta
// chunks then the signature or redacted content, or a ToolCallDelta with ID
// and Name followed by input fragments and a ToolCallDone (CitedText: text
// chunks then a CitationDelta per source); then Stop and Metadata. Text is split into chunks of chunkRunes runes and tool input into
// fragments of chunkRunes bytes; chunkRunes <= 0 splits text after each run
// of white space and tool input into 8-byte fragments. Parts that models do
// not stream (images, documents, tool results, cache points) are skipped.
// bedrockkit.Collect of the events gives back r's message.
func ResponseEvents(r *bedrockkit.Response, chunkRunes int) []bedrockkit.StreamEvent {
	var evs []bedrockkit.StreamEvent
	for i, p := range r.Message.Parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			for _, c := range splitText(p.Text, chunkRunes) {
				evs = append(evs, bedrockkit.TextDelta{Index: i, Text: c})
			}
		case bedrockkit.CitedText:
			for _, c := range splitText(p.Text, chunkRunes) {
				evs = append(evs, bedrockkit.TextDelta{Index: i, Text: c})
			}
			for _, src := range p.Sources {
				evs = append(evs, bedrockkit.CitationDelta{Index: i, Source: src})
			}
		case bedrockkit.Reasoning:
			for _, c := range splitText(p.Text, chunkRunes) {
				evs = append(evs, bedrockkit.ReasoningDelta{Index: i, Text: c})
			}
			if p.Signature != "" {
				evs = append(evs, bedrockkit.ReasoningDelta{Index: i, Signature: p.Signature})
			}
			if len(p.Redacted) > 0 {
				evs = append(evs, bedrockkit.ReasoningDelta{Index: i, Redacted: slices.Clone(p.Redacted)})
			}
		case bedrockkit.ToolCall:
			evs = append(evs, bedrockkit.ToolCallDelta{Index: i, ID: p.ID, Name: p.Name})
			n := chunkRunes
			if n <= 0 {
				n = 8
			}
			for _, f := range splitBytes(string(p.Input), n) {
				evs = append(evs, bedrockkit.ToolCallDelta{Index: i, InputFragment: f})
			}
			c := p
			c.Input = slices.Clone(p.Input)
			evs = append(evs, bedrockkit.ToolCallDone{Index: i, Call: c})
		}
	}
	reason := r.StopReason
	if reason == "" {
		reason = defaultStopReason(r.Message)
	}
	evs = append(evs,
		bedrockkit.Stop{Reason: reason, AdditionalFields: slices.Clone(r.AdditionalFields)},
		bedrockkit.StreamMetadata{Usage: r.Usage, Latency: r.Latency, ServiceTier: r.ServiceTier, LatencyMode: r.LatencyMode})
	return evs
}

// splitText splits s into chunks of n runes, or after each run of white space
// when n <= 0. Concatenating the chunks gives s.
func splitText(s string, n int) []string {
	var out []string
	if n > 0 {
		for len(s) > 0 {
			i, count := 0, 0
			for i < len(s) && count < n {
				_, size := utf8.DecodeRuneInString(s[i:])
				i += size
				count++
			}
			out = append(out, s[:i])
			s = s[i:]
		}
		return out
	}
	start := 0
	inSpace := false
	for i, r := range s {
		sp := unicode.IsSpace(r)
		if inSpace && !sp {
			out = append(out, s[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// splitBytes splits s into pieces of n bytes (the last may be shorter).
func splitBytes(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// CloneRequest returns a deep copy of req (nil for nil). Extra values that
// are maps, slices, json.RawMessage or []byte are copied recursively; other
// values are copied as Go copies them.
func CloneRequest(req *bedrockkit.Request) *bedrockkit.Request {
	if req == nil {
		return nil
	}
	out := *req
	out.System = cloneParts(req.System)
	if req.Messages != nil {
		out.Messages = make([]bedrockkit.Message, len(req.Messages))
		for i, m := range req.Messages {
			out.Messages[i] = cloneMessage(m)
		}
	}
	if req.Tools != nil {
		out.Tools = make([]bedrockkit.ToolSpec, len(req.Tools))
		for i, t := range req.Tools {
			t.InputSchema = slices.Clone(t.InputSchema)
			out.Tools[i] = t
		}
	}
	if req.ToolCache != nil {
		c := *req.ToolCache
		out.ToolCache = &c
	}
	if req.Temperature != nil {
		v := *req.Temperature
		out.Temperature = &v
	}
	if req.TopP != nil {
		v := *req.TopP
		out.TopP = &v
	}
	out.StopSequences = slices.Clone(req.StopSequences)
	if req.Guardrail != nil {
		g := *req.Guardrail
		out.Guardrail = &g
	}
	if req.Extra != nil {
		out.Extra = cloneValue(req.Extra).(map[string]any)
	}
	return &out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneValue(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = cloneValue(x)
		}
		return s
	case json.RawMessage:
		return slices.Clone(v)
	case []byte:
		return slices.Clone(v)
	case map[string]string:
		return maps.Clone(v)
	case []string:
		return slices.Clone(v)
	}
	return v
}

func cloneMessage(m bedrockkit.Message) bedrockkit.Message {
	return bedrockkit.Message{Role: m.Role, Parts: cloneParts(m.Parts)}
}

func cloneParts(ps []bedrockkit.Part) []bedrockkit.Part {
	if ps == nil {
		return nil
	}
	out := make([]bedrockkit.Part, len(ps))
	for i, p := range ps {
		out[i] = clonePart(p)
	}
	return out
}

func clonePart(p bedrockkit.Part) bedrockkit.Part {
	switch p := p.(type) {
	case bedrockkit.Image:
		p.Bytes = slices.Clone(p.Bytes)
		return p
	case bedrockkit.Document:
		p.Bytes = slices.Clone(p.Bytes)
		return p
	case bedrockkit.JSON:
		p.Value = slices.Clone(p.Value)
		return p
	case bedrockkit.ToolCall:
		p.Input = slices.Clone(p.Input)
		return p
	case bedrockkit.ToolResult:
		p.Parts = cloneParts(p.Parts)
		return p
	case bedrockkit.Reasoning:
		p.Redacted = slices.Clone(p.Redacted)
		return p
	case bedrockkit.CitedText:
		p.Sources = slices.Clone(p.Sources)
		for i := range p.Sources {
			if p.Sources[i].Metadata != nil {
				p.Sources[i].Metadata = cloneValue(p.Sources[i].Metadata).(map[string]any)
			}
		}
		return p
	}
	return p
}

// eventSeq yields evs with nil errors.
func eventSeq(evs []bedrockkit.StreamEvent) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}
