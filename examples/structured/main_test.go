package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOfflineOutput(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, options{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"invalid: at '/currency': value must be one of",
		"at '/lines/1/quantity': minimum: got 0, want 1",
		"-> sent back to the model for repair",
		`validated: {"number":"INV-2044","currency":"EUR"`,
		"Go value: invoice INV-2044, 2 lines, total 405.00 EUR, due 2026-03-15",
		"tokens (all answers): 762 in, 146 out",
		"{Category:fraud Priority:1 Summary:Unrecognised card purchases abroad last night}",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
