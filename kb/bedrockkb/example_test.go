package bedrockkb_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/bedrockkb"
)

func Example() {
	// A fake Bedrock Agent Runtime stands in for AWS here; with AWS, pass
	// bedrockagentruntime.NewFromConfig(cfg) instead of fake.Client().
	fake := bedrockkittest.StartFakeAgentRuntime()
	defer fake.Close()
	fake.AddChunks("KB12345678",
		bedrockkittest.KBChunk{Text: "Card fees are waived for students.", Location: "s3://docs/fees.md", Metadata: map[string]any{"type": "faq"}},
		bedrockkittest.KBChunk{Text: "Card fees changed in 2024.", Location: "s3://docs/news.md", Metadata: map[string]any{"type": "news"}},
	)
	r, err := bedrockkb.New(fake.Client(), "KB12345678")
	if err != nil {
		panic(err)
	}
	faq := kb.Equals("type", "faq")
	res, err := r.Query(context.Background(), bedrockkb.QueryRequest{Query: "card fees", NumberOfResults: 3, Filter: faq})
	if err != nil {
		panic(err)
	}
	for _, x := range res {
		fmt.Printf("%.2f %s %s: %s\n", x.Score, x.Location.Type, x.Location.URI, x.Text)
	}
	// Output:
	// 1.00 S3 s3://docs/fees.md: Card fees are waived for students.
}

func ExampleTranslateFilter() {
	f, err := bedrockkb.TranslateFilter(kb.AndAll(kb.Equals("type", "faq"), kb.GreaterThan("year", 2020)))
	fmt.Printf("%T %v\n", f, err)
	// Output:
	// *types.RetrievalFilterMemberAndAll <nil>
}
