package simd

import "golang.org/x/sys/cpu"

// ASIMD (NEON) is part of every ARMv8-A core; the check keeps a kernel
// from ever running where the feature is reported missing.
var accelerated = cpu.ARM64.HasASIMD && !disabled

// dotAsm returns the dot product of n float32s at a and b; n is a positive
// multiple of 8.
//
//go:noescape
func dotAsm(a, b *float32, n int) float32

// dotInt8Asm returns the dot product of n float32s at q and n int8s at c;
// n is a positive multiple of 8.
//
//go:noescape
func dotInt8Asm(q *float32, c *int8, n int) float32

// prefetchAsm asks the CPU to load the n bytes at p into cache (n > 0).
//
//go:noescape
func prefetchAsm(p *byte, n int)

func prefetch(p *byte, n int) { prefetchAsm(p, n) }
