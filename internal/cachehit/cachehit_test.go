package cachehit_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/bedrockkit/bedrockkit/internal/cachehit"
)

func TestMark(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("t")

	cachehit.Mark(context.Background(), true, 5) // no recorder: no effect, no panic

	ctx, span := tr.Start(context.Background(), "chat")
	defer span.End()
	ctx, r := cachehit.WithRecorder(ctx)
	if r.Hit() {
		t.Fatal("hit before any mark")
	}

	// A nested span's hit is not this call's.
	nested, inner := tr.Start(ctx, "nested")
	cachehit.Mark(nested, false, 1)
	inner.End()
	// Nor is a hit below a cache, which detaches the recorder.
	cachehit.Mark(cachehit.Detach(ctx), false, 1)
	if r.Hit() {
		t.Fatal("a nested or detached mark reached the recorder")
	}

	cachehit.Mark(ctx, false, 7)
	if !r.Hit() || r.Shared() || r.Saved() != 7 {
		t.Fatalf("hit %v shared %v saved %d", r.Hit(), r.Shared(), r.Saved())
	}
	cachehit.Mark(ctx, true, 3)
	if !r.Shared() || r.Saved() != 10 {
		t.Fatalf("shared %v saved %d", r.Shared(), r.Saved())
	}
	if cachehit.Detach(context.Background()) != context.Background() {
		t.Fatal("Detach of a context without recorder made a new context")
	}
}
