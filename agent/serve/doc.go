// Package serve puts an agent behind HTTP on Amazon Bedrock AgentCore
// Runtime's HTTP protocol contract, so the same agent runs in a Go
// service, deploys unchanged to AgentCore Runtime, and scales past one
// process.
//
// Handler serves POST /invocations and GET /ping. An invocation's JSON
// body (InvocationRequest) holds a "prompt" for a new turn, or "resume"
// with the decisions for a paused run; the session comes from the
// X-Amzn-Bedrock-AgentCore-Runtime-Session-Id header (33 to 256
// characters; a new one is made when it is missing and returned in the
// same header). The reply is one JSON document (InvocationResponse), or,
// when the request's Accept header asks for text/event-stream, a stream
// of server-sent events, one JSON InvocationEvent per "data:" line, ending
// with "finished", "paused" or "error". Errors are JSON {"error",
// "error_type"} with the status codes of AgentCore's InvokeAgentRuntime:
//
//	400 ValidationException        bad JSON, bad UTF-8, bad session ID, bad decisions
//	401 UnauthorizedException      no or invalid bearer token (WWW-Authenticate: Bearer)
//	403 AccessDeniedException      valid token, client or scope not allowed
//	404 ResourceNotFoundException  resume of a session that does not exist; unknown path
//	405                            wrong method (Allow header)
//	409 RetryableConflictException the session is running another invocation
//	409 ConflictException          the pause was already resumed or replaced
//	402 ServiceQuotaExceededException the agent's token budget is spent
//	413                            body over Options.MaxBodyBytes
//	415                            body not application/json
//	429 ThrottlingException        over Options.MaxConcurrent, or the model throttled
//	500 InternalServerException    the run failed (LimitExceededException for its limits)
//	503 ServiceUnavailableException shutting down, or the identity provider unreachable
//
// A guardrail that blocks the input or the answer is not an error: the
// reply has status "blocked" and the guardrail's message as its output.
//
// Sessions: one invocation per session at a time. A concurrent one is
// refused with 409 (not queued); retry it when the first has finished.
// The session's state lives in the agent's Memory, so with a shared
// Memory (agent/pgmemory) and a shared SessionLocker (agent/serve/pglock)
// any replica continues any session. A paused run (confirmation or return
// of control) answers with its pending calls (PendingState, which holds
// no internal state); the client answers them in a later invocation with
// the pause's ID, and the server resumes from its own stored copy.
//
// Callers: Options.Authorizer (package agent/identity) verifies each
// invocation's bearer token; the verified identity.Caller travels in the
// context to tools and memory, each caller's sessions are kept apart, and
// its subject is recorded on the span. Serving without authentication is
// chosen explicitly with identity.Anonymous.
//
// Tracing: each invocation is a server span continuing the caller's W3C
// trace context (traceparent), carrying session.id and
// gen_ai.conversation.id, with the agent's invoke_agent span
// (agent/agentotel) below it. Prompts, answers and tool contents are
// recorded only with Options.RecordContent. Only the OpenTelemetry API is
// used; install an SDK in your program.
//
// ListenAndServe serves a Handler alone on :8080 and shuts down
// gracefully on SIGTERM: new invocations are refused with 503 while the
// running ones finish. Client calls a served agent (Invoke, Stream,
// Resume, Ping), also one deployed to AgentCore Runtime with an OAuth
// authorizer.
package serve
