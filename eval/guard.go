package eval

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

// GuardCase is one labelled text for evaluating a guardrail.
type GuardCase struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	// Source is INPUT (default) or OUTPUT.
	Source guardrail.Source `json:"source,omitempty"`
	// Expected lists the policies that should detect the text, named as
	// GuardPolicies names them ("PROMPT_ATTACK", "HATE", "PII:EMAIL",
	// "TOPIC:Investment advice"); empty means the text is benign.
	Expected []string `json:"expected,omitempty"`
}

// GuardPolicies names the policies that detected something in a guardrail
// result: a content filter by its type ("HATE", "PROMPT_ATTACK"), a denied
// topic as "TOPIC:<name>", a custom word as "WORDS", the managed profanity
// list as "PROFANITY", a PII entity as "PII:<type>", a custom regex as
// "REGEX:<name>", a contextual grounding check as "GROUNDING:<type>".
// Findings are counted when Detected, whatever their action.
func GuardPolicies(res *guardrail.Verdict) []string {
	set := map[string]bool{}
	if res == nil {
		return nil
	}
	for _, a := range res.Assessments {
		if p := a.ContentPolicy; p != nil {
			for _, f := range p.Filters {
				if f.Detected {
					set[string(f.Type)] = true
				}
			}
		}
		if p := a.TopicPolicy; p != nil {
			for _, f := range p.Topics {
				if f.Detected {
					set["TOPIC:"+f.Name] = true
				}
			}
		}
		if p := a.WordPolicy; p != nil {
			for _, f := range p.CustomWords {
				if f.Detected {
					set["WORDS"] = true
				}
			}
			for _, f := range p.ManagedWordLists {
				if f.Detected {
					set["PROFANITY"] = true
				}
			}
		}
		if p := a.SensitiveInformationPolicy; p != nil {
			for _, f := range p.PiiEntities {
				if f.Detected {
					set["PII:"+string(f.Type)] = true
				}
			}
			for _, f := range p.Regexes {
				if f.Detected {
					set["REGEX:"+f.Name] = true
				}
			}
		}
		if p := a.ContextualGroundingPolicy; p != nil {
			for _, f := range p.Filters {
				if f.Detected {
					set["GROUNDING:"+string(f.Type)] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

// PolicyScores counts one policy's decisions over a guardrail dataset.
type PolicyScores struct {
	// TP: expected and detected; FP: detected, not expected; FN: expected,
	// not detected; TN: neither.
	TP, FP, FN, TN int
}

// Precision is TP/(TP+FP); 1 when nothing was detected.
func (s PolicyScores) Precision() float64 { return ratioOr(s.TP, s.TP+s.FP, 1) }

// Recall is TP/(TP+FN); 1 when nothing was expected.
func (s PolicyScores) Recall() float64 { return ratioOr(s.TP, s.TP+s.FN, 1) }

// F2 weighs recall twice as much as precision: 5PR/(4P+R).
func (s PolicyScores) F2() float64 {
	p, r := s.Precision(), s.Recall()
	if 4*p+r == 0 {
		return 0
	}
	return 5 * p * r / (4*p + r)
}

// FalsePositiveRate is FP/(FP+TN); 0 when no text was negative.
func (s PolicyScores) FalsePositiveRate() float64 { return ratioOr(s.FP, s.FP+s.TN, 0) }

// Accuracy is (TP+TN) over all texts.
func (s PolicyScores) Accuracy() float64 { return ratioOr(s.TP+s.TN, s.TP+s.TN+s.FP+s.FN, 0) }

func ratioOr(a, b int, or float64) float64 {
	if b == 0 {
		return or
	}
	return float64(a) / float64(b)
}

// GuardCaseResult is what the guardrail decided on one text.
type GuardCaseResult struct {
	ID       string   `json:"id"`
	Expected []string `json:"expected,omitempty"`
	Detected []string `json:"detected,omitempty"`
	// Intervened is the guardrail's action on the text.
	Intervened bool   `json:"intervened"`
	Error      string `json:"error,omitempty"`
}

// GuardReport scores a guardrail per policy.
type GuardReport struct {
	Name  string            `json:"name,omitempty"`
	Cases []GuardCaseResult `json:"cases"`
	// Policies scores each policy named by a case's Expected or detected
	// on any text.
	Policies map[string]PolicyScores `json:"policies"`
	// Any scores "the guardrail detected something" against "the text was
	// expected to be detected by some policy".
	Any PolicyScores `json:"any"`
	// Failed counts texts the guard could not assess (left out of the
	// scores).
	Failed int `json:"failed"`
}

// GuardOptions configures EvaluateGuard.
type GuardOptions struct {
	Name string
	// Concurrency is how many texts are assessed at once; 0 means 4.
	Concurrency int
}

// EvaluateGuard assesses every case with g and scores each policy's
// detections against the cases' Expected labels: precision, recall, F2
// and false-positive rate, per policy and for any policy at all.
func EvaluateGuard(ctx context.Context, g guardrail.Guard, cases []GuardCase, opts GuardOptions) (*GuardReport, error) {
	if g == nil {
		return nil, fmt.Errorf("eval: EvaluateGuard needs a guard (guardrail.NewLocal or NewRemote): %w", bedrockkit.ErrInvalidInput)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	seen := map[string]bool{}
	for i, c := range cases {
		switch {
		case c.ID == "" || seen[c.ID]:
			return nil, fmt.Errorf("eval: guard case %d: id %q is empty or repeated: %w", i, c.ID, ErrInvalidCase)
		case c.Source != "" && c.Source != guardrail.SourceInput && c.Source != guardrail.SourceOutput:
			return nil, fmt.Errorf("eval: guard case %q: source %q is neither INPUT nor OUTPUT: %w", c.ID, c.Source, ErrInvalidCase)
		}
		seen[c.ID] = true
	}
	results := make([]GuardCaseResult, len(cases))
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(opts.Concurrency)
	for i, c := range cases {
		if gctx.Err() != nil {
			break
		}
		eg.Go(func() error {
			src := c.Source
			if src == "" {
				src = guardrail.SourceInput
			}
			res := GuardCaseResult{ID: c.ID, Expected: slices.Sorted(slices.Values(c.Expected))}
			out, err := g.Assess(gctx, src, guardrail.TextContent(c.Text)...)
			if err != nil {
				res.Error = err.Error()
			} else {
				res.Detected = GuardPolicies(out)
				res.Intervened = out.Action == guardrail.OutcomeIntervened
			}
			results[i] = res
			return nil
		})
	}
	_ = eg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &GuardReport{Name: opts.Name, Cases: results, Policies: map[string]PolicyScores{}}
	names := map[string]bool{}
	for _, r := range results {
		for _, p := range r.Expected {
			names[p] = true
		}
		for _, p := range r.Detected {
			names[p] = true
		}
	}
	for _, r := range results {
		if r.Error != "" {
			rep.Failed++
			continue
		}
		for p := range names {
			s := rep.Policies[p]
			tally(&s, slices.Contains(r.Expected, p), slices.Contains(r.Detected, p))
			rep.Policies[p] = s
		}
		tally(&rep.Any, len(r.Expected) > 0, len(r.Detected) > 0)
	}
	if rep.Failed == len(results) && len(results) > 0 {
		return rep, fmt.Errorf("eval: the guard failed on every text: %s", results[0].Error)
	}
	return rep, nil
}

func tally(s *PolicyScores, expected, detected bool) {
	switch {
	case expected && detected:
		s.TP++
	case detected:
		s.FP++
	case expected:
		s.FN++
	default:
		s.TN++
	}
}

// Metrics returns the report's scores by name: "<policy>/precision",
// "<policy>/recall", "<policy>/f2", "<policy>/fpr" for each policy and
// "any/..." for any policy, plus "error_rate".
func (r *GuardReport) Metrics() map[string]float64 {
	m := map[string]float64{}
	add := func(p string, s PolicyScores) {
		m[p+"/precision"] = s.Precision()
		m[p+"/recall"] = s.Recall()
		m[p+"/f2"] = s.F2()
		m[p+"/fpr"] = s.FalsePositiveRate()
	}
	for p, s := range r.Policies {
		add(p, s)
	}
	add("any", r.Any)
	if len(r.Cases) > 0 {
		m[ErrorRate] = float64(r.Failed) / float64(len(r.Cases))
	}
	return m
}

// Check returns a message for each threshold the report misses; metrics
// are named as Metrics names them.
func (r *GuardReport) Check(thresholds ...Threshold) []string {
	m := r.Metrics()
	counts := map[string]int{}
	for k := range m {
		counts[k] = len(r.Cases) - r.Failed
	}
	return checkAll(m, counts, thresholds)
}

// Require fails the test unless the report meets every threshold:
//
//	rep.Require(t, eval.Min("PROMPT_ATTACK/recall", 0.9), eval.Max("PROMPT_ATTACK/fpr", 0.01))
func (r *GuardReport) Require(t TB, thresholds ...Threshold) {
	t.Helper()
	require(t, r.Name, r.Check(thresholds...))
}

// WriteSummary writes a table of the policies' counts and scores.
func (r *GuardReport) WriteSummary(w io.Writer) error {
	names := make([]string, 0, len(r.Policies))
	for p := range r.Policies {
		names = append(names, p)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %5s %5s %5s %5s  %9s %6s %6s %6s\n", "policy", "TP", "FP", "FN", "TN", "precision", "recall", "F2", "FPR")
	row := func(p string, s PolicyScores) {
		fmt.Fprintf(&b, "%-28s %5d %5d %5d %5d  %9.3f %6.3f %6.3f %6.3f\n", p, s.TP, s.FP, s.FN, s.TN, s.Precision(), s.Recall(), s.F2(), s.FalsePositiveRate())
	}
	for _, p := range names {
		row(p, r.Policies[p])
	}
	row("any", r.Any)
	if r.Failed > 0 {
		fmt.Fprintf(&b, "%d texts failed\n", r.Failed)
	}
	_, err := w.Write([]byte(b.String()))
	return err
}
