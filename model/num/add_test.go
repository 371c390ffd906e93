package num

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAxpyOneBits checks that Axpy(1, x, y) gives, bit for bit, the scalar
// y[i] + x[i] and the BLAS's axpy, at every length around the kernel's
// 32- and 16-element steps and at unaligned starts, with NaN, ±Inf and
// signed zeros among the values; and that it stays within its slice.
func TestAxpyOneBits(t *testing.T) {
	testAxpyOneBits[float32](t)
	testAxpyOneBits[float64](t)
}

func testAxpyOneBits[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e38}
	val := func() T {
		if r.IntN(10) == 0 {
			return T(special[r.IntN(len(special))])
		}
		return T(r.NormFloat64())
	}
	same := func(a, b T) bool {
		return math.Float64bits(float64(a)) == math.Float64bits(float64(b)) ||
			(math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
	}
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 4095, 4096, 4127} {
		for _, off := range []int{0, 1, 3} {
			x, y := make([]T, n+off+1), make([]T, n+off+1)
			for i := range x {
				x[i], y[i] = val(), val()
			}
			sentinel := y[n+off]
			want := make([]T, n)
			for i := range want {
				want[i] = y[off+i] + x[off+i]
			}
			viaBLAS := append([]T(nil), y[off:off+n]...)
			saved := haveAddAVX
			haveAddAVX = false
			Axpy(1, x[off:off+n], viaBLAS)
			haveAddAVX = saved
			Axpy(1, x[off:off+n], y[off:off+n])
			for i := range want {
				if !same(y[off+i], want[i]) || !same(viaBLAS[i], want[i]) {
					t.Fatalf("%s n=%d off=%d: [%d] = %v, BLAS %v, want %v", DType[T](), n, off, i, y[off+i], viaBLAS[i], want[i])
				}
			}
			if !same(y[n+off], sentinel) {
				t.Fatalf("%s n=%d off=%d: wrote past the slice", DType[T](), n, off)
			}
		}
	}
}
