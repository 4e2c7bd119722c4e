// Package cache saves tokens two ways.
//
// Cache is an exact-match response cache: a middleware that answers a
// request it has seen before from a Store (MemoryStore, bounded by entries
// and bytes with LRU eviction and a TTL, is the default; implement Store to
// share one across processes). Requests are matched on their normalised
// form (see Key): same model, prompt, tools, settings, guardrail and extra
// fields, with JSON compared by value and cache points ignored. Streams are
// served from the cache too. A hit costs nothing, and shows as such: its
// Usage is zero, so a pricing meter placed outside the cache records the
// call at no cost, while Lookup (Options.OnLookup) and Stats report the hit
// and the usage it saved:
//
//	model = bedrockkit.Chain(converse,
//		meter.Middleware(),      // outermost: sees hits at $0
//		responses.Middleware(),  // the response cache
//		cache.PromptCaching(cache.PromptCacheOptions{}))
//
// Each middleware takes the model's ID from the model it wraps
// (bedrockkit.ModelIDOf); name a model that does not say it with
// bedrockkit.WithModelID.
//
// Identical requests that miss at the same time make one model call: the
// first goes to the model, the others wait for its answer (each honouring
// its own context) and receive it as a hit; Generate and Stream calls both
// share this way (Options.DisableDedup turns it off). A call answered
// without reaching the model adds the event SpanEventHit to its trace span,
// which package otelkit's tracing middleware, placed outside the cache,
// shows as bedrockkit.cache.hit=true on its "chat" span.
//
// PromptCaching turns on Bedrock prompt caching: it places cache points
// after the system prompt and the tool definitions when the model supports
// them (bedrockkit.CapabilitiesOf) and the prefix is long enough to be
// cached, within Bedrock's limits (4 points, non-increasing TTLs). Its
// effect shows in Usage.CacheWriteTokens and CacheReadTokens, which package
// pricing prices at the cache rates.
package cache
