package agent_test

import (
	"context"
	"iter"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// loopModel answers with a tool call until every steps-th call, which gets a
// final answer. It does no work, so a benchmark measures the loop itself.
type loopModel struct {
	steps int
	n     atomic.Int64
	tool  *bedrockkit.Response
	final *bedrockkit.Response
}

func (m *loopModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if m.n.Add(1)%int64(m.steps) == 0 {
		return m.final, nil
	}
	return m.tool, nil
}

func (m *loopModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {}
}

// BenchmarkLoopStep measures the agent's own cost per step (one model call
// plus one validated tool call, results and events), with a model and a tool
// that do nothing. Memory is the default in-memory store; each turn loads and
// saves its session. Report: ns/step.
func BenchmarkLoopStep(b *testing.B) {
	for _, par := range []int{1, 2} {
		b.Run("calls="+strconv.Itoa(par), func(b *testing.B) {
			const steps = 10
			msg := bedrockkit.Message{Role: bedrockkit.RoleAssistant}
			for i := range par {
				msg.Parts = append(msg.Parts, call("c"+strconv.Itoa(i), "echo", `{"city":"Paris","unit":"c"}`))
			}
			m := &loopModel{steps: steps,
				tool:  &bedrockkit.Response{Message: msg, StopReason: bedrockkit.StopToolUse},
				final: &bedrockkit.Response{Message: bedrockkit.AssistantText("done"), StopReason: bedrockkit.StopEndTurn}}
			a := &agent.Agent{Model: m, Tools: []*agent.Tool{echoTool()}}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := a.Run(ctx, strconv.Itoa(i), "go"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
