package pdf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	pdfium "github.com/klippa-app/go-pdfium"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sync/semaphore"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/chunk"
	"github.com/bedrockkit/bedrockkit/kb"
)

// DefaultMaxMemoryBytes is the default of Options.MaxMemoryBytes: 256 MiB.
const DefaultMaxMemoryBytes = 256 << 20

// errNoMemory is a growth the runtime could not satisfy.
var errNoMemory = errors.New("pdf: out of memory")

// ErrEngine wraps the error of a PDF engine that could not be started (the
// WebAssembly module failed to compile or instantiate). It wraps
// bedrockkit.ErrUnsupported: no PDF can be loaded until it is fixed.
var ErrEngine = fmt.Errorf("pdf: the PDF engine could not start: %w", bedrockkit.ErrUnsupported)

// Options are a Loader's optional settings; the zero value is ready to use.
type Options struct {
	// MaxMemoryBytes caps the memory the engine may use for one document;
	// a document that needs more fails with an error wrapping
	// kb.ErrLoadMemory. Zero means DefaultMaxMemoryBytes; it is rounded
	// up to whole 64 KiB WebAssembly pages and may be at most 4 GiB.
	MaxMemoryBytes int64
	// MaxConcurrent is how many documents may load at once, each with its
	// own memory; others wait their turn. Zero means 1.
	MaxConcurrent int
	// CacheDir, when set, keeps the compiled engine in that directory so
	// later processes start in a fraction of a second instead of compiling
	// it again (seconds). The directory is created if needed. "" compiles
	// in memory once per Loader.
	CacheDir string
}

// Loader is a kb.Loader for PDF files. Create one with NewLoader, share it
// (it is safe for concurrent use), and Close it when done. The engine is
// compiled by the first Load, in the background: that Load waits for it,
// and gives up with its context.
type Loader struct {
	opts Options
	sem  *semaphore.Weighted

	startOnce sync.Once
	ready     chan struct{} // closed when start has finished
	stop      context.CancelFunc
	pool      pdfium.Pool
	alloc     *allocator
	startErr  error

	mu     sync.Mutex // serialises instance creation, see allocator.take
	closed bool
}

// NewLoader returns a PDF loader. It does no work until the first Load.
func NewLoader(opts Options) *Loader {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 1
	}
	if opts.MaxMemoryBytes <= 0 {
		opts.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	opts.MaxMemoryBytes = min(opts.MaxMemoryBytes, 1<<32)
	return &Loader{opts: opts, sem: semaphore.NewWeighted(int64(opts.MaxConcurrent)), ready: make(chan struct{})}
}

var _ kb.Loader = (*Loader)(nil)

// start compiles the engine; it runs once, in its own goroutine, which
// Close waits for.
func (l *Loader) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	go func() {
		defer close(l.ready)
		pages := uint32((l.opts.MaxMemoryBytes + 65535) / 65536)
		l.alloc = &allocator{limit: uint64(pages) * 65536}
		rc := wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithCloseOnContextDone(true)
		// The memory cap is the allocator's, not wazero's
		// WithMemoryLimitPages: wazero refuses growth past its limit
		// without asking the allocator, and the loader could not tell an
		// exhausted budget from a damaged file.
		if l.opts.CacheDir != "" {
			cache, err := wazero.NewCompilationCacheWithDir(l.opts.CacheDir)
			if err != nil {
				l.startErr = fmt.Errorf("pdf: compilation cache %s: %v; fix the directory or leave Options.CacheDir empty: %w", l.opts.CacheDir, err, ErrEngine)
				return
			}
			rc = rc.WithCompilationCache(cache)
		}
		ctx = experimental.WithMemoryAllocator(ctx, l.alloc)
		ctx = experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
		pool, err := webassembly.Init(webassembly.Config{
			Context:       ctx,
			MaxTotal:      l.opts.MaxConcurrent,
			RuntimeConfig: rc,
			FSConfig:      wazero.NewFSConfig(), // no file system: documents are passed in memory
			Stdout:        io.Discard,
			Stderr:        io.Discard,
		})
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			l.startErr = fmt.Errorf("pdf: %v: %w", err, ErrEngine)
			return
		}
		l.pool = pool
	}()
}

// Close stops the engine, waiting for a compilation and for Loads in
// progress to end. A closed Loader fails every Load.
func (l *Loader) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.startOnce.Do(func() { close(l.ready) }) // never started
	if l.stop != nil {
		l.stop()
	}
	<-l.ready
	// Loads hold the semaphore while they use an instance.
	l.sem.Acquire(context.Background(), int64(l.opts.MaxConcurrent))
	defer l.sem.Release(int64(l.opts.MaxConcurrent))
	if l.pool != nil {
		return l.pool.Close()
	}
	return nil
}

// engine waits for the compiled engine.
func (l *Loader) engine(ctx context.Context) error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return fmt.Errorf("pdf: the loader is closed: %w", ErrEngine)
	}
	l.startOnce.Do(l.start)
	select {
	case <-l.ready:
	case <-ctx.Done():
		return fmt.Errorf("pdf: waiting for the PDF engine to compile: %w", ctx.Err())
	}
	if l.startErr != nil {
		return l.startErr
	}
	if l.pool == nil {
		return fmt.Errorf("pdf: the loader is closed: %w", ErrEngine)
	}
	return nil
}

// instance creates a fresh engine instance for one document, with its own
// memory. Instances are never reused, so nothing a hostile file did to one
// can reach the next.
func (l *Loader) instance(ctx context.Context) (pdfium.Pdfium, *linearMemory, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, fmt.Errorf("pdf: the loader is closed: %w", ErrEngine)
	}
	l.alloc.take()
	inst, err := l.pool.GetInstanceWithContext(ctx)
	mem := l.alloc.take()
	if err != nil {
		if mem != nil {
			mem.release()
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("pdf: starting an instance: %v: %w", err, ErrEngine)
	}
	return inst, mem, nil
}

// Load implements kb.Loader. It extracts the text of every page, in order,
// and records where each page starts in Document.Pages, so chunks cite
// their page number.
func (l *Loader) Load(ctx context.Context, _ kb.SourceItem, data []byte) (doc chunk.ParsedDocument, err error) {
	if err := ctx.Err(); err != nil {
		return chunk.ParsedDocument{}, err
	}
	if !looksLikePDF(data) {
		return chunk.ParsedDocument{}, fmt.Errorf("pdf: not a PDF file (no %%PDF- header); check the file's extension: %w", kb.ErrMalformedDocument)
	}
	if err := l.engine(ctx); err != nil {
		return chunk.ParsedDocument{}, err
	}
	if err := l.sem.Acquire(ctx, 1); err != nil {
		return chunk.ParsedDocument{}, err
	}
	defer l.sem.Release(1)
	inst, mem, err := l.instance(ctx)
	if err != nil {
		return chunk.ParsedDocument{}, err
	}
	// A call that runs past ctx is interrupted by killing the instance.
	killed := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(killed)
		inst.Kill()
	})
	defer func() {
		if stopWatch() {
			inst.Close()
		} else {
			<-killed
		}
		if mem != nil {
			// Only now can no call touch the memory any more.
			exhausted := mem.exhausted()
			mem.release()
			if err != nil && exhausted && ctx.Err() == nil {
				err = fmt.Errorf("pdf: the PDF needs more than the engine's %d-byte memory budget; raise pdf.Options.MaxMemoryBytes if the file is trusted: %w", l.opts.MaxMemoryBytes, kb.ErrLoadMemory)
			}
		}
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("pdf: %w (the PDF engine was stopped)", ctx.Err())
		}
		if r := recover(); r != nil {
			err = fmt.Errorf("pdf: the PDF engine failed on this file (%v); check that it opens in a viewer or re-save it: %w", r, kb.ErrMalformedDocument)
		}
	}()
	return extract(ctx, inst, data, kb.LoadLimitsFromContext(ctx).MaxTextBytes)
}

// looksLikePDF checks for the header within the first KiB, where readers
// look for it.
func looksLikePDF(data []byte) bool {
	head := data[:min(len(data), 1024)]
	return strings.Contains(string(head), "%PDF-")
}

// openError explains a failure to open a document.
func openError(err error) error {
	switch {
	case errors.Is(err, pdfiumerrors.ErrPassword):
		return fmt.Errorf("pdf: the PDF is protected by a password; save an unprotected copy: %w", kb.ErrMalformedDocument)
	case errors.Is(err, pdfiumerrors.ErrSecurity):
		return fmt.Errorf("pdf: the PDF is encrypted with an unsupported security handler; save an unprotected copy: %w", kb.ErrMalformedDocument)
	}
	return fmt.Errorf("pdf: PDF: %v; check that it opens in a viewer or re-save it: %w", firstLine(err), kb.ErrMalformedDocument)
}
