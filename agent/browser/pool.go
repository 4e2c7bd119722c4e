package browser

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Pool keeps one browser session per key — typically the agent session
// ID — so that a conversation's page, cookies and element references
// persist across tool calls and never mix with another conversation's.
// Sessions start on first use and close when idle for
// Options.IdleTimeout, at their time limit, when dropped, or with the
// pool. A key's later sessions continue its earlier ones' time and
// page-load budget until Drop (the pool remembers the usage of its
// 10,000 most recent keys), so closing and reopening does not reset the
// limits: a key past its time limit gets no new session. A Pool is safe for concurrent use.
type Pool struct {
	backend Backend
	opts    Options

	mu       sync.Mutex
	entries  map[string]*poolEntry
	usage    map[string]usage
	starting map[string]chan struct{}
	closed   bool
	closing  sync.WaitGroup // closes in flight
}

type poolEntry struct {
	key     string
	tab     *Tab
	timer   *time.Timer
	active  int
	lastUse time.Time
}

// NewPool returns a pool of sessions started from backend with opts.
func NewPool(backend Backend, opts Options) *Pool {
	return &Pool{backend: backend, opts: opts.withDefaults(), entries: map[string]*poolEntry{},
		usage: map[string]usage{}, starting: map[string]chan struct{}{}}
}

// Options returns the pool's options, with the defaults filled in.
func (p *Pool) Options() Options { return p.opts }

// Tab returns the session for key, starting one if there is none (or if
// the previous one was closed). Call the returned release when done with
// it: a session in use is never closed for being idle or evicted.
func (p *Pool) Tab(ctx context.Context, key string) (*Tab, func(), error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, nil, fmt.Errorf("browser: the pool is closed: %w", ErrClosed)
		}
		if e, ok := p.entries[key]; ok {
			if !e.tab.Closed() {
				e.active++
				e.lastUse = time.Now()
				p.mu.Unlock()
				return e.tab, p.releaser(e), nil
			}
			p.removeLocked(e)
		}
		if ch, ok := p.starting[key]; ok { // another call is starting it
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		if len(p.entries)+len(p.starting) >= p.opts.MaxSessions && !p.evictLocked() {
			p.mu.Unlock()
			return nil, nil, fmt.Errorf("%w (%d sessions)", ErrBusy, p.opts.MaxSessions)
		}
		ch := make(chan struct{})
		p.starting[key] = ch
		var carry *usage
		if u, ok := p.usage[key]; ok {
			if time.Since(u.first) >= p.opts.MaxSessionTime {
				delete(p.starting, key)
				close(ch)
				p.mu.Unlock()
				return nil, nil, &LimitError{Limit: LimitTime, Detail: fmt.Sprintf("the session ran for its %s", p.opts.MaxSessionTime)}
			}
			carry = &u
		}
		p.mu.Unlock()

		t, err := newTab(ctx, p.backend, p.opts, carry)

		p.mu.Lock()
		delete(p.starting, key)
		close(ch)
		if err != nil {
			p.mu.Unlock()
			return nil, nil, err
		}
		if p.closed {
			p.mu.Unlock()
			_ = t.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("browser: the pool is closed: %w", ErrClosed)
		}
		e := &poolEntry{key: key, tab: t, active: 1, lastUse: time.Now()}
		e.timer = time.AfterFunc(p.opts.IdleTimeout, func() { p.expire(e) })
		p.entries[key] = e
		p.mu.Unlock()
		return t, p.releaser(e), nil
	}
}

func (p *Pool) releaser(e *poolEntry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			e.active--
			e.lastUse = time.Now()
			if p.entries[e.key] == e {
				e.timer.Reset(p.opts.IdleTimeout)
			}
		})
	}
}

// evictLocked closes the least recently used idle session to make room.
// p.mu is held.
func (p *Pool) evictLocked() bool {
	var lru *poolEntry
	for _, e := range p.entries {
		if e.active == 0 && (lru == nil || e.lastUse.Before(lru.lastUse)) {
			lru = e
		}
	}
	if lru == nil {
		return false
	}
	p.removeLocked(lru)
	return true
}

// expire closes e if it is still idle.
func (p *Pool) expire(e *poolEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries[e.key] != e {
		return
	}
	if e.active > 0 || time.Since(e.lastUse) < p.opts.IdleTimeout {
		e.timer.Reset(p.opts.IdleTimeout)
		return
	}
	p.removeLocked(e)
}

// removeLocked takes e out of the pool, keeps its usage for the key and
// closes its session in the background. p.mu is held.
func (p *Pool) removeLocked(e *poolEntry) {
	delete(p.entries, e.key)
	e.timer.Stop()
	p.keepUsageLocked(e.key, e.tab.used())
	p.closing.Add(1)
	go func() {
		defer p.closing.Done()
		_ = e.tab.Close(context.Background())
	}()
}

// maxUsage bounds the keys whose usage a pool remembers.
const maxUsage = 10000

// keepUsageLocked remembers what key's session used, forgetting the
// oldest key when there are too many. p.mu is held.
func (p *Pool) keepUsageLocked(key string, u usage) {
	p.usage[key] = u
	if len(p.usage) <= maxUsage {
		return
	}
	oldest, first := "", time.Time{}
	for k, v := range p.usage {
		if oldest == "" || v.first.Before(first) {
			oldest, first = k, v.first
		}
	}
	delete(p.usage, oldest)
}

// Len returns the number of open sessions.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// CloseSession closes the session for key, if any, and waits until its
// browser is released. The key keeps its used time and page loads: its
// next session continues them.
func (p *Pool) CloseSession(ctx context.Context, key string) error {
	p.mu.Lock()
	e, ok := p.entries[key]
	if ok {
		delete(p.entries, key)
		e.timer.Stop()
		p.keepUsageLocked(key, e.tab.used())
	}
	p.mu.Unlock()
	if !ok {
		return nil
	}
	return e.tab.Close(ctx)
}

// Drop closes the session for key and forgets what the key used, so its
// next session starts with fresh limits. Call it when the conversation
// ends.
func (p *Pool) Drop(ctx context.Context, key string) error {
	err := p.CloseSession(ctx, key)
	p.mu.Lock()
	delete(p.usage, key)
	p.mu.Unlock()
	return err
}

// Close closes every session and waits until all browsers are released;
// later calls to Tab fail with ErrClosed.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	entries := p.entries
	p.entries = map[string]*poolEntry{}
	for _, e := range entries {
		e.timer.Stop()
	}
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		errs = append(errs, e.tab.Close(ctx))
	}
	p.closing.Wait()
	return errors.Join(errs...)
}
