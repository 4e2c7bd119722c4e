package eval_test

import (
	"math"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRetrievalMetrics(t *testing.T) {
	rel := eval.Relevance{"a": 1, "b": 2, "z": 0}
	// b (gain 3) at rank 1, a (gain 1) at rank 3: DCG 3 + 1/2; ideal 3 + 1/log2(3).
	want := (3 + 0.5) / (3 + 1/math.Log2(3))
	if got := eval.NDCG([]string{"b", "x", "a"}, rel, 10); !near(got, want) {
		t.Fatalf("nDCG = %v, want %v", got, want)
	}
	// A document ranked twice counts once, at its best rank: the repeat
	// neither adds gain nor pushes a down.
	if got := eval.NDCG([]string{"b", "b", "x", "a"}, rel, 10); !near(got, want) {
		t.Fatalf("nDCG with a repeated document = %v, want %v", got, want)
	}
	if got := eval.NDCG([]string{"x"}, rel, 10); got != 0 {
		t.Fatalf("nDCG of a miss = %v", got)
	}
	if got := eval.NDCG([]string{"a"}, eval.Relevance{"a": 0}, 10); got != 0 {
		t.Fatalf("nDCG with no relevant document = %v", got)
	}
	if got := eval.Recall([]string{"x", "a", "a"}, rel, 100); got != 0.5 {
		t.Fatalf("recall = %v (grade-0 documents are not relevant)", got)
	}
	if got := eval.Recall([]string{"x", "a"}, rel, 1); got != 0 {
		t.Fatalf("recall@1 = %v", got)
	}
	if got := eval.MRR([]string{"x", "x", "y", "a"}, rel, 10); got != 1.0/3 {
		t.Fatalf("MRR = %v", got)
	}
	if got := eval.MRR([]string{"x", "y", "a"}, rel, 2); got != 0 {
		t.Fatalf("MRR@2 = %v", got)
	}
}

func TestAnswerMetrics(t *testing.T) {
	if eval.AnswerExactMatch("The  Eiffel tower!", "eiffel Tower") != 1 {
		t.Fatal("normalised exact match failed")
	}
	if eval.AnswerExactMatch("Eiffel", "Eiffel Tower", "the Eiffel") != 1 {
		t.Fatal("an acceptable answer should match")
	}
	if eval.AnswerExactMatch("Paris", "Lyon") != 0 {
		t.Fatal("different answers matched")
	}
	// answer {eiffel, tower, paris}, reference {eiffel, tower}: P 2/3, R 1.
	if got := eval.AnswerTokenF1("the Eiffel Tower, Paris", "Eiffel Tower"); !near(got, 0.8) {
		t.Fatalf("F1 = %v, want 0.8", got)
	}
	// Multiplicity: "a a" against "a": the second word is not shared.
	if got := eval.AnswerTokenF1("yes yes", "yes"); !near(got, 2*0.5*1/(1.5)) {
		t.Fatalf("F1 with repeated words = %v", got)
	}
	if eval.AnswerTokenF1("", "") != 1 || eval.AnswerTokenF1("x", "") != 0 {
		t.Fatal("empty answers")
	}
}

func TestCitationMetrics(t *testing.T) {
	answer := "Paris is the capital. It has the Louvre."
	cites := []bedrockkit.Citation{
		{Span: bedrockkit.Span{Start: 0, End: 21}, Sources: []bedrockkit.CitationSource{{URI: "doc:paris"}, {URI: "doc:lyon"}}},
		{Span: bedrockkit.Span{Start: 29, End: 999}, Sources: []bedrockkit.CitationSource{{URI: "doc:paris"}}},
	}
	cov, ok := eval.CitedCoverage(answer, cites)
	// non-space characters: 33; covered: "Paris is the capital." (18) + "the Louvre." (10).
	if !ok || !near(cov, 28.0/33) {
		t.Fatalf("coverage = %v %v, want 28/33", cov, ok)
	}
	if _, ok := eval.CitedCoverage("   ", cites); ok {
		t.Fatal("coverage of a blank answer should not be reported")
	}
	p, ok := eval.CitedPrecision(cites, eval.Relevance{"doc:paris": 1}, func(s bedrockkit.CitationSource) string { return s.URI })
	if !ok || p != 0.5 {
		t.Fatalf("precision = %v %v, want 0.5 (paris relevant, lyon not; paris counted once)", p, ok)
	}
	if _, ok := eval.CitedPrecision(nil, eval.Relevance{"x": 1}, func(s bedrockkit.CitationSource) string { return s.URI }); ok {
		t.Fatal("precision without citations should not be reported")
	}
}
