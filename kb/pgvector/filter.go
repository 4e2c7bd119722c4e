package pgvector

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/bedrockkit/bedrockkit/kb"
)

// WhereClause compiles a kb.Filter to a boolean SQL expression over the
// JSONB column named column, with placeholders numbered from $(firstArg) and
// their values in args. As a WHERE condition it selects exactly the rows
// kb.Filter.Match accepts (type-strict comparisons, absent keys match
// notEquals and notIn) and never fails at run time on metadata of an
// unexpected type. It is true for matching rows and false or NULL for the
// others (NULL where an equals or in meets an absent key, so that an
// expression index on (column -> 'key') can serve it): wrap it in
// coalesce(..., false) before negating it. Keys are written as SQL string
// literals, values are parameters.
//
// The Store uses it for every filtered search; it is exported for callers
// that query the table with their own SQL.
func WhereClause(f kb.Filter, column string, firstArg int) (sql string, args []any, err error) {
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
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	s := "$" + strconv.Itoa(c.next)
	c.next++
	return s
}

// jsonArg binds a normalised scalar as a jsonb parameter.
func (c *compiler) jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return c.arg(string(b)) + "::jsonb", nil
}

// quoteLiteral writes s as a standard-conforming SQL string literal.
func quoteLiteral(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", &kb.FilterError{Reason: fmt.Sprintf("key %q contains a NUL byte, which PostgreSQL cannot store", s)}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

func (c *compiler) expr(b *strings.Builder, f kb.Filter) error {
	switch f.Op {
	case kb.OpAndAll, kb.OpOrAll:
		join := " AND "
		if f.Op == kb.OpOrAll {
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
	key, err := quoteLiteral(f.Key)
	if err != nil {
		return err
	}
	attr := "(" + c.col + " -> " + key + ")"
	typeIs := func(t string) string { return "jsonb_typeof" + attr + " = '" + t + "'" }
	switch f.Op {
	case kb.OpEquals, kb.OpNotEquals:
		v, err := c.jsonArg(f.Value)
		if err != nil {
			return err
		}
		// jsonb equality is type-strict (1 <> "1") and compares numbers by
		// value; a list never equals a scalar. An absent key gives NULL,
		// which is not true; the bare comparison lets an expression index
		// on (column -> key) serve it. The negation needs coalesce.
		eq := "(" + attr + " = " + v + ")"
		if f.Op == kb.OpNotEquals {
			eq = "(NOT coalesce(" + attr + " = " + v + ", false))"
		}
		b.WriteString(eq)
	case kb.OpIn, kb.OpNotIn:
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
		if f.Op == kb.OpNotIn {
			in = "(NOT coalesce(" + attr + " IN (" + strings.Join(elems, ", ") + "), false))"
		}
		b.WriteString(in)
	case kb.OpGreaterThan, kb.OpGreaterThanOrEquals, kb.OpLessThan, kb.OpLessThanOrEquals:
		op := map[kb.Op]string{kb.OpGreaterThan: ">", kb.OpGreaterThanOrEquals: ">=", kb.OpLessThan: "<", kb.OpLessThanOrEquals: "<="}[f.Op]
		v := c.arg(f.Value) + "::float8"
		// CASE guarantees the cast only runs on numbers.
		fmt.Fprintf(b, "(CASE WHEN %s THEN %s::float8 %s %s ELSE false END)", typeIs("number"), attr, op, v)
	case kb.OpStartsWith:
		v := c.arg(f.Value) + "::text"
		fmt.Fprintf(b, "(CASE WHEN %s THEN starts_with(%s ->> %s, %s) ELSE false END)", typeIs("string"), c.col, key, v)
	case kb.OpListContains:
		v, err := c.jsonArg(f.Value)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "(CASE WHEN %s THEN %s @> jsonb_build_array(%s) ELSE false END)", typeIs("array"), attr, v)
	case kb.OpStringContains:
		v := c.arg(f.Value) + "::text"
		fmt.Fprintf(b, "(CASE jsonb_typeof%s WHEN 'string' THEN strpos(%s ->> %s, %s) > 0 "+
			"WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS e(v) WHERE jsonb_typeof(e.v) = 'string' AND strpos(e.v #>> '{}', %s) > 0) "+
			"ELSE false END)", attr, c.col, key, v, attr, v)
	default:
		return &kb.FilterError{Path: string(f.Op), Reason: "operator not supported by the pgvector store"}
	}
	return nil
}
