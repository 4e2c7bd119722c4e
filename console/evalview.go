package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
)

type evalRec struct {
	id     string
	added  time.Time
	source string
	r      *eval.Report
}

// AddEvalReport shows an evaluation report (from eval.Run) on the
// evaluations page and returns its ID there.
func (c *Console) AddEvalReport(r *eval.Report) string {
	return c.addEval(r, "added by the program")
}

// maxReportBytes bounds a report file LoadEvalReport reads.
const maxReportBytes = 64 << 20

// LoadEvalReport reads a report written by eval.Report.WriteJSON from path
// and shows it, as AddEvalReport; it returns the report's ID.
func (c *Console) LoadEvalReport(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("console: open evaluation report: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReportBytes+1))
	if err != nil {
		return "", fmt.Errorf("console: read evaluation report %s: %w", path, err)
	}
	if len(data) > maxReportBytes {
		return "", fmt.Errorf("console: evaluation report %s is over %d MiB: %w", path, maxReportBytes>>20, bedrockkit.ErrInvalidInput)
	}
	var r eval.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("console: %s is not an evaluation report written by eval.Report.WriteJSON: %v: %w", path, err, bedrockkit.ErrInvalidInput)
	}
	return c.addEval(&r, path), nil
}

func (c *Console) addEval(r *eval.Report, source string) string {
	c.mu.Lock()
	c.nextEval++
	id := "e" + strconv.Itoa(c.nextEval)
	c.evals = append(c.evals, &evalRec{id: id, added: time.Now(), source: source, r: r})
	if over := len(c.evals) - c.opts.MaxEvalReports; over > 0 {
		c.evals = slices.Delete(c.evals, 0, over)
	}
	c.mu.Unlock()
	c.changed()
	return id
}

type evalSummary struct {
	ID, Name, Source, When, Duration string
	Total, Failed, Resumed           int
	Metrics                          []kv
	Cost                             string
}

type evalView struct {
	evalSummary
	Chart    barChart
	Counts   []kv
	Columns  []string
	Cases    []evalCaseView
	Unpriced string
	Estimate string
}

type evalCaseView struct {
	ID         string
	Scores     []string // by Columns
	Failed     bool
	Error      string
	Answer     textField
	Retrieved  []string
	ToolCalls  []string
	Trajectory string
	Verdicts   []verdictView
	Cost       string
	Latency    string
	Resumed    bool
}

type verdictView struct {
	Metric, Label, Score, Reasons string
}

func (c *Console) evalSummary(ctx context.Context, e *evalRec) evalSummary {
	r := e.r
	s := evalSummary{ID: e.id, Name: c.label(ctx, r.Name), Source: c.label(ctx, e.source), Total: r.Total, Failed: r.Failed,
		Resumed: r.Resumed, Cost: r.Cost.Metered.String()}
	if s.Name == "" {
		s.Name = "evaluation"
	}
	if !r.Started.IsZero() {
		s.When = r.Started.Format(time.DateTime)
		s.Duration = fmtDur(r.Finished.Sub(r.Started))
	}
	for _, m := range slices.Sorted(maps.Keys(r.Metrics)) {
		s.Metrics = append(s.Metrics, kv{c.label(ctx, m), strconv.FormatFloat(r.Metrics[m], 'f', 4, 64)})
	}
	return s
}

func (c *Console) evalView(ctx context.Context, e *evalRec) evalView {
	r := e.r
	v := evalView{evalSummary: c.evalSummary(ctx, e)}
	names := slices.Sorted(maps.Keys(r.Metrics))
	var vals []float64
	var labels []string
	for _, m := range names {
		v.Counts = append(v.Counts, kv{c.label(ctx, m), strconv.Itoa(r.Counts[m])})
		if !isScore(m) {
			continue // a cost, a latency or a count: not on the 0..1 chart
		}
		labels = append(labels, c.label(ctx, m))
		vals = append(vals, clamp01(r.Metrics[m]))
	}
	v.Chart = newBarChart(labels, vals, func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }, true, 1)
	cols := map[string]bool{}
	for _, cr := range r.Cases {
		for m := range cr.Scores {
			cols[m] = true
		}
	}
	v.Columns = slices.Sorted(maps.Keys(cols))
	if len(r.Cost.Unpriced) > 0 {
		v.Unpriced = strings.Join(r.Cost.Unpriced, ", ")
	}
	v.Estimate = r.Cost.Estimated.String()
	for _, cr := range r.Cases {
		cv := evalCaseView{ID: c.label(ctx, cr.ID), Failed: cr.Error != "", Error: c.field(ctx, cr.Error).Text,
			Answer: c.field(ctx, cr.Answer), Trajectory: c.field(ctx, cr.Trajectory).Text, Cost: cr.Cost.String(),
			Latency: fmtDur(cr.Latency), Resumed: cr.Resumed}
		for _, col := range v.Columns {
			if s, ok := cr.Scores[col]; ok {
				cv.Scores = append(cv.Scores, strconv.FormatFloat(s, 'f', 3, 64))
			} else {
				cv.Scores = append(cv.Scores, "")
			}
		}
		for _, d := range cr.Retrieved {
			cv.Retrieved = append(cv.Retrieved, c.label(ctx, d))
		}
		for _, tc := range cr.ToolCalls {
			b, _ := json.Marshal(tc)
			cv.ToolCalls = append(cv.ToolCalls, c.field(ctx, string(b)).Text)
		}
		for _, vd := range cr.Verdicts {
			cv.Verdicts = append(cv.Verdicts, verdictView{Metric: vd.Metric, Label: c.label(ctx, vd.Label),
				Score: strconv.FormatFloat(vd.Score, 'f', 2, 64), Reasons: c.field(ctx, vd.Reasons).Text})
		}
		v.Cases = append(v.Cases, cv)
	}
	return v
}

// isScore reports whether metric is a 0..1 score (eval's costs, latencies,
// steps and token counts are not).
func isScore(metric string) bool {
	for _, w := range []string{"cost", "latency", "seconds", "steps", "tokens"} {
		if strings.Contains(metric, w) {
			return false
		}
	}
	return true
}

func clamp01(f float64) float64 {
	if f != f || f < 0 {
		return 0
	}
	return min(f, 1)
}
