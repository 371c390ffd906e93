//go:build openblas

package num

import (
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestOpenBLASBuildRunsKernelsWhereTheyWin: with -tags openblas, Gemm
// gives the bits of ptrain's kernels for the shapes ownShape names and
// OpenBLAS's for the others, on AVX-512 (every product without a short
// side) and AVX2 (few rows of a dense layer's products).
func TestOpenBLASBuildRunsKernelsWhereTheyWin(t *testing.T) {
	if isa == nil {
		t.Skip("no micro-kernels on this CPU: every product runs OpenBLAS")
	}
	cases := []struct {
		name               string
		ta, tb             bool
		m, n, k            int
		ownAVX512, ownAVX2 bool
	}{
		{"dense forward, 16 rows", false, true, 16, 256, 784, true, true},
		{"dense forward, 64 rows", false, true, 64, 256, 784, true, false},
		{"weight gradient of 10 outputs", true, false, 10, 128, 512, false, false},
		{"classifier forward, 10 columns", false, true, 64, 10, 128, false, false},
		{"first convolution's weight gradient, 9 columns", false, true, 32, 9, 1456, false, false},
		{"1×1 shortcut's weight gradient, 16 columns", false, true, 32, 16, 1176, false, false},
	}
	var impls []*gemmISA
	if cpu.X86.HasAVX512F {
		impls = append(impls, isaAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, isaAVX2)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, impl := range impls {
		withISA(impl, func() {
			for _, c := range cases {
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
				own := c.ownAVX2
				if impl == isaAVX512 {
					own = c.ownAVX512
				}
				want, other := blas, kern
				if own {
					want, other = kern, blas
				}
				differ := false
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s, %s: element %d = %v, want %v (own kernels: %v)", impl.name, c.name, i, got[i], want[i], own)
					}
					differ = differ || other[i] != want[i]
				}
				if !differ {
					t.Errorf("%s, %s: the kernels and OpenBLAS gave the same bits; the case shows nothing", impl.name, c.name)
				}
			}
		})
	}
}

// TestOpenBLASBackendNamesTheKernels: the BLAS line that ptrain version,
// the trainer and checkpoints show names ptrain's kernels where they take
// products in this build, and only there.
func TestOpenBLASBackendNamesTheKernels(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			b := Backend()
			if !strings.HasPrefix(b, "OpenBLAS (") {
				t.Errorf("%s: Backend() = %q, want it to start with OpenBLAS", implName(impl), b)
			}
			if named := strings.Contains(b, "ptrain GEMM kernels"); named != (impl != nil) {
				t.Errorf("%s: Backend() = %q: names ptrain's kernels: %v, want %v", implName(impl), b, named, impl != nil)
			}
			if impl != nil && !strings.Contains(b, "("+impl.name+")") {
				t.Errorf("%s: Backend() = %q does not name the instruction set", implName(impl), b)
			}
		})
	}
}
