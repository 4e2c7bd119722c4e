package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
)

// MaxTrajectory bounds the calls a trajectory comparison looks at; calls
// past it count as unmatched.
const MaxTrajectory = 256

// ArgumentsMatch reports whether a call's input (a JSON object) has the
// arguments the expected call names: each equal, as a JSON value, to its
// Arguments value or to one of its Alternatives (a null alternative also
// accepts the argument's absence), and, when Strict, no other argument.
// Names are not compared. The string says what differs.
func (e ExpectedCall) ArgumentsMatch(input json.RawMessage) (bool, string) {
	var got map[string]json.RawMessage
	if len(bytes.TrimSpace(input)) == 0 {
		got = map[string]json.RawMessage{}
	} else if err := json.Unmarshal(input, &got); err != nil {
		return false, fmt.Sprintf("the input is not a JSON object: %v", err)
	}
	names := map[string]bool{}
	for k := range e.Arguments {
		names[k] = true
	}
	for k := range e.Alternatives {
		names[k] = true
	}
	for _, k := range sortedKeys(names) {
		var want []json.RawMessage
		if v, ok := e.Arguments[k]; ok {
			want = append(want, v)
		}
		want = append(want, e.Alternatives[k]...)
		v, present := got[k]
		ok := false
		for _, w := range want {
			if isNull(w) && !present {
				ok = true
				break
			}
			if present && JSONEqual(v, w) {
				ok = true
				break
			}
		}
		if !ok {
			if !present {
				return false, fmt.Sprintf("argument %q is missing", k)
			}
			return false, fmt.Sprintf("argument %q is %s; want %s", k, clip(v), clipAll(want))
		}
	}
	if e.Strict {
		for _, k := range sortedKeys(got) {
			if !names[k] {
				return false, fmt.Sprintf("argument %q is not expected", k)
			}
		}
	}
	return true, ""
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func clip(v json.RawMessage) string {
	if len(v) > 80 {
		return string(v[:77]) + "..."
	}
	return string(v)
}

func clipAll(vs []json.RawMessage) string {
	if len(vs) == 1 {
		return clip(vs[0])
	}
	var b bytes.Buffer
	b.WriteString("one of ")
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 5 {
			fmt.Fprintf(&b, "... (%d)", len(vs))
			break
		}
		b.WriteString(clip(v))
	}
	return b.String()
}

// JSONEqual reports whether two JSON texts hold the same value: objects
// regardless of key order, numbers by exact decimal value (1, 1.0 and 1e0
// are equal). Texts that are not JSON are equal only byte for byte.
func JSONEqual(a, b json.RawMessage) bool {
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return bytes.Equal(a, b)
	}
	return valueEqual(x, y)
}

func valueEqual(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		ym, ok := y.(map[string]any)
		if !ok || len(x) != len(ym) {
			return false
		}
		for k, v := range x {
			w, ok := ym[k]
			if !ok || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		ys, ok := y.([]any)
		if !ok || len(x) != len(ys) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], ys[i]) {
				return false
			}
		}
		return true
	case json.Number:
		yn, ok := y.(json.Number)
		if !ok {
			return false
		}
		a, ok1 := new(big.Rat).SetString(string(x))
		b, ok2 := new(big.Rat).SetString(string(yn))
		if !ok1 || !ok2 {
			return x == yn
		}
		return a.Cmp(b) == 0
	}
	return x == y
}

// TrajectoryScore is how a trajectory compares with the expected calls.
type TrajectoryScore struct {
	// Match is true when the calls satisfy the expected ones under the
	// order (see MatchTrajectory).
	Match bool
	// Matched is how many expected calls a distinct valid call matched,
	// in any order.
	Matched int
	// Expected and Calls count the expected and the actual calls.
	Expected, Calls int
	// Invalid counts calls whose arguments the tool refused.
	Invalid int
	// Why says what kept Match false.
	Why string
}

// Recall is Matched over Expected (1 when nothing was expected).
func (s TrajectoryScore) Recall() float64 {
	if s.Expected == 0 {
		return 1
	}
	return float64(s.Matched) / float64(s.Expected)
}

// Precision is Matched over Calls (1 when no call was made).
func (s TrajectoryScore) Precision() float64 {
	if s.Calls == 0 {
		return 1
	}
	return float64(s.Matched) / float64(s.Calls)
}

// MatchTrajectory compares calls with the expected ones. A call matches an
// expected call when the names are equal, the tool accepted its arguments
// (Invalid is false) and ArgumentsMatch holds. Under AnyOrder every
// expected call needs a distinct matching call (other calls are allowed);
// under InOrder the matching calls must also come in the expected order;
// under ExactOrder the calls must be exactly the expected ones, in order.
// Only the first MaxTrajectory calls and expected calls are considered.
func MatchTrajectory(expected []ExpectedCall, calls []TrajectoryCall, order ToolOrder) TrajectoryScore {
	s := TrajectoryScore{Expected: len(expected), Calls: len(calls)}
	for _, c := range calls {
		if c.Invalid {
			s.Invalid++
		}
	}
	expected = expected[:min(len(expected), MaxTrajectory)]
	calls = calls[:min(len(calls), MaxTrajectory)]
	ok := make([][]bool, len(expected))
	for i, e := range expected {
		ok[i] = make([]bool, len(calls))
		for j, c := range calls {
			if c.Name == e.Name && !c.Invalid {
				ok[i][j], _ = e.ArgumentsMatch(c.Input)
			}
		}
	}
	s.Matched = maxMatching(ok, len(calls))
	switch order {
	case ExactOrder:
		if len(calls) != len(expected) {
			s.Why = fmt.Sprintf("%d calls made, %d expected", s.Calls, s.Expected)
			break
		}
		s.Match = true
		for i := range expected {
			if !ok[i][i] {
				s.Match = false
				s.Why = fmt.Sprintf("call %d: %s", i+1, why(expected[i], calls[i]))
				break
			}
		}
	case InOrder:
		j := 0
		s.Match = true
		for i := range expected {
			for j < len(calls) && !ok[i][j] {
				j++
			}
			if j == len(calls) {
				s.Match = false
				s.Why = fmt.Sprintf("no call matching expected call %d (%s) after the earlier ones", i+1, expected[i].Name)
				break
			}
			j++
		}
	default:
		s.Match = s.Matched == len(expected)
		if !s.Match {
			s.Why = fmt.Sprintf("%d of %d expected calls matched", s.Matched, s.Expected)
		}
	}
	if s.Match && len(expected) < s.Expected {
		s.Match, s.Why = false, fmt.Sprintf("more than %d expected calls", MaxTrajectory)
	}
	return s
}

func why(e ExpectedCall, c TrajectoryCall) string {
	switch {
	case c.Name != e.Name:
		return fmt.Sprintf("called %s, expected %s", c.Name, e.Name)
	case c.Invalid:
		return fmt.Sprintf("%s refused the arguments", c.Name)
	}
	_, w := e.ArgumentsMatch(c.Input)
	return w
}

// maxMatching is the size of a maximum bipartite matching between rows
// and columns where ok[r][c] (Kuhn's augmenting paths; at most
// MaxTrajectory on each side).
func maxMatching(ok [][]bool, cols int) int {
	owner := make([]int, cols)
	for i := range owner {
		owner[i] = -1
	}
	var try func(r int, seen []bool) bool
	try = func(r int, seen []bool) bool {
		for c := 0; c < cols; c++ {
			if !ok[r][c] || seen[c] {
				continue
			}
			seen[c] = true
			if owner[c] < 0 || try(owner[c], seen) {
				owner[c] = r
				return true
			}
		}
		return false
	}
	n := 0
	for r := range ok {
		if try(r, make([]bool, cols)) {
			n++
		}
	}
	return n
}

// ValidCall looks for a combination of an expected call's Arguments and
// Alternatives that validate accepts, trying at most limit combinations
// (each argument's values in the listed order, the first argument by name
// varying slowest). It returns the first accepted arguments as a JSON
// object, or the number of combinations tried and the first error.
// Arguments the expected call does not name are not generated.
func (e ExpectedCall) ValidCall(validate func(json.RawMessage) error, limit int) (json.RawMessage, int, error) {
	names := map[string]bool{}
	for k := range e.Arguments {
		names[k] = true
	}
	for k := range e.Alternatives {
		names[k] = true
	}
	keys := sortedKeys(names)
	choices := make([][]json.RawMessage, len(keys))
	for i, k := range keys {
		if v, ok := e.Arguments[k]; ok {
			choices[i] = append(choices[i], v)
		}
		choices[i] = append(choices[i], e.Alternatives[k]...)
	}
	idx := make([]int, len(keys))
	var first error
	tried := 0
	for tried < limit {
		obj := map[string]json.RawMessage{}
		for i, k := range keys {
			if v := choices[i][idx[i]]; !isNull(v) {
				obj[k] = v
			}
		}
		in, err := json.Marshal(obj)
		if err != nil {
			return nil, tried, err
		}
		tried++
		if err := validate(in); err == nil {
			return in, tried, nil
		} else if first == nil {
			first = err
		}
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(choices[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return nil, tried, first
}

// expectedNames lists the expected calls' tool names, in order.
func expectedNames(es []ExpectedCall) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return slices.Clip(out)
}
