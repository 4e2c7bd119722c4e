package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bedrockkit/bedrockkit/agent"
)

func TestConvertSchemaAndMutations(t *testing.T) {
	var spec map[string]any
	_ = json.Unmarshal([]byte(`{"type":"dict","properties":{
		"n":{"type":"integer"},"x":{"type":"float","optional":true},"t":{"type":"tuple","items":{"type":"string"}},
		"a":{"type":"any"},"u":{"type":"string","enum":["c","f"]},
		"d":{"type":"dict","properties":{"k":{"type":"integer"}}}},"required":["n"]}`), &spec)
	s := convertSchema(spec, true)
	b, _ := json.Marshal(s)
	want := `{"additionalProperties":false,"properties":{"a":{},"d":{"additionalProperties":false,"properties":{"k":{"type":"integer"}},"type":"object"},"n":{"type":"integer"},"t":{"items":{"type":"string"},"type":"array"},"u":{"enum":["c","f"],"type":"string"},"x":{"type":"number"}},"required":["n"],"type":"object"}`
	if string(b) != want {
		t.Fatalf("converted\n%s\nwant\n%s", b, want)
	}
	call := map[string]any{"n": 1.0, "u": "c"}
	kinds := map[string]bool{}
	for _, m := range mutate(s, call) {
		kinds[m.kind] = true
	}
	for _, k := range []string{"wrong_type", "missing_required", "unknown_argument", "out_of_enum"} {
		if !kinds[k] {
			t.Errorf("no %s mutation", k)
		}
	}
}

func TestExpand(t *testing.T) {
	for in, want := range map[string]string{
		`5`:                            `[5]`,
		`{"min": [1], "max": ["", 2]}`: `[{"min":1},{"max":2,"min":1}]`,
		`[1, 2]`:                       `[[1,2]]`,
		`[{"a": [1, 2]}]`:              `[[{"a":1}],[{"a":2}]]`,
	} {
		var v any
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(expand(v, maxCombinations))
		if string(b) != want {
			t.Errorf("%s: got %s, want %s", in, b, want)
		}
	}
}

// A call is accepted when any combination of its alternatives is valid,
// not only the first one listed: here the first-listed unit is outside the
// enum and omission ("") is the valid choice.
func TestFindValidCallTriesEveryCombination(t *testing.T) {
	spec := specFor(t, `{"type":"dict","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","kelvin"]},
		"days":{"type":"integer"}},"required":["city"]}`)
	args := map[string]json.RawMessage{"city": json.RawMessage(`["Paris"]`), "unit": json.RawMessage(`["fahrenheit", ""]`),
		"days": json.RawMessage(`["three", 3]`)}
	call, v, why := findValidCall(spec, args)
	if v != verdictAccepted {
		t.Fatalf("verdict %v (%s), want accepted", v, why)
	}
	b, _ := json.Marshal(call)
	if string(b) != `{"city":"Paris","days":3}` {
		t.Fatalf("call %s", b)
	}
	// No alternative of s is a string: a dataset defect, by both validators.
	spec = specFor(t, `{"type":"dict","properties":{"s":{"type":"string"}},"required":["s"]}`)
	if _, v, why := findValidCall(spec, map[string]json.RawMessage{"s": json.RawMessage(`[true, 1]`)}); v != verdictDefect {
		t.Fatalf("verdict %v (%s), want defect", v, why)
	}
	// Our validator refuses what the independent one accepts: refused,
	// counted against us. (The tool is stricter than the independent schema.)
	spec = specFor(t, `{"type":"dict","properties":{"s":{"type":"string","enum":["a"]}},"required":["s"]}`)
	spec.indep = independent(json.RawMessage(`{"type":"object","properties":{"s":{"type":"string"}}}`))
	if _, v, why := findValidCall(spec, map[string]json.RawMessage{"s": json.RawMessage(`["b"]`)}); v != verdictRefused {
		t.Fatalf("verdict %v (%s), want refused", v, why)
	}
}

func TestConvertSchemaConventions(t *testing.T) {
	var spec map[string]any
	_ = json.Unmarshal([]byte(`{"type":"Dict","properties":{"days":{"type":"list","items":{"type":"str"},"enum":["mon","tue"]},
		"n":{"type":"int"},"ok":{"type":"bool"}}}`), &spec)
	b, _ := json.Marshal(convertSchema(spec, true))
	want := `{"additionalProperties":false,"properties":{"days":{"items":{"enum":["mon","tue"],"type":"string"},"type":"array"},"n":{"type":"integer"},"ok":{"type":"boolean"}},"type":"object"}`
	if string(b) != want {
		t.Fatalf("converted\n%s\nwant\n%s", b, want)
	}
}

func specFor(t *testing.T, params string) fnSpec {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(params), &p); err != nil {
		t.Fatal(err)
	}
	s := convertSchema(p, true)
	raw, _ := json.Marshal(s)
	tool, err := agent.NewTool("f", "f", raw, nopRun)
	if err != nil {
		t.Fatal(err)
	}
	return fnSpec{tool: tool, schema: s, indep: independent(raw)}
}

func TestToolcallsSuite(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"question", "possible_answer"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	q := `{"id":"x_0","function":[{"name":"math.add","description":"add","parameters":{"type":"dict","properties":{"a":{"type":"integer"},"b":{"type":"float"}},"required":["a"]}}]}
{"id":"x_1","function":[{"name":"f","description":"f","parameters":{"type":"dict","properties":{"s":{"type":"string"}},"required":["s"]}}]}`
	a := `{"id":"x_0","ground_truth":[{"math.add":{"a":[1],"b":["",2.5]}}]}
{"id":"x_1","ground_truth":[{"f":{"s":[true]}}]}`
	_ = os.WriteFile(filepath.Join(dir, "question", "t.json"), []byte(q), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "possible_answer", "t.json"), []byte(a), 0o644)
	st, err := evalFile(filepath.Join(dir, "question", "t.json"), filepath.Join(dir, "possible_answer", "t.json"), false)
	if err != nil {
		t.Fatal(err)
	}
	// x_1 gives a boolean for a string: a dataset defect, not a refusal.
	if st.specs != 2 || st.calls != 2 || st.accepted != 1 || st.mutations != 3 || st.rejected != 3 ||
		len(st.defects) != 1 || len(st.refused) != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := runToolcalls([]string{"-data", dir}); err != nil {
		t.Fatal(err)
	}
}
