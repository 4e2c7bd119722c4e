package langchaingo

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/tmc/langchaingo/embeddings"

	"github.com/bedrockkit/bedrockkit"
)

// FromEmbedder returns a bedrockkit.Embedder that calls e: documents go
// through EmbedDocuments in one call, queries through EmbedQuery one text
// at a time (langchaingo's asymmetric hook). dims is the vector size; 0
// means "learn it from the first successful call" (Dimensions returns 0
// until then). Every call checks that one vector per text of the expected
// size came back; a mismatch fails with an error wrapping
// bedrockkit.ErrModelError.
func FromEmbedder(e embeddings.Embedder, dims int) bedrockkit.Embedder {
	fe := &fromEmbedder{e: e}
	fe.dims.Store(int64(dims))
	return fe
}

type fromEmbedder struct {
	e    embeddings.Embedder
	dims atomic.Int64
}

func (f *fromEmbedder) Dimensions() int { return int(f.dims.Load()) }

func (f *fromEmbedder) Embed(ctx context.Context, texts []string, purpose bedrockkit.Purpose) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var vecs [][]float32
	if purpose == bedrockkit.PurposeQuery {
		vecs = make([][]float32, len(texts))
		for i, t := range texts {
			v, err := f.e.EmbedQuery(ctx, t)
			if err != nil {
				return nil, classify(err)
			}
			vecs[i] = v
		}
	} else {
		var err error
		vecs, err = f.e.EmbedDocuments(ctx, texts)
		if err != nil {
			return nil, classify(err)
		}
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("langchaingo: the embedder returned %d vectors for %d texts: %w", len(vecs), len(texts), bedrockkit.ErrModelError)
	}
	want := int(f.dims.Load())
	for i, v := range vecs {
		if want == 0 {
			want = len(v)
			f.dims.CompareAndSwap(0, int64(want))
			want = int(f.dims.Load())
		}
		if len(v) != want || want == 0 {
			return nil, fmt.Errorf("langchaingo: the embedder returned a vector of %d dimensions for text %d, want %d; pass the model's size to FromEmbedder: %w", len(v), i, want, bedrockkit.ErrModelError)
		}
	}
	return vecs, nil
}

// ToEmbedder returns a bedrockkit.Embedder as a langchaingo
// embeddings.Embedder: EmbedDocuments uses PurposeDocument, EmbedQuery
// PurposeQuery.
func ToEmbedder(e bedrockkit.Embedder) embeddings.Embedder { return toEmbedder{e} }

type toEmbedder struct{ e bedrockkit.Embedder }

func (t toEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return t.e.Embed(ctx, texts, bedrockkit.PurposeDocument)
}

func (t toEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := t.e.Embed(ctx, []string{text}, bedrockkit.PurposeQuery)
	if err != nil {
		return nil, err
	}
	if len(v) != 1 {
		return nil, fmt.Errorf("langchaingo: embedder returned %d vectors for one query: %w", len(v), bedrockkit.ErrModelError)
	}
	return v[0], nil
}
