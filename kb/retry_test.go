package kb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
)

// TestSyncRetryNeverWaitsPastDeadline: embedding retries follow
// bedrockkit.RetryPolicy, which never starts a wait that would pass the
// context's deadline: a throttled call under a short deadline returns the
// throttling error after one call instead of sleeping until the deadline.
func TestSyncRetryNeverWaitsPastDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	emb := newCounting(16)
	emb.failNext.Store(1 << 30)
	k := newKB(t, kb.Options{Embedder: emb, Retry: bedrockkit.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := k.Sync(ctx, newMemSource(corpus(1)))
	if !errors.Is(err, bedrockkit.ErrThrottled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the throttling error, returned before the deadline", err)
	}
	if rep.EmbedCalls != 1 || emb.calls.Load() != 1 {
		t.Fatalf("%d embed calls reported, %d made; want 1 (no wait can fit before the deadline)", rep.EmbedCalls, emb.calls.Load())
	}
}

// TestRetrieveQueryEmbeddingRetried: the query's embedding is retried by
// Options.Retry like the documents'.
func TestRetrieveQueryEmbeddingRetried(t *testing.T) {
	emb := newCounting(16)
	k := newKB(t, kb.Options{Embedder: emb, Retry: bedrockkit.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Microsecond}})
	if _, err := k.Sync(context.Background(), newMemSource(corpus(2))); err != nil {
		t.Fatal(err)
	}
	emb.reset()
	emb.failNext.Store(2)
	if _, err := k.Retrieve(context.Background(), "card fees", kb.RetrieveOptions{SearchType: kb.Semantic}); err != nil {
		t.Fatalf("two throttled calls then success: %v", err)
	}
	if got := emb.calls.Load(); got != 3 {
		t.Fatalf("%d embed calls, want 3", got)
	}
	emb.reset()
	emb.failNext.Store(3)
	if _, err := k.Retrieve(context.Background(), "card fees", kb.RetrieveOptions{SearchType: kb.Semantic}); !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("three throttled calls with MaxAttempts 3: %v, want ErrThrottled", err)
	}
}
