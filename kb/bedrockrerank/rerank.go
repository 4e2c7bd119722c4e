package bedrockrerank

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
)

// API is the part of *bedrockagentruntime.Client the Reranker calls.
type API interface {
	Rerank(ctx context.Context, in *bedrockagentruntime.RerankInput, optFns ...func(*bedrockagentruntime.Options)) (*bedrockagentruntime.RerankOutput, error)
}

// Options configures a Reranker.
type Options struct {
	// ModelARN is the reranking model's ARN, such as
	// "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0" or
	// "...::foundation-model/cohere.rerank-v3-5:0". Required.
	ModelARN string
	// AdditionalModelRequestFields are passed to the model as is.
	AdditionalModelRequestFields map[string]any
}

// Reranker calls Bedrock's Rerank API. It implements kb.Reranker and is safe
// for concurrent use.
type Reranker struct {
	client API
	opts   Options
}

var _ kb.Reranker = (*Reranker)(nil)

// New returns a Reranker over client (usually a
// *bedrockagentruntime.Client). It fails, wrapping
// bedrockkit.ErrInvalidInput, for a nil client or an empty ModelARN.
func New(client API, opts Options) (*Reranker, error) {
	if client == nil {
		return nil, fmt.Errorf("bedrockrerank: client is nil; pass bedrockagentruntime.NewFromConfig(cfg): %w", bedrockkit.ErrInvalidInput)
	}
	if opts.ModelARN == "" {
		return nil, fmt.Errorf("bedrockrerank: Options.ModelARN is empty; name a reranking model such as arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0: %w", bedrockkit.ErrInvalidInput)
	}
	return &Reranker{client: client, opts: opts}, nil
}

// Rerank returns the model's relevance score for each text, in order.
// Texts the service does not score (it returns only the requested number of
// results, here all of them) get -1, below any relevance score.
func (r *Reranker) Rerank(ctx context.Context, query string, texts []string) ([]float64, error) {
	scores := make([]float64, len(texts))
	for i := range scores {
		scores[i] = -1
	}
	if len(texts) == 0 {
		return scores, nil
	}
	sources := make([]types.RerankSource, len(texts))
	for i, t := range texts {
		sources[i] = types.RerankSource{
			Type: types.RerankSourceTypeInline,
			InlineDocumentSource: &types.RerankDocument{
				Type:         types.RerankDocumentTypeText,
				TextDocument: &types.RerankTextDocument{Text: aws.String(t)},
			},
		}
	}
	model := &types.BedrockRerankingModelConfiguration{ModelArn: aws.String(r.opts.ModelARN)}
	if len(r.opts.AdditionalModelRequestFields) > 0 {
		model.AdditionalModelRequestFields = map[string]document.Interface{}
		for k, v := range r.opts.AdditionalModelRequestFields {
			model.AdditionalModelRequestFields[k] = document.NewLazyDocument(v)
		}
	}
	in := &bedrockagentruntime.RerankInput{
		Queries: []types.RerankQuery{{Type: types.RerankQueryContentTypeText, TextQuery: &types.RerankTextDocument{Text: aws.String(query)}}},
		Sources: sources,
		RerankingConfiguration: &types.RerankingConfiguration{
			Type: types.RerankingConfigurationTypeBedrockRerankingModel,
			BedrockRerankingConfiguration: &types.BedrockRerankingConfiguration{
				ModelConfiguration: model,
				NumberOfResults:    aws.Int32(int32(len(texts))),
			},
		},
	}
	for {
		out, err := r.client.Rerank(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("bedrockrerank: Rerank with %s: %w", r.opts.ModelARN, err)
		}
		for _, res := range out.Results {
			if res.Index == nil || res.RelevanceScore == nil {
				continue
			}
			i := int(*res.Index)
			if i < 0 || i >= len(texts) {
				return nil, fmt.Errorf("bedrockrerank: the service returned index %d for %d sources: %w", i, len(texts), bedrockkit.ErrInvalidInput)
			}
			scores[i] = float64(*res.RelevanceScore)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return scores, nil
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
}
