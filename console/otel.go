package console

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SpanProcessor returns an OpenTelemetry span processor that keeps the
// ended spans (the latest Options.MaxSpans) for the traces page: register
// it with sdktrace.WithSpanProcessor on the tracer provider that otelkit,
// agent/agentotel or your own code use, and the model calls, retrievals and
// syncs they trace appear there. Attribute values are redacted like
// everything else the console shows.
func (c *Console) SpanProcessor() sdktrace.SpanProcessor { return &spanProcessor{c: c} }

type spanProcessor struct{ c *Console }

func (p *spanProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *spanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	rec := spanRec{trace: sc.TraceID().String(), id: sc.SpanID().String(), name: s.Name(), kind: s.SpanKind().String(),
		start: s.StartTime(), end: s.EndTime(), status: s.Status().Description, failed: s.Status().Code == codes.Error,
		scope: s.InstrumentationScope().Name}
	if par := s.Parent(); par.IsValid() {
		rec.parent = par.SpanID().String()
	}
	for i, a := range s.Attributes() {
		if i == maxSpanAttrs {
			rec.attrs = append(rec.attrs, kv{"…", fmt.Sprintf("%d more attributes", len(s.Attributes())-i)})
			break
		}
		rec.attrs = append(rec.attrs, kv{string(a.Key), a.Value.Emit()})
	}
	for i, e := range s.Events() {
		if i == maxSpanAttrs {
			break
		}
		line := e.Name
		for _, a := range e.Attributes {
			line += fmt.Sprintf(" %s=%s", a.Key, a.Value.Emit())
		}
		rec.events = append(rec.events, line)
	}
	p.c.spans.add(rec)
	p.c.changed()
}

func (p *spanProcessor) Shutdown(context.Context) error   { return nil }
func (p *spanProcessor) ForceFlush(context.Context) error { return nil }

const maxSpanAttrs = 64

type spanRec struct {
	trace, id, parent string
	name, kind, scope string
	start, end        time.Time
	status            string
	failed            bool
	attrs             []kv
	events            []string
}

// spanStore keeps the latest spans in a ring.
type spanStore struct {
	mu      sync.Mutex
	max     int
	spans   []spanRec // ring
	next    int
	full    bool
	dropped int
}

func newSpanStore(max int) *spanStore { return &spanStore{max: max} }

func (s *spanStore) add(r spanRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.spans) < s.max {
		s.spans = append(s.spans, r)
		return
	}
	s.spans[s.next] = r
	s.next = (s.next + 1) % s.max
	s.dropped++
}

func (s *spanStore) all() ([]spanRec, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]spanRec, 0, len(s.spans))
	out = append(out, s.spans[s.next:]...)
	out = append(out, s.spans[:s.next]...)
	return out, s.dropped
}

type traceSummary struct {
	ID, Root, Started, Duration string
	Spans                       int
	Failed                      bool
}

func (c *Console) traceSummaries(ctx context.Context) ([]traceSummary, int) {
	spans, dropped := c.spans.all()
	type agg struct {
		root         *spanRec
		first, last  time.Time
		n            int
		failed       bool
		ids          map[string]bool
		earliestSpan *spanRec
	}
	byTrace := map[string]*agg{}
	var order []string
	for i := range spans {
		s := &spans[i]
		a := byTrace[s.trace]
		if a == nil {
			a = &agg{ids: map[string]bool{}}
			byTrace[s.trace] = a
			order = append(order, s.trace)
		}
		a.ids[s.id] = true
		a.n++
		a.failed = a.failed || s.failed
		if a.first.IsZero() || s.start.Before(a.first) {
			a.first, a.earliestSpan = s.start, s
		}
		if s.end.After(a.last) {
			a.last = s.end
		}
	}
	for i := range spans {
		s := &spans[i]
		a := byTrace[s.trace]
		if (s.parent == "" || !a.ids[s.parent]) && (a.root == nil || s.start.Before(a.root.start)) {
			a.root = s
		}
	}
	var out []traceSummary
	for i := len(order) - 1; i >= 0; i-- {
		a := byTrace[order[i]]
		root := a.root
		if root == nil {
			root = a.earliestSpan
		}
		out = append(out, traceSummary{ID: order[i], Root: c.label(ctx, root.name), Started: a.first.Format(time.DateTime),
			Duration: fmtDur(a.last.Sub(a.first)), Spans: a.n, Failed: a.failed})
	}
	return out, dropped
}

type spanView struct {
	ID, Name, Kind, Scope, Status string
	Depth                         int
	Offset, Duration              string
	Failed                        bool
	Attrs                         []kv
	Events                        []string
}

type traceView struct {
	ID    string
	Spans []spanView
	Gantt gantt
	Found bool
}

func (c *Console) traceView(ctx context.Context, id string) traceView {
	all, _ := c.spans.all()
	var spans []spanRec
	for _, s := range all {
		if s.trace == id {
			spans = append(spans, s)
		}
	}
	v := traceView{ID: id, Found: len(spans) > 0}
	if !v.Found {
		return v
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	ids := map[string]int{}
	for i, s := range spans {
		ids[s.id] = i
	}
	children := map[int][]int{}
	var roots []int
	for i, s := range spans {
		if p, ok := ids[s.parent]; ok && s.parent != "" && p != i {
			children[p] = append(children[p], i)
		} else {
			roots = append(roots, i)
		}
	}
	t0, t1 := spans[0].start, spans[0].end
	for _, s := range spans {
		if s.end.After(t1) {
			t1 = s.end
		}
	}
	total := t1.Sub(t0)
	if total <= 0 {
		total = time.Microsecond
	}
	plot := float64(ganttW - ganttLabelW - 16)
	g := gantt{Width: ganttW, LabelW: ganttLabelW}
	var walk func(i, depth int)
	visited := map[int]bool{}
	walk = func(i, depth int) {
		if visited[i] || depth > 64 {
			return
		}
		visited[i] = true
		s := spans[i]
		sv := spanView{ID: s.id, Name: c.label(ctx, s.name), Kind: s.kind, Scope: s.scope, Status: c.label(ctx, s.status),
			Depth: depth, Offset: fmtDur(s.start.Sub(t0)), Duration: fmtDur(s.end.Sub(s.start)), Failed: s.failed}
		for _, a := range s.attrs {
			sv.Attrs = append(sv.Attrs, kv{a.K, c.field(ctx, a.V).Text})
		}
		for _, e := range s.events {
			sv.Events = append(sv.Events, c.field(ctx, e).Text)
		}
		v.Spans = append(v.Spans, sv)
		y := ganttTop + (len(v.Spans)-1)*ganttRowH
		x := float64(ganttLabelW) + float64(s.start.Sub(t0))/float64(total)*plot
		w := math.Max(float64(s.end.Sub(s.start))/float64(total)*plot, 2)
		class := "bar-model"
		if s.failed {
			class = "bar-error"
		}
		label := ellipsis(sv.Name, 30)
		g.Rows = append(g.Rows, ganttRow{Y: y + 3, TextY: y + 15, Label: label, Title: sv.Name + ": " + sv.Duration,
			X: round1(x), W: round1(w), Class: class, Href: "#s-" + s.id, Indent: 8 + 12*min(depth, 8)})
		for _, ch := range children[i] {
			walk(ch, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	g.Height = ganttTop + len(g.Rows)*ganttRowH + 8
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		g.Ticks = append(g.Ticks, tick{X: round1(float64(ganttLabelW) + f*plot), Label: fmtDur(time.Duration(f * float64(total)))})
	}
	g.Ticks = anchored(g.Ticks)
	v.Gantt = g
	return v
}
