package costsession_test

import (
	"context"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit/internal/costsession"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInnerWins(t *testing.T) {
	ctx := context.Background()
	if got := costsession.From(ctx); got != "" {
		t.Fatalf("empty context: %q", got)
	}
	outer := costsession.With(ctx, "a")
	inner := costsession.With(outer, "b")
	if costsession.From(outer) != "a" || costsession.From(inner) != "b" {
		t.Fatalf("outer %q, inner %q", costsession.From(outer), costsession.From(inner))
	}
}

func Example() {
	ctx := costsession.With(context.Background(), "conversation-42")
	fmt.Println(costsession.From(ctx))
	// Output: conversation-42
}
