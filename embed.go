package bedrockkit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"
)

// InvokeModelAPI is the part of *bedrockruntime.Client the embedders use.
// Tests may substitute a fake.
type InvokeModelAPI interface {
	InvokeModel(ctx context.Context, in *bedrockruntime.InvokeModelInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.InvokeModelOutput, error)
}

// ErrDimensionMismatch: an embedding has a different length than the embedder
// is configured for. Check that the model ID and the configured dimensions
// belong together. Vector stores' dimension errors (kbstore.ErrDimensionMismatch)
// match it too, so one errors.Is check covers embedders and stores.
var ErrDimensionMismatch = errors.New("bedrockkit: embedding dimension mismatch")

// EmbedError is the failure of an Embed call, naming the inputs that failed:
// texts[Index : Index+Count]. Count is 1 for a single text (Titan, or a
// text rejected before sending) and the batch size for a failed Cohere batch.
// Err is the cause: an *APIError (which wraps ErrThrottled, ErrValidation,
// ...), an error wrapping ErrInvalidInput for a text rejected locally, or one
// wrapping ErrDimensionMismatch or ErrModelError for an unusable response.
// Use errors.As to get the EmbedError and errors.Is to test the cause.
type EmbedError struct {
	// Model is the model ID the embedder calls.
	Model string
	// Index is the position in texts of the first failed input.
	Index int
	// Count is how many inputs, starting at Index, the failed request held.
	Count int
	// Err is the cause.
	Err error
}

// Error names the failed inputs and the cause.
func (e *EmbedError) Error() string {
	var which string
	if e.Count <= 1 {
		which = fmt.Sprintf("input %d", e.Index)
	} else {
		which = fmt.Sprintf("inputs %d..%d (one batch)", e.Index, e.Index+e.Count-1)
	}
	return fmt.Sprintf("bedrockkit: embedding %s with %s failed: %v", which, e.Model, e.Err)
}

// Unwrap returns the cause.
func (e *EmbedError) Unwrap() error { return e.Err }

// embedInvoke sends one InvokeModel request under policy and returns the
// response body and the input-token count from the
// X-Amzn-Bedrock-Input-Token-Count header (-1 when absent).
func embedInvoke(ctx context.Context, client InvokeModelAPI, policy RetryPolicy, modelID string, body []byte) ([]byte, int, error) {
	var out *bedrockruntime.InvokeModelOutput
	err := policy.do(ctx, "InvokeModel", func(ctx context.Context) error {
		var err error
		out, err = client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
			ModelId:     aws.String(modelID),
			ContentType: aws.String("application/json"),
			Accept:      aws.String("application/json"),
			Body:        body,
		}, disableSDKRetry, safeRequestBody)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if out == nil {
		return nil, 0, fmt.Errorf("bedrockkit: InvokeModel returned no output: %w", ErrModelError)
	}
	return out.Body, headerTokens(out.ResultMetadata), nil
}

// headerTokens reads X-Amzn-Bedrock-Input-Token-Count from the raw HTTP
// response, or returns -1.
func headerTokens(md middleware.Metadata) int {
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok || resp == nil || resp.Response == nil {
		return -1
	}
	v := resp.Header.Get("X-Amzn-Bedrock-Input-Token-Count")
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// embedModelName returns the model name an ID refers to, for checking that
// an embedder is given a model it can speak to: the ID itself for a base
// model ID or a system inference profile ID (us.amazon..., still containing
// the base name), the resource for a foundation-model or inference-profile
// ARN. It returns "" for IDs that hide the model (application inference
// profiles, provisioned and custom models, anything unrecognised as an ARN),
// which are accepted unchecked.
func embedModelName(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	kind, name, ok := strings.Cut(parts[5], "/")
	if !ok {
		return ""
	}
	switch kind {
	case "foundation-model", "inference-profile":
		return name
	}
	return ""
}

// embedFanOut runs job(i) for i in [0, n) with at most limit running at
// once. The first failure cancels the context the other jobs get, no new job
// starts after it, and it is returned once all started jobs have ended, so
// no goroutine outlives the call. If ctx ends first, the error wraps
// ctx.Err().
func embedFanOut(ctx context.Context, n, limit int, job func(ctx context.Context, i int) error) error {
	if n == 0 {
		return ctx.Err()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(limit, 1))
	started := 0
	for i := 0; i < n; i++ {
		if gctx.Err() != nil {
			break
		}
		started++
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // a job failed while this one waited for a slot
			}
			return job(gctx, i)
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		// The caller cancelled: report that, not a job's view of it.
		return fmt.Errorf("bedrockkit: embedding stopped after starting %d of %d requests: %w", started, n, ctx.Err())
	}
	return err
}

// embedPurposeError reports an unknown Purpose value.
func embedPurposeError(p Purpose) error {
	return fmt.Errorf("bedrockkit: unknown Purpose %d; use PurposeDocument or PurposeQuery: %w", int(p), ErrInvalidInput)
}

var (
	_ Embedder = (*TitanEmbedder)(nil)
	_ Embedder = (*CohereEmbedder)(nil)
)
