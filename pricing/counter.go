package pricing

import (
	"context"
	"fmt"
	"strings"

	"github.com/bedrockkit/bedrockkit"
)

// TokenCounters returns an InputCounter that counts a request's input
// tokens with the bedrockkit.TokenCounter registered for the call's model
// ID (a *bedrockkit.ConverseModel counts with Bedrock's CountTokens), so
// budgets reserve the exact count instead of InputTokenBound. Model IDs
// match the ID a model is metered as (case-insensitively). Middleware
// hides the concrete model, so the counters are passed here explicitly:
//
//	conv := bedrockkit.NewConverseModel(client, id, opts)
//	meter := pricing.NewMeter(pricing.MeterOptions{
//		InputCounter: pricing.TokenCounters(map[string]bedrockkit.TokenCounter{id: conv}),
//	})
//
// A model without a counter, or one whose counter answers
// bedrockkit.ErrUnsupported (models CountTokens does not count), falls back
// to InputTokenBound silently; other counter errors fall back too and are
// reported to MeterOptions.OnError. CountTokens does not count a natively
// sent output schema, so for a request with Output the schema's bound (as
// one more tool definition) is added to the count. After the call the
// meter compares the count with the input the model billed
// (InputTokens + CacheReadTokens + CacheWriteTokens) and reports a count
// that fell short as a *CountMismatchError to OnError.
func TokenCounters(byModel map[string]bedrockkit.TokenCounter) InputCounter {
	m := make(map[string]bedrockkit.TokenCounter, len(byModel))
	for id, tc := range byModel {
		if tc != nil {
			m[strings.ToLower(strings.TrimSpace(id))] = tc
		}
	}
	return tokenCounters(m)
}

type tokenCounters map[string]bedrockkit.TokenCounter

func (t tokenCounters) CountInputTokens(ctx context.Context, modelID string, req *bedrockkit.Request) (int, error) {
	tc, ok := t[strings.ToLower(strings.TrimSpace(modelID))]
	if !ok {
		return 0, fmt.Errorf("pricing: no token counter for %s: %w", modelID, bedrockkit.ErrUnsupported)
	}
	n, err := tc.CountTokens(ctx, req)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return n, nil // the meter reports it and falls back
	}
	if req != nil && req.Output != nil {
		extra, err := InputTokenBound(&bedrockkit.Request{Output: req.Output}, TokenBounds{})
		if err != nil {
			return 0, err
		}
		var s satInt
		s.add(n)
		s.add(extra)
		n = s.v
	}
	return n, nil
}

// CountMismatchError reports a call that billed more input tokens than its
// InputCounter counted before it: the budget reserved too little for it.
// The meter sends it to MeterOptions.OnError; the call itself succeeded.
type CountMismatchError struct {
	ModelID string
	Counted int
	// Billed is InputTokens + CacheReadTokens + CacheWriteTokens of the
	// call's usage.
	Billed int
}

// Error gives the figures.
func (e *CountMismatchError) Error() string {
	return fmt.Sprintf("pricing: %s billed %d input tokens (input, cache read and cache write) but its InputCounter counted %d; the budget reserved too little for this call — check that the counter counts the same request the model receives", e.ModelID, e.Billed, e.Counted)
}
