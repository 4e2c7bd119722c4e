package bedrockkit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
)

// TitanEmbedTextV2 is the model ID of Amazon Titan Text Embeddings V2.
const TitanEmbedTextV2 = "amazon.titan-embed-text-v2:0"

// titanMaxChars is Titan Text Embeddings V2's documented input limit in
// characters (the other limit is 8,192 tokens, which only the service checks).
const titanMaxChars = 50_000

// TitanOptions configures a TitanEmbedder. The zero value is usable: Titan
// Text Embeddings V2, 1024 normalized dimensions, 8 concurrent calls and the
// default RetryPolicy.
type TitanOptions struct {
	// ModelID is the model to call; empty means TitanEmbedTextV2. An
	// inference-profile ID or an ARN (foundation model, inference profile,
	// application inference profile, provisioned model) is accepted; when the
	// ID names a model, it must be Titan Text Embeddings V2.
	ModelID string
	// Dimensions is the vector length: 256, 512 or 1024. 0 means 1024.
	Dimensions int
	// NoNormalize asks Titan for raw vectors. By default (false) Titan's
	// normalize option is on and vectors have unit length, which is what
	// cosine and dot-product search expect. It is inverted so that the zero
	// value keeps Titan's default.
	NoNormalize bool
	// Concurrency bounds how many InvokeModel calls one Embed call runs at
	// once; 0 means 8. Titan embeds one text per call, so Embed fans out.
	// Bedrock throttles embedding models by requests per minute, not tokens:
	// when several Embed calls run at once, or the quota is low, rate-limit
	// the callers (the kb package can) or lower this, and let Retry absorb
	// occasional ThrottlingExceptions.
	Concurrency int
	// Retry is applied to each InvokeModel call. The SDK's own retryer is
	// disabled for these calls so attempts are not multiplied.
	Retry RetryPolicy
}

// TitanEmbedder embeds texts with Amazon Titan Text Embeddings V2 through
// InvokeModel. It implements Embedder and is safe for concurrent use.
//
// Titan has no batching: Embed sends one request per text, at most
// Concurrency at a time, and returns the vectors in input order. Titan is
// symmetric, so the Purpose argument of Embed is ignored (it is still
// checked to be PurposeDocument or PurposeQuery).
type TitanEmbedder struct {
	client      InvokeModelAPI
	modelID     string
	dims        int
	normalize   bool
	concurrency int
	retry       RetryPolicy
	inputTokens atomic.Int64
}

// NewTitanEmbedder returns a TitanEmbedder that calls client (usually a
// *bedrockruntime.Client). A nil client means the default AWS
// configuration, as for NewConverseModel. It fails, wrapping
// ErrInvalidInput, for a nil client when no Region is configured, a nil
// *bedrockruntime.Client, Dimensions other than 256, 512 or 1024, or a
// negative Concurrency, and, wrapping ErrUnsupported, when ModelID names a
// model other than Titan Text Embeddings V2.
func NewTitanEmbedder(client InvokeModelAPI, opts TitanOptions) (*TitanEmbedder, error) {
	if c, ok := client.(*bedrockruntime.Client); ok && c == nil {
		return nil, fmt.Errorf("bedrockkit: NewTitanEmbedder was given a nil *bedrockruntime.Client; pass a client from NewRuntimeClient, or an untyped nil for the default AWS configuration: %w", ErrInvalidInput)
	}
	e := &TitanEmbedder{
		client:      client,
		modelID:     opts.ModelID,
		dims:        opts.Dimensions,
		normalize:   !opts.NoNormalize,
		concurrency: opts.Concurrency,
		retry:       opts.Retry,
	}
	if e.modelID == "" {
		e.modelID = TitanEmbedTextV2
	}
	if name := embedModelName(e.modelID); name != "" && !strings.Contains(name, "amazon.titan-embed-text-v2") {
		return nil, fmt.Errorf("bedrockkit: TitanEmbedder speaks Titan Text Embeddings V2 (%s), not %q; use CohereEmbedder for Cohere models: %w", TitanEmbedTextV2, e.modelID, ErrUnsupported)
	}
	switch e.dims {
	case 0:
		e.dims = 1024
	case 256, 512, 1024:
	default:
		return nil, fmt.Errorf("bedrockkit: Titan Text Embeddings V2 supports 256, 512 or 1024 dimensions, not %d: %w", opts.Dimensions, ErrInvalidInput)
	}
	switch {
	case e.concurrency == 0:
		e.concurrency = 8
	case e.concurrency < 0:
		return nil, fmt.Errorf("bedrockkit: TitanOptions.Concurrency is %d; use 0 for the default or a positive limit: %w", opts.Concurrency, ErrInvalidInput)
	}
	if client == nil {
		c, err := defaultRuntimeClient("NewTitanEmbedder")
		if err != nil {
			return nil, err
		}
		e.client = c
	}
	return e, nil
}

// Dimensions returns the configured vector length.
func (e *TitanEmbedder) Dimensions() int { return e.dims }

// ModelID returns the model ID or ARN the embedder calls.
func (e *TitanEmbedder) ModelID() string { return e.modelID }

// InputTokens returns the input tokens Titan has reported for all successful
// calls of this embedder so far.
func (e *TitanEmbedder) InputTokens() int64 { return e.inputTokens.Load() }

// Embed returns one vector per text, in order. See EmbedWithUsage.
func (e *TitanEmbedder) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	vecs, _, err := e.EmbedWithUsage(ctx, texts, purpose)
	return vecs, err
}

// EmbedWithUsage is Embed that also returns the input tokens of the call
// (Titan's inputTextTokenCount, summed over the texts).
//
// Every text is checked before anything is sent: an empty text or one longer
// than 50,000 characters fails the call with an *EmbedError naming its index
// and wrapping ErrInvalidInput. A failed request fails the call with an
// *EmbedError naming the text and wrapping the classified *APIError; the
// remaining requests are cancelled. A response whose vector length differs
// from Dimensions fails with an *EmbedError wrapping ErrDimensionMismatch.
// On failure no vectors are returned.
func (e *TitanEmbedder) EmbedWithUsage(ctx context.Context, texts []string, purpose Purpose) ([][]float32, Usage, error) {
	if purpose != PurposeDocument && purpose != PurposeQuery {
		return nil, Usage{}, embedPurposeError(purpose)
	}
	for i, t := range texts {
		if err := titanCheckText(t); err != nil {
			return nil, Usage{}, &EmbedError{Model: e.modelID, Index: i, Count: 1, Err: err}
		}
	}
	vecs := make([][]float32, len(texts))
	tokens := make([]int, len(texts))
	estimated := atomic.Bool{}
	err := embedFanOut(ctx, len(texts), e.concurrency, func(ctx context.Context, i int) error {
		v, n, est, err := e.embedOne(ctx, texts[i])
		if err != nil {
			return &EmbedError{Model: e.modelID, Index: i, Count: 1, Err: err}
		}
		vecs[i], tokens[i] = v, n
		if est {
			estimated.Store(true)
		}
		return nil
	})
	if err != nil {
		return nil, Usage{}, err
	}
	u := Usage{Estimated: estimated.Load()}
	for _, n := range tokens {
		u.InputTokens += n
	}
	e.inputTokens.Add(int64(u.InputTokens))
	return vecs, u, nil
}

func titanCheckText(t string) error {
	if strings.TrimSpace(t) == "" {
		return fmt.Errorf("text is empty or blank; drop or replace empty texts before embedding: %w", ErrInvalidInput)
	}
	if len(t) > titanMaxChars { // cheap pre-check: bytes >= runes
		if n := utf8.RuneCountInString(t); n > titanMaxChars {
			return fmt.Errorf("text has %d characters, Titan Text Embeddings V2 accepts at most %d (and 8,192 tokens); split it into chunks first: %w", n, titanMaxChars, ErrInvalidInput)
		}
	}
	return nil
}

type titanRequest struct {
	InputText  string `json:"inputText"`
	Dimensions int    `json:"dimensions"`
	Normalize  bool   `json:"normalize"`
}

type titanResponse struct {
	Embedding           []float32 `json:"embedding"`
	InputTextTokenCount *int      `json:"inputTextTokenCount"`
	EmbeddingsByType    struct {
		Float []float32 `json:"float"`
	} `json:"embeddingsByType"`
}

// embedOne embeds one text and returns its vector and input tokens; est is
// true when the token count was estimated locally.
func (e *TitanEmbedder) embedOne(ctx context.Context, text string) (vec []float32, tokens int, est bool, err error) {
	body, err := json.Marshal(titanRequest{InputText: text, Dimensions: e.dims, Normalize: e.normalize})
	if err != nil {
		return nil, 0, false, fmt.Errorf("cannot encode request: %v: %w", err, ErrInvalidInput)
	}
	out, hdrTokens, err := embedInvoke(ctx, e.client, e.retry, e.modelID, body)
	if err != nil {
		return nil, 0, false, err
	}
	var resp titanResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, 0, false, fmt.Errorf("cannot decode Titan response (%v); check that the model ID is Titan Text Embeddings V2: %w", err, ErrModelError)
	}
	vec = resp.Embedding
	if len(vec) == 0 {
		vec = resp.EmbeddingsByType.Float
	}
	if len(vec) == 0 {
		return nil, 0, false, fmt.Errorf("Titan response holds no embedding: %w", ErrModelError)
	}
	if len(vec) != e.dims {
		return nil, 0, false, fmt.Errorf("model returned %d dimensions, embedder is configured for %d; check that ModelID is Titan Text Embeddings V2 and Dimensions matches the index: %w", len(vec), e.dims, ErrDimensionMismatch)
	}
	switch {
	case resp.InputTextTokenCount != nil:
		tokens = *resp.InputTextTokenCount
	case hdrTokens >= 0:
		tokens = hdrTokens
	default:
		tokens, est = estimateEmbedTokens(text), true
	}
	return vec, tokens, est, nil
}

// estimateEmbedTokens is a rough token estimate (4 bytes per token) used only
// when the service reports no count; results using it are marked Estimated.
func estimateEmbedTokens(text string) int {
	return (len(text) + 3) / 4
}
