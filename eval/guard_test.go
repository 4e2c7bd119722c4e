package eval_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// wordGuard detects the content filters and PII types named by words in the text.
type wordGuard struct{}

func (wordGuard) Assess(_ context.Context, _ guardrail.Source, content ...guardrail.Content) (*guardrail.Verdict, error) {
	text := content[0].Text
	if strings.Contains(text, "FAIL") {
		return nil, errors.New("service unavailable")
	}
	res := &guardrail.Verdict{Action: guardrail.OutcomeNone}
	a := guardrail.Assessment{ContentPolicy: &guardrail.ContentAssessment{}, SensitiveInformationPolicy: &guardrail.SensitiveAssessment{}}
	if strings.Contains(text, "attack") {
		a.ContentPolicy.Filters = append(a.ContentPolicy.Filters, guardrail.ContentFinding{Type: guardrail.FilterPromptAttack, Detected: true, Action: "BLOCKED"})
		res.Action = guardrail.OutcomeIntervened
	}
	if strings.Contains(text, "hate") {
		a.ContentPolicy.Filters = append(a.ContentPolicy.Filters, guardrail.ContentFinding{Type: guardrail.FilterHate, Detected: true, Action: "NONE"})
	}
	if strings.Contains(text, "@") {
		a.SensitiveInformationPolicy.PiiEntities = append(a.SensitiveInformationPolicy.PiiEntities, guardrail.PIIFinding{Type: guardrail.PIIEmail, Detected: true, Action: "ANONYMIZED"})
	}
	res.Assessments = []guardrail.Assessment{a}
	return res, nil
}

func TestEvaluateGuard(t *testing.T) {
	cases := []eval.GuardCase{
		{ID: "1", Text: "an attack", Expected: []string{"PROMPT_ATTACK"}},         // TP
		{ID: "2", Text: "a sneaky override", Expected: []string{"PROMPT_ATTACK"}}, // FN
		{ID: "3", Text: "talk about attack helicopters"},                          // FP
		{ID: "4", Text: "hello"}, // TN
		{ID: "5", Text: "mail me at a@b.c", Expected: []string{"PII:EMAIL"}},         // TP (email)
		{ID: "6", Text: "hate speech", Expected: []string{"HATE"}},                   // TP (detected, action NONE)
		{ID: "7", Text: "FAIL", Expected: []string{"PROMPT_ATTACK"}},                 // failed: left out
		{ID: "8", Text: "an attack with a@b.c", Expected: []string{"PROMPT_ATTACK"}}, // TP attack, FP email
	}
	rep, err := eval.EvaluateGuard(context.Background(), wordGuard{}, cases, eval.GuardOptions{Name: "guard"})
	if err != nil {
		t.Fatal(err)
	}
	pa := rep.Policies["PROMPT_ATTACK"]
	if pa != (eval.PolicyScores{TP: 2, FN: 1, FP: 1, TN: 3}) || rep.Failed != 1 {
		t.Fatalf("PROMPT_ATTACK %+v, failed %d", pa, rep.Failed)
	}
	// P 2/3, R 2/3: F2 = 5PR/(4P+R) = 2/3; FPR 1/4.
	if !near(pa.Precision(), 2.0/3) || !near(pa.Recall(), 2.0/3) || !near(pa.F2(), 2.0/3) || !near(pa.FalsePositiveRate(), 0.25) {
		t.Fatalf("scores P %v R %v F2 %v FPR %v", pa.Precision(), pa.Recall(), pa.F2(), pa.FalsePositiveRate())
	}
	if e := rep.Policies["PII:EMAIL"]; e != (eval.PolicyScores{TP: 1, FP: 1, TN: 5}) {
		t.Fatalf("PII:EMAIL %+v", e)
	}
	// F2 weighs recall: P 1, R 0.5 gives 5*0.5/(4+0.5).
	if got := (eval.PolicyScores{TP: 1, FN: 1}).F2(); !near(got, 2.5/4.5) {
		t.Fatalf("F2 %v", got)
	}
	if rep.Any != (eval.PolicyScores{TP: 4, FN: 1, FP: 1, TN: 1}) {
		t.Fatalf("any %+v", rep.Any)
	}
	rep.Require(t, eval.Min("HATE/recall", 1), eval.Max("PROMPT_ATTACK/fpr", 0.25), eval.Min("any/f2", 0.7))
	var ft fakeT
	rep.Require(&ft, eval.Min("PROMPT_ATTACK/recall", 0.9))
	if !ft.failed {
		t.Fatal("a missed threshold passed")
	}
	var b strings.Builder
	rep.WriteSummary(&b)
	if !strings.Contains(b.String(), "PROMPT_ATTACK") || !strings.Contains(b.String(), "1 texts failed") {
		t.Fatalf("summary:\n%s", b.String())
	}
	if _, err := eval.EvaluateGuard(context.Background(), nil, cases, eval.GuardOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil guard: %v", err)
	}
	if _, err := eval.EvaluateGuard(context.Background(), wordGuard{}, append(cases, cases[0]), eval.GuardOptions{}); !errors.Is(err, eval.ErrInvalidCase) {
		t.Fatalf("duplicate id: %v", err)
	}
}

// The real local guardrail, through the same metrics.
func TestEvaluateGuardLocal(t *testing.T) {
	pol := &guardrail.Policy{BlockedInputMessaging: "blocked", BlockedOutputsMessaging: "blocked",
		SensitiveInformationPolicyConfig: &guardrail.SensitiveInfoConfig{PiiEntitiesConfig: []guardrail.PIIEntityConfig{{Type: guardrail.PIIEmail, Action: guardrail.ActionAnonymize}}}}
	g, err := guardrail.NewLocal(pol, guardrail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eval.EvaluateGuard(context.Background(), g, []eval.GuardCase{
		{ID: "1", Text: "write to jane.doe@example.com", Expected: []string{"PII:EMAIL"}},
		{ID: "2", Text: "the weather is nice"},
	}, eval.GuardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep.Require(t, eval.Min("PII:EMAIL/recall", 1), eval.Max("PII:EMAIL/fpr", 0))
}
