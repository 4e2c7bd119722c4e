package otelkit

import (
	"context"
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit/kb"
)

// Retriever is what a knowledge base offers for retrieval: *kb.KnowledgeBase
// and kb/bedrockkb's remote knowledge base both have this method.
type Retriever interface {
	Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error)
}

// Retriever returns next traced: each Retrieve is a span "retrieval {name}"
// (gen_ai.operation.name "retrieval", gen_ai.data_source.id name, the
// search type, the number of results asked and returned) and records
// gen_ai.client.operation.duration. With Options.CaptureContent the query
// and the retrieved documents (ID and score) are recorded too.
func (t *Telemetry) Retriever(name string, next Retriever) Retriever {
	return &tracedRetriever{t: t, name: name, next: next}
}

type tracedRetriever struct {
	t    *Telemetry
	name string
	next Retriever
}

func (r *tracedRetriever) Retrieve(ctx context.Context, query string, opts ...kb.RetrieveOptions) ([]kb.RetrievalResult, error) {
	start := time.Now()
	base := []attribute.KeyValue{
		AttrOperationName.String("retrieval"),
		AttrDataSourceID.String(r.name),
	}
	attrs := append([]attribute.KeyValue(nil), base...)
	if len(opts) > 0 { // the Retrieve called refuses more than one
		if opts[0].SearchType != "" {
			attrs = append(attrs, attribute.String("bedrockkit.retrieval.search_type", string(opts[0].SearchType)))
		}
		if opts[0].NumberOfResults > 0 {
			attrs = append(attrs, attribute.Int("bedrockkit.retrieval.requested", opts[0].NumberOfResults))
		}
	}
	if r.t.cfg.CaptureContent {
		attrs = append(attrs, AttrRetrievalQuery.String(query))
	}
	spanName := "retrieval"
	if r.name != "" {
		spanName += " " + r.name
	}
	ctx, span := r.t.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	res, err := r.next.Retrieve(ctx, query, opts...)
	span.SetAttributes(attribute.Int("bedrockkit.retrieval.returned", len(res)))
	if r.t.cfg.CaptureContent && len(res) > 0 {
		type doc struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
		}
		docs := make([]doc, len(res))
		for i, x := range res {
			docs[i] = doc{ID: x.DocumentID, Score: x.Score}
		}
		b, _ := json.Marshal(docs)
		span.SetAttributes(AttrRetrievalDocuments.String(string(b)))
	}
	if err != nil {
		et := ErrorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(AttrErrorType.String(et))
		base = append(base, AttrErrorType.String(et))
	}
	r.t.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(base...))
	span.End()
	return res, err
}
