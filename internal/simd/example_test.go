package simd_test

import (
	"fmt"

	"github.com/bedrockkit/bedrockkit/internal/simd"
)

func ExampleDot() {
	a := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b := []float32{1, 1, 1, 1, 1, 1, 1, 1, 2}
	fmt.Println(simd.Dot(a, b), simd.DotInt8(a, []int8{1, 1, 1, 1, 1, 1, 1, 1, -1}))
	// Output: 54 27
}
