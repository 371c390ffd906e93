package model

import "github.com/ptrain/ptrain/model/num"

// im2col's and col2im's rows for all the samples of a group at once,
// float32 with AVX2: a row (c, ky, kx) of every sample in one kernel call
// instead of a call per sample's plane. On ResNet-8's 14×14 and 7×7 planes
// a sample's row is 196 or 49 values, and the work around each copy — the
// row's range inside the image, clearing the rows outside it, the copy's
// call and its scalar tail — cost as much as the copy (im2col of the
// 64-channel 7×7 layer: 12 µs a sample, 9 GB/s).
//
// "Same" convolutions at stride 1 (samePlanes, sameAddPlanes32): im2col's
// kernel (maskedPlanes32AVX) copies a whole plane under a mask per tap
// (tapMasks): all ones where the tap's input pixel (y+ky−P, x+kx−P) lies in
// the image, zero where it lies in the padding, so the rows above and
// below the image and the columns wrapped around a row's edge come out +0
// in the same pass, the bits samePlane writes. The source is read only
// under the mask, so the shifted plane may start before the input or end
// past it, by up to P·W+P values. A masked lane of VMASKMOVPS does not
// fault on Intel's processors (their manual says so) nor on the AMD ones
// tested, but AMD's manual leaves it to the implementation: so the kernel
// runs only on the samples whose shifted plane lies inside x, whatever
// their masks (samePlanes: on planes larger than the shift, all but the
// first or the last), and addresses nothing outside it. col2im's adjoint
// (andAddPlanes32AVX) adds each sample's range inside the image only, and
// stays inside each plane.
//
// Stride 2 (stride2Planes, stride2AddPlanes): stride2Plane's and
// stride2AddPlane's kernels run over every row of all the samples but the
// last, so each of those samples' last row loads, stores or adds +0 past
// its plane into the next one's, inside the group's x, cols and dx; the
// last sample goes through stride2Plane or stride2AddPlane, which stay
// inside its plane.

// tapMasks returns the masks of a "same" convolution at stride 1 in
// float32, per tap ky·K + kx, each of Ho·W pixels; nil otherwise.
func (l *conv[T]) tapMasks() [][]float32 {
	if l.edge == nil || !num.Is32[T]() {
		return nil
	}
	ones := allOnes[float32]()
	masks := make([][]float32, l.k*l.k)
	for ky := range l.k {
		for kx := range l.k {
			m := make([]float32, l.ho*l.w)
			lo, hi := l.span(kx)
			for y := range l.ho {
				if iy := y + ky - l.pad; iy < 0 || iy >= l.h {
					continue
				}
				for x := lo; x < hi; x++ {
					m[y*l.w+x] = ones
				}
			}
			masks[ky*l.k+kx] = m
		}
	}
	return masks
}

// samePlanes writes im2col's row (c, ky, kx) of the n samples of x into
// row (n planes of Ho·W values, one per sample): samePlane's bits for
// each, the samples [p0, p1) of samePlanesInside in one kernel call, the
// others (the first or the last, whose shifted plane may start before x or
// end past it, or more on planes smaller than the shift) by samePlane, so
// that nothing outside x is addressed (see the comment at the top).
func (l *conv[T]) samePlanes(x, row []T, c, ky, kx, n int) {
	hw, lds := l.h*l.w, l.c*l.h*l.w
	m := l.taps[ky*l.k+kx]
	off := (ky-l.pad)*l.w + kx - l.pad
	p0, p1 := l.samePlanesInside(c, off, n)
	for p := range n {
		if p < p0 || p >= p1 {
			l.samePlane(x[(p*l.c+c)*hw:(p*l.c+c+1)*hw], row[p*l.hwc:(p+1)*l.hwc], ky, kx)
		}
	}
	if p0 < p1 {
		x32, row32 := num.As32(x), num.As32(row)
		_, _ = row32[p1*l.hwc-1], x32[((p1-1)*l.c+c)*hw+hw-1] // the kernel's last plane lies inside both
		maskedPlanes32AVX(&row32[p0*l.hwc], &x32[p0*lds+c*hw], off, &m[0], len(m), p1-p0, l.hwc, lds)
	}
}

// samePlanesInside returns the samples [p0, p1) of a group of n whose
// vectors in maskedPlanes32AVX, src[p·C·H·W + c·H·W + off + i] for
// i < ⌊H·W/8⌋·8, lie inside the group's x.
func (l *conv[T]) samePlanesInside(c, off, n int) (p0, p1 int) {
	hw, lds := l.h*l.w, l.c*l.h*l.w
	base, end := c*hw+off, n*lds-(hw&^7) // sample p's vectors start at base + p·lds and must end by n·lds
	p0 = min(n, ceilDiv(-base, lds))
	if end >= base {
		p1 = min(n, (end-base)/lds+1)
	}
	return p0, max(p0, p1)
}

// sameAddPlanes32 adds col2im's row (c, ky, kx) of the n samples (row, n
// planes of Ho·W values) into their input gradients dx: col2im's "same"
// path for each sample, which adds the masked row where the tap's pixel
// lies in the image, in one call. Rows [y0, y1) of the output read rows
// inside the image, the same for every sample; within them the tap's mask
// is edgeMasks' (the columns wrapped around a row's edge are zero).
func (l *conv[T]) sameAddPlanes32(row, dx []float32, c, ky, kx, n int) {
	hw, w := l.h*l.w, l.w
	off := (ky-l.pad)*w + kx - l.pad
	y0, y1 := max(0, l.pad-ky), min(l.ho, l.h+l.pad-ky)
	if y1 <= y0 {
		return
	}
	a, b := y0*w+max(0, -off-y0*w), min(y1*w, hw-off)
	if a >= b {
		return
	}
	_, _ = row[(n-1)*l.hwc+b-1], dx[((n-1)*l.c+c)*hw+b-1+off] // the kernel's last plane lies inside both
	m := l.taps[ky*l.k+kx]
	andAddPlanes32AVX(&dx[c*hw+a+off], &row[a], &m[a], b-a, n, l.c*hw, l.hwc)
}

// stride2Planes is stride2Plane for the n samples of a group: every row of
// the first n−1 samples in one kernel call (stride2Planes32AVX), the last
// sample by stride2Plane. A last row's loads run up to two rows past its
// plane, into the next channel's or sample's — inside x for all but the
// last sample, which stride2Plane finishes in Go — and its stores up to 7
// values into the next sample's rows, which are written after it (the
// rows outside the image are cleared once the kernel is done). It reports
// false, having written nothing, where stride2Plane does.
func (l *conv[T]) stride2Planes(x, row []float32, c, ky, kx, lo, hi, n int) bool {
	w, wo, pad, hw := l.w, l.wo, l.pad, l.h*l.w
	y0, y1, ok := l.stride2Rows(ky, kx, lo, hi)
	if !ok {
		return false
	}
	if n > 1 {
		src := (2*y0+ky-pad)*w + 2*lo + kx - pad
		_, _ = row[(n-1)*l.hwc-1], x[((n-1)*l.c+c)*hw+hw-1] // the kernel's planes, and the reads past the last of them, lie inside both
		stride2Planes32AVX(&row[y0*wo], &x[c*hw+src], n-1, y1-y0, wo, lo, hi-lo, 2*w, l.hwc, l.c*hw)
		for s := range n - 1 {
			out := row[s*l.hwc : (s+1)*l.hwc]
			clear(out[:y0*wo])
			clear(out[y1*wo:])
		}
	}
	s := n - 1
	return l.stride2Plane(x[(s*l.c+c)*hw:(s*l.c+c+1)*hw], row[s*l.hwc:(s+1)*l.hwc], ky, kx, lo, hi)
}

// stride2AddPlanes is stride2AddPlane for the n samples of a group, as
// stride2Planes is stride2Plane's: every row of the first n−1 samples in
// one kernel call, whose +0 past a last row's span lands in the next
// channel's or sample's pixels (inside the group's dx, and +0 leaves a
// gradient's bits as they were: see stride2AddPlane), the last sample by
// stride2AddPlane. It reports false, having added nothing, where
// stride2AddPlane does.
func (l *conv[T]) stride2AddPlanes(row, dx []float32, c, ky, kx, lo, hi, n int) bool {
	w, wo, pad, hw := l.w, l.wo, l.pad, l.h*l.w
	y0, y1, ok := l.stride2Rows(ky, kx, lo, hi)
	if !ok {
		return false
	}
	if n > 1 {
		dst := (2*y0+ky-pad)*w + 2*lo + kx - pad
		_, _ = row[(n-1)*l.hwc-1], dx[((n-1)*l.c+c)*hw+hw-1] // the kernel's planes, and what it reaches past the last of them, lie inside both
		stride2AddPlanes32AVX(&dx[c*hw+dst], &row[y0*wo+lo], n-1, y1-y0, wo, hi-lo, 2*w, l.c*hw, l.hwc)
	}
	s := n - 1
	return l.stride2AddPlane(dx[(s*l.c+c)*hw:(s*l.c+c+1)*hw], row[s*l.hwc:(s+1)*l.hwc], ky, kx, lo, hi)
}
