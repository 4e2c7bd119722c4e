package agent

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/bedrockkit/bedrockkit/internal/jsonschema"
)

// SchemaFor returns the JSON Schema that NewFuncTool derives for the Go type T. It
// is exported so callers can inspect or reuse what the model will see.
//
// Rules, following encoding/json:
//   - a struct becomes an object with "additionalProperties": false; the
//     property name is the json tag name (or the field name), fields tagged
//     `json:"-"` and unexported fields are skipped, embedded structs without a
//     json name are inlined;
//   - a field is required unless its json tag has omitempty or omitzero, or
//     its jsonschema tag says optional; `jsonschema:"required"` forces it;
//   - `description:"..."` sets the description;
//   - `jsonschema:"..."` holds comma-separated keywords: required, optional,
//     enum=a|b|c, minimum=N, maximum=N, minLength=N, maxLength=N,
//     minItems=N, maxItems=N, pattern=RE, format=F, default=V;
//   - string, bool, integer and float kinds map to string, boolean, integer
//     and number (unsigned integers get minimum 0); slices and arrays to
//     array ([]byte to a base64 string); maps with string keys to objects;
//     time.Time to a date-time string; pointers to their element; interfaces
//     and json.RawMessage accept any value.
//
// Channels, functions, complex numbers and recursive types have no schema
// and give an error wrapping ErrInvalidTool.
//
// The derivation is shared with structured output in the root package
// (bedrockkit.OutputSchemaFor), so a tool's input and a typed reply follow
// the same rules.
func SchemaFor[T any]() (json.RawMessage, error) {
	return schemaOf(reflect.TypeFor[T]())
}

func schemaOf(t reflect.Type) (json.RawMessage, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct && !(t.Kind() == reflect.Map && t.Key().Kind() == reflect.String) {
		return nil, fmt.Errorf("agent: tool input type %s must be a struct or a map with string keys, because tool arguments are a JSON object: %w", t, ErrInvalidTool)
	}
	s, err := jsonschema.DeriveJSON(t)
	if err != nil {
		return nil, fmt.Errorf("agent: %v (or give the tool a raw schema with NewTool): %w", err, ErrInvalidTool)
	}
	return s, nil
}
