package bedrockkb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"
	"github.com/aws/smithy-go"
	smithydocument "github.com/aws/smithy-go/document"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/kbstore"
)

// Client is the part of *bedrockagentruntime.Client the retriever uses.
type Client interface {
	Retrieve(ctx context.Context, in *bedrockagentruntime.RetrieveInput, optFns ...func(*bedrockagentruntime.Options)) (*bedrockagentruntime.RetrieveOutput, error)
}

var _ Client = (*bedrockagentruntime.Client)(nil)

// Reranking asks Bedrock to rerank the results with a reranker model.
type Reranking struct {
	// ModelARN is the reranker model's ARN, such as
	// arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0. Required.
	ModelARN string
	// NumberOfResults is how many reranked results to return (1..100);
	// 0 leaves it to Bedrock.
	NumberOfResults int
	// IncludeFields, when set, are the only metadata fields the reranker
	// sees; ExcludeFields, when set, are hidden from it. Set at most one;
	// with neither, it sees all metadata.
	IncludeFields []string
	ExcludeFields []string
	// AdditionalModelRequestFields are passed to the reranker model as is.
	AdditionalModelRequestFields map[string]any
}

// QueryRequest is one retrieval.
type QueryRequest struct {
	// Query is the text to search for. Required.
	Query string
	// NumberOfResults is how many results to return, 1..100 (default 5).
	// Retrieve follows nextToken until it has them or Bedrock has no more.
	NumberOfResults int
	// SearchType overrides the knowledge base's search type: kb.Semantic
	// or kb.Hybrid (only vector stores with a filterable text field, such
	// as OpenSearch Serverless, support it); "" lets Bedrock choose.
	// Bedrock offers no keyword-only search.
	SearchType kb.SearchType
	// Filter restricts the results by metadata; the zero Filter means no
	// filter.
	Filter kbstore.Filter
	// Reranking, when set, reranks the results with a Bedrock reranker model.
	Reranking *Reranking
}

// RetrievedChunk is one retrieved chunk.
type RetrievedChunk struct {
	// Text is the chunk's text.
	Text string
	// Score is Bedrock's relevance score (higher is more relevant).
	Score float64
	// Location is where the chunk's document is.
	Location kb.Location
	// Metadata are the chunk's attributes, including Bedrock's
	// x-amz-bedrock-kb-* keys: string, bool, float64, []any or map[string]any.
	Metadata map[string]any
}

// Retriever retrieves from one existing Amazon Bedrock Knowledge Base. It
// is read-only and safe for concurrent use.
type Retriever struct {
	client Client
	id     string
}

// New returns a Retriever for the knowledge base with ID knowledgeBaseID
// (the 10-character ID, not its name) through client, usually a
// *bedrockagentruntime.Client. Retries are the client's (its Retryer).
func New(client Client, knowledgeBaseID string) (*Retriever, error) {
	if client == nil {
		return nil, fmt.Errorf("bedrockkb: New needs a client (bedrockagentruntime.NewFromConfig(cfg)): %w", bedrockkit.ErrInvalidInput)
	}
	if c, ok := client.(*bedrockagentruntime.Client); ok && c == nil {
		return nil, fmt.Errorf("bedrockkb: New got a nil *bedrockagentruntime.Client: %w", bedrockkit.ErrInvalidInput)
	}
	if strings.TrimSpace(knowledgeBaseID) == "" {
		return nil, fmt.Errorf("bedrockkb: knowledge base ID is empty; pass the ID shown by `aws bedrock-agent list-knowledge-bases`: %w", bedrockkit.ErrInvalidInput)
	}
	return &Retriever{client: client, id: knowledgeBaseID}, nil
}

// KnowledgeBaseID returns the ID the retriever reads from.
func (r *Retriever) KnowledgeBaseID() string { return r.id }

// Query runs req and returns up to req.NumberOfResults results, best
// first, following nextToken across pages. It exposes every Bedrock option;
// Retrieve is the same call shaped like kb.KnowledgeBase.Retrieve.
func (r *Retriever) Query(ctx context.Context, req QueryRequest) ([]RetrievedChunk, error) {
	want := req.NumberOfResults
	if want == 0 {
		want = 5
	}
	var out []RetrievedChunk
	token := ""
	for {
		page, next, err := r.QueryPage(ctx, req, token)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" || len(out) >= want {
			break
		}
		if next == token {
			return nil, fmt.Errorf("bedrockkb: Retrieve returned the same nextToken twice; stopping: %w", bedrockkit.ErrInternal)
		}
		token = next
	}
	if len(out) > want {
		out = out[:want]
	}
	return out, nil
}

// QueryPage runs one Retrieve call with the given nextToken ("" for the
// first page) and returns its results and the next token ("" when done).
func (r *Retriever) QueryPage(ctx context.Context, req QueryRequest, nextToken string) ([]RetrievedChunk, string, error) {
	in, err := r.input(req)
	if err != nil {
		return nil, "", err
	}
	if nextToken != "" {
		in.NextToken = aws.String(nextToken)
	}
	outp, err := r.client.Retrieve(ctx, in)
	if err != nil {
		return nil, "", classify(err)
	}
	res := make([]RetrievedChunk, 0, len(outp.RetrievalResults))
	for _, rr := range outp.RetrievalResults {
		x, err := convertResult(rr)
		if err != nil {
			return nil, "", err
		}
		res = append(res, x)
	}
	return res, aws.ToString(outp.NextToken), nil
}

// Retrieve has the signature of kb.KnowledgeBase.Retrieve, so code written
// against a local knowledge base can read a Bedrock one instead (an
// interface with this method accepts both). opts map as follows:
// NumberOfResults as is; SearchType Hybrid or Semantic override the search
// type, "" keeps the knowledge base's, Keyword is not offered by Bedrock;
// Filter is translated; a Reranker reorders Candidates (default
// max(50, 2*NumberOfResults), at most 100) results locally. Partition and
// the hybrid weights have no Bedrock equivalent and fail with
// bedrockkit.ErrUnsupported (filter on a tenant metadata key instead).
// Each kb.RetrievalResult's ID is the chunk ID and its DocumentID the source URI
// when Bedrock reports them (x-amz-bedrock-kb-chunk-id,
// x-amz-bedrock-kb-source-uri), else the location's URI.
//
// opts, at most one, are the search's settings; none means the defaults.
func (r *Retriever) Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error) {
	var o kb.RetrieveOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		return nil, fmt.Errorf("bedrockkb: %d RetrieveOptions passed; pass at most one: %w", len(opts), bedrockkit.ErrInvalidInput)
	}
	unsupported := func(what string) error {
		return fmt.Errorf("bedrockkb: %s: %w", what, bedrockkit.ErrUnsupported)
	}
	if o.Partition != "" {
		return nil, unsupported("Bedrock Knowledge Bases have no partitions; put the tenant in a metadata attribute and filter on it")
	}
	if o.SemanticWeight != 0 || o.KeywordWeight != 0 || o.RRFK != 0 {
		return nil, unsupported("Bedrock does not expose hybrid fusion weights or the RRF constant; leave them zero")
	}
	req := QueryRequest{Query: query, NumberOfResults: o.NumberOfResults, Filter: o.Filter}
	switch o.SearchType {
	case "":
	case kb.Hybrid:
		req.SearchType = kb.Hybrid
	case kb.Semantic:
		req.SearchType = kb.Semantic
	case kb.Keyword:
		return nil, unsupported("Bedrock Knowledge Bases offer no keyword-only search; use kb.Hybrid or kb.Semantic")
	default:
		return nil, fmt.Errorf("bedrockkb: unknown SearchType %q: %w", o.SearchType, bedrockkit.ErrInvalidInput)
	}
	n := o.NumberOfResults
	if n == 0 {
		n = 5
	}
	if o.Candidates < 0 {
		return nil, fmt.Errorf("bedrockkb: Candidates is %d; use 0 for the default: %w", o.Candidates, bedrockkit.ErrInvalidInput)
	}
	if o.Reranker != nil && n >= 1 && n <= 100 {
		req.NumberOfResults = min(100, max(n, o.Candidates))
		if o.Candidates == 0 {
			req.NumberOfResults = min(100, max(50, 2*n))
		}
	}
	res, err := r.Query(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]kb.RetrievalResult, len(res))
	for i, x := range res {
		out[i] = x.KBResult()
	}
	if o.Reranker != nil && len(out) > 0 {
		texts := make([]string, len(out))
		for i, x := range out {
			texts[i] = x.Text
		}
		scores, err := o.Reranker.Rerank(ctx, query, texts)
		if err != nil {
			return nil, fmt.Errorf("bedrockkb: rerank: %w", err)
		}
		if len(scores) != len(out) {
			return nil, fmt.Errorf("bedrockkb: the reranker returned %d scores for %d passages: %w", len(scores), len(out), bedrockkit.ErrInvalidInput)
		}
		for i := range out {
			out[i].Score = scores[i]
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// KBResult converts r to the kb package's result type (see Retrieve for
// how ID and DocumentID are chosen). Metadata is shared, not copied.
func (r RetrievedChunk) KBResult() kb.RetrievalResult {
	out := kb.RetrievalResult{Text: r.Text, Score: r.Score, Location: r.Location, Metadata: r.Metadata}
	if s, ok := r.Metadata[kb.KeyChunkID].(string); ok {
		out.ID = s
	}
	out.DocumentID = r.Location.URI
	if s, ok := r.Metadata[kb.KeySourceURI].(string); ok && s != "" {
		out.DocumentID = s
	}
	return out
}

// input validates req and builds the SDK input.
func (r *Retriever) input(req QueryRequest) (*bedrockagentruntime.RetrieveInput, error) {
	if strings.TrimSpace(req.Query) == "" {
		return nil, badRequest("the query is empty")
	}
	vc, err := vectorSearchConfig(req)
	if err != nil {
		return nil, err
	}
	if rr := req.Reranking; rr != nil {
		if vc.RerankingConfiguration, err = rerankingConfig(rr); err != nil {
			return nil, err
		}
	}
	return &bedrockagentruntime.RetrieveInput{
		KnowledgeBaseId:        aws.String(r.id),
		RetrievalQuery:         &types.KnowledgeBaseQuery{Text: aws.String(req.Query)},
		RetrievalConfiguration: &types.KnowledgeBaseRetrievalConfiguration{VectorSearchConfiguration: vc},
	}, nil
}

// badRequest is the error for an invalid query request.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("bedrockkb: "+format+": %w", append(args, bedrockkit.ErrInvalidInput)...)
}

// vectorSearchConfig checks and translates the number of results, the
// search type and the filter of req.
func vectorSearchConfig(req QueryRequest) (*types.KnowledgeBaseVectorSearchConfiguration, error) {
	n := req.NumberOfResults
	if n == 0 {
		n = 5
	}
	if n < 1 || n > 100 {
		return nil, badRequest("NumberOfResults is %d; Bedrock accepts 1..100", req.NumberOfResults)
	}
	vc := &types.KnowledgeBaseVectorSearchConfiguration{NumberOfResults: aws.Int32(int32(n))}
	switch req.SearchType {
	case "":
	case kb.Semantic, kb.Hybrid:
		vc.OverrideSearchType = types.SearchType(req.SearchType)
	case kb.Keyword:
		return nil, badRequest("Bedrock Knowledge Bases offer no keyword-only search; use kb.Hybrid or kb.Semantic")
	default:
		return nil, badRequest("unknown SearchType %q; use kb.Semantic or kb.Hybrid", req.SearchType)
	}
	if !req.Filter.IsZero() {
		f, err := TranslateFilter(req.Filter)
		if err != nil {
			return nil, err
		}
		vc.Filter = f
	}
	return vc, nil
}

// rerankingConfig checks and translates rr.
func rerankingConfig(rr *Reranking) (*types.VectorSearchRerankingConfiguration, error) {
	if rr.ModelARN == "" {
		return nil, badRequest("Reranking.ModelARN is empty; set the reranker model's ARN")
	}
	if rr.NumberOfResults < 0 || rr.NumberOfResults > 100 {
		return nil, badRequest("Reranking.NumberOfResults is %d; Bedrock accepts 1..100", rr.NumberOfResults)
	}
	if len(rr.IncludeFields) > 0 && len(rr.ExcludeFields) > 0 {
		return nil, badRequest("Reranking sets both IncludeFields and ExcludeFields; set at most one")
	}
	bc := &types.VectorSearchBedrockRerankingConfiguration{
		ModelConfiguration: &types.VectorSearchBedrockRerankingModelConfiguration{ModelArn: aws.String(rr.ModelARN)},
	}
	if rr.NumberOfResults > 0 {
		bc.NumberOfRerankedResults = aws.Int32(int32(rr.NumberOfResults))
	}
	if len(rr.AdditionalModelRequestFields) > 0 {
		bc.ModelConfiguration.AdditionalModelRequestFields = map[string]document.Interface{}
		for k, v := range rr.AdditionalModelRequestFields {
			bc.ModelConfiguration.AdditionalModelRequestFields[k] = document.NewLazyDocument(v)
		}
	}
	bc.MetadataConfiguration = rerankMetadata(rr)
	return &types.VectorSearchRerankingConfiguration{
		Type:                          types.VectorSearchRerankingConfigurationTypeBedrockRerankingModel,
		BedrockRerankingConfiguration: bc,
	}, nil
}

// rerankMetadata is the metadata the reranker reads: the fields rr
// includes or excludes, or nil for all of them.
func rerankMetadata(rr *Reranking) *types.MetadataConfigurationForReranking {
	fields := func(names []string) []types.FieldForReranking {
		out := make([]types.FieldForReranking, len(names))
		for i, n := range names {
			out[i] = types.FieldForReranking{FieldName: aws.String(n)}
		}
		return out
	}
	switch {
	case len(rr.IncludeFields) > 0:
		return &types.MetadataConfigurationForReranking{
			SelectionMode:              types.RerankingMetadataSelectionModeSelective,
			SelectiveModeConfiguration: &types.RerankingMetadataSelectiveModeConfigurationMemberFieldsToInclude{Value: fields(rr.IncludeFields)},
		}
	case len(rr.ExcludeFields) > 0:
		return &types.MetadataConfigurationForReranking{
			SelectionMode:              types.RerankingMetadataSelectionModeSelective,
			SelectiveModeConfiguration: &types.RerankingMetadataSelectiveModeConfigurationMemberFieldsToExclude{Value: fields(rr.ExcludeFields)},
		}
	}
	return nil
}

// TranslateFilter converts a kbstore.Filter to the SDK's RetrievalFilter union.
// The filter is validated first (Bedrock's rules: andAll/orAll with at
// least two members, a key on every leaf, values of the operator's type).
func TranslateFilter(f kbstore.Filter) (types.RetrievalFilter, error) {
	n, err := f.Normalize()
	if err != nil {
		return nil, err
	}
	return translate(n), nil
}

func translate(f kbstore.Filter) types.RetrievalFilter {
	switch f.Op {
	case kbstore.OpAndAll, kbstore.OpOrAll:
		kids := make([]types.RetrievalFilter, len(f.Filters))
		for i, k := range f.Filters {
			kids[i] = translate(k)
		}
		if f.Op == kbstore.OpAndAll {
			return &types.RetrievalFilterMemberAndAll{Value: kids}
		}
		return &types.RetrievalFilterMemberOrAll{Value: kids}
	}
	a := types.FilterAttribute{Key: aws.String(f.Key), Value: document.NewLazyDocument(f.Value)}
	switch f.Op {
	case kbstore.OpEquals:
		return &types.RetrievalFilterMemberEquals{Value: a}
	case kbstore.OpNotEquals:
		return &types.RetrievalFilterMemberNotEquals{Value: a}
	case kbstore.OpGreaterThan:
		return &types.RetrievalFilterMemberGreaterThan{Value: a}
	case kbstore.OpGreaterThanOrEquals:
		return &types.RetrievalFilterMemberGreaterThanOrEquals{Value: a}
	case kbstore.OpLessThan:
		return &types.RetrievalFilterMemberLessThan{Value: a}
	case kbstore.OpLessThanOrEquals:
		return &types.RetrievalFilterMemberLessThanOrEquals{Value: a}
	case kbstore.OpIn:
		return &types.RetrievalFilterMemberIn{Value: a}
	case kbstore.OpNotIn:
		return &types.RetrievalFilterMemberNotIn{Value: a}
	case kbstore.OpStartsWith:
		return &types.RetrievalFilterMemberStartsWith{Value: a}
	case kbstore.OpListContains:
		return &types.RetrievalFilterMemberListContains{Value: a}
	default: // kbstore.OpStringContains; Normalize accepted no other operator
		return &types.RetrievalFilterMemberStringContains{Value: a}
	}
}

func convertResult(rr types.KnowledgeBaseRetrievalResult) (RetrievedChunk, error) {
	var out RetrievedChunk
	if rr.Content != nil {
		out.Text = aws.ToString(rr.Content.Text)
	}
	out.Score = aws.ToFloat64(rr.Score)
	if l := rr.Location; l != nil {
		out.Location.Type = string(l.Type)
		switch {
		case l.S3Location != nil:
			out.Location.URI = aws.ToString(l.S3Location.Uri)
		case l.WebLocation != nil:
			out.Location.URI = aws.ToString(l.WebLocation.Url)
		case l.ConfluenceLocation != nil:
			out.Location.URI = aws.ToString(l.ConfluenceLocation.Url)
		case l.SalesforceLocation != nil:
			out.Location.URI = aws.ToString(l.SalesforceLocation.Url)
		case l.SharePointLocation != nil:
			out.Location.URI = aws.ToString(l.SharePointLocation.Url)
		case l.CustomDocumentLocation != nil:
			out.Location.URI = aws.ToString(l.CustomDocumentLocation.Id)
		case l.KendraDocumentLocation != nil:
			out.Location.URI = aws.ToString(l.KendraDocumentLocation.Uri)
		case l.SqlLocation != nil:
			out.Location.URI = aws.ToString(l.SqlLocation.Query)
		}
	}
	if len(rr.Metadata) > 0 {
		out.Metadata = make(map[string]any, len(rr.Metadata))
		for k, d := range rr.Metadata {
			var v any
			if d != nil {
				if err := d.UnmarshalSmithyDocument(&v); err != nil {
					return RetrievedChunk{}, fmt.Errorf("bedrockkb: metadata %q of a result: %w", k, err)
				}
			}
			out.Metadata[k] = plain(v)
		}
	}
	return out, nil
}

// plain converts smithy document values to plain Go values (numbers as float64).
func plain(v any) any {
	switch x := v.(type) {
	case smithydocument.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

var errorKinds = map[string]error{
	"ThrottlingException":           bedrockkit.ErrThrottled,
	"ServiceUnavailableException":   bedrockkit.ErrServiceUnavailable,
	"InternalServerException":       bedrockkit.ErrInternal,
	"ValidationException":           bedrockkit.ErrValidation,
	"AccessDeniedException":         bedrockkit.ErrAccessDenied,
	"ResourceNotFoundException":     bedrockkit.ErrNotFound,
	"ServiceQuotaExceededException": bedrockkit.ErrQuotaExceeded,
	"DependencyFailedException":     bedrockkit.ErrServiceUnavailable,
	"BadGatewayException":           bedrockkit.ErrServiceUnavailable,
	"ConflictException":             bedrockkit.ErrValidation,
}

// classify wraps an SDK error as a *bedrockkit.APIError whose Kind is the
// matching bedrockkit sentinel; context errors pass through.
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	out := &bedrockkit.APIError{Op: "Retrieve", Err: err, Attempts: 1}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		out.Code = ae.ErrorCode()
		out.Message = ae.ErrorMessage()
		out.Kind = errorKinds[out.Code]
	}
	return out
}
