package guardrail_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/guardrail"
)

func ExampleLocal_Assess() {
	p, err := guardrail.ParsePolicy([]byte(`{
	  "blockedInputMessaging": "Sorry, I can't help with that.",
	  "blockedOutputsMessaging": "Sorry, I can't share that.",
	  "sensitiveInformationPolicyConfig": {"piiEntitiesConfig": [
	    {"type": "EMAIL", "action": "ANONYMIZE"},
	    {"type": "CREDIT_DEBIT_CARD_NUMBER", "action": "BLOCK"}]},
	  "wordPolicyConfig": {"managedWordListsConfig": [{"type": "PROFANITY"}]}
	}`))
	if err != nil {
		panic(err)
	}
	g, err := guardrail.NewLocal(p, guardrail.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	res, _ := g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: "Write to jane@example.com"})
	fmt.Println(res.Action, res.Outputs[0].Text)
	res, _ = g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: "my card is 4111 1111 1111 1111"})
	fmt.Println(res.Action, res.Outputs[0].Text)
	res, _ = g.Assess(ctx, guardrail.SourceInput, guardrail.Content{Text: "what the sh1t"})
	fmt.Println(res.Action, res.Assessments[0].WordPolicy.ManagedWordLists[0].Match)
	// Output:
	// GUARDRAIL_INTERVENED Write to {EMAIL}
	// GUARDRAIL_INTERVENED Sorry, I can't help with that.
	// GUARDRAIL_INTERVENED shit
}

func ExampleMiddleware() {
	p := &guardrail.Policy{
		BlockedInputMessaging:   "Sorry, I can't help with that.",
		BlockedOutputsMessaging: "Sorry, I can't share that.",
		SensitiveInformationPolicyConfig: &guardrail.SensitiveInfoConfig{PiiEntitiesConfig: []guardrail.PIIEntityConfig{
			{Type: guardrail.PIIPhone, Action: guardrail.ActionAnonymize}}},
	}
	g, err := guardrail.NewLocal(p, guardrail.Options{})
	if err != nil {
		panic(err)
	}
	model := bedrockkit.Chain(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Call us on (555) 123-4567.")), guardrail.Middleware(g, guardrail.MiddlewareOptions{}))
	resp, err := model.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("How do I reach you?")}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Message.Text())
	// Output: Call us on {PHONE}.
}

func ExampleRemote() {
	// A fake Bedrock endpoint stands in for AWS; with real credentials use
	// bedrockkit.NewRuntimeClient or bedrockruntime.NewFromConfig instead.
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	fake.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{
	  "action": "GUARDRAIL_INTERVENED",
	  "outputs": [{"text": "Ask {NAME} about it."}],
	  "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [
	    {"match": "Jane Roe", "type": "NAME", "action": "ANONYMIZED", "detected": true}]}}],
	  "usage": {"sensitiveInformationPolicyUnits": 1}
	}`)})

	remote, err := guardrail.NewRemote(fake.Client(), "gr-abc123", "DRAFT", guardrail.RemoteOptions{})
	if err != nil {
		panic(err)
	}
	res, err := remote.Assess(context.Background(), guardrail.SourceInput, guardrail.Content{Text: "Ask Jane Roe about it."})
	if err != nil {
		panic(err)
	}
	pii := res.Assessments[0].SensitiveInformationPolicy.PiiEntities[0]
	fmt.Println(res.Action, res.Outputs[0].Text)
	fmt.Println(pii.Type, pii.Span.Start, pii.Span.End, res.Usage.SensitiveInformationPolicyUnits)
	// Output:
	// GUARDRAIL_INTERVENED Ask {NAME} about it.
	// NAME 4 12 1
}

func ExampleBoth() {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	// Bedrock masks the name; the local policy masks e-mail addresses.
	fake.Enqueue(bedrockkittest.OpApplyGuardrail, bedrockkittest.Reply{Body: json.RawMessage(`{
	  "action": "GUARDRAIL_INTERVENED",
	  "outputs": [{"text": "{NAME} is at jane@example.com"}],
	  "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [
	    {"match": "Jane Roe", "type": "NAME", "action": "ANONYMIZED", "detected": true}]}}]
	}`)})
	remote, err := guardrail.NewRemote(fake.Client(), "gr-abc123", "1", guardrail.RemoteOptions{})
	if err != nil {
		panic(err)
	}
	local, err := guardrail.NewLocal(&guardrail.Policy{
		BlockedInputMessaging:   "Sorry, I can't help with that.",
		BlockedOutputsMessaging: "Sorry, I can't share that.",
		SensitiveInformationPolicyConfig: &guardrail.SensitiveInfoConfig{PiiEntitiesConfig: []guardrail.PIIEntityConfig{
			{Type: guardrail.PIIEmail, Action: guardrail.ActionAnonymize}}},
	}, guardrail.Options{})
	if err != nil {
		panic(err)
	}
	res, err := guardrail.Both(local, remote).Assess(context.Background(), guardrail.SourceInput,
		guardrail.Content{Text: "Jane Roe is at jane@example.com"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Action, res.Outputs[0].Text)
	// Output: GUARDRAIL_INTERVENED {NAME} is at {EMAIL}
}
