// Package agentcore scores eval's judged metrics remotely with Amazon
// Bedrock AgentCore Evaluations' built-in (or your custom) evaluators,
// through the Evaluate API: the same eval.Judge interface as
// eval.ModelJudge, so a run can switch between local and remote judging,
// or mix them with eval.Combine.
//
// Each case becomes one AgentCore session: an agent span (input: the
// question, output: the answer) with a tool span per tool call, and, for
// trace-level evaluators, a "retrieve" tool span holding the retrieved
// passages, so Builtin.Faithfulness judges the answer against them. The
// documents follow the Strands shape (scope strands.telemetry.tracer, span
// and log-record event documents) that AgentCore accepts from agents it
// does not host. The case's expected answer, assertions and expected
// tool names go in as reference inputs.
package agentcore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/eval"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// EvaluateAPI is the part of *bedrockagentcore.Client the judge uses.
type EvaluateAPI interface {
	Evaluate(ctx context.Context, in *bedrockagentcore.EvaluateInput, optFns ...func(*bedrockagentcore.Options)) (*bedrockagentcore.EvaluateOutput, error)
}

// Level is the level an evaluator scores at.
type Level string

// Evaluator levels, as AgentCore names them.
const (
	// LevelTrace scores one request and response.
	LevelTrace Level = "TRACE"
	// LevelSession scores the whole session (trajectories, goals).
	LevelSession Level = "SESSION"
	// LevelToolCall scores each tool call; the verdict is their mean.
	LevelToolCall Level = "TOOL_CALL"
)

// builtin lists AgentCore's built-in evaluators and their levels. The
// names of Correctness, Faithfulness and Helpfulness are eval's.
var builtin = map[string]Level{
	eval.Correctness: LevelTrace, eval.Faithfulness: LevelTrace, eval.Helpfulness: LevelTrace,
	"Builtin.ResponseRelevance": LevelTrace, "Builtin.Conciseness": LevelTrace, "Builtin.Coherence": LevelTrace,
	"Builtin.InstructionFollowing": LevelTrace, "Builtin.Refusal": LevelTrace, "Builtin.Harmfulness": LevelTrace,
	"Builtin.Stereotyping":    LevelTrace,
	"Builtin.GoalSuccessRate": LevelSession, "Builtin.TrajectoryExactOrderMatch": LevelSession,
	"Builtin.TrajectoryInOrderMatch": LevelSession, "Builtin.TrajectoryAnyOrderMatch": LevelSession,
	"Builtin.ToolSelectionAccuracy": LevelToolCall, "Builtin.ToolParameterAccuracy": LevelToolCall,
}

// ModelID names the usage of built-in evaluators for pricing; the default
// catalog has no row for it (see PriceRow).
const ModelID = "agentcore.evaluations.builtin"

// PriceRow prices ModelID: $0.0024 per 1,000 input and $0.012 per 1,000
// output tokens, from secondary sources (AWS's pricing page was not read);
// marked Unverified. Add it with pricing.Catalog.Override to price runs.
func PriceRow() pricing.Row {
	return pricing.Row{
		IDs: []string{ModelID}, Name: "AgentCore Evaluations built-in evaluators", Kind: pricing.KindText, Unit: pricing.UnitPer1KTokens,
		Input: pricing.MustRate("0.0024", pricing.UnitPer1KTokens), Output: pricing.MustRate("0.012", pricing.UnitPer1KTokens),
		Source: "secondary write-ups of the AgentCore pricing page", AsOf: "2026", Unverified: true,
		Note: "one copy quotes the same figures per 10K tokens",
	}
}

// Options configures a Judge.
type Options struct {
	// Custom adds your own evaluators (by evaluator ID) and their levels.
	Custom map[string]Level
	// AgentName names the agent in the spans; empty means "bedrockkit-eval".
	AgentName string
	// EstimateOutputTokens bounds one evaluation's output for the cost
	// estimate; 0 means 1,000.
	EstimateOutputTokens int
}

// Judge is an eval.Judge calling AgentCore Evaluations.
type Judge struct {
	client EvaluateAPI
	opts   Options
	levels map[string]Level
}

// New returns a judge calling client (a *bedrockagentcore.Client).
func New(client EvaluateAPI, opts Options) (*Judge, error) {
	if client == nil {
		return nil, fmt.Errorf("agentcore: New needs a client (bedrockagentcore.NewFromConfig): %w", bedrockkit.ErrInvalidInput)
	}
	if opts.AgentName == "" {
		opts.AgentName = "bedrockkit-eval"
	}
	if opts.EstimateOutputTokens <= 0 {
		opts.EstimateOutputTokens = 1000
	}
	levels := map[string]Level{}
	for k, v := range builtin {
		levels[k] = v
	}
	for k, v := range opts.Custom {
		switch v {
		case LevelTrace, LevelSession, LevelToolCall:
		default:
			return nil, fmt.Errorf("agentcore: evaluator %q: level %q is not TRACE, SESSION or TOOL_CALL: %w", k, v, bedrockkit.ErrInvalidInput)
		}
		levels[k] = v
	}
	return &Judge{client: client, opts: opts, levels: levels}, nil
}

// Metrics lists the evaluators the judge can call: the built-in ones
// (Completeness is not among them: AgentCore has no such evaluator) and
// Options.Custom.
func (j *Judge) Metrics() []string {
	out := make([]string, 0, len(j.levels))
	for k := range j.levels {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// session is a case written as AgentCore span documents.
type session struct {
	id, trace, agentSpan string
	docs                 []document.Interface
	toolSpans            []string
	size                 int // bytes of JSON, for estimates
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// buildSession writes c and out as one session; withRetrieval adds the
// retrieved passages as a tool span.
func (j *Judge) buildSession(c eval.Case, out *eval.Output, withRetrieval bool) session {
	s := session{id: "bedrockkit-eval-" + randHex(12), trace: randHex(16), agentSpan: randHex(8)}
	end := time.Now()
	lat := out.Latency
	if lat <= 0 {
		lat = time.Millisecond
	}
	start := end.Add(-lat)
	scope := map[string]any{"name": "strands.telemetry.tracer"}
	add := func(v map[string]any) {
		b, _ := json.Marshal(v)
		s.size += len(b)
		s.docs = append(s.docs, document.NewLazyDocument(v))
	}
	span := func(id, parent, name string, attrs map[string]any, t0, t1 time.Time) {
		attrs["session.id"] = s.id
		v := map[string]any{"traceId": s.trace, "spanId": id, "name": name, "kind": "INTERNAL", "scope": scope,
			"startTimeUnixNano": t0.UnixNano(), "endTimeUnixNano": t1.UnixNano(), "durationNano": t1.Sub(t0).Nanoseconds(),
			"attributes": attrs, "status": map[string]any{"code": "OK"}}
		if parent != "" {
			v["parentSpanId"] = parent
		}
		add(v)
	}
	event := func(id string, input, output []any, t time.Time) {
		add(map[string]any{"traceId": s.trace, "spanId": id, "scope": scope, "timeUnixNano": t.UnixNano(),
			"observedTimeUnixNano": t.UnixNano(), "severityNumber": 9,
			"body": map[string]any{"input": map[string]any{"messages": input}, "output": map[string]any{"messages": output}}})
	}
	textBlocks := func(text string) string {
		b, _ := json.Marshal([]map[string]string{{"text": text}})
		return string(b)
	}
	span(s.agentSpan, "", "invoke_agent "+j.opts.AgentName, map[string]any{
		"gen_ai.operation.name": "invoke_agent", "gen_ai.system": "strands-agents", "gen_ai.agent.name": j.opts.AgentName}, start, end)
	event(s.agentSpan,
		[]any{map[string]any{"role": "user", "content": map[string]any{"content": textBlocks(c.Question)}}},
		[]any{map[string]any{"role": "assistant", "content": map[string]any{"message": out.Answer, "finish_reason": "end_turn"}}}, end)
	tool := func(name, callID string, input json.RawMessage, output string) {
		id := randHex(8)
		s.toolSpans = append(s.toolSpans, id)
		span(id, s.agentSpan, "execute_tool "+name, map[string]any{
			"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.call.id": callID}, start, end)
		in, _ := json.Marshal([]map[string]any{{"toolUse": map[string]any{"toolUseId": callID, "name": name, "input": json.RawMessage(input)}}})
		res, _ := json.Marshal([]map[string]any{{"text": output}})
		event(id,
			[]any{map[string]any{"role": "tool", "content": map[string]any{"content": string(in), "id": callID}}},
			[]any{map[string]any{"role": "assistant", "content": map[string]any{"message": string(res), "id": callID}}}, end)
	}
	if withRetrieval && len(out.Retrieved) > 0 {
		var b strings.Builder
		for i, p := range out.Retrieved {
			fmt.Fprintf(&b, "[%d] %s\n", i+1, p.Text)
		}
		q, _ := json.Marshal(map[string]string{"query": c.Question})
		tool("retrieve", "retrieve-0", q, b.String())
	}
	for i, t := range out.ToolCalls {
		in := t.Input
		if !json.Valid(in) {
			in, _ = json.Marshal(string(in))
		}
		tool(t.Name, fmt.Sprintf("call-%d", i+1), in, t.Output)
	}
	return s
}

// maxSpans is the service's limit on documents per call.
const maxSpans = 1000

// Judge scores out on metric with the AgentCore evaluator of that ID.
// Trace-level evaluators get the case's expected answer as the expected
// response; session-level ones its assertions and expected tool names;
// tool-call-level ones score every tool call (ten per request) and the
// verdict is their mean. The verdict's Usage is the evaluator's token
// usage under ModelID. Cases without what a metric needs (tool calls for
// tool-level evaluators, an answer for trace-level ones) are
// eval.ErrNotApplicable.
func (j *Judge) Judge(ctx context.Context, metric string, c eval.Case, out *eval.Output) (eval.Judgment, error) {
	level, ok := j.levels[metric]
	if !ok {
		return eval.Judgment{}, fmt.Errorf("agentcore: no evaluator %q (Completeness has none in AgentCore; judge it with eval.NewModelJudge): %w", metric, bedrockkit.ErrUnsupported)
	}
	if out == nil {
		out = &eval.Output{}
	}
	s := j.buildSession(c, out, level == LevelTrace)
	if len(s.docs) > maxSpans {
		return eval.Judgment{}, fmt.Errorf("agentcore: the case makes %d span documents; Evaluate takes at most %d: %w", len(s.docs), maxSpans, bedrockkit.ErrInvalidInput)
	}
	in, targets, err := evaluateRequest(metric, level, c, out, s)
	if err != nil {
		return eval.Judgment{}, err
	}
	v := eval.Judgment{Metric: metric, Judge: "agentcore"}
	var t evalTally
	if len(targets) == 0 {
		err = j.evaluate(ctx, metric, in, &t)
	}
	for _, target := range targets {
		cp := *in
		cp.EvaluationTarget = &types.EvaluationTargetMemberSpanIds{Value: target}
		if err = j.evaluate(ctx, metric, &cp, &t); err != nil {
			break
		}
	}
	if t.usage.Total() > 0 {
		v.Usage = []eval.ModelUsage{{ModelID: ModelID, Usage: t.usage}}
	}
	if err != nil {
		return v, err
	}
	v.Score = t.sum / float64(t.n)
	v.Label = strings.Join(t.labels, ", ")
	v.Reasons = strings.Join(t.reasons, "\n")
	return v, nil
}

// evaluateRequest builds the Evaluate request for an evaluator of level:
// its target and reference inputs; a tool-call-level evaluator gets the
// tool spans as targets, ten per request.
func evaluateRequest(metric string, level Level, c eval.Case, out *eval.Output, s session) (*bedrockagentcore.EvaluateInput, [][]string, error) {
	in := &bedrockagentcore.EvaluateInput{EvaluatorId: aws.String(metric), EvaluationInput: &types.EvaluationInputMemberSessionSpans{Value: s.docs}}
	ref := types.EvaluationReferenceInput{}
	var targets [][]string
	switch level {
	case LevelTrace:
		if strings.TrimSpace(out.Answer) == "" {
			return nil, nil, fmt.Errorf("agentcore: %s needs an answer: %w", metric, eval.ErrNotApplicable)
		}
		in.EvaluationTarget = &types.EvaluationTargetMemberTraceIds{Value: []string{s.trace}}
		ref.Context = &types.ContextMemberSpanContext{Value: types.SpanContext{SessionId: aws.String(s.id), TraceId: aws.String(s.trace)}}
		if c.ExpectedAnswer != "" {
			ref.ExpectedResponse = &types.EvaluationContentMemberText{Value: c.ExpectedAnswer}
		}
	case LevelSession:
		ref.Context = &types.ContextMemberSpanContext{Value: types.SpanContext{SessionId: aws.String(s.id)}}
		for _, a := range c.Assertions {
			ref.Assertions = append(ref.Assertions, &types.EvaluationContentMemberText{Value: a})
		}
		if c.ExpectedToolCalls != nil {
			names := make([]string, len(c.ExpectedToolCalls))
			for i, e := range c.ExpectedToolCalls {
				names[i] = e.Name
			}
			ref.ExpectedTrajectory = &types.EvaluationExpectedTrajectory{ToolNames: names}
		}
	case LevelToolCall:
		if len(s.toolSpans) == 0 {
			return nil, nil, fmt.Errorf("agentcore: %s needs tool calls: %w", metric, eval.ErrNotApplicable)
		}
		for i := 0; i < len(s.toolSpans); i += 10 {
			targets = append(targets, s.toolSpans[i:min(i+10, len(s.toolSpans))])
		}
	}
	if ref.Context != nil && (ref.ExpectedResponse != nil || len(ref.Assertions) > 0 || ref.ExpectedTrajectory != nil) {
		in.EvaluationReferenceInputs = []types.EvaluationReferenceInput{ref}
	}
	return in, targets, nil
}

// evalTally sums the results of one judgment's Evaluate calls.
type evalTally struct {
	usage           bedrockkit.Usage
	sum             float64
	n               int
	reasons, labels []string
}

// evaluate makes one Evaluate call and adds its results to t.
func (j *Judge) evaluate(ctx context.Context, metric string, in *bedrockagentcore.EvaluateInput, t *evalTally) error {
	res, err := j.client.Evaluate(ctx, in)
	if err != nil {
		return fmt.Errorf("agentcore: Evaluate %s: %w", metric, err)
	}
	if len(res.EvaluationResults) == 0 {
		return fmt.Errorf("agentcore: Evaluate %s returned no result: %w", metric, bedrockkit.ErrInvalidOutput)
	}
	for _, r := range res.EvaluationResults {
		if u := r.TokenUsage; u != nil {
			t.usage.InputTokens += int(aws.ToInt32(u.InputTokens))
			t.usage.OutputTokens += int(aws.ToInt32(u.OutputTokens))
		}
		if r.ErrorCode != nil || r.ErrorMessage != nil {
			return fmt.Errorf("agentcore: %s failed: %s: %s", metric, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
		}
		score, ok := scoreOf(r)
		if !ok {
			return fmt.Errorf("agentcore: %s returned neither a value nor a known label (%q): %w", metric, aws.ToString(r.Label), bedrockkit.ErrInvalidOutput)
		}
		t.sum += score
		t.n++
		if l := aws.ToString(r.Label); l != "" && !slices.Contains(t.labels, l) {
			t.labels = append(t.labels, l)
		}
		if e := aws.ToString(r.Explanation); e != "" {
			t.reasons = append(t.reasons, e)
		}
	}
	return nil
}

// scoreOf reads a result's score: its value, or for a categorical result
// a yes/no style label.
func scoreOf(r types.EvaluationResultContent) (float64, bool) {
	if r.Value != nil {
		return *r.Value, true
	}
	switch strings.ToLower(aws.ToString(r.Label)) {
	case "yes", "pass", "true", "correct", "match":
		return 1, true
	case "no", "fail", "false", "incorrect", "no match", "mismatch":
		return 0, true
	}
	return 0, false
}

// EstimateJudge bounds one evaluation: the span documents (as the
// question, an answer of answerTokens, the case's context and tool calls
// make them, at four bytes a token) plus 1,500 tokens of evaluator prompt
// in, Options.EstimateOutputTokens out.
func (j *Judge) EstimateJudge(metric string, c eval.Case, answerTokens int) []eval.ModelUsage {
	level, ok := j.levels[metric]
	if !ok {
		return nil
	}
	out := &eval.Output{Answer: strings.Repeat("x", 4*answerTokens)}
	for _, ctx := range c.Context {
		out.Retrieved = append(out.Retrieved, eval.RetrievedPassage{Text: ctx})
	}
	for _, e := range c.ExpectedToolCalls {
		out.ToolCalls = append(out.ToolCalls, eval.TrajectoryCall{Name: e.Name, Input: json.RawMessage(`{}`)})
	}
	s := j.buildSession(c, out, level == LevelTrace)
	calls := 1
	if level == LevelToolCall {
		calls = max(1, (len(s.toolSpans)+9)/10)
	}
	in := calls * (1500 + (s.size+3)/4)
	return []eval.ModelUsage{{ModelID: ModelID, Usage: bedrockkit.Usage{InputTokens: in, OutputTokens: calls * j.opts.EstimateOutputTokens, Estimated: true}}}
}
