package model

import (
	"unsafe"

	"github.com/ptrain/ptrain/model/num"
)

// im2col's and col2im's fast paths (conv.go): a plane per call instead of
// a call or a loop per output row, on ResNet-8's 28×28, 14×14 and 7×7
// planes where a row is 7 to 28 values. Every path moves the values
// unchanged (copies, ANDs, shuffles, and the same additions in the same
// order, with at most +0 added where nothing was, which leaves a gradient's
// bits as they were: see stride2AddPlane), so the results are the bits of
// the row-by-row loops they replace; im2col_fast_test.go checks them
// against the definition. im2col_planes.go runs the float32 kernels over
// all the samples of a group at once.

// The edges of a "same" convolution at stride 1 (Wo = W, padding P on
// each side). im2col's row (ky, kx) of a sample is its plane shifted by
// (ky−P)·W + kx−P, one contiguous copy, except that where the shift wraps
// around a row's edge — columns [0, lo) and [hi, W) of every row (span(kx))
// — the entry lies in the padding and must be 0. Zeroing those one or two
// pixels per row after the copy cost as much as the copy itself (a loop per
// row; a tenth of a ResNet-8 step with col2im's twin, most of it on 14×14
// and 7×7 planes where each plane is a few hundred values): instead the
// copy ANDs every value with a mask that is all ones inside the span and
// all zeros on the edges, and col2im adds the masked gradient. A value
// ANDed with ones keeps its bits and with zeros becomes +0, which is what
// the copy and the zeroing wrote, so the results are the same bits.

// edgeMasks returns, for each kx, the mask of a plane of Ho·W pixels for
// im2col's rows (·, ·, kx): all ones where the pixel's column lies in
// span(kx), zero elsewhere; nil for a kx whose span is the whole row (no
// edge to clear) and for a convolution that is not "same" at stride 1.
func (l *conv[T]) edgeMasks() [][]T {
	if l.stride != 1 || l.wo != l.w {
		return nil
	}
	ones := allOnes[T]()
	masks := make([][]T, l.k)
	for kx := range masks {
		lo, hi := l.span(kx)
		if lo == 0 && hi == l.w {
			continue
		}
		m := num.Alloc[T](l.ho * l.w)
		for y := 0; y < l.ho; y++ {
			for x := lo; x < hi; x++ {
				m[y*l.w+x] = ones
			}
		}
		masks[kx] = m
	}
	return masks
}

// allOnes is the T whose bits are all set (a NaN; only ever ANDed).
func allOnes[T num.Float]() T {
	var v T
	if num.Is32[T]() {
		*(*uint32)(unsafe.Pointer(&v)) = ^uint32(0)
	} else {
		*(*uint64)(unsafe.Pointer(&v)) = ^uint64(0)
	}
	return v
}

// maskedCopy sets dst[i] = src[i] & mask[i] (bitwise): src[i] where the
// mask is all ones, +0 where it is zero; 8 lanes at a time in assembly
// for float32 where AVX2 is there.
func maskedCopy[T num.Float](dst, src, mask []T) {
	src, mask = src[:len(dst)], mask[:len(dst)]
	i := 0
	if n := len(dst) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		andCopy32AVX(&num.As32(dst)[0], &num.As32(src)[0], &num.As32(mask)[0], n)
		i = n
	}
	for ; i < len(dst); i++ {
		dst[i] = andBits(src[i], mask[i])
	}
}

// maskedAdd adds src[i] & mask[i] into dst[i]: col2im's adjoint of
// maskedCopy (adding +0 leaves a gradient as it was).
func maskedAdd[T num.Float](dst, src, mask []T) {
	src, mask = src[:len(dst)], mask[:len(dst)]
	i := 0
	if n := len(dst) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		andAdd32AVX(&num.As32(dst)[0], &num.As32(src)[0], &num.As32(mask)[0], n)
		i = n
	}
	for ; i < len(dst); i++ {
		dst[i] += andBits(src[i], mask[i])
	}
}

// andBits is v & m, bit by bit.
func andBits[T num.Float](v, m T) T {
	if num.Is32[T]() {
		r := *(*uint32)(unsafe.Pointer(&v)) & *(*uint32)(unsafe.Pointer(&m))
		return *(*T)(unsafe.Pointer(&r))
	}
	r := *(*uint64)(unsafe.Pointer(&v)) & *(*uint64)(unsafe.Pointer(&m))
	return *(*T)(unsafe.Pointer(&r))
}

// The strided rows. im2col's other path — strides above 1 and paddings
// that are not "same" — copied each output row on its own (its span by a
// strided copy, the padding around it zeroed): on ResNet-8's 14×14 and
// 7×7 outputs that is a call and a few loops per 7 or 14 values, a tenth of
// the step. Where AVX2 is there the float32 rows instead go a plane at a
// time: at stride 2 by shuffles (stride2Plane), otherwise by one gather
// per 8 outputs from a table of where each output pixel reads:
// gathers[ky·K+kx][p] is the offset in the input plane that output pixel p
// of row (·, ky, kx) copies, or −1 where it lies in the padding (written
// as +0, as the copies wrote it). col2im's adjoint adds through the same
// table, or at stride 2 by the shuffles' reverse (stride2AddPlane).

// gatherTables returns the tables of the gather path, nil for the wide and
// "same" layouts, which copy whole planes.
func (l *conv[T]) gatherTables() [][]int32 {
	if l.wide() || l.stride == 1 && l.wo == l.w {
		return nil
	}
	t := make([][]int32, l.k*l.k)
	for ky := 0; ky < l.k; ky++ {
		for kx := 0; kx < l.k; kx++ {
			g := make([]int32, l.hw)
			for oy := 0; oy < l.ho; oy++ {
				for ox := 0; ox < l.wo; ox++ {
					iy, ix := oy*l.stride+ky-l.pad, ox*l.stride+kx-l.pad
					g[oy*l.wo+ox] = -1
					if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
						g[oy*l.wo+ox] = int32(iy*l.w + ix)
					}
				}
			}
			t[ky*l.k+kx] = g
		}
	}
	return t
}

// gatherPlane sets out[p] = plane[idx[p]], or +0 where idx[p] is −1, for
// float32 where AVX2 is there (the caller checks): 8 at a time in
// assembly, the last few here.
func gatherPlane(out, plane []float32, idx []int32) {
	out = out[:len(idx)]
	i := len(idx) &^ 7
	if i > 0 {
		gatherPlane32AVX(&out[0], &plane[0], &idx[0], i)
	}
	for ; i < len(idx); i++ {
		out[i] = 0
		if j := idx[i]; j >= 0 {
			out[i] = plane[j]
		}
	}
}

// scatterAdd adds in[p] into plane[idx[p]] where idx[p] is not −1: the
// adjoint of gatherPlane, col2im's rows of a plane in one loop instead of
// a strided sum per row (no pixel appears twice in one table, so each
// pixel gets the additions in the order of the rows' sums before).
func scatterAdd[T num.Float](plane, in []T, idx []int32) {
	in = in[:len(idx)]
	for p, j := range idx {
		if j >= 0 {
			plane[j] += in[p]
		}
	}
}

// stride2Rows returns the output rows [y0, y1) of tap (ky, kx) whose
// input rows lie inside the image, and whether the stride-2 kernels take
// the tap, whose span is [lo, hi): they store whole vectors of 8 from
// column lo on, which must end within the next output row, and load whole
// vectors of 16 from the span's first input pixel on, which must end
// within the two input rows after its row; and they need two rows or more.
func (l *conv[T]) stride2Rows(ky, kx, lo, hi int) (y0, y1 int, ok bool) {
	vecs := (hi - lo + 7) / 8
	y0, y1 = ceilDiv(l.pad-ky, 2), min(l.ho, ceilDiv(l.h+l.pad-ky, 2))
	ok = hi > lo && y1-y0 >= 2 && lo+8*vecs <= 2*l.wo && 2*lo+kx-l.pad+16*vecs <= 3*l.w
	return y0, y1, ok
}

// stride2Plane is im2col's row (ky, kx) of one sample at stride 2 in
// float32 with AVX2, where the gathers cost most: each output row's span
// [lo, hi) is every other pixel of an input row, 16 loaded and 8 kept by a
// shuffle, a row after another in one assembly call (the last row here).
// It reports false, having written nothing, for the taps the kernel does
// not take (stride2Rows): its stores past hi run into the next output row,
// written after it, and its loads stay inside the plane.
func (l *conv[T]) stride2Plane(plane, out []float32, ky, kx, lo, hi int) bool {
	w, wo, pad, cnt := l.w, l.wo, l.pad, hi-lo
	y0, y1, ok := l.stride2Rows(ky, kx, lo, hi)
	if !ok {
		return false
	}
	// Rows [y0, y1−1): input row 2·oy+ky−P, from pixel 2·lo+kx−P on. The
	// loads of the last of them end in the two input rows after it, which
	// the last output row's input row (≤ H−1) bounds.
	stride2Planes32AVX(&out[y0*wo], &plane[(2*y0+ky-pad)*w+2*lo+kx-pad], 1, y1-1-y0, wo, lo, cnt, 2*w, 0, 0)
	last := out[(y1-1)*wo : y1*wo]
	iy := 2*(y1-1) + ky - pad
	clear(last[:lo])
	clear(last[hi:])
	src := plane[iy*w+2*lo+kx-pad:]
	for i := range last[lo:hi] {
		last[lo+i] = src[2*i]
	}
	clear(out[:y0*wo])
	clear(out[y1*wo:])
	return true
}

// stride2AddPlane is col2im's adjoint of stride2Plane: in[oy·Wo + i] for i
// in [lo, hi) is added into every other pixel of input row 2·oy+ky−P from
// 2·lo+kx−P on, a row after another in one assembly call (the last row
// here). The kernel adds 16 pixels at a time, +0 into those between and
// after the span: a gradient is never −0 (it is summed from a cleared
// +0; see col2im), so those keep their bits. It reports false, having added nothing,
// where stride2Plane does.
func (l *conv[T]) stride2AddPlane(plane, in []float32, ky, kx, lo, hi int) bool {
	w, wo, pad, cnt := l.w, l.wo, l.pad, hi-lo
	y0, y1, ok := l.stride2Rows(ky, kx, lo, hi)
	if !ok {
		return false
	}
	stride2AddPlanes32AVX(&plane[(2*y0+ky-pad)*w+2*lo+kx-pad], &in[y0*wo+lo], 1, y1-1-y0, wo, cnt, 2*w, 0, 0)
	iy := 2*(y1-1) + ky - pad
	dst := plane[iy*w+2*lo+kx-pad:]
	for i, v := range in[(y1-1)*wo+lo : (y1-1)*wo+hi] {
		dst[2*i] += v
	}
	return true
}
