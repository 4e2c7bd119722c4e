package langchaingo

import (
	"context"
	"maps"

	"github.com/tmc/langchaingo/schema"

	"github.com/bedrockkit/bedrockkit/kb"
)

// Searcher is what NewRetriever needs: *kb.KnowledgeBase and kb/bedrockkb's
// remote knowledge base both have this method.
type Searcher interface {
	Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error)
}

// Metadata keys NewRetriever adds to each document, next to the chunk's own
// metadata.
const (
	MetaID          = "id"
	MetaDocumentID  = "document_id"
	MetaLocation    = "location_uri"
	MetaLocationTyp = "location_type"
	MetaScore       = "score"
)

// Retriever is a knowledge base seen as a langchaingo schema.Retriever, for
// langchaingo's retrieval chains (chains.NewRetrievalQAFromLLM, ...).
type Retriever struct {
	kb   Searcher
	opts kb.RetrieveOptions
}

var _ schema.Retriever = (*Retriever)(nil)

// NewRetriever returns a Retriever searching k with opts on every query (the
// zero value means 5 hybrid results from the default partition; set
// Partition for a knowledge base that requires one).
func NewRetriever(k Searcher, opts kb.RetrieveOptions) *Retriever {
	return &Retriever{kb: k, opts: opts}
}

// GetRelevantDocuments retrieves the chunks most relevant to query, best
// first. Each document holds the chunk text, its metadata plus the keys
// MetaID, MetaDocumentID, MetaLocation, MetaLocationTyp and MetaScore, and
// the score. Errors are the knowledge base's (errors.Is works on them).
func (r *Retriever) GetRelevantDocuments(ctx context.Context, query string) ([]schema.Document, error) {
	res, err := r.kb.Retrieve(ctx, query, r.opts)
	if err != nil {
		return nil, err
	}
	docs := make([]schema.Document, len(res))
	for i, x := range res {
		md := make(map[string]any, len(x.Metadata)+5)
		maps.Copy(md, x.Metadata)
		md[MetaID] = x.ID
		md[MetaDocumentID] = x.DocumentID
		md[MetaLocation] = x.Location.URI
		md[MetaLocationTyp] = x.Location.Type
		md[MetaScore] = x.Score
		docs[i] = schema.Document{PageContent: x.Text, Metadata: md, Score: float32(x.Score)}
	}
	return docs, nil
}
