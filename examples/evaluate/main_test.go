package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/eval"
	evalagentcore "github.com/bedrockkit/bedrockkit/eval/agentcore"
	"github.com/bedrockkit/bedrockkit/pricing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOfflineMeetsThresholds(t *testing.T) {
	var out bytes.Buffer
	report := filepath.Join(t.TempDir(), "report.json")
	if err := run(context.Background(), setup{concurrency: 4, jsonPath: report}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "all thresholds met") || !strings.Contains(out.String(), "8 cases") {
		t.Fatalf("output:\n%s", out.String())
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Cases) != 8 {
		t.Fatalf("report: %v", err)
	}
}

const (
	answerModel = "amazon.nova-lite-v1:0"
	judgeModel  = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
)

func verdict(grade string) bedrockkittest.Reply {
	return bedrockkittest.Reply{Message: bedrockkit.AssistantText(`{"reasons":"checked against the reference","grade":"` + grade + `"}`),
		Usage: bedrockkit.Usage{InputTokens: 700, OutputTokens: 40}}
}

func answer(text string) bedrockkittest.Reply {
	return bedrockkittest.Reply{Message: bedrockkit.AssistantText(text), Usage: bedrockkit.Usage{InputTokens: 500, OutputTokens: 30}}
}

func fakeModels(t *testing.T, fake *bedrockkittest.FakeBedrock) (bedrockkit.Model, eval.Judge) {
	t.Helper()
	a, err := bedrockkit.NewConverseModel(fake.Client(), answerModel, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := bedrockkit.NewConverseModel(fake.Client(), judgeModel, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mj, err := eval.NewModelJudge(j, eval.JudgeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a, mj
}

// With -bedrock: the answers and the verdicts come from Converse (FakeBedrock
// through the real SDK client), and the run is priced before and after.
func TestBedrockAnswersAndJudge(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	fake.Enqueue(bedrockkittest.OpConverse,
		answer("The fee is waived when the balance stays at or above 1,500 dollars [1]."),
		verdict("correct"), verdict("yes"), verdict("all_faithful"), verdict("very_helpful"),
		answer("The monthly maintenance fee is 6 dollars [1]."),
		verdict("correct"), verdict("generally_yes"), verdict("all_faithful"), verdict("very_helpful"),
	)
	a, j := fakeModels(t, fake)
	var out bytes.Buffer
	err := run(context.Background(), setup{answerModel: a, answerID: answerModel, judge: j, catalog: pricing.Default(),
		budget: pricing.MustMoney("0.50"), concurrency: 1, limit: 2}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"Builtin.Correctness", "Builtin.Completeness  0.8750", "all thresholds met", "metered $0.0"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if n := fake.Pending(bedrockkittest.OpConverse); n != 0 {
		t.Fatalf("%d scripted replies left", n)
	}
	// A judge that finds the answers wrong fails the run's thresholds.
	fake.Enqueue(bedrockkittest.OpConverse,
		answer("It is never waived [1]."), verdict("incorrect"), verdict("not_at_all"), verdict("none_faithful"), verdict("not_helpful_at_all"))
	err = run(context.Background(), setup{answerModel: a, answerID: answerModel, judge: j, catalog: pricing.Default(), concurrency: 1, limit: 1}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "Builtin.Correctness >= 0.8") {
		t.Fatalf("bad answers passed: %v", err)
	}
	// The budget is checked before any call.
	before := len(fake.Requests())
	err = run(context.Background(), setup{answerModel: a, answerID: answerModel, judge: j, catalog: pricing.Default(), budget: pricing.MustMoney("0.001"), concurrency: 1}, &bytes.Buffer{})
	if err == nil || len(fake.Requests()) != before {
		t.Fatalf("over budget: %v after %d calls", err, len(fake.Requests())-before)
	}
}

// With -agentcore as well: AgentCore Evaluations (FakeEvaluations) grades
// correctness, faithfulness and helpfulness; the model judge completeness.
func TestAgentCoreJudge(t *testing.T) {
	fake := bedrockkittest.NewFakeBedrock(t)
	fake.Enqueue(bedrockkittest.OpConverse, answer("The monthly maintenance fee is 6 dollars [1]."), verdict("yes"))
	evals := bedrockkittest.NewFakeEvaluations(t)
	evals.SetScorer(func(c bedrockkittest.EvaluationCall) []bedrockkittest.EvaluationScore {
		one := 1.0
		return []bedrockkittest.EvaluationScore{{TraceID: c.TargetTraceIDs[0], Value: &one, Label: "Good", Explanation: c.EvaluatorID + " ok", InputTokens: 1000, OutputTokens: 100}}
	})
	a, mj := fakeModels(t, fake)
	remote, err := evalagentcore.New(evals.Client(), evalagentcore.Options{AgentName: "harborview-help"})
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := pricing.Default().Override(evalagentcore.PriceRow())
	var out bytes.Buffer
	// The second case's answer is not scripted: only the first case runs.
	err = run(context.Background(), setup{answerModel: a, answerID: answerModel, judge: eval.Combine(remote, mj), catalog: cat, concurrency: 1, limit: 1}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	calls := evals.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d AgentCore evaluations, want 3", len(calls))
	}
	for _, c := range calls {
		if c.Traces[0].Input != "When is the monthly account fee waived?" || !strings.Contains(c.Traces[0].Output, "6 dollars") {
			t.Fatalf("trace %+v", c.Traces[0])
		}
	}
	if strings.Contains(out.String(), "unpriced") {
		t.Fatalf("AgentCore usage left unpriced:\n%s", out.String())
	}
}
