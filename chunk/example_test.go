package chunk_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/chunk"
)

func ExampleFixedSize() {
	doc := chunk.ParsedDocument{
		Text:     "Chunking splits documents. Each chunk keeps its byte offsets. Citations point back to the source.",
		Metadata: map[string]any{"source": "notes.txt"},
	}
	chunks, err := chunk.FixedSize{MaxTokens: 12, OverlapPercent: 25}.Chunk(context.Background(), doc)
	if err != nil {
		panic(err)
	}
	for _, c := range chunks {
		fmt.Printf("[%d:%d] overlap=%d tokens=%d %q\n", c.Start, c.End, c.Overlap, c.Tokens, c.Text)
	}
	// Output:
	// [0:61] overlap=0 tokens=12 "Chunking splits documents. Each chunk keeps its byte offsets."
	// [62:97] overlap=14 tokens=11 "byte offsets. Citations point back to the source."
}

func ExampleRecursive_markdown() {
	doc := chunk.ParsedDocument{Text: "# Guide\n\nRead this first.\n\n## Install\n\nRun `make`.\n"}
	chunks, _ := chunk.Recursive{Markdown: true}.Chunk(context.Background(), doc)
	for _, c := range chunks {
		fmt.Printf("%v page=%d %q\n", c.Headings, c.Page, c.Text)
	}
	// Output:
	// [Guide] page=0 "# Guide\n\nRead this first."
	// [Guide Install] page=0 "## Install\n\nRun `make`."
}

func ExampleCL100K() {
	fmt.Println(chunk.CL100K().Count("Hello, world!"), chunk.O200K().Count("Hello, world!"))
	// Output: 4 4
}
