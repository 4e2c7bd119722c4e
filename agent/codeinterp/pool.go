package codeinterp

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// PoolOptions configure a Pool. The zero value gives the defaults.
type PoolOptions struct {
	// IdleTimeout closes a sandbox that has not been used for this long;
	// 0 means 15 minutes (AgentCore's default session timeout).
	IdleTimeout time.Duration
	// MaxSandboxes is the most sandboxes open at once; 0 means 64. When the
	// pool is full, the least recently used idle sandbox is closed to make
	// room; when all are busy, Get fails with ErrBusy.
	MaxSandboxes int
	// CloseTimeout bounds closing an expired sandbox (for a remote one, the
	// call that stops its session); 0 means 30 seconds.
	CloseTimeout time.Duration
}

// Pool keeps one sandbox per key — typically an agent session ID — so that
// the variables and files of one conversation persist across tool calls and
// never mix with another's. Sandboxes are started on first use and closed
// when idle for IdleTimeout, when evicted, or by Close. A Pool is safe for
// concurrent use.
type Pool struct {
	interp Interpreter
	opts   PoolOptions

	mu      sync.Mutex
	entries map[string]*poolEntry
	closed  bool
	closing sync.WaitGroup // expirations and evictions in flight
}

type poolEntry struct {
	key     string
	sb      Sandbox
	timer   *time.Timer
	active  int
	lastUse time.Time
	gone    bool // removed from the pool; its handles fail with ErrClosed
}

// NewPool returns a pool of sandboxes from interp.
func NewPool(interp Interpreter, opts PoolOptions) *Pool {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 15 * time.Minute
	}
	if opts.MaxSandboxes <= 0 {
		opts.MaxSandboxes = 64
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 30 * time.Second
	}
	return &Pool{interp: interp, opts: opts, entries: map[string]*poolEntry{}}
}

// Interpreter returns the interpreter the pool starts sandboxes from.
func (p *Pool) Interpreter() Interpreter { return p.interp }

// Get returns the sandbox for key, starting one if there is none. The
// returned Sandbox is a handle: closing it closes the pooled sandbox and
// removes it from the pool.
func (p *Pool) Get(ctx context.Context, key string) (Sandbox, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if e, ok := p.entries[key]; ok {
		e.lastUse = time.Now()
		e.timer.Reset(p.opts.IdleTimeout)
		p.mu.Unlock()
		return &pooled{p: p, e: e}, nil
	}
	if len(p.entries) >= p.opts.MaxSandboxes {
		var lru *poolEntry
		for _, e := range p.entries {
			if e.active == 0 && (lru == nil || e.lastUse.Before(lru.lastUse)) {
				lru = e
			}
		}
		if lru == nil {
			p.mu.Unlock()
			return nil, fmt.Errorf("%w (%d sandboxes)", ErrBusy, p.opts.MaxSandboxes)
		}
		p.removeLocked(lru)
	}
	p.mu.Unlock()

	sb, err := p.interp.Start(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.closeAsync(sb)
		return nil, ErrClosed
	}
	if e, ok := p.entries[key]; ok { // another caller started one first
		p.closeAsync(sb)
		e.lastUse = time.Now()
		e.timer.Reset(p.opts.IdleTimeout)
		return &pooled{p: p, e: e}, nil
	}
	e := &poolEntry{key: key, sb: sb, lastUse: time.Now()}
	e.timer = time.AfterFunc(p.opts.IdleTimeout, func() { p.expire(e) })
	p.entries[key] = e
	return &pooled{p: p, e: e}, nil
}

// expire closes e if it is still idle; a sandbox in use is looked at again
// one IdleTimeout later.
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

// removeLocked takes e out of the pool and closes its sandbox in the
// background. p.mu is held.
func (p *Pool) removeLocked(e *poolEntry) {
	e.gone = true
	delete(p.entries, e.key)
	e.timer.Stop()
	p.closeAsync(e.sb)
}

// closeAsync closes sb without holding up the caller; Close waits for it.
func (p *Pool) closeAsync(sb Sandbox) {
	p.closing.Add(1)
	go func() {
		defer p.closing.Done()
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.CloseTimeout)
		defer cancel()
		_ = sb.Close(ctx)
	}()
}

// Len returns the number of open sandboxes.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Drop closes the sandbox for key, if any, and waits for it to close.
func (p *Pool) Drop(ctx context.Context, key string) error {
	p.mu.Lock()
	e, ok := p.entries[key]
	if ok {
		e.gone = true
		delete(p.entries, key)
		e.timer.Stop()
	}
	p.mu.Unlock()
	if !ok {
		return nil
	}
	return e.sb.Close(ctx)
}

// Close closes every sandbox and waits until all are closed; later Gets
// fail with ErrClosed.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	entries := p.entries
	p.entries = map[string]*poolEntry{}
	for _, e := range entries {
		e.gone = true
		e.timer.Stop()
	}
	p.mu.Unlock()
	var first error
	for _, e := range entries {
		if err := e.sb.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	p.closing.Wait()
	return first
}

// pooled is the handle Get returns: it marks its entry busy while a call
// runs, so the entry is not expired or evicted under it.
type pooled struct {
	p *Pool
	e *poolEntry
}

func (h *pooled) begin() error {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	if h.e.gone {
		return ErrClosed
	}
	h.e.active++
	h.e.lastUse = time.Now()
	return nil
}

func (h *pooled) end() {
	h.p.mu.Lock()
	h.e.active--
	h.e.lastUse = time.Now()
	h.p.mu.Unlock()
}

func (h *pooled) ID() string { return h.e.sb.ID() }

func (h *pooled) Execute(ctx context.Context, code string) (*Execution, error) {
	if err := h.begin(); err != nil {
		return nil, err
	}
	defer h.end()
	return h.e.sb.Execute(ctx, code)
}

func (h *pooled) WriteFiles(ctx context.Context, files ...File) error {
	if err := h.begin(); err != nil {
		return err
	}
	defer h.end()
	return h.e.sb.WriteFiles(ctx, files...)
}

func (h *pooled) ReadFiles(ctx context.Context, paths ...string) ([]File, error) {
	if err := h.begin(); err != nil {
		return nil, err
	}
	defer h.end()
	return h.e.sb.ReadFiles(ctx, paths...)
}

func (h *pooled) ListFiles(ctx context.Context) ([]FileInfo, error) {
	if err := h.begin(); err != nil {
		return nil, err
	}
	defer h.end()
	return h.e.sb.ListFiles(ctx)
}

func (h *pooled) Close(ctx context.Context) error {
	h.p.mu.Lock()
	h.e.gone = true
	if h.p.entries[h.e.key] == h.e {
		delete(h.p.entries, h.e.key)
		h.e.timer.Stop()
	}
	h.p.mu.Unlock()
	return h.e.sb.Close(ctx)
}
