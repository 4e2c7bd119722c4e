package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/batch"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

// Run answers a JSONL file of records in order; the results file has
// Bedrock's batch output format, and the summary prices the usage on
// demand and at batch rates.
func Example() {
	dir, _ := os.MkdirTemp("", "batch-example")
	defer os.RemoveAll(dir)
	var input strings.Builder
	for i, q := range []string{"What does a wire cost?", "How do I dispute a charge?"} {
		rec, err := batch.NewRecord(fmt.Sprintf("Q%d", i+1), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(q)}, MaxTokens: 200})
		if err != nil {
			panic(err)
		}
		line, _ := json.Marshal(rec)
		input.Write(line)
		input.WriteByte('\n')
	}
	reply := func(text string) bedrockkittest.Step {
		return bedrockkittest.Step{Response: &bedrockkit.Response{Message: bedrockkit.AssistantText(text),
			Usage: bedrockkit.Usage{InputTokens: 1_000_000, OutputTokens: 250_000}}}
	}
	model := bedrockkittest.NewScriptedModel(reply("$25 domestic."), reply("Within 60 days, in the app."))
	out := filepath.Join(dir, "results.jsonl")
	sum, err := batch.Run(context.Background(), model, strings.NewReader(input.String()), out,
		batch.Options{Concurrency: 1, ModelID: "us.amazon.nova-lite-v1:0"})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Succeeded, "answered; on demand", sum.OnDemand.Cost, "as a batch job", sum.Batch.Cost)
	// Output: 2 answered; on demand $0.24 as a batch job $0.12
}
