package otelkit_test

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/bedrockkittest"
	"github.com/bedrockkit/bedrockkit/cache"
	"github.com/bedrockkit/bedrockkit/otelkit"
)

func TestCacheEventNameMatches(t *testing.T) {
	if otelkit.EventCacheHit != cache.SpanEventHit || otelkit.AttrCacheShared != cache.AttrShared {
		t.Fatal("otelkit and cache disagree on the cache hit event")
	}
}

var cachedUsage = bedrockkit.Usage{InputTokens: 40, OutputTokens: 6}

func chatSpans(r *rig) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range r.exp.GetSpans() {
		if s.Name == "chat m" {
			out = append(out, s)
		}
	}
	return out
}

// TestCacheHitOutside is the supported order: tracing outside the cache.
func TestCacheHitOutside(t *testing.T) {
	for _, stream := range []bool{false, true} {
		r := newRig(t, false)
		sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
			Message: bedrockkit.AssistantText("hi"), Usage: cachedUsage}})
		responses := cache.New(cache.Options{})
		m := bedrockkit.Chain(bedrockkit.WithModelID(sm, "m"), r.tel.Middleware(), responses.Middleware())
		for range 2 {
			var err error
			if stream {
				_, err = bedrockkit.Collect(m.Stream(context.Background(), q("hello")))
			} else {
				_, err = m.Generate(context.Background(), q("hello"))
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		spans := chatSpans(r)
		if len(spans) != 2 {
			t.Fatalf("stream=%v: %d chat spans", stream, len(spans))
		}
		miss, hit := attrs(spans[0]), attrs(spans[1])
		if _, ok := miss[otelkit.AttrCacheHit]; ok || miss[otelkit.AttrInputTokens].AsInt64() != 40 {
			t.Errorf("stream=%v: miss span %v", stream, spans[0].Attributes)
		}
		if !hit[otelkit.AttrCacheHit].AsBool() || hit[otelkit.AttrInputTokens].AsInt64() != 0 || hit[otelkit.AttrOutputTokens].AsInt64() != 0 {
			t.Errorf("stream=%v: hit span %v", stream, spans[1].Attributes)
		}
		if _, ok := hit[otelkit.AttrCacheShared]; ok {
			t.Errorf("stream=%v: store hit marked shared", stream)
		}
		h := r.histograms(t)
		if v, ok := find(h, otelkit.MetricTokenUsage, "gen_ai.token.type=input"); !ok || v != [2]float64{1, 40} {
			t.Errorf("stream=%v: input tokens %v: the hit must not count (all: %v)", stream, v, h)
		}
		if v, ok := find(h, otelkit.MetricOperationDuration, "bedrockkit.cache.hit=true"); !ok || v[0] != 1 {
			t.Errorf("stream=%v: hit duration %v %v", stream, v, ok)
		}
	}
}

// TestCacheHitInside: tracing inside the cache sees only real model calls;
// the cache's event lands on the caller's span.
func TestCacheHitInside(t *testing.T) {
	r := newRig(t, false)
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("hi"), Usage: cachedUsage}})
	m := bedrockkit.Chain(bedrockkit.WithModelID(sm, "m"), cache.New(cache.Options{}).Middleware(), r.tel.Middleware())
	for range 2 {
		ctx, parent := r.tp.Tracer("test").Start(context.Background(), "request")
		if _, err := m.Generate(ctx, q("hello")); err != nil {
			t.Fatal(err)
		}
		parent.End()
	}
	spans := chatSpans(r)
	if len(spans) != 1 {
		t.Fatalf("%d chat spans, want only the model call's", len(spans))
	}
	if a := attrs(spans[0]); a[otelkit.AttrInputTokens].AsInt64() != 40 || a[otelkit.AttrCacheHit].AsBool() {
		t.Fatalf("chat span %v", spans[0].Attributes)
	}
	var requests []tracetest.SpanStub
	for _, s := range r.exp.GetSpans() {
		if s.Name == "request" {
			requests = append(requests, s)
		}
	}
	if len(requests) != 2 || len(requests[0].Events) != 0 || len(requests[1].Events) != 1 || requests[1].Events[0].Name != otelkit.EventCacheHit {
		t.Fatalf("request spans %+v", requests)
	}
	for _, kv := range requests[1].Attributes {
		if kv.Key == otelkit.AttrCacheHit {
			t.Fatal("the caller's span got the chat span's attribute")
		}
	}
	if v, ok := find(r.histograms(t), otelkit.MetricTokenUsage, "gen_ai.token.type=input"); !ok || v != [2]float64{1, 40} {
		t.Errorf("input tokens %v", v)
	}
}

// gated answers once gate is closed.
type gated struct {
	gate  chan struct{}
	mu    sync.Mutex
	calls int
}

func (g *gated) Generate(ctx context.Context, _ *bedrockkit.Request) (*bedrockkit.Response, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("hi"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}, nil
}

func (g *gated) Stream(context.Context, *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	panic("not used")
}

// TestCacheSharedOutside: of two identical concurrent calls, one reaches
// the model; the other's span says its answer was shared.
func TestCacheSharedOutside(t *testing.T) {
	r := newRig(t, false)
	g := &gated{gate: make(chan struct{})}
	responses := cache.New(cache.Options{})
	m := bedrockkit.Chain(bedrockkit.WithModelID(bedrockkit.Model(g), "m"), r.tel.Middleware(), responses.Middleware())
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Generate(context.Background(), q("hello")); err != nil {
				t.Error(err)
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); responses.Stats().Shared != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no shared call")
		}
	}
	close(g.gate)
	wg.Wait()
	spans := chatSpans(r)
	if len(spans) != 2 || g.calls != 1 {
		t.Fatalf("%d spans, %d calls", len(spans), g.calls)
	}
	var shared, real int
	for _, s := range spans {
		a := attrs(s)
		switch {
		case a[otelkit.AttrCacheHit].AsBool() && a[otelkit.AttrCacheShared].AsBool() && a[otelkit.AttrInputTokens].AsInt64() == 0:
			shared++
		case !a[otelkit.AttrCacheHit].AsBool() && a[otelkit.AttrInputTokens].AsInt64() == 40:
			real++
		}
	}
	if shared != 1 || real != 1 {
		t.Fatalf("spans %v / %v", spans[0].Attributes, spans[1].Attributes)
	}
	if v, ok := find(r.histograms(t), otelkit.MetricTokenUsage, "gen_ai.token.type=input"); !ok || v != [2]float64{1, 40} {
		t.Errorf("input tokens %v: counted more than once", v)
	}
}

func q(text string) *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(text)}}
}

// spanProbe starts a child span in the call and looks at the span it was
// given, as an HTTP client or a user's middleware would.
type spanProbe struct {
	tp     trace.TracerProvider
	sdk    bool
	traced sdktrace.ReadOnlySpan
}

func (p *spanProbe) Generate(ctx context.Context, _ *bedrockkit.Request) (*bedrockkit.Response, error) {
	_, child := p.tp.Tracer("http").Start(ctx, "POST /converse")
	child.End()
	s, ok := trace.SpanFromContext(ctx).(sdktrace.ReadWriteSpan)
	p.sdk, p.traced = ok, s
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("hi"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}, nil
}

func (p *spanProbe) Stream(context.Context, *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	panic("not used")
}

// TestChatSpanIsTheSDKSpan: the chat span in the wrapped model's context is
// the SDK's own, so child spans are counted on it and type assertions work,
// with or without a cache between.
func TestChatSpanIsTheSDKSpan(t *testing.T) {
	for _, cached := range []bool{false, true} {
		r := newRig(t, false)
		p := &spanProbe{tp: r.tp}
		mws := []bedrockkit.Middleware{r.tel.Middleware()}
		if cached {
			mws = append(mws, cache.New(cache.Options{}).Middleware())
		}
		m := bedrockkit.Chain(bedrockkit.WithModelID(p, "m"), mws...)
		if _, err := m.Generate(context.Background(), q("hello")); err != nil {
			t.Fatal(err)
		}
		spans := chatSpans(r)
		if len(spans) != 1 || spans[0].ChildSpanCount != 1 {
			t.Fatalf("cached=%v: chat spans %+v", cached, spans)
		}
		if !p.sdk || p.traced.Name() != "chat m" {
			t.Fatalf("cached=%v: the model sees %T, not the SDK's chat span", cached, p.traced)
		}
	}
}

// TestNestedCacheHitDoesNotMarkOuterSpan: a cache hit in a call made inside
// the traced model under its own span is that call's, not the chat span's.
func TestNestedCacheHitDoesNotMarkOuterSpan(t *testing.T) {
	r := newRig(t, false)
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("hi"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}})
	nested := cache.New(cache.Options{}).Middleware()(bedrockkit.WithModelID(sm, "n"))
	if _, err := nested.Generate(context.Background(), q("classify")); err != nil { // fill the cache
		t.Fatal(err)
	}
	outer := generateFunc(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		ctx, span := r.tp.Tracer("guard").Start(ctx, "guard")
		defer span.End()
		if _, err := nested.Generate(ctx, q("classify")); err != nil { // a hit
			return nil, err
		}
		return &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}, nil
	})
	m := r.tel.Middleware()(bedrockkit.WithModelID(outer, "m"))
	if _, err := m.Generate(context.Background(), q("hello")); err != nil {
		t.Fatal(err)
	}
	spans := chatSpans(r)
	if len(spans) != 1 {
		t.Fatalf("%d chat spans", len(spans))
	}
	if a := attrs(spans[0]); a[otelkit.AttrCacheHit].AsBool() || a[otelkit.AttrInputTokens].AsInt64() != 40 {
		t.Fatalf("chat span %v", spans[0].Attributes)
	}
}

type generateFunc func(context.Context, *bedrockkit.Request) (*bedrockkit.Response, error)

func (f generateFunc) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	return f(ctx, req)
}

func (f generateFunc) Stream(context.Context, *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	panic("not used")
}

// gatedStream streams a first delta, then the rest once gate is closed.
type gatedStream struct{ gate chan struct{} }

func (g *gatedStream) Generate(context.Context, *bedrockkit.Request) (*bedrockkit.Response, error) {
	panic("not used")
}

func (g *gatedStream) Stream(ctx context.Context, _ *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		if !yield(bedrockkit.TextDelta{Text: "h"}, nil) {
			return
		}
		select {
		case <-g.gate:
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
		for _, ev := range []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "i"},
			bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, bedrockkit.StreamMetadata{Usage: cachedUsage}} {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// TestCacheSharedStreamOutside: a waiter reads a shared stream's usage
// before the lagging leader: its span carries the tokens, the leader's
// says zero, and the tokens are counted once.
func TestCacheSharedStreamOutside(t *testing.T) {
	r := newRig(t, false)
	g := &gatedStream{gate: make(chan struct{})}
	responses := cache.New(cache.Options{})
	m := bedrockkit.Chain(bedrockkit.WithModelID(bedrockkit.Model(g), "m"), r.tel.Middleware(), responses.Middleware())
	leaderFirst, waiterDone := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		first := true
		for range m.Stream(context.Background(), q("hello")) {
			if first {
				first = false
				close(leaderFirst)
				<-waiterDone
			}
		}
	}()
	<-leaderFirst
	go func() {
		defer wg.Done()
		defer close(waiterDone)
		for range m.Stream(context.Background(), q("hello")) {
		}
	}()
	for deadline := time.Now().Add(20 * time.Second); responses.Stats().Shared != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no shared call")
		}
	}
	close(g.gate)
	wg.Wait()
	spans := chatSpans(r)
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	var tokens int64
	for _, s := range spans {
		a := attrs(s)
		if a[otelkit.AttrCacheHit].AsBool() {
			t.Fatalf("a span marked as a hit: %v", s.Attributes)
		}
		tokens += a[otelkit.AttrInputTokens].AsInt64()
	}
	if tokens != 40 {
		t.Fatalf("spans carry %d input tokens, want 40 once", tokens)
	}
	if v, ok := find(r.histograms(t), otelkit.MetricTokenUsage, "gen_ai.token.type=input"); !ok || v[1] != 40 {
		t.Errorf("input tokens %v: counted more or less than once", v)
	}
}

// TestCacheHitMetricsOnly: with a no-op tracer (metrics only) all span
// contexts are invalid and equal; a hit of the cache inside the traced
// call still marks it, and a hit in a nested call under its own span
// still does not, so the outer call's tokens are counted.
func TestCacheHitMetricsOnly(t *testing.T) {
	tp := noop.NewTracerProvider()
	r := &rig{reader: sdkmetric.NewManualReader()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	tel, err := otelkit.New(otelkit.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	sm := bedrockkittest.NewScriptedModel(bedrockkittest.Step{Response: &bedrockkit.Response{
		Message: bedrockkit.AssistantText("hi"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}})
	responses := cache.New(cache.Options{})
	direct := bedrockkit.Chain(bedrockkit.WithModelID(sm, "d"), tel.Middleware(), responses.Middleware())
	for range 2 { // a miss, then a hit
		if _, err := direct.Generate(context.Background(), q("classify")); err != nil {
			t.Fatal(err)
		}
	}
	nested := responses.Middleware()(bedrockkit.WithModelID(sm, "d"))
	outer := generateFunc(func(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
		ctx, span := tp.Tracer("guard").Start(ctx, "guard")
		defer span.End()
		if _, err := nested.Generate(ctx, q("classify")); err != nil { // a hit
			return nil, err
		}
		return &bedrockkit.Response{Message: bedrockkit.AssistantText("ok"), StopReason: bedrockkit.StopEndTurn, Usage: cachedUsage}, nil
	})
	if _, err := tel.Middleware()(bedrockkit.WithModelID(outer, "o")).Generate(context.Background(), q("hello")); err != nil {
		t.Fatal(err)
	}
	h := r.histograms(t)
	if v, ok := find(h, otelkit.MetricTokenUsage, "gen_ai.request.model=d", "gen_ai.token.type=input"); !ok || v != [2]float64{1, 40} {
		t.Errorf("direct input tokens %v: the miss counts, the hit does not (all: %v)", v, h)
	}
	if v, ok := find(h, otelkit.MetricOperationDuration, "gen_ai.request.model=d", "bedrockkit.cache.hit=true"); !ok || v[0] != 1 {
		t.Errorf("direct hit duration %v %v (all: %v)", v, ok, h)
	}
	if v, ok := find(h, otelkit.MetricTokenUsage, "gen_ai.request.model=o", "gen_ai.token.type=input"); !ok || v != [2]float64{1, 40} {
		t.Errorf("outer input tokens %v: a nested hit marked the outer call (all: %v)", v, h)
	}
	if _, ok := find(h, otelkit.MetricOperationDuration, "gen_ai.request.model=o", "bedrockkit.cache.hit=true"); ok {
		t.Errorf("outer call's duration marked a hit (all: %v)", h)
	}
}
