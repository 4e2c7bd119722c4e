package agent

import (
	"context"

	"github.com/bedrockkit/bedrockkit/kb"
)

// FromKnowledgeBase returns a Retriever that searches k, for use as
// KnowledgeBaseTool.Retriever. opts (the zero value for the defaults:
// hybrid search in the default partition) fixes the partition, search type,
// filter and reranker; the n each search asks for replaces
// opts.NumberOfResults. Build one Retriever per tenant when k requires
// partitions.
func FromKnowledgeBase(k *kb.KnowledgeBase, opts kb.RetrieveOptions) Retriever {
	return RetrieverFunc(func(ctx context.Context, query string, n int) ([]Passage, error) {
		o := opts
		if n > 0 {
			o.NumberOfResults = n
		}
		results, err := k.Retrieve(ctx, query, o)
		if err != nil {
			return nil, err
		}
		out := make([]Passage, len(results))
		for i, r := range results {
			out[i] = Passage{Text: r.Text, Source: r.DocumentID, Score: r.Score}
		}
		return out, nil
	})
}
