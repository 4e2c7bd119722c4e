package bedrockkittest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
)

func ExampleFakeBedrock() {
	// In a test, use bedrockkittest.NewFakeBedrock(t), which closes it for you.
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	client := fake.Client() // a real *bedrockruntime.Client

	fake.Enqueue(bedrockkittest.OpConverse,
		bedrockkittest.Reply{Fault: &bedrockkittest.Fault{Code: "ThrottlingException", Message: "Too many requests"}},
		bedrockkittest.Reply{Message: bedrockkit.AssistantText("Hello from the fake."), Usage: bedrockkit.Usage{InputTokens: 5, OutputTokens: 4}},
	)
	in := &bedrockruntime.ConverseInput{
		ModelId:  aws.String("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
		Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hi"}}}},
	}
	_, err := client.Converse(context.Background(), in)
	var throttled *types.ThrottlingException
	fmt.Println("first call throttled:", errors.As(err, &throttled))

	out, err := client.Converse(context.Background(), in)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	fmt.Println(msg.Content[0].(*types.ContentBlockMemberText).Value, out.StopReason, *out.Usage.TotalTokens)
	fmt.Println("calls:", fake.Calls(bedrockkittest.OpConverse))
	// Output:
	// first call throttled: true
	// Hello from the fake. end_turn 9
	// calls: 2
}

func ExampleFakeBedrock_stream() {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	fake.Enqueue(bedrockkittest.OpConverseStream, bedrockkittest.Reply{
		Message:   bedrockkit.AssistantText("partial answer"),
		ChunkSize: 8,
		// After messageStart and one text delta, the service throttles mid-stream.
		Interrupt: &bedrockkittest.Interrupt{AfterEvents: 2, Fault: &bedrockkittest.Fault{Code: "ThrottlingException"}},
	})
	out, err := fake.Client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{
		ModelId:  aws.String("amazon.nova-lite-v1:0"),
		Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hi"}}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		if d, ok := ev.(*types.ConverseStreamOutputMemberContentBlockDelta); ok {
			fmt.Printf("delta %q\n", d.Value.Delta.(*types.ContentBlockDeltaMemberText).Value)
		}
	}
	var throttled *types.ThrottlingException
	fmt.Println("stream.Err() is throttling:", errors.As(stream.Err(), &throttled))
	// Output:
	// delta "partial "
	// stream.Err() is throttling: true
}

func ExampleFakeBedrock_embeddings() {
	fake := bedrockkittest.StartFakeBedrock()
	defer fake.Close()
	// Embedding models answer without a script, validating requests like Bedrock.
	_, err := fake.Client().InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{
		ModelId: aws.String("cohere.embed-english-v3"),
		Body:    []byte(`{"texts":["hello"]}`),
	})
	fmt.Println(err != nil)
	var invalid *types.ValidationException
	if errors.As(err, &invalid) {
		fmt.Println(invalid.ErrorMessage())
	}
	// Output:
	// true
	// Malformed input request: #: required key [input_type] not found, please reformat your input and try again.
}
