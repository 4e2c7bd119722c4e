package pdf

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// linearMemory backs one engine instance's WebAssembly memory. It grows
// only as the engine asks, and never past max: a request beyond it, or one
// the operating system refuses (an address-space limit), is refused (the
// engine's allocation fails and PDFium aborts the call) and remembered, so
// the loader can tell an exhausted memory budget from a damaged file.
// wazero's own limit is left at the WebAssembly maximum, so every growth
// request reaches it.
//
// The backing store is released by release, which the loader calls only
// once no engine call can run any more: wazero frees a memory when its
// module closes, which may happen while a cancelled call is still
// unwinding on another goroutine.
type linearMemory struct {
	mu      sync.Mutex
	buf     []byte // len = current size
	max     uint64
	refused bool
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > m.max {
		m.refused = true
		return nil
	}
	if size > uint64(cap(m.buf)) {
		// Grow by doubling, to the page, within max; fall back to the exact
		// size when the larger mapping is refused.
		want := min(m.max, max(size, 2*uint64(cap(m.buf))))
		want = (want + 65535) &^ 65535
		b, err := remap(m.buf, min(want, m.max))
		if err != nil && want > size {
			b, err = remap(m.buf, size)
		}
		if err != nil {
			m.refused = true
			return nil
		}
		m.buf = b
	}
	// Bytes past the old length were never handed out: they are zero.
	m.buf = m.buf[:size]
	return m.buf
}

// Free is called by wazero when the module closes; the memory is released
// later by release.
func (m *linearMemory) Free() {}

func (m *linearMemory) exhausted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refused
}

// release frees the backing store. It must run only after every call into
// the instance has returned.
func (m *linearMemory) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf != nil {
		unmap(m.buf)
		m.buf = nil
	}
}

// allocator hands out linearMemory values capped at limit bytes and keeps
// the last one, which the engine reads right after creating an instance.
type allocator struct {
	limit uint64

	mu   sync.Mutex
	last *linearMemory
}

var _ experimental.MemoryAllocator = (*allocator)(nil)

func (a *allocator) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	m := &linearMemory{max: min(maxBytes, a.limit)}
	a.mu.Lock()
	a.last = m
	a.mu.Unlock()
	return m
}

// take returns the memory allocated since the last take.
func (a *allocator) take() *linearMemory {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.last
	a.last = nil
	return m
}
