package otelkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/localindex"
	"github.com/bedrockkit/bedrockkit/otelkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type rig struct {
	exp    *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	tel    *otelkit.Telemetry
}

func newRig(t *testing.T, capture bool) *rig {
	t.Helper()
	r := &rig{exp: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(r.exp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { r.tp.Shutdown(context.Background()); mp.Shutdown(context.Background()) })
	tel, err := otelkit.New(otelkit.Options{TracerProvider: r.tp, MeterProvider: mp, CaptureContent: capture})
	if err != nil {
		t.Fatal(err)
	}
	r.tel = tel
	return r
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// histograms returns, per metric name and attribute set (encoded), the
// count and sum of the histogram points.
func (r *rig) histograms(t *testing.T) map[string][2]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+"|"+p.Attributes.Encoded(attribute.DefaultEncoder())] = [2]float64{float64(p.Count), float64(p.Sum)}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name+"|"+p.Attributes.Encoded(attribute.DefaultEncoder())] = [2]float64{float64(p.Count), p.Sum}
				}
			}
		}
	}
	return out
}

func find(h map[string][2]float64, name string, parts ...string) ([2]float64, bool) {
	for k, v := range h {
		if !strings.HasPrefix(k, name+"|") {
			continue
		}
		ok := true
		for _, p := range parts {
			if !strings.Contains(k, p) {
				ok = false
			}
		}
		if ok {
			return v, true
		}
	}
	return [2]float64{}, false
}

func TestGenerateSpanAndMetrics(t *testing.T) {
	r := newRig(t, false)
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message:    bedrockkit.AssistantText("secret answer"),
		StopReason: bedrockkit.StopEndTurn,
		Usage:      bedrockkit.Usage{InputTokens: 10, OutputTokens: 5, CacheReadTokens: 1000, CacheWriteTokens: 7},
	}})
	m := bedrockkit.Chain(bedrockkit.WithModelID(sm, "us.anthropic.claude-3-7-sonnet-20250219-v1:0"), r.tel.Middleware())
	temp, topP := float32(0.25), float32(0.5)
	parentCtx, parent := r.tp.Tracer("test").Start(context.Background(), "parent")
	_, err := m.Generate(parentCtx, &bedrockkit.Request{
		System:    []bedrockkit.Part{bedrockkit.Text{Text: "secret system"}},
		Messages:  []bedrockkit.Message{bedrockkit.UserText("secret question")},
		MaxTokens: 256, Temperature: &temp, TopP: &topP, StopSequences: []string{"END"},
	})
	parent.End()
	if err != nil {
		t.Fatal(err)
	}
	spans := r.exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name != "chat us.anthropic.claude-3-7-sonnet-20250219-v1:0" || s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("span %q kind %v parent %v", s.Name, s.SpanKind, s.Parent.SpanID())
	}
	a := attrs(s)
	for k, want := range map[attribute.Key]any{
		otelkit.AttrOperationName:      "chat",
		otelkit.AttrSystem:             "aws.bedrock",
		otelkit.AttrProviderName:       "aws.bedrock",
		otelkit.AttrRequestModel:       "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
		otelkit.AttrRequestMaxTokens:   int64(256),
		otelkit.AttrRequestTemperature: 0.25,
		otelkit.AttrRequestTopP:        0.5,
		otelkit.AttrInputTokens:        int64(1017),
		otelkit.AttrOutputTokens:       int64(5),
		otelkit.AttrCacheReadTokens:    int64(1000),
		otelkit.AttrCacheWriteTokens:   int64(7),
	} {
		if got := a[k].AsInterface(); got != want {
			t.Errorf("%s = %v (%T), want %v", k, got, got, want)
		}
	}
	if fr := a[otelkit.AttrFinishReasons].AsStringSlice(); len(fr) != 1 || fr[0] != "end_turn" {
		t.Errorf("finish reasons %v", fr)
	}
	for k, v := range a {
		if strings.Contains(v.Emit(), "secret") {
			t.Errorf("content recorded without CaptureContent: %s=%s", k, v.Emit())
		}
	}

	h := r.histograms(t)
	if v, ok := find(h, otelkit.MetricTokenUsage, "gen_ai.token.type=input", "gen_ai.request.model=us.anthropic"); !ok || v != [2]float64{1, 1017} {
		t.Errorf("input token metric %v %v; all: %v", v, ok, h)
	}
	if v, ok := find(h, otelkit.MetricTokenUsage, "gen_ai.token.type=output"); !ok || v != [2]float64{1, 5} {
		t.Errorf("output token metric %v %v", v, ok)
	}
	if v, ok := find(h, otelkit.MetricOperationDuration, "gen_ai.operation.name=chat"); !ok || v[0] != 1 {
		t.Errorf("duration metric %v %v", v, ok)
	}
}

func TestCaptureContent(t *testing.T) {
	r := newRig(t, true)
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.TextStep("the answer"))
	m := r.tel.Middleware()(bedrockkit.WithModelID(sm, "m"))
	if _, err := m.Generate(context.Background(), &bedrockkit.Request{
		System:   []bedrockkit.Part{bedrockkit.Text{Text: "be nice"}},
		Messages: []bedrockkit.Message{bedrockkit.UserText("the question")},
	}); err != nil {
		t.Fatal(err)
	}
	a := attrs(r.exp.GetSpans()[0])
	if got := a[otelkit.AttrSystemInstructions].AsString(); got != `[{"content":"be nice","type":"text"}]` {
		t.Errorf("system %s", got)
	}
	if got := a[otelkit.AttrInputMessages].AsString(); got != `[{"role":"user","parts":[{"type":"text","content":"the question"}]}]` {
		t.Errorf("input %s", got)
	}
	if got := a[otelkit.AttrOutputMessages].AsString(); got != `[{"role":"assistant","parts":[{"type":"text","content":"the answer"}],"finish_reason":"end_turn"}]` {
		t.Errorf("output %s", got)
	}
}

func TestGenerateError(t *testing.T) {
	r := newRig(t, false)
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Err: fmt.Errorf("slow down: %w", bedrockkit.ErrThrottled)})
	_, err := r.tel.Middleware()(bedrockkit.WithModelID(sm, "m")).Generate(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}})
	if !errors.Is(err, bedrockkit.ErrThrottled) {
		t.Fatalf("error not passed through: %v", err)
	}
	s := r.exp.GetSpans()[0]
	if s.Status.Code != codes.Error || attrs(s)[otelkit.AttrErrorType].AsString() != "throttled" || len(s.Events) == 0 {
		t.Fatalf("status %v attrs %v", s.Status, s.Attributes)
	}
	h := r.histograms(t)
	if _, ok := find(h, otelkit.MetricOperationDuration, "error.type=throttled"); !ok {
		t.Errorf("duration metric without error.type: %v", h)
	}
	if _, ok := find(h, otelkit.MetricTokenUsage); ok {
		t.Errorf("token metric recorded for a failed call without usage")
	}
}

func TestStream(t *testing.T) {
	r := newRig(t, false)
	events := []bedrockkit.StreamEvent{
		bedrockkit.TextDelta{Text: "a"}, bedrockkit.TextDelta{Text: "b"},
		bedrockkit.Stop{Reason: bedrockkit.StopMaxTokens},
		bedrockkit.StreamMetadata{Usage: bedrockkit.Usage{InputTokens: 4, OutputTokens: 2}},
	}
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Events: events}, bedrockkittest.Step{Events: events})
	m := r.tel.Middleware()(bedrockkit.WithModelID(sm, "m"))
	var got []bedrockkit.StreamEvent
	for ev, err := range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(r.exp.GetSpans()) != 0 {
			t.Fatal("span ended before the stream did")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(events) {
		t.Fatalf("events changed: %v", got)
	}
	s := r.exp.GetSpans()[0]
	a := attrs(s)
	if a[otelkit.AttrInputTokens].AsInt64() != 4 || a[otelkit.AttrOutputTokens].AsInt64() != 2 || a[otelkit.AttrFinishReasons].AsStringSlice()[0] != "max_tokens" || !a[otelkit.AttrStream].AsBool() {
		t.Fatalf("stream span %v", s.Attributes)
	}
	// Stopping early still ends the span.
	for range m.Stream(context.Background(), &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText("x")}}) {
		break
	}
	if n := len(r.exp.GetSpans()); n != 2 {
		t.Fatalf("%d spans after an abandoned stream", n)
	}
	if !attrs(r.exp.GetSpans()[1])["bedrockkit.stream.abandoned"].AsBool() {
		t.Fatal("abandoned stream not marked")
	}
}

func TestEmbedderAndRetriever(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, true)
	emb := r.tel.Embedder("amazon.titan-embed-text-v2:0", bedrockkittest.NewHashEmbedder(32))
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: emb, EmbedderID: "amazon.titan-embed-text-v2:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.Sync(ctx, kb.NewMemorySource(kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("alpha beta")})); err != nil {
		t.Fatal(err)
	}
	ret := r.tel.Retriever("policies", base)
	if _, err := ret.Retrieve(ctx, "alpha", kb.RetrieveOptions{NumberOfResults: 1}); err != nil {
		t.Fatal(err)
	}
	var embSpan, retSpan *tracetest.SpanStub
	spans := r.exp.GetSpans()
	for i := range spans {
		switch spans[i].Name {
		case "embeddings amazon.titan-embed-text-v2:0":
			embSpan = &spans[i]
		case "retrieval policies":
			retSpan = &spans[i]
		}
	}
	if embSpan == nil || retSpan == nil {
		t.Fatalf("spans %v", spans.Snapshots())
	}
	if a := attrs(*embSpan); a[otelkit.AttrEmbeddingDims].AsInt64() != 32 || a[otelkit.AttrOperationName].AsString() != "embeddings" {
		t.Errorf("embedding span %v", embSpan.Attributes)
	}
	a := attrs(*retSpan)
	if a[otelkit.AttrRetrievalQuery].AsString() != "alpha" || !strings.Contains(a[otelkit.AttrRetrievalDocuments].AsString(), `"id":"mem:a.txt"`) || a["bedrockkit.retrieval.returned"].AsInt64() != 1 {
		t.Errorf("retrieval span %v", retSpan.Attributes)
	}
	// The query embedding is a child of the retrieval span.
	last := spans[len(spans)-2]
	if last.Name != "embeddings amazon.titan-embed-text-v2:0" || last.Parent.SpanID() != retSpan.SpanContext.SpanID() {
		t.Errorf("query embedding span %q not under retrieval", last.Name)
	}
}

func TestErrorType(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", bedrockkit.ErrContextWindow): "context_window_exceeded",
		context.DeadlineExceeded:                         "timeout",
		errors.New("plain"):                              "*errors.errorString",
	} {
		if got := otelkit.ErrorType(err); got != want {
			t.Errorf("%v: %q, want %q", err, got, want)
		}
	}
}

func TestSyncSpan(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, false)
	store, err := localindex.Open(localindex.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	base, err := kb.New(kb.Options{Store: store, Embedder: r.tel.Embedder("hash", bedrockkittest.NewHashEmbedder(16))})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.tel.Sync(ctx, "policies", base, kb.NewMemorySource(
		kb.MemoryDocument{URI: "mem:a.txt", Data: []byte("alpha beta")},
		kb.MemoryDocument{URI: "mem:b.unknownext", Data: []byte("?")},
	))
	if err != nil || rep.New != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	spans := r.exp.GetSpans()
	syncSpan := spans[len(spans)-1]
	a := attrs(syncSpan)
	if syncSpan.Name != "sync policies" || a["bedrockkit.sync.new"].AsInt64() != 1 || a["bedrockkit.sync.skipped"].AsInt64() != int64(rep.Skipped) || a["bedrockkit.sync.chunks"].AsInt64() != int64(rep.Chunks) {
		t.Fatalf("sync span %s %v", syncSpan.Name, syncSpan.Attributes)
	}
	if len(syncSpan.Events) != len(rep.Failures) {
		t.Fatalf("%d events for %d failures", len(syncSpan.Events), len(rep.Failures))
	}
	embedded := 0
	for _, s := range spans[:len(spans)-1] {
		if s.Name == "embeddings hash" && s.Parent.SpanID() == syncSpan.SpanContext.SpanID() {
			embedded++
		}
	}
	if embedded != rep.EmbedCalls || embedded == 0 {
		t.Fatalf("%d embedding spans under the sync, %d embed calls", embedded, rep.EmbedCalls)
	}
}
