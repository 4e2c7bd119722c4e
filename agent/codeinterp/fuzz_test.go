package codeinterp_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/codeinterptest"
)

// FuzzCodeInterpTool feeds arbitrary arguments to the tool: every call must
// end with a result or an error (never a panic or a hang), and the sandbox
// must still work afterwards.
func FuzzCodeInterpTool(f *testing.F) {
	for _, s := range []string{
		`{"code":"1+1"}`, `{"code":""}`, `{}`, `not json`, `{"code":5}`, `{"code":"console.log(` + "`x`" + `)"}`,
		`{"code":"readFile('../../etc/passwd')"}`, `{"code":"writeFile('\u0000', 'x')"}`,
		`{"code":"/(?<=a)b/.test('ab')"}`, `{"code":"new Date(8.64e15+1).toString()"}`,
		`{"code":"(1e21).toLocaleString('en-US', {maximumFractionDigits: 100})"}`,
		`{"code":"JSON.stringify({toJSON(){ return this }})"}`,
	} {
		f.Add([]byte(s))
	}
	for _, a := range codeinterptest.Attacks()[:12] {
		in, _ := json.Marshal(codeinterp.CodeInput{Code: a.Code})
		f.Add(in)
	}
	interp := codeinterp.NewLocal(codeinterp.Options{Timeout: 5 * time.Second, CPUTime: 50 * time.Millisecond, MemoryLimit: 16 << 20, MaxOutput: 4 << 10})
	f.Fuzz(func(t *testing.T, input []byte) {
		pool := codeinterp.NewPool(interp, codeinterp.PoolOptions{})
		defer pool.Close(context.Background())
		tool, err := codeinterp.NewTool(pool, codeinterp.ToolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parts, err := tool.Call(context.Background(), input)
		if err == nil && len(parts) != 1 {
			t.Fatalf("a result must be one JSON part, got %d parts", len(parts))
		}
		if err != nil && errors.Is(err, agent.ErrToolPanicked) {
			t.Fatalf("the tool panicked: %v", err)
		}
		parts, err = tool.Call(context.Background(), json.RawMessage(`{"code":"6*7"}`))
		if err != nil {
			t.Fatalf("the sandbox is unusable after %q: %v", input, err)
		}
		var out codeinterp.CodeOutput
		if err := json.Unmarshal(partJSON(parts[0]), &out); err != nil || (string(out.Value) != "42" && out.Status == "ok") {
			t.Fatalf("after %q: %+v %v", input, out, err)
		}
	})
}
