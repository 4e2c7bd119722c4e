package eval_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
)

func TestLoadCases(t *testing.T) {
	in := `# a comment
{"id": "a", "question": "q1", "relevant_documents": ["d1", "d2"]}

{"id": "b", "question": "q2", "relevant_documents": {"d1": 2, "d3": 0}, "expected_tool_calls": [], "tool_order": "exact_order"}
{"id": "c", "question": "q3", "expected_tool_calls": [{"name": "f", "arguments": {"x": 1}, "alternatives": {"y": [2, null]}}]}`
	cs, err := eval.LoadCases(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0].RelevantDocuments["d2"] != 1 || cs[1].RelevantDocuments["d1"] != 2 {
		t.Fatalf("cases %+v", cs)
	}
	if cs[1].ExpectedToolCalls == nil || len(cs[1].ExpectedToolCalls) != 0 || cs[0].ExpectedToolCalls != nil {
		t.Fatal("an empty expected_tool_calls list must stay distinct from none")
	}
	if string(cs[2].ExpectedToolCalls[0].Arguments["x"]) != "1" || len(cs[2].ExpectedToolCalls[0].Alternatives["y"]) != 2 {
		t.Fatalf("expected call %+v", cs[2].ExpectedToolCalls[0])
	}
	path := filepath.Join(t.TempDir(), "cases.jsonl")
	os.WriteFile(path, []byte(in), 0o644)
	if cs2, err := eval.LoadCasesFile(path); err != nil || len(cs2) != 3 {
		t.Fatalf("LoadCasesFile: %v", err)
	}
}

func TestLoadCasesRefusesBadLines(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate id":    `{"id":"a","question":"q"}` + "\n" + `{"id":"a","question":"q"}`,
		"no id":           `{"question":"q"}`,
		"no question":     `{"id":"a","question":"  "}`,
		"unknown field":   `{"id":"a","question":"q","expected":"typo"}`,
		"two values":      `{"id":"a","question":"q"} {"id":"b","question":"q"}`,
		"bad order":       `{"id":"a","question":"q","tool_order":"sorted"}`,
		"unnamed call":    `{"id":"a","question":"q","expected_tool_calls":[{"arguments":{}}]}`,
		"no alternatives": `{"id":"a","question":"q","expected_tool_calls":[{"name":"f","alternatives":{"x":[]}}]}`,
		"bad relevance":   `{"id":"a","question":"q","relevant_documents":[1,2]}`,
		"id line break":   `{"id":"a\nb","question":"q"}`,
		"not json":        `id=a`,
		"long line":       `{"id":"a","question":"` + strings.Repeat("x", eval.MaxCaseBytes) + `"}`,
	} {
		_, err := eval.LoadCases(strings.NewReader(in))
		if !errors.Is(err, eval.ErrInvalidCase) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidCase", name, err)
		}
	}
	if _, err := eval.LoadCases(strings.NewReader(`{"id":"a","question":"q"}` + "\n" + `oops`)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("the error should name the line: %v", err)
	}
}

func FuzzLoadCases(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","question":"q","relevant_documents":["d"]}`,
		`{"id":"b","question":"q","relevant_documents":{"d":3},"expected_tool_calls":[{"name":"f","arguments":{"x":[1,{"y":null}]},"alternatives":{"z":[null,"w"]},"strict":true}],"tool_order":"in_order"}`,
		"# c\n\n{\"id\":\"c\",\"question\":\"q\",\"context\":[\"x\"],\"metadata\":{\"k\":1}}\n",
		`{"id":"d","question":"q","expected_answer":"x","acceptable_answers":["y"],"assertions":["z"]}`,
		"\xff\xfe{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := eval.LoadCases(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, eval.ErrInvalidCase) {
				t.Fatalf("error not ErrInvalidCase: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if err := c.Validate(); err != nil || seen[c.ID] {
				t.Fatalf("loaded an invalid case %+v: %v", c, err)
			}
			seen[c.ID] = true
			for _, e := range c.ExpectedToolCalls {
				// Every loaded expectation can be compared without failing.
				e.ArgumentsMatch([]byte(`{"x":1}`))
			}
		}
	})
}
