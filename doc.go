// Package bedrockkit is the shared vocabulary of the bedrockkit library and
// its Amazon Bedrock runtime adapters.
//
// The vocabulary — Message and its Part types, Request, Response, Usage,
// StopReason, the Model and Embedder interfaces, Middleware and the error
// values — is what every other package (chunk, kb, agent, guardrail, pricing)
// speaks. The adapters call Bedrock's Converse, ConverseStream and InvokeModel
// APIs through aws-sdk-go-v2; package bedrockkittest provides offline
// stand-ins (a scripted Model, a deterministic Embedder and a fake Bedrock
// server speaking the real wire protocol) for tests.
package bedrockkit
