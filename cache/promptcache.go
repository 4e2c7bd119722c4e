package cache

import (
	"context"
	"iter"

	"github.com/bedrockkit/bedrockkit"
)

// MaxCachePoints is the most cache points Bedrock accepts in one request.
const MaxCachePoints = 4

// PromptCacheOptions configures PromptCaching. The zero value is ready to use.
type PromptCacheOptions struct {
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
// The model's capabilities are PromptCacheOptions.Capabilities when set,
// else those the model reports (a ConverseModel's Capabilities, which
// honour ConverseOptions.BaseModel), else those of the ID it says
// (bedrockkit.ModelIDOf). A model that says neither is returned unwrapped:
// no cache point is placed.
func PromptCaching(cfg PromptCacheOptions) bedrockkit.Middleware {
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
	cfg  PromptCacheOptions
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
	p := newCachePlacement(req, caps, minTokens, ttl)
	free := MaxCachePoints - p.sysN - p.msgN - p.toolN
	if free <= 0 {
		return req
	}
	for _, t := range req.Tools {
		p.toolTokens += est(t.Name) + est(t.Description) + est(string(t.InputSchema))
	}
	p.sysTokens = est((bedrockkit.Message{Parts: req.System}).Text())

	out := *req
	changed := false
	sysPlacedRank := -1
	if t, ok := p.systemPoint(); ok {
		out.System = append(append(make([]bedrockkit.Part, 0, len(req.System)+1), req.System...), bedrockkit.CachePoint{TTL: t})
		sysPlacedRank = ttlRank(t)
		free--
		changed = true
	}
	if free > 0 {
		if t, ok := p.toolPoint(sysPlacedRank); ok {
			out.ToolCache = &bedrockkit.CachePoint{TTL: t}
			changed = true
		}
	}
	if !changed {
		return req
	}
	return &out
}

// cachePlacement is what PlaceCachePoints weighs: the request's existing
// points and their TTL ranks, in prefix order tools -> system -> messages,
// and the tokens of the tools and the system prompt.
type cachePlacement struct {
	req                  *bedrockkit.Request
	caps                 bedrockkit.Capabilities
	minTokens            int
	ttl                  bedrockkit.CacheTTL
	sysN, sysMax, sysMin int
	msgN, msgMax         int
	toolN, toolRank      int
	toolTokens           int
	sysTokens            int
}

func newCachePlacement(req *bedrockkit.Request, caps bedrockkit.Capabilities, minTokens int, ttl bedrockkit.CacheTTL) *cachePlacement {
	p := &cachePlacement{req: req, caps: caps, minTokens: minTokens, ttl: ttl, msgMax: -1, toolRank: -1}
	p.sysN, p.sysMax, p.sysMin = partsPoints(req.System)
	for _, m := range req.Messages {
		n, mx, _ := partsPoints(m.Parts)
		p.msgN += n
		p.msgMax = max(p.msgMax, mx)
	}
	if req.ToolCache != nil {
		p.toolN, p.toolRank = 1, ttlRank(req.ToolCache.TTL)
	}
	return p
}

// choose returns the TTL for a new point that must not be shorter than
// any later point (laterMax) nor longer than any earlier one
// (earlierMin), or false when no TTL the model accepts fits.
func (p *cachePlacement) choose(laterMax, earlierMin int) (bedrockkit.CacheTTL, bool) {
	r := max(ttlRank(p.ttl), laterMax)
	if r > earlierMin || (r == 1 && !p.caps.CacheTTL1h) {
		return "", false
	}
	if r == 1 {
		return bedrockkit.CacheTTL1h, true
	}
	return p.ttl, true
}

// systemPoint is the TTL of a point at the end of the system prompt,
// unless it already ends with one or its prefix (the tools plus the
// system prompt) is too short.
func (p *cachePlacement) systemPoint() (bedrockkit.CacheTTL, bool) {
	sysEndsWithPoint := false
	if n := len(p.req.System); n > 0 {
		_, sysEndsWithPoint = p.req.System[n-1].(bedrockkit.CachePoint)
	}
	if p.sysTokens <= 0 || sysEndsWithPoint || p.toolTokens+p.sysTokens < p.minTokens {
		return "", false
	}
	earlierMin := 1
	if p.toolRank >= 0 {
		earlierMin = p.toolRank
	}
	if p.sysN > 0 {
		earlierMin = min(earlierMin, p.sysMin)
	}
	return p.choose(p.msgMax, earlierMin)
}

// toolPoint is the TTL of a point after the tool definitions, if the
// model caches them and they are long enough; sysPlacedRank is the rank
// of the system point just placed, or -1.
func (p *cachePlacement) toolPoint(sysPlacedRank int) (bedrockkit.CacheTTL, bool) {
	req := p.req
	if !p.caps.ToolCache || req.ToolCache != nil || len(req.Tools) == 0 || p.toolTokens < p.minTokens {
		return "", false
	}
	return p.choose(max(p.sysMax, p.msgMax, sysPlacedRank), 1)
}
