package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConsole: with -console the offline run is shown in the developer
// console while the index is still open: both syncs, what every question
// retrieved, the playground and the guardrail.
func TestConsole(t *testing.T) {
	args, on := consoleFlag([]string{"-q", "What does a wire transfer cost?", "-console", "-dir", ""})
	if !on || strings.Join(args, " ") != "-q What does a wire transfer cost? -dir " {
		t.Fatalf("consoleFlag: %v %v", args, on)
	}
	var out strings.Builder
	ctx, err := startConsole(context.Background(), &out)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(strings.TrimPrefix(out.String(), "Developer console: "), " (live while the quickstart runs)\n\n")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("console address %q", out.String())
	}
	get := func(path string) string {
		t.Helper()
		res, err := http.Get(strings.TrimSuffix(base, "/") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(b)
	}
	checked := false
	consoleFrom(ctx).wait = func(context.Context) {
		kbPage := get("/kb/harborview")
		for _, want := range []string{`id="playground"`, "Sync history", "What does a wire transfer cost?", "harborview:fees.md"} {
			if !strings.Contains(kbPage, want) {
				t.Errorf("the knowledge-base page lacks %q", want)
			}
		}
		if n := strings.Count(kbPage, `</td><td>—</td><td class="num">`); n != 2 { // a row per sync, no partition
			t.Errorf("%d syncs shown, want 2", n)
		}
		if g := get("/guardrails"); !strings.Contains(g, "harborview (assistant.go)") {
			t.Error("the guardrail is not offered")
		}
		checked = true
	}
	if err := run(ctx, io.Discard, options{modelID: "us.amazon.nova-lite-v1:0", question: "What does a wire transfer cost?"}); err != nil {
		t.Fatal(err)
	}
	if !checked {
		t.Fatal("the console was not served at the end of the run")
	}
}
