package cache_test

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/cache"
)

// gatedModel counts calls and holds each one until gate is closed (or its
// context ends). Stream yields the first event before waiting.
type gatedModel struct {
	gate      chan struct{}
	calls     atomic.Int64
	cancelled atomic.Int64 // calls that saw their context end
	returned  atomic.Int64
	err       error
	panicVal  any
}

func newGated() *gatedModel { return &gatedModel{gate: make(chan struct{})} }

var gatedUsage = bedrockkit.Usage{InputTokens: 30, OutputTokens: 5}

func (m *gatedModel) wait(ctx context.Context) error {
	select {
	case <-m.gate:
		return nil
	case <-ctx.Done():
		m.cancelled.Add(1)
		return ctx.Err()
	}
}

func (m *gatedModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	m.calls.Add(1)
	defer m.returned.Add(1)
	if err := m.wait(ctx); err != nil {
		return nil, err
	}
	if m.panicVal != nil {
		panic(m.panicVal)
	}
	if m.err != nil {
		return nil, m.err
	}
	return &bedrockkit.Response{Message: bedrockkit.AssistantText("answer to " + req.Messages[0].Text()),
		StopReason: bedrockkit.StopEndTurn, Usage: gatedUsage}, nil
}

func (m *gatedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.Event, error] {
	return func(yield func(bedrockkit.Event, error) bool) {
		m.calls.Add(1)
		defer m.returned.Add(1)
		if !yield(bedrockkit.TextDelta{Text: "answer "}, nil) {
			return
		}
		if err := m.wait(ctx); err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range []bedrockkit.Event{bedrockkit.TextDelta{Text: "to " + req.Messages[0].Text()},
			bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, bedrockkit.Metadata{Usage: gatedUsage}} {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

func q(text string) *bedrockkit.Request {
	return &bedrockkit.Request{Messages: []bedrockkit.Message{bedrockkit.UserText(text)}}
}

// waitFor polls cond; it fails the test instead of hanging forever.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

type result struct {
	resp *bedrockkit.Response
	err  error
}

func goGenerate(ctx context.Context, m bedrockkit.Model, req *bedrockkit.Request) <-chan result {
	ch := make(chan result, 1)
	go func() {
		resp, err := m.Generate(ctx, req)
		ch <- result{resp, err}
	}()
	return ch
}

func TestDedupGenerate(t *testing.T) {
	gm := newGated()
	var lookups sync.Map
	c := cache.New(cache.Config{OnLookup: func(_ context.Context, l cache.Lookup) { lookups.Store(&l, true) }})
	m := c.Middleware("m")(gm)
	const n = 50
	var chans []<-chan result
	for range n {
		chans = append(chans, goGenerate(context.Background(), m, q("fee?")))
	}
	waitFor(t, "49 waiters", func() bool { return c.Stats().Shared == n-1 })
	close(gm.gate)
	var billed bedrockkit.Usage
	var resps []*bedrockkit.Response
	for _, ch := range chans {
		r := <-ch
		if r.err != nil || r.resp.Message.Text() != "answer to fee?" {
			t.Fatalf("%v %+v", r.err, r.resp)
		}
		billed = billed.Add(r.resp.Usage)
		resps = append(resps, r.resp)
	}
	if gm.calls.Load() != 1 {
		t.Fatalf("%d model calls for %d identical requests", gm.calls.Load(), n)
	}
	if billed != gatedUsage {
		t.Fatalf("usage reported %+v in total, want it once: %+v", billed, gatedUsage)
	}
	st := c.Stats()
	want := cache.Stats{Misses: 1, Shared: n - 1, Stores: 1, Saved: bedrockkit.Usage{InputTokens: 30 * (n - 1), OutputTokens: 5 * (n - 1)}}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	shared := 0
	lookups.Range(func(k, _ any) bool {
		if l := k.(*cache.Lookup); l.Shared && l.Saved == gatedUsage {
			shared++
		}
		return true
	})
	if shared != n-1 {
		t.Fatalf("%d shared lookups reported", shared)
	}
	// Each caller owns its answer.
	resps[0].Message.Parts[0] = bedrockkit.Text{Text: "changed"}
	if resps[1].Message.Text() != "answer to fee?" {
		t.Fatal("callers share one response value")
	}
	// The answer was stored: the next call is a plain hit.
	if r, err := m.Generate(context.Background(), q("fee?")); err != nil || r.Usage != (bedrockkit.Usage{}) || gm.calls.Load() != 1 {
		t.Fatalf("after: %v %+v", err, r)
	}
}

func TestDedupWaiterCancelled(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	leader := goGenerate(context.Background(), m, q("a"))
	waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	waiter := goGenerate(ctx, m, q("a"))
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	cancel()
	// The waiter returns while the model call is still held at the gate.
	if r := <-waiter; !errors.Is(r.err, context.Canceled) || r.resp != nil {
		t.Fatalf("waiter: %v %+v", r.err, r.resp)
	}
	close(gm.gate)
	if r := <-leader; r.err != nil || r.resp.Usage != gatedUsage {
		t.Fatalf("leader: %v %+v", r.err, r.resp)
	}
	if gm.calls.Load() != 1 || gm.cancelled.Load() != 0 {
		t.Fatalf("calls %d, cancelled %d", gm.calls.Load(), gm.cancelled.Load())
	}
}

func TestDedupLeaderCancelled(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	ctx, cancel := context.WithCancel(context.Background())
	leader := goGenerate(ctx, m, q("a"))
	waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
	waiter := goGenerate(context.Background(), m, q("a"))
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	cancel()
	if r := <-leader; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("leader: %v %+v", r.err, r.resp)
	}
	close(gm.gate)
	// The call went on for the waiter, which receives the usage the leader
	// left behind (it was billed once and must be reported once).
	r := <-waiter
	if r.err != nil || r.resp.Message.Text() != "answer to a" || r.resp.Usage != gatedUsage {
		t.Fatalf("waiter: %v %+v", r.err, r.resp)
	}
	if gm.calls.Load() != 1 || gm.cancelled.Load() != 0 || c.Stats().Saved != (bedrockkit.Usage{}) || c.Stats().Stores != 1 {
		t.Fatalf("calls %d cancelled %d stats %+v", gm.calls.Load(), gm.cancelled.Load(), c.Stats())
	}
}

func TestDedupAllGoneCancelsTheCall(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	a := goGenerate(ctx1, m, q("a"))
	waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
	b := goGenerate(ctx2, m, q("a"))
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	cancel1()
	<-a
	if gm.cancelled.Load() != 0 {
		t.Fatal("call cancelled while a waiter remained")
	}
	cancel2()
	if r := <-b; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("%v", r.err)
	}
	// The last caller out returned only once the model call had.
	if gm.cancelled.Load() != 1 || gm.returned.Load() != 1 {
		t.Fatalf("cancelled %d returned %d", gm.cancelled.Load(), gm.returned.Load())
	}
	// A new request starts afresh.
	close(gm.gate)
	if r, err := m.Generate(context.Background(), q("a")); err != nil || r.Usage != gatedUsage || gm.calls.Load() != 2 {
		t.Fatalf("%v %+v calls %d", err, r, gm.calls.Load())
	}
}

func TestDedupError(t *testing.T) {
	gm := newGated()
	gm.err = bedrockkit.ErrThrottled
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	var chans []<-chan result
	for range 5 {
		chans = append(chans, goGenerate(context.Background(), m, q("a")))
	}
	waitFor(t, "the waiters", func() bool { return c.Stats().Shared == 4 })
	close(gm.gate)
	for _, ch := range chans {
		if r := <-ch; !errors.Is(r.err, bedrockkit.ErrThrottled) {
			t.Fatalf("%v", r.err)
		}
	}
	gm.err = nil
	if _, err := m.Generate(context.Background(), q("a")); err != nil || gm.calls.Load() != 2 {
		t.Fatalf("an error was cached: %v, calls %d", err, gm.calls.Load())
	}
	if st := c.Stats(); st.Saved != (bedrockkit.Usage{}) || st.Uncacheable != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupPanic(t *testing.T) {
	gm := newGated()
	gm.panicVal = "boom"
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	panics := make(chan any, 2)
	for range 2 {
		go func() {
			defer func() { panics <- recover() }()
			m.Generate(context.Background(), q("a"))
		}()
	}
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	close(gm.gate)
	for range 2 {
		if p, ok := (<-panics).(error); !ok || !strings.Contains(p.Error(), "boom") {
			t.Fatalf("panic %v", p)
		}
	}
}

func TestDedupDifferentKeysAndModes(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	a := goGenerate(context.Background(), m, q("a"))
	b := goGenerate(context.Background(), m, q("b"))
	s := make(chan result, 1)
	go func() {
		resp, err := bedrockkit.Collect(m.Stream(context.Background(), q("a")))
		s <- result{resp, err}
	}()
	// Two keys and two modes: three calls, none waits for another.
	waitFor(t, "three model calls", func() bool { return gm.calls.Load() == 3 })
	close(gm.gate)
	for _, ch := range []<-chan result{a, b, s} {
		if r := <-ch; r.err != nil || r.resp.Usage != gatedUsage {
			t.Fatalf("%v %+v", r.err, r.resp)
		}
	}
	if c.Stats().Shared != 0 {
		t.Fatalf("stats %+v", c.Stats())
	}
}

func TestDedupDisabled(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{DisableDedup: true})
	m := c.Middleware("m")(gm)
	a := goGenerate(context.Background(), m, q("a"))
	b := goGenerate(context.Background(), m, q("a"))
	waitFor(t, "two model calls", func() bool { return gm.calls.Load() == 2 })
	close(gm.gate)
	<-a
	<-b
	if st := c.Stats(); st.Misses != 2 || st.Shared != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupStream(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	type got struct {
		evs []bedrockkit.Event
		err error
	}
	run := func(ctx context.Context, stopAfter int) <-chan got {
		ch := make(chan got, 1)
		go func() {
			var g got
			for ev, err := range m.Stream(ctx, q("a")) {
				if err != nil {
					g.err = err
					break
				}
				g.evs = append(g.evs, ev)
				if len(g.evs) == stopAfter {
					break
				}
			}
			ch <- g
		}()
		return ch
	}
	leader := run(context.Background(), 0)
	waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
	follower := run(context.Background(), 0)
	quitter := run(context.Background(), 1) // stops after the first event
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := run(ctx, 0)
	waitFor(t, "the waiters", func() bool { return c.Stats().Shared == 3 })
	if g := <-quitter; len(g.evs) != 1 || g.err != nil {
		t.Fatalf("quitter %+v", g)
	}
	cancel()
	if g := <-cancelled; !errors.Is(g.err, context.Canceled) {
		t.Fatalf("cancelled waiter %+v", g)
	}
	close(gm.gate)
	lg, fg := <-leader, <-follower
	if lg.err != nil || fg.err != nil || len(lg.evs) != 4 || len(fg.evs) != 4 {
		t.Fatalf("leader %+v follower %+v", lg, fg)
	}
	if !reflect.DeepEqual(lg.evs[:3], fg.evs[:3]) {
		t.Fatalf("follower saw other events: %v vs %v", fg.evs, lg.evs)
	}
	if lg.evs[3].(bedrockkit.Metadata).Usage != gatedUsage || fg.evs[3].(bedrockkit.Metadata).Usage != (bedrockkit.Usage{}) {
		t.Fatalf("usage: leader %v follower %v", lg.evs[3], fg.evs[3])
	}
	if gm.calls.Load() != 1 || gm.cancelled.Load() != 0 {
		t.Fatalf("calls %d cancelled %d", gm.calls.Load(), gm.cancelled.Load())
	}
	if st := c.Stats(); st.Stores != 1 || st.Saved != gatedUsage {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupStreamAllGone(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Config{})
	m := c.Middleware("m")(gm)
	for range m.Stream(context.Background(), q("a")) {
		break // the model is now held at the gate
	}
	if gm.cancelled.Load() != 1 || gm.returned.Load() != 1 {
		t.Fatalf("abandoned shared stream not cancelled: cancelled %d returned %d", gm.cancelled.Load(), gm.returned.Load())
	}
	if st := c.Stats(); st.Stores != 0 || st.Uncacheable != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// gatedStore holds Get until gate is closed.
type gatedStore struct {
	*cache.MemoryStore
	gate chan struct{}
	gets atomic.Int64
}

func (s *gatedStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.gets.Add(1)
	<-s.gate
	return s.MemoryStore.Get(ctx, key)
}

func TestDedupSharedHit(t *testing.T) {
	gm := newGated()
	close(gm.gate)
	store := &gatedStore{MemoryStore: cache.NewMemoryStore(cache.MemoryOptions{}), gate: make(chan struct{})}
	c := cache.New(cache.Config{Store: store})
	m := c.Middleware("m")(gm)
	first := goGenerate(context.Background(), m, q("a"))
	store.gate <- struct{}{} // let one Get through: a miss
	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	a := goGenerate(context.Background(), m, q("a"))
	b := goGenerate(context.Background(), m, q("a"))
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	close(store.gate)
	for _, ch := range []<-chan result{a, b} {
		if r := <-ch; r.err != nil || r.resp.Usage != (bedrockkit.Usage{}) || r.resp.Message.Text() != "answer to a" {
			t.Fatalf("%v %+v", r.err, r.resp)
		}
	}
	if st := c.Stats(); st.Hits != 1 || st.Shared != 1 || st.Saved != gatedUsage.Add(gatedUsage) || store.gets.Load() != 2 || gm.calls.Load() != 1 {
		t.Fatalf("stats %+v gets %d", st, store.gets.Load())
	}
}

func TestHitMarksSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	gm := newGated()
	close(gm.gate)
	m := cache.New(cache.Config{}).Middleware("m")(gm)
	for i := range 2 {
		ctx, span := tp.Tracer("t").Start(context.Background(), "call")
		if _, err := m.Generate(ctx, q("a")); err != nil {
			t.Fatal(err)
		}
		span.End()
		s := exp.GetSpans()[i]
		if i == 0 && len(s.Events) != 0 {
			t.Fatalf("a miss marked: %v", s.Events)
		}
		if i == 1 && (len(s.Events) != 1 || s.Events[0].Name != cache.SpanEventHit) {
			t.Fatalf("a hit not marked: %v", s.Events)
		}
	}
	ev := exp.GetSpans()[1].Events[0]
	if len(ev.Attributes) != 2 || ev.Attributes[0] != cache.AttrShared.Bool(false) || ev.Attributes[1] != cache.AttrSavedTokens.Int(35) {
		t.Fatalf("event attributes %v", ev.Attributes)
	}
}
