package openapitools

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxSchemaDepth bounds how deeply a schema is inlined.
const maxSchemaDepth = 48

// converter turns OpenAPI schemas (3.0 or 3.1, refs already resolved by the
// loader) into self-contained JSON Schema 2020-12 for tool arguments:
// references are inlined, a reference to a schema being inlined (a cycle)
// becomes an unconstrained value described as recursive, OpenAPI 3.0's
// nullable becomes a "null" type, readOnly properties are left out of
// requests, and patterns Go's regexp cannot compile are dropped (the
// server still checks them).
type converter struct {
	visiting map[*openapi3.Schema]string
	// dropped collects the patterns left out, for the report.
	dropped []string
	// nodes counts converted schemas; past budget the conversion stops
	// and over is set, so an exponential inlining costs bounded time.
	nodes, budget int
	over          bool
	// defsMode puts each referenced schema in defs once and refers to it
	// with {"$ref": "#/$defs/<name>"} instead of inlining it.
	defsMode bool
	defs     map[string]any
	defNames map[string]string // $ref -> defs key
}

func newConverter() *converter {
	return &converter{visiting: map[*openapi3.Schema]string{}, budget: 1 << 30}
}

var defNameRE = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// def converts a referenced schema into defs once and returns the
// reference to it.
func (c *converter) def(sr *openapi3.SchemaRef, depth int) map[string]any {
	if c.defs == nil {
		c.defs, c.defNames = map[string]any{}, map[string]string{}
	}
	name, ok := c.defNames[sr.Ref]
	if !ok {
		base := defNameRE.ReplaceAllString(refName(sr.Ref), "_")
		if base == "" {
			base = "schema"
		}
		name = base
		for i := 2; c.defs[name] != nil; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		c.defNames[sr.Ref] = name
		c.defs[name] = map[string]any{} // placeholder: a cycle refers to it
		c.defs[name] = c.convertValue(sr, depth)
	}
	return map[string]any{"$ref": "#/$defs/" + name}
}

// refName is the last segment of a $ref.
func refName(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

func (c *converter) convert(sr *openapi3.SchemaRef, depth int) map[string]any {
	if sr == nil || sr.Value == nil {
		return map[string]any{}
	}
	if c.defsMode && strings.HasPrefix(sr.Ref, "#/") {
		return c.def(sr, depth)
	}
	return c.convertValue(sr, depth)
}

func (c *converter) convertValue(sr *openapi3.SchemaRef, depth int) map[string]any {
	c.nodes++
	if c.over || c.nodes > c.budget {
		c.over = true
		return map[string]any{}
	}
	s := sr.Value
	if name, busy := c.visiting[s]; busy {
		if name == "" {
			name = "schema"
		}
		return map[string]any{"description": fmt.Sprintf("(a recursive %s value; its nested fields are not described here)", name)}
	}
	if depth > maxSchemaDepth {
		return map[string]any{"description": "(nested too deeply to describe)"}
	}
	name := refName(sr.Ref)
	c.visiting[s] = name
	defer delete(c.visiting, s)

	out := map[string]any{}
	if s.Always != nil { // a boolean schema (3.1)
		if !*s.Always {
			out["not"] = map[string]any{}
		}
		return out
	}
	setTypes(out, s)
	setAnnotations(out, s)
	setNumberBounds(out, s)
	c.setStringBounds(out, s)
	c.setArrayKeywords(out, s, depth)
	c.setObjectKeywords(out, s, depth)
	c.setCombinators(out, s, depth)
	return out
}

// setTypes sets "type": one name or a list, with "null" for a nullable
// (3.0) schema.
func setTypes(out map[string]any, s *openapi3.Schema) {
	types := []string{}
	if s.Type != nil {
		types = append(types, s.Type.Slice()...)
	}
	if s.Nullable && len(types) > 0 && !containsStr(types, "null") {
		types = append(types, "null")
	}
	switch len(types) {
	case 0:
	case 1:
		out["type"] = types[0]
	default:
		anyT := make([]any, len(types))
		for i, t := range types {
			anyT[i] = t
		}
		out["type"] = anyT
	}
}

// setAnnotations sets title, format, description (marking deprecation),
// enum (with null for a nullable schema), const and default.
func setAnnotations(out map[string]any, s *openapi3.Schema) {
	setStr(out, "title", s.Title)
	setStr(out, "format", s.Format)
	desc := s.Description
	if s.Deprecated {
		desc = strings.TrimSpace("(deprecated) " + desc)
	}
	setStr(out, "description", desc)
	if len(s.Enum) > 0 {
		enum := make([]any, 0, len(s.Enum)+1)
		enum = append(enum, s.Enum...)
		if s.Nullable && !containsAny(enum, nil) {
			enum = append(enum, nil)
		}
		out["enum"] = enum
	}
	if s.Const != nil {
		out["const"] = s.Const
	}
	if s.Default != nil {
		out["default"] = s.Default
	}
}

// setNumberBounds sets the numeric bounds, mapping 3.0's boolean
// exclusiveMinimum and exclusiveMaximum onto 3.1's numbers.
func setNumberBounds(out map[string]any, s *openapi3.Schema) {
	if s.Min != nil {
		if s.ExclusiveMin.IsTrue() {
			out["exclusiveMinimum"] = *s.Min
		} else {
			out["minimum"] = *s.Min
		}
	}
	if s.ExclusiveMin.Value != nil {
		out["exclusiveMinimum"] = *s.ExclusiveMin.Value
	}
	if s.Max != nil {
		if s.ExclusiveMax.IsTrue() {
			out["exclusiveMaximum"] = *s.Max
		} else {
			out["maximum"] = *s.Max
		}
	}
	if s.ExclusiveMax.Value != nil {
		out["exclusiveMaximum"] = *s.ExclusiveMax.Value
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		out["multipleOf"] = *s.MultipleOf
	}
}

// setStringBounds sets the length bounds and the pattern, which is dropped
// (and noted) when Go cannot compile it.
func (c *converter) setStringBounds(out map[string]any, s *openapi3.Schema) {
	if s.MinLength > 0 {
		out["minLength"] = s.MinLength
	}
	if s.MaxLength != nil {
		out["maxLength"] = *s.MaxLength
	}
	if s.Pattern != "" {
		if _, err := regexp.Compile(s.Pattern); err == nil {
			out["pattern"] = s.Pattern
		} else {
			c.dropped = append(c.dropped, "pattern "+s.Pattern)
		}
	}
}

func (c *converter) setArrayKeywords(out map[string]any, s *openapi3.Schema, depth int) {
	if s.MinItems > 0 {
		out["minItems"] = s.MinItems
	}
	if s.MaxItems != nil {
		out["maxItems"] = *s.MaxItems
	}
	if s.UniqueItems {
		out["uniqueItems"] = true
	}
	if s.Items != nil {
		out["items"] = c.convert(s.Items, depth+1)
	}
	if len(s.PrefixItems) > 0 {
		out["prefixItems"] = c.list(s.PrefixItems, depth)
	}
}

// setObjectKeywords sets the properties (leaving out read-only ones, and
// the required names they took along), the property counts and
// additionalProperties.
func (c *converter) setObjectKeywords(out map[string]any, s *openapi3.Schema, depth int) {
	if len(s.Properties) > 0 {
		props := map[string]any{}
		for _, k := range sortedKeys(s.Properties) {
			p := s.Properties[k]
			if p != nil && p.Value != nil && p.Value.ReadOnly {
				continue // response-only: never sent
			}
			props[k] = c.convert(p, depth+1)
		}
		out["properties"] = props
		var req []any
		for _, r := range s.Required {
			if _, ok := props[r]; ok {
				req = append(req, r)
			}
		}
		if len(req) > 0 {
			out["required"] = req
		}
	} else if len(s.Required) > 0 {
		req := make([]any, len(s.Required))
		for i, r := range s.Required {
			req[i] = r
		}
		out["required"] = req
	}
	if s.MinProps > 0 {
		out["minProperties"] = s.MinProps
	}
	if s.MaxProps != nil {
		out["maxProperties"] = *s.MaxProps
	}
	if ap := s.AdditionalProperties; ap.Has != nil && !*ap.Has {
		out["additionalProperties"] = false
	} else if ap.Schema != nil {
		out["additionalProperties"] = c.convert(ap.Schema, depth+1)
	}
}

func (c *converter) setCombinators(out map[string]any, s *openapi3.Schema, depth int) {
	if len(s.AllOf) > 0 {
		out["allOf"] = c.list(s.AllOf, depth)
	}
	if len(s.AnyOf) > 0 {
		out["anyOf"] = c.list(s.AnyOf, depth)
	}
	if len(s.OneOf) > 0 {
		out["oneOf"] = c.list(s.OneOf, depth)
	}
	if s.Not != nil {
		out["not"] = c.convert(s.Not, depth+1)
	}
}

func (c *converter) list(srs openapi3.SchemaRefs, depth int) []any {
	out := make([]any, 0, len(srs))
	for _, sr := range srs {
		out = append(out, c.convert(sr, depth+1))
	}
	return out
}

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func containsAny(xs []any, v any) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
