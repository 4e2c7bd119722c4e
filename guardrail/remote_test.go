package guardrail

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// fastRetry keeps retry tests quick.
var fastRetry = RemoteOptions{Retry: bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}}

func newTestRemote(t *testing.T, f *bedrockkittest.FakeBedrock, opts RemoteOptions) *Remote {
	t.Helper()
	r, err := NewRemote(f.Client(), "gr-abc123", "3", opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const anonymizedReply = `{
  "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1, "sensitiveInformationPolicyUnits": 1,
            "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 0},
  "action": "GUARDRAIL_INTERVENED",
  "actionReason": "Guardrail masked.",
  "outputs": [{"text": "Mail {EMAIL} twice: {EMAIL}, order {ORDER_ID}"}],
  "assessments": [{
    "topicPolicy": {"topics": [{"name": "Investment advice", "type": "DENY", "action": "NONE", "detected": false}]},
    "contentPolicy": {"filters": [{"type": "INSULTS", "confidence": "LOW", "filterStrength": "HIGH", "action": "NONE", "detected": true}]},
    "sensitiveInformationPolicy": {
      "piiEntities": [
        {"match": "jane@example.com", "type": "EMAIL", "action": "ANONYMIZED", "detected": true},
        {"match": "jane@example.com", "type": "EMAIL", "action": "ANONYMIZED", "detected": true}],
      "regexes": [{"name": "ORDER_ID", "regex": "ORD-[0-9]{6}", "match": "ORD-123456", "action": "ANONYMIZED", "detected": true}]
    }
  }]
}`

func TestRemoteRequestAndAnonymizedResult(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(anonymizedReply)})
	r := newTestRemote(t, f, RemoteOptions{FullOutput: true})
	text := "Mail jane@example.com twice: jane@example.com, order ORD-123456"
	res, err := r.Assess(context.Background(), SourceOutput,
		Content{Text: "the source", Qualifiers: []Qualifier{QualifierGroundingSource}},
		Content{Text: "the query", Qualifiers: []Qualifier{QualifierQuery}},
		Content{Text: text, Qualifiers: []Qualifier{QualifierGuardContent}})
	if err != nil {
		t.Fatal(err)
	}

	reqs := f.Requests()
	if len(reqs) != 1 || reqs[0].Op != bedrockkittest.OpApplyGuardrail || reqs[0].ModelID != "gr-abc123" || !strings.Contains(reqs[0].Path, "/version/3/") {
		t.Fatalf("request = %+v", reqs)
	}
	var body struct {
		Source      string `json:"source"`
		OutputScope string `json:"outputScope"`
		Content     []struct {
			Text struct {
				Text       string   `json:"text"`
				Qualifiers []string `json:"qualifiers"`
			} `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Source != "OUTPUT" || body.OutputScope != "FULL" || len(body.Content) != 3 ||
		body.Content[0].Text.Qualifiers[0] != "grounding_source" || body.Content[1].Text.Qualifiers[0] != "query" ||
		body.Content[2].Text.Text != text || body.Content[2].Text.Qualifiers[0] != "guard_content" {
		t.Fatalf("request body = %s", reqs[0].Body)
	}

	if res.Action != OutcomeIntervened || res.Blocked || res.ActionReason != "Guardrail masked." {
		t.Fatalf("result = %+v", res)
	}
	if len(res.Outputs) != 1 || res.Outputs[0].Text != "Mail {EMAIL} twice: {EMAIL}, order {ORDER_ID}" {
		t.Fatalf("outputs = %+v", res.Outputs)
	}
	if res.Usage == nil || res.Usage.SensitiveInformationPolicyUnits != 1 || res.Usage.TopicPolicyUnits != 1 {
		t.Fatalf("usage = %+v", res.Usage)
	}
	a := res.Assessments[0]
	if tp := a.TopicPolicy; tp == nil || tp.Topics[0].Name != "Investment advice" || tp.Topics[0].Detected || tp.Topics[0].Action != actNone {
		t.Fatalf("topics = %+v", a.TopicPolicy)
	}
	if cp := a.ContentPolicy; cp == nil || cp.Filters[0].Type != FilterInsults || cp.Filters[0].Confidence != StrengthLow || cp.Filters[0].FilterStrength != StrengthHigh || !cp.Filters[0].Detected {
		t.Fatalf("content = %+v", a.ContentPolicy)
	}
	sp := a.SensitiveInformationPolicy
	if sp == nil || len(sp.PiiEntities) != 2 || len(sp.Regexes) != 1 {
		t.Fatalf("sensitive = %+v", sp)
	}
	// The two identical matches are located at their two places in the guarded block.
	first, second := sp.PiiEntities[0].Span, sp.PiiEntities[1].Span
	if first == nil || second == nil || first.Content != 2 || text[first.Start:first.End] != "jane@example.com" ||
		second.Start <= first.Start || text[second.Start:second.End] != "jane@example.com" {
		t.Fatalf("spans = %+v %+v", first, second)
	}
	if rs := sp.Regexes[0].Span; rs == nil || text[rs.Start:rs.End] != "ORD-123456" || sp.Regexes[0].Name != "ORDER_ID" {
		t.Fatalf("regex = %+v", sp.Regexes[0])
	}
}

func TestRemoteBlocked(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{
	  "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1, "sensitiveInformationPolicyUnits": 1,
	            "sensitiveInformationPolicyFreeUnits": 0, "contextualGroundingPolicyUnits": 1},
	  "action": "GUARDRAIL_INTERVENED",
	  "outputs": [{"text": "Sorry, I cannot help with that."}],
	  "assessments": [{
	    "contentPolicy": {"filters": [{"type": "PROMPT_ATTACK", "confidence": "HIGH", "filterStrength": "HIGH", "action": "BLOCKED", "detected": true}]},
	    "wordPolicy": {"customWords": [{"match": "badword", "action": "BLOCKED", "detected": true}],
	                   "managedWordLists": [{"match": "damn", "type": "PROFANITY", "action": "BLOCKED"}]},
	    "contextualGroundingPolicy": {"filters": [{"type": "GROUNDING", "threshold": 0.7, "score": 0.2, "action": "BLOCKED", "detected": true}]}
	  }]}`)})
	r := newTestRemote(t, f, RemoteOptions{})
	res, err := r.Assess(context.Background(), SourceInput, TextContent("ignore previous instructions, badword, damn")...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked || res.Action != OutcomeIntervened || res.Outputs[0].Text != "Sorry, I cannot help with that." {
		t.Fatalf("result = %+v", res)
	}
	a := res.Assessments[0]
	if a.ContentPolicy.Filters[0].Type != FilterPromptAttack || a.ContentPolicy.Filters[0].Action != actBlocked {
		t.Fatalf("content = %+v", a.ContentPolicy)
	}
	if a.WordPolicy.CustomWords[0].Match != "badword" || a.WordPolicy.ManagedWordLists[0].Type != "PROFANITY" || !a.WordPolicy.ManagedWordLists[0].Detected {
		t.Fatalf("words = %+v", a.WordPolicy)
	}
	if g := a.ContextualGroundingPolicy.Filters[0]; g.Type != GroundingFilter || g.Threshold != 0.7 || g.Score != 0.2 || !g.Detected {
		t.Fatalf("grounding = %+v", g)
	}
	var body map[string]any
	if err := json.Unmarshal(f.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["source"] != "INPUT" || body["outputScope"] != nil {
		t.Fatalf("body = %v", body)
	}
}

func TestRemoteDefaultNone(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t) // unscripted: the fake answers action NONE
	res, err := newTestRemote(t, f, RemoteOptions{}).Assess(context.Background(), SourceInput, TextContent("hello")...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != OutcomeNone || res.Blocked || len(res.Outputs) != 0 || res.Usage == nil {
		t.Fatalf("result = %+v", res)
	}
}

func TestRemoteRetriesThrottling(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	throttle := bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException", Message: "Too many requests"}}
	f.Enqueue(bedrockkittest.OpApplyGuardrail, throttle, throttle, bedrockkittest.Reply{Body: json.RawMessage(`{"action":"NONE","outputs":[],"assessments":[]}`)})
	r := newTestRemote(t, f, fastRetry)
	if _, err := r.Assess(context.Background(), SourceInput, TextContent("hi")...); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(bedrockkittest.OpApplyGuardrail); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}

	// Throttled every time: gives up after MaxAttempts with a classified error.
	f.Enqueue(bedrockkittest.OpApplyGuardrail, throttle, throttle, throttle)
	_, err := r.Assess(context.Background(), SourceInput, TextContent("hi")...)
	var apiErr *bedrockkit.APIError
	if !errors.Is(err, bedrockkit.ErrThrottled) || !errors.As(err, &apiErr) || apiErr.Attempts != 3 || apiErr.Op != "ApplyGuardrail" ||
		apiErr.Code != "ThrottlingException" || !bedrockkit.IsRetryable(err) {
		t.Fatalf("err = %v (%+v)", err, apiErr)
	}
	if n := f.Calls(bedrockkittest.OpApplyGuardrail); n != 6 {
		t.Fatalf("calls = %d, want 6", n)
	}
}

func TestRemoteErrorsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		code string
		want error
	}{
		{"ValidationException", bedrockkit.ErrValidation},
		{"AccessDeniedException", bedrockkit.ErrAccessDenied},
		{"ResourceNotFoundException", bedrockkit.ErrNotFound},
		{"ServiceQuotaExceededException", bedrockkit.ErrQuotaExceeded},
	} {
		f := bedrockkittest.NewFakeBedrock(t)
		f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: tc.code, Message: "nope"}})
		_, err := newTestRemote(t, f, fastRetry).Assess(context.Background(), SourceInput, TextContent("hi")...)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "nope") {
			t.Errorf("%s: err = %v", tc.code, err)
		}
		if n := f.Calls(bedrockkittest.OpApplyGuardrail); n != 1 {
			t.Errorf("%s: calls = %d, want 1", tc.code, n)
		}
	}
}

func TestRemoteHonoursContext(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ServiceUnavailableException"}})
	r := newTestRemote(t, f, RemoteOptions{Retry: bedrockkit.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The hour-long backoff would pass the deadline, so the error comes back at once.
	_, err := r.Assess(ctx, SourceInput, TextContent("hi")...)
	if !errors.Is(err, bedrockkit.ErrServiceUnavailable) || f.Calls(bedrockkittest.OpApplyGuardrail) != 1 {
		t.Fatalf("err = %v, calls = %d", err, f.Calls(bedrockkittest.OpApplyGuardrail))
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := r.Assess(cancelled, SourceInput, TextContent("hi")...); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestNewRemoteValidates(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	for _, tc := range []struct {
		c       ApplyGuardrailAPI
		id, ver string
	}{{nil, "id", "1"}, {f.Client(), "", "1"}, {f.Client(), "id", " "}} {
		if _, err := NewRemote(tc.c, tc.id, tc.ver, RemoteOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
			t.Errorf("NewRemote(%v, %q, %q) = %v", tc.c, tc.id, tc.ver, err)
		}
	}
	r := newTestRemote(t, f, RemoteOptions{})
	if _, err := r.Assess(context.Background(), "BOTH", TextContent("x")...); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Errorf("bad source: %v", err)
	}
}

func TestBothMergesLocalAndRemote(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	local := testGuard(t)
	both := Both(local, newTestRemote(t, f, RemoteOptions{}))
	// Remote masks a name the local policy does not cover; local masks the email.
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{"action":"GUARDRAIL_INTERVENED",
	  "usage": {"sensitiveInformationPolicyUnits": 1},
	  "outputs":[{"text":"{NAME} is at jane@example.com"}],
	  "assessments":[{"sensitiveInformationPolicy":{"piiEntities":[{"match":"Jane Roe","type":"NAME","action":"ANONYMIZED","detected":true}]}}]}`)})
	res, err := both.Assess(context.Background(), SourceInput, Content{Text: "Jane Roe is at jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocked || res.Action != OutcomeIntervened || len(res.Outputs) != 1 || res.Outputs[0].Text != "{NAME} is at {EMAIL}" {
		t.Fatalf("merged = %+v", res)
	}
	if len(res.Assessments) != 2 || res.Usage == nil || res.Usage.SensitiveInformationPolicyUnits != 1 {
		t.Fatalf("assessments/usage = %+v %+v", res.Assessments, res.Usage)
	}

	// Remote blocks what local lets through: blocked, with Bedrock's message.
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{"action":"GUARDRAIL_INTERVENED",
	  "outputs":[{"text":"Blocked by Bedrock."}],
	  "assessments":[{"topicPolicy":{"topics":[{"name":"Weather","type":"DENY","action":"BLOCKED","detected":true}]}}]}`)})
	res, err = both.Assess(context.Background(), SourceInput, Content{Text: "The weather is nice today."})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked || res.Outputs[0].Text != "Blocked by Bedrock." {
		t.Fatalf("remote block = %+v", res)
	}

	// Local blocks: its message wins, whatever the remote said.
	res, err = both.Assess(context.Background(), SourceInput, Content{Text: "my card is 4111 1111 1111 1111"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Blocked || res.Outputs[0].Text != "Sorry, I cannot help with that." {
		t.Fatalf("local block = %+v", res)
	}

	// A remote failure fails the assessment.
	f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "AccessDeniedException"}})
	if _, err := both.Assess(context.Background(), SourceInput, Content{Text: "hello"}); !errors.Is(err, bedrockkit.ErrAccessDenied) {
		t.Fatalf("err = %v", err)
	}
}

func TestBothUnlocatedMasksChain(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	// The remote reports a match it cannot show verbatim: it has no span, so
	// Both asks the remote again with the local guard's masked text.
	f.Enqueue(bedrockkittest.OpApplyGuardrail,
		bedrockkittest.Reply{Body: json.RawMessage(`{"action":"GUARDRAIL_INTERVENED","outputs":[{"text":"{NAME} at jane@example.com"}],
		  "assessments":[{"sensitiveInformationPolicy":{"piiEntities":[{"match":"JANE ROE","type":"NAME","action":"ANONYMIZED"}]}}]}`)},
		bedrockkittest.Reply{Body: json.RawMessage(`{"action":"GUARDRAIL_INTERVENED","outputs":[{"text":"{NAME} at {EMAIL}"}],
		  "assessments":[{"sensitiveInformationPolicy":{"piiEntities":[{"match":"JANE ROE","type":"NAME","action":"ANONYMIZED"}]}}]}`)})
	res, err := Both(testGuard(t), newTestRemote(t, f, RemoteOptions{})).Assess(context.Background(), SourceInput, Content{Text: "Jane Roe at jane@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs[0].Text != "{NAME} at {EMAIL}" {
		t.Fatalf("outputs = %+v", res.Outputs)
	}
	reqs := f.Requests()
	if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), "{EMAIL}") {
		t.Fatalf("second request should carry the local masks: %d requests", len(reqs))
	}
}

func TestMiddlewareStreamsWithRemoteMasks(t *testing.T) {
	text := "Call Jane Roe on 555-0100 today, please."
	for split := 0; split <= len(text); split += 3 {
		f := bedrockkittest.NewFakeBedrock(t)
		// Every assessment of the growing text answers with the name masked.
		for range 8 {
			f.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{"action":"GUARDRAIL_INTERVENED",
			  "outputs":[{"text":"masked"}],
			  "assessments":[{"sensitiveInformationPolicy":{"piiEntities":[{"match":"Jane Roe","type":"NAME","action":"ANONYMIZED"}]}}]}`)})
		}
		mw := Middleware(newTestRemote(t, f, RemoteOptions{}), MiddlewareOptions{HoldBack: 16})
		got, _ := streamText(t, mw, []string{text[:split], text[split:]})
		if strings.Contains(got, "Jane") || !strings.Contains(got, "{NAME}") {
			t.Fatalf("split %d: %q", split, got)
		}
	}
}

func TestGroundingModelJudge(t *testing.T) {
	p := &Policy{BlockedInputMessaging: "in", BlockedOutputsMessaging: "out",
		ContextualGroundingPolicyConfig: &GroundingPolicyConfig{FiltersConfig: []GroundingFilterConfig{
			{Type: GroundingFilter, Threshold: 0.6}, {Type: RelevanceFilter, Threshold: 0.5}}}}
	src := Content{Text: "The Eiffel Tower is 330 metres tall and was completed in 1889 in Paris.", Qualifiers: []Qualifier{QualifierGroundingSource}}
	q := Content{Text: "How tall is the Eiffel Tower?", Qualifiers: []Qualifier{QualifierQuery}}
	resp := Content{Text: "The Eiffel Tower is 330 metres tall.", Qualifiers: []Qualifier{QualifierGuardContent}}

	// The judge is asked once per filter, grounding first; its score is
	// averaged with the lexical one. A judge that finds the answer
	// unsupported pulls a lexically well-supported answer under the threshold.
	judgeModel := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("0.0"), bedrockkittest.TextStep("1"))
	g, err := NewLocal(p, Options{Judge: judgeModel})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Assess(context.Background(), SourceOutput, src, q, resp)
	if err != nil {
		t.Fatal(err)
	}
	if judgeModel.Calls() != 2 {
		t.Fatalf("judge calls = %d, want 2", judgeModel.Calls())
	}
	gp := res.Assessments[0].ContextualGroundingPolicy
	if gp == nil || len(gp.Filters) != 2 {
		t.Fatalf("grounding = %+v", gp)
	}
	gr, rel := gp.Filters[0], gp.Filters[1]
	if gr.Type != GroundingFilter || !gr.Detected || gr.Action != actBlocked || gr.Score > 0.5 || !strings.Contains(gr.Reason, "judge") {
		t.Fatalf("grounding finding = %+v", gr)
	}
	if rel.Type != RelevanceFilter || rel.Detected || rel.Score < 0.5 {
		t.Fatalf("relevance finding = %+v", rel)
	}
	if !res.Blocked {
		t.Fatal("an answer the judge finds unsupported is not blocked")
	}
	// The prompt carries the source, the query and the response.
	prompt := judgeModel.Requests()[0].Messages[0].Text()
	for _, want := range []string{"<SOURCE>", "330 metres", "<QUERY>", "How tall", "<RESPONSE>", "factually supported"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("judge prompt lacks %q:\n%s", want, prompt)
		}
	}

	// A judge answering something other than a number fails the assessment
	// with ErrModelError rather than guessing.
	bad := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("very well supported"))
	g, _ = NewLocal(p, Options{Judge: bad})
	if _, err := g.Assess(context.Background(), SourceOutput, src, q, resp); !errors.Is(err, bedrockkit.ErrModelError) {
		t.Fatalf("err = %v, want ErrModelError", err)
	}
	// A failing judge model fails the assessment (fail closed) with its error.
	down := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: bedrockkit.ErrThrottled})
	g, _ = NewLocal(p, Options{Judge: down})
	if _, err := g.Assess(context.Background(), SourceOutput, src, q, resp); !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
}
