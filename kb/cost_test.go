package kb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
)

// usageEmbedder reports 7 tokens per text, as Bedrock's embedders report
// their own counts.
type usageEmbedder struct {
	*bedrockkittest.HashEmbedder
}

func (usageEmbedder) ModelID() string { return "amazon.titan-embed-text-v2:0" }

func (e usageEmbedder) EmbedWithUsage(ctx context.Context, texts []string, p bedrockkit.Purpose) ([][]float32, bedrockkit.Usage, error) {
	v, err := e.HashEmbedder.Embed(ctx, texts, p)
	return v, bedrockkit.Usage{InputTokens: 7 * len(texts)}, err
}

// TestSyncReportsEmbeddedTokens: a Sync reports the tokens it embedded,
// from the embedder when it reports them and estimated otherwise, with the
// model to price them.
func TestSyncReportsEmbeddedTokens(t *testing.T) {
	ctx := context.Background()
	k := newKB(t, kb.Options{Embedder: usageEmbedder{bedrockkittest.NewHashEmbedder(32)}})
	rep, err := k.Sync(ctx, bankSource())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chunks == 0 || rep.EmbeddedTokens != 7*rep.Chunks || rep.EmbeddedTokensEstimated || rep.EmbeddingModel != "amazon.titan-embed-text-v2:0" {
		t.Fatalf("reported usage: %+v; want 7 tokens for each of the %d chunks, not estimated, with the model ID", rep, rep.Chunks)
	}
	// An unchanged folder embeds nothing.
	if rep, err = k.Sync(ctx, bankSource()); err != nil || rep.EmbeddedTokens != 0 {
		t.Fatalf("second sync: %+v, %v", rep, err)
	}

	// An embedder that reports nothing: estimated from the chunks' text.
	store := openIndex(t, localindex.Options{})
	k = newKB(t, kb.Options{Store: store, EmbedderID: "cohere.embed-english-v3"})
	if rep, err = k.Sync(ctx, bankSource()); err != nil {
		t.Fatal(err)
	}
	want := 0
	for id, r := range dump(t, store, "") {
		if id != "bedrockkit:kb-config" {
			want += (len(r.Text) + 3) / 4
		}
	}
	if want == 0 || rep.EmbeddedTokens != want || !rep.EmbeddedTokensEstimated || rep.EmbeddingModel != "cohere.embed-english-v3" {
		t.Fatalf("estimated usage: %+v; want %d estimated tokens", rep, want)
	}

	// Keyword only: nothing embedded, no model.
	k = keywordKB(t, openIndex(t, localindex.Options{}), kb.Options{})
	if rep, err = k.Sync(ctx, bankSource()); err != nil || rep.EmbeddedTokens != 0 || rep.EmbeddingModel != "" {
		t.Fatalf("keyword-only sync: %+v, %v", rep, err)
	}
}

// sizedStore reports a fixed size.
type sizedStore struct {
	kbstore.Store
	size kbstore.StoreSize
}

func (s sizedStore) Size(context.Context) (kbstore.StoreSize, error) { return s.size, nil }

// hiddenStore hides every method but the Store interface's.
type hiddenStore struct{ kbstore.Store }

func TestStoreSize(t *testing.T) {
	ctx := context.Background()
	want := kbstore.StoreSize{Records: 10, Vectors: 8, Dimensions: 32, TextBytes: 2000, Bytes: 4096}
	k := keywordKB(t, sizedStore{openIndex(t, localindex.Options{}), want}, kb.Options{})
	if got, err := k.StoreSize(ctx); err != nil || got != want {
		t.Fatalf("StoreSize = %+v, %v; want %+v", got, err, want)
	}
	k = keywordKB(t, hiddenStore{openIndex(t, localindex.Options{})}, kb.Options{})
	if _, err := k.StoreSize(ctx); !errors.Is(err, bedrockkit.ErrUnsupported) {
		t.Fatalf("StoreSize of a store that cannot tell: %v, want ErrUnsupported", err)
	}
}
