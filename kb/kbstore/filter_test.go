package kbstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

func md(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	n, err := NormalizeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFilterMatch(t *testing.T) {
	rec := md(t, map[string]any{
		"type":  "faq",
		"year":  2021,
		"score": 4.5,
		"draft": false,
		"tags":  []string{"fees", "cards"},
		"nums":  []int{1, 2, 3},
		"title": "Card loss policy",
	})
	cases := []struct {
		name string
		f    Filter
		want bool
	}{
		{"equals string", equals("type", "faq"), true},
		{"equals string other", equals("type", "policy"), false},
		{"equals number int vs float", equals("year", 2021.0), true},
		{"equals bool", equals("draft", false), true},
		{"equals missing key", equals("nope", "faq"), false},
		{"equals type mismatch", equals("year", "2021"), false},
		{"equals list attribute", equals("tags", "fees"), false},
		{"notEquals differs", notEquals("type", "policy"), true},
		{"notEquals same", notEquals("type", "faq"), false},
		{"notEquals missing key", notEquals("nope", "x"), true},
		{"notEquals type mismatch", notEquals("year", "2021"), true},
		{"gt", greaterThan("year", 2020), true},
		{"gt equal", greaterThan("year", 2021), false},
		{"gte equal", greaterThanOrEquals("year", 2021), true},
		{"lt", lessThan("score", 5), true},
		{"lt equal", lessThan("score", 4.5), false},
		{"lte equal", lessThanOrEquals("score", 4.5), true},
		{"gt missing", greaterThan("nope", 1), false},
		{"gt on string", greaterThan("type", 1), false},
		{"lt on string", lessThan("type", 1), false},
		{"in hit", oneOf("type", "policy", "faq"), true},
		{"in miss", oneOf("type", "policy", "guide"), false},
		{"in number", oneOf("year", 2020, 2021), true},
		{"in missing", oneOf("nope", "faq"), false},
		{"in type mismatch", oneOf("year", "2021"), false},
		{"notIn miss", noneOf("type", "policy"), true},
		{"notIn hit", noneOf("type", "faq", "x"), false},
		{"notIn missing", noneOf("nope", "x"), true},
		{"startsWith", startsWith("title", "Card"), true},
		{"startsWith case", startsWith("title", "card"), false},
		{"startsWith on number", startsWith("year", "20"), false},
		{"startsWith missing", startsWith("nope", ""), false},
		{"listContains", listContains("tags", "cards"), true},
		{"listContains miss", listContains("tags", "loans"), false},
		{"listContains number", listContains("nums", 2), true},
		{"listContains number as string", listContains("nums", "2"), false},
		{"listContains on scalar", listContains("type", "faq"), false},
		{"listContains missing", listContains("nope", "x"), false},
		{"stringContains", stringContains("title", "loss"), true},
		{"stringContains miss", stringContains("title", "gain"), false},
		{"stringContains list", stringContains("tags", "ard"), true},
		{"stringContains number", stringContains("year", "20"), false},
		{"stringContains missing", stringContains("nope", ""), false},
		{"andAll true", andAll(equals("type", "faq"), greaterThan("year", 2000)), true},
		{"andAll false", andAll(equals("type", "faq"), greaterThan("year", 2030)), false},
		{"orAll true", orAll(equals("type", "x"), greaterThan("year", 2000)), true},
		{"orAll false", orAll(equals("type", "x"), greaterThan("year", 2030)), false},
		{"nested", orAll(andAll(equals("type", "faq"), equals("draft", true)), andAll(listContains("tags", "fees"), noneOf("year", 1999, 2000))), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := c.f.Normalize()
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got := f.Match(rec); got != c.want {
				t.Fatalf("Match = %v, want %v", got, c.want)
			}
			// The JSON round trip must not change the meaning.
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var g Filter
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !reflect.DeepEqual(f, g) {
				t.Fatalf("round trip changed the filter:\n%#v\n%#v", f, g)
			}
			if got := g.Match(rec); got != c.want {
				t.Fatalf("after round trip Match = %v, want %v", got, c.want)
			}
		})
	}
	// Empty metadata: only the negative operators match.
	for _, c := range cases {
		f, _ := c.f.Normalize()
		want := f.Op == OpNotEquals || f.Op == OpNotIn
		if f.Op == OpAndAll || f.Op == OpOrAll {
			continue
		}
		if got := f.Match(nil); got != want {
			t.Errorf("%s on empty metadata = %v, want %v", c.name, got, want)
		}
	}
}

func TestFilterBedrockJSON(t *testing.T) {
	// The exact JSON shapes of Bedrock's RetrievalFilter.
	cases := []struct {
		json string
		want Filter
	}{
		{`{"equals":{"key":"type","value":"faq"}}`, equals("type", "faq")},
		{`{"notEquals":{"key":"n","value":3}}`, notEquals("n", 3)},
		{`{"greaterThan":{"key":"year","value":2020}}`, greaterThan("year", 2020)},
		{`{"greaterThanOrEquals":{"key":"year","value":2020.5}}`, greaterThanOrEquals("year", 2020.5)},
		{`{"lessThan":{"key":"year","value":-1}}`, lessThan("year", -1)},
		{`{"lessThanOrEquals":{"key":"year","value":0}}`, lessThanOrEquals("year", 0)},
		{`{"in":{"key":"type","value":["a","b"]}}`, oneOf("type", "a", "b")},
		{`{"notIn":{"key":"n","value":[1,2]}}`, noneOf("n", 1, 2)},
		{`{"startsWith":{"key":"title","value":"Card"}}`, startsWith("title", "Card")},
		{`{"listContains":{"key":"tags","value":"fees"}}`, listContains("tags", "fees")},
		{`{"stringContains":{"key":"title","value":"loss"}}`, stringContains("title", "loss")},
		{`{"equals":{"key":"draft","value":true}}`, equals("draft", true)},
		{`{"andAll":[{"equals":{"key":"a","value":"x"}},{"orAll":[{"in":{"key":"b","value":[1]}},{"notEquals":{"key":"c","value":false}}]}]}`,
			andAll(equals("a", "x"), orAll(oneOf("b", 1), notEquals("c", false)))},
	}
	for _, c := range cases {
		var got Filter
		if err := json.Unmarshal([]byte(c.json), &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", c.json, err)
		}
		want, err := c.want.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Unmarshal(%s) = %#v, want %#v", c.json, got, want)
		}
		out, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.json {
			t.Errorf("Marshal = %s, want %s", out, c.json)
		}
	}
}

func TestFilterInvalid(t *testing.T) {
	bad := []Filter{
		{},
		{Op: "like", Key: "a", Value: "x"},
		equals("", "x"),
		{Op: OpEquals, Key: "a"},
		equals("a", []string{"x"}),
		greaterThan("a", "x"),
		lessThan("a", true),
		oneOf("a"),
		{Op: OpIn, Key: "a", Value: "x"},
		{Op: OpStartsWith, Key: "a", Value: 3},
		{Op: OpStringContains, Key: "a", Value: true},
		listContains("a", []any{"x"}),
		andAll(equals("a", "x")),
		orAll(),
		andAll(equals("a", "x"), Filter{Op: "bogus"}),
		{Op: OpAndAll, Key: "a", Filters: []Filter{equals("a", 1), equals("b", 2)}},
		{Op: OpEquals, Key: "a", Value: "x", Filters: []Filter{equals("a", 1)}},
		{Op: OpEquals, Key: "a", Value: map[string]any{"x": 1}},
	}
	for i, f := range bad {
		err := f.Validate()
		if err == nil {
			t.Errorf("%d: Validate(%#v) = nil, want error", i, f)
			continue
		}
		var fe *FilterError
		if !errors.As(err, &fe) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%d: error %v is not a *FilterError wrapping ErrInvalidInput", i, err)
		}
		if _, err := json.Marshal(f); err == nil {
			t.Errorf("%d: Marshal of invalid filter succeeded", i)
		}
	}
	badJSON := []string{
		`null`, `[]`, `"x"`, `{}`,
		`{"equals":{"key":"a","value":"x"},"notEquals":{"key":"a","value":"y"}}`,
		`{"equals":{"value":"x"}}`,
		`{"equals":{"key":"a"}}`,
		`{"equals":{"key":"a","value":"x","extra":1}}`,
		`{"equals":{"key":"a","value":{"x":1}}}`,
		`{"andAll":[{"equals":{"key":"a","value":"x"}}]}`,
		`{"orAll":{"equals":{"key":"a","value":"x"}}}`,
		`{"regex":{"key":"a","value":"x"}}`,
		`{"in":{"key":"a","value":[]}}`,
		`{"greaterThan":{"key":"a","value":"1"}}`,
	}
	for _, s := range badJSON {
		var f Filter
		if err := json.Unmarshal([]byte(s), &f); err == nil {
			t.Errorf("Unmarshal(%s) = nil error", s)
		}
	}
}

func TestFilterDepthLimit(t *testing.T) {
	f := equals("a", 1)
	for range MaxFilterDepth + 2 {
		f = andAll(f, equals("b", 2))
	}
	if err := f.Validate(); err == nil {
		t.Fatal("a filter nested too deep was accepted")
	}
}

// bigList returns n distinct values: strings, numbers and the two bools.
func bigList(n int) []any {
	out := make([]any, 0, n)
	for i := range n {
		switch i % 3 {
		case 0:
			out = append(out, fmt.Sprint("v", i))
		default:
			out = append(out, float64(i))
		}
	}
	return out
}

// TestFilterLimits: every documented limit is enforced by Validate, by
// UnmarshalJSON and by Compile, with a *FilterError matching
// ErrInvalidInput that names the limit; at the limit the filter is fine.
func TestFilterLimits(t *testing.T) {
	ok := []Filter{
		oneOf("k", bigList(MaxFilterValues)...),
		andAll(oneOf("a", bigList(MaxFilterValues/2)...), noneOf("b", bigList(MaxFilterValues/2)...)),
		equals("k", strings.Repeat("x", MaxFilterBytes-1)),
	}
	for i, f := range ok {
		if err := f.Validate(); err != nil {
			t.Errorf("ok %d: %v", i, err)
		}
		if _, err := f.Compile(); err != nil {
			t.Errorf("ok %d: Compile: %v", i, err)
		}
	}
	many := make([]Filter, MaxFilterNodes)
	for i := range many {
		many[i] = equals("k", i)
	}
	bad := map[string]Filter{
		"MaxFilterValues (one list)":    oneOf("k", bigList(MaxFilterValues+1)...),
		"MaxFilterValues (two lists)":   orAll(oneOf("a", bigList(MaxFilterValues/2+1)...), noneOf("b", bigList(MaxFilterValues/2)...)),
		"MaxFilterNodes":                orAll(many...),
		"MaxFilterBytes (one value)":    equals("k", strings.Repeat("x", MaxFilterBytes+1)),
		"MaxFilterBytes (list strings)": oneOf("k", strings.Repeat("x", MaxFilterBytes/2), strings.Repeat("y", MaxFilterBytes/2+1)),
		"MaxFilterBytes (keys)":         startsWith(strings.Repeat("k", MaxFilterBytes+1), "x"),
	}
	for name, f := range bad {
		for how, err := range map[string]error{"Validate": f.Validate(), "Compile": compileErr(f)} {
			var fe *FilterError
			if !errors.As(err, &fe) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Errorf("%s: %s = %v, want a *FilterError matching ErrInvalidInput", name, how, err)
				continue
			}
			limit := strings.Fields(name)[0]
			if !strings.Contains(err.Error(), limit) {
				t.Errorf("%s: %s error %q does not name %s", name, how, err, limit)
			}
		}
		// The same filter as JSON (built by hand: Marshal refuses it).
		if b, err := f.marshal(); err == nil {
			var g Filter
			if err := json.Unmarshal(b, &g); !errors.Is(err, bedrockkit.ErrInvalidInput) {
				t.Errorf("%s: UnmarshalJSON = %v, want ErrInvalidInput", name, err)
			}
		}
	}
	// A JSON document larger than any valid filter is refused before it is
	// parsed.
	huge := `{"in":{"key":"k","value":["` + strings.Repeat("x", maxFilterJSON) + `"]}}`
	var g Filter
	if err := json.Unmarshal([]byte(huge), &g); !errors.Is(err, bedrockkit.ErrInvalidInput) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("UnmarshalJSON of %d bytes = %v", len(huge), err)
	}
}

func compileErr(f Filter) error {
	_, err := f.Compile()
	return err
}

// randomMeta returns metadata drawn from a small vocabulary so filters
// match sometimes.
func randomMeta(r *rand.Rand) map[string]any {
	vals := []any{"a", "b", "v3", "v6", 0.0, math.Copysign(0, -1), 1.0, 2.0, 4.0, true, false, ""}
	md := map[string]any{}
	for _, k := range []string{"k", "l", "m"} {
		switch r.IntN(4) {
		case 0:
		case 1:
			var l []any
			for range r.IntN(4) {
				l = append(l, vals[r.IntN(len(vals))])
			}
			md[k] = l
		default:
			md[k] = vals[r.IntN(len(vals))]
		}
	}
	return md
}

func randomFilter(r *rand.Rand, depth int) Filter {
	keys := []string{"k", "l", "m", "z"}
	vals := []any{"a", "b", "v3", "", 0.0, math.Copysign(0, -1), 1.0, 2.0, true, false}
	key := keys[r.IntN(len(keys))]
	val := vals[r.IntN(len(vals))]
	list := func() []any {
		var l []any
		n := 1 + r.IntN(5)
		if r.IntN(3) == 0 {
			n = 50 + r.IntN(100) // long enough for the hash sets
		}
		for range n {
			if r.IntN(4) == 0 {
				l = append(l, vals[r.IntN(len(vals))])
			} else {
				l = append(l, bigList(200)[r.IntN(200)])
			}
		}
		return l
	}
	if depth < 3 && r.IntN(3) == 0 {
		kids := make([]Filter, 2+r.IntN(3))
		for i := range kids {
			kids[i] = randomFilter(r, depth+1)
		}
		if r.IntN(2) == 0 {
			return andAll(kids...)
		}
		return orAll(kids...)
	}
	s, _ := val.(string)
	switch r.IntN(11) {
	case 0:
		return equals(key, val)
	case 1:
		return notEquals(key, val)
	case 2:
		return greaterThan(key, float64(r.IntN(5)))
	case 3:
		return lessThanOrEquals(key, float64(r.IntN(5)))
	case 4:
		return oneOf(key, list()...)
	case 5:
		return noneOf(key, list()...)
	case 6:
		return startsWith(key, s)
	case 7:
		return listContains(key, val)
	case 8:
		return stringContains(key, s)
	case 9:
		return greaterThanOrEquals(key, 1.0)
	default:
		return lessThan(key, 2.0)
	}
}

// TestCompiledFilterAgrees: the compiled matcher (hash sets) answers
// exactly as the reference Match on random filters and metadata,
// including -0 against 0 and type mismatches.
func TestCompiledFilterAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mds := make([]map[string]any, 300)
	for i := range mds {
		mds[i] = md(t, randomMeta(r))
	}
	mds = append(mds, nil, map[string]any{})
	for range 500 {
		f, err := randomFilter(r, 0).Normalize()
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.Compile()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Filter(), f) {
			t.Fatalf("Compile changed the filter")
		}
		for _, m := range mds {
			if got, want := c.Match(m), f.Match(m); got != want {
				b, _ := json.Marshal(f)
				t.Fatalf("filter %s on %v: compiled %v, reference %v", b, m, got, want)
			}
		}
	}
}

func FuzzFilterJSON(f *testing.F) {
	f.Add(`{"equals":{"key":"type","value":"faq"}}`)
	f.Add(`{"andAll":[{"equals":{"key":"a","value":"x"}},{"orAll":[{"in":{"key":"b","value":[1,"2",true]}},{"notEquals":{"key":"c","value":false}}]}]}`)
	f.Add(`{"stringContains":{"key":"t","value":""}}`)
	f.Add(`{"greaterThan":{"key":"y","value":1e308}}`)
	f.Add(`{"listContains":{"key":"l","value":1.5}}`)
	f.Add(`{"in":{"key":"l","value":[1e400]}}`)
	f.Add(`{"notIn":{"key":"a","value":["x",-0,0,true,"y"]}}`)
	f.Add(`{"orAll":[{"in":{"key":"b","value":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]}},{"listContains":{"key":"l","value":"x"}}]}`)
	mds := []map[string]any{
		{"a": "x", "b": 1.0, "l": []any{"x", 1.5}},
		{"a": -0.0, "b": "1", "l": "x", "t": "abc"},
		{"a": true, "b": []any{1.0}, "y": 1e308},
		nil,
	}
	f.Fuzz(func(t *testing.T, s string) {
		var flt Filter
		if err := json.Unmarshal([]byte(s), &flt); err != nil {
			var fe *FilterError
			if json.Valid([]byte(s)) && (!errors.As(err, &fe) || !errors.Is(err, bedrockkit.ErrInvalidInput)) {
				t.Fatalf("error %v is not a *FilterError matching ErrInvalidInput", err)
			}
			return
		}
		// Anything accepted must be valid, re-marshal, and round-trip unchanged.
		if err := flt.Validate(); err != nil {
			t.Fatalf("accepted filter is invalid: %v", err)
		}
		b, err := json.Marshal(flt)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var again Filter
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-Unmarshal(%s): %v", b, err)
		}
		if !reflect.DeepEqual(flt, again) {
			t.Fatalf("round trip changed the filter: %s", b)
		}
		c, err := flt.Compile()
		if err != nil {
			t.Fatalf("Compile of a valid filter: %v", err)
		}
		for _, m := range mds {
			if c.Match(m) != flt.Match(m) {
				t.Fatalf("compiled and reference disagree on %s for %v", b, m)
			}
		}
	})
}

// BenchmarkFilterInList matches records against an in filter of 10,000
// values (the limit), with the reference Match (a scan of the list per
// record) and compiled (a hash lookup).
func BenchmarkFilterInList(b *testing.B) {
	f, _ := oneOf("n", bigList(MaxFilterValues)...).Normalize()
	c, _ := f.Compile()
	mds := make([]map[string]any, 1000)
	for i := range mds {
		mds[i] = map[string]any{"n": float64(20000 + i)} // no match: the whole list is scanned
	}
	b.Run("Match", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			f.Match(mds[i%len(mds)])
		}
	})
	b.Run("Compiled", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			c.Match(mds[i%len(mds)])
		}
	})
}
