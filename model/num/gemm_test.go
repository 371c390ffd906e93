package num

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/sys/cpu"
)

// The conformance suite of Gemm in the style of gonum's testblas: every
// implementation this CPU can run — AVX-512 and AVX2 micro-kernels, and
// the gonum fallback (isa nil) — against naiveGemm, on shapes that hit
// every remainder of every register tile and of the k, m and n blocks.

// gemmImpls lists the implementations to test on this machine.
func gemmImpls(t testing.TB) []*gemmISA {
	impls := []*gemmISA{nil}
	if isaAVX2 != nil && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		impls = append(impls, isaAVX2)
		if isaAVX2.s2.fn != nil {
			impls = append(impls, onlyTile(isaAVX2, isaAVX2.s2, isaAVX2.d2))
		}
	}
	if isaAVX512 != nil && cpu.X86.HasAVX512F {
		impls = append(impls, isaAVX512)
		if isaAVX512.s2.fn != nil {
			impls = append(impls, onlyTile(isaAVX512, isaAVX512.s2, isaAVX512.d2))
		}
		if isaAVX512.s3.fn != nil {
			impls = append(impls, onlyTile(isaAVX512, isaAVX512.s3, isaAVX512.d3))
		}
	}
	if len(impls) == 1 && bestISA() != nil {
		t.Fatalf("bestISA is %s but no kernel is tested", bestISA().name)
	}
	return impls
}

// onlyTile is ks with one of its tiles (s and d, its second or third) on
// every shape, not only where tiles picks it: every remainder of its rows
// and columns.
func onlyTile(ks *gemmISA, s kernel32, d kernel64) *gemmISA {
	x := *ks
	x.name = fmt.Sprintf("%s-%dx%d", ks.name, s.mr, s.nr)
	x.s, x.d = s, d
	x.s2, x.d2, x.s3, x.d3 = kernel32{}, kernel64{}, kernel32{}, kernel64{}
	return &x
}

func implName(k *gemmISA) string {
	if k == nil {
		return "gonum"
	}
	return k.name
}

// withISA runs f with GEMM on k.
func withISA(k *gemmISA, f func()) {
	old := setISA(k)
	defer setISA(old)
	f()
}

type gemmCase struct {
	ta, tb      bool
	m, n, k     int
	pad         int // extra elements per row beyond the width: lda, ldb, ldc > width
	alpha, beta float64
}

func (c gemmCase) String() string {
	return fmt.Sprintf("ta=%v tb=%v %dx%dx%d pad=%d alpha=%v beta=%v", c.ta, c.tb, c.m, c.n, c.k, c.pad, c.alpha, c.beta)
}

// gemmCases: sizes around every tile (4, 6, 8 rows; 8, 12, 16, 24, 32 columns), the
// k block (256) and the m and n blocks (192; 256 and 512), each with both
// transposes, padded leading dimensions and the alpha/beta that matter.
func gemmCases(rng *rand.Rand) []gemmCase {
	var cs []gemmCase
	dims := [][3]int{
		{1, 1, 1}, {2, 3, 4}, {5, 7, 3}, {6, 16, 9}, {8, 32, 17}, {7, 15, 1}, {9, 33, 31},
		{12, 64, 2}, {13, 17, 100}, {16, 8, 257}, {7, 16, 65}, {32, 9, 1000}, {4, 2, 256}, {6, 25, 300}, {5, 32, 600}, {48, 48, 48}, {17, 31, 513},
		{193, 20, 10}, {200, 70, 30}, {10, 257, 20}, {3, 520, 7}, {130, 70, 300}, {25, 1030, 3},
		{4, 24, 5}, {13, 23, 40}, {14, 47, 9}, {15, 70, 300}, {32, 1009, 9}, {16, 260, 130},
		{41, 77, 300}, {64, 530, 20}, {57, 40, 9}, {33, 65, 17}, // up to 64 rows: AVX-512 reads an untransposed B in place
		{197, 12, 256}, // an m block of a tile that does not divide 192 (10 rows) fills a's buffer of 192·256
	}
	for _, d := range dims {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {1, 1}, {0.5, 0.25}, {-2, -1}} {
				cs = append(cs, gemmCase{tr[0], tr[1], d[0], d[1], d[2], rng.IntN(3) * (1 + rng.IntN(5)), ab[0], ab[1]})
			}
		}
	}
	for range 40 { // random shapes
		cs = append(cs, gemmCase{rng.IntN(2) == 0, rng.IntN(2) == 0, 1 + rng.IntN(70), 1 + rng.IntN(90), 1 + rng.IntN(300),
			rng.IntN(4), rng.NormFloat64(), []float64{0, 1, rng.NormFloat64()}[rng.IntN(3)]})
	}
	return cs
}

// gemmRef is naiveGemm's result for one case's operands, kept so that
// the next implementation given the same operands (drawn from the same
// seed) is checked without computing it again.
type gemmRef struct {
	a, b, c   []float64 // the operands, as float64
	want, abs []float64 // alpha·op(a)·op(b) + beta·c, and |op(a)|·|op(b)|
}

// sameBits reports whether x and y hold the same float64 bits (NaNs
// included, which == would call different).
func sameBits(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// runGemmCase runs c through Gemm in T and checks it against the float64
// reference; beta = 0 cases start with NaN in c, and the padding of every
// operand must come out as it went in. ref, if not nil, keeps the
// reference: it is reused when it was computed for the same operands.
func runGemmCase[T Float](t *testing.T, rng *rand.Rand, gc gemmCase, ref *gemmRef) {
	t.Helper()
	runGemmCaseOn(t, rng, gc, ref, Gemm[T])
}

// runGemmCaseOn is runGemmCase on gemm, a function with Gemm's contract.
func runGemmCaseOn[T Float](t *testing.T, rng *rand.Rand, gc gemmCase, ref *gemmRef,
	gemm func(ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)) {
	t.Helper()
	ar, ac := gc.m, gc.k
	if gc.ta {
		ar, ac = ac, ar
	}
	br, bc := gc.k, gc.n
	if gc.tb {
		br, bc = bc, br
	}
	lda, ldb, ldc := ac+gc.pad, bc+gc.pad, gc.n+gc.pad
	mk := func(n int) []T {
		x := make([]T, n)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		return x
	}
	// c has a guard band past its last row: no kernel may write there.
	const guard = 64
	a, b, cg := mk(ar*lda), mk(br*ldb), mk(gc.m*ldc+guard)
	c := cg[:gc.m*ldc]
	if gc.beta == 0 {
		for i := range gc.m {
			for j := range gc.n {
				c[i*ldc+j] = T(math.NaN())
			}
		}
	}
	a0, b0, c0, g0 := append([]T(nil), a...), append([]T(nil), b...), append([]T(nil), c...), append([]T(nil), cg[len(c):]...)
	gemm(gc.ta, gc.tb, gc.m, gc.n, gc.k, T(gc.alpha), a, lda, b, ldb, T(gc.beta), c, ldc)

	f := func(x []T) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = float64(v)
		}
		return y
	}
	af, bf, cf := f(a0), f(b0), f(c0)
	var want, abs []float64
	if ref != nil && sameBits(ref.a, af) && sameBits(ref.b, bf) && sameBits(ref.c, cf) {
		want, abs = ref.want, ref.abs
	} else {
		want, abs = f(c0), make([]float64, len(c0))
		if gc.beta == 0 {
			for i := range gc.m {
				for j := range gc.n {
					want[i*ldc+j] = 0 // naiveGemm reads c; beta = 0 must not
				}
			}
		}
		naiveGemmAbs(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, af, lda, bf, ldb, gc.beta, want, abs, ldc)
		if ref != nil {
			*ref = gemmRef{af, bf, cf, want, abs}
		}
	}

	eps := 1e-15
	if Is32[T]() {
		eps = 1e-6
	}
	for i := range gc.m {
		for j := range gc.n {
			x := i*ldc + j
			bound := eps * float64(gc.k+2) * (math.Abs(gc.alpha)*abs[x] + math.Abs(gc.beta*float64(c0[x])) + 1)
			if gc.beta == 0 {
				bound = eps * float64(gc.k+2) * (math.Abs(gc.alpha)*abs[x] + 1)
			}
			if got := float64(c[x]); !(math.Abs(got-want[x]) <= bound) {
				t.Fatalf("%v: c[%d,%d] = %v, want %v (±%.2g)", gc, i, j, got, want[x], bound)
			}
		}
		for j := gc.n; j < ldc; j++ {
			if x := i*ldc + j; c[x] != c0[x] {
				t.Fatalf("%v: c's padding c[%d,%d] changed", gc, i, j)
			}
		}
	}
	for i, v := range cg[len(c):] {
		if v != g0[i] {
			t.Fatalf("%v: written %d elements past the end of c", gc, i+1)
		}
	}
	for i := range a {
		if a[i] != a0[i] {
			t.Fatalf("%v: a[%d] changed", gc, i)
		}
	}
	for i := range b {
		if b[i] != b0[i] {
			t.Fatalf("%v: b[%d] changed", gc, i)
		}
	}
}

func TestGemmMatchesNaiveOnEveryKernel(t *testing.T) {
	// Every implementation draws the same operands from the same seed:
	// the references are computed for the first and reused.
	refs := map[[2]int]*gemmRef{}
	ref := func(i, bits int) *gemmRef {
		r := refs[[2]int{i, bits}]
		if r == nil {
			r = &gemmRef{}
			refs[[2]int{i, bits}] = r
		}
		return r
	}
	for _, k := range gemmImpls(t) {
		t.Run(implName(k), func(t *testing.T) {
			withISA(k, func() {
				rng := rand.New(rand.NewPCG(7, 26))
				for i, gc := range gemmCases(rng) {
					runGemmCase[float32](t, rng, gc, ref(i, 32))
					runGemmCase[float64](t, rng, gc, ref(i, 64))
				}
			})
		})
	}
}

// TestGemmTilesPadLeast: AVX2 and AVX-512 run the tile that computes the
// fewest padded elements, the first one on a tie; AVX-512's 6-row and
// 10-row tiles only below 32 rows.
func TestGemmTilesPadLeast(t *testing.T) {
	if isaAVX2 == nil || isaAVX2.s2.fn == nil {
		t.Skip("no second AVX2 tile in this build")
	}
	for _, tc := range []struct{ m, n, mr32, mr64 int }{
		{16, 256, 4, 4},  // 18 rows of 6×16 against 16 of 4×24
		{32, 1456, 4, 4}, // small CNN conv1 forward
		{64, 128, 6, 6},  // 66 rows, but 128 columns fill 16, not 24 (float64: a tie)
		{6, 1568, 6, 6},  // LeNet-5 conv1: 6 rows fill one tile
		{288, 572, 6, 6}, // a tie in both: the first tile
		{13, 23, 4, 4},
	} {
		sk, dk := isaAVX2.tiles(tc.m, tc.n)
		if sk.mr != tc.mr32 || dk.mr != tc.mr64 {
			t.Errorf("AVX2 %d×%d: %d-row tiles in float32, %d in float64; want %d and %d", tc.m, tc.n, sk.mr, dk.mr, tc.mr32, tc.mr64)
		}
	}
	if isaAVX512 == nil || isaAVX512.s2.fn == nil {
		return
	}
	for _, tc := range []struct{ m, n, mr int }{
		{6, 1568, 6},  // LeNet-5 conv1: 8-row tiles would compute 8
		{10, 128, 10}, // a 10-class classifier's weight gradient: 10 rows, not 12 or 16
		{20, 300, 10}, // 20 rows against 24
		{12, 64, 6},   // 12 rows against 16 or 20
		{150, 784, 8}, // a split weight gradient's 150 rows, 152 computed: from 32 rows the 8-row tile
		{131, 560, 8}, // 132 rows against 136
		{18, 300, 6},  // 18 rows against 24
		{16, 256, 8},  // whole 8-row tiles
		{1, 10, 6},
	} {
		sk, dk := isaAVX512.tiles(tc.m, tc.n)
		if sk.mr != tc.mr || dk.mr != tc.mr {
			t.Errorf("AVX-512 %d×%d: %d-row tiles in float32, %d in float64; want %d", tc.m, tc.n, sk.mr, dk.mr, tc.mr)
		}
	}
}

// TestUseGemmDotBelow32Columns: a·bᵀ runs as dot products for fewer than
// 32 long columns (a conv's weight gradient over 9, 16 or 25), in tiles
// from 32 (ResNet-8's 64×32×637 shortcut gradient).
func TestUseGemmDotBelow32Columns(t *testing.T) {
	for _, tc := range []struct {
		m, n, k int
		want    bool
	}{{32, 9, 1456, true}, {6, 25, 1568, true}, {32, 16, 1176, true}, {64, 32, 637, false}, {64, 128, 256, false}, {32, 9, 100, false}} {
		if got := useGemmDot(tc.m, tc.n, tc.k); got != tc.want {
			t.Errorf("useGemmDot(%d, %d, %d) = %v, want %v", tc.m, tc.n, tc.k, got, tc.want)
		}
	}
}

// TestABTPathByShape: which kernel computes a·bᵀ, and that NewPackedB
// lays out a packing exactly where that kernel is gemmPacked (a packing
// that Gemm would not read is memory and packing time for nothing).
func TestABTPathByShape(t *testing.T) {
	if isa == nil {
		t.Skip("no own kernels here (purego, or a CPU without AVX2): Gemm takes none of the paths")
	}
	for _, tc := range []struct{ n, k, want int }{
		{10, 128, pathBlockDot}, {10, 255, pathBlockDot}, {31, 128, pathBlockDot}, // classifiers
		{9, 1456, pathBlockDot}, {25, 1568, pathBlockDot}, {16, 1176, pathBlockDot}, // convolutions' weight gradients
		{10, 784, pathBlockDot}, {2, 300, pathDot}, {2, 255, pathBlockDot}, // fewer columns than a block: gemmDot from k = 256
		{10, 84, pathPacked}, {10, 64, pathPacked}, {32, 128, pathPacked}, {256, 784, pathPacked}, {128, 1600, pathPacked},
	} {
		if got := abtPath(tc.n, tc.k); got != tc.want {
			t.Errorf("abtPath(%d, %d) = %d, want %d", tc.n, tc.k, got, tc.want)
		}
		if isa == nil {
			continue
		}
		if units := NewPackedB[float32](true, tc.k, tc.n).Units(); (units > 0) != (tc.want == pathPacked) {
			t.Errorf("NewPackedB(true, %d, %d) has %d units; Gemm's path is %d", tc.k, tc.n, units, tc.want)
		}
	}
}

// TestGemmAlphaZeroOrEmptyKReadsNeitherOperand: BLAS semantics: with
// alpha = 0 or k = 0, c = beta·c, and NaNs in a and b do not matter.
func TestGemmAlphaZeroOrEmptyKReadsNeitherOperand(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			nan := float32(math.NaN())
			a, b := []float32{nan, nan, nan, nan}, []float32{nan, nan, nan, nan}
			c := []float32{1, 2, 3, 4}
			Gemm(false, false, 2, 2, 2, 0, a, 2, b, 2, 2, c, 2)
			if c[0] != 2 || c[3] != 8 {
				t.Fatalf("%s: alpha=0: c = %v, want 2·c", implName(impl), c)
			}
			c = []float32{nan, 2, 3, nan}
			Gemm(false, false, 2, 2, 0, 1, a, 1, b, 2, 0, c, 2)
			if c[0] != 0 || c[3] != 0 {
				t.Fatalf("%s: k=0, beta=0: c = %v, want zeros", implName(impl), c)
			}
		})
	}
}

func TestGemmRejectsShortSlices(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b, c int
		lda     int
	}{{"a", 5, 6, 4, 3}, {"b", 6, 5, 4, 3}, {"c", 6, 6, 3, 3}, {"leading dimension", 6, 6, 4, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			// (2×3)·(3×2): a needs 6, b 6, c 4.
			Gemm(false, false, 2, 2, 3, 1, make([]float32, tc.a), tc.lda, make([]float32, tc.b), 2, 0, make([]float32, tc.c), 2)
		}()
	}
}

// TestGemmConcurrentCallersAgree runs the same products on many goroutines
// at once (each with its own packing buffer) and wants the bits of a
// serial run: the trainer's workers call GEMM concurrently.
func TestGemmConcurrentCallersAgree(t *testing.T) {
	const m, n, k = 37, 300, 270
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := make([]float32, m*k), make([]float32, n*k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	want := make([]float32, m*n)
	Gemm(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
	var wg sync.WaitGroup
	errs := make([]int, 8)
	for g := range errs {
		wg.Go(func() {
			c := make([]float32, m*n)
			for range 20 {
				Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
				for i := range c {
					if c[i] != want[i] {
						errs[g]++
					}
				}
			}
		})
	}
	wg.Wait()
	for g, e := range errs {
		if e != 0 {
			t.Fatalf("goroutine %d: %d elements differ from the serial run", g, e)
		}
	}
}

func TestGemmDoesNotAllocateOnEveryKernel(t *testing.T) {
	a, b, c := make([]float32, 128*784), make([]float32, 256*784), make([]float32, 128*256)
	d, e, f := make([]float64, 33*70), make([]float64, 70*45), make([]float64, 33*45)
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			n := testing.AllocsPerRun(5, func() {
				Gemm(false, true, 128, 256, 784, 1, a, 784, b, 784, 0, c, 256)
				Gemm(true, false, 33, 45, 70, 1, d, 33, e, 45, 1, f, 45)
			})
			if n != 0 {
				t.Fatalf("%s: %v allocations per GEMM", implName(impl), n)
			}
		})
	}
}

// FuzzGemmMatchesNaive checks any shape, transpose, padding and alpha/beta
// the fuzzer finds on every implementation against the reference:
//
//	go test -run XXX -fuzz FuzzGemmMatchesNaive -fuzztime 60s ./model/num
func FuzzGemmMatchesNaive(f *testing.F) {
	f.Add(uint8(6), uint8(25), uint16(300), uint8(0), uint8(3), uint8(1))
	f.Add(uint8(33), uint8(9), uint16(1456), uint8(2), uint8(1), uint8(0))
	f.Add(uint8(129), uint8(70), uint16(257), uint8(5), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, pad, trans, ab uint8) {
		if m == 0 || n == 0 || k == 0 || k > 600 {
			t.Skip()
		}
		alpha, beta := []float64{1, 1, 0.5, -3}[ab%4], []float64{0, 1, 0.25, -1}[ab/4%4]
		gc := gemmCase{trans&1 != 0, trans&2 != 0, int(m), int(n), int(k), int(pad % 9), alpha, beta}
		for _, impl := range gemmImpls(t) {
			withISA(impl, func() {
				rng := rand.New(rand.NewPCG(uint64(m)<<16|uint64(n), uint64(k)))
				runGemmCase[float32](t, rng, gc, nil)
				runGemmCase[float64](t, rng, gc, nil)
			})
		}
	})
}

// TestGemmKernelsDoNotAllocate: after a first call has filled the free
// list of packing buffers, no product on the micro-kernels allocates — the
// dot-product path included, whose row pointers once escaped to the heap on
// every call (a conv's weight gradient: an allocation per sample group and
// step).
func TestGemmKernelsDoNotAllocate(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			for _, s := range [][3]int{{16, 9, 1000}, {64, 128, 256}} {
				m, n, k := s[0], s[1], s[2]
				a, b, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
				f := func() { Gemm(false, true, m, n, k, 1, a, k, b, k, 1, c, n) }
				f()
				if got := testing.AllocsPerRun(10, f); got != 0 {
					t.Errorf("%s: %dx%dx%d NT: %v allocations per call", implName(impl), m, n, k, got)
				}
			}
		})
	}
}

// TestGemmRowsIndependentOfTile: the packed path's tiles sum every element
// over k in the same order, so a product's rows have the same bits whichever
// tile its row count picks (AVX-512's 8- or 6-row, AVX2's 6- or 4-row) and
// wherever they fall in it: a worker's shard of a batch gets the rows the
// whole batch would.
func TestGemmRowsIndependentOfTile(t *testing.T) {
	const m, n = 160, 70
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for _, tb := range []bool{false, true} {
				for _, k := range []int{25, 300} {
					rng := rand.New(rand.NewPCG(uint64(k), 31))
					a, b := randSlice[float64](rng, m*k), randSlice[float64](rng, n*k)
					a32, b32 := make([]float32, len(a)), make([]float32, len(b))
					for i := range a {
						a32[i] = float32(a[i])
					}
					for i := range b {
						b32[i] = float32(b[i])
					}
					ldb := n
					if tb {
						ldb = k
					}
					whole, whole64 := make([]float32, m*n), make([]float64, m*n)
					Gemm(false, tb, m, n, k, 1, a32, k, b32, ldb, 0, whole, n)
					Gemm(false, tb, m, n, k, 1, a, k, b, ldb, 0, whole64, n)
					for _, r := range [][2]int{{0, 6}, {3, 13}, {40, 56}, {10, 160}, {1, 2}, {7, 157}} {
						i0, i1 := r[0], r[1]
						part, part64 := make([]float32, (i1-i0)*n), make([]float64, (i1-i0)*n)
						Gemm(false, tb, i1-i0, n, k, 1, a32[i0*k:], k, b32, ldb, 0, part, n)
						Gemm(false, tb, i1-i0, n, k, 1, a[i0*k:], k, b, ldb, 0, part64, n)
						for i := range part {
							if math.Float32bits(part[i]) != math.Float32bits(whole[i0*n+i]) || math.Float64bits(part64[i]) != math.Float64bits(whole64[i0*n+i]) {
								t.Fatalf("%s tb=%v k=%d rows [%d,%d): c[%d,%d] differs from the whole product's", impl.name, tb, k, i0, i1, i0+i/n, i%n)
							}
						}
					}
				}
			}
		})
	}
}
