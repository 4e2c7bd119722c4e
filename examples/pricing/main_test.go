package main

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit/pricing"
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
		// The bank assistant's month: 300,000 x (5,300 in, 240 out) on Nova Lite
		// is 1.59B x $0.06/M + 72M x $0.24/M; batch is half.
		"A month of the bank assistant (catalog as of " + pricing.Default().AsOf() + ")",
		"us.amazon.nova-lite-v1:0                     $112.68    $56.34   unknown              unknown               batch",
		// Claude Instant: 1.59B x $0.80/M + 72M x $2.40/M; one unit is $39.60 or $22.00 an hour, 730 hours.
		"anthropic.claude-instant-v1                  $1444.80   unknown  $28908.00            $16060.00             on-demand",
		"it pays off above $16060.00 of on-demand spend a month (published $22.00 per unit-hour",
		"standard $1.12, flex $0.56, priority: true (errors.Is ErrUnpriced: true)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestArgs(t *testing.T) {
	var stderr strings.Builder
	if err := parseArgs([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "usage: go run ./examples/pricing") {
		t.Fatalf("-h: %v, %q", err, stderr.String())
	}
	stderr.Reset()
	if err := parseArgs([]string{"extra"}, &stderr); err == nil || !strings.Contains(stderr.String(), "usage:") {
		t.Fatalf("an argument: %v, %q", err, stderr.String())
	}
	if err := parseArgs(nil, &stderr); err != nil {
		t.Fatal(err)
	}
}
