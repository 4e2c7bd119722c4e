package cache

import (
	"context"
	"iter"

	"github.com/bedrockkit/bedrockkit"
)

// MaxCachePoints is the most cache points Bedrock accepts in one request.
const MaxCachePoints = 4

// PromptCacheConfig configures PromptCaching. The zero value is ready to use.
type PromptCacheConfig struct {
	// TTL is the lifetime asked for the cache points placed; the default
	// is the model's (5 minutes). CacheTTL1h is used only on models that
	// accept it (bedrockkit.Capabilities.CacheTTL1h), else the default.
	TTL bedrockkit.CacheTTL
	// Estimate counts the tokens of a text; nil means one token per
	// started 4 bytes, which tends to underestimate, so a point is placed
	// only when the prefix is surely long enough.
	Estimate func(text string) int
	// MinTokens, when above the model's minimum, is the smallest prefix
	// worth caching. Raise it to cache only long prompts (each cache write
	// costs more than plain input: 1.25x on Claude).
	MinTokens int
	// Capabilities, when set, replaces the lookup of the model in
	// bedrockkit's table (for application inference profiles or models the
	// table does not know).
	Capabilities *bedrockkit.Capabilities
}

// PromptCaching returns a middleware that places Bedrock prompt-cache
// points automatically on requests to the model it wraps: one after the
// system prompt and one after the tool definitions (Request.ToolCache), when
//
//   - the model supports prompt caching (bedrockkit.CapabilitiesOf gives a
//     PromptCacheMinTokens; tool points also need Capabilities.ToolCache),
//   - the prefix up to the point is estimated at no fewer tokens than the
//     model's minimum (below it Bedrock silently caches nothing),
//   - the request has room: at most 4 cache points in all, counting those
//     the caller placed (the system point is preferred when only one fits,
//     as it covers the tools too), and
//   - the point's TTL keeps TTLs non-increasing in Bedrock's prefix order,
//     tools -> system -> messages (the placed TTL is raised to match a
//     later 1 h point, and no point is placed where that is impossible).
//
// A point is not placed where one already is. The caller's request is never
// modified: a changed copy goes to the model. Results show in Usage as
// CacheWriteTokens on the first call and CacheReadTokens on later calls
// within the TTL, which package pricing prices at the cache rates.
//
// The model's capabilities are PromptCacheConfig.Capabilities when set,
// else those the model reports (a ConverseModel's Capabilities, which
// honour ConverseOptions.BaseModel), else those of the ID it says
// (bedrockkit.ModelIDOf). A model that says neither is returned unwrapped:
// no cache point is placed.
func PromptCaching(cfg PromptCacheConfig) bedrockkit.Middleware {
	if cfg.Estimate == nil {
		cfg.Estimate = func(s string) int { return (len(s) + 3) / 4 }
	}
	return func(next bedrockkit.Model) bedrockkit.Model {
		caps := capabilitiesOf(next)
		if cfg.Capabilities != nil {
			caps = *cfg.Capabilities
		}
		if caps.PromptCacheMinTokens <= 0 {
			return next // the model cannot cache: nothing to do
		}
		return &promptCached{next: next, caps: caps, cfg: cfg, min: max(caps.PromptCacheMinTokens, cfg.MinTokens)}
	}
}

// capabler is a model that reports its capabilities (a ConverseModel).
type capabler interface {
	Capabilities() bedrockkit.Capabilities
}

// capabilitiesOf returns what m reports of its capabilities, else those of
// its model ID.
func capabilitiesOf(m bedrockkit.Model) bedrockkit.Capabilities {
	if c, ok := m.(capabler); ok {
		return c.Capabilities()
	}
	return bedrockkit.CapabilitiesOfBase(bedrockkit.ModelIDOf(m))
}

type promptCached struct {
	next bedrockkit.Model
	caps bedrockkit.Capabilities
	cfg  PromptCacheConfig
	min  int
}

// ModelID forwards the wrapped model's ID (see bedrockkit.ModelIDOf).
func (p *promptCached) ModelID() string { return bedrockkit.ModelIDOf(p.next) }

func (p *promptCached) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	return p.next.Generate(ctx, PlaceCachePoints(req, p.caps, p.min, p.cfg.TTL, p.cfg.Estimate))
}

func (p *promptCached) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return p.next.Stream(ctx, PlaceCachePoints(req, p.caps, p.min, p.cfg.TTL, p.cfg.Estimate))
}

// ttlRank orders TTLs: the default (5 minutes) below 1 hour.
func ttlRank(t bedrockkit.CacheTTL) int {
	if t == bedrockkit.CacheTTL1h {
		return 1
	}
	return 0
}

func partsPoints(parts []bedrockkit.Part) (n int, maxRank int, minRank int) {
	minRank = 1
	maxRank = -1
	for _, p := range parts {
		if cp, ok := p.(bedrockkit.CachePoint); ok {
			n++
			maxRank = max(maxRank, ttlRank(cp.TTL))
			minRank = min(minRank, ttlRank(cp.TTL))
		}
	}
	return n, maxRank, minRank
}

// PlaceCachePoints returns req with cache points placed as PromptCaching
// describes, for a model with capabilities caps, a minimum prefix of
// minTokens (0 means caps.PromptCacheMinTokens) and the wanted ttl,
// estimating tokens with est (nil means 4 bytes a token). It returns req
// itself when nothing is placed, else a copy; req is never modified.
func PlaceCachePoints(req *bedrockkit.Request, caps bedrockkit.Capabilities, minTokens int, ttl bedrockkit.CacheTTL, est func(string) int) *bedrockkit.Request {
	if req == nil || caps.PromptCacheMinTokens <= 0 {
		return req
	}
	if est == nil {
		est = func(s string) int { return (len(s) + 3) / 4 }
	}
	minTokens = max(minTokens, caps.PromptCacheMinTokens)
	if ttl == bedrockkit.CacheTTL1h && !caps.CacheTTL1h {
		ttl = bedrockkit.CacheTTLDefault
	}

	// Existing points and TTLs, in prefix order tools -> system -> messages.
	sysN, sysMax, sysMin := partsPoints(req.System)
	msgN, msgMax := 0, -1
	for _, m := range req.Messages {
		n, mx, _ := partsPoints(m.Parts)
		msgN += n
		msgMax = max(msgMax, mx)
	}
	toolN, toolRank := 0, -1
	if req.ToolCache != nil {
		toolN, toolRank = 1, ttlRank(req.ToolCache.TTL)
	}
	free := MaxCachePoints - sysN - msgN - toolN
	if free <= 0 {
		return req
	}

	toolTokens := 0
	for _, t := range req.Tools {
		toolTokens += est(t.Name) + est(t.Description) + est(string(t.InputSchema))
	}
	sysTokens := est((bedrockkit.Message{Parts: req.System}).Text())

	// choose returns the TTL for a new point that must not be shorter than
	// any later point (laterMax) nor longer than any earlier one
	// (earlierMin), or false when no TTL the model accepts fits.
	choose := func(laterMax, earlierMin int) (bedrockkit.CacheTTL, bool) {
		r := max(ttlRank(ttl), laterMax)
		if r > earlierMin || (r == 1 && !caps.CacheTTL1h) {
			return "", false
		}
		if r == 1 {
			return bedrockkit.CacheTTL1h, true
		}
		return ttl, true
	}

	out := *req
	changed := false

	// System point: at the end of the system prompt, unless it already ends
	// with one; its prefix is the tools plus the system prompt.
	sysEndsWithPoint := false
	if n := len(req.System); n > 0 {
		_, sysEndsWithPoint = req.System[n-1].(bedrockkit.CachePoint)
	}
	var sysPlacedRank = -1
	if sysTokens > 0 && !sysEndsWithPoint && toolTokens+sysTokens >= minTokens {
		earlierMin := 1
		if toolRank >= 0 {
			earlierMin = toolRank
		}
		if sysN > 0 {
			earlierMin = min(earlierMin, sysMin)
		}
		if t, ok := choose(msgMax, earlierMin); ok {
			out.System = append(append(make([]bedrockkit.Part, 0, len(req.System)+1), req.System...), bedrockkit.CachePoint{TTL: t})
			sysPlacedRank = ttlRank(t)
			free--
			changed = true
		}
	}

	// Tool point: after the tool definitions, if the model caches them.
	if free > 0 && caps.ToolCache && req.ToolCache == nil && len(req.Tools) > 0 && toolTokens >= minTokens {
		laterMax := max(sysMax, msgMax, sysPlacedRank)
		if t, ok := choose(laterMax, 1); ok {
			out.ToolCache = &bedrockkit.CachePoint{TTL: t}
			changed = true
		}
	}
	if !changed {
		return req
	}
	return &out
}
