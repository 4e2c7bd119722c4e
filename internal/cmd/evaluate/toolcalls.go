package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
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
	fmt.Printf("accept=%.4f reject=%.4f specs=%d calls=%d\n",
		ratio(total.accepted, total.calls), ratio(total.rejected, total.mutations), total.specs, total.calls)
	return nil
}

type stats struct {
	specs, badSpecs, calls, accepted, mutations, rejected int
	byKind                                                map[string][2]int // kind -> {tried, rejected}
}

func (s *stats) add(o stats) {
	s.specs += o.specs
	s.badSpecs += o.badSpecs
	s.calls += o.calls
	s.accepted += o.accepted
	s.mutations += o.mutations
	s.rejected += o.rejected
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
			t := agent.NewTool(toolName(f.Name), f.Description, raw, nopRun)
			if t.Err() != nil {
				st.badSpecs++
				if verbose {
					fmt.Printf("  spec %s %s: %v\n", a.ID, f.Name, t.Err())
				}
				continue
			}
			specs[f.Name] = fnSpec{tool: t, schema: schema}
		}
		for _, gt := range a.GroundTruth {
			for name, args := range gt {
				st.calls++
				spec, ok := specs[name]
				if !ok {
					if verbose {
						fmt.Printf("  reject %s: function %s not among the question's specs\n", a.ID, name)
					}
					continue
				}
				call := map[string]any{}
				for k, alts := range args {
					v, present := pickAlternative(alts)
					if present {
						call[k] = v
					}
				}
				input, _ := json.Marshal(call)
				if err := spec.tool.Validate(input); err != nil {
					if verbose {
						fmt.Printf("  reject %s %s %s: %v\n", a.ID, name, input, err)
					}
					continue
				}
				st.accepted++
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

// convertSchema maps BFCL's parameter schema to JSON Schema: dict -> object
// (closed to unknown properties when it lists them), float -> number,
// tuple -> array, any -> no type constraint; BFCL's non-standard "optional"
// flag is dropped.
func convertSchema(s map[string]any, top bool) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "optional":
			continue
		case "type":
			t, _ := v.(string)
			switch t {
			case "dict":
				out["type"] = "object"
			case "float":
				out["type"] = "number"
			case "tuple":
				out["type"] = "array"
			case "any", "":
			default:
				out["type"] = t
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
	if top && out["type"] == nil {
		out["type"] = "object"
	}
	return out
}

// pickAlternative returns the first acceptable value of a BFCL answer list;
// "" means the argument may be omitted, and so does null (Python's None, the
// default of an optional argument); present is false when omission is the
// only choice. Dicts inside a value hold lists of alternatives too.
func pickAlternative(raw json.RawMessage) (v any, present bool) {
	var alts []any
	if err := json.Unmarshal(raw, &alts); err != nil {
		var one any
		_ = json.Unmarshal(raw, &one)
		return resolveNested(one), true
	}
	for _, a := range alts {
		if s, ok := a.(string); (ok && s == "") || a == nil {
			continue
		}
		return resolveNested(a), true
	}
	return nil, false
}

func resolveNested(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, alts := range x {
			list, ok := alts.([]any)
			if !ok {
				out[k] = resolveNested(alts)
				continue
			}
			for _, a := range list {
				if s, ok := a.(string); ok && s == "" {
					continue
				}
				out[k] = resolveNested(a)
				break
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveNested(e)
		}
		return out
	}
	return v
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
