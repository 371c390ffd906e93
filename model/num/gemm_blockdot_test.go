package num

import (
	"math"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
)

// blockDotGemm runs gemmBlockDot with Gemm's contract (a·bᵀ only, alpha ≠
// 0, m, n, k > 0), for runGemmCaseOn.
func blockDotGemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if ta || !tb {
		panic("blockDotGemm: a·bᵀ only")
	}
	checkGemm(ta, tb, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemmBlockDot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// TestGemmBlockDotMatchesNaive: the block dot products against the naive
// reference on every kernel, for every remainder of the block's rows and
// columns (fewer than a block, one more than several), k below, at and
// past a vector with every remainder of the lanes, padded leading
// dimensions, and the alpha/beta cases (beta = 0 with NaN in c).
func TestGemmBlockDotMatchesNaive(t *testing.T) {
	ms := []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 21}
	ns := []int{1, 2, 3, 4, 5, 6, 7, 10, 12, 13, 19}
	ks := []int{1, 3, 7, 8, 15, 16, 17, 31, 33, 128, 131, 784}
	abs := [][2]float64{{1, 0}, {1, 1}, {0.5, 0.25}, {-2, -1}}
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		t.Run(impl.name, func(t *testing.T) {
			withISA(impl, func() {
				rng := rand.New(rand.NewPCG(4, 6))
				i := 0
				for _, m := range ms {
					for _, n := range ns {
						for _, k := range ks {
							i++
							if (m*n*k)%3 != i%3 && k != 784 { // a third of the grid, every row, column and k
								continue
							}
							ab := abs[i%len(abs)]
							gc := gemmCase{false, true, m, n, k, rng.IntN(4), ab[0], ab[1]}
							runGemmCaseOn(t, rng, gc, nil, blockDotGemm[float32])
							runGemmCaseOn(t, rng, gc, nil, blockDotGemm[float64])
						}
						// The forward's fast path (alpha = beta = 1, k a
						// whole number of vectors) for every block remainder.
						gc := gemmCase{false, true, m, n, 128, rng.IntN(4), 1, 1}
						runGemmCaseOn(t, rng, gc, nil, blockDotGemm[float32])
						runGemmCaseOn(t, rng, gc, nil, blockDotGemm[float64])
					}
				}
			})
		})
	}
}

// TestGemmBlockDotRowsIndependentOfShape: an element's bits depend on its
// row of a, its row of b and k, not on how many rows or columns the
// product has nor where they sit in a block: every sub-product of rows
// [i0, i1) and columns [j0, j1) equals the whole product's elements. A
// data-parallel worker's shard of rows relies on it.
func TestGemmBlockDotRowsIndependentOfShape(t *testing.T) {
	const m, n = 23, 17
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for _, k := range []int{37, 128, 784} {
				rng := rand.New(rand.NewPCG(uint64(k), 9))
				a, b := randSlice[float32](rng, m*k), randSlice[float32](rng, n*k)
				whole := make([]float32, m*n)
				gemmBlockDot(m, n, k, 1, a, k, b, k, 0, whole, n)
				for _, r := range [][4]int{{0, 1, 0, 1}, {3, 5, 2, 9}, {7, 23, 11, 17}, {1, 18, 0, 17}, {20, 23, 4, 6}} {
					i0, i1, j0, j1 := r[0], r[1], r[2], r[3]
					part := make([]float32, (i1-i0)*(j1-j0))
					gemmBlockDot(i1-i0, j1-j0, k, 1, a[i0*k:], k, b[j0*k:], k, 0, part, j1-j0)
					for i := i0; i < i1; i++ {
						for j := j0; j < j1; j++ {
							got, want := part[(i-i0)*(j1-j0)+j-j0], whole[i*n+j]
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%s k=%d rows [%d,%d) cols [%d,%d): c[%d,%d] = %v, the whole product's %v",
									impl.name, k, i0, i1, j0, j1, i, j, got, want)
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmBlockDotConcurrentNoAllocs: the trainer's workers run the
// classifiers' forward concurrently, each on its shard of rows, some of
// them fewer than a block (the padded copies live in each call's packing
// buffer). Every call gets the serial run's bits, and none allocates once
// the buffers exist. Run with -race.
func TestGemmBlockDotConcurrentNoAllocs(t *testing.T) {
	const k = 128
	shapes := [][2]int{{1, 10}, {3, 10}, {4, 6}, {37, 10}, {2, 3}, {16, 31}}
	rng := rand.New(rand.NewPCG(5, 5))
	a, b := randSlice[float32](rng, 37*k), randSlice[float32](rng, 31*k)
	want := make([][]float32, len(shapes))
	for s, mn := range shapes {
		m, n := mn[0], mn[1]
		if isa != nil && abtPath(n, k) != pathBlockDot { // purego: Gemm takes none of the paths
			t.Fatalf("%d×%d×%d is not on the block dot products' path", m, n, k)
		}
		want[s] = make([]float32, m*n)
		Gemm(false, true, m, n, k, 1, a, k, b, k, 0, want[s], n)
	}
	sameBitsConcurrently(t, 6, 30, want, func(s int, c []float32) {
		m, n := shapes[s][0], shapes[s][1]
		Gemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
	})
	c, cd := make([]float32, 37*31), make([]float64, 37*31)
	ad, bd := randSlice[float64](rng, 37*k), randSlice[float64](rng, 31*k)
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			n := testing.AllocsPerRun(5, func() {
				for _, mn := range shapes {
					Gemm(false, true, mn[0], mn[1], k, 1, a, k, b, k, 1, c, mn[1])
					Gemm(false, true, mn[0], mn[1], k, 1, ad, k, bd, k, 0, cd, mn[1])
				}
			})
			if n != 0 {
				t.Fatalf("%s: %v allocations per run of the block dot products", implName(impl), n)
			}
		})
	}
}

// sameBitsConcurrently runs prod on g goroutines at once, each through
// want's products in turn (prod(s, c) writes product s into c, len(want[s])
// elements) for the given rounds, and fails unless every run has the bits
// of want[s], the serial run's.
func sameBitsConcurrently(t *testing.T, g, rounds int, want [][]float32, prod func(s int, c []float32)) {
	t.Helper()
	size := 0
	for _, w := range want {
		size = max(size, len(w))
	}
	var wg sync.WaitGroup
	errs := make([]int, g)
	for gi := range errs {
		wg.Go(func() {
			c := make([]float32, size)
			for i := range rounds {
				s := (gi + i) % len(want)
				prod(s, c)
				for j, w := range want[s] {
					if math.Float32bits(c[j]) != math.Float32bits(w) {
						errs[gi]++
					}
				}
			}
		})
	}
	wg.Wait()
	for gi, e := range errs {
		if e != 0 {
			t.Fatalf("goroutine %d: %d elements differ from the serial run", gi, e)
		}
	}
}

// TestBlockDotKernelsSumLanesAsATree: every block dot-product kernel gives,
// bit for bit, the order its comment promises, written here in Go: per lane
// a sequence of fused multiply-adds over the vectors of k, one more on the
// zero-padded tail, then the lanes summed as a tree (lane i with i+L/2,
// then i+L/4, …), out[i·nr+j] for row i of a and row j of b. AVX-512 sums
// the 24 accumulators' lanes as one network of shuffles: one that paired
// other lanes would still pass TestGemmBlockDotMatchesNaive but change the
// bits of every classifier's forward, checkpoints and golden runs included.
func TestBlockDotKernelsSumLanesAsATree(t *testing.T) {
	seen := map[int]bool{}
	for _, impl := range gemmImpls(t) {
		if impl == nil || seen[impl.lanes32] { // a second tile shares the first's block kernels
			continue
		}
		seen[impl.lanes32] = true
		withISA(impl, func() {
			rng := rand.New(rand.NewPCG(8, uint64(impl.lanes32)))
			for trial := range 100 {
				n, tail := rng.IntN(6), trial%2 == 0
				if n == 0 {
					tail = true
				}
				checkBlockDotTree(t, rng, impl, n, tail, fma32)
				checkBlockDotTree(t, rng, impl, n, tail, math.FMA)
			}
		})
	}
}

// checkBlockDotTree runs isa's block kernel on n vectors of random rows
// (and, if tail, one more on padded copies) and compares each element with
// the tree of per-lane fused multiply-adds that fma computes exactly.
func checkBlockDotTree[T Float](t *testing.T, rng *rand.Rand, impl *gemmISA, n int, tail bool, fma func(x, y, z T) T) {
	t.Helper()
	bd, lanes := impl.bdot, vecLanes[T]()
	lda, ldb := n*lanes+rng.IntN(3), n*lanes+rng.IntN(3)
	scale := T(math.Ldexp(1, rng.IntN(20)-10)) // sums that cancel at every magnitude
	a, b := randSlice[T](rng, bd.mr*lda+1), randSlice[T](rng, bd.nr*ldb+1)
	at, bt := randSlice[T](rng, bd.mr*lanes), randSlice[T](rng, bd.nr*lanes)
	for i := range a {
		a[i] *= scale
	}
	got := make([]T, bd.mr*bd.nr+lanes) // a vector of guard past the block
	for i := range got {
		got[i] = -7
	}
	blockDotKernel(bd, n, &a[0], lda, &b[0], ldb, &got[0], at, bt, tail)
	acc := make([]T, lanes)
	for i := range bd.mr {
		for j := range bd.nr {
			clear(acc)
			for v := range n {
				for l := range acc {
					acc[l] = fma(a[i*lda+v*lanes+l], b[j*ldb+v*lanes+l], acc[l])
				}
			}
			if tail {
				for l := range acc {
					acc[l] = fma(at[i*lanes+l], bt[j*lanes+l], acc[l])
				}
			}
			for h := lanes / 2; h >= 1; h /= 2 {
				for l := range h {
					acc[l] += acc[l+h]
				}
			}
			if g := got[i*bd.nr+j]; math.Float64bits(float64(g)) != math.Float64bits(float64(acc[0])) {
				t.Fatalf("%s %T n=%d tail=%v: out[%d·%d+%d] = %v, the tree's %v", impl.name, g, n, tail, i, bd.nr, j, g, acc[0])
			}
		}
	}
	for i, g := range got[bd.mr*bd.nr:] {
		if g != -7 {
			t.Fatalf("%s %T: wrote out[%d], past the block", impl.name, g, bd.mr*bd.nr+i)
		}
	}
}

// fma32 is float32's fused multiply-add, x·y + z rounded once: the product
// is exact in 48 bits, the sum rounded to float32's 24.
func fma32(x, y, z float32) float32 {
	p := new(big.Float).SetPrec(64).SetFloat64(float64(x))
	p.Mul(p, new(big.Float).SetFloat64(float64(y)))
	s := new(big.Float).SetPrec(24).Add(p, new(big.Float).SetFloat64(float64(z)))
	f, _ := s.Float32()
	return f
}

// TestGemmBlockDotNarrowBlocksKeepBits: the blocks that store into c
// (AVX-512's 4×5, bdotC) give every element the bits of the 4×6 blocks
// and the Go loops that store their results, bit for bit, for every
// column count they take, rows below and past a block, k with and without
// a tail (where the kernel runs one block a call) and without (where it
// runs all the whole blocks of rows in one), and the alpha/beta cases (beta
// = 0 with NaN in c; 0.3 and 0.7, whose products round, where a fused
// multiply-add in the Go loops, GOAMD64=v3's, would differ).
func TestGemmBlockDotNarrowBlocksKeepBits(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		if impl == nil || impl.bdotC.mr == 0 {
			continue
		}
		wide := *impl
		wide.bdotC = blockDotC{}
		rng := rand.New(rand.NewPCG(4, 5))
		for i := range 300 {
			m, n, k := 1+rng.IntN(13), 1+rng.IntN(31), 128+rng.IntN(200)
			if i%2 == 0 {
				k = 128 + 16*rng.IntN(8) // no tail: whole blocks of rows in one call
			}
			ab := [][2]float64{{1, 0}, {1, 1}, {0.5, 0.25}, {-2, -1}, {0.3, 0.7}}[i%5]
			ldc := n + rng.IntN(3)
			check := func(got, want []float64) {
				t.Helper()
				for x := range got {
					if math.Float64bits(got[x]) != math.Float64bits(want[x]) {
						t.Fatalf("%s %d×%d×%d alpha=%v beta=%v: c[%d] = %v, the 4×6 blocks' %v", impl.name, m, n, k, ab[0], ab[1], x, got[x], want[x])
					}
				}
			}
			a, b, c := randSlice[float64](rng, m*k), randSlice[float64](rng, n*k), randSlice[float64](rng, m*ldc)
			if ab[1] == 0 {
				for x := range c {
					c[x] = math.NaN()
				}
			}
			run := func(ks *gemmISA) []float64 {
				out := append([]float64(nil), c...)
				withISA(ks, func() { gemmBlockDot(m, n, k, ab[0], a, k, b, k, ab[1], out, ldc) })
				return out
			}
			check(run(impl), run(&wide))
			a32, b32, c32 := make([]float32, len(a)), make([]float32, len(b)), make([]float32, len(c))
			for x := range a {
				a32[x] = float32(a[x])
			}
			for x := range b {
				b32[x] = float32(b[x])
			}
			for x := range c {
				c32[x] = float32(c[x])
			}
			run32 := func(ks *gemmISA) []float64 {
				out := append([]float32(nil), c32...)
				withISA(ks, func() { gemmBlockDot(m, n, k, float32(ab[0]), a32, k, b32, k, float32(ab[1]), out, ldc) })
				f := make([]float64, len(out))
				for x, v := range out {
					f[x] = float64(v)
				}
				return f
			}
			check(run32(impl), run32(&wide))
		}
	}
}
