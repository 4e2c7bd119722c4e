package simd

import (
	"os"
	"unsafe"
)

// disabled forces the pure-Go kernels (BEDROCKKIT_NOSIMD=1).
var disabled = os.Getenv("BEDROCKKIT_NOSIMD") == "1"

// Accelerated reports whether the assembly kernels are in use.
func Accelerated() bool { return accelerated }

// Dot returns the dot product of a and b, which must have the same length.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("simd: Dot of vectors of different lengths")
	}
	if accelerated && len(a) >= 8 {
		n := len(a) &^ 7
		s := dotAsm(&a[0], &b[0], n)
		if n < len(a) {
			s += DotGeneric(a[n:], b[n:])
		}
		return s
	}
	return DotGeneric(a, b)
}

// DotInt8 returns the dot product of q and codes (codes converted to float32).
// They must have the same length.
func DotInt8(q []float32, codes []int8) float32 {
	if len(q) != len(codes) {
		panic("simd: DotInt8 of vectors of different lengths")
	}
	if accelerated && len(q) >= 8 {
		n := len(q) &^ 7
		s := dotInt8Asm(&q[0], &codes[0], n)
		if n < len(q) {
			s += DotInt8Generic(q[n:], codes[n:])
		}
		return s
	}
	return DotInt8Generic(q, codes)
}

// DotGeneric is the pure-Go Dot: eight accumulators so the CPU can overlap
// the multiply-adds.
func DotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// DotInt8Generic is the pure-Go DotInt8.
func DotInt8Generic(q []float32, codes []int8) float32 {
	codes = codes[:len(q)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(q); i += 8 {
		qq := q[i : i+8 : i+8]
		cc := codes[i : i+8 : i+8]
		s0 += qq[0] * float32(cc[0])
		s1 += qq[1] * float32(cc[1])
		s2 += qq[2] * float32(cc[2])
		s3 += qq[3] * float32(cc[3])
		s4 += qq[4] * float32(cc[4])
		s5 += qq[5] * float32(cc[5])
		s6 += qq[6] * float32(cc[6])
		s7 += qq[7] * float32(cc[7])
	}
	for ; i < len(q); i++ {
		s0 += q[i] * float32(codes[i])
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// PrefetchInt8 hints that codes will be read soon, so their cache lines
// load while other work runs (a graph search prefetches the neighbours it
// is about to score). It has no effect on results; without the assembly
// kernels it does nothing.
func PrefetchInt8(codes []int8) {
	if accelerated && len(codes) > 0 {
		prefetch((*byte)(unsafe.Pointer(&codes[0])), len(codes))
	}
}

// PrefetchFloat32 is PrefetchInt8 for float32 vectors.
func PrefetchFloat32(v []float32) {
	if accelerated && len(v) > 0 {
		prefetch((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
}

// PrefetchInt32 is PrefetchInt8 for int32 slices (such as adjacency lists).
func PrefetchInt32(v []int32) {
	if accelerated && len(v) > 0 {
		prefetch((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
}
