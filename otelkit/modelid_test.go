package otelkit_test

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/otelkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// TestMiddlewareTakesTheModelID: without an ID the traced model is named by
// the model it wraps (through retry and pricing middleware), an explicit ID
// wins, and a model without one is traced as plain "chat".
func TestMiddlewareTakesTheModelID(t *testing.T) {
	f := bedrockkittest.NewFakeBedrock(t)
	const id = "us.amazon.nova-lite-v1:0"
	converse, err := bedrockkit.NewConverseModel(f.Client(), id, bedrockkit.ConverseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	meter := pricing.NewMeter(pricing.MeterOptions{})
	for _, tc := range []struct {
		name      string
		wrap      func(tel *otelkit.Telemetry) bedrockkit.Model
		span, att string
	}{
		{"converse", func(tel *otelkit.Telemetry) bedrockkit.Model {
			return bedrockkit.Chain(converse, tel.Middleware(), meter.Middleware(), bedrockkit.RetryPolicy{}.Middleware())
		}, "chat " + id, id},
		{"explicit", func(tel *otelkit.Telemetry) bedrockkit.Model {
			return bedrockkit.Chain(bedrockkit.WithModelID(converse, "assistant"), tel.Middleware())
		}, "chat assistant", "assistant"},
		{"no ID", func(tel *otelkit.Telemetry) bedrockkit.Model {
			return bedrockkit.Chain(bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("hi")), tel.Middleware())
		}, "chat", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, false)
			f.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("hi")})
			m := tc.wrap(r.tel)
			if _, err := m.Generate(context.Background(), bedrockkit.Prompt("hello")); err != nil {
				t.Fatal(err)
			}
			s := r.exp.GetSpans()[0]
			v, ok := attrs(s)[otelkit.AttrRequestModel]
			if s.Name != tc.span || v.AsString() != tc.att || ok != (tc.att != "") {
				t.Fatalf("span %q with gen_ai.request.model %q (set %v), want %q and %q", s.Name, v.AsString(), ok, tc.span, tc.att)
			}
			if got := bedrockkit.ModelIDOf(m); got != tc.att {
				t.Fatalf("the traced model reports %q", got)
			}
		})
	}
}
