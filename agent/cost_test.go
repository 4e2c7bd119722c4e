package agent_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/pricing"
)

const costModel = "anthropic.claude-3-haiku-20240307-v1:0"

// withUsage gives a scripted step the usage its model call reports.
func withUsage(s bedrockkittest.Step, in, out int) bedrockkittest.Step {
	s.Response.Usage = bedrockkit.Usage{InputTokens: in, OutputTokens: out}
	return s
}

// billOf prices usages on costModel with the default catalog, as the meter should.
func billOf(t *testing.T, us ...bedrockkit.Usage) pricing.Money {
	t.Helper()
	var total pricing.Money
	for _, u := range us {
		b, err := pricing.Cost(costModel, u)
		if err != nil {
			t.Fatal(err)
		}
		total += b.Total
	}
	return total
}

// TestRunCostPerSession: a metered model's calls in an agent run (and in
// the Resume of its pause) are attributed to the run's session, so
// Meter.SessionCost reports what the session's turns cost; a session the
// caller set with pricing.WithSession is kept.
func TestRunCostPerSession(t *testing.T) {
	meter := pricing.NewMeter(pricing.MeterOptions{})
	script := bedrockkittest.NewScriptedModel(
		// session s-1, turn 1: a tool call, then the answer.
		withUsage(bedrockkittest.ToolStep(call("e1", "echo", `{"city":"Rome"}`)), 1000, 100),
		withUsage(bedrockkittest.TextStep("It is sunny in Rome."), 1200, 40),
		// session s-2: pauses on the transfer ...
		withUsage(bedrockkittest.ToolStep(call("t1", "transfer", `{"to":"bob","amount":10}`)), 700, 30),
		// ... and is resumed.
		withUsage(bedrockkittest.TextStep("Sent 10 to bob."), 900, 20),
		// session s-3 run under the caller's own session.
		withUsage(bedrockkittest.TextStep("Hello."), 300, 5),
	)
	var runs atomic.Int32
	a := &agent.Agent{Model: meter.Middleware()(bedrockkit.WithModelID(script, costModel)), Tools: []*agent.Tool{echoTool(), bank(&runs)}}
	ctx := context.Background()

	if _, err := a.Run(ctx, "s-1", "weather in Rome?"); err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(ctx, "s-2", "send bob 10")
	if err != nil || !res.Paused() {
		t.Fatalf("want a pause, got %+v, %v", res, err)
	}
	if _, err := a.Resume(ctx, res.Pending, agent.Approve("t1")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(pricing.WithSession(ctx, "billing-account"), "s-3", "hi"); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		session string
		calls   int64
		usage   []bedrockkit.Usage
	}{
		{"s-1", 2, []bedrockkit.Usage{{InputTokens: 1000, OutputTokens: 100}, {InputTokens: 1200, OutputTokens: 40}}},
		{"s-2", 2, []bedrockkit.Usage{{InputTokens: 700, OutputTokens: 30}, {InputTokens: 900, OutputTokens: 20}}},
		{"billing-account", 1, []bedrockkit.Usage{{InputTokens: 300, OutputTokens: 5}}},
		{"s-3", 0, nil},
		{"", 0, nil},
	} {
		sc, err := meter.SessionCost(c.session, pricing.SessionExtras{})
		if err != nil {
			t.Fatal(err)
		}
		var tokens bedrockkit.Usage
		for _, u := range c.usage {
			tokens = tokens.Add(u)
		}
		want := billOf(t, c.usage...)
		if sc.Calls != c.calls || sc.Model.Total != want || sc.Total != want || sc.Tokens != tokens {
			t.Errorf("session %q: %d calls, model cost %v, total %v, tokens %+v; want %d calls, %v, tokens %+v",
				c.session, sc.Calls, sc.Model.Total, sc.Total, sc.Tokens, c.calls, want, tokens)
		}
	}
	if c := billOf(t, bedrockkit.Usage{InputTokens: 1000, OutputTokens: 100}); c <= 0 {
		t.Fatalf("the catalog prices %s at %v; the test needs a priced model", costModel, c)
	}
}

// TestNestedRunCostCountsTowardOuterSession: a collaborator run as a tool
// (AsTool) and a Router's routing call count toward the session of the
// run that used them, not a session of their own.
func TestNestedRunCostCountsTowardOuterSession(t *testing.T) {
	meter := pricing.NewMeter(pricing.MeterOptions{})
	inner := &agent.Agent{Name: "researcher", Model: meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
		withUsage(bedrockkittest.TextStep("Rome is sunny."), 400, 10),
	), costModel))}
	outer := &agent.Agent{Name: "supervisor", Tools: []*agent.Tool{mustTool(inner.AsTool("researcher", "Looks things up"))},
		Model: meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
			withUsage(bedrockkittest.ToolStep(call("r1", "researcher", `{"request":"weather in Rome"}`)), 500, 20),
			withUsage(bedrockkittest.TextStep("It is sunny."), 600, 10),
		), costModel))}
	if _, err := outer.Run(context.Background(), "conv", "weather in Rome?"); err != nil {
		t.Fatal(err)
	}
	sc, err := meter.SessionCost("conv", pricing.SessionExtras{})
	if err != nil {
		t.Fatal(err)
	}
	want := billOf(t, bedrockkit.Usage{InputTokens: 500, OutputTokens: 20}, bedrockkit.Usage{InputTokens: 400, OutputTokens: 10},
		bedrockkit.Usage{InputTokens: 600, OutputTokens: 10})
	if sc.Calls != 3 || sc.Model.Total != want {
		t.Errorf("session conv: %d calls costing %v, want 3 costing %v", sc.Calls, sc.Model.Total, want)
	}

	router := &agent.Router{
		Model: meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
			withUsage(bedrockkittest.ToolStep(call("x", "route", `{"collaborator":"researcher"}`)), 300, 5),
		), costModel)),
		Collaborators: []agent.Collaborator{{Name: "researcher", Instruction: "weather", Agent: inner}},
	}
	inner.Model = meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
		withUsage(bedrockkittest.TextStep("Paris is grey."), 450, 15),
	), costModel))
	if _, name, err := router.Run(context.Background(), "conv2", "weather in Paris?"); err != nil || name != "researcher" {
		t.Fatalf("routed to %q, %v", name, err)
	}
	sc, err = meter.SessionCost("conv2", pricing.SessionExtras{})
	if err != nil {
		t.Fatal(err)
	}
	want = billOf(t, bedrockkit.Usage{InputTokens: 300, OutputTokens: 5}, bedrockkit.Usage{InputTokens: 450, OutputTokens: 15})
	if sc.Calls != 2 || sc.Model.Total != want {
		t.Errorf("session conv2: %d calls costing %v, want 2 costing %v", sc.Calls, sc.Model.Total, want)
	}
	for _, e := range meter.Snapshot().Entries {
		if e.Session != "conv" && e.Session != "conv2" {
			t.Errorf("a call was attributed to session %q", e.Session)
		}
	}
}
