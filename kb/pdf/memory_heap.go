//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package pdf

// reserve allocates size bytes on the Go heap; the runtime takes fresh
// large allocations from the operating system, so untouched pages cost
// address space but little physical memory.
func reserve(size uint64) ([]byte, func()) {
	return make([]byte, 0, size), nil
}
