package pgvector

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
)

var placeholderRe = regexp.MustCompile(`\$(\d+)`)

// FuzzWhereClause: any filter kb accepts compiles or is refused as an
// invalid filter; the placeholders used are exactly
// firstArg..firstArg+len(args)-1, each key and value is one of the args, and
// the only string literals in the SQL are the fixed type names the compiler
// writes: no key or value is ever SQL text, whatever it holds.
func FuzzWhereClause(f *testing.F) {
	for _, s := range []string{
		`{"equals":{"key":"a","value":1}}`,
		`{"andAll":[{"in":{"key":"it's","value":["x",2]}},{"notEquals":{"key":"b","value":true}}]}`,
		`{"orAll":[{"startsWith":{"key":"a'); DROP TABLE t; --","value":"p"}},{"listContains":{"key":"t","value":"x"}},{"stringContains":{"key":"s","value":"y"}}]}`,
		`{"lessThanOrEquals":{"key":"n","value":2.5}}`,
		`{"notIn":{"key":"$1","value":["$2"]}}`,
		`{"equals":{"key":"x\\' OR true --","value":"\\'"}}`,
		`{"stringContains":{"key":"k","value":"\u0000"}}`,
		`{"andAll":[{"equals":{"key":"k","value":1}},{"greaterThan":{"key":"k","value":0}}]}`,
	} {
		f.Add(s, 1)
	}
	allowed := map[string]bool{"string": true, "number": true, "array": true, "{}": true}
	f.Fuzz(func(t *testing.T, s string, first int) {
		var flt kb.Filter
		if json.Unmarshal([]byte(s), &flt) != nil {
			return
		}
		first = 1 + (first&0xffff)%50
		sql, args, err := WhereClause(flt, "m", first)
		if err != nil {
			if !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Fatalf("error not ErrInvalidInput: %v", err)
			}
			return
		}
		if strings.ContainsRune(sql, '\\') {
			t.Fatalf("a backslash in %s", sql)
		}
		// Every literal is a fixed type name ('' never occurs inside one).
		var outside strings.Builder
		for rest := sql; ; {
			i := strings.IndexByte(rest, '\'')
			if i < 0 {
				outside.WriteString(rest)
				break
			}
			outside.WriteString(rest[:i])
			j := strings.IndexByte(rest[i+1:], '\'')
			if j < 0 {
				t.Fatalf("unterminated literal in %s", sql)
			}
			if lit := rest[i+1 : i+1+j]; !allowed[lit] {
				t.Fatalf("literal %q in %s", lit, sql)
			}
			rest = rest[i+2+j:]
		}
		seen := map[int]bool{}
		for _, m := range placeholderRe.FindAllStringSubmatch(outside.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			if n < first || n >= first+len(args) {
				t.Fatalf("placeholder $%d outside %d..%d in %s", n, first, first+len(args)-1, sql)
			}
			seen[n] = true
		}
		if len(seen) != len(args) {
			t.Fatalf("%d args but %d placeholders used in %s", len(args), len(seen), sql)
		}
		if strings.Count(outside.String(), "(") != strings.Count(outside.String(), ")") {
			t.Fatalf("unbalanced parentheses in %s", sql)
		}
		// Each key is bound once, as a text argument.
		var keys func(kb.Filter)
		keys = func(f kb.Filter) {
			if f.Key != "" && !slices.Contains(args, any(f.Key)) {
				t.Fatalf("key %q is not an argument of %s (args %v)", f.Key, sql, args)
			}
			for _, c := range f.Filters {
				keys(c)
			}
		}
		keys(flt)
	})
}

// quoteLiteral (DDL only) writes an escape string: it reads the same under
// either standard_conforming_strings setting.
func TestQuoteLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"a":       `E'a'`,
		"it's":    `E'it''s'`,
		`back\`:   `E'back\\'`,
		`\'); --`: `E'\\''); --'`,
	} {
		got, err := quoteLiteral(in)
		if err != nil || got != want {
			t.Errorf("quoteLiteral(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"a\x00", "\xff"} {
		if _, err := quoteLiteral(bad); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("quoteLiteral(%q): %v", bad, err)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	for name, o := range map[string]Options{
		"no dimensions":  {},
		"bad table":      {Dimensions: 3, Table: "Chunks; DROP"},
		"long table":     {Dimensions: 3, Table: strings.Repeat("a", 31)},
		"distance":       {Dimensions: 3, Distance: "manhattan"},
		"index":          {Dimensions: 3, Index: "lsh"},
		"hnsw dims":      {Dimensions: 3000},
		"hnsw m":         {Dimensions: 3, HNSW: HNSWOptions{M: 1}},
		"mode":           {Dimensions: 3, Search: "fast"},
		"ts config":      {Dimensions: 3, TextSearchConfig: "english'"},
		"indexed key":    {Dimensions: 3, IndexedKeys: []string{"a\x00"}},
		"empty grant":    {Dimensions: 3, GrantTo: []string{""}},
		"max scan tuple": {Dimensions: 3, MaxScanTuples: -1},
	} {
		if _, err := o.withDefaults(); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	o, err := Options{Dimensions: 3, RowLevelSecurity: true}.withDefaults()
	if err != nil || !o.RequirePartition || o.Table != "bedrockkit_chunks" || o.Distance != Cosine || o.Index != HNSW || o.Search != Auto {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	if o, _ := (Options{Dimensions: 3000, Index: NoIndex}).withDefaults(); o.Dimensions != 3000 {
		t.Fatal("NoIndex should allow more than 2000 dimensions")
	}
}

func TestAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"0.8.0": true, "0.8": true, "0.10.1": true, "1.0.0": true, "0.7.4": false, "0.5": false, "": false, "x": false} {
		if got := atLeast(v, 0, 8); got != want {
			t.Errorf("atLeast(%q, 0, 8) = %v", v, got)
		}
	}
}
