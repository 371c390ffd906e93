//go:build openblas

package num

import (
	"math/rand/v2"
	"testing"
)

// TestOpenBLASBuildRunsKernelsWhereTheyWin: with -tags openblas, Gemm
// gives the bits of ptrain's kernels for the shapes ownShape names (a
// dense layer's forward product at 16 rows, a weight gradient) and
// OpenBLAS's for the short-sided ones (a classifier's 10 columns, the
// weight gradients of a first convolution and of a 1×1 shortcut).
func TestOpenBLASBuildRunsKernelsWhereTheyWin(t *testing.T) {
	if isa == nil {
		t.Skip("no micro-kernels on this CPU: every product runs OpenBLAS")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name    string
		ta, tb  bool
		m, n, k int
		own     bool
	}{
		{"dense forward, 16 rows", false, true, 16, 256, 784, true},
		{"weight gradient of 10 outputs", true, false, 10, 128, 512, true},
		{"classifier forward, 10 columns", false, true, 64, 10, 128, false},
		{"1×1 shortcut's weight gradient, 16 columns", false, true, 32, 16, 1176, false},
		{"first convolution's weight gradient, 9 columns", false, true, 32, 9, 1456, false},
	} {
		ar, ac, br, bc := c.m, c.k, c.k, c.n
		if c.ta {
			ar, ac = ac, ar
		}
		if c.tb {
			br, bc = bc, br
		}
		a, b := make([]float32, ar*ac), make([]float32, br*bc)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		got, kern, blas := make([]float32, c.m*c.n), make([]float32, c.m*c.n), make([]float32, c.m*c.n)
		Gemm(c.ta, c.tb, c.m, c.n, c.k, 1, a, ac, b, bc, 0, got, c.n)
		gemmPacked(c.ta, c.tb, c.m, c.n, c.k, 1, a, ac, b, bc, 0, kern, c.n)
		gemm(c.ta, c.tb, c.m, c.n, c.k, 1, a, ac, b, bc, 0, blas, c.n)
		want, other := blas, kern
		if c.own {
			want, other = kern, blas
		}
		differ := false
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: element %d = %v, want %v (own kernels: %v)", c.name, i, got[i], want[i], c.own)
			}
			differ = differ || other[i] != want[i]
		}
		if !differ {
			t.Errorf("%s: the kernels and OpenBLAS gave the same bits; the case shows nothing", c.name)
		}
	}
}
