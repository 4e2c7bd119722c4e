// Package bedrockkittest is the test kit for code built on bedrockkit, in the
// spirit of net/http/httptest: everything runs in-process, offline, with no
// AWS credentials, and gives the same result on every run.
//
// It offers three tools, from the fastest to the most faithful:
//
//   - ScriptedModel, a bedrockkit.Model that replays scripted answers (text,
//     tool calls, reasoning, errors, raw stream events) in order and records
//     every request, for unit tests of agents, RAG pipelines and middleware.
//   - HashEmbedder, a deterministic bedrockkit.Embedder based on feature
//     hashing: no model, stable vectors, and similar texts get similar
//     vectors, so retrieval tests have meaningful rankings.
//   - FakeBedrock, an HTTP server that speaks the Bedrock runtime's real wire
//     protocols (restJson1 bodies, the binary event-stream framing of
//     ConverseStream, Bedrock-style errors), so a real
//     *bedrockruntime.Client from aws-sdk-go-v2 — and any adapter built on
//     it — can be tested end to end, including throttling, mid-stream
//     exceptions, stalled streams and malformed frames.
package bedrockkittest
