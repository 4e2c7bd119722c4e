// Package agent is an embeddable tool-calling agent: what Bedrock Agents and
// AgentCore do, in-process, over any bedrockkit.Model.
//
// An Agent calls its Model with the conversation and its tools; the tool
// calls the model makes are validated against their JSON Schema (unknown
// tools, invalid JSON and schema violations go back to the model as error
// results and count against Limits.MaxToolRetries), run — several at once
// when the model asks for several, bounded by Limits.Parallelism, results in
// call order — and their results go back to the model, until it answers
// without a tool call or Limits.MaxIterations (default 10) is reached, which
// returns ErrMaxIterations with the partial RunResult. A tool that returns an
// error, times out or panics is reported to the model; the run continues.
// Timeouts (Limits.ToolTimeout, ToolOptions.Timeout) hold whatever the tool does:
// a tool that ignores its context is abandoned AbandonGrace after its
// deadline, left to finish on its own goroutine with its result discarded,
// and counted by Tool.Abandoned and ToolCalled.Abandoned.
//
// Tools come from typed Go functions (NewFuncTool derives the schema from the
// input struct: json tags, required fields, enums and descriptions), from raw
// JSON Schemas (NewTool), from knowledge bases (KnowledgeBase, through the small
// Retriever interface) and from other agents (AsTool). Package
// agent/mcptools imports the tools of an MCP server.
// Tool.Call validates arguments and runs a tool outside a run, through the
// same code path the agent uses (tests, return-of-control handlers).
//
// Human in the loop: a tool built with ToolOptions.RequireConfirmation, or
// with NewReturnControlTool, pauses the run. The RunResult carries a Pending state; Resume
// it with Approve, Deny, Respond or RespondError for each call. A pause
// resumes once, before it expires, and only into the calls the model made:
// Resume continues the copy stored in Memory and refuses a Pending that
// differs from it. To resume in another process or from a client, set
// Agent.Pause.Key: the Pending then encodes (MarshalBinary, json.Marshal) to
// a form signed with HMAC-SHA256 that is safe to hand to an untrusted
// client, and Resume refuses unsigned, altered, forged or expired states
// (ErrPendingUnsigned, ErrPendingTampered, ErrPendingExpired).
//
// Retries: each call has an idempotency key (CallInfoFrom) and its result is
// recorded in the session until the turn completes. A run that fails midway
// (model error, cancellation) saves its unfinished turn as a Checkpoint;
// running the same input again, or retrying the same Resume, continues from
// it, so a retried turn never runs a tool that already finished.
//
// Sessions live in a Memory (NewInMemory; OpenFileMemory, whose writes are
// atomic and survive restarts; or package agent/pgmemory, which keeps them in
// PostgreSQL for services with several processes): history, session attributes (for tools),
// prompt attributes (for the model, one turn), the pending pause and the
// idempotency records. With HistoryLimits set, history over budget is
// summarised by the model, keeping the latest turns verbatim.
//
// Typed answers: with Agent.Output set (bedrockkit.OutputSchemaFor[T]), the
// model may call tools as usual and its final answer is a JSON value
// validated against the schema, sent back for repair while invalid
// (Agent.OutputOptions), and decoded by RunValue, ResumeValue or
// DecodeOutput. Models with native structured output get the schema
// natively; others an answer tool, offered beside the agent's tools (not
// forced, so the model can still call them); calling it ends the turn, and
// calls made beside it are not run. Each repair is a model call the Budget
// is asked about. An answer still invalid after the repairs ends the run
// with a *bedrockkit.OutputError.
//
// Every step is an Event (ModelCalled with usage, ToolAuthorized,
// ToolCalled with arguments and duration, Observation, GuardrailIntervened,
// MemoryRecalled, MemoryHandedOff, Summarized, OutputRetried, OutputValidated,
// Failure, Paused, Finished), delivered to Agent.OnEvent and to observers
// attached with WithObserver, or yielded by Stream, which also yields the
// model's text (ModelText). Package agent/agentotel turns them into
// OpenTelemetry spans following the GenAI semantic conventions.
//
// Cost: a run attributes its model calls to its session ID, so wrapping
// Agent.Model in a pricing.Meter is enough for Meter.SessionCost to report
// what each session cost (unless the caller chose a session with
// pricing.WithSession, which wins; collaborators run as tools count toward
// the caller's session). Package agent does not import pricing.
//
// Long-term memory (Agent.LongTerm) is recalled at the start of each turn
// and handed each finished turn. A failed recall ends the run (fail
// closed) unless Agent.ContinueOnRecallError is set.
//
// Guardrails and budgets plug in through the small Guard and Budget
// interfaces; the Guard sees user input, the model's text (the final answer
// and text written beside tool calls), tool inputs and tool results. No
// event, stream or result carries model text the Guard has not checked:
// without a Guard, Stream sends text as it arrives; with one, each model
// call's text is held until the call has ended and been checked, then sent
// guarded in one ModelText. The price is latency: the first text of an
// answer arrives when the model has finished it, not with its first token.
// A Guard decides on the whole text (a denied topic may only show in the
// whole answer), so nothing shorter can be released without risking text
// the verdict would block. For a structured answer, the Guard checks the
// JSON text; a masked answer must still match the schema, or it is
// withheld (a GuardrailError), never passed on as invalid JSON. Reasoning
// parts are not given to the Guard; guard them by wrapping Agent.Model in
// guardrail.Middleware.
package agent
