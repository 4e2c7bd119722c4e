package cachehit_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

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

// TestMarkNoopTracer: with a no-op tracer every span context is invalid and
// equal, yet a mark under a nested span must still not reach the recorder.
func TestMarkNoopTracer(t *testing.T) {
	tr := noop.NewTracerProvider().Tracer("t")
	ctx, span := tr.Start(context.Background(), "chat")
	defer span.End()
	ctx, r := cachehit.WithRecorder(ctx)

	nested, inner := tr.Start(ctx, "nested")
	cachehit.Mark(nested, false, 1)
	inner.End()
	cachehit.Mark(cachehit.Detach(ctx), false, 1)
	if r.Hit() {
		t.Fatal("a nested or detached mark reached the recorder")
	}
	cachehit.Mark(context.WithValue(ctx, struct{}{}, 1), true, 4) // values added below: same call
	if !r.Hit() || !r.Shared() || r.Saved() != 4 {
		t.Fatalf("hit %v shared %v saved %d", r.Hit(), r.Shared(), r.Saved())
	}
	// Another recorder under the same (no-op) span is a different call.
	ctx2, r2 := cachehit.WithRecorder(nested)
	cachehit.Mark(ctx, false, 1)
	if r2.Hit() || r.Saved() != 5 {
		t.Fatalf("r2 hit %v, r saved %d", r2.Hit(), r.Saved())
	}
	cachehit.Mark(ctx2, false, 2)
	if !r2.Hit() || r.Saved() != 5 {
		t.Fatalf("r2 hit %v, r saved %d", r2.Hit(), r.Saved())
	}
}
