package eval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// Options configures Run. The zero value runs four cases at a time,
// computes every metric the cases allow except judged ones, keeps no
// progress file and prices with pricing.Default().
type Options struct {
	// Name names the run in its report.
	Name string
	// Concurrency is how many cases run at once; 0 means 4.
	Concurrency int
	// Judge scores the Judged metrics; required when Judged is not empty.
	Judge Judge
	// Judged lists the judged metrics to compute, such as Correctness or
	// Faithfulness; each must be among Judge.Metrics().
	Judged []string
	// Cutoffs are the ranks k of retrieval metrics (ndcg@k, recall@k,
	// mrr@k); nil means 10 and 100.
	Cutoffs []int
	// Progress is a file recording finished cases, so a run stopped for
	// any reason (even killed) resumes where it was: cases recorded there
	// are not run again, unless the case changed. It is created when
	// missing; a file written by a run with other Judged metrics or
	// Cutoffs is refused. Empty keeps no record. Two runs must not share
	// one file at the same time.
	Progress string
	// Catalog prices the run; nil means pricing.Default().
	Catalog *pricing.Catalog
	// Budget, when positive, refuses to start a run whose estimate exceeds
	// it (or that has usage the catalog cannot price), and stops starting
	// cases once the metered cost reaches it; both are errors wrapping
	// bedrockkit.ErrBudgetExceeded.
	Budget pricing.Money
	// OnCase, when set, is called with each finished case, one at a time.
	OnCase func(CaseResult)
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	ID string `json:"id"`
	// Scores holds the case's metrics by name.
	Scores map[string]float64 `json:"scores"`
	// Verdicts are the judges' verdicts, with their reasons.
	Verdicts []Judgment `json:"verdicts,omitempty"`
	// Answer is the answer (cut to 8 KiB).
	Answer string `json:"answer,omitempty"`
	// Retrieved are the first ten retrieved documents.
	Retrieved []string `json:"retrieved,omitempty"`
	// ToolCalls is the trajectory (the first MaxTrajectory calls).
	ToolCalls []TrajectoryCall `json:"tool_calls,omitempty"`
	// Trajectory says why the trajectory did not match, when it did not.
	Trajectory string `json:"trajectory,omitempty"`
	// Usage is the model usage of the target and the judges, per model.
	Usage []ModelUsage `json:"usage,omitempty"`
	// Cost prices Usage with the run's catalog.
	Cost pricing.Money `json:"cost"`
	// Unpriced lists models whose usage the catalog could not price.
	Unpriced []string `json:"unpriced,omitempty"`
	// Latency is the target's time.
	Latency time.Duration `json:"latency_ns"`
	// Error is why the case failed; a failed case has no scores and is run
	// again on resume.
	Error string `json:"error,omitempty"`
	// Resumed is set on cases taken from the progress file.
	Resumed bool `json:"resumed,omitempty"`
	// Metadata is the case's.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Run evaluates target on cases and returns the report. Cases run
// concurrently (Options.Concurrency at a time); each gets:
//
//   - retrieval metrics (ndcg@k, recall@k, mrr@k for each cutoff) when it
//     has RelevantDocuments and the output retrieved passages;
//   - ExactMatch and TokenF1 when it has an ExpectedAnswer;
//   - CitationCoverage when the output has an answer and citations, and
//     CitationPrecision when it also has RelevantDocuments;
//   - TrajectoryMatch, ToolRecall, ToolPrecision and ArgumentsValid when
//     it has ExpectedToolCalls (even empty);
//   - Steps when the target made model calls, LatencySeconds, CostUSD;
//   - each of Options.Judged, scored by Options.Judge (a judge that finds
//     the metric not applicable leaves it out).
//
// Before running, the cases still to do are priced from the estimates of
// the target and judge (see UsageEstimator, JudgeEstimator) into
// Report.Cost.Estimated; after, the usage they reported is priced into
// Report.Cost.Metered.
//
// A case whose target or judge fails is reported with its error and not
// recorded as finished. When ctx ends, Run stops starting cases and
// returns the report of the finished ones with ctx's error.
func Run(ctx context.Context, target Target, cases []Case, opts Options) (*Report, error) {
	r, err := newRunner(target, cases, opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

type runner struct {
	target  Target
	cases   []Case
	opts    Options
	cat     *pricing.Catalog
	prog    *progress
	done    map[string]CaseResult
	mu      sync.Mutex
	metered pricing.Money
}

func newRunner(target Target, cases []Case, opts Options) (*runner, error) {
	if target == nil {
		return nil, fmt.Errorf("eval: Run needs a target (eval.NewRetrieverTarget, NewRAGTarget, NewModelTarget, NewAgentTarget or a TargetFunc): %w", bedrockkit.ErrInvalidInput)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Cutoffs == nil {
		opts.Cutoffs = []int{10, 100}
	}
	for _, k := range opts.Cutoffs {
		if k <= 0 {
			return nil, fmt.Errorf("eval: cutoff %d: ranks start at 1: %w", k, bedrockkit.ErrInvalidInput)
		}
	}
	if len(opts.Judged) > 0 {
		if opts.Judge == nil {
			return nil, fmt.Errorf("eval: Options.Judged lists %s but Options.Judge is nil; use eval.NewModelJudge or eval/agentcore: %w", strings.Join(opts.Judged, ", "), bedrockkit.ErrInvalidInput)
		}
		have := opts.Judge.Metrics()
		for _, m := range opts.Judged {
			if !slices.Contains(have, m) {
				return nil, fmt.Errorf("eval: the judge cannot score %q (it scores %s): %w", m, strings.Join(have, ", "), bedrockkit.ErrUnsupported)
			}
		}
	}
	seen := map[string]bool{}
	for i := range cases {
		if err := cases[i].Validate(); err != nil {
			return nil, fmt.Errorf("case %d: %w", i, err)
		}
		if seen[cases[i].ID] {
			return nil, fmt.Errorf("eval: id %q appears twice; IDs key the progress file and must be unique: %w", cases[i].ID, ErrInvalidCase)
		}
		seen[cases[i].ID] = true
	}
	cat := opts.Catalog
	if cat == nil {
		cat = pricing.Default()
	}
	return &runner{target: target, cases: cases, opts: opts, cat: cat, done: map[string]CaseResult{}}, nil
}

// configKey identifies the metrics a progress file's results hold.
func (r *runner) configKey() string {
	judged := slices.Clone(r.opts.Judged)
	sort.Strings(judged)
	cut := make([]string, len(r.opts.Cutoffs))
	for i, k := range r.opts.Cutoffs {
		cut[i] = strconv.Itoa(k)
	}
	return "judged=" + strings.Join(judged, ",") + ";cutoffs=" + strings.Join(cut, ",")
}

// fingerprint identifies a case's content, so a changed case is redone.
func fingerprint(c Case) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	rep := &Report{Name: r.opts.Name, Started: time.Now()}
	if r.opts.Progress != "" {
		p, err := r.resume()
		if err != nil {
			return nil, err
		}
		defer p.close()
	}
	var todo []int
	for i, c := range r.cases {
		if _, ok := r.done[c.ID]; !ok {
			todo = append(todo, i)
		}
	}
	est, unpriced := r.estimate(todo)
	rep.Cost.Estimated = est
	rep.Cost.EstimateUnpriced = unpriced
	if err := r.checkEstimate(len(todo), est, unpriced); err != nil {
		return nil, err
	}

	results := make([]*CaseResult, len(r.cases))
	for i, c := range r.cases {
		if res, ok := r.done[c.ID]; ok {
			results[i] = &res
		}
	}
	werr, stopErr := r.runCases(ctx, todo, results)
	if r.prog != nil {
		if err := r.prog.close(); err != nil && werr == nil {
			werr = err
		}
	}
	rep.Finished = time.Now()
	for _, res := range results {
		if res != nil {
			rep.Cases = append(rep.Cases, *res)
		}
	}
	rep.aggregate(len(r.cases))
	rep.Cost.Metered = r.metered
	switch {
	case werr != nil:
		return rep, werr
	case ctx.Err() != nil:
		return rep, ctx.Err()
	}
	return rep, stopErr
}

// resume opens the progress file and takes the results it recorded for
// unchanged cases as done.
func (r *runner) resume() (*progress, error) {
	p, recorded, err := openProgress(r.opts.Progress, r.configKey())
	if err != nil {
		return nil, err
	}
	r.prog = p
	for _, c := range r.cases {
		if rec, ok := recorded[c.ID]; ok && rec.Fingerprint == fingerprint(c) {
			res := rec.Result
			res.Resumed = true
			r.done[c.ID] = res
		}
	}
	return p, nil
}

// checkEstimate refuses a run of n cases whose estimated cost est is over
// the budget or, with a budget, could not be priced.
func (r *runner) checkEstimate(n int, est pricing.Money, unpriced []string) error {
	if r.opts.Budget <= 0 {
		return nil
	}
	if len(unpriced) > 0 {
		return fmt.Errorf("eval: cannot hold the run to its budget: the catalog has no price for %s; add rows with pricing.Catalog.Override: %w", strings.Join(unpriced, ", "), bedrockkit.ErrBudgetExceeded)
	}
	if est > r.opts.Budget {
		return fmt.Errorf("eval: the run of %d cases is estimated at up to %s, over its budget of %s; raise Options.Budget or run fewer cases: %w", n, est, r.opts.Budget, bedrockkit.ErrBudgetExceeded)
	}
	return nil
}

// runCases runs the todo cases, Concurrency at a time, into results; it
// stops starting cases when ctx ends or the metered cost reaches the
// budget (stopErr). werr is the first error recording a result.
func (r *runner) runCases(ctx context.Context, todo []int, results []*CaseResult) (werr, stopErr error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Concurrency)
	for _, i := range todo {
		if gctx.Err() != nil {
			break
		}
		if r.opts.Budget > 0 {
			r.mu.Lock()
			over := r.metered >= r.opts.Budget
			r.mu.Unlock()
			if over {
				stopErr = fmt.Errorf("eval: the metered cost reached the budget of %s; %d cases were not started: %w", r.opts.Budget, countNil(results), bedrockkit.ErrBudgetExceeded)
				break
			}
		}
		g.Go(func() error {
			res, finished := r.runCase(gctx, r.cases[i])
			if !finished {
				return nil
			}
			return r.finishCase(i, res, results)
		})
	}
	return g.Wait(), stopErr
}

// finishCase records case i's result: in results, the metered cost, the
// progress file and OnCase.
func (r *runner) finishCase(i int, res CaseResult, results []*CaseResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	results[i] = &res
	r.metered += res.Cost
	if res.Error == "" && r.prog != nil {
		if err := r.prog.record(r.cases[i].ID, fingerprint(r.cases[i]), res); err != nil {
			return err
		}
	}
	if r.opts.OnCase != nil {
		r.opts.OnCase(res)
	}
	return nil
}

func countNil(rs []*CaseResult) int {
	n := 0
	for _, r := range rs {
		if r == nil {
			n++
		}
	}
	return n
}

// estimate prices the cases to do from the estimators' bounds.
func (r *runner) estimate(todo []int) (pricing.Money, []string) {
	var total pricing.Money
	unpriced := map[string]bool{}
	add := func(us []ModelUsage) {
		for _, u := range us {
			cost, ok := r.price(u)
			if !ok {
				unpriced[u.ModelID] = true
				continue
			}
			total += cost
		}
	}
	te, _ := r.target.(UsageEstimator)
	je, _ := r.opts.Judge.(JudgeEstimator)
	for _, i := range todo {
		c := r.cases[i]
		answer := 1024
		if te != nil {
			us := te.EstimateUsage(c)
			add(us)
			if len(us) > 0 {
				answer = us[len(us)-1].Usage.OutputTokens
			}
		}
		if je != nil {
			for _, m := range r.opts.Judged {
				add(je.EstimateJudge(m, c, answer))
			}
		}
	}
	return total, sortedKeys(unpriced)
}

// price prices one model's usage; false when the catalog cannot.
func (r *runner) price(u ModelUsage) (pricing.Money, bool) {
	if u.Usage.Total() == 0 {
		return 0, true
	}
	if u.ModelID == "" {
		return 0, false
	}
	b, err := r.cat.Cost(u.ModelID, u.Usage)
	if err != nil {
		return 0, false
	}
	return b.Total, true
}

// runCase runs one case. finished is false when ctx ended before the case
// did: it is then neither reported nor recorded.
func (r *runner) runCase(ctx context.Context, c Case) (res CaseResult, finished bool) {
	res = CaseResult{ID: c.ID, Scores: map[string]float64{}, Metadata: c.Metadata}
	start := time.Now()
	out, err := r.safeAnswer(ctx, c)
	if err == nil && out == nil {
		err = fmt.Errorf("eval: the target returned no output and no error: %w", bedrockkit.ErrInvalidOutput)
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, false
		}
		res.Scores = nil
		res.Error = "target: " + err.Error()
		return res, true
	}
	if out.Latency == 0 {
		out.Latency = time.Since(start)
	}
	res.Latency = out.Latency
	res.Usage = append(res.Usage, out.Usage...)
	r.score(c, out, &res)
	for _, m := range r.opts.Judged {
		v, err := r.safeJudge(ctx, m, c, out)
		res.Usage = append(res.Usage, v.Usage...)
		if errors.Is(err, ErrNotApplicable) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, false
			}
			res.Error = fmt.Sprintf("judge %s: %v", m, err)
			continue
		}
		v.Score = clamp01(v.Score)
		res.Verdicts = append(res.Verdicts, v)
		res.Scores[m] = v.Score
	}
	unpriced := map[string]bool{}
	for _, u := range res.Usage {
		cost, ok := r.price(u)
		if !ok {
			unpriced[u.ModelID] = true
		}
		res.Cost += cost
	}
	res.Unpriced = sortedKeys(unpriced)
	res.Scores[CostUSD] = res.Cost.Dollars()
	if res.Error != "" {
		res.Scores = nil
	}
	return res, true
}

// safeAnswer runs the target, turning a panic into an error.
func (r *runner) safeAnswer(ctx context.Context, c Case) (out *Output, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("eval: the target panicked: %v", p)
		}
	}()
	return r.target.Answer(ctx, c)
}

func (r *runner) safeJudge(ctx context.Context, m string, c Case, out *Output) (v Judgment, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = Judgment{}, fmt.Errorf("eval: the judge panicked: %v", p)
		}
	}()
	return r.opts.Judge.Judge(ctx, m, c, out)
}

func clamp01(x float64) float64 {
	switch {
	case x != x || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// score computes the metrics that need no judge.
func (r *runner) score(c Case, out *Output, res *CaseResult) {
	res.Answer = cut(out.Answer, 8<<10)
	ranked := make([]string, len(out.Retrieved))
	for i, p := range out.Retrieved {
		ranked[i] = p.DocumentID
	}
	res.Retrieved = dedupe(ranked)[:min(10, len(dedupe(ranked)))]
	res.ToolCalls = clipCalls(out.ToolCalls[:min(len(out.ToolCalls), MaxTrajectory)])
	res.Scores[LatencySeconds] = out.Latency.Seconds()
	if out.Steps > 0 {
		res.Scores[Steps] = float64(out.Steps)
	}
	if len(c.RelevantDocuments) > 0 && c.RelevantDocuments.relevant() > 0 && len(out.Retrieved) > 0 {
		for _, k := range r.opts.Cutoffs {
			res.Scores[fmt.Sprintf("ndcg@%d", k)] = NDCG(ranked, c.RelevantDocuments, k)
			res.Scores[fmt.Sprintf("recall@%d", k)] = Recall(ranked, c.RelevantDocuments, k)
			res.Scores[fmt.Sprintf("mrr@%d", k)] = MRR(ranked, c.RelevantDocuments, k)
		}
	}
	if c.ExpectedAnswer != "" {
		refs := append([]string{c.ExpectedAnswer}, c.AcceptableAnswers...)
		res.Scores[ExactMatch] = AnswerExactMatch(out.Answer, refs...)
		res.Scores[TokenF1] = AnswerTokenF1(out.Answer, refs...)
	}
	if out.Answer != "" && len(out.Citations) > 0 {
		if v, ok := CitedCoverage(out.Answer, out.Citations); ok {
			res.Scores[CitationCoverage] = v
		}
		if c.RelevantDocuments.relevant() > 0 {
			byChunk := map[string]string{}
			for _, p := range out.Retrieved {
				if p.ID != "" {
					byChunk[p.ID] = p.DocumentID
				}
			}
			docOf := func(s bedrockkit.CitationSource) string {
				if d, ok := byChunk[s.ID]; ok {
					return d
				}
				return s.URI
			}
			if v, ok := CitedPrecision(out.Citations, c.RelevantDocuments, docOf); ok {
				res.Scores[CitationPrecision] = v
			}
		}
	}
	if c.ExpectedToolCalls != nil {
		t := MatchTrajectory(c.ExpectedToolCalls, out.ToolCalls, c.order())
		res.Scores[TrajectoryMatch] = b2f(t.Match)
		res.Scores[ToolRecall] = t.Recall()
		res.Scores[ToolPrecision] = t.Precision()
		res.Trajectory = t.Why
	}
	if len(out.ToolCalls) > 0 {
		invalid := 0
		for _, tc := range out.ToolCalls {
			if tc.Invalid {
				invalid++
			}
		}
		res.Scores[ArgumentsValid] = 1 - float64(invalid)/float64(len(out.ToolCalls))
	}
}

// maxStoredInput bounds a tool call's input kept in a CaseResult (and so
// in the progress file); a longer input is kept as a JSON string of its
// beginning.
const maxStoredInput = 4 << 10

func clipCalls(calls []TrajectoryCall) []TrajectoryCall {
	out := make([]TrajectoryCall, len(calls))
	for i, c := range calls {
		if len(c.Input) > maxStoredInput || !json.Valid(c.Input) {
			s, _ := json.Marshal(cut(string(c.Input), maxStoredInput))
			c.Input = s
		}
		c.Output = ""
		out[i] = c
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
