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
	for _, want := range []string{
		// 120k input at $3/M, 8k output at $15/M, 40k cache reads at $0.30/M.
		"us.anthropic.claude-3-7-sonnet-20250219-v1:0  $0.36    $0.12     $0.012      $0.492",
		"(errors.Is ErrUnknownModel: true)",
		"tenant acme    2 calls",
		"call 3 done",
		"call 4 refused before reaching the model",
		"(errors.Is ErrBudgetExceeded: true)",
		"The model was called 6 times in total",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
