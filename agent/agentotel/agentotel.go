package agentotel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent"
)

// Attribute keys of the OpenTelemetry GenAI semantic conventions used here.
const (
	AttrOperationName = attribute.Key("gen_ai.operation.name")
	AttrProviderName  = attribute.Key("gen_ai.provider.name")
	AttrAgentName     = attribute.Key("gen_ai.agent.name")
	AttrConversation  = attribute.Key("gen_ai.conversation.id")
	AttrRequestModel  = attribute.Key("gen_ai.request.model")
	AttrFinishReasons = attribute.Key("gen_ai.response.finish_reasons")
	AttrInputTokens   = attribute.Key("gen_ai.usage.input_tokens")
	// AttrCacheReadTokens and AttrCacheWriteTokens split out the cached part
	// of gen_ai.usage.input_tokens, which includes them (semconv v1.40).
	AttrCacheReadTokens  = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	AttrCacheWriteTokens = attribute.Key("gen_ai.usage.cache_creation.input_tokens")
	AttrOutputTokens     = attribute.Key("gen_ai.usage.output_tokens")
	AttrToolName         = attribute.Key("gen_ai.tool.name")
	AttrToolCallID       = attribute.Key("gen_ai.tool.call.id")
	AttrToolType         = attribute.Key("gen_ai.tool.type")
	AttrToolArguments    = attribute.Key("gen_ai.tool.call.arguments")
	AttrToolResult       = attribute.Key("gen_ai.tool.call.result")
	AttrErrorType        = attribute.Key("error.type")
)

// AttrToolAbandoned marks a tool span whose tool did not return within
// agent.AbandonGrace after its timeout: the run went on without it and its
// goroutine was left running (agent.ToolCalled.Abandoned). Such spans also
// carry error.type "tool_abandoned".
const AttrToolAbandoned = attribute.Key("bedrockkit.tool.abandoned")

// Attributes of authorization and long-term memory (bedrockkit's own; the
// GenAI conventions have none for them).
const (
	// AttrToolAuthorized is set on a tool span, and on the run's
	// "tool_authorized" event, when the agent has an Authorizer: true when
	// the call was allowed. A denied call's span also has error.type
	// "tool_denied", a call the authorizer failed to decide on
	// "authorizer_failed".
	AttrToolAuthorized = attribute.Key("bedrockkit.tool.authorized")
	// AttrAuthzPolicies are the IDs of the policies that decided a call.
	AttrAuthzPolicies = attribute.Key("bedrockkit.authz.policies")
	// AttrMemoryRecalled and AttrMemoryWithheld count the recollections of
	// long-term memory shown to the model and withheld by the guardrail
	// ("memory_recalled" event); AttrMemoryIDs are the IDs of those shown.
	AttrMemoryRecalled = attribute.Key("bedrockkit.memory.recalled")
	AttrMemoryWithheld = attribute.Key("bedrockkit.memory.withheld")
	AttrMemoryIDs      = attribute.Key("bedrockkit.memory.ids")
	// AttrMemoryError is the error of a recall the run went on without
	// (agent.Agent.ContinueOnRecallError) or of a refused hand-off
	// ("memory_handed_off" event).
	AttrMemoryError = attribute.Key("bedrockkit.memory.error")
)

// Options configure the spans.
type Options struct {
	// Provider is gen_ai.provider.name; empty means "aws.bedrock".
	Provider string
	// RecordContent adds tool arguments and results to the tool spans. They
	// may hold personal data; the conventions make them opt-in.
	RecordContent bool
}

// Run traces one agent run. Create it with Start, pass its context to the
// agent's Run, Stream or Resume, then call End.
type Run struct {
	opts Options
	tr   trace.Tracer
	ctx  context.Context
	span trace.Span

	mu    sync.Mutex
	usage bedrockkit.Usage
	ended bool
	// authz holds the authorization of calls whose tool span is not made
	// yet, by call ID; an entry goes when the span is made.
	authz map[string]agent.ToolAuthorized
}

// Start begins the "invoke_agent" span of a run of the agent named name on
// session sessionID, as a child of any span in ctx. The returned context
// carries the span and an agent observer (agent.WithObserver) that turns the
// run's events into child spans; use it for the run.
func Start(ctx context.Context, tracer trace.Tracer, name, sessionID string, opts Options) (context.Context, *Run) {
	if opts.Provider == "" {
		opts.Provider = "aws.bedrock"
	}
	spanName := "invoke_agent"
	if name != "" {
		spanName += " " + name
	}
	ctx, span := tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		AttrOperationName.String("invoke_agent"),
		AttrProviderName.String(opts.Provider),
		AttrAgentName.String(name),
		AttrConversation.String(sessionID),
	))
	r := &Run{opts: opts, tr: tracer, ctx: ctx, span: span}
	return agent.WithObserver(ctx, r.observe), r
}

// End ends the run span, recording err (nil for success or a pause). Calling
// End more than once has no further effect.
func (r *Run) End(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.ended = true
	r.span.SetAttributes(usageAttrs(r.usage)...)
	if err != nil {
		r.span.RecordError(err)
		r.span.SetStatus(codes.Error, err.Error())
		r.span.SetAttributes(AttrErrorType.String(errorType(err)))
	}
	r.span.End()
}

// usageAttrs reports u the way the GenAI conventions (v1.40) and package
// otelkit do: input tokens include cache reads and writes, which are also
// given on their own when present.
func usageAttrs(u bedrockkit.Usage) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		AttrInputTokens.Int(u.InputTokens + u.CacheReadTokens + u.CacheWriteTokens),
		AttrOutputTokens.Int(u.OutputTokens),
	}
	if u.CacheReadTokens > 0 {
		attrs = append(attrs, AttrCacheReadTokens.Int(u.CacheReadTokens))
	}
	if u.CacheWriteTokens > 0 {
		attrs = append(attrs, AttrCacheWriteTokens.Int(u.CacheWriteTokens))
	}
	return attrs
}

func (r *Run) observe(e agent.RunEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	switch e := e.(type) {
	case agent.ModelCalled:
		r.usage = r.usage.Add(e.Usage)
		r.modelSpan(e)
	case agent.ToolAuthorized:
		r.authorized(e)
	case agent.ToolCalled:
		r.toolSpan(e)
	case agent.GuardrailIntervened:
		r.span.AddEvent("guardrail_intervened", trace.WithAttributes(
			attribute.String("bedrockkit.guardrail.stage", string(e.Stage)),
			attribute.Bool("bedrockkit.guardrail.blocked", e.Verdict.Blocked),
			attribute.String("bedrockkit.guardrail.detail", e.Verdict.Detail),
		))
	case agent.MemoryRecalled:
		ids := make([]string, len(e.Recollections))
		for i, rec := range e.Recollections {
			ids[i] = rec.ID
		}
		attrs := append([]attribute.KeyValue{AttrMemoryRecalled.Int(len(e.Recollections)),
			AttrMemoryWithheld.Int(e.Withheld), AttrMemoryIDs.StringSlice(ids)}, memoryErrorAttrs(e.Err)...)
		r.span.AddEvent("memory_recalled", trace.WithAttributes(attrs...))
	case agent.MemoryHandedOff:
		r.span.AddEvent("memory_handed_off", trace.WithAttributes(memoryErrorAttrs(e.Err)...))
	case agent.Summarized:
		r.usage = r.usage.Add(e.Usage)
		r.span.AddEvent("history_summarized", trace.WithAttributes(attribute.Int("bedrockkit.summarized_messages", e.Messages)))
	case agent.Paused:
		r.span.AddEvent("paused", trace.WithAttributes(attribute.Int("bedrockkit.pending_calls", len(e.Pending.Calls))))
	}
}

// modelSpan records a model call as a "chat" span.
func (r *Run) modelSpan(e agent.ModelCalled) {
	name := "chat"
	if e.Model != "" {
		name += " " + e.Model
	}
	_, s := r.tr.Start(r.ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(e.Start),
		trace.WithAttributes(
			AttrOperationName.String("chat"),
			AttrProviderName.String(r.opts.Provider),
			AttrRequestModel.String(e.Model),
		))
	s.SetAttributes(usageAttrs(e.Usage)...)
	if e.StopReason != "" {
		s.SetAttributes(AttrFinishReasons.StringSlice([]string{string(e.StopReason)}))
	}
	if e.Err != nil {
		s.RecordError(e.Err)
		s.SetStatus(codes.Error, e.Err.Error())
		s.SetAttributes(AttrErrorType.String(errorType(e.Err)))
	}
	s.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
}

// authorized records an authorization as an event of the run and keeps it
// for the call's tool span.
func (r *Run) authorized(e agent.ToolAuthorized) {
	attrs := []attribute.KeyValue{
		AttrToolName.String(e.Call.Name),
		AttrToolCallID.String(e.Call.ID),
		AttrToolAuthorized.Bool(e.Err == nil && e.Decision.Allowed),
		AttrAuthzPolicies.StringSlice(e.Decision.Policies),
	}
	if e.Err != nil {
		attrs = append(attrs, AttrErrorType.String("authorizer_failed"))
	}
	r.span.AddEvent("tool_authorized", trace.WithAttributes(attrs...))
	if r.authz == nil {
		r.authz = map[string]agent.ToolAuthorized{}
	}
	r.authz[e.Call.ID] = e
}

// toolSpan records a tool call as an "execute_tool" span.
func (r *Run) toolSpan(e agent.ToolCalled) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		AttrOperationName.String("execute_tool"),
		AttrToolName.String(e.Call.Name),
		AttrToolCallID.String(e.Call.ID),
		AttrToolType.String("function"),
	)}
	if !e.Start.IsZero() {
		opts = append(opts, trace.WithTimestamp(e.Start))
	}
	_, s := r.tr.Start(r.ctx, "execute_tool "+e.Call.Name, opts...)
	if r.opts.RecordContent {
		s.SetAttributes(AttrToolArguments.String(string(e.Call.Input)),
			AttrToolResult.String(bedrockkit.Message{Parts: e.Result.Parts}.Text()))
	}
	az, hasAuthz := r.authz[e.Call.ID]
	delete(r.authz, e.Call.ID)
	if hasAuthz {
		s.SetAttributes(AttrToolAuthorized.Bool(az.Err == nil && az.Decision.Allowed), AttrAuthzPolicies.StringSlice(az.Decision.Policies))
	}
	switch {
	case e.Invalid:
		s.SetStatus(codes.Error, "invalid tool call")
		s.SetAttributes(AttrErrorType.String("invalid_tool_call"))
	case hasAuthz && az.Err != nil:
		s.SetStatus(codes.Error, "the tool authorizer failed; the call did not run")
		s.SetAttributes(AttrErrorType.String("authorizer_failed"))
	case hasAuthz && !az.Decision.Allowed:
		s.SetStatus(codes.Error, "tool call denied")
		s.SetAttributes(AttrErrorType.String("tool_denied"))
	case e.Panicked:
		s.SetStatus(codes.Error, "tool panicked")
		s.SetAttributes(AttrErrorType.String("panic"))
	case e.Abandoned:
		s.SetStatus(codes.Error, "tool abandoned after its timeout")
		s.SetAttributes(AttrErrorType.String("tool_abandoned"))
	case e.Result.IsError:
		s.SetStatus(codes.Error, "tool returned an error")
		s.SetAttributes(AttrErrorType.String("tool_error"))
	}
	if e.Replayed {
		s.SetAttributes(attribute.Bool("bedrockkit.tool.replayed", true))
	}
	if e.Abandoned {
		// The tool's goroutine is still running (see agent.Tool.Abandoned).
		s.SetAttributes(AttrToolAbandoned.Bool(true))
	}
	if !e.Start.IsZero() {
		s.End(trace.WithTimestamp(e.Start.Add(e.Duration)))
	} else {
		s.End()
	}
}

// memoryErrorAttrs describes a long-term memory error, if any.
func memoryErrorAttrs(err error) []attribute.KeyValue {
	if err == nil {
		return nil
	}
	return []attribute.KeyValue{AttrErrorType.String(errorType(err)), AttrMemoryError.String(err.Error())}
}

// errorType names an error's class for error.type.
func errorType(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{agent.ErrMaxIterations, "max_iterations"},
		{agent.ErrTooManyInvalidCalls, "too_many_invalid_calls"},
		{bedrockkit.ErrBudgetExceeded, "budget_exceeded"},
		{bedrockkit.ErrGuardrailBlocked, "guardrail_blocked"},
		{bedrockkit.ErrThrottled, "throttled"},
		{bedrockkit.ErrValidation, "validation"},
		{context.Canceled, "canceled"},
		{context.DeadlineExceeded, "timeout"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return fmt.Sprintf("%T", err)
}
