package bedrockrerank_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/kb/bedrockrerank"
)

func ExampleNew() {
	// In production: client := bedrockagentruntime.NewFromConfig(cfg).
	client := &stub{}
	rr, err := bedrockrerank.New(client, bedrockrerank.Options{
		ModelARN: "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	scores, _ := rr.Rerank(context.Background(), "refund", []string{"fees", "refund in 5 days"})
	fmt.Printf("%.1f %.1f\n", scores[0], scores[1])
	// Output: 0.1 0.9
}
