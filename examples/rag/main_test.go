package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOutput(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	filtered := s[strings.Index(s, "with filter"):]
	filtered = filtered[:strings.Index(filtered, "RetrieveAndGenerate")]
	if strings.Contains(filtered, "region=us") || strings.Contains(filtered, "mem:kettle.md") {
		t.Errorf("the filtered results include a document the filter excludes:\n%s", filtered)
	}
	for _, want := range []string{
		"Synced 4 documents into 4 chunks (4 new, 0 failed).",
		"1. mem:returns.md",
		"(extractive=true)",
		"answer: You can return any item within 30 days of delivery for a full refund.",
		"is supported by mem:returns.md",
		"I don't know",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
