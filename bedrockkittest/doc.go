// Package bedrockkittest is the test kit for code built on bedrockkit, in the
// spirit of net/http/httptest: everything runs in-process, offline, with no
// AWS credentials, and gives the same result on every run.
//
// It offers three tools, from the fastest to the most faithful:
//
//   - ScriptedModel, a bedrockkit.Model that replays scripted Steps (text,
//     tool calls, reasoning, errors, raw stream events) in order and records
//     every request, for unit tests of agents, RAG pipelines and middleware.
//     A call beyond the script fails with ErrScriptExhausted.
//   - HashEmbedder, a deterministic bedrockkit.Embedder based on feature
//     hashing (FNV-1a over words, word pairs and character 3-grams): no
//     model, the same vectors in every process, and texts that share words
//     get similar vectors, so retrieval tests have meaningful rankings.
//   - FakeBedrock, an HTTP server that speaks the Bedrock runtime's real wire
//     protocols, so a real *bedrockruntime.Client from aws-sdk-go-v2 — and
//     any adapter built on it — is tested end to end.
//
// FakeBedrock serves:
//
//   - Converse: restJson1 bodies with every content block bedrockkit models
//     (text, image, document, toolUse, toolResult, reasoningContent,
//     cachePoint), stop reason, usage (cache tokens included) and metrics.
//   - ConverseStream: the binary application/vnd.amazon.eventstream framing,
//     with messageStart, contentBlockStart/Delta/Stop (text in chunks,
//     tool-input JSON in fragments, reasoning and signatures), messageStop
//     and metadata, each flushed; and, on request, a mid-stream exception
//     event, a stall, or a frame the SDK cannot decode.
//   - InvokeModel: Titan Text Embeddings V2 and Cohere Embed v3 answered
//     with HashEmbedder vectors and those models' request validation;
//     any other model answers a scripted raw body.
//   - ApplyGuardrail: action NONE by default, or a scripted raw body.
//   - Errors the Bedrock way (status, X-Amzn-ErrorType, {"message": ...}),
//     which the SDK turns into its typed errors such as
//     *types.ThrottlingException.
//
// Script FakeBedrock per operation with Enqueue and inspect what it received
// with Requests and Calls. NewFakeBedrockTLS and WithBearerToken test Bedrock
// API-key (bearer) authentication, which the SDK sends over HTTPS only.
//
// A note on aws-sdk-go-v2 (smithy-go v1.28.9): all event streams opened by one
// *bedrockruntime.Client share one event-stream codec, so concurrent
// ConverseStream calls on one client are a data race under -race
// (aws/smithy-go#714). Passing a fresh protocol per call avoids it:
//
//	client.ConverseStream(ctx, in, func(o *bedrockruntime.Options) {
//		o.Protocol = restjson1.New(schemas.AmazonBedrockFrontendService)
//	})
package bedrockkittest
