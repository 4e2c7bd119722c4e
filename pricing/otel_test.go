package pricing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrockkit/bedrockkit"
)

func TestMeterOpenTelemetry(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m := newMeter(t, MeterConfig{MeterProvider: mp})
	u := bedrockkit.Usage{InputTokens: 1000, OutputTokens: 200, CacheReadTokens: 300, CacheWriteTokens: 40}
	model := m.Model(haiku45, newUsageModel(u))
	ctx := WithTags(WithSession(WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "chat"})
	for i := range 5 {
		c := ctx
		if i%2 == 1 {
			c = WithSession(ctx, "s2") // same series: sessions are not an attribute by default
		}
		if _, err := model.Generate(c, userReq("hi", 10)); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = model.Generate(WithBudget(ctx, NewBudget(ScopeRun, "r", 0)), userReq("hi", 10)) // refused

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	// Reset clears the snapshot, not the cumulative metrics.
	total := m.Snapshot().Total()
	m.Reset()
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]metricdata.Sum[int64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if s, ok := md.Data.(metricdata.Sum[int64]); ok {
				sums[md.Name] = s
			}
		}
	}
	cost := sums[MetricCost]
	if len(cost.DataPoints) != 1 || cost.DataPoints[0].Value != int64(total.Cost.Total) || !cost.IsMonotonic {
		t.Fatalf("cost metric %+v, want one point of %d", cost.DataPoints, total.Cost.Total)
	}
	attrs := cost.DataPoints[0].Attributes
	for k, want := range map[string]string{AttrModel: haiku45, AttrTenant: "acme", AttrTagPrefix + "feature": "chat"} {
		if v, ok := attrs.Value(attribute.Key(k)); !ok || v.AsString() != want {
			t.Errorf("attribute %s = %v, want %q", k, v.AsString(), want)
		}
	}
	if _, ok := attrs.Value(AttrSession); ok {
		t.Error("session attribute set although SessionAttribute is off")
	}
	tokens := map[string]int64{}
	for _, dp := range sums[MetricTokens].DataPoints {
		v, _ := dp.Attributes.Value(AttrTokenType)
		tokens[v.AsString()] = dp.Value
	}
	if tokens["input"] != 5000 || tokens["output"] != 1000 || tokens["cache_read"] != 1500 || tokens["cache_write"] != 200 {
		t.Fatalf("token metrics %v", tokens)
	}
	calls := map[string]int64{}
	for _, dp := range sums[MetricCalls].DataPoints {
		v, _ := dp.Attributes.Value(AttrOutcome)
		calls[v.AsString()] = dp.Value
	}
	if calls["ok"] != 5 || calls["refused"] != 1 {
		t.Fatalf("call metrics %v", calls)
	}
	// After Close the meter reports nothing more.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if s, ok := md.Data.(metricdata.Sum[int64]); ok && len(s.DataPoints) > 0 {
				t.Fatalf("%s still reported after Close: %+v", md.Name, s.DataPoints)
			}
		}
	}
}
