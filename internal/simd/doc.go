// Package simd holds the vector kernels the embedded index spends its time
// in: float32 dot products and float32-by-int8 dot products. On amd64 with
// AVX2 and FMA (detected at run time with golang.org/x/sys/cpu) they run in
// assembly; elsewhere, or with BEDROCKKIT_NOSIMD=1 in the environment, a
// pure-Go version with eight independent accumulators runs instead. Both are
// tested to agree.
package simd
