package bedrockkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// DefaultMaxRepairs is how many times StructuredOutput asks the model to
// fix an invalid answer when StructuredOptions.MaxRepairs is 0.
const DefaultMaxRepairs = 2

// OutputTechnique says how StructuredOutput obtains a structured answer.
type OutputTechnique int

// Output techniques.
const (
	// OutputAuto hands Request.Output to models that are OutputCapable
	// (ConverseModel, which itself chooses between Bedrock's native
	// structured output and a forced tool) and uses the forced tool for
	// every other model.
	OutputAuto OutputTechnique = iota
	// OutputNative always hands Request.Output to the model, which must
	// honour it.
	OutputNative
	// OutputForcedTool always asks for the answer through a tool whose
	// input schema is the output schema: the tool is forced when the
	// request has no other tools and no extended thinking, and asked for
	// by an instruction otherwise (or when the model refuses a forced
	// choice with ErrUnsupported).
	OutputForcedTool
)

// StructuredOptions configures StructuredOutput and GenerateValue. The
// zero value means OutputAuto and DefaultMaxRepairs.
type StructuredOptions struct {
	// Technique selects how the answer is obtained.
	Technique OutputTechnique
	// MaxRepairs is how many times an invalid answer is sent back to the
	// model with what is wrong; 0 means DefaultMaxRepairs and a negative
	// value means none.
	MaxRepairs int
}

func (o StructuredOptions) repairs() int {
	switch {
	case o.MaxRepairs == 0:
		return DefaultMaxRepairs
	case o.MaxRepairs < 0:
		return 0
	}
	return o.MaxRepairs
}

// StructuredOutput returns middleware that makes any Model answer requests
// with Request.Output: it obtains the answer (see OutputTechnique),
// validates it against the schema and, while it is invalid, sends it back
// with the validation message — at most StructuredOptions.MaxRepairs
// times. The response's text is then the validated JSON value; an answer
// still invalid after the repairs is an *OutputError (wrapping
// ErrInvalidOutput) naming the path that failed and why. Requests without
// Output pass through unchanged.
//
// When the request also has tools, the model may call them instead of
// answering: such a response is returned as it is, for the caller (an
// agent loop) to run the tools and call again.
//
// Usage and latency of a response sum every attempt. Streams yield the
// answer's text as it comes, an OutputRetry event before each repair
// attempt, one Stop and one Metadata (usage of every attempt) at the end,
// and finally an OutputValue with the validated value.
func StructuredOutput(opts StructuredOptions) Middleware {
	return func(m Model) Model {
		if s, ok := m.(*structuredModel); ok && s.opts == opts {
			return m
		}
		return &structuredModel{next: m, opts: opts}
	}
}

type structuredModel struct {
	next Model
	opts StructuredOptions
}

// SupportsOutput reports true: the middleware honours Request.Output.
func (s *structuredModel) SupportsOutput() bool { return true }

// ModelID forwards the wrapped model's ID (see ModelIDOf): repairs call the
// same model.
func (s *structuredModel) ModelID() string { return ModelIDOf(s.next) }

func (s *structuredModel) native() bool {
	switch s.opts.Technique {
	case OutputNative:
		return true
	case OutputForcedTool:
		return false
	}
	oc, ok := s.next.(OutputCapable)
	return ok && oc.SupportsOutput()
}

// attempt is the state of one structured call across its repairs.
type attempt struct {
	req     *Request
	schema  *OutputSchema
	native  bool
	level   toolChoiceLevel
	msgs    []Message
	n       int
	usage   Usage
	latency time.Duration
}

func (s *structuredModel) start(req *Request) *attempt {
	return &attempt{req: req, schema: req.Output, native: s.native(), level: chooseTool, msgs: append([]Message(nil), req.Messages...), n: 1}
}

// request builds the request of the current attempt.
func (a *attempt) request() (*Request, error) {
	cur := *a.req
	cur.Messages = a.msgs
	if a.native {
		return &cur, nil
	}
	return outputToolRequest(&cur, a.level, false)
}

// downgrade reports whether a refused forced tool choice can be retried
// with an instruction instead.
func (a *attempt) downgrade(err error) bool {
	if a.native || a.level == chooseAuto || !errors.Is(err, ErrUnsupported) {
		return false
	}
	a.level = chooseAuto
	return true
}

// judge looks at the raw response of an attempt. It returns the final
// response (the validated answer, or calls of the caller's tools), or the
// *OutputError of an invalid answer.
func (a *attempt) judge(raw *Response) (*Response, error) {
	a.usage = a.usage.Add(raw.Usage)
	a.latency += raw.Latency
	resp, called := raw, false
	if !a.native {
		resp, called = answerFromToolCall(raw, a.schema)
	}
	if !called && len(resp.Message.ToolCalls()) > 0 {
		out := *resp
		out.Usage, out.Latency = a.usage, a.latency
		return &out, nil
	}
	value := answerText(resp.Message)
	if !a.native && !called {
		value = a.schema.fromWire(value)
	}
	if err := a.schema.check(value, a.n); err != nil {
		oe := err.(*OutputError)
		oe.Usage = a.usage
		return nil, oe
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, value)
	out := *resp
	var parts []Part
	for _, p := range resp.Message.Parts {
		switch p.(type) {
		case Text, CitedText, ToolCall:
		default:
			parts = append(parts, p)
		}
	}
	out.Message = Message{Role: RoleAssistant, Parts: append(parts, Text{Text: buf.String()})}
	if out.StopReason == StopToolUse || out.StopReason == "" {
		out.StopReason = StopEndTurn
	}
	out.Usage, out.Latency = a.usage, a.latency
	return &out, nil
}

// repair appends the invalid answer and the request to fix it.
func (a *attempt) repair(raw *Response, oe *OutputError) {
	a.n++
	assistant := Message{Role: RoleAssistant}
	for _, p := range raw.Message.Parts {
		if t, ok := p.(Text); ok && t.Text == "" {
			continue // Bedrock refuses blank text blocks
		}
		assistant.Parts = append(assistant.Parts, p)
	}
	calls := assistant.ToolCalls()
	if len(assistant.Parts) == 0 {
		assistant.Parts = []Part{Text{Text: "(empty answer)"}}
	}
	user := Message{Role: RoleUser}
	if len(calls) > 0 {
		// Every call needs a result in the next turn.
		for _, c := range calls {
			msg := "Not run: the answer was given in the same turn."
			if c.Name == a.schema.name {
				msg = fmt.Sprintf("The input does not match the schema: %s. Call %s again with a corrected input.", oe.Details(), a.schema.name)
			}
			user.Parts = append(user.Parts, ToolResult{CallID: c.ID, IsError: true, Parts: []Part{Text{Text: msg}}})
		}
	} else {
		user.Parts = []Part{Text{Text: fmt.Sprintf("Your answer does not match the required JSON schema %q: %s. Reply again with only the corrected JSON value.", a.schema.name, oe.Details())}}
	}
	a.msgs = appendTurn(appendTurn(a.msgs, assistant), user)
}

// appendTurn appends m, merging it into the last message when both have
// the same role (roles must alternate).
func appendTurn(msgs []Message, m Message) []Message {
	if n := len(msgs); n > 0 && msgs[n-1].Role == m.Role {
		last := msgs[n-1]
		msgs = append(msgs[:n-1:n-1], Message{Role: m.Role, Parts: append(append([]Part(nil), last.Parts...), m.Parts...)})
		return msgs
	}
	return append(msgs, m)
}

// Generate obtains, validates and if needed repairs the structured answer.
func (s *structuredModel) Generate(ctx context.Context, req *Request) (*Response, error) {
	if req == nil || req.Output == nil {
		return s.next.Generate(ctx, req)
	}
	a := s.start(req)
	for {
		callReq, err := a.request()
		if err != nil {
			return nil, err
		}
		raw, err := s.next.Generate(ctx, callReq)
		if err != nil {
			if a.downgrade(err) {
				continue
			}
			return nil, err
		}
		resp, err := a.judge(raw)
		if err == nil {
			return resp, nil
		}
		oe := err.(*OutputError)
		if a.n > s.opts.repairs() {
			return nil, oe
		}
		a.repair(raw, oe)
	}
}

// Stream obtains the structured answer as a stream; see StructuredOutput.
func (s *structuredModel) Stream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	if req == nil || req.Output == nil {
		return s.next.Stream(ctx, req)
	}
	return func(yield func(StreamEvent, error) bool) {
		a := s.start(req)
		var last StreamMetadata
		finish := func() bool {
			last.Usage, last.Latency = a.usage, a.latency
			return yield(last, nil)
		}
		for {
			callReq, err := a.request()
			if err != nil {
				yield(nil, err)
				return
			}
			st := s.streamAttempt(ctx, a, callReq, &last, yield)
			if st.aborted {
				return
			}
			if st.err != nil {
				if !st.yielded && a.downgrade(st.err) {
					continue
				}
				a.usage = a.usage.Add(st.resp.Usage)
				if finish() {
					yield(nil, st.err)
				}
				return
			}
			resp, err := a.judge(st.resp)
			if err == nil {
				stop := Stop{Reason: resp.StopReason}
				if st.stop != nil {
					stop.AdditionalFields = st.stop.AdditionalFields
				}
				if yield(stop, nil) && finish() && len(resp.Message.ToolCalls()) == 0 {
					yield(OutputValue{Value: answerText(resp.Message)}, nil)
				}
				return
			}
			oe := err.(*OutputError)
			if a.n > s.opts.repairs() {
				if finish() {
					yield(nil, oe)
				}
				return
			}
			if !yield(OutputRetry{Attempt: a.n, Err: oe}, nil) {
				return
			}
			a.repair(st.resp, oe)
		}
	}
}

// streamedAttempt is what one attempt of a structured stream produced.
type streamedAttempt struct {
	resp    *Response // the attempt's events, collected
	stop    *Stop     // its Stop event, held back until the answer is judged
	yielded bool      // an event was passed on
	err     error     // the stream's failure
	aborted bool      // the consumer stopped reading
}

// streamAttempt streams one attempt, passing on the answer's events as they
// come but holding back Stop and Metadata (whose tier and latency it
// records in last): those are sent once, when the answer is judged.
func (s *structuredModel) streamAttempt(ctx context.Context, a *attempt, req *Request, last *StreamMetadata, yield func(StreamEvent, error) bool) streamedAttempt {
	conv := newAnswerStream(a.schema, !a.native)
	var st streamedAttempt
	var raw []StreamEvent
	for ev, err := range s.next.Stream(ctx, req) {
		if err != nil {
			st.err = err
			break
		}
		if _, ok := ev.(OutputValue); ok {
			continue // an inner StructuredOutput's value; this one validates again
		}
		raw = append(raw, ev)
		for _, out := range conv.convert(ev) {
			switch e := out.(type) {
			case Stop:
				st.stop = &e
				continue
			case StreamMetadata:
				last.ServiceTier, last.LatencyMode = e.ServiceTier, e.LatencyMode
				continue
			}
			st.yielded = true
			if !yield(out, nil) {
				st.aborted = true
				return st
			}
		}
	}
	resp, err := Collect(eventSeq(raw))
	st.resp = resp
	if st.err == nil {
		st.err = err
	}
	return st
}

// eventSeq yields evs with nil errors.
func eventSeq(evs []StreamEvent) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// answerStream converts the events of a forced-tool answer into the events
// of a text answer: the answer tool's input fragments become text deltas
// (for a schema wrapped under "value", the unwrapped value arrives in one
// delta when the call is done), its ToolCallDone is dropped, and the
// tool_use stop reason becomes end_turn. The events of other tool calls are
// held until Stop: when the answer tool was called in the same message they
// are dropped (the answer ends the turn, as Generate does), otherwise they
// are released just before Stop. Other events pass unchanged.
type answerStream struct {
	schema  *OutputSchema
	enabled bool
	index   int
	active  bool
	called  bool
	// otherCalls holds the deltas and completions of other tool calls
	// until Stop says whether the answer tool was called too.
	otherCalls []StreamEvent
	// wrappedText is set for a native answer to a wrapped schema: text is
	// held back and its unwrapped value sent before Stop.
	wrappedText bool
	held        bytes.Buffer
	heldIndex   int
}

func newAnswerStream(s *OutputSchema, enabled bool) *answerStream {
	return &answerStream{schema: s, enabled: enabled, index: -1}
}

// newWrappedTextStream holds back the text of a native answer to a schema
// wrapped under "value" and sends the unwrapped value in one delta before
// Stop.
func newWrappedTextStream(s *OutputSchema) *answerStream {
	return &answerStream{schema: s, wrappedText: true, index: -1, heldIndex: -1}
}

// flush returns the held-back text, if any (for a stream that fails).
func (c *answerStream) flush() []StreamEvent {
	if !c.wrappedText || c.heldIndex < 0 {
		return nil
	}
	i := c.heldIndex
	c.heldIndex = -1
	return []StreamEvent{TextDelta{Index: i, Text: c.held.String()}}
}

func (c *answerStream) convert(ev StreamEvent) []StreamEvent {
	if c.wrappedText {
		switch e := ev.(type) {
		case TextDelta:
			if c.heldIndex < 0 {
				c.heldIndex = e.Index
			}
			c.held.WriteString(e.Text)
			return nil
		case Stop:
			if c.heldIndex < 0 {
				return []StreamEvent{ev}
			}
			i := c.heldIndex
			c.heldIndex = -1
			return []StreamEvent{TextDelta{Index: i, Text: string(c.schema.fromWire(c.held.Bytes()))}, ev}
		}
		return []StreamEvent{ev}
	}
	if !c.enabled {
		return []StreamEvent{ev}
	}
	switch e := ev.(type) {
	case ToolCallDelta:
		if e.Name == c.schema.name && e.ID != "" {
			c.index, c.active, c.called = e.Index, true, true
			return nil
		}
		if c.active && e.Index == c.index {
			if c.schema.wrapped || e.InputFragment == "" {
				return nil
			}
			return []StreamEvent{TextDelta{Index: e.Index, Text: e.InputFragment}}
		}
		c.otherCalls = append(c.otherCalls, ev)
		return nil
	case ToolCallDone:
		if c.active && e.Index == c.index {
			c.active = false
			if c.schema.wrapped {
				return []StreamEvent{TextDelta{Index: e.Index, Text: string(c.schema.fromWire(e.Call.Input))}}
			}
			return nil
		}
		if e.Call.Name != c.schema.name {
			c.otherCalls = append(c.otherCalls, ev)
			return nil
		}
	case Stop:
		held := c.otherCalls
		c.otherCalls = nil
		if c.called {
			if e.Reason == StopToolUse {
				e.Reason = StopEndTurn
			}
			return []StreamEvent{e}
		}
		return append(held, ev)
	}
	return []StreamEvent{ev}
}

// GenerateValue asks m for a value of type T and decodes the validated
// answer into it. The schema is req.Output, or derived from T (see
// OutputSchemaFor) when req.Output is nil; req itself is not modified. m is
// wrapped in StructuredOutput(opts) unless it already is, so the answer is
// validated and repaired as that middleware does.
//
// The error is an *OutputError (wrapping ErrInvalidOutput) when the answer
// stays invalid or does not decode into T; an error wrapping
// ErrUnsupported when the model calls the request's tools instead of
// answering (run tools with an agent); or the model's own error. The
// response is returned whenever the model answered.
func GenerateValue[T any](ctx context.Context, m Model, req *Request, opts StructuredOptions) (T, *Response, error) {
	var zero T
	if req == nil {
		return zero, nil, invalid("GenerateValue: request is nil")
	}
	r := *req
	if r.Output == nil {
		s, err := OutputSchemaFor[T]("")
		if err != nil {
			return zero, nil, err
		}
		r.Output = s
	}
	resp, err := StructuredOutput(opts)(m).Generate(ctx, &r)
	if err != nil {
		return zero, nil, err
	}
	if calls := resp.Message.ToolCalls(); len(calls) > 0 {
		return zero, resp, fmt.Errorf("bedrockkit: GenerateValue: the model called tool %q instead of answering; GenerateValue does not run tools (use an agent, or remove Request.Tools): %w", calls[0].Name, ErrUnsupported)
	}
	v, err := decodeOutput[T](resp, r.Output.name)
	return v, resp, err
}

// DecodeOutput decodes the text of a response to a request with
// Request.Output into a T. It does not validate against the schema (the
// StructuredOutput middleware does); a text that does not decode into T is
// an *OutputError.
func DecodeOutput[T any](resp *Response) (T, error) {
	return decodeOutput[T](resp, "")
}

func decodeOutput[T any](resp *Response, name string) (T, error) {
	var v T
	if resp == nil {
		return v, invalid("DecodeOutput: response is nil")
	}
	text := answerText(resp.Message)
	if err := json.Unmarshal(text, &v); err != nil {
		return v, &OutputError{Schema: name, Attempts: 1, Reason: fmt.Sprintf("the answer does not decode into %T: %v", v, err), Text: string(text), Usage: resp.Usage}
	}
	return v, nil
}
