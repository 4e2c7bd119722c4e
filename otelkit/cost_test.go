package otelkit_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/otelkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

const haiku45 = "global.anthropic.claude-haiku-4-5-20251001-v1:0"

// usageStep answers with fixed usage.
func usageStep(u bedrockkit.Usage) bedrockkittest.Step {
	return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), Usage: u}}
}

// sums collects the int64 sums by metric name.
func sums(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Sum[int64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Sum[int64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if s, ok := md.Data.(metricdata.Sum[int64]); ok {
				out[md.Name] = s
			}
		}
	}
	return out
}

func byAttr(s metricdata.Sum[int64], key attribute.Key) map[string]int64 {
	out := map[string]int64{}
	for _, dp := range s.DataPoints {
		v, _ := dp.Attributes.Value(key)
		out[v.AsString()] += dp.Value
	}
	return out
}

func TestCostMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m := pricing.NewMeter(pricing.MeterOptions{})
	cm, err := otelkit.NewCostMetrics(m, otelkit.CostMetricsOptions{MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	u := bedrockkit.Usage{InputTokens: 1000, OutputTokens: 200, CacheReadTokens: 300, CacheWriteTokens: 40}
	steps := make([]bedrockkittest.Step, 5)
	for i := range steps {
		steps[i] = usageStep(u)
	}
	model := m.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(steps...), haiku45))
	ctx := pricing.WithTags(pricing.WithSession(pricing.WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "chat"})
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}, MaxTokens: 10}
	for i := range 5 {
		c := ctx
		if i%2 == 1 {
			c = pricing.WithSession(ctx, "s2") // same series: sessions are not an attribute by default
		}
		if _, err := model.Generate(c, req); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = model.Generate(pricing.WithBudget(ctx, pricing.NewBudget(pricing.ScopeRun, "r", 0)), req) // refused

	total := m.Snapshot().Total()
	m.Reset() // clears the snapshot, not the cumulative counters
	got := sums(t, reader)
	cost := got[otelkit.MetricCost]
	if len(cost.DataPoints) != 1 || cost.DataPoints[0].Value != int64(total.Cost.Total) || !cost.IsMonotonic || total.Cost.Total == 0 {
		t.Fatalf("cost metric %+v, want one point of %d", cost.DataPoints, total.Cost.Total)
	}
	attrs := cost.DataPoints[0].Attributes
	for k, want := range map[attribute.Key]string{otelkit.AttrRequestModel: haiku45, otelkit.AttrTenant: "acme", otelkit.AttrTagPrefix + "feature": "chat"} {
		if v, ok := attrs.Value(k); !ok || v.AsString() != want {
			t.Errorf("attribute %s = %v, want %q", k, v.AsString(), want)
		}
	}
	if _, ok := attrs.Value(otelkit.AttrSession); ok {
		t.Error("session attribute set although SessionAttribute is off")
	}
	if tokens := byAttr(got[otelkit.MetricCostTokens], otelkit.AttrTokenType); tokens["input"] != 5000 || tokens["output"] != 1000 || tokens["cache_read"] != 1500 || tokens["cache_write"] != 200 {
		t.Fatalf("token metrics %v", tokens)
	}
	calls := byAttr(got[otelkit.MetricCostCalls], otelkit.AttrOutcome)
	if calls["ok"] != 5 || calls["refused"] != 1 || len(calls) != 5 || calls["failed"] != 0 {
		t.Fatalf("call metrics %v, want 5 ok, 1 refused and the other outcomes at 0", calls)
	}

	// After Close nothing more is counted or reported; metering goes on.
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	for name, s := range sums(t, reader) {
		if len(s.DataPoints) > 0 {
			t.Fatalf("%s still reported after Close: %+v", name, s.DataPoints)
		}
	}
	if len(m.Snapshot().Entries) != 0 {
		t.Fatal("Reset did not clear the snapshot")
	}
}

func TestCostMetricsSessionsAndConcurrency(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m := pricing.NewMeter(pricing.MeterOptions{})
	cm, err := otelkit.NewCostMetrics(m, otelkit.CostMetricsOptions{MeterProvider: mp, SessionAttribute: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	var steps []bedrockkittest.Step
	for range 200 {
		steps = append(steps, usageStep(bedrockkit.Usage{InputTokens: 10, OutputTokens: 1}))
	}
	model := m.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(steps...), haiku45))
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hi")}}
	var wg sync.WaitGroup
	for _, session := range []string{"a", "b", "c", "d"} {
		wg.Go(func() {
			ctx := pricing.WithSession(context.Background(), session)
			for range 50 {
				if _, err := model.Generate(ctx, req); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() { // collections run while calls are metered
		for range 20 {
			sums(t, reader)
		}
	})
	wg.Wait()
	calls := sums(t, reader)[otelkit.MetricCostCalls]
	perSession := map[string]int64{}
	for _, dp := range calls.DataPoints {
		s, _ := dp.Attributes.Value(otelkit.AttrSession)
		perSession[s.AsString()] += dp.Value
	}
	if len(perSession) != 4 || perSession["a"] != 50 || perSession["d"] != 50 {
		t.Fatalf("calls per session %v, want 50 for each of 4", perSession)
	}
}

func TestNewCostMetricsNilMeter(t *testing.T) {
	if _, err := otelkit.NewCostMetrics(nil, otelkit.CostMetricsOptions{}); !errors.Is(err, bedrockkit.ErrInvalidInput) {
		t.Fatalf("nil meter: %v, want ErrInvalidInput", err)
	}
}

// usageModel answers every call with fixed usage, allocating nothing.
type usageModel struct{ resp bedrockkit.Response }

func (m *usageModel) Generate(context.Context, *bedrockkit.Request) (*bedrockkit.Response, error) {
	return &m.resp, nil
}

func (m *usageModel) Stream(context.Context, *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(func(bedrockkit.StreamEvent, error) bool) {}
}

// BenchmarkCostMetrics measures a metered call with and without
// NewCostMetrics counting it (compare with pricing's
// BenchmarkMeterGenerate/metered).
func BenchmarkCostMetrics(b *testing.B) {
	u := bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567, CacheReadTokens: 8901, CacheWriteTokens: 2345}
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What does this cost?")}, MaxTokens: 512}
	ctx := pricing.WithTags(pricing.WithSession(pricing.WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "chat"})
	for _, withMetrics := range []bool{false, true} {
		name := "metered"
		if withMetrics {
			name = "metered+otel"
		}
		b.Run(name, func(b *testing.B) {
			m := pricing.NewMeter(pricing.MeterOptions{})
			if withMetrics {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				cm, err := otelkit.NewCostMetrics(m, otelkit.CostMetricsOptions{MeterProvider: mp})
				if err != nil {
					b.Fatal(err)
				}
				defer cm.Close()
			}
			model := m.Middleware()(bedrockkit.WithModelID(&usageModel{resp: bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), Usage: u}}, haiku45))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := model.Generate(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
