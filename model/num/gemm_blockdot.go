package num

import "unsafe"

// blockDotBlocks is the block gemmBlockDot computes n columns in: the
// instruction set's mr×nr blocks, or its blocks that store into c
// (isa.bdotC, direct) where those compute fewer columns. It depends on n
// alone, so every row of a product gets the same block's bits.
func blockDotBlocks(n int) (mr, nr int, direct bool) {
	bd, bc := isa.bdot, isa.bdotC
	cover := func(nr int) int { return max(n+nr-1, nr) / nr * nr } // columns computed
	if bc.mr > 0 && cover(bc.nr) < cover(bd.nr) {
		return bc.mr, bc.nr, true
	}
	return bd.mr, bd.nr, false
}

// gemmBlockDot computes c = alpha·a·bᵀ + beta·c for row-major a (m×k) and
// b (n×k) — a dense layer's forward x·Wᵀ, W stored (out, in), or a
// convolution's weight gradient dZ·colsᵀ — as m·n dot products over k, an
// mr×nr block of them at a time (4×6 with AVX-512, 4×3 with AVX2:
// isa.bdot), vectorised along k, llm.c's matmul_forward in registers. Both
// operands are read where they lie: nothing is packed, so the workers of a
// data-parallel step share no packing of W and wait for nobody's panels.
//
// Each element is one dot product whose order depends only on k and the
// instruction set: per lane a sequence of FMAs over the vectors of k, the
// last k mod lanes elements as one more vector padded with zeros (copied
// per block, so that no load reaches past a row), then the lanes summed as
// a tree, all in the kernel. Which block computes an element, and how many
// rows or columns the product has, does not matter: a block that would
// overhang c is moved back to end at c's last row or column (it recomputes
// some elements, bit for bit as before, and keeps only the new ones), a
// product with fewer than mr rows runs each row as a block of copies of
// itself, and one with fewer than nr columns on a copy of b padded by
// repeating its last row. So a shard of a batch gets, row for row, the bits
// of the whole batch.
//
// Where isa has them (AVX-512), blocks of isa.bdotC.nr columns (4×5) take
// the products whose columns they pad less (a 10-class classifier's x·Wᵀ:
// 10 columns, not 12; a 3×3 convolution's 9): their kernel stores into c
// itself, rounding as the loops below do, and without a k tail runs all
// the blocks of a column block in one call and needs no packing space.
// Both loops, and the call per block, took a third of the classifier's
// forward: 64×10×128 ran 1,606 → 936 ns (float32; float64 2,315 → 1,578),
// 16×10×128 447 → 252 (604 → 400; CPU time, Zen 5).
func gemmBlockDot[T Float](m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	bd, bc := isa.bdot, isa.bdotC
	mr, nr, direct := blockDotBlocks(n)
	if m < mr && lda != 0 {
		// Fewer rows than a block: each row alone, as mr copies of itself
		// (lda 0), read in place whatever k, with the bits any block gives it.
		for r := range m {
			gemmBlockDot(1, n, k, alpha, a[r*lda:], 0, b, ldb, beta, c[r*ldc:], ldc)
		}
		return
	}
	lanes := vecLanes[T]()
	kv, kt := k-k%lanes, k%lanes
	load := 0 // for bdotC's kernels: whether c is read
	if beta != 0 {
		load = 1
	}
	if direct && kt == 0 && n >= nr {
		// No tails to copy and no b to pad: no packing space either.
		for j0 := 0; j0 < n; j0 += nr {
			j := min(j0, n-nr)
			blockDotCRows(bc, m, kv/lanes, a, lda, b[j*ldb:], ldb, c[j:], ldc, (1<<nr-1)&^(1<<(j0-j)-1), load, alpha, beta)
		}
		return
	}
	buf := getGemmBuf()
	defer putGemmBuf(buf)
	ba := asT[T](buf.a)
	out := ba[:mr*nr] // the block's dot products
	// The rows' last kt elements, zero-padded to a vector, for the kernel's
	// tail step: mr rows of a, then nr of b, a vector apart.
	tails := ba[mr*nr : mr*nr+(mr+nr)*lanes]
	clear(tails)
	at, bt := tails[:mr*lanes], tails[mr*lanes:]
	if n < nr {
		// nr·k fits buf.b: abtPath sends fewer columns than a block here
		// only for k < 256.
		b, ldb = padRows(b, ldb, n, k, nr, asT[T](buf.b))
	}
	for j0 := 0; j0 < n; j0 += nr {
		j := min(j0, max(n, nr)-nr)             // the block's first column
		nq := min(nr, n-j)                      // fewer than nr where b was padded
		cmask := (1<<nq - 1) &^ (1<<(j0-j) - 1) // the columns not computed before: bdotC's
		if kt > 0 {
			for q := range nr {
				copy(bt[q*lanes:q*lanes+kt], b[(j+q)*ldb+kv:][:kt])
			}
		}
		if direct && kt == 0 {
			blockDotCRows(bc, m, kv/lanes, a, lda, b[j*ldb:], ldb, c[j:], ldc, cmask, load, alpha, beta)
			continue
		}
		for i0 := 0; i0 < m; i0 += mr {
			i := min(i0, max(m, mr)-mr) // the block's first row
			if kt > 0 {
				for r := range mr {
					copy(at[r*lanes:r*lanes+kt], a[(i+r)*lda+kv:][:kt])
				}
			}
			if direct {
				blockDotCKernel(bc, kv/lanes, &a[i*lda], lda, &b[j*ldb], ldb, at, bt, kt > 0,
					&c[i*ldc+j], ldc, i0-i, min(mr, m-i), cmask, load, alpha, beta, 1)
				continue
			}
			blockDotKernel(bd, kv/lanes, &a[i*lda], lda, &b[j*ldb], ldb, &out[0], at, bt, kt > 0)
			if alpha == 1 && beta == 1 {
				// The forward's case (z = x·Wᵀ added to the bias) and a
				// weight gradient's across groups: c + s, the bits of the
				// general loop below at a fraction of its cost.
				for r := i0 - i; r < mr && i+r < m; r++ {
					cr, or := c[(i+r)*ldc+j:][:nq], out[r*nr:][:nq]
					for q := j0 - j; q < nq; q++ {
						cr[q] += or[q]
					}
				}
				continue
			}
			for r := i0 - i; r < mr && i+r < m; r++ {
				cr, or := c[(i+r)*ldc+j:][:nq], out[r*nr:][:nq]
				for q := j0 - j; q < nq; q++ {
					if beta == 0 {
						cr[q] = alpha * or[q]
					} else {
						// Each product rounded, as bdotC's kernels round
						// them: the conversions keep the compiler from
						// fusing them (it does from GOAMD64=v3).
						cr[q] = T(alpha*or[q]) + T(beta*cr[q])
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
	s      func(n int, a *float32, lda int, b *float32, ldb int, out *float32, at, bt *float32)
	d      func(n int, a *float64, lda int, b *float64, ldb int, out *float64, at, bt *float64)
}

// blockDotKernel runs bd's kernel for T on n vectors of each row and,
// if tail, one more on the padded copies at (mr rows) and bt (nr rows).
func blockDotKernel[T Float](bd blockDot, n int, a *T, lda int, b *T, ldb int, out *T, at, bt []T, tail bool) {
	var pa, pb unsafe.Pointer
	if tail {
		pa, pb = unsafe.Pointer(&at[0]), unsafe.Pointer(&bt[0])
	}
	if Is32[T]() {
		bd.s(n, (*float32)(unsafe.Pointer(a)), lda, (*float32)(unsafe.Pointer(b)), ldb, (*float32)(unsafe.Pointer(out)), (*float32)(pa), (*float32)(pb))
		return
	}
	bd.d(n, (*float64)(unsafe.Pointer(a)), lda, (*float64)(unsafe.Pointer(b)), ldb, (*float64)(unsafe.Pointer(out)), (*float64)(pa), (*float64)(pb))
}

// blockDotC is one instruction set's block dot-product kernels that store
// into c: mr rows of a by nr rows of b, c = alpha·s + beta·c (c not read
// if load is 0) on the block's rows r0…rows-1 and the columns set in cmask.
type blockDotC struct {
	mr, nr int
	s      func(n int, a *float32, lda int, b *float32, ldb int, at, bt *float32, c *float32, ldc, r0, rows, cmask, load int, alpha, beta float32, blocks int)
	d      func(n int, a *float64, lda int, b *float64, ldb int, at, bt *float64, c *float64, ldc, r0, rows, cmask, load int, alpha, beta float64, blocks int)
}

// blockDotCRows runs bc's kernel on all m rows of a (n vectors each, no
// tail) against the nr rows of b, into the columns of c set in cmask: the
// whole blocks of rows in one call, then the last one moved back to end
// at row m (or, for fewer rows than a block, the rows there are).
func blockDotCRows[T Float](bc blockDotC, m, n int, a []T, lda int, b []T, ldb int, c []T, ldc, cmask, load int, alpha, beta T) {
	mr := bc.mr
	full := m / mr
	if full > 0 {
		blockDotCKernel(bc, n, &a[0], lda, &b[0], ldb, nil, nil, false, &c[0], ldc, 0, mr, cmask, load, alpha, beta, full)
	}
	if full*mr < m {
		i := max(m, mr) - mr
		blockDotCKernel(bc, n, &a[i*lda], lda, &b[0], ldb, nil, nil, false, &c[i*ldc], ldc, full*mr-i, min(mr, m-i), cmask, load, alpha, beta, 1)
	}
}

// blockDotCKernel runs bc's kernel for T, as blockDotKernel runs bd's.
func blockDotCKernel[T Float](bc blockDotC, n int, a *T, lda int, b *T, ldb int, at, bt []T, tail bool, c *T, ldc, r0, rows, cmask, load int, alpha, beta T, blocks int) {
	var pa, pb unsafe.Pointer
	if tail {
		pa, pb = unsafe.Pointer(&at[0]), unsafe.Pointer(&bt[0])
	}
	if Is32[T]() {
		bc.s(n, (*float32)(unsafe.Pointer(a)), lda, (*float32)(unsafe.Pointer(b)), ldb, (*float32)(pa), (*float32)(pb),
			(*float32)(unsafe.Pointer(c)), ldc, r0, rows, cmask, load, float32(alpha), float32(beta), blocks)
		return
	}
	bc.d(n, (*float64)(unsafe.Pointer(a)), lda, (*float64)(unsafe.Pointer(b)), ldb, (*float64)(pa), (*float64)(pb),
		(*float64)(unsafe.Pointer(c)), ldc, r0, rows, cmask, load, float64(alpha), float64(beta), blocks)
}
