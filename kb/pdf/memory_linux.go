package pdf

import "golang.org/x/sys/unix"

// remap grows old (nil for none) to a mapping of size bytes with mremap,
// which moves it without copying when it cannot grow in place. Pages are
// taken from the operating system only when the engine touches them.
func remap(old []byte, size uint64) ([]byte, error) {
	if cap(old) == 0 {
		return unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	}
	return unix.Mremap(old[:cap(old)], int(size), unix.MREMAP_MAYMOVE)
}

func unmap(b []byte) {
	if cap(b) > 0 {
		unix.Munmap(b[:cap(b)])
	}
}
