package cache_test

import (
	"context"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// With the meter outside the cache, a hit is a metered call that costs
// nothing, and the savings can be priced from Stats.Saved.
func TestHitsInCost(t *testing.T) {
	const model = "amazon.nova-lite-v1:0"
	meter := pricing.NewMeter(pricing.MeterOptions{})
	usage := bedrockkit.Usage{InputTokens: 1000, OutputTokens: 200}
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("x"), Usage: usage}})
	responses := cache.New(cache.Options{})
	m := bedrockkit.Chain(bedrockkit.WithModelID(sm, model), meter.Middleware(), responses.Middleware())
	for range 3 {
		if _, err := m.Generate(context.Background(), baseReq()); err != nil {
			t.Fatal(err)
		}
	}
	total := meter.Snapshot().Total()
	one, err := pricing.Cost(model, usage)
	if err != nil {
		t.Fatal(err)
	}
	if total.Calls != 3 || total.InputTokens != 1000 || total.Cost.Total != one.Total {
		t.Fatalf("metered %+v, want 3 calls costing one call (%v)", total, one.Total)
	}
	saved, err := pricing.Cost(model, responses.Stats().Saved)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Total != 2*one.Total {
		t.Fatalf("saved %v, want %v", saved.Total, 2*one.Total)
	}
}
