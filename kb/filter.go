package kb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// Op is a metadata filter operator. Its value is the operator's name in
// Bedrock's RetrievalFilter JSON.
type Op string

// The filter operators of Bedrock Knowledge Bases.
const (
	OpEquals              Op = "equals"
	OpNotEquals           Op = "notEquals"
	OpGreaterThan         Op = "greaterThan"
	OpGreaterThanOrEquals Op = "greaterThanOrEquals"
	OpLessThan            Op = "lessThan"
	OpLessThanOrEquals    Op = "lessThanOrEquals"
	OpIn                  Op = "in"
	OpNotIn               Op = "notIn"
	OpStartsWith          Op = "startsWith"
	OpListContains        Op = "listContains"
	OpStringContains      Op = "stringContains"
	OpAndAll              Op = "andAll"
	OpOrAll               Op = "orAll"
)

// maxFilterDepth bounds the nesting of andAll/orAll.
const maxFilterDepth = 32

// Filter is a metadata filter with Bedrock's operators. It marshals to and
// from Bedrock's RetrievalFilter JSON, for example
//
//	{"andAll":[{"equals":{"key":"type","value":"faq"}},{"greaterThan":{"key":"year","value":2020}}]}
//
// A leaf filter has Op, Key and Value; andAll and orAll have Filters (at
// least two, as Bedrock requires). Build filters with the constructors
// (Equals, In, AndAll, ...), which normalise values.
//
// Evaluation (Match) is strict about types, and the rules for absent keys
// follow Bedrock's documentation:
//
//   - equals, in: the attribute is present, is a scalar of the same type as
//     the value (numbers compare by value) and is equal (to one of the values).
//   - notEquals, notIn: the negation of equals / in, so an absent key, a
//     type mismatch or a list attribute matches.
//   - greaterThan(OrEquals), lessThan(OrEquals): the attribute is a number
//     and compares as stated; anything else does not match.
//   - startsWith: the attribute is a string with the value as prefix.
//   - listContains: the attribute is a list with an element equal to the value.
//   - stringContains: the attribute is a string containing the value, or a
//     list with a string element containing it.
//   - andAll / orAll: all / any of the children match.
type Filter struct {
	// Op is the operator.
	Op Op
	// Key is the metadata attribute a leaf filter tests.
	Key string
	// Value is a leaf filter's operand: string, bool or float64, or for
	// in/notIn a []any of those.
	Value any
	// Filters are the children of andAll and orAll.
	Filters []Filter
}

// Equals matches records whose attribute key equals value.
func Equals(key string, value any) Filter { return leaf(OpEquals, key, value) }

// NotEquals matches records whose attribute key is absent or differs from value.
func NotEquals(key string, value any) Filter { return leaf(OpNotEquals, key, value) }

// GreaterThan matches records whose numeric attribute key is > value.
func GreaterThan(key string, value any) Filter { return leaf(OpGreaterThan, key, value) }

// GreaterThanOrEquals matches records whose numeric attribute key is >= value.
func GreaterThanOrEquals(key string, value any) Filter {
	return leaf(OpGreaterThanOrEquals, key, value)
}

// LessThan matches records whose numeric attribute key is < value.
func LessThan(key string, value any) Filter { return leaf(OpLessThan, key, value) }

// LessThanOrEquals matches records whose numeric attribute key is <= value.
func LessThanOrEquals(key string, value any) Filter { return leaf(OpLessThanOrEquals, key, value) }

// In matches records whose attribute key equals one of values.
func In(key string, values ...any) Filter { return leaf(OpIn, key, values) }

// NotIn matches records whose attribute key is absent or equals none of values.
func NotIn(key string, values ...any) Filter { return leaf(OpNotIn, key, values) }

// StartsWith matches records whose string attribute key starts with prefix.
func StartsWith(key, prefix string) Filter { return leaf(OpStartsWith, key, prefix) }

// ListContains matches records whose list attribute key has an element equal to value.
func ListContains(key string, value any) Filter { return leaf(OpListContains, key, value) }

// StringContains matches records whose string attribute key (or one of
// whose list elements) contains sub.
func StringContains(key, sub string) Filter { return leaf(OpStringContains, key, sub) }

// AndAll matches records that match every filter. Bedrock requires at least two.
func AndAll(filters ...Filter) Filter { return Filter{Op: OpAndAll, Filters: filters} }

// OrAll matches records that match any filter. Bedrock requires at least two.
func OrAll(filters ...Filter) Filter { return Filter{Op: OpOrAll, Filters: filters} }

func leaf(op Op, key string, value any) Filter {
	f := Filter{Op: op, Key: key, Value: value}
	if nv, err := normalizeValue(value, true); err == nil {
		f.Value = nv
	}
	return f
}

// FilterError reports an invalid filter. It matches bedrockkit.ErrInvalidInput.
type FilterError struct {
	// Path locates the bad node, such as "andAll[1].equals".
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error names the node and the problem.
func (e *FilterError) Error() string {
	if e.Path == "" {
		return "kb: invalid filter: " + e.Reason
	}
	return "kb: invalid filter at " + e.Path + ": " + e.Reason
}

// Unwrap returns bedrockkit.ErrInvalidInput.
func (e *FilterError) Unwrap() error { return bedrockkit.ErrInvalidInput }

// Validate reports whether f is a well-formed filter: a known operator, a
// key on every leaf, a value of the type the operator needs, and at least
// two children for andAll/orAll.
func (f Filter) Validate() error {
	_, err := f.Normalize()
	return err
}

// Normalize validates f and returns a copy whose values are in canonical
// form (float64 numbers, []any lists), ready for Match.
func (f Filter) Normalize() (Filter, error) {
	return f.normalize("", 0)
}

func (f Filter) normalize(path string, depth int) (Filter, error) {
	at := string(f.Op)
	if path != "" {
		at = path + "." + at
	}
	fail := func(format string, args ...any) (Filter, error) {
		return Filter{}, &FilterError{Path: at, Reason: fmt.Sprintf(format, args...)}
	}
	if depth > maxFilterDepth {
		return fail("nested deeper than %d levels", maxFilterDepth)
	}
	switch f.Op {
	case OpAndAll, OpOrAll:
		if f.Key != "" || f.Value != nil {
			return fail("%s takes only child filters, not a key or value", f.Op)
		}
		if len(f.Filters) < 2 {
			return fail("%s needs at least 2 filters (Bedrock rejects fewer); use the single filter directly", f.Op)
		}
		out := Filter{Op: f.Op, Filters: make([]Filter, len(f.Filters))}
		for i, c := range f.Filters {
			nc, err := c.normalize(fmt.Sprintf("%s[%d]", at, i), depth+1)
			if err != nil {
				return Filter{}, err
			}
			out.Filters[i] = nc
		}
		return out, nil
	case OpEquals, OpNotEquals, OpGreaterThan, OpGreaterThanOrEquals, OpLessThan,
		OpLessThanOrEquals, OpIn, OpNotIn, OpStartsWith, OpListContains, OpStringContains:
	case "":
		return fail("empty filter: set an operator")
	default:
		return fail("unknown operator %q", string(f.Op))
	}
	if len(f.Filters) > 0 {
		return fail("a %s filter has no child filters", f.Op)
	}
	if f.Key == "" {
		return fail("missing key")
	}
	v, err := normalizeValue(f.Value, true)
	if err != nil {
		if f.Value == nil {
			return fail("missing value")
		}
		return fail("%v", err)
	}
	out := Filter{Op: f.Op, Key: f.Key, Value: v}
	switch f.Op {
	case OpEquals, OpNotEquals, OpListContains:
		if _, isList := v.([]any); isList {
			return fail("value must be a string, number or bool, not a list")
		}
	case OpGreaterThan, OpGreaterThanOrEquals, OpLessThan, OpLessThanOrEquals:
		if _, ok := v.(float64); !ok {
			return fail("value must be a number, got %T", f.Value)
		}
	case OpIn, OpNotIn:
		l, ok := v.([]any)
		if !ok {
			return fail("value must be a list")
		}
		if len(l) == 0 {
			return fail("value must be a non-empty list")
		}
	case OpStartsWith, OpStringContains:
		if _, ok := v.(string); !ok {
			return fail("value must be a string, got %T", f.Value)
		}
	}
	return out, nil
}

// Match reports whether metadata md satisfies f. Both must be normalised
// (see Normalize and NormalizeMetadata); stores keep metadata that way.
func (f *Filter) Match(md map[string]any) bool {
	switch f.Op {
	case OpAndAll:
		for i := range f.Filters {
			if !f.Filters[i].Match(md) {
				return false
			}
		}
		return true
	case OpOrAll:
		for i := range f.Filters {
			if f.Filters[i].Match(md) {
				return true
			}
		}
		return false
	case OpNotEquals:
		return !scalarEqual(md[f.Key], f.Value)
	case OpNotIn:
		return !inList(md[f.Key], f.Value)
	}
	a, ok := md[f.Key]
	if !ok {
		return false
	}
	switch f.Op {
	case OpEquals:
		return scalarEqual(a, f.Value)
	case OpIn:
		return inList(a, f.Value)
	case OpGreaterThan, OpGreaterThanOrEquals, OpLessThan, OpLessThanOrEquals:
		x, ok1 := a.(float64)
		y, ok2 := f.Value.(float64)
		if !ok1 || !ok2 {
			return false
		}
		switch f.Op {
		case OpGreaterThan:
			return x > y
		case OpGreaterThanOrEquals:
			return x >= y
		case OpLessThan:
			return x < y
		default:
			return x <= y
		}
	case OpStartsWith:
		s, ok1 := a.(string)
		p, ok2 := f.Value.(string)
		return ok1 && ok2 && strings.HasPrefix(s, p)
	case OpListContains:
		l, ok := a.([]any)
		if !ok {
			return false
		}
		for _, e := range l {
			if scalarEqual(e, f.Value) {
				return true
			}
		}
		return false
	case OpStringContains:
		sub, ok := f.Value.(string)
		if !ok {
			return false
		}
		switch x := a.(type) {
		case string:
			return strings.Contains(x, sub)
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && strings.Contains(s, sub) {
					return true
				}
			}
		}
		return false
	}
	return false
}

func scalarEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return false
}

func inList(a, list any) bool {
	l, _ := list.([]any)
	for _, e := range l {
		if scalarEqual(a, e) {
			return true
		}
	}
	return false
}

type jsonLeaf struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// MarshalJSON writes f in Bedrock's RetrievalFilter JSON form. An invalid
// filter is an error.
func (f Filter) MarshalJSON() ([]byte, error) {
	n, err := f.Normalize()
	if err != nil {
		return nil, err
	}
	return n.marshal()
}

func (f Filter) marshal() ([]byte, error) {
	var body []byte
	var err error
	if f.Op == OpAndAll || f.Op == OpOrAll {
		parts := make([]json.RawMessage, len(f.Filters))
		for i, c := range f.Filters {
			if parts[i], err = c.marshal(); err != nil {
				return nil, err
			}
		}
		body, err = json.Marshal(parts)
	} else {
		body, err = json.Marshal(jsonLeaf{Key: f.Key, Value: f.Value})
	}
	if err != nil {
		return nil, err
	}
	op, _ := json.Marshal(string(f.Op))
	out := make([]byte, 0, len(body)+len(op)+3)
	out = append(out, '{')
	out = append(out, op...)
	out = append(out, ':')
	out = append(out, body...)
	return append(out, '}'), nil
}

// UnmarshalJSON reads Bedrock's RetrievalFilter JSON and validates it.
func (f *Filter) UnmarshalJSON(data []byte) error {
	g, err := parseFilter(data, "", 0)
	if err != nil {
		return err
	}
	n, err := g.Normalize()
	if err != nil {
		return err
	}
	*f = n
	return nil
}

func parseFilter(data []byte, path string, depth int) (Filter, error) {
	if depth > maxFilterDepth {
		return Filter{}, &FilterError{Path: path, Reason: fmt.Sprintf("nested deeper than %d levels", maxFilterDepth)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return Filter{}, &FilterError{Path: path, Reason: "a filter must be a JSON object with one operator key"}
	}
	if len(obj) != 1 {
		return Filter{}, &FilterError{Path: path, Reason: fmt.Sprintf("a filter must have exactly one operator key, found %d", len(obj))}
	}
	var op string
	var body json.RawMessage
	for k, v := range obj {
		op, body = k, v
	}
	at := op
	if path != "" {
		at = path + "." + op
	}
	switch Op(op) {
	case OpAndAll, OpOrAll:
		var kids []json.RawMessage
		if err := json.Unmarshal(body, &kids); err != nil {
			return Filter{}, &FilterError{Path: at, Reason: "value must be a list of filters"}
		}
		f := Filter{Op: Op(op), Filters: make([]Filter, len(kids))}
		for i, k := range kids {
			c, err := parseFilter(k, fmt.Sprintf("%s[%d]", at, i), depth+1)
			if err != nil {
				return Filter{}, err
			}
			f.Filters[i] = c
		}
		return f, nil
	case OpEquals, OpNotEquals, OpGreaterThan, OpGreaterThanOrEquals, OpLessThan,
		OpLessThanOrEquals, OpIn, OpNotIn, OpStartsWith, OpListContains, OpStringContains:
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		dec.DisallowUnknownFields()
		var l struct {
			Key   *string `json:"key"`
			Value any     `json:"value"`
		}
		if err := dec.Decode(&l); err != nil {
			return Filter{}, &FilterError{Path: at, Reason: "want {\"key\": ..., \"value\": ...}: " + err.Error()}
		}
		if l.Key == nil {
			return Filter{}, &FilterError{Path: at, Reason: "missing key"}
		}
		return Filter{Op: Op(op), Key: *l.Key, Value: l.Value}, nil
	default:
		return Filter{}, &FilterError{Path: path, Reason: fmt.Sprintf("unknown operator %q", op)}
	}
}
