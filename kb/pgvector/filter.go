package pgvector

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// WhereClause compiles a kbstore.Filter to a boolean SQL expression over the
// JSONB column named column, with placeholders numbered from $(firstArg) and
// their values in args. As a WHERE condition it selects exactly the rows
// kbstore.Filter.Match accepts (type-strict comparisons, absent keys match
// notEquals and notIn) and never fails at run time on metadata of an
// unexpected type. It is true for matching rows and false or NULL for the
// others (NULL where an equals or in meets an absent key, so that an
// expression index on (column -> 'key') can serve it): wrap it in
// coalesce(..., false) before negating it.
//
// Keys and values are bind parameters, never SQL text: the expression is safe
// whatever the session's standard_conforming_strings. The only text written
// into it is column, which must be a trusted SQL expression. A key or string
// value holding a NUL byte or invalid UTF-8 (which PostgreSQL text cannot
// hold, and no stored record can match) is a *kbstore.FilterError. An expression
// index on (column -> 'key') serves a key parameter only in a custom plan
// (PostgreSQL substitutes the parameter before planning): the Store plans
// every search that way; with your own SQL, set plan_cache_mode to
// force_custom_plan for the same effect.
//
// The Store uses it for every filtered search; it is exported for callers
// that query the table with their own SQL.
func WhereClause(f kbstore.Filter, column string, firstArg int) (sql string, args []any, err error) {
	n, err := f.Normalize()
	if err != nil {
		return "", nil, err
	}
	c := &compiler{col: column, next: firstArg}
	var b strings.Builder
	if err := c.expr(&b, n); err != nil {
		return "", nil, err
	}
	return b.String(), c.args, nil
}

type compiler struct {
	col  string
	next int
	args []any
	keys map[string]string // key -> its placeholder, each key bound once
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	s := "$" + strconv.Itoa(c.next)
	c.next++
	return s
}

// key binds a filter key as a text parameter (once per distinct key).
func (c *compiler) key(k string) (string, error) {
	if err := checkFilterText("key", k); err != nil {
		return "", err
	}
	if p, ok := c.keys[k]; ok {
		return p, nil
	}
	if c.keys == nil {
		c.keys = map[string]string{}
	}
	p := c.arg(k) + "::text"
	c.keys[k] = p
	return p, nil
}

// jsonArg binds a normalised scalar as a jsonb parameter.
func (c *compiler) jsonArg(v any) (string, error) {
	if s, ok := v.(string); ok {
		if err := checkFilterText("value", s); err != nil {
			return "", err
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", &kbstore.FilterError{Reason: fmt.Sprintf("value %v cannot be encoded: %v", v, err)}
	}
	return c.arg(string(b)) + "::jsonb", nil
}

// textArg binds a string value as a text parameter.
func (c *compiler) textArg(v any) (string, error) {
	s, _ := v.(string)
	if err := checkFilterText("value", s); err != nil {
		return "", err
	}
	return c.arg(s) + "::text", nil
}

// checkFilterText refuses what PostgreSQL text and jsonb cannot hold, before
// it reaches the server.
func checkFilterText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return &kbstore.FilterError{Reason: fmt.Sprintf("%s %q contains a NUL byte, which PostgreSQL cannot store", what, s)}
	}
	if !utf8.ValidString(s) {
		return &kbstore.FilterError{Reason: fmt.Sprintf("%s %q is not valid UTF-8", what, s)}
	}
	return nil
}

// quoteLiteral writes s as an escape string literal (E'...'), which means
// the same whatever standard_conforming_strings is. Only DDL uses it (for
// the configured IndexedKeys), since DDL takes no parameters.
func quoteLiteral(s string) (string, error) {
	if err := checkFilterText("key", s); err != nil {
		return "", err
	}
	return "E'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(s) + "'", nil
}

// expr writes f as an SQL condition on the metadata column, adding its
// values as parameters.
func (c *compiler) expr(b *strings.Builder, f kbstore.Filter) error {
	switch f.Op {
	case kbstore.OpAndAll, kbstore.OpOrAll:
		return c.logical(b, f)
	}
	key, err := c.key(f.Key)
	if err != nil {
		return err
	}
	attr := "(" + c.col + " -> " + key + ")"
	switch f.Op {
	case kbstore.OpEquals, kbstore.OpNotEquals:
		return c.equals(b, f, attr)
	case kbstore.OpIn, kbstore.OpNotIn:
		return c.in(b, f, attr)
	case kbstore.OpGreaterThan, kbstore.OpGreaterThanOrEquals, kbstore.OpLessThan, kbstore.OpLessThanOrEquals:
		op := map[kbstore.FilterOp]string{kbstore.OpGreaterThan: ">", kbstore.OpGreaterThanOrEquals: ">=", kbstore.OpLessThan: "<", kbstore.OpLessThanOrEquals: "<="}[f.Op]
		v := c.arg(f.Value) + "::float8"
		// CASE guarantees the cast only runs on numbers.
		fmt.Fprintf(b, "(CASE WHEN %s THEN %s::float8 %s %s ELSE false END)", jsonTypeIs(attr, "number"), attr, op, v)
		return nil
	case kbstore.OpStartsWith, kbstore.OpListContains, kbstore.OpStringContains:
		return c.contains(b, f, key, attr)
	default:
		return &kbstore.FilterError{Path: string(f.Op), Reason: "operator not supported by the pgvector store"}
	}
}

// jsonTypeIs is the condition that the jsonb value attr has type t.
func jsonTypeIs(attr, t string) string { return "jsonb_typeof" + attr + " = '" + t + "'" }

// logical writes an AND or OR of f's filters.
func (c *compiler) logical(b *strings.Builder, f kbstore.Filter) error {
	join := " AND "
	if f.Op == kbstore.OpOrAll {
		join = " OR "
	}
	b.WriteByte('(')
	for i, k := range f.Filters {
		if i > 0 {
			b.WriteString(join)
		}
		if err := c.expr(b, k); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

// equals writes an equality or inequality test of the value attr.
func (c *compiler) equals(b *strings.Builder, f kbstore.Filter, attr string) error {
	v, err := c.jsonArg(f.Value)
	if err != nil {
		return err
	}
	// jsonb equality is type-strict (1 <> "1") and compares numbers by
	// value; a list never equals a scalar. An absent key gives NULL,
	// which is not true; the bare comparison lets an expression index
	// on (column -> key) serve it. The negation needs coalesce.
	eq := "(" + attr + " = " + v + ")"
	if f.Op == kbstore.OpNotEquals {
		eq = "(NOT coalesce(" + attr + " = " + v + ", false))"
	}
	b.WriteString(eq)
	return nil
}

// in writes a test that the value attr is (or is not) one of a list.
func (c *compiler) in(b *strings.Builder, f kbstore.Filter, attr string) error {
	list, _ := f.Value.([]any)
	elems := make([]string, len(list))
	for i, e := range list {
		v, err := c.jsonArg(e)
		if err != nil {
			return err
		}
		elems[i] = v
	}
	in := "(" + attr + " IN (" + strings.Join(elems, ", ") + "))"
	if f.Op == kbstore.OpNotIn {
		in = "(NOT coalesce(" + attr + " IN (" + strings.Join(elems, ", ") + "), false))"
	}
	b.WriteString(in)
	return nil
}

// contains writes a prefix, list-membership or substring test of the value
// attr (at key).
func (c *compiler) contains(b *strings.Builder, f kbstore.Filter, key, attr string) error {
	switch f.Op {
	case kbstore.OpStartsWith:
		v, err := c.textArg(f.Value)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "(CASE WHEN %s THEN starts_with(%s ->> %s, %s) ELSE false END)", jsonTypeIs(attr, "string"), c.col, key, v)
	case kbstore.OpListContains:
		v, err := c.jsonArg(f.Value)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "(CASE WHEN %s THEN %s @> jsonb_build_array(%s) ELSE false END)", jsonTypeIs(attr, "array"), attr, v)
	case kbstore.OpStringContains:
		v, err := c.textArg(f.Value)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "(CASE jsonb_typeof%s WHEN 'string' THEN strpos(%s ->> %s, %s) > 0 "+
			"WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS e(v) WHERE jsonb_typeof(e.v) = 'string' AND strpos(e.v #>> '{}', %s) > 0) "+
			"ELSE false END)", attr, c.col, key, v, attr, v)
	}
	return nil
}
