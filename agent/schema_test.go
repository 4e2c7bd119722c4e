package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

type Base struct {
	Tenant string `json:"tenant"`
}

type searchIn struct {
	Base
	Query   string            `json:"query" description:"Search terms"`
	Limit   int               `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50"`
	Sort    string            `json:"sort,omitempty" jsonschema:"enum=date|relevance"`
	Tags    []string          `json:"tags,omitempty" jsonschema:"enum=a|b"`
	Since   *time.Time        `json:"since,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Forced  string            `json:"forced,omitempty" jsonschema:"required"`
	Skipped string            `json:"-"`
	Loose   bool              `json:"loose" jsonschema:"optional"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Blob    []byte            `json:"blob,omitempty"`
	Count   uint8             `json:"count,omitempty"`
	Level   float64           `json:"level,omitempty" jsonschema:"enum=0.5|1.5"`
	private int
}

func TestSchemaFor(t *testing.T) {
	raw, err := agent.SchemaFor[searchIn]()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Type                 string                    `json:"type"`
		Required             []string                  `json:"required"`
		Properties           map[string]map[string]any `json:"properties"`
		AdditionalProperties *bool                     `json:"additionalProperties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Type != "object" || s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Fatalf("top level: %s", raw)
	}
	if got := strings.Join(s.Required, ","); got != "tenant,query,forced" {
		t.Fatalf("required = %s", got)
	}
	p := s.Properties
	checks := map[string]string{
		"query":  `{"description":"Search terms","type":"string"}`,
		"limit":  `{"maximum":50,"minimum":1,"type":"integer"}`,
		"sort":   `{"enum":["date","relevance"],"type":"string"}`,
		"tags":   `{"items":{"enum":["a","b"],"type":"string"},"type":"array"}`,
		"since":  `{"format":"date-time","type":"string"}`,
		"labels": `{"additionalProperties":{"type":"string"},"type":"object"}`,
		"raw":    `{}`,
		"blob":   `{"contentEncoding":"base64","type":"string"}`,
		"count":  `{"minimum":0,"type":"integer"}`,
		"level":  `{"enum":[0.5,1.5],"type":"number"}`,
		"tenant": `{"type":"string"}`,
	}
	for name, want := range checks {
		got, _ := json.Marshal(p[name])
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	for _, absent := range []string{"Skipped", "-", "private", "Base"} {
		if _, ok := p[absent]; ok {
			t.Errorf("property %q should be absent", absent)
		}
	}
}

func TestSchemaForErrors(t *testing.T) {
	type recursive struct {
		Next *recursive `json:"next"`
	}
	type badTag struct {
		X int `jsonschema:"enum=a|b"`
	}
	type badKw struct {
		X int `jsonschema:"colour=red"`
	}
	for name, f := range map[string]func() error{
		"chan":       func() error { _, err := agent.SchemaFor[struct{ C chan int }](); return err },
		"recursive":  func() error { _, err := agent.SchemaFor[recursive](); return err },
		"not struct": func() error { _, err := agent.SchemaFor[[]int](); return err },
		"enum type":  func() error { _, err := agent.SchemaFor[badTag](); return err },
		"keyword":    func() error { _, err := agent.SchemaFor[badKw](); return err },
	} {
		err := f()
		if !errors.Is(err, agent.ErrInvalidTool) || !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("%s: want ErrInvalidTool, got %v", name, err)
		}
	}
	// A tool cannot be built from a bad type, name or schema: the
	// constructor says why.
	badFn := func(ctx contextT, in recursive) (string, error) { return "", nil }
	if tool, err := agent.NewFuncTool("bad", "bad", badFn); !errors.Is(err, agent.ErrInvalidTool) || tool != nil {
		t.Fatalf("NewFuncTool of a recursive type = %v, %v; want nil and ErrInvalidTool", tool, err)
	}
	func() {
		defer func() {
			if v := recover(); v == nil {
				t.Fatal("MustNewFuncTool of a recursive type did not panic")
			} else if err, ok := v.(error); !ok || !errors.Is(err, agent.ErrInvalidTool) {
				t.Fatalf("MustNewFuncTool panicked with %v; want an error wrapping ErrInvalidTool", v)
			}
		}()
		agent.MustNewFuncTool("bad", "bad", badFn)
	}()
	if _, err := agent.NewFuncTool("bad name!", "", func(ctx contextT, in searchIn) (string, error) { return "", nil }); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("NewFuncTool bad name: %v", err)
	}
	if _, err := agent.NewFuncTool[searchIn, string]("nil_fn", "", nil); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("NewFuncTool nil function: %v", err)
	}
	if _, err := agent.NewTool("bad name!", "", nil, noop); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := agent.NewTool("x", "", json.RawMessage(`{"type":"array"}`), noop); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("non-object schema: %v", err)
	}
	if _, err := agent.NewTool("x", "", json.RawMessage(`{"type":"object","properties":{"a":{"type":"nonsense"}}}`), noop); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("invalid schema: %v", err)
	}
	if _, err := agent.NewTool("x", "", nil, nil); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("nil function: %v", err)
	}
	if _, err := agent.NewReturnControlTool("bad name!", "", nil); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("return control bad name: %v", err)
	}
	if _, err := agent.NewTool("x", "", nil, noop, agent.ToolOptions{}, agent.ToolOptions{}); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("two ToolOptions: %v", err)
	}
	if _, err := agent.NewTool("x", "", nil, noop, agent.ToolOptions{Timeout: -time.Second}); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("negative timeout: %v", err)
	}
	// A Tool no constructor built is refused by the agent before any model call.
	a := &agent.Agent{Model: bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("never")), Tools: []*agent.Tool{{}}}
	if _, err := a.Run(context.Background(), "s", "hi"); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("zero Tool: Run error %v; want ErrInvalidTool", err)
	}
	if _, err := (&agent.Tool{}).Call(context.Background(), nil); !errors.Is(err, agent.ErrInvalidTool) {
		t.Fatalf("zero Tool: Call error %v; want ErrInvalidTool", err)
	}
}

func TestValidateMessages(t *testing.T) {
	tool, err := agent.NewFuncTool("search", "Search", func(ctx contextT, in searchIn) (string, error) { return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		`{"tenant":"t","query":"q","forced":"f"}`:                      "",
		`{"tenant":"t","query":"q","forced":"f","limit":2.0}`:          "",
		`{"tenant":"t","query":"q"}`:                                   "missing property 'forced'",
		`{"tenant":"t","query":1,"forced":"f"}`:                        "at '/query': got number, want string",
		`{"tenant":"t","query":"q","forced":"f","sort":"x"}`:           "at '/sort'",
		`{"tenant":"t","query":"q","forced":"f","limit":99}`:           "at '/limit'",
		`{"tenant":"t","query":"q","forced":"f","extra":1}`:            "additional properties 'extra'",
		`{"tenant":"t","query":"q","forced":"f","tags":["c"]}`:         "at '/tags/0'",
		`{"tenant":"t","query":"q","forced":"f","since":"not a date"}`: "",
		`{"tenant":"t", "query":`:                                      "not valid JSON",
		`[1,2]`:                                                        "want object",
	}
	for in, want := range cases {
		err := tool.Validate(json.RawMessage(in))
		if want == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, agent.ErrInvalidToolCall) {
			t.Errorf("%s: got %v, want an error containing %q", in, err, want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	tool := agent.MustNewFuncTool("search", "Search", func(ctx contextT, in searchIn) (string, error) { return "", nil })
	for _, s := range []string{`{}`, `{"tenant":"t","query":"q","forced":"f"}`, `{"limit":1e400}`, `[`, `null`, `{"tags":[null]}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		err := tool.Validate(in)
		if err == nil && !json.Valid(in) && len(strings.TrimSpace(string(in))) > 0 {
			t.Fatalf("invalid JSON accepted: %q", in)
		}
		if err != nil && !errors.Is(err, agent.ErrInvalidToolCall) {
			t.Fatalf("error does not wrap ErrInvalidToolCall: %v", err)
		}
	})
}
