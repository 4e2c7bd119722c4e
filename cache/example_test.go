package cache_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
)

func ExampleCache() {
	ctx := context.Background()
	model := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("The monthly fee is 6 dollars."),
		Usage:   bedrockkit.Usage{InputTokens: 120, OutputTokens: 9},
	}}) // or a Bedrock Converse model

	responses := cache.New(cache.Config{
		OnLookup: func(_ context.Context, l cache.Lookup) {
			fmt.Printf("hit=%v saved=%d tokens\n", l.Hit, l.Saved.Total())
		},
	})
	cached := bedrockkit.Chain(model, responses.Middleware("amazon.nova-lite-v1:0"))

	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What is the monthly fee?")}}
	for range 2 {
		resp, err := cached.Generate(ctx, req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s (billed: %d tokens)\n", resp.Message.Text(), resp.Usage.Total())
	}
	fmt.Printf("%+v\n", responses.Stats().Saved)
	// Output:
	// hit=false saved=0 tokens
	// The monthly fee is 6 dollars. (billed: 129 tokens)
	// hit=true saved=129 tokens
	// The monthly fee is 6 dollars. (billed: 0 tokens)
	// {InputTokens:120 OutputTokens:9 CacheReadTokens:0 CacheWriteTokens:0 Estimated:false}
}

func ExamplePromptCaching() {
	model := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("ok"))
	m := bedrockkit.Chain(model, cache.PromptCaching("us.anthropic.claude-3-7-sonnet-20250219-v1:0", cache.PromptCacheConfig{}))

	longPolicy := strings.Repeat("Never reveal account numbers. ", 200) // ~1,500 tokens
	m.Generate(context.Background(), &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: longPolicy}},
		Messages: []bedrockkit.Message{bedrockkit.UserText("Hello")},
	})
	sent := model.Requests()[0]
	fmt.Printf("%T\n", sent.System[len(sent.System)-1])
	// Output: bedrockkit.CachePoint
}
