package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEveryCheckPasses(t *testing.T) {
	var out strings.Builder
	c := &checker{out: &out}
	if err := run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if c.failed != 0 || strings.Contains(out.String(), "FAIL") {
		t.Fatalf("%d checks failed:\n%s", c.failed, out.String())
	}
	if n := strings.Count(out.String(), "PASS"); n != 15 {
		t.Fatalf("%d checks passed, want 15:\n%s", n, out.String())
	}
}

func TestCheckerReportsFailures(t *testing.T) {
	var out strings.Builder
	c := &checker{out: &out}
	c.check("fine", true, "")
	c.check("broken", false, "got %d", 7)
	if c.failed != 1 || !strings.Contains(out.String(), "FAIL  broken: got 7") {
		t.Fatalf("failed=%d output:\n%s", c.failed, out.String())
	}
}
