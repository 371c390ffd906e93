package num

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the reference: the definition, one element at a time.
func naiveGemm(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	naiveGemmAbs(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, nil, ldc)
}

// naiveGemmAbs is naiveGemm that also sets abs (if not nil; laid out as
// c) to |op(a)|·|op(b)|, the scale of each element's rounding error, in
// the same pass: the references of the GEMM tests cost one walk over the
// operands instead of two. Each sum runs over p in order, as naiveGemm's
// always has; op(a)'s rows and op(b)'s columns are copied out first so
// that the sums read memory in order.
func naiveGemmAbs(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c, abs []float64, ldc int) {
	ra, cb := make([]float64, m*k), make([]float64, n*k) // op(a) is m×k, op(b)ᵀ is n×k, both row-major
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			if ta {
				ra[i*k+p] = a[p*lda+i]
			} else {
				ra[i*k+p] = a[i*lda+p]
			}
		}
	}
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			if tb {
				cb[j*k+p] = b[j*ldb+p]
			} else {
				cb[j*k+p] = b[p*ldb+j]
			}
		}
	}
	for i := 0; i < m; i++ {
		x := ra[i*k : i*k+k]
		for j := 0; j < n; j++ {
			y := cb[j*k : j*k+k]
			var s, sa float64
			for p, av := range x {
				bv := y[p]
				s += av * bv
				sa += math.Abs(av) * math.Abs(bv)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			if abs != nil {
				abs[i*ldc+j] = sa
			}
		}
	}
}

func TestGemmMatchesNaiveAcrossTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {63, 64, 65}, {130, 70, 200}, {17, 129, 64}, {200, 70, 30}, {400, 130, 9}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := fill(m*k), fill(k*n)
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				c, want := fill(m*n), make([]float64, m*n)
				copy(want, c)
				naiveGemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, want, n)
				Gemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c, n)
				for i := range c {
					if math.Abs(c[i]-want[i]) > 1e-9*float64(k) {
						t.Fatalf("%dx%dx%d ta=%v tb=%v: c[%d] = %v, want %v", m, n, k, ta, tb, i, c[i], want[i])
					}
				}
				c32 := make([]float32, m*n)
				a32, b32 := make([]float32, len(a)), make([]float32, len(b))
				for i := range a {
					a32[i] = float32(a[i])
				}
				for i := range b {
					b32[i] = float32(b[i])
				}
				want0 := make([]float64, m*n)
				naiveGemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, want0, n)
				Gemm(ta, tb, m, n, k, 1, a32, lda, b32, ldb, 0, c32, n)
				for i := range c32 {
					if math.Abs(float64(c32[i])-want0[i]) > 1e-4*float64(k) {
						t.Fatalf("float32 %dx%dx%d: c[%d] = %v, want %v", m, n, k, i, c32[i], want0[i])
					}
				}
			}
		}
	}
}

func TestGemmDoesNotAllocate(t *testing.T) {
	a, b, c := make([]float32, 128*784), make([]float32, 256*784), make([]float32, 128*256)
	for i := range a {
		a[i] = 1
	}
	if n := testing.AllocsPerRun(5, func() { Gemm(false, true, 128, 256, 784, 1, a, 784, b, 784, 0, c, 256) }); n != 0 {
		t.Fatalf("%v allocations per GEMM", n)
	}
}

func TestKernels(t *testing.T) {
	m := View(2, 3, []float64{1, 2, 3, 4, 5, 6})
	if m.At(1, 2) != 6 || m.At(0, 0) != 1 {
		t.Fatalf("View: %v", m.Data)
	}
	s := []float64{1, 1, 1}
	AddColSums(s, m)
	if s[0] != 1+1+4 || s[2] != 1+3+6 {
		t.Fatalf("AddColSums: %v", s)
	}
	if Dot([]float32{1, 2}, []float32{3, 4}) != 11 || SumSquares([]float64{3, 4}) != 25 {
		t.Fatal("Dot or SumSquares")
	}
	x := []float64{math.NaN(), 1}
	Scal(0, x)
	if x[0] != 0 {
		t.Fatal("Scal by 0 kept a NaN")
	}
}
