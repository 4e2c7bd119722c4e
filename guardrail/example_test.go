package guardrail_test

import (
	"context"
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
	model := bedrockkit.Chain(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Call us on (555) 123-4567.")), guardrail.Middleware(g))
	resp, err := model.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("How do I reach you?")}})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Message.Text())
	// Output: Call us on {PHONE}.
}
