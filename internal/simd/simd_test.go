package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

func naive(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func close32(got float32, want float64, n int) bool {
	return math.Abs(float64(got)-want) <= 1e-5*float64(n+1)+1e-5*math.Abs(want)
}

func TestDotAgrees(t *testing.T) {
	t.Logf("accelerated: %v", Accelerated())
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		for _, off := range []int{0, 1, 3} { // unaligned starts
			a := make([]float32, n+off)
			b := make([]float32, n+off)
			c := make([]int8, n+off)
			for i := range a {
				a[i] = float32(r.NormFloat64())
				b[i] = float32(r.NormFloat64())
				c[i] = int8(r.IntN(256) - 128)
			}
			a, b, c = a[off:], b[off:], c[off:]
			want := naive(a, b)
			if got := Dot(a, b); !close32(got, want, n) {
				t.Fatalf("n=%d off=%d: Dot = %v, want %v", n, off, got, want)
			}
			if got := DotGeneric(a, b); !close32(got, want, n) {
				t.Fatalf("n=%d: DotGeneric = %v, want %v", n, got, want)
			}
			var wantI float64
			for i := range a {
				wantI += float64(a[i]) * float64(c[i])
			}
			if got := DotInt8(a, c); math.Abs(float64(got)-wantI) > 1e-3*float64(n+1) {
				t.Fatalf("n=%d: DotInt8 = %v, want %v", n, got, wantI)
			}
			if got := DotInt8Generic(a, c); math.Abs(float64(got)-wantI) > 1e-3*float64(n+1) {
				t.Fatalf("n=%d: DotInt8Generic = %v, want %v", n, got, wantI)
			}
		}
	}
	// Extreme codes.
	q := make([]float32, 64)
	c := make([]int8, 64)
	for i := range q {
		q[i] = 1
		c[i] = -128
	}
	if got := DotInt8(q, c); got != -128*64 {
		t.Fatalf("DotInt8 of -128s = %v", got)
	}
}

func TestDotPanicsOnLengthMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Dot([]float32{1}, []float32{1, 2})
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{384, 1024} {
		x := make([]float32, n)
		y := make([]float32, n)
		c := make([]int8, n)
		for i := range x {
			x[i], y[i], c[i] = float32(i), float32(n-i), int8(i)
		}
		b.Run(fmt.Sprint("asm/", n), func(b *testing.B) {
			for b.Loop() {
				Dot(x, y)
			}
		})
		b.Run(fmt.Sprint("go/", n), func(b *testing.B) {
			for b.Loop() {
				DotGeneric(x, y)
			}
		})
		b.Run(fmt.Sprint("int8/", n), func(b *testing.B) {
			for b.Loop() {
				DotInt8(x, c)
			}
		})
		b.Run(fmt.Sprint("int8go/", n), func(b *testing.B) {
			for b.Loop() {
				DotInt8Generic(x, c)
			}
		})
	}
}

// TestPrefetch: prefetching is only a hint; it must accept any length,
// including empty slices and ones ending mid cache line, without faulting.
func TestPrefetch(t *testing.T) {
	PrefetchInt32(nil)
	PrefetchInt32(make([]int32, 33)[1:])
	for _, n := range []int{0, 1, 7, 63, 64, 65, 384, 1000} {
		codes := make([]int8, n)
		v := make([]float32, n)
		PrefetchInt8(codes)
		PrefetchFloat32(v)
		if n > 1 {
			PrefetchInt8(codes[1:])
			PrefetchFloat32(v[n-1:])
		}
	}
}

// TestKernelSelected: on amd64 with AVX2+FMA and on every arm64 (ASIMD is
// part of ARMv8-A) the assembly kernels must be the ones in use unless
// BEDROCKKIT_NOSIMD=1, so a CI run under emulation proves the NEON code
// ran rather than the fallback.
func TestKernelSelected(t *testing.T) {
	if os.Getenv("BEDROCKKIT_NOSIMD") == "1" {
		if Accelerated() {
			t.Fatal("BEDROCKKIT_NOSIMD=1 but the assembly kernels are in use")
		}
		return
	}
	if runtime.GOARCH == "arm64" && !Accelerated() {
		t.Fatal("arm64 without the NEON kernels")
	}
	t.Logf("GOARCH=%s accelerated=%v", runtime.GOARCH, Accelerated())
}

// TestAsmMatchesGeneric compares the kernels with the pure-Go ones on long
// vectors of every length class (multiples of 16, of 8 only, with a
// tail), with values of very different magnitudes and every int8 code.
func TestAsmMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{8, 16, 24, 32, 40, 384, 392, 1024, 1031, 4096 + 8} {
		a := make([]float32, n)
		b := make([]float32, n)
		c := make([]int8, n)
		for i := range a {
			a[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(7)-3)))
			b[i] = float32(r.NormFloat64())
			c[i] = int8(i*37 + r.IntN(256))
		}
		want := naive(a, b)
		var scale float64
		for i := range a {
			scale += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if got := Dot(a, b); math.Abs(float64(got)-want) > 1e-5*scale+1e-6 {
			t.Fatalf("n=%d: Dot = %v, want %v", n, got, want)
		}
		var wantI, scaleI float64
		for i := range a {
			wantI += float64(a[i]) * float64(c[i])
			scaleI += math.Abs(float64(a[i]) * float64(c[i]))
		}
		if got := DotInt8(a, c); math.Abs(float64(got)-wantI) > 1e-5*scaleI+1e-6 {
			t.Fatalf("n=%d: DotInt8 = %v, want %v", n, got, wantI)
		}
	}
}
