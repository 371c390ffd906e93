package model

import "github.com/ptrain/ptrain/model/num"

// im2col's rows of a "same" convolution at stride 1, float32 with AVX2: a
// row (c, ky, kx) of every sample of a group in one kernel call
// (maskedPlanes32AVX) instead of samePlane's call per sample; col2im's
// adjoint likewise (andAddPlanes32AVX). On ResNet-8's
// 14×14 and 7×7 planes a sample's row is 196 or 49 values, and the work
// around each copy — the row's range inside the image, clearing the rows
// outside it, the masked copy's call and its scalar tail — cost as much as
// the copy (im2col of the 64-channel 7×7 layer: 12 µs a sample, 9 GB/s).
//
// The kernel copies a whole plane under a mask per tap (tapMasks): all ones
// where the tap's input pixel (y+ky−P, x+kx−P) lies in the image, zero
// where it lies in the padding, so the rows above and below the image and
// the columns wrapped around a row's edge come out +0 in the same pass, the
// bits samePlane writes. The source is read only under the mask, so the
// shifted plane may start before the input or end past it.

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

// samePlanes32 writes im2col's row (c, ky, kx) of the n samples of x into
// row (n planes of Ho·W values, one per sample): samePlane for each.
func (l *conv[T]) samePlanes32(x, row []float32, c, ky, kx, n int) {
	hw := l.h * l.w
	m := l.taps[ky*l.k+kx]
	off := (ky-l.pad)*l.w + kx - l.pad
	_, _ = row[n*l.hwc-1], x[((n-1)*l.c+c)*hw+hw-1] // the kernel's last plane lies inside both
	maskedPlanes32AVX(&row[0], &x[c*hw], off, &m[0], len(m), n, l.hwc, l.c*hw)
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
