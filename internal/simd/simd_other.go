//go:build !amd64 && !arm64

package simd

const accelerated = false

func dotAsm(a, b *float32, n int) float32 { panic("unreachable") }

func dotInt8Asm(q *float32, c *int8, n int) float32 { panic("unreachable") }

func prefetch(p *byte, n int) {}
