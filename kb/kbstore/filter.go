package kbstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// FilterOp is a metadata filter operator. Its value is the operator's name in
// Bedrock's RetrievalFilter JSON.
type FilterOp string

// The filter operators of Bedrock Knowledge Bases.
const (
	OpEquals              FilterOp = "equals"
	OpNotEquals           FilterOp = "notEquals"
	OpGreaterThan         FilterOp = "greaterThan"
	OpGreaterThanOrEquals FilterOp = "greaterThanOrEquals"
	OpLessThan            FilterOp = "lessThan"
	OpLessThanOrEquals    FilterOp = "lessThanOrEquals"
	OpIn                  FilterOp = "in"
	OpNotIn               FilterOp = "notIn"
	OpStartsWith          FilterOp = "startsWith"
	OpListContains        FilterOp = "listContains"
	OpStringContains      FilterOp = "stringContains"
	OpAndAll              FilterOp = "andAll"
	OpOrAll               FilterOp = "orAll"
)

// Limits on one filter. Validate, Normalize, Compile, MarshalJSON and
// UnmarshalJSON refuse a filter beyond them with a *FilterError (matching
// bedrockkit.ErrInvalidInput) that names the limit. Bedrock's API
// reference gives no number for any of them (it documents a key of 1 to
// 100 characters and at least two filters in andAll and orAll, nothing on
// list lengths or overall size), so these are bedrockkit's own: they bound
// the memory a filter takes and the time it costs per record. A compiled
// filter (Compile) costs one hash lookup per in/notIn list and record,
// whatever the list's length.
const (
	// MaxFilterDepth is the deepest nesting of andAll and orAll.
	MaxFilterDepth = 32
	// MaxFilterNodes is the most operators (andAll, orAll and leaf
	// filters) in one filter.
	MaxFilterNodes = 1000
	// MaxFilterValues is the most values in the in and notIn lists of one
	// filter, all lists together.
	MaxFilterValues = 10000
	// MaxFilterBytes bounds the keys and string values of one filter, all
	// together, in bytes.
	MaxFilterBytes = 1 << 20
)

// maxFilterJSON is the largest JSON document UnmarshalJSON parses: more
// than any filter within the limits needs, even with every character
// escaped.
const maxFilterJSON = 8 << 20

// Filter is a metadata filter with Bedrock's operators. It marshals to and
// from Bedrock's RetrievalFilter JSON, for example
//
//	{"andAll":[{"equals":{"key":"type","value":"faq"}},{"greaterThan":{"key":"year","value":2020}}]}
//
// A leaf filter has Op, Key and Value; andAll and orAll have Filters (at
// least two, as Bedrock requires). Users build filters with the
// constructors of package kb (kb.Equals, kb.In, kb.AndAll, ...), which
// normalise values; kb.Filter is this type. A store receives them in
// Query.Filter and TextQuery.Filter, compiles them once per search
// (Compile) and matches each candidate record inside its scan, or
// translates them to its backend's own filter language.
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
	Op FilterOp
	// Key is the metadata attribute a leaf filter tests.
	Key string
	// Value is a leaf filter's operand: string, bool or float64, or for
	// in/notIn a []any of those.
	Value any
	// Filters are the children of andAll and orAll.
	Filters []Filter
}

// IsZero reports whether f is the zero Filter. Where a knowledge base
// takes a filter (kb.RetrieveOptions.Filter) the zero Filter
// means no filter; Validate, Compile and MarshalJSON refuse it, so a store
// never receives it.
func (f Filter) IsZero() bool {
	return f.Op == "" && f.Key == "" && f.Value == nil && len(f.Filters) == 0
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
		return "kbstore: invalid filter: " + e.Reason
	}
	return "kbstore: invalid filter at " + e.Path + ": " + e.Reason
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
	return f.normalize("", 0, &filterSize{})
}

// filterSize counts what a filter holds, against the limits.
type filterSize struct {
	nodes, values, bytes int
}

func (f Filter) normalize(path string, depth int, size *filterSize) (Filter, error) {
	at := string(f.Op)
	if path != "" {
		at = path + "." + at
	}
	if depth > MaxFilterDepth {
		return Filter{}, filterFail(at, "nested deeper than %d levels (MaxFilterDepth)", MaxFilterDepth)
	}
	if size.nodes++; size.nodes > MaxFilterNodes {
		return Filter{}, filterFail(at, "more than %d operators in one filter (MaxFilterNodes); use in or notIn for many values of one key", MaxFilterNodes)
	}
	if size.bytes += len(f.Key); size.bytes > MaxFilterBytes {
		return Filter{}, filterFail(at, "keys and string values exceed %d bytes (MaxFilterBytes)", MaxFilterBytes)
	}
	switch f.Op {
	case OpAndAll, OpOrAll:
		return f.normalizeGroup(at, depth, size)
	case OpEquals, OpNotEquals, OpGreaterThan, OpGreaterThanOrEquals, OpLessThan,
		OpLessThanOrEquals, OpIn, OpNotIn, OpStartsWith, OpListContains, OpStringContains:
		return f.normalizeLeaf(at, size)
	case "":
		return Filter{}, filterFail(at, "empty filter: set an operator")
	default:
		return Filter{}, filterFail(at, "unknown operator %q", string(f.Op))
	}
}

// filterFail returns a *FilterError for the node at path at.
func filterFail(at, format string, args ...any) error {
	return &FilterError{Path: at, Reason: fmt.Sprintf(format, args...)}
}

// normalizeGroup normalises an andAll or orAll node and its children.
func (f Filter) normalizeGroup(at string, depth int, size *filterSize) (Filter, error) {
	if f.Key != "" || f.Value != nil {
		return Filter{}, filterFail(at, "%s takes only child filters, not a key or value", f.Op)
	}
	if len(f.Filters) < 2 {
		return Filter{}, filterFail(at, "%s needs at least 2 filters (Bedrock rejects fewer); use the single filter directly", f.Op)
	}
	out := Filter{Op: f.Op, Filters: make([]Filter, len(f.Filters))}
	for i, c := range f.Filters {
		nc, err := c.normalize(fmt.Sprintf("%s[%d]", at, i), depth+1, size)
		if err != nil {
			return Filter{}, err
		}
		out.Filters[i] = nc
	}
	return out, nil
}

// normalizeLeaf normalises a leaf node: its key and its value, counted
// against the limits and checked against the operator.
func (f Filter) normalizeLeaf(at string, size *filterSize) (Filter, error) {
	if len(f.Filters) > 0 {
		return Filter{}, filterFail(at, "a %s filter has no child filters", f.Op)
	}
	if f.Key == "" {
		return Filter{}, filterFail(at, "missing key")
	}
	if rv := reflect.ValueOf(f.Value); rv.Kind() == reflect.Slice {
		// Checked before the list is copied.
		if size.values += rv.Len(); size.values > MaxFilterValues {
			return Filter{}, filterFail(at, "in and notIn lists hold more than %d values in all (MaxFilterValues); split the search or filter on a coarser attribute", MaxFilterValues)
		}
	}
	v, err := normalizeValue(f.Value, true)
	if err != nil {
		if f.Value == nil {
			return Filter{}, filterFail(at, "missing value")
		}
		return Filter{}, filterFail(at, "%v", err)
	}
	switch x := v.(type) {
	case string:
		size.bytes += len(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				size.bytes += len(s)
			}
		}
	}
	if size.bytes > MaxFilterBytes {
		return Filter{}, filterFail(at, "keys and string values exceed %d bytes (MaxFilterBytes)", MaxFilterBytes)
	}
	if reason := leafValueProblem(f.Op, f.Value, v); reason != "" {
		return Filter{}, filterFail(at, "%s", reason)
	}
	return Filter{Op: f.Op, Key: f.Key, Value: v}, nil
}

// leafValueProblem says what is wrong with the normalised value v (given
// as raw) for op, or "" when nothing is.
func leafValueProblem(op FilterOp, raw, v any) string {
	switch op {
	case OpEquals, OpNotEquals, OpListContains:
		if _, isList := v.([]any); isList {
			return "value must be a string, number or bool, not a list"
		}
	case OpGreaterThan, OpGreaterThanOrEquals, OpLessThan, OpLessThanOrEquals:
		if _, ok := v.(float64); !ok {
			return fmt.Sprintf("value must be a number, got %T", raw)
		}
	case OpIn, OpNotIn:
		l, ok := v.([]any)
		if !ok {
			return "value must be a list"
		}
		if len(l) == 0 {
			return "value must be a non-empty list"
		}
	case OpStartsWith, OpStringContains:
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("value must be a string, got %T", raw)
		}
	}
	return ""
}

// Match reports whether metadata md satisfies f. Both must be normalised
// (see Normalize and NormalizeMetadata); stores keep metadata that way.
// Match is the reference evaluation: it scans in and notIn lists. To
// match many records, compile the filter once (Compile).
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
	}
	return leafMatch(f.Op, f.Key, f.Value, md)
}

// leafMatch evaluates a leaf operator (normalised operand v) on md.
func leafMatch(op FilterOp, key string, v any, md map[string]any) bool {
	switch op {
	case OpNotEquals:
		return !scalarEqual(md[key], v)
	case OpNotIn:
		return !inList(md[key], v)
	}
	a, ok := md[key]
	if !ok {
		return false
	}
	switch op {
	case OpEquals:
		return scalarEqual(a, v)
	case OpIn:
		return inList(a, v)
	case OpGreaterThan, OpGreaterThanOrEquals, OpLessThan, OpLessThanOrEquals:
		x, ok1 := a.(float64)
		y, ok2 := v.(float64)
		if !ok1 || !ok2 {
			return false
		}
		switch op {
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
		p, ok2 := v.(string)
		return ok1 && ok2 && strings.HasPrefix(s, p)
	case OpListContains:
		l, ok := a.([]any)
		if !ok {
			return false
		}
		for _, e := range l {
			if scalarEqual(e, v) {
				return true
			}
		}
		return false
	case OpStringContains:
		sub, ok := v.(string)
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

// UnmarshalJSON reads Bedrock's RetrievalFilter JSON and validates it
// (see the limits above; a document over 8 MiB is refused unread).
func (f *Filter) UnmarshalJSON(data []byte) error {
	if len(data) > maxFilterJSON {
		return &FilterError{Reason: fmt.Sprintf("the filter JSON is %d bytes; at most %d are read (see MaxFilterBytes and MaxFilterValues)", len(data), maxFilterJSON)}
	}
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
	if depth > MaxFilterDepth {
		return Filter{}, &FilterError{Path: path, Reason: fmt.Sprintf("nested deeper than %d levels (MaxFilterDepth)", MaxFilterDepth)}
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
	switch FilterOp(op) {
	case OpAndAll, OpOrAll:
		var kids []json.RawMessage
		if err := json.Unmarshal(body, &kids); err != nil {
			return Filter{}, &FilterError{Path: at, Reason: "value must be a list of filters"}
		}
		f := Filter{Op: FilterOp(op), Filters: make([]Filter, len(kids))}
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
		return Filter{Op: FilterOp(op), Key: *l.Key, Value: l.Value}, nil
	default:
		return Filter{}, &FilterError{Path: path, Reason: fmt.Sprintf("unknown operator %q", op)}
	}
}

// CompiledFilter is a filter prepared for matching many records: its in
// and notIn lists are hash sets, so a record costs one lookup per list
// whatever the list's length. Stores compile a query's filter once per
// search. It is safe for concurrent use.
type CompiledFilter struct {
	f    Filter
	root matchNode
}

// matchNode is one compiled operator.
type matchNode struct {
	op   FilterOp
	key  string
	val  any       // a leaf's scalar operand
	set  *valueSet // in, notIn
	kids []matchNode
}

// valueSet holds the scalar values of an in or notIn list by type.
type valueSet struct {
	strs            map[string]struct{}
	nums            map[float64]struct{} // +0 and -0 are one key, as == has it
	hasTrue, hasFal bool
}

func newValueSet(list []any) *valueSet {
	s := &valueSet{strs: map[string]struct{}{}, nums: map[float64]struct{}{}}
	for _, e := range list {
		switch x := e.(type) {
		case string:
			s.strs[x] = struct{}{}
		case float64:
			s.nums[x] = struct{}{}
		case bool:
			if x {
				s.hasTrue = true
			} else {
				s.hasFal = true
			}
		}
	}
	return s
}

// has is inList for a normalised attribute value: a scalar equal to one
// of the values (a list attribute is never in).
func (s *valueSet) has(a any) bool {
	switch x := a.(type) {
	case string:
		_, ok := s.strs[x]
		return ok
	case float64:
		_, ok := s.nums[x]
		return ok
	case bool:
		if x {
			return s.hasTrue
		}
		return s.hasFal
	}
	return false
}

// Compile validates f (see Normalize and the limits) and prepares it for
// matching many records.
func (f Filter) Compile() (*CompiledFilter, error) {
	n, err := f.Normalize()
	if err != nil {
		return nil, err
	}
	return &CompiledFilter{f: n, root: compileNode(&n)}, nil
}

func compileNode(f *Filter) matchNode {
	m := matchNode{op: f.Op, key: f.Key, val: f.Value}
	switch f.Op {
	case OpAndAll, OpOrAll:
		m.kids = make([]matchNode, len(f.Filters))
		for i := range f.Filters {
			m.kids[i] = compileNode(&f.Filters[i])
		}
		m.val = nil
	case OpIn, OpNotIn:
		l, _ := f.Value.([]any)
		m.set = newValueSet(l)
		m.val = nil
	}
	return m
}

// Filter returns the normalised filter c was compiled from.
func (c *CompiledFilter) Filter() Filter { return c.f }

// Match reports whether normalised metadata md satisfies the filter, with
// the same rules as Filter.Match.
func (c *CompiledFilter) Match(md map[string]any) bool { return c.root.match(md) }

func (m *matchNode) match(md map[string]any) bool {
	switch m.op {
	case OpAndAll:
		for i := range m.kids {
			if !m.kids[i].match(md) {
				return false
			}
		}
		return true
	case OpOrAll:
		for i := range m.kids {
			if m.kids[i].match(md) {
				return true
			}
		}
		return false
	case OpIn:
		a, ok := md[m.key]
		return ok && m.set.has(a)
	case OpNotIn:
		return !m.set.has(md[m.key])
	}
	// The other leaves evaluate as the reference does.
	return leafMatch(m.op, m.key, m.val, md)
}
