//go:build !linux

package pdf

// remap grows old into a new Go slice of size bytes, copying it; the old
// one becomes garbage.
func remap(old []byte, size uint64) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, errNoMemory
		}
	}()
	b = make([]byte, len(old), size)
	copy(b, old)
	return b, nil
}

func unmap([]byte) {}
