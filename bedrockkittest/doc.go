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
//     any adapter built on it — is tested end to end. It answers HTTP/1.1
//     and HTTP/2 with prior knowledge on plain HTTP, so other SDKs (the AWS
//     SDK for JavaScript sends bedrock-runtime calls over HTTP/2) work
//     against it too; testdata/jssdk/run.sh checks that.
//
// FakeBedrock serves:
//
//   - Converse: restJson1 bodies with every content block bedrockkit models
//     (text, cited text as citationsContent, image, document, toolUse,
//     toolResult, reasoningContent, cachePoint), stop reason, usage (cache
//     tokens included), metrics, and the service tier and latency mode that
//     served the call.
//   - ConverseStream: the binary application/vnd.amazon.eventstream framing,
//     with messageStart, contentBlockStart/Delta/Stop (text in chunks,
//     citation deltas, tool-input JSON in fragments, reasoning and
//     signatures), messageStop and metadata, each flushed; and, on request,
//     a mid-stream exception event, a stall, or a frame the SDK cannot
//     decode.
//   - CountTokens: a scripted count or a deterministic estimate, for the
//     models Bedrock counts.
//   - InvokeModel: Titan Text Embeddings V2 and Cohere Embed v3 answered
//     with HashEmbedder vectors and those models' request validation;
//     any other model answers a scripted raw body.
//   - InvokeModelWithResponseStream: scripted chunks of the model's native
//     streaming JSON, framed as Bedrock frames them.
//   - ApplyGuardrail: action NONE by default, or a scripted raw body.
//   - Errors the Bedrock way (status, X-Amzn-ErrorType, {"message": ...}),
//     which the SDK turns into its typed errors such as
//     *types.ThrottlingException.
//
// FakeBedrock refuses what Bedrock refuses, with Bedrock's messages: a
// conversation that starts with the assistant or does not alternate, tool
// results that do not answer the previous turn's tool uses, tool blocks
// without a toolConfig, maxTokens below 1, temperature or topP outside
// [0, 1], malformed or unknown model IDs, bare IDs of models that need an
// inference profile, blank text, empty content, a top-level json block,
// more than four cache points, a forced tool choice with extended thinking,
// and more (see Check). Relax turns classes of checks off.
//
// Script FakeBedrock per operation with Enqueue and inspect what it received
// with Requests and Calls. NewFakeBedrockTLS and WithBearerToken test Bedrock
// API-key (bearer) authentication, which the SDK sends over HTTPS only.
//
// FakeAgentRuntime serves the Bedrock Agent Runtime's Retrieve (knowledge
// bases) and Rerank operations the same way.
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
