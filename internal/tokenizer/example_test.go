package tokenizer_test

import (
	"fmt"

	"github.com/bedrockkit/bedrockkit/internal/tokenizer"
)

func ExampleEncoding_Encode() {
	enc := tokenizer.CL100K()
	ids := enc.Encode(nil, "Hello, world!")
	fmt.Println(ids, enc.Count("Hello, world!"), enc.Decode(ids))
	// Output: [9906 11 1917 0] 4 Hello, world!
}
