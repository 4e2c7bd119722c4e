package kb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit"
)

// MetadataSuffix is the suffix of a metadata sidecar: the attributes of
// "fees.pdf" live in "fees.pdf.metadata.json" beside it, as in Amazon
// Bedrock Knowledge Bases. Sources never yield sidecars as documents.
const MetadataSuffix = ".metadata.json"

// MaxMetadataSize is the largest metadata sidecar accepted, in bytes
// (Bedrock's limit of 10 KB).
const MaxMetadataSize = 10 * 1024

// ErrInvalidMetadata is wrapped by every error about a metadata sidecar
// that is too large or not in Bedrock's format. It wraps
// bedrockkit.ErrInvalidInput.
var ErrInvalidMetadata = fmt.Errorf("kb: invalid metadata sidecar: %w", bedrockkit.ErrInvalidInput)

// reservedMetadataPrefix starts the system keys Bedrock adds to every chunk
// (x-amz-bedrock-kb-source-uri, ...). A sidecar may not set them, so that a
// document cannot forge its own citation.
const reservedMetadataPrefix = "x-amz-bedrock-kb-"

// Sidecar is a parsed metadata sidecar.
type Sidecar struct {
	// Attributes maps each attribute to its value: a string, a float64, a
	// bool or a []string (Bedrock's STRING, NUMBER, BOOLEAN and
	// STRING_LIST).
	Attributes map[string]any
	// IncludeForEmbedding lists, sorted, the attributes whose typed form
	// set "includeForEmbedding": true. Sources do not carry it on
	// SourceItem; callers that want the values embedded with the text can
	// read it from ParseSidecar.
	IncludeForEmbedding []string
}

// ParseSidecar parses a metadata sidecar in Bedrock's format:
//
//	{"metadataAttributes": {
//	    "year": 2024,
//	    "team": "payments",
//	    "tags": ["fees", "cards"],
//	    "public": true,
//	    "region": {"value": {"type": "STRING", "stringValue": "eu"}, "includeForEmbedding": true}
//	}}
//
// A value is a string, a number, a boolean, a list of strings, or the typed
// form {"value": {"type": "STRING|NUMBER|BOOLEAN|STRING_LIST",
// "stringValue"|"numberValue"|"booleanValue"|"stringListValue": ...},
// "includeForEmbedding": bool}. The sidecar must be valid UTF-8 JSON of at
// most MaxMetadataSize bytes; null values, nested objects, mixed lists,
// unknown fields, duplicate keys and keys starting with "x-amz-bedrock-kb-"
// are rejected. Every error wraps ErrInvalidMetadata and says what is wrong.
func ParseSidecar(data []byte) (*Sidecar, error) {
	if len(data) > MaxMetadataSize {
		return nil, metadataError("is %d bytes; Bedrock allows at most %d (10 KB): move long values into the document", len(data), MaxMetadataSize)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return nil, metadataError("is not valid UTF-8; save it as UTF-8")
	}
	var top map[string]json.RawMessage
	if err := strictUnmarshal(data, &top); err != nil {
		return nil, metadataError("is not a JSON object: %v", err)
	}
	if top == nil {
		return nil, metadataError(`must be a JSON object {"metadataAttributes": {...}}`)
	}
	for k := range top {
		if k != "metadataAttributes" {
			return nil, metadataError(`has unknown field %q; the only field is "metadataAttributes"`, k)
		}
	}
	raw, ok := top["metadataAttributes"]
	if !ok {
		return nil, metadataError(`has no "metadataAttributes" field`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, metadataError(`"metadataAttributes" must be a JSON object of attributes`)
	}
	md := &Sidecar{Attributes: map[string]any{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, metadataError("is not valid JSON: %v", err)
		}
		key := tok.(string) // object keys are always strings
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, metadataError("attribute %q: %v", key, err)
		}
		if strings.TrimSpace(key) == "" {
			return nil, metadataError("has an empty attribute name")
		}
		if strings.HasPrefix(strings.ToLower(key), reservedMetadataPrefix) {
			return nil, metadataError("attribute %q uses the reserved prefix %q of Bedrock's system attributes; rename it", key, reservedMetadataPrefix)
		}
		if _, dup := md.Attributes[key]; dup {
			return nil, metadataError("attribute %q appears twice", key)
		}
		v, embed, err := parseAttribute(val)
		if err != nil {
			return nil, metadataError("attribute %q: %v", key, err)
		}
		md.Attributes[key] = v
		if embed {
			md.IncludeForEmbedding = append(md.IncludeForEmbedding, key)
		}
	}
	sort.Strings(md.IncludeForEmbedding)
	return md, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func metadataError(format string, args ...any) error {
	return fmt.Errorf("%w: the sidecar "+format, append([]any{ErrInvalidMetadata}, args...)...)
}

// strictUnmarshal decodes one JSON value and rejects trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// parseAttribute parses one attribute value, plain or typed.
func parseAttribute(raw json.RawMessage) (any, bool, error) {
	var v any
	if err := strictUnmarshal(raw, &v); err != nil {
		return nil, false, err
	}
	switch x := v.(type) {
	case map[string]any:
		return parseTypedAttribute(raw)
	default:
		val, err := plainValue(x)
		return val, false, err
	}
}

func plainValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("null is not an attribute value; remove the attribute or give a string, number, boolean or list of strings")
	case string, bool:
		return x, nil
	case json.Number:
		return number(x)
	case []any:
		list := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list element %d is %s; Bedrock lists hold strings only", i, jsonKind(e))
			}
			list = append(list, s)
		}
		return list, nil
	default:
		return nil, fmt.Errorf("%s is not an attribute value; use a string, number, boolean, list of strings or the typed form", jsonKind(v))
	}
}

func number(n json.Number) (float64, error) {
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("number %s is out of range", n)
	}
	return f, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "a list"
	default:
		return "an object"
	}
}

type typedAttribute struct {
	Value *struct {
		Type            string          `json:"type"`
		StringValue     *string         `json:"stringValue"`
		NumberValue     *json.Number    `json:"numberValue"`
		BooleanValue    *bool           `json:"booleanValue"`
		StringListValue json.RawMessage `json:"stringListValue"`
	} `json:"value"`
	IncludeForEmbedding *bool `json:"includeForEmbedding"`
}

func parseTypedAttribute(raw json.RawMessage) (any, bool, error) {
	var t typedAttribute
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, false, fmt.Errorf(`an object value must be the typed form {"value": {"type": ..., "stringValue": ...}, "includeForEmbedding": bool}: %v`, err)
	}
	if t.Value == nil {
		return nil, false, errors.New(`the typed form needs a "value" object`)
	}
	embed := t.IncludeForEmbedding != nil && *t.IncludeForEmbedding
	v := t.Value
	set := 0
	for _, ok := range []bool{v.StringValue != nil, v.NumberValue != nil, v.BooleanValue != nil, v.StringListValue != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, false, fmt.Errorf("the typed form sets %d of stringValue, numberValue, booleanValue, stringListValue; set exactly the one its type names", set)
	}
	switch v.Type {
	case "STRING":
		if v.StringValue == nil {
			return nil, false, errors.New(`type STRING needs "stringValue"`)
		}
		return *v.StringValue, embed, nil
	case "NUMBER":
		if v.NumberValue == nil {
			return nil, false, errors.New(`type NUMBER needs "numberValue"`)
		}
		f, err := number(*v.NumberValue)
		return f, embed, err
	case "BOOLEAN":
		if v.BooleanValue == nil {
			return nil, false, errors.New(`type BOOLEAN needs "booleanValue"`)
		}
		return *v.BooleanValue, embed, nil
	case "STRING_LIST":
		if v.StringListValue == nil {
			return nil, false, errors.New(`type STRING_LIST needs "stringListValue"`)
		}
		var list []string
		if err := json.Unmarshal(v.StringListValue, &list); err != nil || list == nil {
			return nil, false, errors.New(`"stringListValue" must be a list of strings`)
		}
		return list, embed, nil
	default:
		return nil, false, fmt.Errorf("type %q is not one of STRING, NUMBER, BOOLEAN, STRING_LIST", v.Type)
	}
}
