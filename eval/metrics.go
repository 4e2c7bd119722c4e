package eval

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/bedrockkit/bedrockkit"
)

// Names of the metrics Run computes without a judge. Retrieval metrics are
// named with their cutoff: "ndcg@10", "recall@100", "mrr@10".
const (
	// ExactMatch is 1 when the answer equals the expected answer (or an
	// acceptable one) after normalisation: lower case, punctuation and the
	// articles a, an, the removed, white space collapsed (SQuAD's rule).
	ExactMatch = "exact_match"
	// TokenF1 is the F1 of the normalised answer's words against the
	// expected answer's (SQuAD's token F1), the best over acceptable answers.
	TokenF1 = "token_f1"
	// CitationPrecision is the share of the documents an answer cites
	// that are relevant documents of the case.
	CitationPrecision = "citation_precision"
	// CitationCoverage is the share of the answer's non-space characters
	// inside a cited span.
	CitationCoverage = "citation_coverage"
	// TrajectoryMatch is 1 when the tool calls match the expected ones under
	// the case's ToolOrder (see MatchTrajectory).
	TrajectoryMatch = "trajectory_match"
	// ToolRecall is the share of expected tool calls matched by a call.
	ToolRecall = "tool_recall"
	// ToolPrecision is the share of calls that match an expected call.
	ToolPrecision = "tool_precision"
	// ArgumentsValid is the share of calls whose arguments the tool accepted.
	ArgumentsValid = "arguments_valid"
	// Steps is the number of model calls per case.
	Steps = "steps"
	// CostUSD is the metered cost of a case (target and judge) in dollars.
	CostUSD = "cost_usd"
	// LatencySeconds is the target's time per case.
	LatencySeconds = "latency_seconds"
	// ErrorRate is the share of cases whose target or judge failed.
	ErrorRate = "error_rate"
)

// NDCG is nDCG@k with graded gains 2^g-1 and log2 discounts (trec_eval and
// BEIR's definition). ranked holds document IDs best first; a document
// ranked again later counts only once, at its best rank.
func NDCG(ranked []string, rel Relevance, k int) float64 {
	ranked = dedupe(ranked)
	var dcg float64
	for i, d := range ranked[:min(k, len(ranked))] {
		if g := rel[d]; g > 0 {
			dcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
		}
	}
	grades := make([]int, 0, len(rel))
	for _, g := range rel {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	var idcg float64
	for i, g := range grades[:min(k, len(grades))] {
		idcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall is the share of relevant documents among the first k (recall@k).
func Recall(ranked []string, rel Relevance, k int) float64 {
	n := rel.relevant()
	if n == 0 {
		return 0
	}
	found := 0
	ranked = dedupe(ranked)
	for _, d := range ranked[:min(k, len(ranked))] {
		if rel[d] > 0 {
			found++
		}
	}
	return float64(found) / float64(n)
}

// MRR is the reciprocal rank of the first relevant document among the
// first k, or 0.
func MRR(ranked []string, rel Relevance, k int) float64 {
	ranked = dedupe(ranked)
	for i, d := range ranked[:min(k, len(ranked))] {
		if rel[d] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

func dedupe(ranked []string) []string {
	seen := make(map[string]bool, len(ranked))
	out := ranked[:0:0]
	for _, d := range ranked {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// NormalizeAnswer is SQuAD's answer normalisation: lower case, punctuation
// removed, the articles a, an and the removed, white space collapsed.
func NormalizeAnswer(s string) string {
	return strings.Join(answerTokens(s), " ")
}

func answerTokens(s string) []string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
	var out []string
	for _, w := range strings.Fields(s) {
		if w != "a" && w != "an" && w != "the" {
			out = append(out, w)
		}
	}
	return out
}

// AnswerExactMatch is 1 when the normalised answer equals one of the
// normalised references, else 0.
func AnswerExactMatch(answer string, references ...string) float64 {
	a := NormalizeAnswer(answer)
	for _, r := range references {
		if NormalizeAnswer(r) == a {
			return 1
		}
	}
	return 0
}

// AnswerTokenF1 is the best token F1 of the normalised answer against the
// references: the harmonic mean of the shares of shared words (counted
// with multiplicity) in the answer and in the reference.
func AnswerTokenF1(answer string, references ...string) float64 {
	at := answerTokens(answer)
	best := 0.0
	for _, r := range references {
		rt := answerTokens(r)
		if len(at) == 0 || len(rt) == 0 {
			if len(at) == len(rt) {
				best = max(best, 1)
			}
			continue
		}
		count := map[string]int{}
		for _, w := range rt {
			count[w]++
		}
		common := 0
		for _, w := range at {
			if count[w] > 0 {
				count[w]--
				common++
			}
		}
		if common == 0 {
			continue
		}
		p := float64(common) / float64(len(at))
		rc := float64(common) / float64(len(rt))
		best = max(best, 2*p*rc/(p+rc))
	}
	return best
}

// CitedPrecision is the share of distinct cited documents that are
// relevant. docID names a citation source's document as the case does. It
// reports false when the answer cites nothing.
func CitedPrecision(cites []bedrockkit.Citation, rel Relevance, docID func(bedrockkit.CitationSource) string) (float64, bool) {
	seen := map[string]bool{}
	good := 0
	for _, c := range cites {
		for _, s := range c.Sources {
			d := docID(s)
			if d == "" || seen[d] {
				continue
			}
			seen[d] = true
			if rel[d] > 0 {
				good++
			}
		}
	}
	if len(seen) == 0 {
		return 0, false
	}
	return float64(good) / float64(len(seen)), true
}

// CitedCoverage is the share of the answer's non-space characters that lie
// inside a citation's span (spans out of range are clipped). It reports
// false for an answer without non-space characters.
func CitedCoverage(answer string, cites []bedrockkit.Citation) (float64, bool) {
	covered := make([]bool, len(answer))
	for _, c := range cites {
		a, e := max(c.Span.Start, 0), min(c.Span.End, len(answer))
		for i := a; i < e; i++ {
			covered[i] = true
		}
	}
	total, in := 0, 0
	for i, r := range answer {
		if unicode.IsSpace(r) {
			continue
		}
		total++
		if covered[i] {
			in++
		}
	}
	if total == 0 {
		return 0, false
	}
	return float64(in) / float64(total), true
}
