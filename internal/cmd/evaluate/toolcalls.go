package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/eval"
	gjs "github.com/google/jsonschema-go/jsonschema"
)

func init() { suites["toolcalls"] = runToolcalls }

// runToolcalls checks agent's tool-schema handling on BFCL: every function
// spec becomes an agent tool (BFCL's Python-flavoured types mapped to JSON
// Schema), every ground-truth call must validate, and mutated calls (wrong
// type, missing required argument, unknown argument, out-of-enum value) must
// be rejected.
func runToolcalls(args []string) error {
	fs := flag.NewFlagSet("toolcalls", flag.ContinueOnError)
	dir := fs.String("data", filepath.Join(defaultDataDir(), "bfcl"), "BFCL directory holding question/*.json and possible_answer/*.json")
	verbose := fs.Bool("v", false, "print every rejected ground-truth call and accepted mutation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	answers, err := filepath.Glob(filepath.Join(*dir, "possible_answer", "*.json"))
	if err != nil {
		return err
	}
	if len(answers) == 0 {
		return fmt.Errorf("no possible_answer/*.json under %s; pass -data DIR with the BFCL data", *dir)
	}
	sort.Strings(answers)
	var total stats
	for _, ap := range answers {
		qp := filepath.Join(*dir, "question", filepath.Base(ap))
		st, err := evalFile(qp, ap, *verbose)
		if err != nil {
			return err
		}
		fmt.Printf("%-40s specs=%d calls=%d accepted=%d mutations=%d rejected=%d\n",
			filepath.Base(ap), st.specs, st.calls, st.accepted, st.mutations, st.rejected)
		total.add(st)
	}
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range total.byKind {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range kinds {
		c := total.byKind[k]
		fmt.Printf("mutation %-18s %d/%d rejected\n", k, c[1], c[0])
	}
	if total.badSpecs > 0 {
		fmt.Printf("specs that did not convert: %d\n", total.badSpecs)
	}
	if len(total.defects) > 0 {
		fmt.Printf("dataset defects (no listed alternative is valid under the function's own schema, by both validators): %d\n", len(total.defects))
		for _, d := range total.defects {
			fmt.Printf("  defect %s %s: %s\n", d.id, d.function, d.why)
		}
	}
	for _, d := range total.refused {
		fmt.Printf("  refused %s %s: %s\n", d.id, d.function, d.why)
	}
	for _, d := range total.unmatched {
		fmt.Printf("  eval's trajectory matcher refused accepted call %s %s: %s\n", d.id, d.function, d.why)
	}
	valid := total.calls - len(total.defects)
	fmt.Printf("accept=%.4f reject=%.4f refused=%d defects=%d validator_disagreements=%d specs=%d calls=%d\n",
		ratio(total.accepted, valid), ratio(total.rejected, total.mutations), len(total.refused), len(total.defects),
		total.disagree, total.specs, total.calls)
	return nil
}

type stats struct {
	specs, badSpecs, calls, accepted, mutations, rejected int
	byKind                                                map[string][2]int // kind -> {tried, rejected}
	// defects are ground-truth calls that no combination of their listed
	// alternatives makes valid under the function's own schema, by our
	// validator and by an independent one: the dataset contradicts itself.
	defects []defect
	// refused are calls the independent validator accepts in some
	// combination while agent's validation refuses every one: our fault.
	refused []defect
	// disagree counts mutated calls on which the two validators disagree.
	disagree int
	// unmatched are accepted calls that eval's trajectory matcher does not
	// find equal to their own expected call (should be none).
	unmatched []defect
}

// defect names one ground-truth call and why it was not accepted.
type defect struct{ id, function, why string }

func (s *stats) add(o stats) {
	s.specs += o.specs
	s.badSpecs += o.badSpecs
	s.calls += o.calls
	s.accepted += o.accepted
	s.mutations += o.mutations
	s.rejected += o.rejected
	s.defects = append(s.defects, o.defects...)
	s.refused = append(s.refused, o.refused...)
	s.disagree += o.disagree
	s.unmatched = append(s.unmatched, o.unmatched...)
	if s.byKind == nil {
		s.byKind = map[string][2]int{}
	}
	for k, v := range o.byKind {
		c := s.byKind[k]
		s.byKind[k] = [2]int{c[0] + v[0], c[1] + v[1]}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

type bfclQuestion struct {
	ID       string         `json:"id"`
	Function []bfclFunction `json:"function"`
}

type bfclFunction struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Parameters  map[string]any `json:"parameters"`
}

type bfclAnswer struct {
	ID          string                                  `json:"id"`
	GroundTruth []map[string]map[string]json.RawMessage `json:"ground_truth"`
}

func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// fnSpec is a converted BFCL function.
type fnSpec struct {
	tool   *agent.Tool
	schema map[string]any
	// indep validates with an independent JSON Schema implementation
	// (github.com/google/jsonschema-go), to tell our validator's mistakes
	// from the dataset's; nil when it cannot compile the schema.
	indep *gjs.Resolved
}

func evalFile(qpath, apath string, verbose bool) (stats, error) {
	st := stats{byKind: map[string][2]int{}}
	qs, err := readJSONL[bfclQuestion](qpath)
	if err != nil {
		return st, err
	}
	as, err := readJSONL[bfclAnswer](apath)
	if err != nil {
		return st, err
	}
	byID := map[string]bfclQuestion{}
	for _, q := range qs {
		byID[q.ID] = q
	}
	for _, a := range as {
		q, ok := byID[a.ID]
		if !ok {
			return st, fmt.Errorf("%s: answer %s has no question in %s", apath, a.ID, qpath)
		}
		specs := map[string]fnSpec{}
		for _, f := range q.Function {
			st.specs++
			schema := convertSchema(f.Parameters, true)
			raw, _ := json.Marshal(schema)
			t, err := agent.NewTool(toolName(f.Name), f.Description, raw, nopRun)
			if err != nil {
				st.badSpecs++
				if verbose {
					fmt.Printf("  spec %s %s: %v\n", a.ID, f.Name, err)
				}
				continue
			}
			specs[f.Name] = fnSpec{tool: t, schema: schema, indep: independent(raw)}
		}
		for _, gt := range a.GroundTruth {
			for name, args := range gt {
				st.calls++
				spec, ok := specs[name]
				if !ok {
					st.defects = append(st.defects, defect{a.ID, name, "function not among the question's specs"})
					continue
				}
				call, verdict, why := findValidCall(spec, args)
				switch verdict {
				case verdictDefect:
					st.defects = append(st.defects, defect{a.ID, name, why})
					continue
				case verdictRefused:
					if verbose {
						fmt.Printf("  refused %s %s: %s\n", a.ID, name, why)
					}
					st.refused = append(st.refused, defect{a.ID, name, why})
					continue
				}
				st.accepted++
				if exp, err := expectedCall(spec.tool.Name(), args); err == nil {
					in, _ := json.Marshal(call)
					if t := eval.MatchTrajectory([]eval.ExpectedCall{exp}, []eval.TrajectoryCall{{Name: spec.tool.Name(), Input: in}}, eval.ExactOrder); !t.Match {
						st.unmatched = append(st.unmatched, defect{a.ID, name, t.Why})
					}
				}
				for _, m := range mutate(spec.schema, call) {
					st.mutations++
					c := st.byKind[m.kind]
					c[0]++
					in, _ := json.Marshal(m.call)
					err := spec.tool.Validate(in)
					if err != nil && errors.Is(err, agent.ErrInvalidToolCall) {
						st.rejected++
						c[1]++
					} else if verbose {
						fmt.Printf("  accepted mutation %s %s %s: %s\n", m.kind, a.ID, name, in)
					}
					if spec.indep != nil && (err == nil) != (spec.indep.Validate(m.call) == nil) {
						st.disagree++
					}
					st.byKind[m.kind] = c
				}
			}
		}
	}
	return st, nil
}

var badToolChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// toolName maps a BFCL function name ("math.factorial") to a Bedrock tool
// name, as BFCL itself does for providers that forbid dots.
func toolName(s string) string {
	s = badToolChars.ReplaceAllString(s, "_")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// convertSchema maps BFCL's parameter schema to JSON Schema. BFCL writes
// Python-flavoured type names (dict, float, tuple, list, int, str, bool,
// any; any case): they become object, number, array, integer, string,
// boolean and no type constraint. A dict that lists its properties is closed
// to unknown ones. An enum on an array whose values are not arrays lists
// what each item may be (BFCL's convention), so it moves to the items.
// BFCL's non-standard "optional" flag is dropped.
func convertSchema(s map[string]any, top bool) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "optional":
			continue
		case "type":
			t, _ := v.(string)
			if jt := jsonType(t); jt != "" {
				out["type"] = jt
			}
		case "properties":
			props := map[string]any{}
			if m, ok := v.(map[string]any); ok {
				for name, ps := range m {
					if psm, ok := ps.(map[string]any); ok {
						props[name] = convertSchema(psm, false)
					}
				}
			}
			out["properties"] = props
		case "items":
			if m, ok := v.(map[string]any); ok {
				out["items"] = convertSchema(m, false)
			}
		default:
			out[k] = v
		}
	}
	if out["type"] == "object" {
		if _, ok := out["properties"]; ok {
			out["additionalProperties"] = false
		}
	}
	if enum, ok := out["enum"].([]any); ok && out["type"] == "array" && len(enum) > 0 {
		if _, isList := enum[0].([]any); !isList {
			items, _ := out["items"].(map[string]any)
			if items == nil {
				items = map[string]any{}
			}
			items["enum"] = enum
			out["items"] = items
			delete(out, "enum")
		}
	}
	if top && out["type"] == nil {
		out["type"] = "object"
	}
	return out
}

// jsonType maps a BFCL type name to a JSON Schema type, or "" for none
// (any, or a name it does not know, which then constrains nothing).
func jsonType(t string) string {
	switch strings.ToLower(t) {
	case "dict", "object", "map":
		return "object"
	case "float", "double", "number":
		return "number"
	case "int", "integer", "long":
		return "integer"
	case "str", "string":
		return "string"
	case "bool", "boolean":
		return "boolean"
	case "tuple", "list", "array", "set":
		return "array"
	case "null", "none":
		return "null"
	}
	return ""
}

// maxCombinations bounds the search over one call's alternatives; a call
// with more combinations is judged on the first maxCombinations of them,
// enumerated with every argument's first-listed alternative first.
const maxCombinations = 4096

type verdict int

const (
	verdictAccepted verdict = iota
	verdictRefused
	verdictDefect
)

// omit stands for BFCL's "" (or null) alternative inside a nested value:
// the key may be left out.
type omit struct{}

// findValidCall builds the eval.ExpectedCall of a BFCL ground truth (every
// argument's alternatives, nested ones expanded; "" or null meaning the
// argument may be left out) and asks eval for a combination the tool's
// schema accepts. It returns the first such call. When there is none, the
// call is a dataset defect if the independent validator rejects every
// combination too, and refused (our validator's fault) if the independent
// one accepts some combination.
func findValidCall(spec fnSpec, args map[string]json.RawMessage) (map[string]any, verdict, string) {
	exp, err := expectedCall(spec.tool.Name(), args)
	if err != nil {
		return nil, verdictDefect, err.Error()
	}
	in, tried, firstErr := exp.ValidCall(spec.tool.Validate, maxCombinations)
	if firstErr == nil {
		var call map[string]any
		if err := json.Unmarshal(in, &call); err != nil {
			return nil, verdictDefect, fmt.Sprintf("accepted call %s does not decode: %v", in, err)
		}
		return call, verdictAccepted, ""
	}
	why := fmt.Sprintf("%d combination(s) tried; first: %v", tried, firstErr)
	if spec.indep == nil {
		return nil, verdictRefused, why + " (the independent validator could not compile the schema)"
	}
	indep := func(in json.RawMessage) error {
		var v any
		if err := json.Unmarshal(in, &v); err != nil {
			return err
		}
		return spec.indep.Validate(v)
	}
	if in, _, err := exp.ValidCall(indep, maxCombinations); err == nil {
		return nil, verdictRefused, fmt.Sprintf("%s; the independent validator accepts %s", why, in)
	}
	return nil, verdictDefect, why
}

// expectedCall turns BFCL's possible answer for one call into an
// eval.ExpectedCall whose Alternatives list every concrete value of each
// argument (null: may be left out).
func expectedCall(name string, args map[string]json.RawMessage) (eval.ExpectedCall, error) {
	exp := eval.ExpectedCall{Name: name, Alternatives: map[string][]json.RawMessage{}}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		var v any
		if err := json.Unmarshal(args[k], &v); err != nil {
			return exp, fmt.Errorf("argument %s: %v", k, err)
		}
		var alts []any
		if list, ok := v.([]any); ok {
			for _, alt := range list {
				if s, ok := alt.(string); (ok && s == "") || alt == nil {
					alts = append(alts, nil)
					continue
				}
				alts = append(alts, expand(alt, maxCombinations)...)
			}
		} else {
			alts = expand(v, maxCombinations)
		}
		if len(alts) == 0 {
			return exp, fmt.Errorf("argument %s lists no alternative", k)
		}
		for _, a := range alts {
			b, err := json.Marshal(a)
			if err != nil {
				return exp, fmt.Errorf("argument %s: %v", k, err)
			}
			exp.Alternatives[k] = append(exp.Alternatives[k], b)
		}
	}
	return exp, nil
}

// expand returns the concrete values one BFCL value stands for: inside a
// dict every key again holds a list of alternatives ("" meaning the key may
// be left out), and arrays are expanded element by element. At most limit
// values are returned.
func expand(v any, limit int) []any {
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		choices := make([][]any, len(keys))
		for i, k := range keys {
			if list, ok := x[k].([]any); ok {
				for _, alt := range list {
					if s, ok := alt.(string); (ok && s == "") || alt == nil {
						choices[i] = append(choices[i], omit{})
						continue
					}
					choices[i] = append(choices[i], expand(alt, limit)...)
				}
			} else {
				choices[i] = expand(x[k], limit)
			}
			if len(choices[i]) == 0 {
				choices[i] = []any{omit{}}
			}
		}
		var out []any
		forEachCombination(choices, limit, func(pick []any) bool {
			m := map[string]any{}
			for i, k := range keys {
				if _, o := pick[i].(omit); !o {
					m[k] = pick[i]
				}
			}
			out = append(out, m)
			return true
		})
		return out
	case []any:
		choices := make([][]any, len(x))
		for i, e := range x {
			choices[i] = expand(e, limit)
		}
		var out []any
		forEachCombination(choices, limit, func(pick []any) bool {
			out = append(out, slices.Clone(pick))
			return true
		})
		return out
	}
	return []any{v}
}

// forEachCombination calls fn with one pick from every list, odometer
// order with the first list varying slowest, at most limit times. An empty
// list of lists has one (empty) combination.
func forEachCombination(lists [][]any, limit int, fn func([]any) bool) {
	idx := make([]int, len(lists))
	pick := make([]any, len(lists))
	for n := 0; n < limit; n++ {
		for i, j := range idx {
			pick[i] = lists[i][j]
		}
		if !fn(pick) {
			return
		}
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(lists[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// independent compiles schema with github.com/google/jsonschema-go, an
// implementation unrelated to the one agent uses; nil when it cannot.
func independent(schema json.RawMessage) *gjs.Resolved {
	var s gjs.Schema
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil
	}
	r, err := s.Resolve(nil)
	if err != nil {
		return nil
	}
	return r
}

type mutation struct {
	kind string
	call map[string]any
}

// mutate returns the mutations that apply to call under schema.
func mutate(schema map[string]any, call map[string]any) []mutation {
	props, _ := schema["properties"].(map[string]any)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range call {
			if !yield(k) {
				return
			}
		}
	})
	clone := func() map[string]any {
		c := make(map[string]any, len(call))
		for k, v := range call {
			c[k] = v
		}
		return c
	}
	var out []mutation
	// Wrong type: the first argument with a concrete type gets a value of another type.
	for _, k := range keys {
		ps, _ := props[k].(map[string]any)
		t, _ := ps["type"].(string)
		if w, ok := wrongValue(t); ok {
			c := clone()
			c[k] = w
			out = append(out, mutation{"wrong_type", c})
			break
		}
	}
	// Missing required.
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				if _, present := call[name]; present {
					c := clone()
					delete(c, name)
					out = append(out, mutation{"missing_required", c})
					break
				}
			}
		}
	}
	// Unknown argument.
	c := clone()
	c["zz_unknown_argument"] = 1
	out = append(out, mutation{"unknown_argument", c})
	// Out of enum: the first argument with an enum gets a value outside it.
	enumKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range props {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range enumKeys {
		ps, _ := props[k].(map[string]any)
		enum, ok := ps["enum"].([]any)
		if !ok || len(enum) == 0 {
			continue
		}
		c := clone()
		c[k] = outsideEnum(enum)
		out = append(out, mutation{"out_of_enum", c})
		break
	}
	return out
}

// wrongValue returns a value that is not of JSON type t.
func wrongValue(t string) (any, bool) {
	switch t {
	case "string":
		return 12345, true
	case "integer", "number":
		return "not a number", true
	case "boolean":
		return "yes", true
	case "array":
		return "not a list", true
	case "object":
		return "not an object", true
	}
	return nil, false
}

// outsideEnum returns a value of the enum's type that is not in it.
func outsideEnum(enum []any) any {
	switch enum[0].(type) {
	case float64:
		m := 0.0
		for _, e := range enum {
			if f, ok := e.(float64); ok && f > m {
				m = f
			}
		}
		return m + 1000
	}
	return "zz_not_an_option"
}

func nopRun(_ context.Context, _ json.RawMessage) ([]bedrockkit.Part, error) { return nil, nil }
