// Package otelkit exports bedrockkit models, embedders and knowledge-base
// retrieval to OpenTelemetry, following the GenAI semantic conventions
// (v1.40):
//
//   - a client span "chat {model}" per model call (Generate or Stream) with
//     gen_ai.operation.name, gen_ai.system / gen_ai.provider.name
//     ("aws.bedrock" by default), gen_ai.request.model, max_tokens,
//     temperature, top_p and stop_sequences, gen_ai.usage.input_tokens
//     (cache reads and writes included, as the conventions ask) and
//     output_tokens, gen_ai.usage.cache_read.input_tokens and
//     cache_creation.input_tokens, gen_ai.response.finish_reasons, and
//     error.type with an error status on failure;
//   - a client span "embeddings {model}" per Embed call;
//   - a span "retrieval {knowledge base}" per Retrieve call, and a span
//     "sync {knowledge base}" per Sync run with the ingestion counts (the
//     embedding calls of both nest under them);
//   - the histograms gen_ai.client.token.usage (by gen_ai.token.type input
//     and output) and gen_ai.client.operation.duration (seconds).
//
// A call answered by a response cache (package cache) placed inside the
// traced model gets bedrockkit.cache.hit=true on its "chat" span (and
// bedrockkit.cache.shared=true when it shared an identical call in
// flight) and is left out of gen_ai.client.token.usage; the conventions
// define no attribute for this. The cache adds the span event
// EventCacheHit to the "chat" span and signals the hit to this package
// through a context value (neither package imports the other); the span
// in the context stays the SDK's own. Put the tracing middleware outside
// the cache; inside it, only calls that reach the model are traced.
//
// Message content (system prompt, input and output messages, retrieval
// queries and documents) is recorded only when Options.CaptureContent is
// set: it may hold personal data.
//
// Wrap a model with Telemetry.Middleware (it takes the model's ID from
// the model, see bedrockkit.ModelIDOf) and an embedder with
// Telemetry.Embedder:
//
//	model := bedrockkit.Chain(converse, tel.Middleware())
//
// NewCostMetrics reports a pricing.Meter's calls as counters of cost (in
// nano-dollars), tokens and calls per model, tenant and tags, so that
// package pricing itself needs no OpenTelemetry.
//
// Agent runs are traced by package agent/agentotel, which already emits a
// "chat" span per model call of an agent from the agent's events: tracing
// that agent's model with Telemetry.Middleware as well gives two spans per
// call (the one from this package, a child of the run span, carries the
// request settings and the time to the first streamed chunk).
//
// Both packages follow the v1.40 conventions: gen_ai.usage.input_tokens
// includes cache reads and writes, which are also reported on their own.
//
// OpenTelemetry stays out of the root package: only code that imports
// otelkit depends on it.
package otelkit
