//go:build openblas

package num

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestOpenBLASBuildRunsKernelsOnEveryShape: with -tags openblas, Gemm
// gives the bits of ptrain's kernels on every product where the CPU has
// them, also the shapes an earlier rule gave OpenBLAS (a side shorter than
// 32), whose rows OpenBLAS may round differently with the product's row
// count (backend_openblas.go): a shard of a batch must get the batch's
// rows. Each shape's rows are compared, bit for bit, with those of a
// product of fewer rows.
func TestOpenBLASBuildRunsKernelsOnEveryShape(t *testing.T) {
	if isa == nil {
		t.Skip("no micro-kernels on this CPU: every product runs OpenBLAS")
	}
	cases := []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"dense forward, 16 rows", false, true, 16, 256, 784},
		{"dense forward, 64 rows", false, true, 64, 256, 784},
		{"small dense forward", false, true, 64, 24, 16},
		{"small dense input gradient", false, false, 64, 16, 24},
		{"weight gradient of 10 outputs", true, false, 10, 128, 512},
		{"classifier forward, 10 columns", false, true, 64, 10, 128},
		{"first convolution's forward, k = 9", false, false, 32, 1456, 9},
		{"first convolution's weight gradient, 9 columns", false, true, 32, 9, 1456},
		{"1×1 shortcut's weight gradient, 16 columns", false, true, 32, 16, 1176},
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
				a, b := randSlice[float32](rng, ar*ac), randSlice[float32](rng, br*bc)
				got, kern := make([]float32, c.m*c.n), make([]float32, c.m*c.n)
				Gemm(c.ta, c.tb, c.m, c.n, c.k, 1, a, ac, b, bc, 0, got, c.n)
				switch {
				case !c.ta && c.tb && abtPath(c.n, c.k) == pathBlockDot:
					gemmBlockDot(c.m, c.n, c.k, 1, a, ac, b, bc, 0, kern, c.n)
				case !c.ta && c.tb && abtPath(c.n, c.k) == pathDot:
					gemmDot(c.m, c.n, c.k, 1, a, ac, b, bc, 0, kern, c.n)
				default:
					gemmPacked(c.ta, c.tb, c.m, c.n, c.k, 1, a, ac, b, bc, 0, kern, c.n)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(kern[i]) {
						t.Fatalf("%s, %s: element %d = %v, the kernels' %v", impl.name, c.name, i, got[i], kern[i])
					}
				}
				if c.ta {
					continue // the rows of a weight gradient are the layer's outputs, never a shard
				}
				// Rows 3… of a product of m−3 rows: the same bits.
				part := make([]float32, (c.m-3)*c.n)
				Gemm(c.ta, c.tb, c.m-3, c.n, c.k, 1, a[3*ac:], ac, b, bc, 0, part, c.n)
				for i := range part {
					if math.Float32bits(part[i]) != math.Float32bits(got[3*c.n+i]) {
						t.Fatalf("%s, %s: row %d of %d rows differs from the %d-row product's", impl.name, c.name, 3+i/c.n, c.m-3, c.m)
					}
				}
			}
		})
	}
}

// TestOpenBLASBackendNamesTheKernels: the BLAS line that ptrain version,
// the trainer and checkpoints show names ptrain's kernels and their
// instruction set wherever they compute the products in this build (every
// GEMM), and only there.
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
			if impl != nil && !strings.Contains(b, "("+impl.name+") for every GEMM") {
				t.Errorf("%s: Backend() = %q does not say the instruction set runs every GEMM", implName(impl), b)
			}
		})
	}
}
