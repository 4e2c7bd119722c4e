package codeinterp_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/codeinterptest"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func start(t *testing.T, opts codeinterp.Options) codeinterp.Sandbox {
	t.Helper()
	sb, err := codeinterp.NewLocal(opts).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close(context.Background()) })
	return sb
}

func run(t *testing.T, sb codeinterp.Sandbox, code string) *codeinterp.Execution {
	t.Helper()
	ex, err := sb.Execute(context.Background(), code)
	if err != nil {
		t.Fatalf("Execute(%q): %v", code, err)
	}
	return ex
}

func TestCodeInterpStatePersists(t *testing.T) {
	sb := start(t, codeinterp.Options{})
	run(t, sb, `const rates = { EUR: 0.9 }; let total = 100; function double(x) { return 2 * x }`)
	ex := run(t, sb, `total += 50; double(total) * rates.EUR`)
	if string(ex.Value) != "270" || ex.Error != "" {
		t.Fatalf("got %s %q", ex.Value, ex.Error)
	}
}

func TestCodeInterpFilesInAndOut(t *testing.T) {
	sb := start(t, codeinterp.Options{})
	ctx := context.Background()
	csv := "date,amount\n2024-01-02,12.50\n2024-01-05,7.25\n"
	if err := sb.WriteFiles(ctx, codeinterp.File{Path: "/data/tx.csv", Content: []byte(csv)}); err != nil {
		t.Fatal(err)
	}
	ex := run(t, sb, `
const fs = require('fs');
const rows = fs.readFileSync('data/tx.csv', 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
const sum = rows.reduce((s, [, a]) => s + Number(a), 0);
writeFile('out/summary.json', JSON.stringify({ sum }));
console.log(listFiles().join(' '));
sum`)
	if ex.Error != "" || string(ex.Value) != "19.75" || ex.Stdout != "data out\n" {
		t.Fatalf("got %+v", ex)
	}
	if len(ex.Files) != 1 || ex.Files[0].Path != "out/summary.json" {
		t.Fatalf("changed files: %+v", ex.Files)
	}
	got, err := sb.ReadFiles(ctx, "./out/summary.json")
	if err != nil || string(got[0].Content) != `{"sum":19.75}` {
		t.Fatalf("ReadFiles: %v %q", err, got)
	}
	if _, err := sb.ReadFiles(ctx, "missing.txt"); !errors.Is(err, bedrockkit.ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	list, _ := sb.ListFiles(ctx)
	if len(list) != 2 || list[0].Path != "data/tx.csv" || list[0].Size != int64(len(csv)) {
		t.Fatalf("ListFiles: %+v", list)
	}
}

func TestCodeInterpProgramErrors(t *testing.T) {
	sb := start(t, codeinterp.Options{})
	for code, want := range map[string]string{
		`const x = ;`:                   "SyntaxError",
		`undefinedFn()`:                 "ReferenceError: undefinedFn is not defined",
		`console.log('before'); null.x`: "TypeError",
		`throw new Error('boom')`:       "Error: boom",
	} {
		ex := run(t, sb, code)
		if !strings.Contains(ex.Error, want) {
			t.Errorf("%s: Error = %q, want %q", code, ex.Error, want)
		}
	}
	ex := run(t, sb, `console.log('before'); null.x`)
	if ex.Stdout != "before\n" {
		t.Fatalf("output before the error is kept, got %q", ex.Stdout)
	}
}

func TestCodeInterpFormattingAndDates(t *testing.T) {
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	sb := start(t, codeinterp.Options{Now: func() time.Time { return now }, Seed: 7})
	cases := map[string]string{
		`(1234567.891).toLocaleString('en-US')`:                                                                  `"1,234,567.891"`,
		`(1234.5).toLocaleString('en-US', { style: 'currency', currency: 'USD' })`:                               `"$1,234.50"`,
		`new Intl.NumberFormat('en-US', { style: 'percent' }).format(0.256)`:                                     `"26%"`,
		`(1.005).toLocaleString('en-US', { maximumFractionDigits: 2 })`:                                          `"1.01"`,
		`(-0.001).toLocaleString('en-US', { style: 'currency', currency: 'EUR' })`:                               `"€0.00"`,
		`new Date(2024, 0, 15).getTime() === Date.UTC(2024, 0, 15)`:                                              `true`,
		`new Date('2024-01-15T10:00:00').getHours()`:                                                             `10`,
		`new Date().toISOString()`:                                                                               `"2024-03-15T12:00:00.000Z"`,
		`new Date().getTimezoneOffset()`:                                                                         `0`,
		`new Date('2024-01-15').toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric' })`: `"January 15, 2024"`,
		`Object.groupBy([1, 2, 3, 4], x => x % 2 ? 'odd' : 'even').odd`:                                          `[1,3]`,
		`JSON.stringify({ a: [1, { b: 2 }], c: 'x' }, null, 2)`:                                                  `"{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": \"x\"\n}"`,
		`JSON.stringify({ d: new Date(0), u: undefined, f() {}, n: NaN })`:                                       `"{\"d\":\"1970-01-01T00:00:00.000Z\",\"n\":null}"`,
		`'1234567'.replace(/\B(?=(\d{3})+(?!\d))/g, ',')`:                                                        `"1,234,567"`,
		`'a-b-c'.replace(/(\w)-/g, '$1+')`:                                                                       `"a+b+c"`,
	}
	for code, want := range cases {
		ex := run(t, sb, code)
		if string(ex.Value) != want || ex.Error != "" {
			t.Errorf("%s = %s (error %q), want %s", code, ex.Value, ex.Error, want)
		}
	}
	a := run(t, sb, `Math.random()`).Value
	b := run(t, start(t, codeinterp.Options{Seed: 7}), `Math.random()`).Value
	if string(a) != string(b) {
		t.Errorf("Math.random with one seed differs: %s vs %s", a, b)
	}
}

func TestCodeInterpConsole(t *testing.T) {
	sb := start(t, codeinterp.Options{})
	ex := run(t, sb, `console.log('n=%d s=%s', 3, 'x', { a: 1 }); console.error('bad'); console.table([{ a: 1, b: 'x' }, { a: 2 }]); process.stdout.write('raw')`)
	want := "n=3 s=x { a: 1 }\n┌─────────┬───┬─────┐\n│ (index) │ a │  b  │\n├─────────┼───┼─────┤\n│    0    │ 1 │ 'x' │\n│    1    │ 2 │     │\n└─────────┴───┴─────┘\nraw"
	if ex.Stdout != want || ex.Stderr != "bad\n" {
		t.Fatalf("stdout:\n%s\nwant:\n%s\nstderr %q", ex.Stdout, want, ex.Stderr)
	}
}

func TestCodeInterpOutputLimitKeepsPrefix(t *testing.T) {
	sb := start(t, codeinterp.Options{MaxOutput: 100})
	ex, err := sb.Execute(context.Background(), `for (let i = 0; i < 1000; i++) console.log('line ' + i)`)
	var le *codeinterp.LimitError
	if !errors.As(err, &le) || le.Limit != codeinterp.LimitOutput {
		t.Fatalf("want the output limit, got %v", err)
	}
	if len(ex.Stdout) != 100 || !strings.HasPrefix(ex.Stdout, "line 0\nline 1\n") || !ex.Truncated {
		t.Fatalf("stdout %q truncated=%v", ex.Stdout, ex.Truncated)
	}
}

func TestCodeInterpCancel(t *testing.T) {
	sb := start(t, codeinterp.Options{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := sb.Execute(ctx, `for (;;) {}`)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if ex := run(t, sb, `1 + 1`); string(ex.Value) != "2" {
		t.Fatalf("after cancel: %s", ex.Value)
	}
}

func TestCodeInterpCloseStopsExecution(t *testing.T) {
	sb, _ := codeinterp.NewLocal(codeinterp.Options{Timeout: time.Minute}).Start(context.Background())
	done := make(chan error, 1)
	go func() { _, err := sb.Execute(context.Background(), `for (;;) {}`); done <- err }()
	time.Sleep(50 * time.Millisecond)
	if err := sb.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("running execution: want ErrClosed, got %v", err)
	}
	if _, err := sb.Execute(context.Background(), `1`); !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestCodeInterpLimitDiscardsVariablesKeepsFiles(t *testing.T) {
	sb := start(t, codeinterp.Options{CPUTime: 200 * time.Millisecond, Timeout: time.Minute})
	run(t, sb, `var kept = 1; writeFile('a.txt', 'hello')`)
	if _, err := sb.Execute(context.Background(), `for (;;) {}`); !errors.Is(err, codeinterp.ErrLimitExceeded) {
		t.Fatalf("want a limit, got %v", err)
	}
	ex := run(t, sb, `typeof kept + ' ' + readFile('a.txt')`)
	if string(ex.Value) != `"undefined hello"` {
		t.Fatalf("got %s", ex.Value)
	}
}

func TestCodeInterpSessionsAreIsolated(t *testing.T) {
	interp := codeinterp.NewLocal(codeinterp.Options{})
	a, _ := interp.Start(context.Background())
	b, _ := interp.Start(context.Background())
	defer a.Close(context.Background())
	defer b.Close(context.Background())
	run(t, a, `Array.prototype.map = () => 'tampered'; globalThis.secret = 42; writeFile('s.txt', 'x')`)
	ex := run(t, b, `[typeof secret, [1].map(x => x + 1)[0], listFiles().length]`)
	if string(ex.Value) != `["undefined",2,0]` {
		t.Fatalf("sandbox b sees a's changes: %s", ex.Value)
	}
}

func TestCodeInterpPoolExpiresIdleSandboxes(t *testing.T) {
	p := codeinterp.NewPool(codeinterp.NewLocal(codeinterp.Options{}), codeinterp.PoolOptions{IdleTimeout: 50 * time.Millisecond})
	defer p.Close(context.Background())
	sb, err := p.Get(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	run(t, sb, `var x = 1`)
	deadline := time.Now().Add(10 * time.Second)
	for p.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Len() != 0 {
		t.Fatal("idle sandbox was not expired")
	}
	if _, err := sb.Execute(context.Background(), `x`); !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("expired handle: %v", err)
	}
	sb2, _ := p.Get(context.Background(), "s1")
	if ex := run(t, sb2, `typeof x`); string(ex.Value) != `"undefined"` {
		t.Fatalf("a new sandbox starts empty, got %s", ex.Value)
	}
}

func TestCodeInterpPoolEvictsLeastRecentlyUsed(t *testing.T) {
	p := codeinterp.NewPool(codeinterp.NewLocal(codeinterp.Options{}), codeinterp.PoolOptions{MaxSandboxes: 2})
	defer p.Close(context.Background())
	ctx := context.Background()
	a, _ := p.Get(ctx, "a")
	run(t, a, `var who = 'a'`)
	b, _ := p.Get(ctx, "b")
	run(t, b, `var who = 'b'`)
	a, _ = p.Get(ctx, "a") // a is now the most recent
	if _, err := p.Get(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 {
		t.Fatalf("pool holds %d sandboxes", p.Len())
	}
	if ex := run(t, a, `who`); string(ex.Value) != `"a"` {
		t.Fatalf("recently used sandbox was evicted: %s", ex.Value)
	}
	if _, err := b.Execute(ctx, `who`); !errors.Is(err, codeinterp.ErrClosed) {
		t.Fatalf("least recently used sandbox should be closed, got %v", err)
	}
}

func TestCodeInterpToolResult(t *testing.T) {
	p := codeinterp.NewPool(codeinterp.NewLocal(codeinterp.Options{CPUTime: 200 * time.Millisecond}), codeinterp.PoolOptions{})
	defer p.Close(context.Background())
	tool, err := codeinterp.NewTool(p, codeinterp.ToolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	call := func(code string) codeinterp.CodeOutput {
		t.Helper()
		in, _ := json.Marshal(codeinterp.CodeInput{Code: code})
		parts, err := tool.Call(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		var out codeinterp.CodeOutput
		if err := json.Unmarshal(parts[0].(bedrockkit.JSON).Value, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := call(`const t = [3, 4].reduce((a, b) => a + b); console.log('total', t); writeFile('r.txt', 'T=' + t); ({ total: t })`)
	if out.Status != "ok" || out.Stdout != "total 7\n" || string(out.Value) != `{"total":7}` || len(out.Files) != 1 || out.Files[0].Content != "T=7" {
		t.Fatalf("got %+v", out)
	}
	if out := call(`t * 2`); string(out.Value) != "14" {
		t.Fatalf("state across tool calls: %+v", out)
	}
	if out := call(`nope()`); out.Status != "error" || !strings.Contains(out.Error, "nope is not defined") {
		t.Fatalf("got %+v", out)
	}
	if out := call(`for (;;) {}`); out.Status != "limit" || !strings.Contains(out.Error, "cpu limit") {
		t.Fatalf("got %+v", out)
	}
	if _, err := tool.Call(context.Background(), json.RawMessage(`{"code": 5}`)); !errors.Is(err, agent.ErrInvalidToolCall) {
		t.Fatalf("bad input: %v", err)
	}
	def := tool.Definition()
	if !strings.Contains(def.Description, "console.log") || !strings.Contains(def.Description, "64 MiB") {
		t.Fatalf("description: %s", def.Description)
	}
}

func partJSON(p bedrockkit.Part) []byte {
	if j, ok := p.(bedrockkit.JSON); ok {
		return j.Value
	}
	return nil
}

// TestCodeInterpTasks runs every reference JavaScript program of the task
// set unmodified; each must print its expected answer (checked against
// CPython's run of the Python twin when the set was written).
func TestCodeInterpTasks(t *testing.T) {
	interp := codeinterp.NewLocal(codeinterp.Options{})
	ctx := context.Background()
	for _, task := range codeinterptest.Tasks() {
		sb, err := interp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for p, c := range task.Files {
			if err := sb.WriteFiles(ctx, codeinterp.File{Path: p, Content: []byte(c)}); err != nil {
				t.Fatal(err)
			}
		}
		ex, err := sb.Execute(ctx, task.JS)
		switch {
		case err != nil:
			t.Errorf("%s: %v", task.Name, err)
		case ex.Error != "":
			t.Errorf("%s: %s", task.Name, ex.Error)
		case !task.Correct(ex.Stdout):
			t.Errorf("%s: printed %q, want %q", task.Name, ex.Stdout, task.Want)
		}
		sb.Close(ctx)
	}
}

// TestCodeInterpToolInAgentRun runs the tool inside agent runs: each agent
// session gets its own sandbox, whose variables persist across the session's
// turns and never leak into another session.
func TestCodeInterpToolInAgentRun(t *testing.T) {
	pool := codeinterp.NewPool(codeinterp.NewLocal(codeinterp.Options{}), codeinterp.PoolOptions{})
	defer pool.Close(context.Background())
	call := func(id, code string) bedrockkittest.Step {
		in, _ := json.Marshal(codeinterp.CodeInput{Code: code})
		return bedrockkittest.ToolStep(bedrockkit.ToolCall{ID: id, Name: "run_code", Input: in})
	}
	model := bedrockkittest.NewScriptedModel(
		call("c1", `var spent = 12.5 + 7.25; spent`), bedrockkittest.TextStep("noted"),
		call("c2", `typeof spent`), bedrockkittest.TextStep("other session"),
		call("c3", `spent * 2`), bedrockkittest.TextStep("doubled"),
	)
	var results []string
	tool, err := codeinterp.NewTool(pool, codeinterp.ToolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := &agent.Agent{Model: model, Tools: []*agent.Tool{tool},
		OnEvent: func(ev agent.RunEvent) {
			if e, ok := ev.(agent.ToolCalled); ok {
				results = append(results, string(partJSON(e.Result.Parts[0])))
			}
		}}
	ctx := context.Background()
	for _, turn := range []struct{ session, input string }{{"alice", "a"}, {"bob", "b"}, {"alice", "c"}} {
		if _, err := a.Run(ctx, turn.session, turn.input); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`{"status":"ok","value":19.75}`, `{"status":"ok","value":"undefined"}`, `{"status":"ok","value":39.5}`}
	if strings.Join(results, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tool results:\n%s\nwant:\n%s", strings.Join(results, "\n"), strings.Join(want, "\n"))
	}
	if pool.Len() != 2 {
		t.Fatalf("pool holds %d sandboxes, want one per session", pool.Len())
	}
}

func BenchmarkCodeInterpColdCall(b *testing.B) {
	interp := codeinterp.NewLocal(codeinterp.Options{})
	ctx := context.Background()
	for b.Loop() {
		sb, _ := interp.Start(ctx)
		if _, err := sb.Execute(ctx, `[1, 2, 3].reduce((a, b) => a + b, 0)`); err != nil {
			b.Fatal(err)
		}
		sb.Close(ctx)
	}
}

func BenchmarkCodeInterpWarmCall(b *testing.B) {
	sb, _ := codeinterp.NewLocal(codeinterp.Options{}).Start(context.Background())
	defer sb.Close(context.Background())
	ctx := context.Background()
	for b.Loop() {
		if _, err := sb.Execute(ctx, `[1, 2, 3].reduce((a, b) => a + b, 0)`); err != nil {
			b.Fatal(err)
		}
	}
}
