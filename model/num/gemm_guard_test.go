//go:build linux

package num

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/ptrain/ptrain/internal/guardmem"
)

// guardedFloats returns a copy of s that ends where an inaccessible page
// begins (atEnd) or begins where one ends: a kernel that loads or stores
// past that end faults.
func guardedFloats[T Float](t *testing.T, s []T, atEnd bool) []T { return guardmem.Copy(t, s, atEnd) }

// TestGemmStaysInsideItsOperands: every ptrain kernel, on random products
// of up to 70 rows (the in-place B of up to 32 or 64 rows and the packed
// path beyond), with a, b and c each against an inaccessible page on one
// side or the other, gives the bits it gives on ordinary memory and
// touches nothing outside the operands. (gonum's fallback is left out:
// its float32 loops peel to an alignment, so its bits depend on where the
// operands lie.)
func TestGemmStaysInsideItsOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for i := range 120 {
				gc := gemmCase{rng.IntN(4) == 0, rng.IntN(4) == 0, 1 + rng.IntN(70), 1 + rng.IntN(100), 1 + rng.IntN(60), rng.IntN(3), 1, []float64{0, 1}[rng.IntN(2)]}
				name := fmt.Sprintf("%s %v", implName(impl), gc)
				if i%2 == 0 {
					gemmGuarded[float32](t, rng, gc, i%4 < 2, name)
				} else {
					gemmGuarded[float64](t, rng, gc, i%4 < 2, name)
				}
			}
		})
	}
}

// TestGemmDotPathsStayInsideTheirOperands: the same for a·bᵀ with fewer
// than 32 columns and k ≥ 128, which the random shapes above never reach:
// gemmBlockDot and gemmDot (fewer columns than a block from k = 256), with
// blocks moved back over the last rows and columns, rows run alone and
// columns padded where there are too few, and k tails of every length,
// the last row of a and b ending at a guard page.
func TestGemmDotPathsStayInsideTheirOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for i := range 48 {
				k := 128 + rng.IntN(128)
				if i%4 == 1 {
					k = 128 + 16*rng.IntN(8) // no tail in either type
				}
				if i%4 == 3 {
					k = 256 + rng.IntN(64)
				}
				gc := gemmCase{false, true, 1 + rng.IntN(13), 1 + rng.IntN(31), k, rng.IntN(3), 1, []float64{0, 1}[rng.IntN(2)]}
				name := fmt.Sprintf("%s %v", implName(impl), gc)
				if i%2 == 0 {
					gemmGuarded[float32](t, rng, gc, i%8 < 4, name)
				} else {
					gemmGuarded[float64](t, rng, gc, i%8 < 4, name)
				}
			}
		})
	}
}

func gemmGuarded[T Float](t *testing.T, rng *rand.Rand, gc gemmCase, atEnd bool, name string) {
	t.Helper()
	ar, ac := gc.m, gc.k
	if gc.ta {
		ar, ac = ac, ar
	}
	br, bc := gc.k, gc.n
	if gc.tb {
		br, bc = bc, br
	}
	// The last row of each operand ends at its width, not at the padded
	// stride: that is all a caller must provide.
	lda, ldb, ldc := ac+gc.pad, bc+gc.pad, gc.n+gc.pad
	mk := func(rows, ld, w int) []T {
		x := make([]T, (rows-1)*ld+w)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		return x
	}
	a, b, c := mk(ar, lda, ac), mk(br, ldb, bc), mk(gc.m, ldc, gc.n)
	want := append([]T(nil), c...)
	Gemm(gc.ta, gc.tb, gc.m, gc.n, gc.k, T(gc.alpha), a, lda, b, ldb, T(gc.beta), want, ldc)
	ga, gb, gcc := guardedFloats(t, a, atEnd), guardedFloats(t, b, !atEnd), guardedFloats(t, c, atEnd)
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: %v", name, r)
			}
		}()
		Gemm(gc.ta, gc.tb, gc.m, gc.n, gc.k, T(gc.alpha), ga, lda, gb, ldb, T(gc.beta), gcc, ldc)
	}()
	for i := range want {
		if math.Float64bits(float64(want[i])) != math.Float64bits(float64(gcc[i])) {
			t.Fatalf("%s: c[%d] = %v against guard pages, %v on the heap", name, i, gcc[i], want[i])
		}
	}
}

// TestMatMulABtFixedRowsChecksItsOperands: a Matrix whose Data is shorter
// than its shape (a struct literal; View would refuse it) makes
// MatMulABtFixedRows panic with a "num:" message, as MatMul does, on the
// block dot products' path too, whose kernels do not check bounds: no
// load reaches past the slice (here a guard page).
func TestMatMulABtFixedRowsChecksItsOperands(t *testing.T) {
	if isa == nil {
		t.Skip("no own kernels here: MatMul's checks already apply")
	}
	const m, n, k = 16, 144, 784
	if !useFixedRowsDot(m, n, k) {
		t.Fatalf("%d×%d×%d is not on the block dot products' path", m, n, k)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	short := func(rows, cols, missing int) Matrix[float32] {
		return Matrix[float32]{Rows: rows, Cols: cols, Data: guardedFloats(t, randSlice[float32](rng, rows*cols-missing), true)}
	}
	for _, tc := range []struct {
		name    string
		a, b, c Matrix[float32]
	}{
		{"a", short(m, k, 16), short(n, k, 0), short(m, n, 0)},
		{"b", short(m, k, 0), short(n, k, 16), short(m, n, 0)},
		{"c", short(m, k, 0), short(n, k, 0), short(m, n, 1)},
	} {
		func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "num: ") {
					t.Errorf("%s too short: recovered %v, want a num: panic", tc.name, r)
				}
			}()
			MatMulABtFixedRows(1, tc.a, tc.b, 1, tc.c)
		}()
	}
}

// TestMatMulABtFixedRowsStaysInsideItsOperands: the same for the weight
// gradients' block dot products (4–16 rows, 32 or more columns, k ≥ 256),
// with blocks moved back over the last rows and columns and k tails of
// every length, a, b and c against a guard page on one side or the other.
func TestMatMulABtFixedRowsStaysInsideItsOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			for i := range 32 {
				m, n, k := 4+rng.IntN(13), 32+rng.IntN(20), 256+rng.IntN(48)
				if !useFixedRowsDot(m, n, k) {
					t.Fatalf("%d×%d×%d is not on the block dot products' path", m, n, k)
				}
				beta := []float64{0, 1, 0.5}[i%3]
				name := fmt.Sprintf("%s %d×%d×%d beta %v", implName(impl), m, n, k, beta)
				if i%2 == 0 {
					fixedRowsGuarded[float32](t, rng, m, n, k, beta, i%4 < 2, name)
				} else {
					fixedRowsGuarded[float64](t, rng, m, n, k, beta, i%4 < 2, name)
				}
			}
		})
	}
}

func fixedRowsGuarded[T Float](t *testing.T, rng *rand.Rand, m, n, k int, beta float64, atEnd bool, name string) {
	t.Helper()
	a, b, c := randSlice[T](rng, m*k), randSlice[T](rng, n*k), randSlice[T](rng, m*n)
	want := append([]T(nil), c...)
	MatMulABtFixedRows(1, View(m, k, a), View(n, k, b), T(beta), View(m, n, want))
	ga, gb, gc := guardedFloats(t, a, atEnd), guardedFloats(t, b, !atEnd), guardedFloats(t, c, atEnd)
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: %v", name, r)
			}
		}()
		MatMulABtFixedRows(1, View(m, k, ga), View(n, k, gb), T(beta), View(m, n, gc))
	}()
	for i := range want {
		if math.Float64bits(float64(want[i])) != math.Float64bits(float64(gc[i])) {
			t.Fatalf("%s: c[%d] = %v against guard pages, %v on the heap", name, i, gc[i], want[i])
		}
	}
}

// TestGemmReadsTransposedAOfOneTileInPlace: a transposed a of exactly one
// tile's rows (lda = m = MR: a 10-class classifier's dZ in its weight
// gradient dZᵀ·h) is read where it lies, not packed: against the naive
// reference, with several k blocks, every remainder of the columns, and
// against guard pages.
func TestGemmReadsTransposedAOfOneTileInPlace(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		if impl == nil {
			continue
		}
		withISA(impl, func() {
			rng := rand.New(rand.NewPCG(10, 128))
			for _, m := range []int{impl.s.mr, impl.d.mr, 6, 10} {
				for _, nk := range [][2]int{{1, 1}, {37, 64}, {128, 64}, {70, 300}, {33, 600}} {
					for _, ab := range [][2]float64{{1, 0}, {1, 1}, {0.5, 0.25}} {
						gc := gemmCase{true, false, m, nk[0], nk[1], 0, ab[0], ab[1]}
						runGemmCase[float32](t, rng, gc, nil)
						runGemmCase[float64](t, rng, gc, nil)
						name := fmt.Sprintf("%s %v", implName(impl), gc)
						gemmGuarded[float32](t, rng, gc, true, name)
						gemmGuarded[float64](t, rng, gc, false, name)
					}
				}
			}
		})
	}
}
