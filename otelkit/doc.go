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
//   - a span "retrieval {knowledge base}" per Retrieve call;
//   - the histograms gen_ai.client.token.usage (by gen_ai.token.type input
//     and output) and gen_ai.client.operation.duration (seconds).
//
// Message content (system prompt, input and output messages, retrieval
// queries and documents) is recorded only when Config.CaptureContent is
// set: it may hold personal data.
//
// Cost metrics come from package pricing (MeterConfig.MeterProvider), agent
// runs from package agent/agentotel; the spans of a traced model nest under
// an agent's spans when the agent's context carries them.
//
// OpenTelemetry stays out of the root package: only code that imports
// otelkit depends on it.
package otelkit
