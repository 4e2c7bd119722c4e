package cache

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/internal/cachehit"
)

// Options configures a response Cache. The zero value is ready to use.
type Options struct {
	// Store holds the responses; nil means a NewMemoryStore with default
	// bounds (1,000 entries, 64 MiB).
	Store Store
	// TTL is how long a response stays valid; 0 means one hour, a negative
	// value means no expiry.
	TTL time.Duration
	// Skip, when set, is asked before each call: true sends the request to
	// the model without looking it up or storing the answer. Use it for
	// requests that must be fresh (high temperature, personal data, ...).
	Skip func(ctx context.Context, req *bedrockkit.Request) bool
	// OnLookup, when set, is called after each lookup with what happened.
	// It runs on the caller's goroutine; it must be quick and safe for
	// concurrent use. With de-duplication on, a Stream's miss is reported
	// when its stream ends (see Lookup.Saved), and a shared answer when
	// the caller is done with it.
	OnLookup func(ctx context.Context, l Lookup)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DisableDedup turns off in-flight de-duplication: identical requests
	// that miss at the same time then each call the model. See Cache.
	//
	// With de-duplication on, the shared model call runs with the context
	// of the request that started it (the leader), stripped of its
	// cancellation only: every middleware and model inside the cache sees
	// the leader's context values, not those of the other requests that
	// share the answer. A budget, tenant, credential or rate limiter kept
	// in the context and read inside the cache is therefore the leader's
	// (one tenant's budget is charged for an answer several tenants
	// receive; the call carries the leader's trace span). Middleware that
	// must see every caller's context (pricing meters, budgets, tracing)
	// belongs outside the cache; if that is not possible, set DisableDedup
	// or make such values part of the request (for instance with Skip).
	DisableDedup bool
}

// Lookup reports one cache lookup to Options.OnLookup.
type Lookup struct {
	// Model is the model ID given to Middleware.
	Model string
	// Key is the request's cache key (see Key).
	Key string
	// Hit is true when the answer came from the Store.
	Hit bool
	// Shared is true when the answer came from an identical request that
	// was calling the model at the same time (in-flight de-duplication).
	// Hit and Shared both mean this call did not reach the model; at most
	// one of them is set.
	Shared bool
	// Age is how long ago a hit was stored.
	Age time.Duration
	// Saved is, on a hit or a shared answer, the usage the original call
	// reported: the tokens this call did not spend. Price it with
	// pricing.Cost(model, Saved) to report savings. It is also set on the
	// miss of a Stream whose model call was shared and whose usage was
	// received by an identical stream that read the Metadata event first
	// (the usage goes to one caller only; see Cache).
	Saved bedrockkit.Usage
	// Err is a store error; the call then went to the model (a failing
	// cache never fails a call).
	Err error
}

// Stats counts a Cache's activity since it was created. Every cached call
// is counted once in Hits, Misses or Shared, and Misses is the number of
// calls that reached the model.
type Stats struct {
	// Hits counts calls answered from the Store.
	Hits int64
	// Misses counts calls that went to the model.
	Misses int64
	// Shared counts calls that waited for an identical call already going
	// to the model instead of calling it themselves (counted when they
	// join, whatever the outcome).
	Shared int64
	// Stores counts answers written to the Store.
	Stores int64
	// Uncacheable counts answers not stored: failed calls, abandoned or
	// failed streams, and stop reasons other than end_turn, tool_use,
	// max_tokens and stop_sequence.
	Uncacheable int64
	// StoreErrors counts failed Store calls.
	StoreErrors int64
	// Saved sums the original usage of every hit and of every shared
	// answer: tokens not spent.
	Saved bedrockkit.Usage
	// Unreported sums the usage of shared model calls (in-flight
	// de-duplication) that the model reported but no caller received:
	// every caller stopped reading the stream before its Metadata event,
	// or every caller left before the call ended and it completed all the
	// same. Those tokens were billed, yet appear in no caller's Usage (a
	// pricing meter outside the cache does not see them) and are not
	// counted in Saved. Without de-duplication such usage is lost
	// silently, as it is for any stream its caller stops reading.
	Unreported bedrockkit.Usage
}

// Cache is an exact-match response cache for bedrockkit models. Wrap a model
// with Middleware. It is safe for concurrent use.
//
// A hit returns the stored answer with Usage zero (no token was billed: a
// pricing meter placed outside the cache records the call at no cost and
// budgets are not charged) and Latency the time of the lookup; the usage
// the answer originally cost is reported as Lookup.Saved and summed in
// Stats.Saved. A miss calls the model and stores a complete answer. Streams
// are cached too: a miss passes the events through and stores the answer
// when the stream completes; a hit replays the stored answer as events
// (one delta per content block, then Stop and a Metadata with zero usage).
//
// Identical requests (same Key) that miss at the same time make one model
// call: the first becomes the leader, the others wait for its answer, which
// they receive as a hit (Usage zero, Lookup.Shared and Stats.Shared, the
// usage they saved in Lookup.Saved and Stats.Saved). The model call runs on
// its own goroutine, detached from the cancellation of any one caller but
// keeping the leader's context values (trace spans, ...): a waiter whose
// context ends returns its context's error at once and the call goes on for
// the others, the leader included; when every waiter has gone the call is
// cancelled, and the last one to leave returns once the model call has
// returned, so no goroutine outlives the calls that share it (also when a
// caller's loop over a shared stream panics or calls runtime.Goexit). A
// Generate answer's usage is reported once, to the leader, or to the first
// waiter to receive it if the leader has gone; a caller whose context ends
// just as the answer arrives receives the answer rather than leaving it
// unreported. A failed call is not cached and its error is
// given to every waiter (they do not retry: the same request would most
// likely fail the same way); the next request calls the model again.
//
// Streams share the same way, with Stream calls only (a Generate never
// waits for a Stream, nor the reverse): the waiters follow the leader's
// stream live, each at its own pace, receiving the events received so far
// and then the rest as they arrive. The usage in the Metadata event goes
// to the first caller to receive that event, leader or waiter (callers
// read at their own pace, and any other rule can deny it to a caller that
// reads it and then give it to nobody); the others' Metadata reports zero
// usage. A waiter that stops reading leaves without disturbing the others.
// Usage that no caller receives (all stopped reading before Metadata) is
// counted in Stats.Unreported, not in Stats.Saved.
//
// Set Options.DisableDedup to let every miss call the model.
//
// # Tracing
//
// A call answered without reaching the model (a hit or a shared answer)
// adds the event SpanEventHit to the span in its context
// (trace.SpanFromContext), with the attributes bedrockkit.cache.shared and
// bedrockkit.cache.saved_tokens. Package otelkit's model middleware,
// placed outside the cache, gives such a call the attribute
// bedrockkit.cache.hit=true on its "chat" span and leaves the call out of
// the token usage metric; placed inside the cache it is not called on a
// hit, so only real model calls get a "chat" span. Neither package imports
// the other: otelkit learns of the hit through a context value it installs
// (the span in the context stays the tracer's own), and the event serves
// every other tracer.
type Cache struct {
	store    Store
	ttl      time.Duration
	skip     func(context.Context, *bedrockkit.Request) bool
	onLookup func(context.Context, Lookup)
	now      func() time.Time
	dedup    bool

	mu    sync.Mutex
	stats Stats

	fmu     sync.Mutex         // guards flights and each flight's waiter bookkeeping
	flights map[string]*flight // by mode and key
}

// New returns a Cache.
func New(cfg Options) *Cache {
	c := &Cache{store: cfg.Store, ttl: cfg.TTL, skip: cfg.Skip, onLookup: cfg.OnLookup, now: cfg.Now,
		dedup: !cfg.DisableDedup, flights: map[string]*flight{}}
	if c.store == nil {
		c.store = NewMemoryStore(MemoryOptions{})
	}
	switch {
	case c.ttl == 0:
		c.ttl = time.Hour
	case c.ttl < 0:
		c.ttl = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Middleware returns a bedrockkit.Middleware caching the answers of the
// model it wraps, keyed by the model's own ID (bedrockkit.ModelIDOf: a
// ConverseModel says it, also inside retry middleware), so one Store can
// serve several models:
//
//	model := bedrockkit.Chain(converse, responses.Middleware())
//
// Name a model that does not say its ID with bedrockkit.WithModelID. Calls
// to a model that says none fail, without reaching it, with an error
// wrapping bedrockkit.ErrInvalidInput: two unnamed models sharing a Store
// would answer each other's requests.
func (c *Cache) Middleware() bedrockkit.Middleware {
	return func(next bedrockkit.Model) bedrockkit.Model {
		id := bedrockkit.ModelIDOf(next)
		if id == "" {
			return &cachedModel{c: c, next: next, err: fmt.Errorf("cache: cannot key the answers of %T: it does not say its model ID; name it with bedrockkit.WithModelID(model, \"us.amazon.nova-lite-v1:0\") under the cache: %w", next, bedrockkit.ErrInvalidInput)}
		}
		return &cachedModel{c: c, id: id, next: next}
	}
}

type cachedModel struct {
	c    *Cache
	id   string
	next bedrockkit.Model
	err  error // set when the model has no ID: every call fails with it
}

// ModelID returns the ID the answers are keyed by (see
// bedrockkit.ModelIDOf): the cache answers for the one model it wraps.
func (m *cachedModel) ModelID() string { return m.id }

// cacheable reports whether an answer with this stop reason may be stored.
func cacheable(r bedrockkit.StopReason) bool {
	switch r {
	case bedrockkit.StopEndTurn, bedrockkit.StopToolUse, bedrockkit.StopMaxTokens, bedrockkit.StopSequence:
		return true
	}
	return false
}

// lookup returns the stored answer for req, if any. key is "" when the
// request cannot be keyed (it then goes to the model uncached).
func (m *cachedModel) lookup(ctx context.Context, req *bedrockkit.Request) (key string, resp *bedrockkit.Response, ok bool) {
	key = m.key(ctx, req)
	if key == "" {
		return "", nil, false
	}
	resp, _, ok = m.lookupKey(ctx, key)
	return key, resp, ok
}

// key returns req's cache key, or "" when the request is skipped or cannot
// be keyed.
func (m *cachedModel) key(ctx context.Context, req *bedrockkit.Request) string {
	if m.c.skip != nil && m.c.skip(ctx, req) {
		return ""
	}
	key, err := Key(m.id, req)
	if err != nil {
		return ""
	}
	return key
}

// lookupKey looks key up in the store, counts the outcome, reports it to
// OnLookup and, on a hit, marks the span in ctx.
func (m *cachedModel) lookupKey(ctx context.Context, key string) (resp *bedrockkit.Response, saved bedrockkit.Usage, ok bool) {
	resp, l := m.check(ctx, key)
	m.report(ctx, l)
	return resp, l.Saved, l.Hit
}

// check looks key up in the store and counts the outcome.
func (m *cachedModel) check(ctx context.Context, key string) (*bedrockkit.Response, Lookup) {
	start := m.c.now()
	l := Lookup{Model: m.id, Key: key}
	var resp *bedrockkit.Response
	b, found, err := m.c.store.Get(ctx, key)
	if err == nil && found {
		var stored time.Time
		resp, l.Saved, stored, err = decodeResponse(b)
		if err == nil {
			l.Hit = true
			l.Age = start.Sub(stored)
			resp.Latency = m.c.now().Sub(start)
		}
	}
	m.c.mu.Lock()
	if l.Hit {
		m.c.stats.Hits++
		m.c.stats.Saved = m.c.stats.Saved.Add(l.Saved)
	} else {
		m.c.stats.Misses++
	}
	if err != nil {
		m.c.stats.StoreErrors++
		l.Err = err
	}
	m.c.mu.Unlock()
	return resp, l
}

// report gives l to OnLookup and, on a hit, marks the span in ctx.
func (m *cachedModel) report(ctx context.Context, l Lookup) {
	if m.c.onLookup != nil {
		m.c.onLookup(ctx, l)
	}
	if l.Hit {
		markSpan(ctx, false, l.Saved)
	}
}

func (m *cachedModel) save(ctx context.Context, key string, resp *bedrockkit.Response, callErr error) {
	if key == "" {
		return
	}
	if callErr != nil || resp == nil || !cacheable(resp.StopReason) {
		m.c.mu.Lock()
		m.c.stats.Uncacheable++
		m.c.mu.Unlock()
		return
	}
	b, err := encodeResponse(resp, m.c.now())
	if err == nil {
		err = m.c.store.Set(ctx, key, b, m.c.ttl)
	}
	m.c.mu.Lock()
	if err != nil {
		m.c.stats.StoreErrors++
	} else {
		m.c.stats.Stores++
	}
	m.c.mu.Unlock()
}

func (m *cachedModel) Generate(ctx context.Context, req *bedrockkit.Request) (*bedrockkit.Response, error) {
	if m.err != nil {
		return nil, m.err
	}
	if m.c.dedup {
		if key := m.key(ctx, req); key != "" {
			return m.sharedGenerate(ctx, key, req)
		}
		return m.next.Generate(cachehit.Detach(ctx), req)
	}
	key, resp, ok := m.lookup(ctx, req)
	if ok {
		return resp, nil
	}
	resp, err := m.next.Generate(cachehit.Detach(ctx), req)
	m.save(ctx, key, resp, err)
	return resp, err
}

func (m *cachedModel) Stream(ctx context.Context, req *bedrockkit.Request) iter.Seq2[bedrockkit.StreamEvent, error] {
	if m.err != nil {
		return func(yield func(bedrockkit.StreamEvent, error) bool) { yield(nil, m.err) }
	}
	if m.c.dedup {
		return func(yield func(bedrockkit.StreamEvent, error) bool) {
			if key := m.key(ctx, req); key != "" {
				m.sharedStream(ctx, key, req, yield)
				return
			}
			for ev, err := range m.next.Stream(cachehit.Detach(ctx), req) {
				if !yield(ev, err) {
					return
				}
			}
		}
	}
	return func(yield func(bedrockkit.StreamEvent, error) bool) {
		key, resp, ok := m.lookup(ctx, req)
		if ok {
			for _, ev := range Replay(resp) {
				if !yield(ev, nil) {
					return
				}
			}
			return
		}
		abandoned := false
		resp, err := bedrockkit.Collect(func(collect func(bedrockkit.StreamEvent, error) bool) {
			for ev, err := range m.next.Stream(cachehit.Detach(ctx), req) {
				if !yield(ev, err) {
					abandoned = true
					return
				}
				if !collect(ev, err) {
					return
				}
			}
		})
		if abandoned && err == nil {
			// The caller stopped reading: the answer may be incomplete.
			resp = nil
		}
		m.save(ctx, key, resp, err)
	}
}

// Replay returns the events a stream of resp would yield: per content block
// a ReasoningDelta, a TextDelta, or a ToolCallDelta (ID and name), a
// ToolCallDelta (the input) and a ToolCallDone; then Stop and Metadata with
// resp's usage and latency. Collect of the events gives resp back.
func Replay(resp *bedrockkit.Response) []bedrockkit.StreamEvent {
	var evs []bedrockkit.StreamEvent
	for i, p := range resp.Message.Parts {
		switch p := p.(type) {
		case bedrockkit.Reasoning:
			evs = append(evs, bedrockkit.ReasoningDelta{Index: i, Text: p.Text, Signature: p.Signature, Redacted: p.Redacted})
		case bedrockkit.Text:
			evs = append(evs, bedrockkit.TextDelta{Index: i, Text: p.Text})
		case bedrockkit.ToolCall:
			evs = append(evs,
				bedrockkit.ToolCallDelta{Index: i, ID: p.ID, Name: p.Name},
				bedrockkit.ToolCallDelta{Index: i, InputFragment: string(p.Input)},
				bedrockkit.ToolCallDone{Index: i, Call: p})
		}
	}
	return append(evs, bedrockkit.Stop{Reason: resp.StopReason, AdditionalFields: resp.AdditionalFields},
		bedrockkit.StreamMetadata{Usage: resp.Usage, Latency: resp.Latency})
}
