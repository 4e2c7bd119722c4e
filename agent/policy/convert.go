package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/cedar-policy/cedar-go"

	"github.com/bedrockkit/bedrockkit/agent"
)

// maxDepth bounds how deeply nested arguments may be.
const maxDepth = 32

// maxCachedSchemas bounds the per-tool schema cache.
const maxCachedSchemas = 4096

// schemaNode is the part of a tool's JSON Schema that types its arguments
// for Cedar: a declared "integer" becomes a Long and a declared "number" a
// decimal, as AgentCore Policy maps tool inputs; values with no declared
// type are inferred (integral numbers Long, others decimal).
type schemaNode struct {
	typ        string
	properties map[string]*schemaNode
	items      *schemaNode
}

func (e *Engine) schemaOf(t *agent.Tool) *schemaNode {
	if t == nil {
		return nil
	}
	if s, ok := e.schemas.Load(t); ok {
		return s.(*schemaNode)
	}
	var raw any
	if err := json.Unmarshal(t.Definition().InputSchema, &raw); err != nil {
		return nil
	}
	root, _ := raw.(map[string]any)
	defs, _ := root["$defs"].(map[string]any)
	s := buildSchema(raw, defs, 0)
	// Tools made per request (imported per session, say) must not grow the
	// cache without bound: past maxCachedSchemas it starts over.
	if e.cached.Add(1) > maxCachedSchemas {
		e.schemas.Clear()
		e.cached.Store(1)
	}
	e.schemas.Store(t, s)
	return s
}

// buildSchema reads the typing of a schema, following local references
// into the root's $defs ("#/$defs/<name>"), as agent/openapitools emits
// for large descriptions.
func buildSchema(raw any, defs map[string]any, depth int) *schemaNode {
	m, ok := raw.(map[string]any)
	if !ok || depth > maxDepth {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		if name, found := strings.CutPrefix(ref, "#/$defs/"); found {
			return buildSchema(defs[name], defs, depth+1)
		}
		return nil
	}
	n := &schemaNode{}
	switch t := m["type"].(type) {
	case string:
		n.typ = t
	case []any: // ["number", "null"] and the like: the one non-null type
		var types []string
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				types = append(types, s)
			}
		}
		if len(types) == 1 {
			n.typ = types[0]
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		n.properties = make(map[string]*schemaNode, len(props))
		for k, v := range props {
			if c := buildSchema(v, defs, depth+1); c != nil {
				n.properties[k] = c
			}
		}
	}
	n.items = buildSchema(m["items"], defs, depth+1)
	return n
}

// decodeJSON decodes one JSON value keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not valid JSON: data after the value")
	}
	return v, nil
}

// toCedar converts a decoded JSON value to a Cedar value: objects become
// records (null members are left out, so `has` reports them absent),
// arrays sets, strings strings, booleans booleans and numbers longs or
// decimals. A value Cedar cannot represent exactly is an error.
func toCedar(v any, s *schemaNode, depth int) (cedar.Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d levels deep", maxDepth)
	}
	typ := ""
	if s != nil {
		typ = s.typ
	}
	switch x := v.(type) {
	case bool:
		return cedar.Boolean(x), nil
	case string:
		return cedar.String(x), nil
	case json.Number:
		return number(x.String(), typ)
	case float64:
		return number(strconv.FormatFloat(x, 'f', -1, 64), typ)
	case []any:
		vals := make([]cedar.Value, 0, len(x))
		var items *schemaNode
		if s != nil {
			items = s.items
		}
		for i, el := range x {
			if el == nil {
				return nil, fmt.Errorf("item %d is null, which Cedar sets cannot hold", i)
			}
			cv, err := toCedar(el, items, depth+1)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			vals = append(vals, cv)
		}
		return cedar.NewSet(vals...), nil
	case map[string]any:
		rec := make(cedar.RecordMap, len(x))
		for k, el := range x {
			if el == nil {
				continue
			}
			var ps *schemaNode
			if s != nil {
				ps = s.properties[k]
			}
			cv, err := toCedar(el, ps, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			rec[cedar.String(k)] = cv
		}
		return cedar.NewRecord(rec), nil
	case nil:
		return nil, errors.New("null cannot be given to Cedar")
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

var tenThousand = big.NewRat(10000, 1)

// number converts a JSON number's text to a Long (declared integer, or an
// undeclared integral value) or a decimal (declared number, or an
// undeclared fraction). Cedar decimals hold four fractional digits in the
// range of int64/10^4; anything else is an error rather than a rounded
// value, so a policy never compares a number it was not given.
func number(text, typ string) (cedar.Value, error) {
	// Bound the work before big.Rat sees the text: an exponent such as
	// 1e999999999 would make it compute a gigantic power of ten.
	if len(text) > 64 {
		return nil, fmt.Errorf("the number %.20s... is too long for Cedar", text)
	}
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		exp, err := strconv.Atoi(text[i+1:])
		if err != nil || exp > 40 || exp < -40 {
			return nil, fmt.Errorf("%s is outside the range of Cedar numbers", text)
		}
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", text)
	}
	if typ != "number" && r.IsInt() {
		if !r.Num().IsInt64() {
			return nil, fmt.Errorf("%s is outside Cedar's 64-bit integer range", text)
		}
		return cedar.Long(r.Num().Int64()), nil
	}
	if typ == "integer" {
		return nil, fmt.Errorf("%s is not an integer", text)
	}
	scaled := new(big.Rat).Mul(r, tenThousand)
	if !scaled.IsInt() {
		return nil, fmt.Errorf("%s has more than the 4 fractional digits a Cedar decimal holds", text)
	}
	n := scaled.Num()
	if !n.IsInt64() || n.Int64() == math.MinInt64 {
		return nil, fmt.Errorf("%s is outside the range of a Cedar decimal", text)
	}
	d, err := cedar.NewDecimal(n.Int64(), -4)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", text, err)
	}
	return d, nil
}

// jsonKind names a decoded JSON value's kind for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}
