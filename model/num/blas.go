package num

import (
	"fmt"
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
// each phase hand-off by 100–400 µs. Long vectors (the all-reduce,
// optim.Optimizer.Step over all parameters) take few calls and gain from
// OpenBLAS's wider kernels; the trainer's update never passes one (it goes
// in blocks of 2,048, parallel/update.go), so its roundings do not
// depend on the build's BLAS.
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
// With beta = 0, c is written without being read: a NaN in c does not
// leak into the result. With alpha = 0 or k = 0, a and b are not read.
// It panics with a "num: ..." message if a slice is too short for its
// shape and leading dimension.
//
// Which code computes the product is decided here, and only here:
//   - the default build on a CPU with AVX-512 or AVX2+FMA: ptrain's packed
//     GEMM (gemm.go) on the micro-kernels of gemm_amd64.s;
//   - -tags openblas: the same kernels, and OpenBLAS only on CPUs without
//     them (backend_openblas.go says why it gets no shape);
//   - otherwise (purego, other architectures): gonum's GEMM on tiles of at
//     most gemmTileM×gemmTileN, which gonum computes with its serial
//     kernel (it goes parallel only from 4 blocks of 64×64 in m×n):
//     ptrain's parallelism is across workers, and gonum's own goroutines
//     would allocate on every call and compete with them.
func Gemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(ta, tb, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		for i := 0; i < m; i++ {
			Scal(beta, c[i*ldc:i*ldc+n])
		}
		return
	}
	if isa != nil {
		if !ta && tb {
			switch abtPath(n, k) {
			case pathDot:
				gemmDot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				return
			case pathBlockDot:
				gemmBlockDot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				return
			}
		}
		gemmPacked(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
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

// checkGemm panics unless a, b and c hold the matrices their shapes and
// leading dimensions say: the assembly kernels do not check bounds.
func checkGemm(ta, tb bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k // a as stored
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	need := func(name string, rows, cols, ld, l int) {
		if rows < 0 || cols < 0 || ld < max(1, cols) {
			panic(fmt.Sprintf("num: Gemm: %s is %dx%d with leading dimension %d", name, rows, cols, ld))
		}
		if rows > 0 && cols > 0 && l < (rows-1)*ld+cols {
			panic(fmt.Sprintf("num: Gemm: %s is %dx%d with leading dimension %d, needs %d elements, has %d", name, rows, cols, ld, (rows-1)*ld+cols, l))
		}
	}
	need("a", ar, ac, lda, la)
	need("b", br, bc, ldb, lb)
	need("c", m, n, ldc, lc)
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

// Axpy computes y += alpha·x. len(x) must equal len(y). With alpha = 1 it
// is y[i] + x[i] exactly, whichever kernel runs it (add.go).
func Axpy[T Float](alpha T, x, y []T) {
	if len(x) != len(y) {
		panic("num: Axpy length mismatch")
	}
	if len(x) == 0 {
		return
	}
	if alpha == 1 && addAVX(x, y) {
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
