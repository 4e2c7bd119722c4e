package eval_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/eval"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestArgumentsMatch(t *testing.T) {
	e := eval.ExpectedCall{Name: "weather",
		Arguments:    map[string]json.RawMessage{"city": raw(`"Paris"`), "days": raw(`3`), "opts": raw(`{"a":1,"b":[1,2]}`)},
		Alternatives: map[string][]json.RawMessage{"unit": {raw(`"celsius"`), raw(`null`)}},
	}
	for in, want := range map[string]bool{
		`{"city":"Paris","days":3.0,"opts":{"b":[1,2],"a":1.0}}`:              true, // numbers by value, keys in any order
		`{"city":"Paris","days":3,"opts":{"a":1,"b":[1,2]},"unit":"celsius"}`: true,
		`{"city":"Paris","days":3,"opts":{"a":1,"b":[1,2]},"unit":"kelvin"}`:  false,
		`{"city":"Paris","days":3,"opts":{"a":1,"b":[2,1]}}`:                  false, // arrays keep their order
		`{"city":"Paris","days":"3","opts":{"a":1,"b":[1,2]}}`:                false, // a string is not a number
		`{"city":"Paris","opts":{"a":1,"b":[1,2]}}`:                           false, // days missing
		`{"city":"Paris","days":3,"opts":{"a":1,"b":[1,2]},"extra":true}`:     true,  // not strict
		`[1,2]`: false,
		`{"city":"Paris","days":30e-1,"opts":{"a":1e0,"b":[1,2.000]},"unit":null}`: true, // an explicit null meets a null alternative
		`{"city":"Paris","days":3,"opts":{"a":1,"b":[1,2]},"unit":false}`:          false,
	} {
		if got, why := e.ArgumentsMatch(raw(in)); got != want {
			t.Errorf("ArgumentsMatch(%s) = %v (%s), want %v", in, got, why, want)
		}
	}
	e.Strict = true
	if ok, why := e.ArgumentsMatch(raw(`{"city":"Paris","days":3,"opts":{"a":1,"b":[1,2]},"extra":true}`)); ok || !strings.Contains(why, "extra") {
		t.Fatalf("strict call with an extra argument: %v %s", ok, why)
	}
}

func call(name, in string) eval.TrajectoryCall {
	return eval.TrajectoryCall{Name: name, Input: raw(in)}
}

func TestMatchTrajectory(t *testing.T) {
	exp := []eval.ExpectedCall{
		{Name: "search", Arguments: map[string]json.RawMessage{"q": raw(`"x"`)}},
		{Name: "book"},
	}
	inOrder := []eval.TrajectoryCall{call("search", `{"q":"x"}`), call("noise", `{}`), call("book", `{}`)}
	reversed := []eval.TrajectoryCall{call("book", `{}`), call("search", `{"q":"x"}`)}
	exact := []eval.TrajectoryCall{call("search", `{"q":"x"}`), call("book", `{}`)}
	cases := []struct {
		calls []eval.TrajectoryCall
		order eval.ToolOrder
		match bool
	}{
		{inOrder, eval.AnyOrder, true}, {inOrder, eval.InOrder, true}, {inOrder, eval.ExactOrder, false},
		{reversed, eval.AnyOrder, true}, {reversed, eval.InOrder, false}, {reversed, eval.ExactOrder, false},
		{exact, eval.ExactOrder, true},
		{[]eval.TrajectoryCall{call("search", `{"q":"y"}`), call("book", `{}`)}, eval.AnyOrder, false},
	}
	for i, c := range cases {
		s := eval.MatchTrajectory(exp, c.calls, c.order)
		if s.Match != c.match {
			t.Errorf("case %d (%s): match %v (%s), want %v", i, c.order, s.Match, s.Why, c.match)
		}
	}
	// A call the tool refused never matches, even with the right arguments.
	bad := call("book", `{}`)
	bad.Invalid = true
	s := eval.MatchTrajectory(exp, []eval.TrajectoryCall{call("search", `{"q":"x"}`), bad}, eval.AnyOrder)
	if s.Match || s.Invalid != 1 || s.Matched != 1 || s.Recall() != 0.5 || s.Precision() != 0.5 {
		t.Fatalf("refused call: %+v", s)
	}
	// Nothing expected, nothing called: a match with precision and recall 1.
	if s := eval.MatchTrajectory([]eval.ExpectedCall{}, nil, eval.ExactOrder); !s.Match || s.Recall() != 1 || s.Precision() != 1 {
		t.Fatalf("empty trajectory: %+v", s)
	}
}

// Any order needs a maximum matching: matching greedily, the first
// expected call (any "f") would take the only call that suits the second
// (f with x=1) and leave it unmatched.
func TestMatchTrajectoryNeedsAMaximumMatching(t *testing.T) {
	exp := []eval.ExpectedCall{{Name: "f"}, {Name: "f", Arguments: map[string]json.RawMessage{"x": raw(`1`)}}}
	calls := []eval.TrajectoryCall{call("f", `{"x":1}`), call("f", `{"x":2}`)}
	if s := eval.MatchTrajectory(exp, calls, eval.AnyOrder); !s.Match || s.Matched != 2 {
		t.Fatalf("%+v", s)
	}
}

func TestMatchTrajectoryBounded(t *testing.T) {
	var exp []eval.ExpectedCall
	var calls []eval.TrajectoryCall
	for range 5000 {
		exp = append(exp, eval.ExpectedCall{Name: "f"})
		calls = append(calls, call("f", `{}`))
	}
	s := eval.MatchTrajectory(exp, calls, eval.AnyOrder)
	if s.Match || s.Matched != eval.MaxTrajectory || s.Expected != 5000 {
		t.Fatalf("over-long trajectory: %+v", s)
	}
}

func TestValidCall(t *testing.T) {
	e := eval.ExpectedCall{Name: "f",
		Arguments:    map[string]json.RawMessage{"city": raw(`"Paris"`)},
		Alternatives: map[string][]json.RawMessage{"unit": {raw(`"fahrenheit"`), raw(`null`)}, "days": {raw(`"three"`), raw(`3`)}},
	}
	validate := func(in json.RawMessage) error {
		var m map[string]any
		_ = json.Unmarshal(in, &m)
		if u, ok := m["unit"]; ok && u != "celsius" {
			return errors.New("unit out of enum")
		}
		if _, ok := m["days"].(float64); !ok {
			return errors.New("days must be a number")
		}
		return nil
	}
	got, tried, err := e.ValidCall(validate, 100)
	if err != nil || string(got) != `{"city":"Paris","days":3}` || tried != 4 {
		t.Fatalf("ValidCall = %s after %d (%v)", got, tried, err)
	}
	if _, tried, err := e.ValidCall(func(json.RawMessage) error { return errors.New("no") }, 3); err == nil || tried != 3 {
		t.Fatalf("limit: tried %d, err %v", tried, err)
	}
}
