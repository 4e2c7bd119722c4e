package codeinterp_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/codeinterptest"
)

// TestCodeInterpAttacks runs every escape and exhaustion attempt in a fresh
// sandbox: each must end with the expected limit or error, the sandbox must
// still run a program afterwards, and the host's heap must come back down.
func TestCodeInterpAttacks(t *testing.T) {
	// Generous wall-clock time so that a loaded machine still reaches the
	// intended limit; CPU time stops the loops.
	interp := codeinterp.NewLocal(codeinterp.Options{Timeout: 20 * time.Second, CPUTime: 300 * time.Millisecond, MemoryLimit: 16 << 20, MaxOutput: 16 << 10, MaxFileSpace: 4 << 20})
	ctx := context.Background()
	for _, a := range codeinterptest.Attacks() {
		t.Run(a.Name, func(t *testing.T) {
			sb, err := interp.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close(ctx)
			ex, err := sb.Execute(ctx, a.Code)
			var le *codeinterp.LimitError
			switch {
			case a.Limit != "" || a.AnyLimit:
				if !errors.As(err, &le) || !errors.Is(err, codeinterp.ErrLimitExceeded) {
					t.Fatalf("want a limit error, got err=%v execution=%+v", err, ex)
				}
				if !a.AnyLimit && le.Limit != a.Limit {
					t.Fatalf("want the %s limit, got %v", a.Limit, err)
				}
				if ex == nil {
					t.Fatal("a limit error must come with the partial execution")
				}
			default:
				if err != nil {
					t.Fatalf("want a program error containing %q, got err=%v", a.ErrorContains, err)
				}
				if !strings.Contains(ex.Error, a.ErrorContains) {
					t.Fatalf("want Execution.Error containing %q, got %q (value %s)", a.ErrorContains, ex.Error, ex.Value)
				}
			}
			after, err := sb.Execute(ctx, `[1, 2, 3].map(x => x * 2).join(',')`)
			if err != nil || string(after.Value) != `"2,4,6"` {
				t.Fatalf("sandbox unusable after the attack: %v %+v", err, after)
			}
		})
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 512<<20 {
		t.Fatalf("host heap still holds %d MiB after the attacks", ms.HeapAlloc>>20)
	}
}

// TestFileSpaceLimit: writing past MaxFileSpace ends the call with the size
// limit (with CPU time to spare, so no other limit can stop it first on a
// loaded machine), and the files written before it stay readable.
func TestFileSpaceLimit(t *testing.T) {
	interp := codeinterp.NewLocal(codeinterp.Options{Timeout: time.Minute, CPUTime: 30 * time.Second, MaxFileSpace: 1 << 20})
	ctx := context.Background()
	sb, err := interp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	_, err = sb.Execute(ctx, `const s = 'x'.repeat(300000); for (let i = 0; ; i++) writeFile('f' + i + '.txt', s)`)
	var le *codeinterp.LimitError
	if !errors.As(err, &le) || le.Limit != codeinterp.LimitSize {
		t.Fatalf("want the size limit, got %v", err)
	}
	ex, err := sb.Execute(ctx, `readFile('f0.txt').length`)
	if err != nil || string(ex.Value) != "300000" {
		t.Fatalf("file written before the limit: %v %+v", err, ex)
	}
}
