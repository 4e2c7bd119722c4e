//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package pdf

import "syscall"

// reserve maps size bytes of anonymous memory: address space is reserved
// at once, but pages take physical memory only when the engine touches
// them. When the mapping fails it falls back to the Go heap.
func reserve(size uint64) ([]byte, func()) {
	if size == 0 {
		return []byte{}, nil
	}
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, 0, size), nil
	}
	return b[:0], func() { syscall.Munmap(b) }
}
