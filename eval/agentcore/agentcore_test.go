package agentcore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/eval/agentcore"
	"github.com/bedrockkit/bedrockkit/pricing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func f64(v float64) *float64 { return &v }

// scorer stands in for AgentCore's evaluators, judging from what the
// service would see: Correctness compares the agent span's output with
// the expected response; Faithfulness looks for the answer's year in the
// retrieve tool's output; trajectories compare tool names.
func scorer(call bedrockkittest.EvaluationCall) []bedrockkittest.EvaluationScore {
	var out []bedrockkittest.EvaluationScore
	switch call.EvaluatorID {
	case eval.Correctness, eval.Faithfulness:
		for _, id := range call.TargetTraceIDs {
			var tr *bedrockkittest.EvaluatedTrace
			for i := range call.Traces {
				if call.Traces[i].TraceID == id {
					tr = &call.Traces[i]
				}
			}
			ok := false
			if call.EvaluatorID == eval.Correctness {
				ok = len(call.References) == 1 && strings.Contains(tr.Output, call.References[0].ExpectedResponse)
			} else {
				for _, t := range tr.Tools {
					ok = ok || (t.Name == "retrieve" && strings.Contains(t.Output, "1793"))
				}
			}
			v, label := 0.0, "Incorrect"
			if ok {
				v, label = 1, "Correct"
			}
			out = append(out, bedrockkittest.EvaluationScore{TraceID: id, Value: f64(v), Label: label,
				Explanation: "judged " + tr.Input, InputTokens: 900, OutputTokens: 60})
		}
	case "Builtin.TrajectoryInOrderMatch":
		var got []string
		for _, t := range call.Traces[0].Tools {
			got = append(got, t.Name)
		}
		label := "No"
		if strings.Join(got, ",") == strings.Join(call.References[0].ExpectedToolNames, ",") {
			label = "Yes"
		}
		out = append(out, bedrockkittest.EvaluationScore{Label: label, Explanation: "tools " + strings.Join(got, ","), InputTokens: 300, OutputTokens: 20})
	case "Builtin.ToolSelectionAccuracy":
		for _, id := range call.TargetSpanIDs {
			v := 1.0
			for _, t := range call.Traces[0].Tools {
				if t.SpanID == id && t.Name == "wrong_tool" {
					v = 0
				}
			}
			out = append(out, bedrockkittest.EvaluationScore{TraceID: call.Traces[0].TraceID, SpanID: id, Value: f64(v), InputTokens: 100, OutputTokens: 10})
		}
	}
	return out
}

func louvre() (eval.Case, *eval.Output) {
	return eval.Case{ID: "q1", Question: "When did the Louvre open?", ExpectedAnswer: "1793"},
		&eval.Output{Answer: "The Louvre opened in 1793.", Retrieved: []eval.RetrievedPassage{{DocumentID: "d", Text: "The Louvre opened on 10 August 1793."}}}
}

// Judged metrics computed remotely through the real SDK client against
// FakeEvaluations, priced with PriceRow.
func TestRemoteJudgeRun(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	fake.SetScorer(scorer)
	judge, err := agentcore.New(fake.Client(), agentcore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, out := louvre()
	wrong := eval.Case{ID: "q2", Question: "When did the Louvre open?", ExpectedAnswer: "1793"}
	target := eval.TargetFunc(func(_ context.Context, cs eval.Case) (*eval.Output, error) {
		if cs.ID == "q2" {
			return &eval.Output{Answer: "In 1850.", Retrieved: []eval.RetrievedPassage{{Text: "Napoleon expanded it."}}}, nil
		}
		return out, nil
	})
	cat, err := pricing.Default().Override(agentcore.PriceRow())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.Run(context.Background(), target, []eval.Case{c, wrong},
		eval.Options{Judge: judge, Judged: []string{eval.Correctness, eval.Faithfulness}, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	rep.Require(t, eval.Min(eval.Correctness, 0.5), eval.Max(eval.Correctness, 0.5), eval.Min(eval.Faithfulness, 0.5), eval.Max(eval.ErrorRate, 0))
	v := rep.Cases[0].Verdicts[0]
	if v.Score != 1 || v.Label != "Correct" || v.Judge != "agentcore" || !strings.Contains(v.Reasons, "When did the Louvre open?") {
		t.Fatalf("verdict %+v", v)
	}
	// 4 evaluations of 900 in and 60 out, at $0.0024 and $0.012 per 1K.
	want := pricing.MustMoney("0.01152")
	if rep.Cost.Metered != want {
		t.Fatalf("metered %s, want %s", rep.Cost.Metered, want)
	}
	if rep.Cost.Estimated < rep.Cost.Metered || len(rep.Cost.EstimateUnpriced) > 0 {
		t.Fatalf("estimate %s (unpriced %v)", rep.Cost.Estimated, rep.Cost.EstimateUnpriced)
	}
	calls := fake.Calls()
	if len(calls) != 4 {
		t.Fatalf("%d Evaluate calls", len(calls))
	}
	for _, call := range calls {
		if len(call.Traces) != 1 || call.Traces[0].Input != "When did the Louvre open?" || len(call.TargetTraceIDs) != 1 {
			t.Fatalf("call %+v", call)
		}
	}
}

func TestRemoteJudgeTrajectoryAndToolLevels(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	fake.SetScorer(scorer)
	judge, _ := agentcore.New(fake.Client(), agentcore.Options{})
	c := eval.Case{ID: "t", Question: "move money", ExpectedToolCalls: []eval.ExpectedCall{{Name: "get_balance"}, {Name: "transfer"}}}
	out := &eval.Output{Answer: "done", Retrieved: []eval.RetrievedPassage{{Text: "not a tool"}},
		ToolCalls: []eval.TrajectoryCall{{Name: "get_balance", Input: json.RawMessage(`{"a":1}`)}, {Name: "transfer", Input: json.RawMessage(`{}`)}}}
	v, err := judge.Judge(context.Background(), "Builtin.TrajectoryInOrderMatch", c, out)
	if err != nil || v.Score != 1 || v.Label != "Yes" || v.Reasons != "tools get_balance,transfer" {
		t.Fatalf("trajectory verdict %+v, %v (the retrieval must not appear as a tool here)", v, err)
	}
	// Twelve tool calls: two requests (10 + 2 span IDs); one wrong tool of twelve.
	out.ToolCalls = nil
	for i := range 12 {
		name := "get_balance"
		if i == 7 {
			name = "wrong_tool"
		}
		out.ToolCalls = append(out.ToolCalls, eval.TrajectoryCall{Name: name, Input: json.RawMessage(`{}`)})
	}
	before := len(fake.Calls())
	v, err = judge.Judge(context.Background(), "Builtin.ToolSelectionAccuracy", c, out)
	if err != nil || v.Score != 11.0/12 {
		t.Fatalf("tool-level verdict %+v, %v", v, err)
	}
	calls := fake.Calls()[before:]
	if len(calls) != 2 || len(calls[0].TargetSpanIDs) != 10 || len(calls[1].TargetSpanIDs) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	if _, err := judge.Judge(context.Background(), "Builtin.ToolSelectionAccuracy", c, &eval.Output{Answer: "x"}); !errors.Is(err, eval.ErrNotApplicable) {
		t.Fatalf("no tool calls: %v", err)
	}
}

func TestRemoteJudgeFailures(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	judge, _ := agentcore.New(fake.Client(), agentcore.Options{})
	c, out := louvre()
	// No scorer: the service's error result fails the verdict.
	if _, err := judge.Judge(context.Background(), eval.Correctness, c, out); err == nil || !strings.Contains(err.Error(), "FakeNoScorer") {
		t.Fatalf("error result: %v", err)
	}
	fake.FailNext(bedrockkittest.Fault{Code: "ThrottlingException", Message: "slow down"})
	_, err := judge.Judge(context.Background(), eval.Correctness, c, out)
	var thr *types.ThrottlingException
	if !errors.As(err, &thr) {
		t.Fatalf("throttling: %v", err)
	}
	fake.SetScorer(func(bedrockkittest.EvaluationCall) []bedrockkittest.EvaluationScore {
		return []bedrockkittest.EvaluationScore{{Label: "Somewhat"}}
	})
	if _, err := judge.Judge(context.Background(), eval.Correctness, c, out); !errors.Is(err, bedrockkit.ErrInvalidOutput) {
		t.Fatalf("label without value: %v", err)
	}
	if _, err := judge.Judge(context.Background(), eval.Completeness, c, out); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("Completeness: %v", err)
	}
	if _, err := judge.Judge(context.Background(), eval.Correctness, c, &eval.Output{}); !errors.Is(err, eval.ErrNotApplicable) {
		t.Fatalf("empty answer: %v", err)
	}
	if _, err := agentcore.New(nil, agentcore.Options{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil client: %v", err)
	}
	if _, err := agentcore.New(fake.Client(), agentcore.Options{Custom: map[string]agentcore.Level{"mine-abcdefghij": "SPAN"}}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("bad level: %v", err)
	}
}

// Local and remote judges in one run: AgentCore has no Completeness, so a
// model judges it while AgentCore judges correctness.
func TestCombineLocalAndRemote(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	fake.SetScorer(scorer)
	remote, _ := agentcore.New(fake.Client(), agentcore.Options{})
	local, err := eval.NewModelJudge(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep(`{"reasons":"covers the date","grade":"yes"}`)), eval.JudgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, out := louvre()
	target := eval.TargetFunc(func(context.Context, eval.Case) (*eval.Output, error) { return out, nil })
	if _, err := eval.Run(context.Background(), target, []eval.Case{c}, eval.Options{Judge: remote, Judged: []string{eval.Completeness}}); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("remote-only Completeness must be refused before running: %v", err)
	}
	rep, err := eval.Run(context.Background(), target, []eval.Case{c}, eval.Options{Judge: eval.Combine(remote, local), Judged: []string{eval.Correctness, eval.Completeness}})
	if err != nil {
		t.Fatal(err)
	}
	rep.Require(t, eval.Min(eval.Correctness, 1), eval.Min(eval.Completeness, 1))
	if j := rep.Cases[0].Verdicts[1].Judge; !strings.HasPrefix(j, "model:") {
		t.Fatalf("Completeness judged by %q", j)
	}
}
