package num

import "unsafe"

// The packing of gemm.go: copies of blocks of op(a) and op(b) into the
// order the micro-kernels read them. Where the copy is a transpose, it runs
// on blocks of 8, 4 or 2 rows in registers (pack_amd64.s).

// packA packs op(a)[i0:i0+mc, p0:p0+kc] into dst as micro-panels of mr
// rows: panel q holds, for each p, the mr elements op(a)[i0+q·mr+r, p0+p],
// at dst[q·mr·kc + p·mr + r]; rows past mc are zeros.
func packA[T Float](ta bool, a []T, lda, i0, mc, p0, kc, mr int, dst []T) {
	for q := 0; q < mc; q += mr {
		mi := min(mr, mc-q)
		d := dst[q*kc : (q+mr)*kc]
		if ta {
			// op(a)[i, p] = a[p·lda + i]: the panel's column p is a run of a's row p.
			if mi == mr {
				stridedCopy(d, a[(p0)*lda+i0+q:], kc, mr, lda)
				continue
			}
			for p := 0; p < kc; p++ {
				row := a[(p0+p)*lda+i0+q:]
				dp := d[p*mr : p*mr+mr]
				copy(dp, row[:mi])
				clear(dp[mi:])
			}
			continue
		}
		// op(a)[i, p] = a[i·lda + p]: each of the mi rows is a run of a's row i.
		transposeRows(a[(i0+q)*lda+p0:], lda, mi, kc, d, mr)
		for r := mi; r < mr; r++ {
			for p := 0; p < kc; p++ {
				d[p*mr+r] = 0
			}
		}
	}
}

// packB packs op(b)[p0:p0+kc, j0:j0+nc] into dst as micro-panels of nr
// columns: panel q holds, for each p, the nr elements op(b)[p0+p, j0+q·nr+j],
// at dst[q·nr·kc + p·nr + j]; columns past nc are zeros.
func packB[T Float](tb bool, b []T, ldb, p0, kc, j0, nc, nr int, dst []T) {
	for q := 0; q < nc; q += nr {
		nj := min(nr, nc-q)
		d := dst[q*kc : (q+nr)*kc]
		if !tb {
			// op(b)[p, j] = b[p·ldb + j]: the panel's row p is a run of b's row p.
			if nj == nr {
				stridedCopy(d, b[p0*ldb+j0+q:], kc, nr, ldb)
				continue
			}
			for p := 0; p < kc; p++ {
				dp := d[p*nr : p*nr+nr]
				copy(dp, b[(p0+p)*ldb+j0+q:][:nj])
				clear(dp[nj:])
			}
			continue
		}
		// op(b)[p, j] = b[j·ldb + p]: each of the nj columns is a run of b's row j.
		transposeRows(b[(j0+q)*ldb+p0:], ldb, nj, kc, d, nr)
		for j := nj; j < nr; j++ {
			for p := 0; p < kc; p++ {
				d[p*nr+j] = 0
			}
		}
	}
}

// transposeRows writes dst[p·ldd + r] = src[r·lds + p] for r < rows and
// p < n: rows runs of src become n groups of rows elements in dst.
func transposeRows[T Float](src []T, lds, rows, n int, dst []T, ldd int) {
	if rows == 0 || n == 0 {
		return
	}
	// The assembly does not check bounds: these do, once, for all of it.
	_, _ = src[(rows-1)*lds+n-1], dst[(n-1)*ldd+rows-1]
	// The first nb columns go through the register transposes, 8, 4 or 2
	// rows at a time (float64: 4 or 2), so that a 6-row micro-panel is a
	// 4-row block and a 2-row one; the last columns and a last odd row are
	// copied one element at a time.
	vl := 4
	if Is32[T]() {
		vl = 8
	}
	nb := n &^ (vl - 1)
	r := 0
	for _, blk := range [...]int{8, 4, 2} {
		if blk == 8 && !Is32[T]() {
			continue
		}
		for ; r+blk <= rows && nb > 0; r += blk {
			transposeBlock(blk, &src[r*lds], lds, nb, &dst[r], ldd)
			for i := r; i < r+blk; i++ {
				for p, v := range src[i*lds+nb : i*lds+n] {
					dst[(nb+p)*ldd+i] = v
				}
			}
		}
	}
	for ; r < rows; r++ {
		for p, v := range src[r*lds : r*lds+n] {
			dst[p*ldd+r] = v
		}
	}
}

// transposeBlock runs the register transpose of blk rows (8, 4 or 2; 4 or
// 2 in float64) on nb columns, a multiple of the vector length.
func transposeBlock[T Float](blk int, src *T, lds, nb int, dst *T, ldd int) {
	if Is32[T]() {
		s, d := (*float32)(unsafe.Pointer(src)), (*float32)(unsafe.Pointer(dst))
		switch blk {
		case 8:
			transpose8x32(s, lds, nb, d, ldd)
		case 4:
			transpose4x32(s, lds, nb, d, ldd)
		default:
			transpose2x32(s, lds, nb, d, ldd)
		}
		return
	}
	s, d := (*float64)(unsafe.Pointer(src)), (*float64)(unsafe.Pointer(dst))
	if blk == 4 {
		transpose4x64(s, lds, nb, d, ldd)
	} else {
		transpose2x64(s, lds, nb, d, ldd)
	}
}

// stridedCopy copies rows runs of w elements, ld apart in src, to the start
// of dst one after the other: dst[p·w + j] = src[p·ld + j].
func stridedCopy[T Float](dst, src []T, rows, w, ld int) {
	if rows == 0 {
		return
	}
	// The assembly does not check bounds: these do, once, for all of it.
	_, _ = src[(rows-1)*ld+w-1], dst[rows*w-1]
	var z T
	size := int(unsafe.Sizeof(z))
	copyRows(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[0]), rows, w*size, ld*size)
}
