package bedrockkit

import "context"

// Do runs call under the policy, for calls the Bedrock adapters do not
// already retry (a custom Embedder, a store, a tool): call is run again
// after an error IsRetryable accepts, with the policy's exponential backoff
// and full jitter, until it succeeds, fails with any other error, reaches
// MaxAttempts, or the next wait would pass ctx's deadline. It returns the
// last error; when ctx ends it returns ctx's error (the last failure stays
// in the text), so an outer loop does not retry a cancelled call.
func (p RetryPolicy) Do(ctx context.Context, call func(ctx context.Context) error) error {
	return p.loop(ctx, func(ctx context.Context, _ int) error { return call(ctx) })
}
