package longmemory_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
	"github.com/bedrockkit/bedrockkit/agent/longmemory"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// An assistant that remembers a customer from one session to the next.
// Scripted models stand in for Bedrock: the extraction model answers with
// the structured memories a real model would extract.
func Example() {
	index, _ := localindex.Open(localindex.Options{Dimensions: 256}) // add Dir to keep memory on disk
	defer index.Close()
	backend := longmemory.NewKBBackend(index, bedrockkittest.NewHashEmbedder(256), longmemory.KBOptions{})

	extractor := bedrockkittest.NewScriptedModel(
		bedrockkittest.TextStep(`{"memories":[{"action":"add","topic":"home city","text":"The user lives in Porto."}]}`),
		bedrockkittest.TextStep(`{"memories":[{"action":"add","topic":"reply language","text":"The user prefers replies in French."}]}`),
	)
	keeper := longmemory.New(backend, longmemory.Options{Model: extractor,
		Strategies: []longmemory.Strategy{longmemory.Facts(), longmemory.Preferences()}})
	defer keeper.Close()

	chat := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("Noted!"), bedrockkittest.TextStep("Il fait beau à Porto."))
	assistant := &agent.Agent{Model: chat, LongTerm: keeper}

	// The application names the customer (or serve callers through
	// agent/identity, whose verified caller is used instead).
	ctx := longmemory.WithActor(context.Background(), "customer-1001")
	if _, err := assistant.Run(ctx, "monday", "I live in Porto, and please answer in French."); err != nil {
		panic(err)
	}
	keeper.Flush(ctx) // extraction runs in the background; wait for it here

	res, err := assistant.Run(ctx, "friday", "What's the weather like at home?")
	if err != nil {
		panic(err)
	}
	reqs := chat.Requests()
	note := reqs[len(reqs)-1].Messages[0].Parts[0].(bedrockkit.Text).Text
	for _, line := range strings.Split(note, "\n") {
		if strings.HasPrefix(line, "- ") {
			fmt.Println(line)
		}
	}
	fmt.Println(res.Output)
	// Output:
	// - [facts] The user lives in Porto.
	// - [preferences] The user prefers replies in French.
	// Il fait beau à Porto.
}
