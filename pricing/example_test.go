package pricing_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/pricing"
)

// The product brief's example: 5M input and 2M output tokens on Claude 3
// Sonnet at $0.003 / $0.015 per 1K tokens.
func ExampleCost() {
	b, err := pricing.Cost("anthropic.claude-3-sonnet-20240229-v1:0",
		bedrockkit.Usage{InputTokens: 5_000_000, OutputTokens: 2_000_000})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Input, "+", b.Output, "=", b.Total)
	// Output: $15.00 + $30.00 = $45.00
}

// Cache reads, 1-hour cache writes and batch rates, on a global inference
// profile.
func ExampleCatalog_CostWith() {
	c := pricing.Default()
	id := "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
	u := bedrockkit.Usage{InputTokens: 2_000, OutputTokens: 500, CacheReadTokens: 50_000, CacheWriteTokens: 10_000}
	b, _ := c.CostWith(id, u, pricing.Terms{CacheWriteTTL: bedrockkit.CacheTTL1h})
	fmt.Println("input", b.Input, "output", b.Output, "cache read", b.CacheRead, "cache write", b.CacheWrite, "total", b.Total)
	batch, _ := c.CostWith(id, bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, pricing.Terms{Batch: true})
	fmt.Println("batch", batch.Total)
	// Output:
	// input $0.006 output $0.0075 cache read $0.015 cache write $0.06 total $0.0885
	// batch $9.00
}

// Negotiated prices replace catalog rows; an application inference profile
// is priced by listing its ARN.
func ExampleCatalog_Override() {
	c, err := pricing.Default().Override(pricing.Row{
		IDs:    []string{"amazon.nova-pro-v1:0", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a"},
		Kind:   pricing.KindText,
		Unit:   pricing.UnitPer1MTokens,
		Input:  pricing.MustRate("0.70", pricing.UnitPer1MTokens),
		Output: pricing.MustRate("2.80", pricing.UnitPer1MTokens),
		Source: "enterprise agreement 2026-07",
	})
	if err != nil {
		panic(err)
	}
	b, _ := c.Cost("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a",
		bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000})
	fmt.Println(b.Total)
	_, err = c.Cost("acme.unknown-v1", bedrockkit.Usage{InputTokens: 1})
	fmt.Println(errors.Is(err, pricing.ErrUnknownModel))
	// Output:
	// $3.50
	// true
}

// A meter attributes every call to the tenant, session and tags on the
// context. A scripted model does not know its model ID, so it is named
// with bedrockkit.WithModelID.
func ExampleMeter() {
	m := pricing.NewMeter(pricing.MeterOptions{})
	model := m.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("hi"),
			Usage: bedrockkit.Usage{InputTokens: 1200, OutputTokens: 300}}},
	), "us.anthropic.claude-3-5-haiku-20241022-v1:0"))
	ctx := pricing.WithTags(pricing.WithTenant(context.Background(), "acme"), map[string]string{"feature": "chat"})
	if _, err := model.Generate(ctx, &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("hello")}}); err != nil {
		panic(err)
	}
	if err := m.Snapshot().WriteCSV(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// tenant,session,model,tags,calls,refused,failed,estimated,unpriced,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,input_cost,output_cost,cache_read_cost,cache_write_cost,total_cost
	// acme,,us.anthropic.claude-3-5-haiku-20241022-v1:0,feature=chat,1,0,0,0,0,1200,300,0,0,0.00096,0.0012,0.00,0.00,0.00216
}

// Middleware takes the model ID from a ConverseModel, also through retry
// middleware inside the meter.
func ExampleMeter_Middleware() {
	fake := bedrockkittest.StartFakeBedrock() // stands in for Bedrock
	defer fake.Close()
	fake.Enqueue(bedrockkittest.OpConverse, bedrockkittest.Reply{Message: bedrockkit.AssistantText("Hello."), Usage: bedrockkit.Usage{InputTokens: 2000, OutputTokens: 500}})
	converse, err := bedrockkit.NewConverseModel(fake.Client(), "us.amazon.nova-lite-v1:0", bedrockkit.ConverseOptions{})
	if err != nil {
		panic(err)
	}
	m := pricing.NewMeter(pricing.MeterOptions{})

	model := bedrockkit.Chain(converse, m.Middleware(), bedrockkit.RetryPolicy{}.Middleware())
	if _, err := model.Generate(context.Background(), bedrockkit.Prompt("Hi")); err != nil {
		panic(err)
	}
	e := m.Snapshot().Entries[0]
	fmt.Println(e.Model, e.Cost.Total)
	// Output: us.amazon.nova-lite-v1:0 $0.00024
}

// OnCall tells a function about every metered call, for logs or metrics
// (otelkit.NewCostMetrics exports them to OpenTelemetry).
func ExampleMeter_OnCall() {
	m := pricing.NewMeter(pricing.MeterOptions{})
	remove := m.OnCall(func(ctx context.Context, c pricing.MeteredCall) {
		fmt.Println(c.Tenant, c.Model, c.Outcome, c.Bill.Total)
	})
	defer remove()
	model := m.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(
		bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("hi"), Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 100}}}), "amazon.nova-micro-v1:0"))
	if _, err := model.Generate(pricing.WithTenant(context.Background(), "acme"), bedrockkit.Prompt("hello")); err != nil {
		panic(err)
	}
	// Output: acme amazon.nova-micro-v1:0 ok $0.000049
}

// A run budget stops an agent loop before the step that would exceed it.
func ExampleWithBudget() {
	m := pricing.NewMeter(pricing.MeterOptions{})
	step := func() bedrockkittest.Step {
		return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText("working"),
			Usage: bedrockkit.Usage{InputTokens: 1000, OutputTokens: 400}}}
	}
	model := m.Middleware()(bedrockkit.WithModelID(bedrockkittest.NewScriptedModel(step(), step(), step(), step()), "amazon.nova-pro-v1:0"))
	budget := pricing.NewBudget(pricing.ScopeRun, "run-7", pricing.MustMoney("0.006"))
	ctx := pricing.WithBudget(context.Background(), budget)
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("go")}, MaxTokens: 1000}
	for i := 1; ; i++ {
		if _, err := model.Generate(ctx, req); err != nil {
			fmt.Println("step", i, "refused:", errors.Is(err, bedrockkit.ErrBudgetExceeded))
			break
		}
		fmt.Println("step", i, "done")
	}
	st := budget.State()
	fmt.Println("spent", st.Spent, "of", st.Limit)
	// Output:
	// step 1 done
	// step 2 done
	// step 3 refused: true
	// spent $0.00416 of $0.006
}

// Any tokenizer's counting function is an Estimator, for example the chunk
// package's tokenizers: pricing.Estimator(chunk.CL100K().Count).
func ExampleEstimateRequest() {
	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("How much will this cost me?")}}
	fmt.Println(pricing.EstimateRequest(req, nil), "tokens by the default chars/4 estimate")
	words := pricing.Estimator(func(s string) int { return len(s) / 5 })
	fmt.Println(pricing.EstimateRequest(req, words), "tokens by a custom estimator")
	// Output:
	// 11 tokens by the default chars/4 estimate
	// 9 tokens by a custom estimator
}

func ExampleMoney_String() {
	fmt.Println(45*pricing.Dollar, pricing.MustMoney("0.000000035"), -pricing.Cent)
	// Output: $45.00 $0.000000035 -$0.01
}
