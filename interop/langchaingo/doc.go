// Package langchaingo connects bedrockkit and langchaingo
// (github.com/tmc/langchaingo) in both directions, so code written for one
// can use the other's models, embedders and retrievers:
//
//   - FromLLM makes any langchaingo llms.Model (OpenAI, Ollama, Anthropic,
//     Gemini, ...) a bedrockkit.Model. Tools, tool calls, tool results,
//     images, system prompts, streaming and token usage are mapped; the
//     result composes with bedrockkit middleware (retries, guardrails,
//     pricing, caching, tracing) and drives bedrockkit agents.
//   - NewLLM makes a bedrockkit.Model (Bedrock Converse or any other) a
//     langchaingo llms.Model, with tools and streaming through
//     llms.WithStreamingFunc.
//   - NewRetriever exposes a knowledge base (kb.KnowledgeBase, or
//     kb/bedrockkb's remote one) as a langchaingo schema.Retriever.
//   - NewVectorStore makes any kbstore.Store (kb/localindex, kb/pgvector, ...)
//     a langchaingo vectorstores.VectorStore that embeds with a
//     bedrockkit.Embedder, optionally chunks with a chunk strategy, and
//     honours langchaingo's namespace, filter, score-threshold, embedder and
//     deduplication options. Keep its documents out of partitions a
//     KnowledgeBase syncs (see VectorStore).
//   - FromEmbedder and ToEmbedder adapt embedders both ways.
//
// langchaingo is imported only by this package: the rest of bedrockkit does
// not depend on it.
//
// What does not map (langchaingo v0.1.14 has no way to express it):
// reasoning parts sent back to a model (there is no content part for
// reasoning or its signature), guardrail configuration, a cache point after
// the tool definitions, and Request.Extra fields other than thinking,
// reasoning effort and top_k. FromLLM drops these, or refuses them with
// bedrockkit.ErrUnsupported when Options.Strict is set. Cache points are
// sent as llms.CachedContent only when Options.CacheControl says the
// provider reads it. langchaingo's streaming callback carries bytes without
// saying whether they are text or a tool-call fragment (see FromLLM for how
// that is handled).
package langchaingo
