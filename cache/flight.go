package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/cachehit"
)

// SpanEventHit is the name of the span event a Cache adds to the span in a
// call's context (trace.SpanFromContext) when it answers without calling
// the model: from the Store, or shared from an identical call in flight.
// The event carries bedrockkit.cache.shared (bool) and
// bedrockkit.cache.saved_tokens (int, the original call's total tokens).
// Package otelkit, placed outside the cache, is told of the hit through
// the context as well (the span in the context stays the tracer's own), so
// it does not rely on this event.
const SpanEventHit = "bedrockkit.cache.hit"

// Attribute keys of the SpanEventHit event.
const (
	AttrShared      = attribute.Key("bedrockkit.cache.shared")
	AttrSavedTokens = attribute.Key("bedrockkit.cache.saved_tokens")
)

// markSpan records on ctx's span that the call was answered without
// calling the model, and tells a tracing middleware (package otelkit) that
// put its recorder in ctx, even when the span is not recording: it still
// wants to know for its metrics.
func markSpan(ctx context.Context, shared bool, saved bedrockkit.Usage) {
	trace.SpanFromContext(ctx).AddEvent(SpanEventHit,
		trace.WithAttributes(AttrShared.Bool(shared), AttrSavedTokens.Int(saved.Total())))
	cachehit.Mark(ctx, shared, saved.Total())
}

// errLeaderGone is the error waiters get when the call they waited for
// never started because its leader failed while looking up the store.
var errLeaderGone = errors.New("cache: the identical request this call waited for failed before calling the model; retry the call")

// panicError carries a panic of the shared model call to every waiter.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("cache: the shared model call panicked: %v\n\n%s", p.value, p.stack)
}

// logEntry is one item of a shared stream.
type logEntry struct {
	ev  bedrockkit.StreamEvent
	err error
}

// flight is one model call shared by identical concurrent requests (one
// mode: Generate or Stream). The first request, the leader, looks the store
// up and, on a miss, starts the call on its own goroutine; every request
// (the leader included) then waits for the answer as a waiter.
type flight struct {
	c    *Cache
	fkey string
	done chan struct{} // closed when the call has ended and its answer is saved

	// Guarded by c.fmu.
	waiters  int                // callers still waiting for (the rest of) the answer
	attached int                // callers that have not returned yet
	leaderIn bool               // the leader is still waiting
	claimed  bool               // the usage has been given to a caller
	finished bool               // the call has ended: a Generate caller can no longer leave
	cancel   context.CancelFunc // cancels the model call; nil until it starts

	// Written before done is closed (and, for streams, before ended is set),
	// read after.
	resp     *bedrockkit.Response
	err      error
	hit      bool             // answered from the store
	saved    bedrockkit.Usage // what the answer originally cost
	billed   bedrockkit.Usage // the usage the model reported, even for an abandoned stream
	panicked *panicError

	// The stream log, guarded by mu.
	mu    sync.Mutex
	log   []logEntry
	ended bool
	more  chan struct{} // closed (and replaced) when log grows or the call ends
}

// join returns the flight for fkey, creating it (and making the caller its
// leader) when there is none.
func (c *Cache) join(fkey string) (f *flight, leader bool) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if f := c.flights[fkey]; f != nil {
		f.waiters++
		f.attached++
		c.mu.Lock()
		c.stats.Shared++
		c.mu.Unlock()
		return f, false
	}
	f = &flight{c: c, fkey: fkey, done: make(chan struct{}), more: make(chan struct{}), waiters: 1, attached: 1, leaderIn: true}
	c.flights[fkey] = f
	return f, true
}

// leave removes a waiter that stops waiting before the end. The last one to
// leave cancels the call and waits for it to return. With ifRunning (a
// Generate caller, which receives the answer all at once) it does nothing
// and returns false when the call has already ended: the caller must then
// take the answer, so that its usage cannot be left to nobody.
func (f *flight) leave(leader, ifRunning bool) bool {
	c := f.c
	c.fmu.Lock()
	if ifRunning && f.finished {
		c.fmu.Unlock()
		return false
	}
	f.waiters--
	if leader {
		f.leaderIn = false
	}
	last := f.waiters == 0
	if last && c.flights[f.fkey] == f {
		delete(c.flights, f.fkey)
	}
	cancel := f.cancel
	c.fmu.Unlock()
	if last && cancel != nil {
		cancel()
		<-f.done
	}
	return true
}

// exit is called by every caller of the flight when it returns. The last
// one counts the usage the model reported that no caller received (every
// caller stopped reading a stream before its Metadata event, or left a
// call that then completed) as Stats.Unreported: it was billed, but is
// neither anyone's usage nor a saving.
func (f *flight) exit() {
	c := f.c
	c.fmu.Lock()
	f.attached--
	last, claimed := f.attached == 0, f.claimed
	c.fmu.Unlock()
	if !last {
		return
	}
	<-f.done // no caller is left to cancel it, so it has ended or is ending
	if !f.hit && !claimed && f.billed != (bedrockkit.Usage{}) {
		c.mu.Lock()
		c.stats.Unreported = c.stats.Unreported.Add(f.billed)
		c.mu.Unlock()
	}
}

// complete ends the flight: later requests start a new one (and find the
// answer in the store), waiters are woken.
func (f *flight) complete() {
	c := f.c
	c.fmu.Lock()
	if c.flights[f.fkey] == f {
		delete(c.flights, f.fkey)
	}
	f.finished = true
	c.fmu.Unlock()
	f.mu.Lock()
	f.ended = true
	close(f.more)
	f.mu.Unlock()
	close(f.done)
}

// claim reports whether a Generate caller receives the answer's usage: the
// leader if it is still there (it cannot leave once the call has ended),
// else the first waiter to ask.
func (f *flight) claim(leader bool) bool {
	f.c.fmu.Lock()
	defer f.c.fmu.Unlock()
	if f.claimed || (!leader && f.leaderIn) {
		return false
	}
	f.claimed = true
	return true
}

// claimStream reports whether a Stream caller about to receive the
// Metadata event receives the usage in it: the first caller to get there,
// leader or waiter. Callers read at their own pace, so this is the only
// rule under which a caller that gets the Metadata event cannot be denied
// usage that then reaches nobody (a leader that stops reading before it).
func (f *flight) claimStream() bool {
	f.c.fmu.Lock()
	defer f.c.fmu.Unlock()
	if f.claimed {
		return false
	}
	f.claimed = true
	return true
}

// alone reports whether, the flight having ended, the leader is the only
// caller that will read its answer (no waiter can join an ended flight).
func (f *flight) alone() bool {
	f.c.fmu.Lock()
	defer f.c.fmu.Unlock()
	return f.waiters == 1 && f.leaderIn
}

func (f *flight) append(ev bedrockkit.StreamEvent, err error) {
	f.mu.Lock()
	if md, ok := ev.(bedrockkit.StreamMetadata); ok {
		f.billed = md.Usage // the last one counts, as in bedrockkit.Collect
	}
	f.log = append(f.log, logEntry{ev, err})
	close(f.more)
	f.more = make(chan struct{})
	f.mu.Unlock()
}

// lead looks key up and completes f with a hit, or starts call on its own
// goroutine with a context that keeps ctx's values but not its
// cancellation; the context is cancelled when every waiter has left.
//
// A hit is reported at once. A miss is reported at once too, unless
// deferMiss: it is then returned for the caller to report when it knows
// what the call saved it (see sharedStream).
func (m *cachedModel) lead(ctx context.Context, f *flight, key string, stream, deferMiss bool, call func(context.Context)) (miss *Lookup) {
	started := false
	defer func() {
		if !started { // the lookup panicked: do not leave the waiters hanging
			f.err = errLeaderGone
			if stream { // stream waiters read only the log
				f.append(nil, errLeaderGone)
			}
			f.complete()
		}
	}()
	resp, l := m.check(ctx, key)
	if l.Hit || !deferMiss {
		m.report(ctx, l)
	} else {
		miss = &l
	}
	if l.Hit {
		f.resp, f.saved, f.hit = resp, l.Saved, true
		if stream {
			for _, ev := range Replay(resp) {
				f.append(ev, nil)
			}
		}
		started = true
		f.complete()
		return miss
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(cachehit.Detach(ctx)))
	m.c.fmu.Lock()
	f.cancel = cancel
	m.c.fmu.Unlock()
	started = true
	go func() {
		defer f.complete()
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				f.panicked = &panicError{value: r, stack: debug.Stack()}
			}
		}()
		call(fctx)
	}()
	return miss
}

// reportShared counts and reports a waiter's outcome. saved is what it did
// not spend: zero when it failed, left, or received the usage itself.
func (m *cachedModel) reportShared(ctx context.Context, key string, saved bedrockkit.Usage, answered bool) {
	m.c.mu.Lock()
	m.c.stats.Saved = m.c.stats.Saved.Add(saved)
	m.c.mu.Unlock()
	if m.c.onLookup != nil {
		m.c.onLookup(ctx, Lookup{Model: m.id, Key: key, Shared: true, Saved: saved})
	}
	if answered {
		markSpan(ctx, true, saved)
	}
}

func (m *cachedModel) sharedGenerate(ctx context.Context, key string, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	joined := m.c.now()
	f, leader := m.c.join("g" + key)
	defer f.exit()
	if leader {
		m.lead(ctx, f, key, false, false, func(fctx context.Context) {
			resp, err := m.next.Generate(fctx, req)
			m.save(fctx, key, resp, err)
			f.resp, f.err = resp, err
			if resp != nil {
				f.saved, f.billed = resp.Usage, resp.Usage
			}
		})
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		// Leave unless the call has ended meanwhile: then take the answer,
		// for this caller may be the one its usage is reserved for.
		if f.leave(leader, true) {
			if !leader {
				m.reportShared(ctx, key, bedrockkit.Usage{}, false)
			}
			return nil, ctx.Err()
		}
		<-f.done
	}
	if f.panicked != nil {
		panic(f.panicked)
	}
	resp := f.resp
	if !leader || !f.alone() {
		resp = cloneResponse(f.resp)
	}
	if leader && f.hit {
		return resp, f.err // counted and reported by lookupKey
	}
	if !f.hit && f.claim(leader) {
		if !leader {
			m.reportShared(ctx, key, bedrockkit.Usage{}, false)
		}
		return resp, f.err
	}
	saved := bedrockkit.Usage{}
	if resp != nil {
		resp.Usage = bedrockkit.Usage{}
		resp.Latency = m.c.now().Sub(joined)
		if f.err == nil {
			saved = f.saved
		}
	}
	m.reportShared(ctx, key, saved, f.err == nil)
	return resp, f.err
}

func (m *cachedModel) sharedStream(ctx context.Context, key string, req *bedrockkit.Request, yield func(bedrockkit.StreamEvent, error) bool) {
	f, leader := m.c.join("s" + key)
	st := &streamReader{f: f, leader: leader}
	// Whatever way this returns, a panic or runtime.Goexit in the caller's
	// loop body included, it leaves the flight (the last caller out cancels
	// the model call), reports its outcome and exits.
	defer m.endSharedStream(ctx, key, st)
	if leader {
		st.miss = m.lead(ctx, f, key, true, true, func(fctx context.Context) {
			m.leadStream(fctx, f, key, req)
		})
	}
	if !st.relay(ctx, yield) {
		return
	}
	st.left, st.finished = true, true
	if f.panicked != nil {
		panic(f.panicked)
	}
}

// streamReader is one caller's reading of a shared stream.
type streamReader struct {
	f        *flight
	leader   bool
	miss     *Lookup // the leader's miss, reported when it returns
	left     bool    // no longer among f's waiters: read to the end, or left
	finished bool    // read to the end
	owner    bool    // received the usage in the Metadata event
	gotMeta  bool    // received a Metadata event
}

// relay yields the flight's events as they are logged, the usage of the
// Metadata event to its first reader only. It reports whether the stream
// was read to its end; when ctx ends it leaves the flight first.
func (st *streamReader) relay(ctx context.Context, yield func(bedrockkit.StreamEvent, error) bool) bool {
	f := st.f
	for i := 0; ; {
		f.mu.Lock()
		batch := f.log[i:len(f.log):len(f.log)]
		ended, more := f.ended, f.more
		f.mu.Unlock()
		for _, e := range batch {
			i++
			ev := e.ev
			if md, ok := ev.(bedrockkit.StreamMetadata); ok && !f.hit {
				st.gotMeta = true
				if !st.owner {
					if st.owner = f.claimStream(); !st.owner {
						md.Usage = bedrockkit.Usage{}
						ev = md
					}
				}
			}
			if !yield(ev, e.err) {
				return false
			}
		}
		if ended {
			return true
		}
		select {
		case <-more:
		case <-ctx.Done():
			f.leave(st.leader, false)
			st.left = true
			yield(nil, ctx.Err())
			return false
		}
	}
}

// leadStream is the leader's model call: it logs every event for the
// flight's readers while collecting the response, and saves it.
func (m *cachedModel) leadStream(fctx context.Context, f *flight, key string, req *bedrockkit.Request) {
	abandoned := false
	resp, err := bedrockkit.Collect(func(collect func(bedrockkit.StreamEvent, error) bool) {
		for ev, err := range m.next.Stream(fctx, req) {
			f.append(ev, err)
			if fctx.Err() != nil { // every waiter has left
				abandoned = true
				return
			}
			if !collect(ev, err) {
				return
			}
		}
	})
	if abandoned && err == nil {
		resp = nil // possibly incomplete
	}
	m.save(fctx, key, resp, err)
	f.resp, f.err = resp, err
	if resp != nil {
		f.saved = resp.Usage
	}
}

// endSharedStream leaves the flight if still in it, reports the caller's
// outcome (the leader's miss, or a shared hit) and exits the flight.
func (m *cachedModel) endSharedStream(ctx context.Context, key string, st *streamReader) {
	f, leader := st.f, st.leader
	if !st.left {
		f.leave(leader, false)
	}
	if leader {
		if st.miss != nil {
			if st.finished && st.gotMeta && !st.owner && f.err == nil && f.resp != nil {
				// The call was this leader's, but a waiter read its
				// usage first: the leader saved it.
				st.miss.Saved = f.saved
				m.c.mu.Lock()
				m.c.stats.Saved = m.c.stats.Saved.Add(f.saved)
				m.c.mu.Unlock()
			}
			m.report(ctx, *st.miss)
		}
	} else if st.finished && !st.owner && f.err == nil && f.resp != nil {
		m.reportShared(ctx, key, f.saved, true)
	} else {
		m.reportShared(ctx, key, bedrockkit.Usage{}, false)
	}
	f.exit()
}

// cloneResponse copies r deeply enough that callers sharing one answer can
// each change theirs.
func cloneResponse(r *bedrockkit.Response) *bedrockkit.Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Message.Parts = slices.Clone(r.Message.Parts)
	for i, p := range c.Message.Parts {
		switch p := p.(type) {
		case bedrockkit.ToolCall:
			p.Input = bytes.Clone(p.Input)
			c.Message.Parts[i] = p
		case bedrockkit.JSON:
			p.Value = bytes.Clone(p.Value)
			c.Message.Parts[i] = p
		}
	}
	c.AdditionalFields = bytes.Clone(r.AdditionalFields)
	return &c
}
