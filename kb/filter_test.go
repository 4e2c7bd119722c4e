package kb

import (
	"encoding/json"
	"errors"
	"reflect"
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
		{"equals string", Equals("type", "faq"), true},
		{"equals string other", Equals("type", "policy"), false},
		{"equals number int vs float", Equals("year", 2021.0), true},
		{"equals bool", Equals("draft", false), true},
		{"equals missing key", Equals("nope", "faq"), false},
		{"equals type mismatch", Equals("year", "2021"), false},
		{"equals list attribute", Equals("tags", "fees"), false},
		{"notEquals differs", NotEquals("type", "policy"), true},
		{"notEquals same", NotEquals("type", "faq"), false},
		{"notEquals missing key", NotEquals("nope", "x"), true},
		{"notEquals type mismatch", NotEquals("year", "2021"), true},
		{"gt", GreaterThan("year", 2020), true},
		{"gt equal", GreaterThan("year", 2021), false},
		{"gte equal", GreaterThanOrEquals("year", 2021), true},
		{"lt", LessThan("score", 5), true},
		{"lt equal", LessThan("score", 4.5), false},
		{"lte equal", LessThanOrEquals("score", 4.5), true},
		{"gt missing", GreaterThan("nope", 1), false},
		{"gt on string", GreaterThan("type", 1), false},
		{"lt on string", LessThan("type", 1), false},
		{"in hit", In("type", "policy", "faq"), true},
		{"in miss", In("type", "policy", "guide"), false},
		{"in number", In("year", 2020, 2021), true},
		{"in missing", In("nope", "faq"), false},
		{"in type mismatch", In("year", "2021"), false},
		{"notIn miss", NotIn("type", "policy"), true},
		{"notIn hit", NotIn("type", "faq", "x"), false},
		{"notIn missing", NotIn("nope", "x"), true},
		{"startsWith", StartsWith("title", "Card"), true},
		{"startsWith case", StartsWith("title", "card"), false},
		{"startsWith on number", StartsWith("year", "20"), false},
		{"startsWith missing", StartsWith("nope", ""), false},
		{"listContains", ListContains("tags", "cards"), true},
		{"listContains miss", ListContains("tags", "loans"), false},
		{"listContains number", ListContains("nums", 2), true},
		{"listContains number as string", ListContains("nums", "2"), false},
		{"listContains on scalar", ListContains("type", "faq"), false},
		{"listContains missing", ListContains("nope", "x"), false},
		{"stringContains", StringContains("title", "loss"), true},
		{"stringContains miss", StringContains("title", "gain"), false},
		{"stringContains list", StringContains("tags", "ard"), true},
		{"stringContains number", StringContains("year", "20"), false},
		{"stringContains missing", StringContains("nope", ""), false},
		{"andAll true", AndAll(Equals("type", "faq"), GreaterThan("year", 2000)), true},
		{"andAll false", AndAll(Equals("type", "faq"), GreaterThan("year", 2030)), false},
		{"orAll true", OrAll(Equals("type", "x"), GreaterThan("year", 2000)), true},
		{"orAll false", OrAll(Equals("type", "x"), GreaterThan("year", 2030)), false},
		{"nested", OrAll(AndAll(Equals("type", "faq"), Equals("draft", true)), AndAll(ListContains("tags", "fees"), NotIn("year", 1999, 2000))), true},
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
		{`{"equals":{"key":"type","value":"faq"}}`, Equals("type", "faq")},
		{`{"notEquals":{"key":"n","value":3}}`, NotEquals("n", 3)},
		{`{"greaterThan":{"key":"year","value":2020}}`, GreaterThan("year", 2020)},
		{`{"greaterThanOrEquals":{"key":"year","value":2020.5}}`, GreaterThanOrEquals("year", 2020.5)},
		{`{"lessThan":{"key":"year","value":-1}}`, LessThan("year", -1)},
		{`{"lessThanOrEquals":{"key":"year","value":0}}`, LessThanOrEquals("year", 0)},
		{`{"in":{"key":"type","value":["a","b"]}}`, In("type", "a", "b")},
		{`{"notIn":{"key":"n","value":[1,2]}}`, NotIn("n", 1, 2)},
		{`{"startsWith":{"key":"title","value":"Card"}}`, StartsWith("title", "Card")},
		{`{"listContains":{"key":"tags","value":"fees"}}`, ListContains("tags", "fees")},
		{`{"stringContains":{"key":"title","value":"loss"}}`, StringContains("title", "loss")},
		{`{"equals":{"key":"draft","value":true}}`, Equals("draft", true)},
		{`{"andAll":[{"equals":{"key":"a","value":"x"}},{"orAll":[{"in":{"key":"b","value":[1]}},{"notEquals":{"key":"c","value":false}}]}]}`,
			AndAll(Equals("a", "x"), OrAll(In("b", 1), NotEquals("c", false)))},
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
		Equals("", "x"),
		{Op: OpEquals, Key: "a"},
		Equals("a", []string{"x"}),
		GreaterThan("a", "x"),
		LessThan("a", true),
		In("a"),
		{Op: OpIn, Key: "a", Value: "x"},
		{Op: OpStartsWith, Key: "a", Value: 3},
		{Op: OpStringContains, Key: "a", Value: true},
		ListContains("a", []any{"x"}),
		AndAll(Equals("a", "x")),
		OrAll(),
		AndAll(Equals("a", "x"), Filter{Op: "bogus"}),
		{Op: OpAndAll, Key: "a", Filters: []Filter{Equals("a", 1), Equals("b", 2)}},
		{Op: OpEquals, Key: "a", Value: "x", Filters: []Filter{Equals("a", 1)}},
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
	f := Equals("a", 1)
	for range maxFilterDepth + 2 {
		f = AndAll(f, Equals("b", 2))
	}
	if err := f.Validate(); err == nil {
		t.Fatal("a filter nested too deep was accepted")
	}
}

func FuzzFilterJSON(f *testing.F) {
	f.Add(`{"equals":{"key":"type","value":"faq"}}`)
	f.Add(`{"andAll":[{"equals":{"key":"a","value":"x"}},{"orAll":[{"in":{"key":"b","value":[1,"2",true]}},{"notEquals":{"key":"c","value":false}}]}]}`)
	f.Add(`{"stringContains":{"key":"t","value":""}}`)
	f.Add(`{"greaterThan":{"key":"y","value":1e308}}`)
	f.Add(`{"listContains":{"key":"l","value":1.5}}`)
	f.Add(`{"in":{"key":"l","value":[1e400]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var flt Filter
		if err := json.Unmarshal([]byte(s), &flt); err != nil {
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
		flt.Match(map[string]any{"a": "x", "b": 1.0, "l": []any{"x", 1.5}})
	})
}
