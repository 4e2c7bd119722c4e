package bedrockkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
)

// Model IDs of Cohere Embed v3 on Bedrock. Both return 1024-dimensional vectors.
const (
	CohereEmbedEnglishV3      = "cohere.embed-english-v3"
	CohereEmbedMultilingualV3 = "cohere.embed-multilingual-v3"
)

const (
	cohereMaxBatch = 96    // texts per request
	cohereMaxChars = 2_048 // characters per text
	cohereDims     = 1024
)

// CohereTruncate says what to do with a text longer than Cohere Embed v3
// accepts: 2,048 characters (checked here) or about 512 tokens (checked by
// the model).
type CohereTruncate string

// Truncation modes. The zero value, CohereTruncateNone, fails on long texts.
const (
	// CohereTruncateNone rejects a text over 2,048 characters before any
	// request is sent, and lets the model reject one over its token limit.
	CohereTruncateNone CohereTruncate = ""
	// CohereTruncateStart drops the start of a long text: the last 2,048
	// characters are sent, with truncate=START so the model drops leading
	// tokens past its limit too.
	CohereTruncateStart CohereTruncate = "START"
	// CohereTruncateEnd drops the end of a long text: the first 2,048
	// characters are sent, with truncate=END.
	CohereTruncateEnd CohereTruncate = "END"
)

// CohereOptions configures a CohereEmbedder. The zero value is usable: Cohere
// Embed English v3, 96 texts per request, 4 concurrent requests, no
// truncation and the default RetryPolicy.
type CohereOptions struct {
	// ModelID is the model to call; empty means CohereEmbedEnglishV3. An
	// inference-profile ID or an ARN is accepted; when the ID names a model,
	// it must be Cohere Embed English or Multilingual v3.
	ModelID string
	// BatchSize is how many texts one request carries, 1 to 96; 0 means 96.
	BatchSize int
	// Truncate says what to do with texts that are too long.
	Truncate CohereTruncate
	// InputType, when set, is sent as Cohere's input_type instead of the one
	// derived from Purpose (search_document or search_query); use it for
	// "classification" or "clustering".
	InputType string
	// Concurrency bounds how many requests (batches) one Embed call runs at
	// once; 0 means 4. Bedrock throttles embedding models by requests per
	// minute; see TitanOptions.Concurrency.
	Concurrency int
	// Retry is applied to each InvokeModel call. The SDK's own retryer is
	// disabled for these calls so attempts are not multiplied.
	Retry RetryPolicy
}

// CohereEmbedder embeds texts with Cohere Embed v3 (English or Multilingual)
// through InvokeModel. It implements Embedder and is safe for concurrent use.
//
// Embed splits the texts into batches of BatchSize, sends at most
// Concurrency batches at a time and returns the vectors in input order.
// Cohere v3 is asymmetric: Purpose selects input_type search_document
// (PurposeDocument, for indexing) or search_query (PurposeQuery, for
// searching); embed documents and queries with the matching purpose.
type CohereEmbedder struct {
	client      InvokeModelAPI
	modelID     string
	batch       int
	truncate    CohereTruncate
	inputType   string
	concurrency int
	retry       RetryPolicy
	inputTokens atomic.Int64
}

// NewCohereEmbedder returns a CohereEmbedder that calls client (usually a
// *bedrockruntime.Client). A nil client means the default AWS
// configuration, as for NewConverseModel. It fails, wrapping
// ErrInvalidInput, for a nil client when no Region is configured, a nil
// *bedrockruntime.Client, a BatchSize outside 0..96, a negative Concurrency
// or an unknown Truncate, and, wrapping ErrUnsupported, when ModelID names
// a model other than Cohere Embed v3.
func NewCohereEmbedder(client InvokeModelAPI, opts CohereOptions) (*CohereEmbedder, error) {
	if c, ok := client.(*bedrockruntime.Client); ok && c == nil {
		return nil, fmt.Errorf("bedrockkit: NewCohereEmbedder was given a nil *bedrockruntime.Client; pass a client from NewRuntimeClient, or an untyped nil for the default AWS configuration: %w", ErrInvalidInput)
	}
	e := &CohereEmbedder{
		client:      client,
		modelID:     opts.ModelID,
		batch:       opts.BatchSize,
		truncate:    opts.Truncate,
		inputType:   opts.InputType,
		concurrency: opts.Concurrency,
		retry:       opts.Retry,
	}
	if e.modelID == "" {
		e.modelID = CohereEmbedEnglishV3
	}
	if name := embedModelName(e.modelID); name != "" &&
		!strings.Contains(name, "cohere.embed-english-v3") && !strings.Contains(name, "cohere.embed-multilingual-v3") {
		return nil, fmt.Errorf("bedrockkit: CohereEmbedder speaks Cohere Embed v3 (%s, %s), not %q: %w", CohereEmbedEnglishV3, CohereEmbedMultilingualV3, e.modelID, ErrUnsupported)
	}
	switch {
	case e.batch == 0:
		e.batch = cohereMaxBatch
	case e.batch < 0 || e.batch > cohereMaxBatch:
		return nil, fmt.Errorf("bedrockkit: CohereOptions.BatchSize is %d; Cohere Embed v3 takes 1 to %d texts per request: %w", opts.BatchSize, cohereMaxBatch, ErrInvalidInput)
	}
	switch {
	case e.concurrency == 0:
		e.concurrency = 4
	case e.concurrency < 0:
		return nil, fmt.Errorf("bedrockkit: CohereOptions.Concurrency is %d; use 0 for the default or a positive limit: %w", opts.Concurrency, ErrInvalidInput)
	}
	switch e.truncate {
	case CohereTruncateNone, CohereTruncateStart, CohereTruncateEnd:
	default:
		return nil, fmt.Errorf("bedrockkit: CohereOptions.Truncate is %q; use CohereTruncateNone, CohereTruncateStart or CohereTruncateEnd: %w", opts.Truncate, ErrInvalidInput)
	}
	if client == nil {
		c, err := defaultRuntimeClient("NewCohereEmbedder")
		if err != nil {
			return nil, err
		}
		e.client = c
	}
	return e, nil
}

// Dimensions returns 1024, the vector length of Cohere Embed v3.
func (e *CohereEmbedder) Dimensions() int { return cohereDims }

// ModelID returns the model ID or ARN the embedder calls.
func (e *CohereEmbedder) ModelID() string { return e.modelID }

// BatchSize returns how many texts one request carries.
func (e *CohereEmbedder) BatchSize() int { return e.batch }

// InputTokens returns the input tokens counted for all successful calls of
// this embedder so far (see EmbedWithUsage).
func (e *CohereEmbedder) InputTokens() int64 { return e.inputTokens.Load() }

// Embed returns one vector per text, in order. See EmbedWithUsage.
func (e *CohereEmbedder) Embed(ctx context.Context, texts []string, purpose Purpose) ([][]float32, error) {
	vecs, _, err := e.EmbedWithUsage(ctx, texts, purpose)
	return vecs, err
}

// EmbedWithUsage is Embed that also returns the input tokens of the call,
// taken from Bedrock's X-Amzn-Bedrock-Input-Token-Count response header; when
// a response lacks it, that batch is estimated and Usage.Estimated is set.
//
// Every text is checked before anything is sent: an empty text, or (with
// CohereTruncateNone) one longer than 2,048 characters, fails the call with
// an *EmbedError naming its index and wrapping ErrInvalidInput. A failed
// request fails the call with an *EmbedError naming the batch's index range
// and wrapping the classified *APIError; the remaining requests are
// cancelled. A vector of the wrong length fails with an *EmbedError naming
// that text and wrapping ErrDimensionMismatch. On failure no vectors are
// returned.
func (e *CohereEmbedder) EmbedWithUsage(ctx context.Context, texts []string, purpose Purpose) ([][]float32, Usage, error) {
	inputType := e.inputType
	if inputType == "" {
		switch purpose {
		case PurposeDocument:
			inputType = "search_document"
		case PurposeQuery:
			inputType = "search_query"
		default:
			return nil, Usage{}, embedPurposeError(purpose)
		}
	}
	send := make([]string, len(texts))
	for i, t := range texts {
		s, err := e.prepare(t)
		if err != nil {
			return nil, Usage{}, &EmbedError{Model: e.modelID, Index: i, Count: 1, Err: err}
		}
		send[i] = s
	}
	vecs := make([][]float32, len(texts))
	batches := (len(texts) + e.batch - 1) / e.batch
	tokens := make([]int, batches)
	var estimated atomic.Bool
	err := embedFanOut(ctx, batches, e.concurrency, func(ctx context.Context, b int) error {
		lo := b * e.batch
		hi := min(lo+e.batch, len(texts))
		n, est, err := e.embedBatch(ctx, send[lo:hi], inputType, vecs[lo:hi])
		if err != nil {
			var de *cohereDimError
			if errors.As(err, &de) {
				return &EmbedError{Model: e.modelID, Index: lo + de.offset, Count: 1, Err: de.err}
			}
			return &EmbedError{Model: e.modelID, Index: lo, Count: hi - lo, Err: err}
		}
		tokens[b] = n
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

// prepare checks one text and truncates it when configured to.
func (e *CohereEmbedder) prepare(t string) (string, error) {
	if strings.TrimSpace(t) == "" {
		return "", fmt.Errorf("text is empty or blank; drop or replace empty texts before embedding: %w", ErrInvalidInput)
	}
	if len(t) <= cohereMaxChars { // bytes >= runes
		return t, nil
	}
	n := utf8.RuneCountInString(t)
	if n <= cohereMaxChars {
		return t, nil
	}
	switch e.truncate {
	case CohereTruncateEnd:
		return string([]rune(t)[:cohereMaxChars]), nil
	case CohereTruncateStart:
		return string([]rune(t)[n-cohereMaxChars:]), nil
	}
	return "", fmt.Errorf("text has %d characters, Cohere Embed v3 accepts at most %d; split it into chunks first or set CohereOptions.Truncate: %w", n, cohereMaxChars, ErrInvalidInput)
}

type cohereRequest struct {
	Texts     []string `json:"texts"`
	InputType string   `json:"input_type"`
	Truncate  string   `json:"truncate,omitempty"`
}

type cohereResponse struct {
	// Embeddings is [][]float (response_type embeddings_floats) or
	// {"float": [][]float} (embeddings_by_type).
	Embeddings json.RawMessage `json:"embeddings"`
}

// cohereDimError marks a wrong-length vector at offset within its batch.
type cohereDimError struct {
	offset int
	err    error
}

func (e *cohereDimError) Error() string { return e.err.Error() }
func (e *cohereDimError) Unwrap() error { return e.err }

// embedBatch embeds one batch into out (len(out) == len(texts)) and returns
// its input tokens; est is true when they were estimated locally.
func (e *CohereEmbedder) embedBatch(ctx context.Context, texts []string, inputType string, out [][]float32) (tokens int, est bool, err error) {
	body, err := json.Marshal(cohereRequest{Texts: texts, InputType: inputType, Truncate: string(e.truncate)})
	if err != nil {
		return 0, false, fmt.Errorf("cannot encode request: %v: %w", err, ErrInvalidInput)
	}
	raw, hdrTokens, err := embedInvoke(ctx, e.client, e.retry, e.modelID, body)
	if err != nil {
		return 0, false, err
	}
	var resp cohereResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return 0, false, fmt.Errorf("cannot decode Cohere response (%v); check that the model ID is Cohere Embed v3: %w", err, ErrModelError)
	}
	vecs, err := cohereVectors(resp.Embeddings)
	if err != nil {
		return 0, false, err
	}
	if len(vecs) != len(texts) {
		return 0, false, fmt.Errorf("Cohere returned %d embeddings for %d texts: %w", len(vecs), len(texts), ErrModelError)
	}
	for j, v := range vecs {
		if len(v) != cohereDims {
			return 0, false, &cohereDimError{offset: j, err: fmt.Errorf("model returned %d dimensions, Cohere Embed v3 has %d; check that ModelID is Cohere Embed v3: %w", len(v), cohereDims, ErrDimensionMismatch)}
		}
	}
	copy(out, vecs)
	if hdrTokens >= 0 {
		return hdrTokens, false, nil
	}
	for _, t := range texts {
		tokens += estimateEmbedTokens(t)
	}
	return tokens, true, nil
}

func cohereVectors(raw json.RawMessage) ([][]float32, error) {
	var vecs [][]float32
	trimmed := strings.TrimSpace(string(raw))
	switch {
	case strings.HasPrefix(trimmed, "["):
		if err := json.Unmarshal(raw, &vecs); err != nil {
			return nil, fmt.Errorf("cannot decode Cohere embeddings: %v: %w", err, ErrModelError)
		}
	case strings.HasPrefix(trimmed, "{"):
		var byType struct {
			Float [][]float32 `json:"float"`
		}
		if err := json.Unmarshal(raw, &byType); err != nil {
			return nil, fmt.Errorf("cannot decode Cohere embeddings: %v: %w", err, ErrModelError)
		}
		if byType.Float == nil {
			return nil, fmt.Errorf("Cohere response has no float embeddings: %w", ErrModelError)
		}
		vecs = byType.Float
	default:
		return nil, fmt.Errorf("Cohere response holds no embeddings: %w", ErrModelError)
	}
	return vecs, nil
}
