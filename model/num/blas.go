package num

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// This file is the one place where the element type meets BLAS. A []T is
// reinterpreted (not copied) as []float32 or []float64, which is exact
// because Float admits only those two types.
//
// GEMM goes to the configured implementation (OpenBLAS with -tags
// openblas). Vector operations shorter than bigVector always use gonum's
// own assembly kernels: with OpenBLAS each call is a cgo call, and the
// hundreds of tiny ones per step (a bias gradient is one axpy per row) made
// the Go scheduler hand processors back and forth between workers, delaying
// each phase hand-off by 100–400 µs. Long vectors (the optimizer, the
// all-reduce) take few calls and gain from OpenBLAS's wider kernels.
const bigVector = 4096

var vec = gonum.Implementation{}

func level1_32(n int) blas.Float32Level1 {
	if n >= bigVector {
		return blas32.Implementation()
	}
	return vec
}

func level1_64(n int) blas.Float64Level1 {
	if n >= bigVector {
		return blas64.Implementation()
	}
	return vec
}

// As32 and As64 reinterpret a []T as the concrete slice type it is, for
// BLAS calls and for kernels that must be written on concrete types (see
// optim's kernels). As32 is valid only if Is32[T](), As64 only if not.
func As32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// As64 reinterprets a []T as []float64; see As32.
func As64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Gemm is the raw row-major BLAS GEMM: c = alpha·op(a)·op(b) + beta·c with
// op(a) m×k (leading dimension lda), op(b) k×n (ldb) and c m×n (ldc).
//
// With tiles set by the backend (the pure-Go build), c is computed in tiles
// of at most gemmTileM×gemmTileN, which gonum computes with its serial
// kernel (it goes parallel only from 4 blocks of 64×64 in m×n): ptrain's
// parallelism is across workers, and gonum's own goroutines would allocate
// on every call and compete with them.
func Gemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if gemmTileM == 0 || (m <= gemmTileM && n <= gemmTileN) {
		gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for i := 0; i < m; i += gemmTileM {
		mi := min(gemmTileM, m-i)
		ao := i * lda // rows i.. of op(a)
		if ta {
			ao = i // columns i.. of a
		}
		for j := 0; j < n; j += gemmTileN {
			nj := min(gemmTileN, n-j)
			bo := j // columns j.. of op(b)
			if tb {
				bo = j * ldb // rows j.. of b
			}
			gemm(ta, tb, mi, nj, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}

func gemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if Is32[T]() {
		blas32.Implementation().Sgemm(trans(ta), trans(tb), m, n, k,
			float32(alpha), As32(a), lda, As32(b), ldb, float32(beta), As32(c), ldc)
		return
	}
	blas64.Implementation().Dgemm(trans(ta), trans(tb), m, n, k,
		float64(alpha), As64(a), lda, As64(b), ldb, float64(beta), As64(c), ldc)
}

// Axpy computes y += alpha·x. len(x) must equal len(y).
func Axpy[T Float](alpha T, x, y []T) {
	if len(x) != len(y) {
		panic("num: Axpy length mismatch")
	}
	if len(x) == 0 {
		return
	}
	if Is32[T]() {
		level1_32(len(x)).Saxpy(len(x), float32(alpha), As32(x), 1, As32(y), 1)
		return
	}
	level1_64(len(x)).Daxpy(len(x), float64(alpha), As64(x), 1, As64(y), 1)
}

// Scal computes x *= alpha.
func Scal[T Float](alpha T, x []T) {
	if len(x) == 0 {
		return
	}
	if alpha == 0 {
		clear(x) // BLAS scal by 0 would keep NaNs
		return
	}
	if Is32[T]() {
		level1_32(len(x)).Sscal(len(x), float32(alpha), As32(x), 1)
		return
	}
	level1_64(len(x)).Dscal(len(x), float64(alpha), As64(x), 1)
}

// Dot returns Σ x[i]·y[i].
func Dot[T Float](x, y []T) T {
	if len(x) != len(y) {
		panic("num: Dot length mismatch")
	}
	if len(x) == 0 {
		return 0
	}
	if Is32[T]() {
		return T(level1_32(len(x)).Sdot(len(x), As32(x), 1, As32(y), 1))
	}
	return T(level1_64(len(x)).Ddot(len(x), As64(x), 1, As64(y), 1))
}
