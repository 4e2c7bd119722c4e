package cachehit_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/internal/cachehit"
)

func Example() {
	// The tracing middleware, before calling the model:
	ctx, rec := cachehit.WithRecorder(context.Background())
	// The cache, answering from its store:
	cachehit.Mark(ctx, false, 120)
	// The tracing middleware, after the call:
	fmt.Println(rec.Hit(), rec.Shared(), rec.Saved())
	// Output: true false 120
}
