package num

import "unsafe"

// gemmBlockDot computes c = alpha·a·bᵀ + beta·c for row-major a (m×k) and
// b (n×k) — a dense layer's forward x·Wᵀ, W stored (out, in) — as m·n dot
// products over k, an mr×nr block of them at a time (4×6 with AVX-512, 4×3
// with AVX2: isa.bdot), vectorised along k, llm.c's matmul_forward in
// registers. Both operands are read where they lie: nothing is packed, so
// the workers of a data-parallel step share no packing of W and wait for
// nobody's panels.
//
// Each element is one dot product whose order depends only on k and the
// instruction set: per lane a sequence of FMAs over the first kv =
// k − k mod lanes elements, the lanes summed as a tree (the kernel), then
// the last k mod lanes products added one by one in Go. Which block
// computes an element, and how many rows or columns the product has, does
// not matter: a block that would overhang c is moved back to end at c's
// last row or column (it recomputes some elements, bit for bit as before,
// and keeps only the new ones), and a product with fewer than mr rows (nr
// columns) runs on a copy padded by repeating the last row. So a shard of
// a batch gets, row for row, the bits of the whole batch.
func gemmBlockDot[T Float](m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	bd := isa.bdot
	mr, nr := bd.mr, bd.nr
	lanes := vecLanes[T]()
	kv := k - k%lanes
	buf := getGemmBuf()
	defer putGemmBuf(buf)
	ba := asT[T](buf.a)
	out := ba[:mr*nr] // the block's dot products over the first kv elements
	if m < mr {
		a, lda = padRows(a, lda, m, k, mr, ba[mr*nr:])
	}
	if n < nr {
		b, ldb = padRows(b, ldb, n, k, nr, asT[T](buf.b))
	}
	for j0 := 0; j0 < n; j0 += nr {
		j := min(j0, max(n, nr)-nr) // the block's first column
		for i0 := 0; i0 < m; i0 += mr {
			i := min(i0, max(m, mr)-mr) // the block's first row
			if kv > 0 {
				blockDotKernel(bd, kv/lanes, &a[i*lda], lda, &b[j*ldb], ldb, &out[0])
			}
			if kv == k && alpha == 1 && beta == 1 {
				// The forward's case (z = x·Wᵀ added to the bias): c + s,
				// the bits of the general loop below at a fraction of its
				// cost, which a 4×6 block over k = 784 measured at a fifth
				// of the kernel's.
				nq := min(nr, n-j) // fewer than nr where b was padded
				for r := i0 - i; r < mr && i+r < m; r++ {
					cr, or := c[(i+r)*ldc+j:][:nq], out[r*nr:][:nq]
					for q := j0 - j; q < nq; q++ {
						cr[q] += or[q]
					}
				}
				continue
			}
			for r := i0 - i; r < mr && i+r < m; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				for q := j0 - j; q < nr && j+q < n; q++ {
					br := b[(j+q)*ldb : (j+q)*ldb+k]
					var s T
					if kv > 0 {
						s = out[r*nr+q]
					}
					for p := kv; p < k; p++ {
						s += ar[p] * br[p]
					}
					x := &c[(i+r)*ldc+j+q]
					if beta == 0 {
						*x = alpha * s
					} else {
						*x = alpha*s + beta**x
					}
				}
			}
		}
	}
}

// padRows copies the rows×k matrix x (leading dimension ld) into dst as
// to rows, repeating its last row, and returns the copy and its leading
// dimension k.
func padRows[T Float](x []T, ld, rows, k, to int, dst []T) ([]T, int) {
	for r := range to {
		copy(dst[r*k:(r+1)*k], x[min(r, rows-1)*ld:][:k])
	}
	return dst[:to*k], k
}

// blockDot is one instruction set's block dot-product kernels: mr rows of
// a by nr rows of b.
type blockDot struct {
	mr, nr int
	s      func(n int, a *float32, lda int, b *float32, ldb int, out *float32)
	d      func(n int, a *float64, lda int, b *float64, ldb int, out *float64)
}

// blockDotKernel runs bd's kernel for T on n vectors of each row.
func blockDotKernel[T Float](bd blockDot, n int, a *T, lda int, b *T, ldb int, out *T) {
	if Is32[T]() {
		bd.s(n, (*float32)(unsafe.Pointer(a)), lda, (*float32)(unsafe.Pointer(b)), ldb, (*float32)(unsafe.Pointer(out)))
		return
	}
	bd.d(n, (*float64)(unsafe.Pointer(a)), lda, (*float64)(unsafe.Pointer(b)), ldb, (*float64)(unsafe.Pointer(out)))
}
