package jsonschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ErrNoSchema is wrapped by Derive's errors: the Go type has no JSON
// Schema (a channel, a function, a complex number, a recursive type, a map
// whose keys are not strings) or a struct tag is malformed.
var ErrNoSchema = errors.New("jsonschema: no JSON Schema for this Go type")

// Derive returns the JSON Schema of values of type t, as encoding/json
// would marshal them.
//
// Rules:
//   - a struct becomes an object with "additionalProperties": false; the
//     property name is the json tag name (or the field name), fields tagged
//     `json:"-"` and unexported fields are skipped, embedded structs without a
//     json name are inlined;
//   - a field is required unless its json tag has omitempty or omitzero, or
//     its jsonschema tag says optional; `jsonschema:"required"` forces it;
//   - `description:"..."` sets the description;
//   - `jsonschema:"..."` holds comma-separated keywords: required, optional,
//     enum=a|b|c, minimum=N, maximum=N, exclusiveMinimum=N,
//     exclusiveMaximum=N, multipleOf=N, minLength=N, maxLength=N,
//     minItems=N, maxItems=N, minProperties=N, maxProperties=N, pattern=RE,
//     format=F, title=T, default=V;
//   - string, bool, integer and float kinds map to string, boolean, integer
//     and number (unsigned integers get minimum 0); slices and arrays to
//     array ([]byte to a base64 string); maps with string keys to objects;
//     time.Time to a date-time string; pointers to their element; interfaces,
//     json.RawMessage and types with their own MarshalJSON accept any value.
//
// Channels, functions, complex numbers, recursive types and maps whose keys
// are not strings have no schema: the error wraps ErrNoSchema and names the
// field.
func Derive(t reflect.Type) (map[string]any, error) {
	if t == nil {
		return nil, fmt.Errorf("jsonschema: nil type: %w", ErrNoSchema)
	}
	d := deriver{seen: map[reflect.Type]bool{}}
	return d.schema(t)
}

// DeriveJSON is Derive returning the schema as JSON.
func DeriveJSON(t reflect.Type) (json.RawMessage, error) {
	s, err := Derive(t)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

type deriver struct {
	seen map[reflect.Type]bool
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	marshalerTyp = reflect.TypeFor[json.Marshaler]()
)

func (d *deriver) schema(t reflect.Type) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawType:
		return map[string]any{}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return d.schema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "minimum": 0}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := d.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := map[string]any{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("jsonschema: map key type %s is not a string; JSON object keys are strings: %w", t.Key(), ErrNoSchema)
		}
		vals, err := d.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": vals}, nil
	case reflect.Struct:
		if t.Implements(marshalerTyp) || reflect.PointerTo(t).Implements(marshalerTyp) {
			// A custom encoding could be anything: accept any value.
			return map[string]any{}, nil
		}
		if d.seen[t] {
			return nil, fmt.Errorf("jsonschema: type %s is recursive; a derived schema cannot describe it, so write the schema by hand: %w", t, ErrNoSchema)
		}
		d.seen[t] = true
		defer delete(d.seen, t)
		props := map[string]any{}
		required := []string{}
		if err := d.fields(t, props, &required); err != nil {
			return nil, err
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s, nil
	}
	return nil, fmt.Errorf("jsonschema: type %s (%s) cannot be expressed in JSON: %w", t, t.Kind(), ErrNoSchema)
}

func (d *deriver) fields(t reflect.Type, props map[string]any, required *[]string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := d.fields(ft, props, required); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs, err := d.schema(f.Type)
		if err != nil {
			return fmt.Errorf("field %s.%s: %w", t.Name(), f.Name, err)
		}
		if desc := f.Tag.Get("description"); desc != "" {
			fs["description"] = desc
		}
		req := !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,")
		if js := f.Tag.Get("jsonschema"); js != "" {
			r, err := applyKeywords(fs, js, f.Type)
			if err != nil {
				return fmt.Errorf("jsonschema: field %s.%s: %v: %w", t.Name(), f.Name, err, ErrNoSchema)
			}
			if r != nil {
				req = *r
			}
		}
		props[name] = fs
		if req {
			*required = append(*required, name)
		}
	}
	return nil
}

// applyKeywords adds the keywords of a jsonschema tag to s and returns the
// requiredness it sets, if any.
func applyKeywords(s map[string]any, tag string, t reflect.Type) (*bool, error) {
	var req *bool
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for kw := range strings.SplitSeq(tag, ",") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(kw), "=")
		switch key {
		case "":
		case "required", "optional":
			b := key == "required"
			req = &b
		case "enum":
			var vals []any
			for v := range strings.SplitSeq(val, "|") {
				x, err := parseScalar(v, t)
				if err != nil {
					return nil, fmt.Errorf("enum value %q: %v", v, err)
				}
				vals = append(vals, x)
			}
			if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
				items["enum"] = vals // an enum on a list constrains its elements
			} else {
				s["enum"] = vals
			}
		case "default":
			x, err := parseScalar(val, t)
			if err != nil {
				return nil, fmt.Errorf("default %q: %v", val, err)
			}
			s["default"] = x
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a number", key, val)
			}
			s[key] = f
		case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s=%q is not a non-negative integer", key, val)
			}
			s[key] = n
		case "pattern", "format", "title":
			if !hasVal {
				return nil, fmt.Errorf("%s needs a value (%s=...)", key, key)
			}
			s[key] = val
		default:
			return nil, fmt.Errorf("unknown jsonschema keyword %q (known: required, optional, enum, default, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, minLength, maxLength, minItems, maxItems, minProperties, maxProperties, pattern, format, title)", key)
		}
	}
	return req, nil
}

// parseScalar parses a tag value as the JSON value of kind t.
func parseScalar(v string, t reflect.Type) (any, error) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.ParseInt(v, 10, 64)
	case reflect.Float32, reflect.Float64:
		return strconv.ParseFloat(v, 64)
	case reflect.Bool:
		return strconv.ParseBool(v)
	case reflect.Slice, reflect.Array:
		return parseScalar(v, t.Elem())
	}
	return v, nil
}
