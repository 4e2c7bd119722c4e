package kb_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// The constructors build the operator they are named for, with values in
// canonical form (float64 numbers, []any lists), so Match works on them
// directly.
func TestFilterConstructors(t *testing.T) {
	cases := []struct {
		f    kb.Filter
		want kb.Filter
	}{
		{kb.Equals("y", 2023), kb.Filter{Op: kbstore.OpEquals, Key: "y", Value: 2023.0}},
		{kb.NotEquals("t", "faq"), kb.Filter{Op: kbstore.OpNotEquals, Key: "t", Value: "faq"}},
		{kb.GreaterThan("y", int64(1)), kb.Filter{Op: kbstore.OpGreaterThan, Key: "y", Value: 1.0}},
		{kb.GreaterThanOrEquals("y", float32(2)), kb.Filter{Op: kbstore.OpGreaterThanOrEquals, Key: "y", Value: 2.0}},
		{kb.LessThan("y", uint8(3)), kb.Filter{Op: kbstore.OpLessThan, Key: "y", Value: 3.0}},
		{kb.LessThanOrEquals("y", 4), kb.Filter{Op: kbstore.OpLessThanOrEquals, Key: "y", Value: 4.0}},
		{kb.In("y", 1, "a", true), kb.Filter{Op: kbstore.OpIn, Key: "y", Value: []any{1.0, "a", true}}},
		{kb.NotIn("y", 1), kb.Filter{Op: kbstore.OpNotIn, Key: "y", Value: []any{1.0}}},
		{kb.StartsWith("p", "docs/"), kb.Filter{Op: kbstore.OpStartsWith, Key: "p", Value: "docs/"}},
		{kb.ListContains("tags", 7), kb.Filter{Op: kbstore.OpListContains, Key: "tags", Value: 7.0}},
		{kb.StringContains("t", "x"), kb.Filter{Op: kbstore.OpStringContains, Key: "t", Value: "x"}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.f, c.want) {
			t.Errorf("got %#v, want %#v", c.f, c.want)
		}
	}
	and := kb.AndAll(kb.Equals("a", 1), kb.Equals("b", 2))
	if and.Op != kbstore.OpAndAll || len(and.Filters) != 2 {
		t.Errorf("AndAll = %#v", and)
	}
	if or := kb.OrAll(kb.Equals("a", 1), kb.Equals("b", 2)); or.Op != kbstore.OpOrAll || len(or.Filters) != 2 {
		t.Errorf("OrAll = %#v", or)
	}
	// An int operand matches the float64 that stores keep.
	if eq := kb.Equals("y", 2023); !eq.Match(map[string]any{"y": 2023.0}) {
		t.Error("Equals with an int operand does not match the stored float64")
	}
	if !and.Match(map[string]any{"a": 1.0, "b": 2.0}) {
		t.Error("AndAll of int operands does not match")
	}
}

// An invalid filter built with a constructor is not repaired or dropped:
// Validate, Marshal and Retrieve refuse it.
func TestFilterConstructorInvalid(t *testing.T) {
	for _, f := range []kb.Filter{
		kb.Equals("", 1),             // no key
		kb.In("k"),                   // empty list
		kb.GreaterThan("k", "x"),     // not a number
		kb.Equals("k", struct{}{}),   // unsupported value
		kb.AndAll(kb.Equals("a", 1)), // one child
	} {
		err := f.Validate()
		var fe *kbstore.FilterError
		if !errors.As(err, &fe) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%#v: Validate = %v, want a *kbstore.FilterError", f, err)
		}
		if _, err := json.Marshal(f); err == nil {
			t.Errorf("%#v marshals", f)
		}
	}
}
