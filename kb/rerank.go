package kb

import (
	"context"
	"fmt"
	"sort"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Reranker scores passages by their relevance to a query, like Bedrock's
// Rerank API. Retrieve reorders its candidates by these scores.
type Reranker interface {
	// Rerank returns one score per text, in order; higher is more relevant.
	Rerank(ctx context.Context, query string, texts []string) ([]float64, error)
}

// RerankerFunc adapts a function to the Reranker interface.
type RerankerFunc func(ctx context.Context, query string, texts []string) ([]float64, error)

// Rerank calls f.
func (f RerankerFunc) Rerank(ctx context.Context, query string, texts []string) ([]float64, error) {
	return f(ctx, query, texts)
}

func rerank(ctx context.Context, rr Reranker, query string, hits []kbstore.Hit) ([]kbstore.Hit, error) {
	texts := make([]string, len(hits))
	for i, h := range hits {
		texts[i] = h.Text
	}
	scores, err := rr.Rerank(ctx, query, texts)
	if err != nil {
		return nil, fmt.Errorf("kb: rerank: %w", err)
	}
	if len(scores) != len(hits) {
		return nil, fmt.Errorf("kb: the reranker returned %d scores for %d passages: %w", len(scores), len(hits), bedrockkit.ErrInvalidInput)
	}
	out := make([]kbstore.Hit, len(hits))
	for i, h := range hits {
		h.Score = scores[i]
		out[i] = h
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out, nil
}
