package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"

	"go.starlark.net/lib/json"
	starmath "go.starlark.net/lib/math"
	startime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp/codeinterptest"
)

func init() { suites["codeinterp"] = runCodeInterp }

// runCodeInterp scores the local code interpreter on codeinterptest's task
// set: the share of reference JavaScript programs that run unmodified and
// print the expected answer, the time per call, and the adversarial
// programs contained by the limits, with the memory ceiling and the peak heap
// growth measured while the memory attacks ran. For comparison it runs the
// same tasks' Python programs on Starlark (go.starlark.net), the other
// pure-Go candidate engine.
func runCodeInterp(args []string) error {
	fs := flag.NewFlagSet("codeinterp", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "print every task's outcome, not only failures")
	runs := fs.Int("runs", 5, "timed repetitions of each task (p50 over all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	tasks := codeinterptest.Tasks()
	interp := codeinterp.NewLocal(codeinterp.Options{})

	var jsOK, jsRan, starOK, starRan int
	var cold, warm, star []time.Duration
	for _, task := range tasks {
		ok, ran, msg, err := runJSTask(ctx, interp, task, &cold, &warm, *runs)
		if err != nil {
			return err
		}
		sOK, sRan, sMsg := runStarlarkTask(task, &star, *runs)
		if ok {
			jsOK++
		}
		if ran {
			jsRan++
		}
		if sOK {
			starOK++
		}
		if sRan {
			starRan++
		}
		if *verbose || !ok {
			fmt.Printf("%-42s js=%-5v %s\n", task.Name, ok, msg)
		}
		if *verbose {
			fmt.Printf("%-42s starlark=%-5v %s\n", "", sOK, sMsg)
		}
	}
	startup := measureStartup(ctx, interp, *runs*10)

	// The adversarial programs, with the limits they are written for (a
	// 16 MiB memory limit, a short CPU limit so the loops end quickly).
	attackInterp := codeinterp.NewLocal(codeinterp.Options{CPUTime: time.Second, MemoryLimit: 16 << 20, MaxOutput: 16 << 10, MaxFileSpace: 4 << 20})
	attackLimit := attackInterp.Options().MemoryLimit
	contained, peak := 0, int64(0)
	attacks := codeinterptest.Attacks()
	for _, a := range attacks {
		ok, grew, msg := runAttack(ctx, attackInterp, a)
		if ok {
			contained++
		} else {
			fmt.Printf("attack NOT contained: %-40s %s\n", a.Name, msg)
		}
		if *verbose {
			fmt.Printf("attack %-48s contained=%v heap+%dMiB %s\n", a.Name, ok, grew>>20, msg)
		}
		peak = max(peak, grew)
	}
	n := float64(len(tasks))
	fmt.Printf("tasks=%d js_correct=%.3f js_ran=%.3f js_p50_ms=%.2f js_warm_p50_ms=%.2f js_startup_ms=%.2f starlark_correct=%.3f starlark_ran=%.3f starlark_p50_ms=%.2f memory_limit_mib=%d attack_memory_limit_mib=%d attack_memory_peak_mib=%d attacks=%d attacks_contained=%d\n",
		len(tasks), float64(jsOK)/n, float64(jsRan)/n, ms(p50(cold)), ms(p50(warm)), ms(startup),
		float64(starOK)/n, float64(starRan)/n, ms(p50(star)), interp.Options().MemoryLimit>>20, attackLimit>>20, peak>>20, len(attacks), contained)
	return nil
}

// runJSTask runs a task's JavaScript program in fresh sandboxes: cold
// times one call including the sandbox's start, warm a second call of the
// same program in the same sandbox.
func runJSTask(ctx context.Context, interp *codeinterp.Local, task codeinterptest.Task, cold, warm *[]time.Duration, runs int) (ok, ran bool, msg string, err error) {
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		sb, err := interp.Start(ctx)
		if err != nil {
			return false, false, "", err
		}
		for name, content := range task.Files {
			if err := sb.WriteFiles(ctx, codeinterp.File{Path: name, Content: []byte(content)}); err != nil {
				return false, false, "", err
			}
		}
		ex, err := sb.Execute(ctx, task.JS)
		*cold = append(*cold, time.Since(t0))
		if i == 0 {
			switch {
			case err != nil:
				msg = "stopped: " + err.Error()
			case ex.Error != "":
				msg = "error: " + firstLine(ex.Error)
			default:
				ran = true
				ok = task.Correct(ex.Stdout)
				if !ok {
					msg = fmt.Sprintf("printed %q, want %q", lastLine(ex.Stdout), task.Want)
				}
			}
		}
		if ex != nil && ex.Error == "" && err == nil {
			t1 := time.Now()
			if _, err := sb.Execute(ctx, task.JS); err == nil {
				*warm = append(*warm, time.Since(t1))
			}
		}
		_ = sb.Close(ctx)
	}
	return ok, ran, msg, nil
}

// runStarlarkTask runs a task's Python program, unmodified, on Starlark with
// its most permissive dialect and its json, math and time modules.
func runStarlarkTask(task codeinterptest.Task, times *[]time.Duration, runs int) (ok, ran bool, msg string) {
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	predeclared := starlark.StringDict{"json": json.Module, "math": starmath.Module, "time": startime.Module}
	for i := 0; i < runs; i++ {
		var out strings.Builder
		thread := &starlark.Thread{Name: task.Name, Print: func(_ *starlark.Thread, s string) { out.WriteString(s + "\n") }}
		thread.SetMaxExecutionSteps(1e9)
		t0 := time.Now()
		_, err := starlark.ExecFileOptions(opts, thread, "main.py", task.Python, predeclared)
		*times = append(*times, time.Since(t0))
		if i > 0 {
			continue
		}
		if err != nil {
			msg = "error: " + firstLine(err.Error())
			continue
		}
		ran = true
		ok = task.Correct(out.String())
		if !ok {
			msg = fmt.Sprintf("printed %q", lastLine(out.String()))
		}
	}
	return ok, ran, msg
}

// measureStartup times starting a sandbox and running a trivial program.
func measureStartup(ctx context.Context, interp *codeinterp.Local, n int) time.Duration {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		sb, err := interp.Start(ctx)
		if err != nil {
			continue
		}
		if _, err := sb.Execute(ctx, `0`); err == nil {
			ds = append(ds, time.Since(t0))
		}
		_ = sb.Close(ctx)
	}
	return p50(ds)
}

// runAttack runs one adversarial program and reports whether it ended as
// required, and the largest heap growth sampled while it ran.
func runAttack(ctx context.Context, interp *codeinterp.Local, a codeinterptest.Attack) (bool, int64, string) {
	sb, err := interp.Start(ctx)
	if err != nil {
		return false, 0, err.Error()
	}
	defer sb.Close(ctx)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := int64(sample[0].Value.Uint64())
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(s)
				peak = max(peak, int64(s[0].Value.Uint64())-base)
			}
		}
	}()
	ex, err := sb.Execute(ctx, a.Code)
	close(done)
	wg.Wait()
	var le *codeinterp.LimitError
	switch {
	case a.Limit != "" || a.AnyLimit:
		if !errors.As(err, &le) {
			return false, peak, fmt.Sprintf("want a limit, got err=%v", err)
		}
		if !a.AnyLimit && le.Limit != a.Limit {
			return false, peak, fmt.Sprintf("want the %s limit, got %v", a.Limit, err)
		}
		return true, peak, string(le.Limit)
	case err != nil:
		return false, peak, err.Error()
	case !strings.Contains(ex.Error, a.ErrorContains):
		return false, peak, fmt.Sprintf("want an error containing %q, got %q", a.ErrorContains, ex.Error)
	}
	return true, peak, "error"
}

func p50(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 140 {
		line = line[:140] + "…"
	}
	return line
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return firstLine(lines[len(lines)-1])
}
