package bedrockkittest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

const (
	evTrace = "0123456789abcdef0123456789abcdef"
	evSpan  = "0123456789abcdef"
	evTool  = "fedcba9876543210"
)

func evSpanDoc(id, name, op string, mutate func(map[string]any)) map[string]any {
	d := map[string]any{"traceId": evTrace, "spanId": id, "name": name, "scope": map[string]any{"name": "strands.telemetry.tracer"},
		"startTimeUnixNano": 1, "endTimeUnixNano": 2,
		"attributes": map[string]any{"session.id": "s-1", "gen_ai.operation.name": op, "gen_ai.tool.name": "lookup"}}
	if mutate != nil {
		mutate(d)
	}
	return d
}

func evEvent(id, in, out string) map[string]any {
	return map[string]any{"traceId": evTrace, "spanId": id, "timeUnixNano": 2, "body": map[string]any{
		"input":  map[string]any{"messages": []any{map[string]any{"role": "user", "content": map[string]any{"content": `[{"text": "` + in + `"}]`}}}},
		"output": map[string]any{"messages": []any{map[string]any{"role": "assistant", "content": map[string]any{"message": out}}}}}}
}

func evInput(id string, docs ...map[string]any) *bedrockagentcore.EvaluateInput {
	var ds []document.Interface
	for _, d := range docs {
		ds = append(ds, document.NewLazyDocument(d))
	}
	return &bedrockagentcore.EvaluateInput{EvaluatorId: aws.String(id), EvaluationInput: &types.EvaluationInputMemberSessionSpans{Value: ds}}
}

func TestFakeEvaluationsParsesSessions(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	fake.SetScorer(func(c bedrockkittest.EvaluationCall) []bedrockkittest.EvaluationScore {
		v := 0.5
		return []bedrockkittest.EvaluationScore{{TraceID: c.TargetTraceIDs[0], Value: &v, Label: "Partially", Explanation: c.Traces[0].Input + " -> " + c.Traces[0].Output + " via " + c.Traces[0].Tools[0].Name, InputTokens: 7, OutputTokens: 3}}
	})
	in := evInput("Builtin.Helpfulness",
		evSpanDoc(evSpan, "invoke_agent a", "invoke_agent", nil), evEvent(evSpan, "hi", "hello"),
		evSpanDoc(evTool, "execute_tool lookup", "execute_tool", nil), evEvent(evTool, "q", "r"))
	in.EvaluationTarget = &types.EvaluationTargetMemberTraceIds{Value: []string{evTrace}}
	in.EvaluationReferenceInputs = []types.EvaluationReferenceInput{{
		Context:          &types.ContextMemberSpanContext{Value: types.SpanContext{SessionId: aws.String("s-1"), TraceId: aws.String(evTrace)}},
		ExpectedResponse: &types.EvaluationContentMemberText{Value: "hello there"},
	}}
	out, err := fake.Client().Evaluate(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	r := out.EvaluationResults[0]
	sc := r.Context.(*types.ContextMemberSpanContext).Value
	if aws.ToFloat64(r.Value) != 0.5 || aws.ToString(r.Explanation) != "hi -> hello via lookup" || aws.ToString(r.EvaluatorName) != "Helpfulness" ||
		aws.ToInt32(r.TokenUsage.TotalTokens) != 10 || aws.ToString(sc.SessionId) != "s-1" || aws.ToString(sc.TraceId) != evTrace {
		t.Fatalf("result %+v", r)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].References[0].ExpectedResponse != "hello there" || calls[0].SessionID != "s-1" {
		t.Fatalf("calls %+v", calls)
	}
}

// The fake refuses what the service refuses, with a ValidationException
// the SDK turns into its typed error.
func TestFakeEvaluationsValidates(t *testing.T) {
	fake := bedrockkittest.NewFakeEvaluations(t)
	agent := evSpanDoc(evSpan, "invoke_agent a", "invoke_agent", nil)
	event := evEvent(evSpan, "hi", "hello")
	target := func(in *bedrockagentcore.EvaluateInput, t types.EvaluationTarget) *bedrockagentcore.EvaluateInput {
		in.EvaluationTarget = t
		return in
	}
	withRef := func(in *bedrockagentcore.EvaluateInput, session string) *bedrockagentcore.EvaluateInput {
		in.EvaluationReferenceInputs = []types.EvaluationReferenceInput{{Context: &types.ContextMemberSpanContext{Value: types.SpanContext{SessionId: aws.String(session)}}}}
		return in
	}
	for name, tc := range map[string]struct {
		in   *bedrockagentcore.EvaluateInput
		want string
	}{
		"evaluator id":      {evInput("Builtin.", agent, event), "evaluatorId"},
		"custom id":         {evInput("mine-short", agent, event), "evaluatorId"},
		"no spans":          {evInput("Builtin.Correctness"), "sessionSpans"},
		"short span id":     {evInput("Builtin.Correctness", evSpanDoc("abc", "x", "invoke_agent", nil), event), "spanId"},
		"no session":        {evInput("Builtin.Correctness", evSpanDoc(evSpan, "x", "invoke_agent", func(d map[string]any) { delete(d["attributes"].(map[string]any), "session.id") }), event), "session.id"},
		"no start time":     {evInput("Builtin.Correctness", evSpanDoc(evSpan, "x", "invoke_agent", func(d map[string]any) { delete(d, "startTimeUnixNano") }), event), "startTimeUnixNano"},
		"unsupported scope": {evInput("Builtin.Correctness", evSpanDoc(evSpan, "x", "invoke_agent", func(d map[string]any) { d["scope"] = map[string]any{"name": "my.tracer"} }), event), "supported scope"},
		"no event":          {evInput("Builtin.Correctness", agent), "no event"},
		"orphan event":      {evInput("Builtin.Correctness", agent, event, evEvent(evTool, "a", "b")), "belongs to no span"},
		"two sessions": {evInput("Builtin.Correctness", agent, event, evSpanDoc(evTool, "t", "execute_tool", func(d map[string]any) {
			d["attributes"].(map[string]any)["session.id"] = "s-2"
		})), "one call evaluates one session"},
		"unknown trace":    {target(evInput("Builtin.Correctness", agent, event), &types.EvaluationTargetMemberTraceIds{Value: []string{strings.Repeat("9", 32)}}), "traceIds"},
		"eleven spans":     {target(evInput("Builtin.Correctness", agent, event), &types.EvaluationTargetMemberSpanIds{Value: make([]string, 11)}), "more than 10"},
		"other session":    {withRef(evInput("Builtin.Correctness", agent, event), "s-9"), "names session"},
		"not a span/event": {evInput("Builtin.Correctness", agent, event, map[string]any{"x": 1}), "neither a span"},
	} {
		_, err := fake.Client().Evaluate(context.Background(), tc.in)
		var ve *types.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tc.want) {
			t.Errorf("%s: %v, want a ValidationException about %s", name, err, tc.want)
		}
	}
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("%d refused calls were recorded as valid", n)
	}
	fake.FailNext(bedrockkittest.Fault{Code: "AccessDeniedException", Message: "no"})
	_, err := fake.Client().Evaluate(context.Background(), evInput("Builtin.Correctness", agent, event))
	var ad *types.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Fatalf("fault: %v", err)
	}
}
