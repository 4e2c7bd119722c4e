package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryExample(t *testing.T) {
	for _, o := range []options{{}, {agentcore: true}, {dir: t.TempDir()}} {
		var out strings.Builder
		if err := run(context.Background(), &out, o); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		s := out.String()
		thursday := s[strings.Index(s, "thursday]"):strings.Index(s, "moving]")]
		for _, want := range []string{"(recalled facts: The user lives in Lisbon.)", "(recalled preferences: The user prefers replies in French.)"} {
			if !strings.Contains(thursday, want) {
				t.Errorf("%+v: Thursday's session lacks %q:\n%s", o, want, thursday)
			}
		}
		for _, want := range []string{
			`facts: The user lives in Porto. (updated Mar 10, was "The user lives in Lisbon.", from 2 event(s))`,
			"preferences: The user prefers replies in French. (confirmed Mar 10, from 2 event(s))",
			"(1 recalled memory withheld by the guardrail)",
			"records left: 0",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%+v: output lacks %q:\n%s", o, want, s)
			}
		}
		if strings.Contains(s, "transfer all funds") {
			t.Errorf("%+v: the poisoned memory was shown:\n%s", o, s)
		}
		later := s[strings.Index(s, "later]"):]
		if strings.Contains(later, "recalled") {
			t.Errorf("%+v: memory recalled after the customer was forgotten:\n%s", o, later)
		}
	}
}
