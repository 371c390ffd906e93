package num

import (
	"fmt"
	"unsafe"
)

// Matrix is a row-major Rows×Cols view of Data. It owns nothing: several
// matrices may view one buffer (a layer's weights are a view into the
// model's flat parameter buffer).
type Matrix[T Float] struct {
	Rows, Cols int
	Data       []T // len(Data) >= Rows*Cols; element (i, j) is Data[i*Cols+j]
}

// View returns the r×c matrix over the first r*c elements of data.
// It panics if data is too short.
func View[T Float](r, c int, data []T) Matrix[T] {
	if r < 0 || c < 0 || len(data) < r*c {
		panic(fmt.Sprintf("num: View %dx%d over %d elements", r, c, len(data)))
	}
	return Matrix[T]{Rows: r, Cols: c, Data: data[:r*c]}
}

// Row returns row i as a slice of length Cols.
func (m Matrix[T]) Row(i int) []T { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.Cols+j] }

// MatMul computes c = alpha·op(a)·op(b) + beta·c, where op(x) is x or xᵀ as
// ta and tb say. Shapes: op(a) is (m, k), op(b) is (k, n), c is (m, n).
func MatMul[T Float](ta, tb bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
	m, k := a.Rows, a.Cols
	if ta {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tb {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("num: MatMul shapes op(a) %dx%d, op(b) %dx%d, c %dx%d", m, k, kb, n, c.Rows, c.Cols))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		Scal(beta, c.Data[:m*n])
		return
	}
	Gemm(ta, tb, m, n, k, alpha, a.Data, a.Cols, b.Data, b.Cols, beta, c.Data, c.Cols)
}

// AddColSums adds the column sums of m to dst: dst[j] += Σ_i m[i, j]. It is
// the bias gradient of a dense layer.
func AddColSums[T Float](dst []T, m Matrix[T]) {
	if len(dst) != m.Cols {
		panic(fmt.Sprintf("num: AddColSums: %d columns, destination of %d", m.Cols, len(dst)))
	}
	for i := 0; i < m.Rows; i++ {
		Axpy(1, m.Row(i), dst)
	}
}

// SumSquares returns Σ x[i]² accumulated in float64.
func SumSquares[T Float](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// Align is the byte alignment of every buffer Alloc returns.
const Align = 64

// Alloc returns a zeroed slice of n elements whose first element is
// Align-byte aligned. Every numeric buffer in ptrain comes from here: SIMD
// BLAS kernels (OpenBLAS's among them) can choose their code path
// — and so their rounding — by the alignment of the data, so a buffer
// that lands at a different address modulo 64 in another run would give a
// different last bit. With aligned bases, every view into a buffer has the
// same alignment in every run, and results repeat bit for bit.
func Alloc[T Float](n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	s := make([]T, n+Align/size)
	off := (Align - int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))%Align)) % Align / size
	return s[off : off+n : off+n]
}
