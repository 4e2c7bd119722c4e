package otelkit_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
	"github.com/bedrockkit/bedrockkit/otelkit"
	"github.com/bedrockkit/bedrockkit/pricing"
)

func Example() {
	// In a service, use your exporters (OTLP, ...); in-memory ones keep this
	// example self-contained.
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())

	tel, err := otelkit.New(otelkit.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		fmt.Println(err)
		return
	}
	model := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("Hello"),
		Usage:   bedrockkit.Usage{InputTokens: 12, OutputTokens: 3},
	}}) // or bedrockkit.NewConverseModel(...)
	traced := bedrockkit.Chain(bedrockkit.WithModelID(model, "amazon.nova-lite-v1:0"), tel.Middleware())

	traced.Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("Hi")}})

	s := spans.GetSpans()[0]
	fmt.Println(s.Name)
	for _, kv := range s.Attributes {
		fmt.Printf("  %s=%s\n", kv.Key, kv.Value.Emit())
	}
	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(m.Name)
	}
	// Output:
	// chat amazon.nova-lite-v1:0
	//   gen_ai.operation.name=chat
	//   gen_ai.system=aws.bedrock
	//   gen_ai.provider.name=aws.bedrock
	//   gen_ai.request.model=amazon.nova-lite-v1:0
	//   gen_ai.usage.input_tokens=12
	//   gen_ai.usage.output_tokens=3
	//   gen_ai.response.finish_reasons=["end_turn"]
	// gen_ai.client.token.usage
	// gen_ai.client.operation.duration
}

// A response cache inside the traced model: the second, identical call is
// answered from the cache, and its span says so.
func Example_responseCache() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel, err := otelkit.New(otelkit.Options{TracerProvider: tp})
	if err != nil {
		fmt.Println(err)
		return
	}
	model := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("6 dollars"),
		Usage:   bedrockkit.Usage{InputTokens: 120, OutputTokens: 9},
	}})
	responses := cache.New(cache.Options{})
	// Tracing outside, cache inside: every call gets a span.
	m := bedrockkit.Chain(bedrockkit.WithModelID(model, "amazon.nova-lite-v1:0"), tel.Middleware(), responses.Middleware())

	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What is the monthly fee?")}}
	m.Generate(context.Background(), req)
	m.Generate(context.Background(), req)

	for _, s := range spans.GetSpans() {
		hit, in := false, int64(0)
		for _, kv := range s.Attributes {
			switch kv.Key {
			case otelkit.AttrCacheHit:
				hit = kv.Value.AsBool()
			case otelkit.AttrInputTokens:
				in = kv.Value.AsInt64()
			}
		}
		fmt.Printf("%s: cache hit %v, input tokens %d\n", s.Name, hit, in)
	}
	// Output:
	// chat amazon.nova-lite-v1:0: cache hit false, input tokens 120
	// chat amazon.nova-lite-v1:0: cache hit true, input tokens 0
}

// NewCostMetrics reports a pricing meter's cost, tokens and calls as
// OpenTelemetry counters.
func ExampleNewCostMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	meter := pricing.NewMeter(pricing.MeterOptions{})
	costs, err := otelkit.NewCostMetrics(meter, otelkit.CostMetricsOptions{MeterProvider: mp})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer costs.Close()
	model := meter.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("Hello"),
		Usage:   bedrockkit.Usage{InputTokens: 2000, OutputTokens: 500},
	}}), "amazon.nova-lite-v1:0"))
	model.Generate(pricing.WithTenant(context.Background(), "acme"), bedrockkit.Prompt("Hi"))

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == otelkit.MetricCost {
			dp := m.Data.(metricdata.Sum[int64]).DataPoints[0]
			tenant, _ := dp.Attributes.Value(otelkit.AttrTenant)
			fmt.Println(m.Name, dp.Value, "nano-dollars for", tenant.AsString())
		}
	}
	// Output: bedrockkit.pricing.cost 240000 nano-dollars for acme
}
