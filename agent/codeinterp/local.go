package codeinterp

import (
	"context"
	crand "crypto/rand"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// Options bound a Local interpreter's executions. The zero value gives the
// defaults.
type Options struct {
	// Timeout is the wall-clock time one execution may take; 0 means 10s.
	Timeout time.Duration
	// CPUTime is the CPU time one execution may use on its thread; 0 means
	// Timeout. (Measured with the thread's CPU clock on Linux; elsewhere it
	// is wall-clock time.)
	CPUTime time.Duration
	// MemoryLimit is how much one execution may grow the heap; 0 means
	// 64 MiB. It also sizes the largest string (MemoryLimit/4 characters),
	// array (MemoryLimit/32 elements) and JSON text (MemoryLimit/16
	// characters) a built-in operation accepts.
	MemoryLimit int64
	// MaxOutput is the most bytes one execution may print, stdout and stderr
	// together (the last expression's value has its own budget of the same
	// size); 0 means 64 KiB.
	MaxOutput int
	// MaxCodeSize is the largest program accepted, in bytes; 0 means 256 KiB.
	MaxCodeSize int
	// MaxFileSpace is the total size of a sandbox's files; 0 means 32 MiB.
	MaxFileSpace int64
	// MaxFiles is the most files a sandbox holds; 0 means 256.
	MaxFiles int
	// MaxCallDepth is the deepest call stack a program may build; 0 means 1000.
	MaxCallDepth int
	// Now is the clock programs see through Date; nil means time.Now.
	// Programs always see UTC, whatever the host's time zone.
	Now func() time.Time
	// Seed seeds Math.random; 0 means a random seed per sandbox.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.CPUTime <= 0 {
		o.CPUTime = o.Timeout
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = 64 << 20
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = 64 << 10
	}
	if o.MaxCodeSize <= 0 {
		o.MaxCodeSize = 256 << 10
	}
	if o.MaxFileSpace <= 0 {
		o.MaxFileSpace = 32 << 20
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 256
	}
	if o.MaxCallDepth <= 0 {
		o.MaxCallDepth = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Local is an in-process JavaScript interpreter (ECMAScript 2020 and later,
// run by the pure-Go engine goja) whose sandboxes have no network, no host
// file system, no environment and no access to host objects: a program sees
// the language's built-ins, console, a virtual file space (readFile,
// writeFile, listFiles, and require('fs') with the same files) and nothing
// else. Every execution is bounded in wall-clock time, CPU time, memory,
// output and the size of built-in operations; see Options.
//
// The memory limit is enforced by watching the Go heap while a program runs,
// so it is shared by executions running at the same time in one process and
// is a guard against runaway allocation, not an exact quota.
type Local struct {
	opts    Options
	prelude func() (*goja.Program, error)
}

// NewLocal returns a local interpreter with the given limits.
func NewLocal(opts Options) *Local {
	return &Local{opts: opts.withDefaults(), prelude: sync.OnceValues(compilePrelude)}
}

// Language returns JavaScript.
func (l *Local) Language() Language { return JavaScript }

// Options returns the limits in force, defaults filled in.
func (l *Local) Options() Options { return l.opts }

// Start opens a sandbox. It allocates nothing that outlives Close, and
// starts no goroutine.
func (l *Local) Start(ctx context.Context) (Sandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var id [10]byte
	_, _ = crand.Read(id[:])
	seed := l.opts.Seed
	if seed == 0 {
		seed = binary.LittleEndian.Uint64(id[:8]) | 1
	}
	return &localSandbox{
		id:      "local-" + hex.EncodeToString(id[:]),
		opts:    l.opts,
		prelude: l.prelude,
		sem:     make(chan struct{}, 1),
		done:    make(chan struct{}),
		files:   newFileSpace(l.opts.MaxFileSpace, l.opts.MaxFiles),
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}, nil
}

// localSandbox is one session of a Local interpreter.
type localSandbox struct {
	id      string
	opts    Options
	prelude func() (*goja.Program, error)
	sem     chan struct{} // held while a call runs; serialises executions
	done    chan struct{} // closed by Close

	closed atomic.Bool
	files  *fileSpace
	rng    *rand.Rand

	rtMu    sync.Mutex // guards running, for Close's interrupt
	running *goja.Runtime

	// Owned by the holder of sem.
	rt      *goja.Runtime
	toJSON  goja.Callable
	cur     *execState
	regexOK map[string]bool
}

// execState is the per-execution state the host functions write to.
type execState struct {
	out, errOut strings.Builder
	budget      int
	truncated   bool
	changed     map[string]bool
	limit       atomic.Pointer[LimitError]
}

func (s *localSandbox) ID() string { return s.id }

// acquire takes the sandbox for one call.
func (s *localSandbox) acquire(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.closed.Load() {
		<-s.sem
		return ErrClosed
	}
	return nil
}

func (s *localSandbox) release() { <-s.sem }

func (s *localSandbox) WriteFiles(ctx context.Context, files ...File) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	for _, f := range files {
		if err := s.files.write(f.Path, f.Content); err != nil {
			return err
		}
	}
	return nil
}

func (s *localSandbox) ReadFiles(ctx context.Context, paths ...string) ([]File, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	out := make([]File, 0, len(paths))
	for _, p := range paths {
		b, name, err := s.files.read(p)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: name, Content: b})
	}
	return out, nil
}

func (s *localSandbox) ListFiles(ctx context.Context) ([]FileInfo, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	return s.files.list(), nil
}

// Close interrupts a running execution, waits for it to stop and drops the
// sandbox's state.
func (s *localSandbox) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.rtMu.Lock()
	if s.running != nil {
		s.running.Interrupt(ErrClosed)
	}
	s.rtMu.Unlock()
	s.sem <- struct{}{} // wait for the running call; never released again
	s.rt, s.toJSON, s.cur = nil, nil, nil
	s.files.clear()
	return nil
}

// Execute runs code as a script in the sandbox's global scope: top-level
// declarations persist to later calls.
func (s *localSandbox) Execute(ctx context.Context, code string) (*Execution, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	start := time.Now()
	if len(code) > s.opts.MaxCodeSize {
		return nil, &LimitError{Limit: LimitSize, Detail: fmt.Sprintf("the program is %d bytes; the most accepted is %d: read data from files instead of inlining it", len(code), s.opts.MaxCodeSize)}
	}
	prg, synErr := s.compile(code)
	if synErr != "" {
		return &Execution{Error: synErr, Duration: time.Since(start)}, nil
	}
	if s.rt == nil {
		if err := s.newRuntime(); err != nil {
			return nil, err
		}
	}
	st := &execState{budget: s.opts.MaxOutput, changed: map[string]bool{}}
	rt := s.beginRun(st)
	value, runErr := s.runProgram(ctx, rt, st, prg)
	s.endRun(rt)

	ex := &Execution{
		Stdout:    st.out.String(),
		Stderr:    st.errOut.String(),
		Value:     value,
		Truncated: st.truncated,
		Files:     s.files.infos(st.changed),
		Duration:  time.Since(start),
	}
	if runErr == nil {
		return ex, nil
	}
	return s.stopped(ctx, ex, st, runErr)
}

// beginRun makes st the running execution and publishes the runtime for
// Close to interrupt.
func (s *localSandbox) beginRun(st *execState) *goja.Runtime {
	s.cur = st
	rt := s.rt
	s.rtMu.Lock()
	s.running = rt
	if s.closed.Load() {
		// Close ran after this call took the sandbox and before the program
		// started: it may not have seen the runtime to interrupt.
		rt.Interrupt(ErrClosed)
	}
	s.rtMu.Unlock()
	return rt
}

// endRun undoes beginRun.
func (s *localSandbox) endRun(rt *goja.Runtime) {
	s.rtMu.Lock()
	s.running = nil
	s.rtMu.Unlock()
	rt.ClearInterrupt()
	s.cur = nil
}

// runProgram runs prg under the watchdog and returns the JSON of its last
// expression's value, if any and within the output limit.
func (s *localSandbox) runProgram(ctx context.Context, rt *goja.Runtime, st *execState, prg *goja.Program) ([]byte, error) {
	var value []byte
	err := s.watched(ctx, rt, st, func() error {
		v, err := rt.RunProgram(prg)
		if err != nil {
			return err
		}
		if v == nil || goja.IsUndefined(v) {
			return nil
		}
		j, err := s.toJSON(goja.Undefined(), v, rt.ToValue(s.opts.MaxOutput))
		if err != nil {
			return err
		}
		if !goja.IsUndefined(j) && !goja.IsNull(j) {
			if n := len(j.String()); n > s.opts.MaxOutput {
				st.truncated = true
				st.errOut.WriteString(fmt.Sprintf("codeinterp: the last expression's value is %d bytes of JSON, over the %d-byte limit, and was dropped: print a summary or write it to a file\n", n, s.opts.MaxOutput))
				return nil
			}
			value = []byte(j.String())
		}
		return nil
	})
	return value, err
}

// stopped sorts out why a program stopped with runErr: a limit, a stack
// overflow, an exit, an interruption or an uncaught exception. The runtime
// is discarded unless the program's state is still sound.
func (s *localSandbox) stopped(ctx context.Context, ex *Execution, st *execState, runErr error) (*Execution, error) {
	var (
		jsErr *goja.Exception
		so    *goja.StackOverflowError
		intr  *goja.InterruptedError
	)
	switch {
	case st.limit.Load() != nil:
		s.discardRuntime()
		return ex, st.limit.Load()
	case errors.As(runErr, &so):
		s.discardRuntime()
		return ex, &LimitError{Limit: LimitStack, Detail: fmt.Sprintf("call depth over %d (runaway recursion?): use a loop or fewer nested calls", s.opts.MaxCallDepth)}
	case errors.As(runErr, &intr):
		if sig, ok := intr.Value().(exitSignal); ok {
			// process.exit: the program chose to stop; its state stays.
			if sig.code != 0 {
				ex.Error = fmt.Sprintf("process.exit: the program stopped with exit code %d", sig.code)
			}
			return ex, nil
		}
		s.discardRuntime()
		if errors.Is(runErr, ErrClosed) {
			return ex, ErrClosed
		}
		if ctx.Err() != nil {
			return ex, fmt.Errorf("codeinterp: execution stopped: %w", ctx.Err())
		}
		return ex, fmt.Errorf("codeinterp: execution interrupted: %v", intr.Value())
	case errors.As(runErr, &jsErr):
		ex.Error = describeException(jsErr)
		return ex, nil
	}
	s.discardRuntime()
	return ex, fmt.Errorf("codeinterp: %w", runErr)
}

// discardRuntime drops the program's variables after an execution was
// stopped midway; files are kept.
func (s *localSandbox) discardRuntime() { s.rt, s.toJSON = nil, nil }

// describeException renders an uncaught exception with its location.
func describeException(e *goja.Exception) string {
	msg := strings.TrimSpace(e.Error())
	const max = 2000
	if len(msg) > max {
		msg = msg[:max] + "…"
	}
	return msg
}

// limitHit records the first limit reached and stops the program.
func (st *execState) limitHit(rt *goja.Runtime, le *LimitError) {
	if st.limit.CompareAndSwap(nil, le) {
		rt.Interrupt(le)
	}
}

var memSamples = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes", "/gc/gogc:percent"}

// watched runs fn on the calling goroutine, locked to its OS thread so its
// CPU time can be measured, while a watchdog goroutine stops the program
// when ctx ends or a time, CPU or memory limit is reached. The watchdog has
// stopped when watched returns.
func (s *localSandbox) watched(ctx context.Context, rt *goja.Runtime, st *execState, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock, haveClock := threadCPUClock()
	cpu0, _ := clock.read()
	mem := newMemoryWatch(s.opts.MemoryLimit)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	overLimit := func() *LimitError {
		if el := time.Since(start); el > s.opts.Timeout {
			return &LimitError{Limit: LimitTime, Detail: fmt.Sprintf("the program ran longer than %s: do less work per call or use a faster algorithm", s.opts.Timeout)}
		}
		if haveClock {
			if c, ok := clock.read(); ok && c-cpu0 > s.opts.CPUTime {
				return &LimitError{Limit: LimitCPU, Detail: fmt.Sprintf("the program used more than %s of CPU time: do less work per call or use a faster algorithm", s.opts.CPUTime)}
			}
		}
		return mem.check()
	}
	go func() {
		defer wg.Done()
		watchdog(ctx, rt, st, done, overLimit)
	}()
	err := fn()
	close(done)
	wg.Wait()
	return err
}

// watchdog checks overLimit every millisecond until done is closed, and
// stops the program when ctx ends or a limit is reached.
func watchdog(ctx context.Context, rt *goja.Runtime, st *execState, done <-chan struct{}, overLimit func() *LimitError) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			rt.Interrupt(ctx.Err())
			return
		case <-tick.C:
		}
		if le := overLimit(); le != nil {
			st.limitHit(rt, le)
			return
		}
	}
}

// memoryWatch tells when a program's heap growth passes the memory limit.
type memoryWatch struct {
	samples []metrics.Sample
	base    int64 // live heap at the last GC before the program ran
	limit   int64
	hard    int64 // growth that cannot be garbage; -1 if unknown
	trigger int64 // heap size from which to collect and measure
}

func newMemoryWatch(limit int64) *memoryWatch {
	m := &memoryWatch{samples: make([]metrics.Sample, len(memSamples)), limit: limit}
	for i, n := range memSamples {
		m.samples[i].Name = n
	}
	metrics.Read(m.samples)
	m.base = int64(m.samples[1].Value.Uint64()) // live heap at the last GC
	// The collector lets garbage reach GOGC% of the live heap before it
	// collects; growth beyond that plus the limit cannot be garbage.
	m.hard = -1
	if gogc := int64(m.samples[2].Value.Uint64()); gogc > 0 {
		m.hard = limit + max(m.base*gogc/100, limit)
	}
	// Garbage left by earlier work may already pass the trigger: the first
	// tick then collects it and measures from what is live.
	m.trigger = m.base + limit
	return m
}

// check returns the memory LimitError once the program holds more than
// the limit, collecting garbage when the heap passes the trigger.
func (m *memoryWatch) check() *LimitError {
	limit := m.limit
	metrics.Read(m.samples[:1])
	objects := int64(m.samples[0].Value.Uint64())
	if objects <= m.trigger {
		return nil
	}
	// Past the hard mark the growth cannot be garbage: stop at once
	// rather than after a collection, during which a program can
	// grow much further.
	if m.hard > 0 && objects-m.base > m.hard {
		return &LimitError{Limit: LimitMemory, Detail: fmt.Sprintf("the program holds more than %d MiB: process data in smaller pieces and keep less of it", limit>>20)}
	}
	// The heap passed the trigger: collect garbage and look at
	// what is still live.
	runtime.GC()
	metrics.Read(m.samples[:2])
	live := int64(m.samples[0].Value.Uint64())
	if live-m.base > limit {
		return &LimitError{Limit: LimitMemory, Detail: fmt.Sprintf("the program holds more than %d MiB: process data in smaller pieces and keep less of it", limit>>20)}
	}
	m.trigger = live + limit/4
	if t := m.base + limit; t > m.trigger {
		m.trigger = t
	}
	return nil
}
