package kb_test

import (
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit/kb"
)

// A filter built in Go marshals to Bedrock's RetrievalFilter JSON, and the
// same JSON parses back.
func ExampleFilter() {
	f := kb.AndAll(
		kb.Equals("type", "faq"),
		kb.GreaterThanOrEquals("year", 2023),
		kb.ListContains("tags", "cards"),
	)
	b, _ := json.Marshal(f)
	fmt.Println(string(b))

	var g kb.Filter
	_ = json.Unmarshal(b, &g)
	fmt.Println(g.Match(map[string]any{"type": "faq", "year": 2024.0, "tags": []any{"cards"}}))
	fmt.Println(g.Match(map[string]any{"type": "faq", "year": 2022.0, "tags": []any{"cards"}}))
	// Output:
	// {"andAll":[{"equals":{"key":"type","value":"faq"}},{"greaterThanOrEquals":{"key":"year","value":2023}},{"listContains":{"key":"tags","value":"cards"}}]}
	// true
	// false
}
