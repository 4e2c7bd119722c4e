package pricing

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/bedrockkit/bedrockkit"
)

// BenchmarkMeterGenerate measures what metering adds to a call. "raw" calls
// the model directly; the others go through the meter ("metered+hook" with
// one OnCall function, as otelkit.NewCostMetrics adds). The overhead per
// call is the difference in ns/op.
func BenchmarkMeterGenerate(b *testing.B) {
	u := bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567, CacheReadTokens: 8901, CacheWriteTokens: 2345}
	req := userReq("What does this cost?", 512)
	base := WithTags(WithSession(WithTenant(context.Background(), "acme"), "s1"), map[string]string{"feature": "chat"})
	run := func(b *testing.B, model bedrockkit.Model, ctx context.Context) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := model.Generate(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("raw", func(b *testing.B) {
		run(b, newUsageModel(u), base)
	})
	b.Run("metered", func(b *testing.B) {
		m := newMeter(b, MeterOptions{})
		run(b, metered(m, haiku45, newUsageModel(u)), base)
	})
	b.Run("metered+hook", func(b *testing.B) {
		m := newMeter(b, MeterOptions{})
		var calls atomic.Int64
		defer m.OnCall(func(context.Context, MeteredCall) { calls.Add(1) })()
		run(b, metered(m, haiku45, newUsageModel(u)), base)
	})
	b.Run("metered+budgets", func(b *testing.B) {
		m := newMeter(b, MeterOptions{})
		m.SetTenantBudget("acme", 1<<62)
		m.SetSessionBudget("s1", 1<<62)
		ctx := WithBudget(base, NewBudget(ScopeRun, "r", 1<<62))
		run(b, metered(m, haiku45, newUsageModel(u)), ctx)
	})
}

// BenchmarkMeterGenerateSerial is BenchmarkMeterGenerate on one goroutine.
func BenchmarkMeterGenerateSerial(b *testing.B) {
	u := bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567}
	req := userReq("What does this cost?", 512)
	ctx := WithTenant(context.Background(), "acme")
	for _, tc := range []struct {
		name  string
		model func() bedrockkit.Model
	}{
		{"raw", func() bedrockkit.Model { return newUsageModel(u) }},
		{"metered", func() bedrockkit.Model { return metered(newMeter(b, MeterOptions{}), haiku45, newUsageModel(u)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			model := tc.model()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := model.Generate(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMeterStream measures a short metered stream (text, stop, metadata).
func BenchmarkMeterStream(b *testing.B) {
	u := bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567}
	req := userReq("What does this cost?", 512)
	ctx := WithTenant(context.Background(), "acme")
	for _, tc := range []struct {
		name  string
		model func() bedrockkit.Model
	}{
		{"raw", func() bedrockkit.Model { return newUsageModel(u) }},
		{"metered", func() bedrockkit.Model { return metered(newMeter(b, MeterOptions{}), haiku45, newUsageModel(u)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			model := tc.model()
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range model.Stream(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkCost(b *testing.B) {
	c := Default()
	u := bedrockkit.Usage{InputTokens: 1234, OutputTokens: 567, CacheReadTokens: 8901, CacheWriteTokens: 2345}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Cost(haiku45, u); err != nil {
			b.Fatal(err)
		}
	}
}
