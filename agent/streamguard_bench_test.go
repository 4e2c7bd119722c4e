package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// BenchmarkGuardedStream streams a 100 KB answer in 16-byte deltas through
// an agent guarded by a local guardrail policy (PII, words, topics): the
// agent checks the answer once when the call ends, so the cost is one
// assessment of the whole text, linear in its length, whatever the split.
// "unguarded" is the same stream with no Guardrail.
func BenchmarkGuardedStream(b *testing.B) {
	text := strings.Repeat("The balance of account A-1 was checked on Monday and is fine. ", 1700)[:100_000]
	events := bedrockkittest.ResponseEvents(&bedrockkit.Response{Message: bedrockkit.AssistantText(text), StopReason: bedrockkit.StopEndTurn}, 16)
	for _, guarded := range []bool{false, true} {
		name := map[bool]string{false: "unguarded", true: "guarded"}[guarded]
		b.Run(name, func(b *testing.B) {
			var g guardrail.Guard
			if guarded {
				g = streamGuard(b)
			}
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				model := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Events: events})
				a := &agent.Agent{Model: model, Guardrail: g}
				n := 0
				for ev, err := range a.Stream(context.Background(), "s", "Summarise my account.") {
					if err != nil {
						b.Fatal(err)
					}
					if td, ok := ev.(agent.ModelText); ok {
						n += len(td.Text)
					}
				}
				if n != len(text) {
					b.Fatalf("streamed %d bytes of %d", n, len(text))
				}
			}
		})
	}
}
