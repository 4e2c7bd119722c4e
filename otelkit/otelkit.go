package otelkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/cachehit"
)

// Attribute keys of the OpenTelemetry GenAI semantic conventions (v1.40)
// set by this package.
const (
	AttrOperationName      = attribute.Key("gen_ai.operation.name")
	AttrSystem             = attribute.Key("gen_ai.system")
	AttrProviderName       = attribute.Key("gen_ai.provider.name")
	AttrRequestModel       = attribute.Key("gen_ai.request.model")
	AttrRequestMaxTokens   = attribute.Key("gen_ai.request.max_tokens")
	AttrRequestTemperature = attribute.Key("gen_ai.request.temperature")
	AttrRequestTopP        = attribute.Key("gen_ai.request.top_p")
	AttrRequestStop        = attribute.Key("gen_ai.request.stop_sequences")
	AttrFinishReasons      = attribute.Key("gen_ai.response.finish_reasons")
	AttrInputTokens        = attribute.Key("gen_ai.usage.input_tokens")
	AttrOutputTokens       = attribute.Key("gen_ai.usage.output_tokens")
	AttrCacheReadTokens    = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	AttrCacheWriteTokens   = attribute.Key("gen_ai.usage.cache_creation.input_tokens")
	AttrTokenType          = attribute.Key("gen_ai.token.type")
	AttrEmbeddingDims      = attribute.Key("gen_ai.embeddings.dimension.count")
	AttrDataSourceID       = attribute.Key("gen_ai.data_source.id")
	AttrSystemInstructions = attribute.Key("gen_ai.system_instructions")
	AttrInputMessages      = attribute.Key("gen_ai.input.messages")
	AttrOutputMessages     = attribute.Key("gen_ai.output.messages")
	AttrRetrievalQuery     = attribute.Key("gen_ai.retrieval.query.text")
	AttrRetrievalDocuments = attribute.Key("gen_ai.retrieval.documents")
	AttrErrorType          = attribute.Key("error.type")

	// AttrStream (bedrockkit's own) is true on spans of streamed calls.
	AttrStream = attribute.Key("bedrockkit.stream")
	// AttrUsageEstimated (bedrockkit's own) is true when the usage was
	// estimated locally rather than reported by the model.
	AttrUsageEstimated = attribute.Key("bedrockkit.usage.estimated")
	// AttrEmbeddingInputs (bedrockkit's own) is the number of texts embedded.
	AttrEmbeddingInputs = attribute.Key("bedrockkit.embeddings.input_count")
	// AttrCacheHit (bedrockkit's own; the GenAI conventions v1.40 have no
	// attribute for a response cache, only gen_ai.usage.cache_read.* for
	// prompt caching) is true on a "chat" span whose answer came from a
	// response cache (package cache) instead of the model, and on the
	// gen_ai.client.operation.duration points of such calls.
	AttrCacheHit = attribute.Key("bedrockkit.cache.hit")
	// AttrCacheShared (bedrockkit's own) is true on a "chat" span whose
	// answer was shared from an identical call in flight (in-flight
	// de-duplication) rather than read from the cache's store.
	AttrCacheShared = attribute.Key("bedrockkit.cache.shared")
)

// EventCacheHit is the name of the span event that a response cache
// (package cache: cache.SpanEventHit) adds to the span in a call's context
// when it answers without reaching the model; its boolean attribute
// bedrockkit.cache.shared tells a shared answer from a store hit. A traced
// model (Telemetry.Middleware) leaves the SDK's span in the context untouched
// and learns of package cache's hits through a context value of its own,
// not from this event: another middleware adding the event does not make
// the "chat" span a hit.
const EventCacheHit = "bedrockkit.cache.hit"

// Metric names, as in the GenAI semantic conventions.
const (
	MetricTokenUsage        = "gen_ai.client.token.usage"
	MetricOperationDuration = "gen_ai.client.operation.duration"
)

// Bucket boundaries the conventions advise for the two histograms.
var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
)

const instrumentationName = "github.com/bedrockkit/bedrockkit/otelkit"

// Options configures New. The zero value uses the global providers and
// records no message content.
type Options struct {
	// TracerProvider creates the spans; nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider records the metrics; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// System is gen_ai.system and gen_ai.provider.name; empty means
	// "aws.bedrock". Set it for other models (for example "openai" for a
	// langchaingo OpenAI model).
	System string
	// CaptureContent records prompts, answers and retrieved text on the
	// spans (gen_ai.system_instructions, gen_ai.input.messages,
	// gen_ai.output.messages, gen_ai.retrieval.*). They may hold personal
	// data, so the conventions make them opt-in: off by default.
	CaptureContent bool
}

// Telemetry traces and measures models, embedders and retrievers. Create
// it with New; it is safe for concurrent use.
type Telemetry struct {
	cfg      Options
	tracer   trace.Tracer
	tokens   metric.Int64Histogram
	duration metric.Float64Histogram
}

// New returns a Telemetry that records to cfg's providers.
func New(cfg Options) (*Telemetry, error) {
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.System == "" {
		cfg.System = "aws.bedrock"
	}
	mt := cfg.MeterProvider.Meter(instrumentationName)
	tokens, err := mt.Int64Histogram(MetricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used"),
		metric.WithExplicitBucketBoundaries(tokenBuckets...))
	if err != nil {
		return nil, fmt.Errorf("otelkit: creating %s: %w", MetricTokenUsage, err)
	}
	duration, err := mt.Float64Histogram(MetricOperationDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		return nil, fmt.Errorf("otelkit: creating %s: %w", MetricOperationDuration, err)
	}
	return &Telemetry{cfg: cfg, tracer: cfg.TracerProvider.Tracer(instrumentationName), tokens: tokens, duration: duration}, nil
}

// Middleware returns a bedrockkit.Middleware tracing each call of the model
// it wraps, named by the model's own ID (bedrockkit.ModelIDOf: a
// ConverseModel says it, also inside retry, structured-output or pricing
// middleware):
//
//	model := bedrockkit.Chain(converse, tel.Middleware())
//
// The ID becomes gen_ai.request.model and the span name "chat {modelID}";
// a model that says no ID is traced as "chat" without
// gen_ai.request.model. Name such a model, or name one otherwise, with
// bedrockkit.WithModelID.
//
// Each Generate and each Stream is one client span "chat {modelID}" with the request settings, the usage, the finish
// reason and, on failure, error.type and an error status; and each records
// gen_ai.client.operation.duration and gen_ai.client.token.usage (input
// and output). gen_ai.usage.input_tokens counts every input token,
// cache reads and writes included, as the conventions ask; the cache parts
// are also given on their own. A stream's span ends when the stream does
// (also when the caller stops early).
//
// The span is put in the context given to next as the tracer made it
// (child spans are counted on it; trace.SpanFromContext gives the SDK's
// span); only a span with an invalid span context (a no-op tracer, as in
// metrics-only use) is wrapped, so that a cache hit in a nested call can
// still be told from one of this call.
//
// Response caches: when the wrapped model is, or contains, a response
// cache (package cache), a call the cache answers adds the event
// EventCacheHit to this span and tells this model so through the context;
// the span then gets AttrCacheHit (and AttrCacheShared for a shared answer), its
// usage attributes say zero tokens, no gen_ai.client.token.usage is
// recorded for it (no token was consumed) and its duration point carries
// AttrCacheHit, so hits neither count as consumed tokens nor skew model
// latency. When identical streams share one model call, the usage goes to
// the first stream to read the Metadata event: that span carries the
// tokens and is not marked; the other waiters' spans are marked shared,
// and the leader's, if it was not first, says zero tokens unmarked (it did
// reach the model). The token metric counts the call once either way.
// This is the supported order (tracing outside the cache):
//
//	bedrockkit.Chain(converse, tel.Middleware(), responses.Middleware())
//
// Inside the cache instead, the traced model is not called on a hit: only
// real model calls get a "chat" span and the cache's event lands on the
// caller's span. A hit of a cache used by a call nested inside next (one
// that starts its own span, or below another cache) does not mark this
// span.
func (t *Telemetry) Middleware() bedrockkit.Middleware {
	return func(next bedrockkit.Model) bedrockkit.Model {
		return &tracedModel{t: t, id: bedrockkit.ModelIDOf(next), next: next}
	}
}

type tracedModel struct {
	t    *Telemetry
	id   string
	next bedrockkit.Model
}

// ModelID returns the name the model is traced as (see
// bedrockkit.ModelIDOf): tracing calls the one model it wraps.
func (m *tracedModel) ModelID() string { return m.id }

func (m *tracedModel) base() []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		AttrOperationName.String("chat"),
		AttrSystem.String(m.t.cfg.System),
		AttrProviderName.String(m.t.cfg.System),
	}
	if m.id != "" {
		attrs = append(attrs, AttrRequestModel.String(m.id))
	}
	return attrs
}

// callSpan is a model call's span and the Recorder by which a response
// cache inside the call says it answered without calling the model.
type callSpan struct {
	span trace.Span
	hit  *cachehit.Recorder
}

func (m *tracedModel) start(ctx context.Context, req *bedrockkit.Request, stream bool) (context.Context, callSpan) {
	attrs := m.base()
	if stream {
		attrs = append(attrs, AttrStream.Bool(true))
	}
	if req != nil {
		if req.MaxTokens > 0 {
			attrs = append(attrs, AttrRequestMaxTokens.Int(req.MaxTokens))
		}
		if req.Temperature != nil {
			attrs = append(attrs, AttrRequestTemperature.Float64(float64(*req.Temperature)))
		}
		if req.TopP != nil {
			attrs = append(attrs, AttrRequestTopP.Float64(float64(*req.TopP)))
		}
		if len(req.StopSequences) > 0 {
			attrs = append(attrs, AttrRequestStop.StringSlice(req.StopSequences))
		}
		if m.t.cfg.CaptureContent {
			if sys := systemJSON(req.System); sys != "" {
				attrs = append(attrs, AttrSystemInstructions.String(sys))
			}
			attrs = append(attrs, AttrInputMessages.String(messagesJSON(req.Messages, "")))
		}
	}
	name := "chat"
	if m.id != "" {
		name += " " + m.id
	}
	ctx, span := m.t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	// The context keeps the SDK's own span (child spans are counted on it,
	// and callers may type-assert it); the cache's news travels apart.
	ctx, rec := cachehit.WithRecorder(ctx)
	return ctx, callSpan{span: span, hit: rec}
}

// finish records the outcome on the span and the metrics, then ends the span.
func (m *tracedModel) finish(ctx context.Context, cs callSpan, start time.Time, resp *bedrockkit.Response, err error) {
	span := cs.span
	metricAttrs := m.base()
	hit := cs.hit.Hit()
	if hit {
		span.SetAttributes(AttrCacheHit.Bool(true))
		if cs.hit.Shared() {
			span.SetAttributes(AttrCacheShared.Bool(true))
		}
	}
	if resp != nil {
		u := resp.Usage
		in := u.InputTokens + u.CacheReadTokens + u.CacheWriteTokens
		span.SetAttributes(AttrInputTokens.Int(in), AttrOutputTokens.Int(u.OutputTokens))
		if u.CacheReadTokens > 0 {
			span.SetAttributes(AttrCacheReadTokens.Int(u.CacheReadTokens))
		}
		if u.CacheWriteTokens > 0 {
			span.SetAttributes(AttrCacheWriteTokens.Int(u.CacheWriteTokens))
		}
		if u.Estimated {
			span.SetAttributes(AttrUsageEstimated.Bool(true))
		}
		if resp.StopReason != "" {
			span.SetAttributes(AttrFinishReasons.StringSlice([]string{string(resp.StopReason)}))
		}
		if m.t.cfg.CaptureContent && err == nil {
			span.SetAttributes(AttrOutputMessages.String(messagesJSON([]bedrockkit.Message{resp.Message}, string(resp.StopReason))))
		}
		if (err == nil || u.Total() > 0) && !hit {
			m.t.tokens.Record(ctx, int64(in), metric.WithAttributes(append(metricAttrs, AttrTokenType.String("input"))...))
			m.t.tokens.Record(ctx, int64(u.OutputTokens), metric.WithAttributes(append(metricAttrs, AttrTokenType.String("output"))...))
		}
	}
	if err != nil {
		et := ErrorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(AttrErrorType.String(et))
		metricAttrs = append(metricAttrs, AttrErrorType.String(et))
	}
	if hit {
		metricAttrs = append(metricAttrs, AttrCacheHit.Bool(true))
	}
	m.t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(metricAttrs...))
	span.End()
}

func (m *tracedModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	start := time.Now()
	ctx, span := m.start(ctx, req, false)
	resp, err := m.next.Generate(ctx, req)
	m.finish(ctx, span, start, resp, err)
	return resp, err
}

func (m *tracedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		start := time.Now()
		ctx, span := m.start(ctx, req, true)
		first := true
		// Collect gathers the response for the span while the events pass
		// through to the caller unchanged.
		stoppedEarly := false
		resp, err := bedrockkit.Collect(func(collect func(bedrockkit.StreamEvent, error) bool) {
			for ev, err := range m.next.Stream(ctx, req) {
				if first && err == nil {
					span.span.AddEvent("gen_ai.first_chunk")
					first = false
				}
				if !yield(ev, err) {
					stoppedEarly = true
					return
				}
				if !collect(ev, err) {
					return
				}
			}
		})
		if stoppedEarly {
			span.span.SetAttributes(attribute.Bool("bedrockkit.stream.abandoned", true))
		}
		m.finish(ctx, span, start, resp, err)
	}
}

// ErrorType names an error's class for error.type: the bedrockkit sentinel
// it wraps ("throttled", "validation", "guardrail_blocked", ...), "canceled"
// or "timeout" for context errors, else its Go type.
func ErrorType(err error) string {
	for _, k := range errorClasses {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return fmt.Sprintf("%T", err)
}

var errorClasses = []struct {
	err  error
	name string
}{
	{bedrockkit.ErrThrottled, "throttled"},
	{bedrockkit.ErrServiceUnavailable, "service_unavailable"},
	{bedrockkit.ErrInternal, "internal"},
	{bedrockkit.ErrModelNotReady, "model_not_ready"},
	{bedrockkit.ErrModelTimeout, "model_timeout"},
	{bedrockkit.ErrContextWindow, "context_window_exceeded"},
	{bedrockkit.ErrValidation, "validation"},
	{bedrockkit.ErrAccessDenied, "access_denied"},
	{bedrockkit.ErrNotFound, "not_found"},
	{bedrockkit.ErrModelError, "model_error"},
	{bedrockkit.ErrQuotaExceeded, "quota_exceeded"},
	{bedrockkit.ErrBudgetExceeded, "budget_exceeded"},
	{bedrockkit.ErrGuardrailBlocked, "guardrail_blocked"},
	{bedrockkit.ErrStreamIdle, "stream_idle"},
	{bedrockkit.ErrMalformedStream, "malformed_stream"},
	{bedrockkit.ErrUnsupported, "unsupported"},
	{bedrockkit.ErrInvalidInput, "invalid_input"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "timeout"},
}

// Embedder returns next traced: each Embed call is a client span
// "embeddings {modelID}" with gen_ai.embeddings.dimension.count and the
// number of texts, and records gen_ai.client.operation.duration. Embedders
// report no token usage, so no token metric is recorded (pricing's meter
// estimates embedding tokens for cost). An empty modelID means the ID the
// embedder reports (bedrockkit.ModelIDOf: TitanEmbedder and CohereEmbedder
// do).
func (t *Telemetry) Embedder(modelID string, next bedrockkit.Embedder) bedrockkit.Embedder {
	if modelID == "" {
		modelID = bedrockkit.ModelIDOf(next)
	}
	return &tracedEmbedder{t: t, id: modelID, next: next}
}

type tracedEmbedder struct {
	t    *Telemetry
	id   string
	next bedrockkit.Embedder
}

func (e *tracedEmbedder) Dimensions() int { return e.next.Dimensions() }

// ModelID returns the name the embedder is traced as (see
// bedrockkit.ModelIDOf).
func (e *tracedEmbedder) ModelID() string { return e.id }

func (e *tracedEmbedder) Embed(ctx context.Context, texts []string, purpose bedrockkit.Purpose) ([][]float32, error) {
	start := time.Now()
	base := []attribute.KeyValue{
		AttrOperationName.String("embeddings"),
		AttrSystem.String(e.t.cfg.System),
		AttrProviderName.String(e.t.cfg.System),
	}
	if e.id != "" {
		base = append(base, AttrRequestModel.String(e.id))
	}
	name := "embeddings"
	if e.id != "" {
		name += " " + e.id
	}
	ctx, span := e.t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(base...),
		trace.WithAttributes(AttrEmbeddingInputs.Int(len(texts)), attribute.String("bedrockkit.embeddings.purpose", purpose.String())))
	vecs, err := e.next.Embed(ctx, texts, purpose)
	if len(vecs) > 0 {
		span.SetAttributes(AttrEmbeddingDims.Int(len(vecs[0])))
	}
	if err != nil {
		et := ErrorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(AttrErrorType.String(et))
		base = append(base, AttrErrorType.String(et))
	}
	e.t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(base...))
	span.End()
	return vecs, err
}

// messagesJSON renders messages in the conventions' gen_ai.input.messages
// / gen_ai.output.messages shape: [{"role", "parts": [{"type", ...}]}].
func messagesJSON(msgs []bedrockkit.Message, finish string) string {
	type part struct {
		Type      string          `json:"type"`
		Content   string          `json:"content,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Arguments json.RawMessage `json:"arguments,omitempty"`
		Response  string          `json:"response,omitempty"`
	}
	type msg struct {
		Role         string `json:"role"`
		Parts        []part `json:"parts"`
		FinishReason string `json:"finish_reason,omitempty"`
	}
	out := make([]msg, 0, len(msgs))
	for _, m := range msgs {
		om := msg{Role: string(m.Role), Parts: []part{}, FinishReason: finish}
		for _, p := range m.Parts {
			switch p := p.(type) {
			case bedrockkit.Text:
				om.Parts = append(om.Parts, part{Type: "text", Content: p.Text})
			case bedrockkit.Reasoning:
				om.Parts = append(om.Parts, part{Type: "reasoning", Content: p.Text})
			case bedrockkit.ToolCall:
				args := p.Input
				if !json.Valid(args) {
					args = nil
				}
				om.Parts = append(om.Parts, part{Type: "tool_call", ID: p.ID, Name: p.Name, Arguments: args})
			case bedrockkit.ToolResult:
				om.Parts = append(om.Parts, part{Type: "tool_call_response", ID: p.CallID, Response: partsText(p.Parts)})
			case bedrockkit.Image:
				om.Parts = append(om.Parts, part{Type: "blob", Content: "image/" + string(p.Format)})
			case bedrockkit.Document:
				om.Parts = append(om.Parts, part{Type: "blob", Content: "document " + p.Name})
			}
		}
		out = append(out, om)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func systemJSON(parts []bedrockkit.Part) string {
	text := (bedrockkit.Message{Parts: parts}).Text()
	if text == "" {
		return ""
	}
	b, _ := json.Marshal([]map[string]string{{"type": "text", "content": text}})
	return string(b)
}

func partsText(parts []bedrockkit.Part) string {
	var s string
	for _, p := range parts {
		switch p := p.(type) {
		case bedrockkit.Text:
			s += p.Text
		case bedrockkit.JSON:
			s += string(p.Value)
		}
	}
	return s
}
