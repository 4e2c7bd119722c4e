package console_test

import (
	"context"
	"iter"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/console"
)

// loopModel is agent's BenchmarkLoopStep model: a tool call until every
// steps-th call, which gets the final answer. It does no work, so the
// benchmark measures the agent loop and what observes it.
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

var benchMaxRuns = 0

type benchIn struct {
	City string `json:"city"`
	Unit string `json:"unit,omitempty"`
}

// BenchmarkObserverOverhead is agent's BenchmarkLoopStep (one model call
// plus one or two validated tool calls, results, events and the session's
// load and save per turn; 10 steps per run) run with and without the
// console recording every event (Console.Observe per run, default
// retention, so past 500 runs each run also evicts the oldest). Runs with
// and without alternate (and swap order every run) in one benchmark, so
// machine noise hits both alike. Reports the median ns/step of each and
// overhead-% = 100 * (median with / median without - 1).
func BenchmarkObserverOverhead(b *testing.B) {
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
			echo := agent.MustNewFuncTool("echo", "Echo the city", func(ctx context.Context, in benchIn) (string, error) { return in.City, nil })
			a := &agent.Agent{Model: m, Tools: []*agent.Tool{echo}}
			c := console.New(console.Options{MaxRuns: benchMaxRuns})
			defer c.Close()
			ctx := context.Background()
			run := func(observed bool, i int) time.Duration {
				rctx, sess := ctx, "a"+strconv.Itoa(i)
				t0 := time.Now()
				if observed {
					rctx, sess = c.Observe(ctx, console.RunInfo{Agent: "bench"}), "b"+strconv.Itoa(i)
				}
				if _, err := a.Run(rctx, sess, "go"); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			}
			var with, without []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				first := i%2 == 0
				d1 := run(first, i)
				d2 := run(!first, i)
				if first {
					with, without = append(with, d1), append(without, d2)
				} else {
					with, without = append(with, d2), append(without, d1)
				}
			}
			mw, mo := median(with), median(without)
			b.ReportMetric(float64(mo.Nanoseconds())/steps, "ns/step-without")
			b.ReportMetric(float64(mw.Nanoseconds())/steps, "ns/step-with")
			b.ReportMetric(100*(float64(mw)/float64(mo)-1), "overhead-%")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkObserveEvent is the console's cost per recorded event: a run of
// one model call, two tool calls and the final event, as the agent emits
// them, recorded through an Observer. Reports ns/event.
func BenchmarkObserveEvent(b *testing.B) {
	c := console.New(console.Options{})
	defer c.Close()
	obs := c.Observer(console.RunInfo{Agent: "bench"})
	now := time.Now()
	msg := &bedrockkit.Message{Role: bedrockkit.RoleAssistant, Parts: []bedrockkit.Part{call("c1", "echo", `{"city":"Paris"}`), call("c2", "echo", `{"city":"Rome"}`)}}
	res := bedrockkit.ToolResult{CallID: "c1", Parts: []bedrockkit.Part{bedrockkit.Text{Text: "Paris"}}}
	events := []agent.RunEvent{
		agent.ModelCalled{Iteration: 1, Start: now, Duration: time.Millisecond, Message: msg, Usage: bedrockkit.Usage{InputTokens: 100, OutputTokens: 10}},
		agent.ToolCalled{Iteration: 1, Call: call("c1", "echo", `{"city":"Paris"}`), Result: res, Start: now, Duration: time.Microsecond},
		agent.ToolCalled{Iteration: 1, Call: call("c2", "echo", `{"city":"Rome"}`), Result: res, Start: now, Duration: time.Microsecond},
		agent.Observation{Iteration: 1, Results: []bedrockkit.ToolResult{res, res}},
		agent.Finished{Result: &agent.RunResult{SessionID: "s", Output: "done", Iterations: 1}},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			obs(e)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}
