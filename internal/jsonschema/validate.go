package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	js "github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// MaxSchemaBytes bounds the size of a schema Compile accepts.
const MaxSchemaBytes = 1 << 20

// Schema is a compiled JSON Schema. It is immutable and safe for concurrent
// use.
type Schema struct {
	compiled *js.Schema
	raw      json.RawMessage
}

// noLoader refuses every external reference: a schema is self-contained, and
// compiling one must never read a file or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("jsonschema: the schema refers to %s; external references are not loaded, put the definition under $defs", url)
}

// Compile parses and compiles schema (draft 2020-12 unless its $schema
// says otherwise). The schema must be a JSON object (or a boolean) no
// larger than MaxSchemaBytes, and must not refer to other documents.
func Compile(schema json.RawMessage) (*Schema, error) {
	if len(schema) > MaxSchemaBytes {
		return nil, fmt.Errorf("jsonschema: schema is %d bytes; the limit is %d", len(schema), MaxSchemaBytes)
	}
	doc, err := js.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("jsonschema: schema is not valid JSON: %v", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("jsonschema: a schema must be a JSON object")
	}
	c := js.NewCompiler()
	c.DefaultDraft(js.Draft2020)
	c.UseLoader(noLoader{})
	const url = "mem:///schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("jsonschema: %v", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, schema); err != nil {
		return nil, fmt.Errorf("jsonschema: schema is not valid JSON: %v", err)
	}
	return &Schema{compiled: s, raw: buf.Bytes()}, nil
}

// JSON returns the schema, compacted. The caller must not modify it.
func (s *Schema) JSON() json.RawMessage { return s.raw }

// Violation is one way a value breaks a schema.
type Violation struct {
	// Path is the JSON Pointer of the offending value ("" for the whole
	// value, "/items/0/name" for a nested one).
	Path string
	// Message says what is wrong, such as "missing property 'name'".
	Message string
}

// String returns "at '/path': message" (at ” for the whole value).
func (v Violation) String() string {
	return fmt.Sprintf("at '%s': %s", v.Path, v.Message)
}

// ValidationError is a value that is not JSON or breaks the schema.
type ValidationError struct {
	// NotJSON is set when the value could not be parsed; Violations is then
	// empty.
	NotJSON error
	// Violations lists the broken constraints, sorted by path.
	Violations []Violation
}

// Error lists the violations as "at '/path': message" separated by "; ".
func (e *ValidationError) Error() string {
	if e.NotJSON != nil {
		return "not valid JSON: " + e.NotJSON.Error()
	}
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

var printer = message.NewPrinter(language.English)

// Validate checks value against the schema. It returns nil or a
// *ValidationError.
func (s *Schema) Validate(value json.RawMessage) error {
	inst, err := js.UnmarshalJSON(bytes.NewReader(value))
	if err != nil {
		return &ValidationError{NotJSON: err}
	}
	err = s.compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *js.ValidationError
	if !errors.As(err, &ve) {
		return &ValidationError{Violations: []Violation{{Message: err.Error()}}}
	}
	out := &ValidationError{}
	var walk func(e *js.ValidationError)
	walk = func(e *js.ValidationError) {
		if len(e.Causes) == 0 {
			out.Violations = append(out.Violations, Violation{Path: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// The validator visits object properties in map order; sort so the
	// same value always gives the same message (a repair prompt that
	// differs between runs would also defeat prompt caching).
	slices.SortStableFunc(out.Violations, func(a, b Violation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return out
}

// pointer builds a JSON Pointer (RFC 6901) from path segments.
func pointer(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		s = strings.ReplaceAll(s, "~", "~0")
		b.WriteString(strings.ReplaceAll(s, "/", "~1"))
	}
	return b.String()
}
