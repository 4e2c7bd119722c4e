package cache_test

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"runtime"
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

func (m *gatedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		m.calls.Add(1)
		defer m.returned.Add(1)
		if !yield(bedrockkit.TextDelta{Text: "answer "}, nil) {
			return
		}
		if err := m.wait(ctx); err != nil {
			yield(nil, err)
			return
		}
		for _, ev := range []bedrockkit.StreamEvent{bedrockkit.TextDelta{Text: "to " + req.Messages[0].Text()},
			bedrockkit.Stop{Reason: bedrockkit.StopEndTurn}, bedrockkit.StreamMetadata{Usage: gatedUsage}} {
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
	c := cache.New(cache.Options{OnLookup: func(_ context.Context, l cache.Lookup) { lookups.Store(&l, true) }})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{DisableDedup: true})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
	type got struct {
		evs []bedrockkit.StreamEvent
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
	// The usage goes to whichever of the two read the Metadata event first.
	lu, fu := lg.evs[3].(bedrockkit.StreamMetadata).Usage, fg.evs[3].(bedrockkit.StreamMetadata).Usage
	if lu.Add(fu) != gatedUsage || (lu != gatedUsage && fu != gatedUsage) {
		t.Fatalf("usage: leader %v follower %v", lg.evs[3], fg.evs[3])
	}
	if gm.calls.Load() != 1 || gm.cancelled.Load() != 0 {
		t.Fatalf("calls %d cancelled %d", gm.calls.Load(), gm.cancelled.Load())
	}
	if st := c.Stats(); st.Stores != 1 || st.Saved != gatedUsage || st.Unreported != (bedrockkit.Usage{}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupStreamAllGone(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	c := cache.New(cache.Options{Store: store})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
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
	m := cache.New(cache.Options{}).Middleware()(bedrockkit.WithModelID(gm, "m"))
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

// TestDedupStreamUsageToFirstReader: a waiter reads the Metadata event
// while the leader, still there, lags; the leader then stops reading before
// Metadata. The usage, billed once, must reach the waiter, which read it,
// and not be reported as saved.
func TestDedupStreamUsageToFirstReader(t *testing.T) {
	gm := newGated()
	var mu sync.Mutex
	var looks []cache.Lookup
	c := cache.New(cache.Options{OnLookup: func(_ context.Context, l cache.Lookup) {
		mu.Lock()
		looks = append(looks, l)
		mu.Unlock()
	}})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
	leaderFirst, waiterDone := make(chan struct{}), make(chan struct{})
	var leaderUsage, waiterUsage bedrockkit.Usage
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev := range m.Stream(context.Background(), q("a")) {
			if md, ok := ev.(bedrockkit.StreamMetadata); ok {
				leaderUsage = md.Usage
			}
			close(leaderFirst)
			<-waiterDone
			break // before Metadata
		}
	}()
	<-leaderFirst
	go func() {
		defer wg.Done()
		defer close(waiterDone)
		for ev := range m.Stream(context.Background(), q("a")) {
			if md, ok := ev.(bedrockkit.StreamMetadata); ok {
				waiterUsage = md.Usage
			}
		}
	}()
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	close(gm.gate)
	wg.Wait()
	if leaderUsage != (bedrockkit.Usage{}) || waiterUsage != gatedUsage {
		t.Fatalf("leader got %+v, waiter %+v; want the waiter to get %+v", leaderUsage, waiterUsage, gatedUsage)
	}
	st := c.Stats()
	if st.Saved != (bedrockkit.Usage{}) || st.Unreported != (bedrockkit.Usage{}) || st.Misses != 1 || st.Shared != 1 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, l := range looks {
		if l.Saved != (bedrockkit.Usage{}) {
			t.Fatalf("lookup reports a saving nobody made: %+v", l)
		}
	}
	if len(looks) != 2 {
		t.Fatalf("%d lookups", len(looks))
	}
}

// TestDedupStreamLeaderSaved: when a waiter reads the usage first, the
// leader, which reads the whole stream too, saved it.
func TestDedupStreamLeaderSaved(t *testing.T) {
	gm := newGated()
	var mu sync.Mutex
	var looks []cache.Lookup
	c := cache.New(cache.Options{OnLookup: func(_ context.Context, l cache.Lookup) {
		mu.Lock()
		looks = append(looks, l)
		mu.Unlock()
	}})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
	leaderFirst, waiterDone := make(chan struct{}), make(chan struct{})
	var leaderUsage, waiterUsage bedrockkit.Usage
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		first := true
		for ev := range m.Stream(context.Background(), q("a")) {
			if md, ok := ev.(bedrockkit.StreamMetadata); ok {
				leaderUsage = md.Usage
			}
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
		for ev := range m.Stream(context.Background(), q("a")) {
			if md, ok := ev.(bedrockkit.StreamMetadata); ok {
				waiterUsage = md.Usage
			}
		}
	}()
	waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
	close(gm.gate)
	wg.Wait()
	if leaderUsage != (bedrockkit.Usage{}) || waiterUsage != gatedUsage {
		t.Fatalf("leader got %+v, waiter %+v", leaderUsage, waiterUsage)
	}
	if st := c.Stats(); st.Saved != gatedUsage || st.Unreported != (bedrockkit.Usage{}) {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	// The waiter's lookup (usage received) comes first; the leader's miss is
	// reported when its stream ends, with what it saved.
	want := []cache.Lookup{{Model: "m", Key: looks[0].Key, Shared: true}, {Model: "m", Key: looks[0].Key, Saved: gatedUsage}}
	if !reflect.DeepEqual(looks, want) {
		t.Fatalf("lookups %+v, want %+v", looks, want)
	}
}

// TestDedupStreamUsageUnreported: the model reported usage but every caller
// stopped reading before the Metadata event: it is counted as unreported,
// not as saved.
func TestDedupStreamUsageUnreported(t *testing.T) {
	gm := newGated()
	close(gm.gate)
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
	for ev := range m.Stream(context.Background(), q("a")) {
		if _, ok := ev.(bedrockkit.Stop); ok {
			// The call has ended (its answer is stored), Metadata included.
			waitFor(t, "the call to end", func() bool { return c.Stats().Stores == 1 })
			break
		}
	}
	if st := c.Stats(); st.Unreported != gatedUsage || st.Saved != (bedrockkit.Usage{}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestDedupStreamConsumerPanics: a caller whose loop body panics (or calls
// runtime.Goexit) leaves the flight: the model call is cancelled once no
// caller is left, and the next identical request starts afresh instead of
// joining the orphan.
func TestDedupStreamConsumerPanics(t *testing.T) {
	for _, how := range []string{"panic", "goexit"} {
		gm := newGated()
		c := cache.New(cache.Options{})
		m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
		done := make(chan any)
		go func() {
			defer func() { done <- recover() }()
			for range m.Stream(context.Background(), q("a")) {
				if how == "panic" {
					panic("handler bug")
				}
				runtime.Goexit()
			}
		}()
		if p := <-done; (how == "panic") != (p == "handler bug") {
			t.Fatalf("%s: recovered %v", how, p)
		}
		if gm.cancelled.Load() != 1 || gm.returned.Load() != 1 {
			t.Fatalf("%s: model call left running: cancelled %d returned %d", how, gm.cancelled.Load(), gm.returned.Load())
		}
		close(gm.gate)
		resp, err := bedrockkit.Collect(m.Stream(context.Background(), q("a")))
		if err != nil || resp.Usage != gatedUsage || gm.calls.Load() != 2 {
			t.Fatalf("%s: next request: %v %+v calls %d", how, err, resp, gm.calls.Load())
		}
		if st := c.Stats(); st.Shared != 0 || st.Misses != 2 {
			t.Fatalf("%s: stats %+v", how, st)
		}
	}
}

// TestDedupStreamWaiterPanics: a waiter whose loop body panics leaves the
// flight without disturbing the leader.
func TestDedupStreamWaiterPanics(t *testing.T) {
	gm := newGated()
	c := cache.New(cache.Options{})
	m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
	leader := make(chan result, 1)
	go func() {
		resp, err := bedrockkit.Collect(m.Stream(context.Background(), q("a")))
		leader <- result{resp, err}
	}()
	waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
	func() {
		defer func() { recover() }()
		for range m.Stream(context.Background(), q("a")) {
			panic("handler bug")
		}
	}()
	close(gm.gate)
	if r := <-leader; r.err != nil || r.resp.Usage != gatedUsage {
		t.Fatalf("leader: %v %+v", r.err, r.resp)
	}
	if gm.cancelled.Load() != 0 {
		t.Fatal("the waiter's panic cancelled the leader's call")
	}
}

// TestDedupGenerateCancelRace races the callers' cancellation against the
// end of the call: whatever happens, the usage billed once is received by
// exactly one caller or counted as unreported, and every saving reported
// is a caller that received the answer without its usage.
func TestDedupGenerateCancelRace(t *testing.T) {
	for i := range 200 {
		gm := newGated()
		c := cache.New(cache.Options{})
		m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
		ctx1, cancel1 := context.WithCancel(context.Background())
		ctx2, cancel2 := context.WithCancel(context.Background())
		a := goGenerate(ctx1, m, q("a"))
		waitFor(t, "the model call", func() bool { return gm.calls.Load() == 1 })
		b := goGenerate(ctx2, m, q("a"))
		waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
		go cancel1()
		if i%2 == 0 {
			go cancel2()
		}
		close(gm.gate)
		var got bedrockkit.Usage
		answeredFree := 0
		for _, ch := range []<-chan result{a, b} {
			r := <-ch
			if r.err == nil {
				got = got.Add(r.resp.Usage)
				if r.resp.Usage == (bedrockkit.Usage{}) {
					answeredFree++
				}
			}
		}
		cancel2()
		st := c.Stats()
		billed := gatedUsage
		if gm.cancelled.Load() == 1 { // every caller left and the call saw it
			billed = bedrockkit.Usage{}
		}
		if got.Add(st.Unreported) != billed {
			t.Fatalf("run %d: callers received %+v, unreported %+v; want %+v in all", i, got, st.Unreported, billed)
		}
		var want bedrockkit.Usage
		for range answeredFree {
			want = want.Add(gatedUsage)
		}
		if st.Saved != want {
			t.Fatalf("run %d: saved %+v for %d free answers", i, st.Saved, answeredFree)
		}
	}
}

// panickyStore's Get waits for release, then panics.
type panickyStore struct {
	entered, release chan struct{}
}

func (s panickyStore) Get(context.Context, string) ([]byte, bool, error) {
	close(s.entered)
	<-s.release
	panic("store exploded")
}

func (panickyStore) Set(context.Context, string, []byte, time.Duration) error { return nil }

// TestDedupLeaderLookupPanics: when the leader's store lookup panics, the
// model is never called, and a waiter, Generate or Stream, ends with an
// error telling it to retry instead of an empty answer.
func TestDedupLeaderLookupPanics(t *testing.T) {
	for _, stream := range []bool{false, true} {
		gm := newGated()
		close(gm.gate)
		st := panickyStore{entered: make(chan struct{}), release: make(chan struct{})}
		c := cache.New(cache.Options{Store: st})
		m := c.Middleware()(bedrockkit.WithModelID(gm, "m"))
		call := func() (n int, err error) {
			if !stream {
				resp, err := m.Generate(context.Background(), q("a"))
				if resp != nil {
					n = 1
				}
				return n, err
			}
			for _, err := range m.Stream(context.Background(), q("a")) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		}
		leaderPanic := make(chan any, 1)
		go func() {
			defer func() { leaderPanic <- recover() }()
			call()
		}()
		<-st.entered
		waiter := make(chan result, 1)
		go func() {
			n, err := call()
			if n != 0 {
				err = errors.Join(err, errors.New("got an answer"))
			}
			waiter <- result{nil, err}
		}()
		waitFor(t, "the waiter", func() bool { return c.Stats().Shared == 1 })
		close(st.release)
		if p := <-leaderPanic; p == nil {
			t.Fatalf("stream=%v: the leader's panic was swallowed", stream)
		}
		if r := <-waiter; r.err == nil || !strings.Contains(r.err.Error(), "retry") {
			t.Fatalf("stream=%v: waiter ended with %v, want an error saying to retry", stream, r.err)
		}
		if gm.calls.Load() != 0 {
			t.Fatalf("stream=%v: the model was called %d times", stream, gm.calls.Load())
		}
	}
}
