package main

import (
	"context"
	"strings"
	"testing"
)

// TestMemorySuite runs the memory evaluation small, on both backends: with
// a faithful extractor, consolidation leaves exactly one record per
// attribute and no outdated value is recalled; with a noisy one, it still
// keeps far fewer records than an append-only memory.
func TestMemorySuite(t *testing.T) {
	for _, backend := range []string{"local", "agentcore"} {
		exact, err := evalMemory(context.Background(), memEvalConfig{actors: 6, sessions: 4, seed: 3, backend: backend}, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		if exact.records != exact.attrs || exact.stale5 != 0 || exact.failed != 0 || exact.hits[5] == 0 {
			t.Fatalf("%s, faithful extractor: %s", backend, exact.line())
		}
		noisy, err := evalMemory(context.Background(), memEvalConfig{actors: 6, sessions: 4, seed: 3, backend: backend, unlinked: 0.5, synonyms: 0.5}, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		if noisy.records < noisy.attrs || noisy.records >= noisy.naive {
			t.Fatalf("%s, noisy extractor: %s", backend, noisy.line())
		}
		for _, f := range strings.Fields(noisy.line()) {
			if !strings.Contains(f, "=") {
				t.Fatalf("last line %q is not name=value pairs", noisy.line())
			}
		}
	}
}
