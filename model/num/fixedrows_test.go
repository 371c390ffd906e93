package num

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fixedRowsGemm runs MatMulABtFixedRows with Gemm's contract (a·bᵀ with
// unpadded leading dimensions), for runGemmCaseOn.
func fixedRowsGemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if ta || !tb || lda != k || ldb != k || ldc != n {
		panic("fixedRowsGemm: a·bᵀ without padding only")
	}
	MatMulABtFixedRows(alpha, View(m, k, a), View(n, k, b), beta, View(m, n, c))
}

// TestMatMulABtFixedRowsMatchesNaive: on every kernel, around the rule's
// edges (a block's rows, 16 and 17 rows, 31 and 32 columns, k at 255 and
// 256 and with every kind of tail) and for the alpha/beta cases, the
// naive reference.
func TestMatMulABtFixedRowsMatchesNaive(t *testing.T) {
	abs := [][2]float64{{1, 1}, {1, 0}, {0.5, 0.25}, {-2, -1}}
	for _, impl := range gemmImpls(t) {
		t.Run(implName(impl), func(t *testing.T) {
			withISA(impl, func() {
				rng := rand.New(rand.NewPCG(7, 16))
				i := 0
				for _, m := range []int{1, 3, 4, 5, 9, 16, 17, 32} {
					for _, n := range []int{9, 31, 32, 33, 144} {
						for _, k := range []int{255, 256, 259, 300, 784} {
							i++
							ab := abs[i%len(abs)]
							gc := gemmCase{false, true, m, n, k, 0, ab[0], ab[1]}
							runGemmCaseOn(t, rng, gc, nil, fixedRowsGemm[float32])
							runGemmCaseOn(t, rng, gc, nil, fixedRowsGemm[float64])
						}
					}
				}
			})
		})
	}
}

// TestMatMulABtFixedRowsPath: a weight gradient of 4–16 output channels
// and 32 or more columns runs the block dot products; one of fewer columns
// runs them unless their blocks would pad it much more than gemmDot's
// (LeNet-5's 6 channels of 25 weights); the others are MatMul's. Each
// case's elements must have the bits of the kernel named (gemmDot and
// gemmBlockDot sum alike, so the bits cannot tell those two apart:
// TestBlockDotPadsMore checks the choice between them).
func TestMatMulABtFixedRowsPath(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for _, tc := range []struct {
				m, n, k    int
				path, avx2 string // the kernel on AVX-512, and on AVX2 where it differs
			}{
				{16, 144, 784, "block", ""}, {4, 32, 256, "block", ""}, {8, 288, 300, "block", ""},
				{3, 144, 784, "matmul", ""}, {17, 144, 784, "matmul", ""}, {32, 144, 784, "matmul", ""}, // rows
				{16, 144, 255, "matmul", ""},                                                      // k
				{16, 9, 2352, "block", ""}, {32, 16, 1176, "block", ""}, {6, 25, 1568, "dot", ""}, // fewer than 32 columns
				{16, 31, 200, "block", ""}, {2, 9, 300, "dot", ""}, {32, 9, 1456, "block", ""},
			} {
				m, n, k := tc.m, tc.n, tc.k
				path := tc.path
				if tc.avx2 != "" && impl.bdot.nr == 3 {
					path = tc.avx2
				}
				rng := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
				a, b := randSlice[float32](rng, m*k), randSlice[float32](rng, n*k)
				got, want := make([]float32, m*n), make([]float32, m*n)
				MatMulABtFixedRows(1, View(m, k, a), View(n, k, b), 0, View(m, n, got))
				switch path {
				case "block":
					gemmBlockDot(m, n, k, 1, a, k, b, k, 0, want, n)
				case "dot":
					gemmDot(m, n, k, 1, a, k, b, k, 0, want, n)
				default:
					MatMul(false, true, 1, View(m, k, a), View(n, k, b), 0, View(m, n, want))
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%s %d×%d×%d: element %d is %v, want %v (%s)", impl.name, m, n, k, j, got[j], want[j], path)
					}
				}
			}
		})
	}
}

// TestMatMulABtFixedRowsConcurrentNoAllocs: the trainer's workers run
// their convolutions' weight gradients at once, each block's k tail copied
// into its call's packing buffer. Every call gets the serial run's bits,
// and none allocates once the buffers exist. Run with -race.
func TestMatMulABtFixedRowsConcurrentNoAllocs(t *testing.T) {
	shapes := [][3]int{{16, 144, 784}, {4, 32, 259}, {8, 288, 300}, {5, 33, 787}, {16, 150, 1569}}
	rng := rand.New(rand.NewPCG(9, 9))
	a, b := randSlice[float32](rng, 16*1569), randSlice[float32](rng, 288*1569)
	want := make([][]float32, len(shapes))
	for s, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		if isa != nil && !useFixedRowsDot(m, n, k) {
			t.Fatalf("%d×%d×%d is not on the block dot products' path", m, n, k)
		}
		want[s] = make([]float32, m*n)
		MatMulABtFixedRows(1, View(m, k, a), View(n, k, b), 0, View(m, n, want[s]))
	}
	sameBitsConcurrently(t, 4, 12, want, func(s int, c []float32) {
		m, n, k := shapes[s][0], shapes[s][1], shapes[s][2]
		MatMulABtFixedRows(1, View(m, k, a), View(n, k, b), 0, View(m, n, c))
	})
	c, cd := make([]float32, 16*288), make([]float64, 16*288)
	ad, bd := randSlice[float64](rng, 16*1569), randSlice[float64](rng, 288*1569)
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			n := testing.AllocsPerRun(3, func() {
				for _, sh := range shapes {
					m, n, k := sh[0], sh[1], sh[2]
					MatMulABtFixedRows(1, View(m, k, a), View(n, k, b), 1, View(m, n, c))
					MatMulABtFixedRows(1, View(m, k, ad), View(n, k, bd), 0, View(m, n, cd))
				}
			})
			if n != 0 {
				t.Errorf("%s: %v allocations per run", implName(impl), n)
			}
		})
	}
}

// TestBlockDotPadsMore: the choice between gemmBlockDot and gemmDot for
// fixed rows counts the blocks gemmBlockDot computes n columns in — on
// AVX-512 its 4×5 blocks for 9 or 10 columns, where the 4×6 ones padded
// the small CNN's 32×9 weight gradient to 32×12 and sent it to gemmDot,
// 137 GFLOP/s against 173 in 4×5 blocks (Zen 5).
func TestBlockDotPadsMore(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for _, c := range []struct {
				m, n int
				want bool
			}{
				{32, 9, false}, {16, 9, false}, {6, 25, true}, {64, 10, false}, {2, 9, true},
			} {
				if got := blockDotPadsMore(c.m, c.n); got != c.want {
					mr, nr, _ := blockDotBlocks(c.n)
					t.Errorf("%s %d×%d (blocks %d×%d): pads more %v, want %v", impl.name, c.m, c.n, mr, nr, got, c.want)
				}
			}
		})
	}
}
