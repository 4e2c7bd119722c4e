package pdf

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// linearMemory backs one engine instance's WebAssembly memory. It never
// grows past max: a request beyond it is refused (the engine's allocation
// fails and PDFium aborts the call) and remembered, so the loader can tell
// an exhausted memory budget from a damaged file. wazero's own limit is
// left at the WebAssembly maximum, so every growth request reaches it.
//
// The backing store is reserved at its maximum size up front (see
// reserve), so growing never copies, and it is released by release, which
// the loader calls only once no engine call can run any more: wazero frees
// a memory when its module closes, which may happen while a cancelled call
// is still unwinding on another goroutine.
type linearMemory struct {
	mu      sync.Mutex
	buf     []byte // len = current size, cap = max
	max     uint64
	refused bool
	free    func() // releases the reservation
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > m.max || m.buf == nil {
		m.refused = true
		return nil
	}
	if size > uint64(len(m.buf)) {
		// Pages past the old length were never handed out: they are zero.
		m.buf = m.buf[:size]
	}
	return m.buf[:size]
}

// Free is called by wazero when the module closes; the memory is released
// later by release.
func (m *linearMemory) Free() {}

func (m *linearMemory) exhausted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refused
}

// release frees the reservation. It must run only after every call into
// the instance has returned.
func (m *linearMemory) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.free != nil {
		m.free()
		m.free = nil
	}
	m.buf = nil
}

// allocator hands out linearMemory values capped at limit bytes and keeps
// the last one, which the engine reads right after creating an instance.
type allocator struct {
	limit uint64

	mu   sync.Mutex
	last *linearMemory
}

var _ experimental.MemoryAllocator = (*allocator)(nil)

func (a *allocator) Allocate(capacity, max uint64) experimental.LinearMemory {
	max = min(max, a.limit)
	m := &linearMemory{max: max}
	m.buf, m.free = reserve(max)
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
