package otelkit

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit/kb"
)

// Syncer is what Sync needs: *kb.KnowledgeBase has this method.
type Syncer interface {
	Sync(ctx context.Context, src kb.Source, opts ...kb.SyncOptions) (*kb.SyncReport, error)
}

// Sync runs k.Sync(ctx, src, opts) inside a span "sync {name}" (operation
// "bedrockkit.kb.sync": the GenAI conventions define no ingestion
// operation) carrying the report's counts as bedrockkit.sync.* attributes
// (scanned, new, modified, deleted, failed, skipped, unchanged, chunks,
// embed_calls) and each failed or skipped document as a "document_not_indexed" event. The
// embedding calls of the sync are child spans when k's embedder is wrapped
// with Embedder. It records gen_ai.client.operation.duration too. The
// report and error are k.Sync's.
func (t *Telemetry) Sync(ctx context.Context, name string, k Syncer, src kb.Source, opts ...kb.SyncOptions) (*kb.SyncReport, error) {
	start := time.Now()
	base := []attribute.KeyValue{AttrOperationName.String("bedrockkit.kb.sync"), AttrDataSourceID.String(name)}
	spanName := "sync"
	if name != "" {
		spanName += " " + name
	}
	attrs := append([]attribute.KeyValue(nil), base...)
	if len(opts) > 0 && opts[0].Partition != "" { // k.Sync refuses more than one
		attrs = append(attrs, attribute.String("bedrockkit.partition", opts[0].Partition))
	}
	ctx, span := t.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	rep, err := k.Sync(ctx, src, opts...)
	if rep != nil {
		span.SetAttributes(
			attribute.Int("bedrockkit.sync.scanned", rep.Scanned),
			attribute.Int("bedrockkit.sync.new", rep.New),
			attribute.Int("bedrockkit.sync.modified", rep.Modified),
			attribute.Int("bedrockkit.sync.deleted", rep.Deleted),
			attribute.Int("bedrockkit.sync.failed", rep.Failed),
			attribute.Int("bedrockkit.sync.skipped", rep.Skipped),
			attribute.Int("bedrockkit.sync.unchanged", rep.Unchanged),
			attribute.Int("bedrockkit.sync.chunks", rep.Chunks),
			attribute.Int("bedrockkit.sync.embed_calls", rep.EmbedCalls),
			attribute.Int("bedrockkit.sync.failures_omitted", rep.FailuresOmitted),
		)
		for _, f := range rep.Failures {
			span.AddEvent("document_not_indexed", trace.WithAttributes(attribute.String("bedrockkit.sync.failure", f.Error())))
		}
	}
	if err != nil {
		et := ErrorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(AttrErrorType.String(et))
		base = append(base, AttrErrorType.String(et))
	}
	t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(base...))
	span.End()
	return rep, err
}
