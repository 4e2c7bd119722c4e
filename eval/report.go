package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bedrockkit/bedrockkit/pricing"
)

// Report is the outcome of a Run: every case's result and each metric's
// mean. Use Require in a test, WriteJSON to keep it, WriteSummary to read
// it.
type Report struct {
	Name     string    `json:"name,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Cases are the finished cases (resumed ones included), in dataset
	// order.
	Cases []CaseResult `json:"cases"`
	// Metrics holds each metric's mean over the cases that have it, plus
	// ErrorRate over all cases.
	Metrics map[string]float64 `json:"metrics"`
	// Counts holds how many cases each metric is a mean of.
	Counts map[string]int `json:"counts"`
	// Total is the number of cases in the dataset; Failed and Resumed
	// count failed cases and cases taken from the progress file.
	Total   int `json:"total"`
	Failed  int `json:"failed"`
	Resumed int `json:"resumed"`
	// Cost prices the run.
	Cost CostReport `json:"cost"`
}

// CostReport prices a run before and after.
type CostReport struct {
	// Estimated bounds, before the run, the cost of the cases it had to
	// do (the targets' and judges' estimates; answers assumed as long as
	// their MaxTokens, so usually well above Metered).
	Estimated pricing.Money `json:"estimated"`
	// EstimateUnpriced lists models the estimate could not price.
	EstimateUnpriced []string `json:"estimate_unpriced,omitempty"`
	// Metered is the cost of the usage the cases run now reported.
	Metered pricing.Money `json:"metered"`
	// Resumed is the cost recorded for cases taken from the progress file.
	Resumed pricing.Money `json:"resumed"`
	// Unpriced lists models whose reported usage could not be priced (it
	// is missing from Metered).
	Unpriced []string `json:"unpriced,omitempty"`
	// InputTokens and OutputTokens sum the reported usage.
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

func (r *Report) aggregate(total int) {
	r.Total = total
	r.Metrics, r.Counts = map[string]float64{}, map[string]int{}
	unpriced := map[string]bool{}
	for _, c := range r.Cases {
		if c.Resumed {
			r.Resumed++
			r.Cost.Resumed += c.Cost
		}
		for _, u := range c.Usage {
			r.Cost.InputTokens += u.Usage.InputTokens + u.Usage.CacheReadTokens + u.Usage.CacheWriteTokens
			r.Cost.OutputTokens += u.Usage.OutputTokens
		}
		for _, m := range c.Unpriced {
			unpriced[m] = true
		}
		if c.Error != "" {
			r.Failed++
			continue
		}
		for m, v := range c.Scores {
			r.Metrics[m] += v
			r.Counts[m]++
		}
	}
	for m, n := range r.Counts {
		r.Metrics[m] /= float64(n)
	}
	if len(r.Cases) > 0 {
		r.Metrics[ErrorRate] = float64(r.Failed) / float64(len(r.Cases))
		r.Counts[ErrorRate] = len(r.Cases)
	}
	r.Cost.Unpriced = sortedKeys(unpriced)
}

// Metric returns a metric's mean and whether any case has it.
func (r *Report) Metric(name string) (float64, bool) {
	v, ok := r.Metrics[name]
	return v, ok
}

// Threshold is a bound a metric must meet; build one with Min or Max.
type Threshold struct {
	Metric string
	Bound  float64
	// AtMost is true for an upper bound (Max).
	AtMost bool
}

// Min requires a metric's mean to be at least v.
func Min(metric string, v float64) Threshold { return Threshold{Metric: metric, Bound: v} }

// Max requires a metric's mean to be at most v.
func Max(metric string, v float64) Threshold {
	return Threshold{Metric: metric, Bound: v, AtMost: true}
}

// String writes the threshold as "metric >= bound" or "metric <= bound".
func (t Threshold) String() string {
	if t.AtMost {
		return fmt.Sprintf("%s <= %g", t.Metric, t.Bound)
	}
	return fmt.Sprintf("%s >= %g", t.Metric, t.Bound)
}

// check returns why the metrics miss t, or "".
func (t Threshold) check(metrics map[string]float64, counts map[string]int) string {
	v, ok := metrics[t.Metric]
	if !ok {
		names := make([]string, 0, len(metrics))
		for m := range metrics {
			names = append(names, m)
		}
		sort.Strings(names)
		return fmt.Sprintf("%s: no case has metric %q (the run computed %s)", t, t.Metric, strings.Join(names, ", "))
	}
	if math.IsNaN(v) || (t.AtMost && v > t.Bound) || (!t.AtMost && v < t.Bound) {
		return fmt.Sprintf("%s: got %.4f over %d cases", t, v, counts[t.Metric])
	}
	return ""
}

// Check returns a message for each threshold the report misses (a metric
// no case has misses every threshold on it).
func (r *Report) Check(thresholds ...Threshold) []string {
	return checkAll(r.Metrics, r.Counts, thresholds)
}

func checkAll(metrics map[string]float64, counts map[string]int, ts []Threshold) []string {
	var out []string
	for _, t := range ts {
		if msg := t.check(metrics, counts); msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

// TB is the part of testing.TB that Require uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
}

// Require fails the test (t.Errorf for each missed threshold, then
// t.FailNow) unless the report meets every threshold:
//
//	rep.Require(t, eval.Min("ndcg@10", 0.6), eval.Max(eval.ErrorRate, 0))
func (r *Report) Require(t TB, thresholds ...Threshold) {
	t.Helper()
	require(t, r.Name, r.Check(thresholds...))
}

func require(t TB, name string, misses []string) {
	t.Helper()
	if len(misses) == 0 {
		return
	}
	if name == "" {
		name = "evaluation"
	}
	for _, m := range misses {
		t.Errorf("%s: %s", name, m)
	}
	t.FailNow()
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteSummary writes a terminal summary: the metric means, the cost
// before and after, the failed cases, and the lowest judged verdicts with
// their reasons.
func (r *Report) WriteSummary(w io.Writer) error {
	name := r.Name
	if name == "" {
		name = "evaluation"
	}
	fmt.Fprintf(w, "%s: %d cases (%d resumed, %d failed) in %s\n", name, r.Total, r.Resumed, r.Failed, r.Finished.Sub(r.Started).Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tmean\tcases")
	names := make([]string, 0, len(r.Metrics))
	for m := range r.Metrics {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		fmt.Fprintf(tw, "%s\t%.4f\t%d\n", m, r.Metrics[m], r.Counts[m])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "cost: estimated up to %s, metered %s (resumed cases %s), %d input and %d output tokens\n",
		r.Cost.Estimated, r.Cost.Metered, r.Cost.Resumed, r.Cost.InputTokens, r.Cost.OutputTokens)
	if len(r.Cost.Unpriced) > 0 {
		fmt.Fprintf(w, "unpriced usage (missing from the cost): %s\n", strings.Join(r.Cost.Unpriced, ", "))
	}
	shown := 0
	for _, c := range r.Cases {
		if c.Error != "" && shown < 10 {
			fmt.Fprintf(w, "failed %s: %s\n", c.ID, c.Error)
			shown++
		}
	}
	type low struct {
		id string
		v  Judgment
	}
	var lows []low
	for _, c := range r.Cases {
		for _, v := range c.Verdicts {
			if v.Score < 1 {
				lows = append(lows, low{c.ID, v})
			}
		}
	}
	sort.SliceStable(lows, func(i, j int) bool { return lows[i].v.Score < lows[j].v.Score })
	for _, l := range lows[:min(5, len(lows))] {
		_, err := fmt.Fprintf(w, "low %s on %s: %.2f (%s) %s\n", l.v.Metric, l.id, l.v.Score, l.v.Label, cut(oneLine(l.v.Reasons), 300))
		if err != nil {
			return err
		}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
