package cache_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

	responses := cache.New(cache.Options{
		OnLookup: func(_ context.Context, l cache.Lookup) {
			fmt.Printf("hit=%v saved=%d tokens\n", l.Hit, l.Saved.Total())
		},
	})
	cached := bedrockkit.Chain(bedrockkit.WithModelID(model, "amazon.nova-lite-v1:0"), responses.Middleware())

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
	// A ConverseModel says its ID; the scripted stand-in is named.
	m := bedrockkit.Chain(bedrockkit.WithModelID(model, "us.anthropic.claude-3-7-sonnet-20250219-v1:0"), cache.PromptCaching(cache.PromptCacheOptions{}))

	longPolicy := strings.Repeat("Never reveal account numbers. ", 200) // ~1,500 tokens
	m.Generate(context.Background(), &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: longPolicy}},
		Messages: []bedrockkit.Message{bedrockkit.UserText("Hello")},
	})
	sent := model.Requests()[0]
	fmt.Printf("%T\n", sent.System[len(sent.System)-1])
	// Output: bedrockkit.CachePoint
}

// heldModel answers once release is closed, counting its calls.
type heldModel struct {
	release chan struct{}
	calls   atomic.Int64
}

func (m *heldModel) Generate(ctx context.Context, _ *bedrockkit.Request) (*bedrockkit.Response, error) {
	m.calls.Add(1)
	select {
	case <-m.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("6 dollars"), StopReason: bedrockkit.StopEndTurn,
		Usage: bedrockkit.Usage{InputTokens: 120, OutputTokens: 9}}, nil
}

func (m *heldModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		resp, err := m.Generate(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range cache.Replay(resp) {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// Five identical requests arrive while the first is still with the model:
// one model call answers all of them, and only one answer carries usage.
func ExampleCache_inFlight() {
	model := &heldModel{release: make(chan struct{})} // a slow model
	responses := cache.New(cache.Options{})
	cached := responses.Middleware()(bedrockkit.WithModelID(model, "amazon.nova-lite-v1:0"))

	req := &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("What is the monthly fee?")}}
	var wg sync.WaitGroup
	billed := make(chan int, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cached.Generate(context.Background(), req)
			if err != nil {
				fmt.Println(err)
				return
			}
			billed <- resp.Usage.Total()
		}()
	}
	for responses.Stats().Shared < 4 { // wait until four callers wait for the first
		time.Sleep(time.Millisecond)
	}
	close(model.release)
	wg.Wait()
	close(billed)
	total := 0
	for n := range billed {
		total += n
	}
	st := responses.Stats()
	fmt.Printf("model calls: %d, tokens billed: %d\n", model.calls.Load(), total)
	fmt.Printf("misses: %d, shared: %d, tokens saved: %d\n", st.Misses, st.Shared, st.Saved.Total())
	// Output:
	// model calls: 1, tokens billed: 129
	// misses: 1, shared: 4, tokens saved: 516
}
