package num

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// packAll packs every unit of p from b, last unit first: the order must
// not matter.
func packAll[T Float](p *PackedB[T], b []T, ldb int) {
	for u := p.Units() - 1; u >= 0; u-- {
		p.PackUnit(u, b, ldb)
	}
}

func randSlice[T Float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(rng.NormFloat64())
	}
	return s
}

func checkPackedB[T Float](t *testing.T, rng *rand.Rand, tb bool, m, n, k, pad int, alpha, beta T) {
	t.Helper()
	lda, ldb, ldc := k+pad, n+pad, n+pad
	bRows := k
	if tb {
		ldb, bRows = k+pad, n
	}
	a, b := randSlice[T](rng, m*lda), randSlice[T](rng, bRows*ldb)
	c0 := randSlice[T](rng, m*ldc)
	if beta == 0 {
		for i := range c0 {
			c0[i] = T(math.NaN()) // beta = 0 writes c without reading it
		}
	}
	want, got := append([]T(nil), c0...), append([]T(nil), c0...)
	Gemm(false, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	p := NewPackedB[T](tb, k, n)
	packAll(p, b, ldb)
	GemmPackedB(m, alpha, a, lda, p, b, ldb, beta, got, ldc)
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("element %d (row %d, col %d): GemmPackedB %v, Gemm %v (usable %v, %d units)",
				i, i/ldc, i%ldc, got[i], want[i], p.Usable(m), p.Units())
		}
	}
}

// TestGemmPackedBMatchesGemm: a product with B packed once ahead equals
// Gemm's bit for bit on every kernel, for rows below, at and above the
// 6-row tiles (AVX-512's second, AVX2's first), the direct-B limit and the
// m block, columns around the panel and n block, and k around the k block.
func TestGemmPackedBMatchesGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 1))
	shapes := []struct{ m, n, k int }{
		{1, 256, 784}, {6, 33, 70}, {7, 256, 784}, {8, 10, 128}, {16, 256, 784},
		{31, 128, 256}, {33, 47, 300}, {64, 520, 9}, {193, 520, 257}, {16, 20, 300},
		{197, 40, 256}, // an m block of a tile that does not divide 192 (10 rows)
	}
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			for _, s := range shapes {
				for _, tb := range []bool{true, false} {
					for _, ab := range [][2]float64{{1, 0}, {1, 1}, {-0.5, 0.75}} {
						pad := rng.IntN(3)
						name := fmt.Sprintf("%s/%dx%dx%d/tb=%v/alpha=%v,beta=%v", implName(impl), s.m, s.n, s.k, tb, ab[0], ab[1])
						t.Run(name, func(t *testing.T) {
							checkPackedB[float32](t, rng, tb, s.m, s.n, s.k, pad, float32(ab[0]), float32(ab[1]))
							checkPackedB[float64](t, rng, tb, s.m, s.n, s.k, pad, ab[0], ab[1])
						})
					}
				}
			}
		})
	}
}

// TestPackedBUnitsOnlyWherePackedPathRuns: the packing exists only where
// Gemm would pack op(b) itself; where it runs dot products or gonum's
// code, there is nothing to pack and GemmPackedB is Gemm.
func TestPackedBUnitsOnlyWherePackedPathRuns(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			for _, c := range []struct {
				tb      bool
				n, k    int
				packing bool
			}{
				{true, 256, 784, true},
				{false, 256, 784, true},
				{true, 10, 784, false}, // a·bᵀ with 10 long columns: gemmBlockDot
				{false, 10, 784, true},
			} {
				p := NewPackedB[float32](c.tb, c.k, c.n)
				if want := c.packing && impl != nil; (p.Units() > 0) != want {
					t.Errorf("%s tb=%v n=%d k=%d: %d units, want packing %v", implName(impl), c.tb, c.n, c.k, p.Units(), want)
				}
				// AVX-512's 6-row tile reads the 8-row one's panels: 6 rows
				// use the packing (they ran AVX2's 6×16 tile, and Gemm,
				// before it).
				if impl == isaAVX512 && p.Units() > 0 && !p.Usable(6) {
					t.Errorf("%s: not Usable(6), though 6×32 tiles read 8×32's panels", implName(impl))
				}
				// 64 rows fill whole tiles of the first shape on either ISA.
				if p.Units() > 0 && !p.Usable(64) {
					t.Errorf("%s: not Usable(64)", implName(impl))
				}
				// 16 rows of 256 columns: 4×24 tiles pad 16×264, 6×16 ones 18×256.
				if second := impl != nil && impl.s2.fn != nil && impl.s2.nr != impl.s.nr; p.Units() > 0 && c.n == 256 && second && p.Usable(16) {
					t.Errorf("%s: Usable(16) though Gemm picks the 4×24 tile", implName(impl))
				}
			}
		})
	}
}

// TestPackedBSharedByGoroutines packs one B from several goroutines, each
// claiming units from a counter, and has them all multiply against it, as
// the trainer's workers do: every product equals Gemm's.
func TestPackedBSharedByGoroutines(t *testing.T) {
	const m, n, k, g = 16, 256, 784, 4
	rng := rand.New(rand.NewPCG(24, 2))
	w := randSlice[float32](rng, n*k)
	p := NewPackedB[float32](true, k, n)
	var next sync.Mutex
	u := 0
	claim := func() int {
		next.Lock()
		defer next.Unlock()
		u++
		return u - 1
	}
	var packed sync.WaitGroup
	for range g {
		packed.Go(func() {
			for i := claim(); i < p.Units(); i = claim() {
				p.PackUnit(i, w, k)
			}
		})
	}
	packed.Wait()
	var wg sync.WaitGroup
	bad := make([]int, g)
	for i := range g {
		x := randSlice[float32](rng, m*k)
		wg.Go(func() {
			want, got := make([]float32, m*n), make([]float32, m*n)
			Gemm(false, true, m, n, k, 1, x, k, w, k, 0, want, n)
			GemmPackedB(m, 1, x, k, p, w, k, 0, got, n)
			for j := range want {
				if got[j] != want[j] {
					bad[i]++
				}
			}
		})
	}
	wg.Wait()
	for i, b := range bad {
		if b != 0 {
			t.Fatalf("goroutine %d: %d elements differ from Gemm", i, b)
		}
	}
}

func TestGemmPackedBDoesNotAllocate(t *testing.T) {
	a, w, c := make([]float32, 16*784), make([]float32, 256*784), make([]float32, 16*256)
	p := NewPackedB[float32](true, 784, 256)
	if n := testing.AllocsPerRun(5, func() {
		packAll(p, w, 784)
		GemmPackedB(16, 1, a, 784, p, w, 784, 0, c, 256)
	}); n != 0 {
		t.Fatalf("%v allocations per pack and product", n)
	}
}

// TestGemmPackedBColumnsMatchesGemm: a product cut into ranges of whole
// panels, each range packed and computed on its own into the same c, gives
// Gemm's bits in every column — also for rows whose tile Gemm would take
// with wider panels (AVX2's 4×24 at 16 or 32 rows, computed in the 6×16
// tile of the packing) — and a range leaves the columns outside it as
// they were.
func TestGemmPackedBColumnsMatchesGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 2))
	shapes := []struct{ m, n, k int }{
		{32, 256, 784}, {16, 256, 784}, {6, 100, 70}, {64, 128, 256}, {33, 47, 300}, {9, 520, 257}, {64, 1100, 40},
		{8, 300, 20}, {20, 96, 16}, // k < directAK: Gemm reads a in place (AVX-512's fa kernels), the packing's product packs it
	}
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			for _, s := range shapes {
				for _, tb := range []bool{true, false} {
					t.Run(fmt.Sprintf("%s/%dx%dx%d/tb=%v", implName(impl), s.m, s.n, s.k, tb), func(t *testing.T) {
						checkColumns[float32](t, rng, tb, s.m, s.n, s.k)
						checkColumns[float64](t, rng, tb, s.m, s.n, s.k)
					})
				}
			}
		})
	}
}

func checkColumns[T Float](t *testing.T, rng *rand.Rand, tb bool, m, n, k int) {
	t.Helper()
	p := NewPackedB[T](tb, k, n)
	if !p.Splits() {
		return // GemmPackedB calls Gemm: there are no panels to split
	}
	ldb, bRows := n, k
	if tb {
		ldb, bRows = k, n
	}
	a, b := randSlice[T](rng, m*k), randSlice[T](rng, bRows*ldb)
	c0 := randSlice[T](rng, m*n)
	want := append([]T(nil), c0...)
	Gemm(false, tb, m, n, k, 0.5, a, k, b, ldb, 1, want, n)
	got := append([]T(nil), c0...)
	panels := (n + p.Panel() - 1) / p.Panel()
	for j0 := 0; j0 < n; {
		j1 := min(j0+p.Panel()*(1+rng.IntN(panels)), n)
		before := append([]T(nil), got...)
		p.PackColumns(j0, j1, b, ldb)
		GemmPackedBColumns(m, 0.5, a, k, p, j0, j1, 1, got, n)
		for i := range got {
			if col := i % n; (col < j0 || col >= j1) && math.Float64bits(float64(got[i])) != math.Float64bits(float64(before[i])) {
				t.Fatalf("columns [%d, %d) wrote row %d, col %d", j0, j1, i/n, col)
			}
		}
		j0 = j1
	}
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("row %d, col %d: by columns %v, Gemm %v", i/n, i%n, got[i], want[i])
		}
	}
}

// TestPackedBKernelsReadItsPanels: the tiles a packing's products run in
// (PackedB.kernels) are Gemm's for the rows where those read panels as
// wide as the packing's, else the instruction set's first tile — never
// one with wider panels. The bits cannot tell (every tile sums alike, and
// AVX2's 4×24 tile given 16 columns masks the rest), so this checks the
// choice itself.
func TestPackedBKernelsReadItsPanels(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for _, n := range []int{256, 100, 24} {
				checkKernels[float32](t, impl, n)
				checkKernels[float64](t, impl, n)
			}
		})
	}
	// A packing laid out for other kernels does not split (its panels
	// are another width, or the tiles another's).
	var p *PackedB[float32]
	for _, impl := range gemmImpls(t) {
		withISA(impl, func() {
			if p != nil && p.Splits() {
				t.Errorf("a packing for %s splits on %s", p.ks.name, implName(impl))
			}
			p = NewPackedB[float32](false, 64, 256)
		})
	}
}

func checkKernels[T Float](t *testing.T, impl *gemmISA, n int) {
	t.Helper()
	p := NewPackedB[T](false, 64, n)
	if !p.Splits() {
		t.Fatalf("%s: no packing of 64×%d", impl.name, n)
	}
	for m := 1; m <= 200; m++ {
		sk, dk := p.kernels(m)
		gs, gd := impl.tiles(m, n)
		got, gemm, first := [2]int{dk.mr, dk.nr}, [2]int{gd.mr, gd.nr}, [2]int{impl.d.mr, impl.d.nr}
		if Is32[T]() {
			got, gemm, first = [2]int{sk.mr, sk.nr}, [2]int{gs.mr, gs.nr}, [2]int{impl.s.mr, impl.s.nr}
		}
		want := first
		if gemm[1] == p.Panel() {
			want = gemm
		}
		if got != want || got[1] != p.Panel() {
			t.Errorf("%s %T, %d rows of %d columns: tile %v, want %v (Gemm's %v, panels %d)", impl.name, T(0), m, n, got, want, gemm, p.Panel())
		}
	}
}

// TestGemmPackedBColumnsRejectsPartialPanels: a range must start and end
// on a panel's edge (or n), where the packing's units do.
func TestGemmPackedBColumnsRejectsPartialPanels(t *testing.T) {
	p := NewPackedB[float32](true, 784, 256)
	if p.Units() == 0 {
		t.Skip("no packed path on this CPU or build")
	}
	for _, r := range [][2]int{{1, 32}, {0, 33}, {32, 16}, {0, 257}, {-32, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("columns [%d, %d) accepted", r[0], r[1])
				}
			}()
			p.PackColumns(r[0], r[1], make([]float32, 784*256), 784)
		}()
	}
}

// TestGemmPackedBColumnsAlphaZero: with alpha = 0 a column range is
// beta·c, as Gemm computes it — with beta = 0 written without reading c
// (NaN there) — and does not read a (NaN there) for a product.
func TestGemmPackedBColumnsAlphaZero(t *testing.T) {
	const m, n, k = 8, 100, 40
	p := NewPackedB[float32](true, k, n)
	if !p.Splits() {
		t.Skip("no packing for the running kernels in this build or on this CPU")
	}
	nan := float32(math.NaN())
	a := make([]float32, m*k)
	for i := range a {
		a[i] = nan
	}
	j0, j1 := p.Panel(), n
	for _, beta := range []float32{0, 0.5} {
		c := make([]float32, m*n)
		for i := range c {
			c[i] = float32(i)
			if beta == 0 && i%n >= j0 {
				c[i] = nan
			}
		}
		GemmPackedBColumns(m, 0, a, k, p, j0, j1, beta, c, n) // p never packed: its panels are zeros, a is NaN
		for i, v := range c {
			want := float32(i)
			if i%n >= j0 {
				want = beta * float32(i)
			}
			if v != want {
				t.Fatalf("beta %v, row %d, col %d: %v, want %v", beta, i/n, i%n, v, want)
			}
		}
	}
}
