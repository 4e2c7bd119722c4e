package bedrockkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/bedrockkit/bedrockkit/internal/jsonschema"
)

// ErrInvalidOutput is wrapped by an *OutputError: the model's structured
// answer did not match the requested schema, even after the repairs.
var ErrInvalidOutput = errors.New("bedrockkit: the model's answer does not match the requested schema")

// DefaultOutputName names an OutputSchema whose name is not given or cannot
// be derived from a Go type.
const DefaultOutputName = "structured_output"

// OutputSchema is a request for a JSON value matching a JSON Schema (draft
// 2020-12), set as Request.Output. Build one with NewOutputSchema or
// OutputSchemaFor. It is immutable and safe for concurrent use.
//
// The name is sent to the model (as the schema's name, or as the name of
// the tool that carries the answer), so it must be 1-64 letters, digits,
// '_' or '-'. A schema whose top level is not an object is sent wrapped in
// an object {"value": ...} (tools need an object, and so do some models'
// native structured output); the response carries the unwrapped value.
type OutputSchema struct {
	name        string
	description string
	schema      *jsonschema.Schema
	// wrapped is set when the top level is not an object: the wire schema
	// is {"type":"object","properties":{"value": schema},...}.
	wrapped bool
	wire    json.RawMessage
}

// NewOutputSchema compiles schema as the requested shape of an answer.
// name may be empty (DefaultOutputName). The error wraps ErrInvalidInput
// and says what is wrong: a bad name, a schema that is not JSON, does not
// compile, or refers to another document.
func NewOutputSchema(name, description string, schema json.RawMessage) (*OutputSchema, error) {
	if name == "" {
		name = DefaultOutputName
	}
	if !validToolName(name) {
		return nil, invalid("output schema name %q must be 1-64 letters, digits, '_' or '-'", name)
	}
	s, err := jsonschema.Compile(schema)
	if err != nil {
		return nil, invalid("output schema %q: %v", name, err)
	}
	out := &OutputSchema{name: name, description: description, schema: s}
	var top map[string]json.RawMessage
	isObject := false
	if json.Unmarshal(s.JSON(), &top) == nil {
		var typ string
		isObject = json.Unmarshal(top["type"], &typ) == nil && typ == "object"
	}
	if isObject {
		out.wire = s.JSON()
	} else {
		out.wrapped = true
		out.wire, _ = json.Marshal(map[string]any{
			"type":                 "object",
			"properties":           map[string]json.RawMessage{"value": s.JSON()},
			"required":             []string{"value"},
			"additionalProperties": false,
		})
	}
	return out, nil
}

// OutputSchemaFor derives the schema of T with the rules agent tools use
// (see agent.SchemaFor: json tags, `description` and `jsonschema` tags)
// and names it after T (DefaultOutputName for unnamed or generic types).
// The error wraps ErrInvalidInput for types JSON cannot express (channels,
// functions, recursive types).
func OutputSchemaFor[T any](description string) (*OutputSchema, error) {
	t := reflect.TypeFor[T]()
	raw, err := jsonschema.DeriveJSON(t)
	if err != nil {
		return nil, invalid("output type %s: %v", t, err)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.Name()
	if !validToolName(name) {
		name = DefaultOutputName
	}
	return NewOutputSchema(name, description, raw)
}

// Name returns the schema's name.
func (s *OutputSchema) Name() string { return s.name }

// Description returns the schema's description.
func (s *OutputSchema) Description() string { return s.description }

// JSON returns a copy of the schema, compacted.
func (s *OutputSchema) JSON() json.RawMessage { return bytes.Clone(s.schema.JSON()) }

// WireJSON returns a copy of the schema as sent to the model: JSON, or, for
// a schema whose top level is not an object, the object that wraps it
// under "value".
func (s *OutputSchema) WireJSON() json.RawMessage { return bytes.Clone(s.wire) }

// Validate checks value against the schema. It returns nil or an
// *OutputError (wrapping ErrInvalidOutput) listing each violation with its
// JSON Pointer path.
func (s *OutputSchema) Validate(value json.RawMessage) error {
	if s == nil || s.schema == nil {
		return invalid("OutputSchema is nil or zero; build one with NewOutputSchema or OutputSchemaFor")
	}
	return s.check(value, 1)
}

func (s *OutputSchema) check(value json.RawMessage, attempts int) error {
	if len(bytes.TrimSpace(value)) == 0 {
		return &OutputError{Schema: s.name, Attempts: attempts, Text: string(value), Reason: "the answer is empty; it must be a JSON value"}
	}
	err := s.schema.Validate(value)
	if err == nil {
		return nil
	}
	oe := &OutputError{Schema: s.name, Attempts: attempts, Text: string(value)}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		if ve.NotJSON != nil {
			oe.Reason = "the answer is not valid JSON: " + ve.NotJSON.Error()
		}
		for _, v := range ve.Violations {
			oe.Violations = append(oe.Violations, OutputViolation{Path: v.Path, Message: v.Message})
		}
	} else {
		oe.Reason = err.Error()
	}
	return oe
}

// fromWire turns the value the model produced for the wire schema into the
// value of the schema: unwraps "value" for wrapped schemas. A value that
// cannot be unwrapped is returned as is, for validation to report.
func (s *OutputSchema) fromWire(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if !s.wrapped {
		return raw
	}
	var w struct {
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal(raw, &w) != nil || len(w.Value) == 0 {
		return raw
	}
	return w.Value
}

// OutputViolation is one way an answer breaks its schema.
type OutputViolation struct {
	// Path is the JSON Pointer of the offending value: "" for the whole
	// answer, "/items/0/price" for a nested one.
	Path string
	// Message says what is wrong, such as "minimum: got -1, want 0".
	Message string
}

// OutputError is a structured answer that does not match its schema. It
// wraps ErrInvalidOutput.
type OutputError struct {
	// Schema is the OutputSchema's name.
	Schema string
	// Attempts is how many answers the model gave (1 + repairs).
	Attempts int
	// Reason is set when the answer is not JSON at all (or is empty).
	Reason string
	// Violations lists the broken constraints of the last answer.
	Violations []OutputViolation
	// Text is the last answer, as the model gave it.
	Text string
	// Usage is the tokens of all the answers, for accounting.
	Usage Usage
}

// Path returns the JSON Pointer of the first violation ("" when the answer
// as a whole is wrong).
func (e *OutputError) Path() string {
	if len(e.Violations) > 0 {
		return e.Violations[0].Path
	}
	return ""
}

// Error says which schema, after how many answers, and what is wrong where.
func (e *OutputError) Error() string {
	msg := fmt.Sprintf("bedrockkit: the answer does not match output schema %q", e.Schema)
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return msg + ": " + e.Details() + "; check the schema and the prompt, or allow more repairs (StructuredOptions.MaxRepairs)"
}

// Details lists what is wrong, "at '/path': message" separated by "; ", in
// words a model can act on; it is what a repair request shows the model.
func (e *OutputError) Details() string {
	parts := []string{}
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	for _, v := range e.Violations {
		parts = append(parts, fmt.Sprintf("at '%s': %s", v.Path, v.Message))
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns ErrInvalidOutput.
func (e *OutputError) Unwrap() error { return ErrInvalidOutput }

// OutputCapable is implemented by models that honour Request.Output
// themselves, such as ConverseModel (natively, or with a forced tool) and
// bedrockkittest.ScriptedModel. SupportsOutput reporting true promises that
// a response to a request with Output has the JSON value as its text (or,
// when the request has tools, may call them instead). The StructuredOutput
// middleware hands such models the request unchanged and uses the
// forced-tool technique for every other model. Middleware that wraps a
// Model should forward this method.
type OutputCapable interface {
	SupportsOutput() bool
}

// OutputRetry is a structured stream's report that the answer streamed
// since the start (or since the previous OutputRetry) failed validation and
// the model is being asked to repair it: discard that text. Err is the
// *OutputError that caused the retry.
type OutputRetry struct {
	Attempt int
	Err     error
}

// OutputValue is the last event of a structured stream: the answer,
// validated against Request.Output.
type OutputValue struct {
	Value json.RawMessage
}

func (OutputRetry) isEvent() {}
func (OutputValue) isEvent() {}

// thinkingEnabled reports whether the request turns on Claude's extended
// thinking (additionalModelRequestFields.thinking with a type other than
// "disabled"). Bedrock refuses a forced tool choice with thinking on: "The
// model returned the following errors: Thinking may not be enabled when
// tool_choice forces tool use." (strands-agents/sdk-python#1495,
// langchain-ai/langchain-aws#926).
func thinkingEnabled(req *Request) bool {
	v, ok := req.Extra["thinking"]
	if !ok || v == nil {
		return false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return true
	}
	var t struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return true
	}
	return t.Type != "disabled"
}

// outputToolInstruction is added to the system prompt when the answer tool
// cannot be forced.
func outputToolInstruction(name string, otherTools bool) string {
	if otherTools {
		return fmt.Sprintf("When you have the final answer, give it by calling the tool %q with the answer as its input, and say nothing else.", name)
	}
	return fmt.Sprintf("Answer only by calling the tool %q with your answer as its input; do not answer in prose.", name)
}

// toolChoiceLevel is how strongly the answer tool can be forced.
type toolChoiceLevel int

const (
	chooseTool toolChoiceLevel = iota // ToolChoiceTool naming the answer tool
	chooseAny                         // ToolChoiceAny (the answer tool is the only tool)
	chooseAuto                        // ToolChoiceAuto and an instruction
)

// outputToolRequest returns a copy of req that asks for the answer through
// a tool whose input schema is the output schema's wire schema, with the
// given choice level (downgraded to auto when the request has other tools
// or extended thinking). Output is cleared in the copy.
func outputToolRequest(req *Request, level toolChoiceLevel, strict bool) (*Request, error) {
	out := *req
	s := req.Output
	out.Output = nil
	for _, t := range req.Tools {
		if t.Name == s.name {
			return nil, invalid("a tool named %q is in Request.Tools and is also the output schema's name; rename one (NewOutputSchema's name)", s.name)
		}
	}
	desc := s.description
	if desc == "" {
		desc = "Give the final answer as this tool's input."
	}
	out.Tools = append(append([]ToolSpec(nil), req.Tools...), ToolSpec{Name: s.name, Description: desc, InputSchema: bytes.Clone(s.wire), Strict: strict})
	switch {
	case len(req.Tools) > 0 && req.ToolChoice.Kind != ToolChoiceAuto:
		// The caller's choice stands.
		return &out, nil
	case len(req.Tools) > 0, thinkingEnabled(req):
		// The model may call the caller's tools before answering, and a
		// forced choice is refused with extended thinking.
		level = chooseAuto
	}
	switch level {
	case chooseTool:
		out.ToolChoice = ToolChoice{Kind: ToolChoiceTool, Name: s.name}
	case chooseAny:
		out.ToolChoice = ToolChoice{Kind: ToolChoiceAny}
	default:
		out.ToolChoice = ToolChoice{}
		out.System = append(append([]Part(nil), req.System...), Text{Text: outputToolInstruction(s.name, len(req.Tools) > 0)})
	}
	return &out, nil
}

// answerFromToolCall turns a response to an outputToolRequest into the
// response to the original request: a call of the answer tool becomes a
// Text part with the (unwrapped) value, other calls in that message are
// dropped (the answer is final) and the stop reason becomes end_turn. A
// response without the answer tool is returned as is: prose (which
// validation judges), or calls of the caller's tools. It reports whether
// the answer tool was called.
func answerFromToolCall(resp *Response, s *OutputSchema) (*Response, bool) {
	for _, c := range resp.Message.ToolCalls() {
		if c.Name != s.name {
			continue
		}
		out := *resp
		var parts []Part
		for _, p := range resp.Message.Parts {
			switch p.(type) {
			case ToolCall:
			case Text:
				// Prose beside the answer (a preamble) is not the answer.
			default:
				parts = append(parts, p)
			}
		}
		out.Message = Message{Role: resp.Message.Role, Parts: append(parts, Text{Text: string(s.fromWire(c.Input))})}
		if out.StopReason == StopToolUse {
			out.StopReason = StopEndTurn
		}
		return &out, true
	}
	return resp, false
}

// answerText returns the JSON text of a response to a request with Output:
// the message's text, with a Markdown code fence around it removed.
func answerText(m Message) json.RawMessage {
	t := strings.TrimSpace(m.Text())
	if strings.HasPrefix(t, "```") {
		if nl := strings.IndexByte(t, '\n'); nl >= 0 && strings.HasSuffix(t, "```") && len(t) >= nl+1+3 {
			t = strings.TrimSpace(t[nl+1 : len(t)-3])
		}
	}
	return json.RawMessage(t)
}
