package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemoOffline runs the example as `go run ./examples/serve` does and
// checks what it shows: the refusal without a token, the three answers,
// the pause and its approval, and one transfer.
func TestDemoOffline(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), nil, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"without a token: HTTP 401 UnauthorizedException",
		"assistant: Your Everyday Checking account (HV-****-****-57) has a balance of $2,431.18.",
		"assistant (streamed): Your last 3 transactions: PowerGrid electricity $74.10",
		"(tools called: transaction_summary)",
		`paused: transfer {"customer_id":"C-1001","to":"Ben Okafor","amount_cents":5000} needs the customer's approval`,
		"assistant: Done: $50.00 is on its way to Ben Okafor.",
		"GET /ping: Healthy",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	if len(ledger.sent) != 1 || ledger.sent[0] != "C-1001 -> Ben Okafor $50.00" {
		t.Fatalf("transfers %q", ledger.sent)
	}
}
