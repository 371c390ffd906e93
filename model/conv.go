package model

import (
	"unsafe"

	"github.com/ptrain/ptrain/model/num"
)

// conv is a 2-D convolution over NCHW samples (PyTorch's nn.Conv2d with
// zero padding, dilation 1, groups 1): weight (O, C, K, K) and bias (O) in
// Params. It runs as GEMMs on im2col's unrolling of the input (Caffe's
// layout: one column per output pixel, so that each unrolled row is a run
// of contiguous copies), a group of g samples at a time:
//
//	cols  (C·K·K, g·Ho·Wo)   cols[(c,ky,kx), s·Ho·Wo + p] = x[s, c, y(p)+ky−P, x(p)+kx−P], 0 outside
//	Zt    (O, g·Ho·Wo)       Zt = W·cols, then z[s, o, p] = Zt[o, s·Ho·Wo + p] + b[o]
//
// and backward, with dZt the same rearrangement of dz and cols unrolled
// again from x:
//
//	dW    += dZt·colsᵀ       (O, C·K·K)
//	db    += Σ_columns dZt   (O)
//	dcols  = Wᵀ·dZt          then dx += col2im(dcols), the adjoint of im2col
//
// At stride 1 without padding ("valid"), each row of cols is laid out W
// wide instead of Wo (ww, the "wide" layout): an unrolled row of a sample
// is then x's plane shifted by ky·W + kx, one contiguous copy instead of
// Ho short ones, and col2im one long add. The W − Wo extra columns of each
// output row are computed and dropped; their gradient is set to zero, so
// nothing flows back from them (Wᵀ·0 = 0 exactly).
//
// g is chosen so that cols and Zt stay in the L2 cache (convGroupBytes):
// the unrolling, the BLAS's packing of it and the rearrangements then
// work on cached data instead of streaming batch-sized buffers through
// memory, and unrolling again in backward is cheaper than keeping it.
// When a max pooling follows, the Workspace runs both as one stage that
// pools each group's Zt in place of the rearrangement (convpool.go).
type conv[T num.Float] struct {
	info                   *LayerInfo
	c, h, w, o, ho, wo     int
	k, stride, pad, kk, hw int
	ww, hwc                int           // row width and pixels per sample in cols and Zt: Wo and Ho·Wo, or W and Ho·W (wide)
	wt                     num.Matrix[T] // (O, C·K·K)
	b                      []T
	edge                   [][]T       // per kx, "same" convolutions at stride 1: the masks of edgeMasks
	taps                   [][]float32 // per tap, the same in float32: the masks of tapMasks (im2col_planes.go)
	gathers                [][]int32   // per (ky, kx), convolutions neither wide nor "same" at stride 1: gatherTables
}

// convGroupBytes bounds cols and Zt of one group of samples.
var convGroupBytes = 256 << 10 // a variable for tests

// convMinColumns is the GEMM width a group reaches when cols stay within
// four times convGroupBytes: narrower products run the BLAS below its
// speed.
const convMinColumns = 512

func newConv[T num.Float](m *Model[T], info *LayerInfo) *conv[T] {
	l := &conv[T]{info: info, c: info.In[0], h: info.In[1], w: info.In[2], o: info.Out[0], ho: info.Out[1], wo: info.Out[2],
		k: info.Spec.Kernel, stride: info.Spec.stride(), pad: info.Spec.Pad}
	l.kk, l.hw = l.c*l.k*l.k, l.ho*l.wo
	l.ww = l.wo
	if l.wide() {
		l.ww = l.w
	}
	l.hwc = l.ho * l.ww
	wi, bi := info.Params[0], info.Params[1]
	l.wt = num.View(l.o, l.kk, m.Params[wi.Offset:wi.Offset+wi.Size()])
	l.b = m.Params[bi.Offset : bi.Offset+bi.Size()]
	l.edge = l.edgeMasks()
	l.taps = l.tapMasks()
	l.gathers = l.gatherTables()
	return l
}

func (l *conv[T]) Info() *LayerInfo { return l.info }

// wide reports whether cols use the wide layout (see conv).
func (l *conv[T]) wide() bool { return l.stride == 1 && l.pad == 0 && l.wo < l.w }

// group is how many samples go through one GEMM.
func (l *conv[T]) group(n int) int {
	var z T
	per := (l.kk + l.o) * l.hwc * int(unsafe.Sizeof(z))
	g := max(1, convGroupBytes/per)
	g = max(g, min((convMinColumns+l.hwc-1)/l.hwc, 4*convGroupBytes/per))
	return max(1, min(n, g))
}

// Scratch holds cols and Zt for one group, and backward's sums of its
// output gradient's planes (planeSums).
func (l *conv[T]) Scratch(n int) int { g := l.group(n); return g*l.hwc*(l.kk+l.o) + g*l.o }

func (l *conv[T]) buffers(p *pass[T], g int) (cols, zt []T) {
	nc := g * l.hwc * l.kk
	return p.Scratch[:nc], p.Scratch[nc : nc+g*l.hwc*l.o]
}

func (l *conv[T]) Forward(p *pass[T], x, z []T) {
	out := l.o * l.hw
	sums := p.OutSums // Σ of each channel's planes, for the batch norm reading z (pass.OutSums)
	clear(sums)
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		zt := l.gemmForward(p, x, s0, n)
		cn := n * l.hwc
		zs := z[s0*out : (s0+n)*out]
		for o := 0; o < l.o; o++ {
			b := l.b[o]
			for s := 0; s < n; s++ {
				dst, src := zs[(s*l.o+o)*l.hw:(s*l.o+o+1)*l.hw], zt[o*cn+s*l.hwc:o*cn+(s+1)*l.hwc]
				if l.ww == l.wo {
					// The plane in one piece, vectorised: v·1 + b is
					// exactly v + b.
					affinePlane(src, dst, 1, b)
				} else {
					for oy := 0; oy < l.ho; oy++ {
						d, r := dst[oy*l.wo:(oy+1)*l.wo], src[oy*l.ww:oy*l.ww+l.wo]
						for q, v := range r {
							d[q] = v + b
						}
					}
				}
				if sums != nil {
					sums[o] += sumF64(dst)
				}
			}
		}
	}
}

// gemmForward unrolls samples [s0, s0+n) of x and returns their Zt = W·cols
// (without the bias), a view of the scratch.
func (l *conv[T]) gemmForward(p *pass[T], x []T, s0, n int) []T {
	in := l.c * l.h * l.w
	cols, zt := l.buffers(p, n)
	l.im2col(x[s0*in:(s0+n)*in], cols, n)
	cn := n * l.hwc
	num.MatMul(false, false, 1, l.wt, num.View(l.kk, cn, cols), 0, num.View(l.o, cn, zt))
	return zt
}

func (l *conv[T]) Backward(p *pass[T], x, dz, dx []T) {
	out := l.o * l.hw
	bi := l.info.Params[1]
	gb := p.Grad[bi.Offset : bi.Offset+bi.Size()]
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		_, dzt := l.buffers(p, n)
		cn := n * l.hwc
		ps := p.Scratch[len(p.Scratch)-n*l.o:] // the bias gradient's terms: ps[s·O+o] = sum4 of plane (s, o)
		if p.NormBack != nil {                 // dz is the norm's output gradient (convnorm.go)
			l.normDZt(p, p.NormBack, dz, dzt, s0, n, ps, gb)
			l.gemmBackward(p, x, dzt, s0, n, dx)
			continue
		}
		dzs := dz[s0*out : (s0+n)*out]
		planeSums(dzs, l.hw, ps)
		for o := 0; o < l.o; o++ {
			var sum T
			for s := 0; s < n; s++ {
				src := dzs[(s*l.o+o)*l.hw : (s*l.o+o+1)*l.hw]
				sum += ps[s*l.o+o]
				dst := dzt[o*cn+s*l.hwc : o*cn+(s+1)*l.hwc]
				if l.ww == l.wo {
					copy(dst, src)
					continue
				}
				for oy := 0; oy < l.ho; oy++ {
					r := dst[oy*l.ww : (oy+1)*l.ww]
					copy(r, src[oy*l.wo:(oy+1)*l.wo])
					clear(r[l.wo:])
				}
			}
			gb[o] += sum
		}
		l.gemmBackward(p, x, dzt, s0, n, dx)
	}
}

// gemmBackward is the rest of backward for samples [s0, s0+n) once dzt
// holds their dZt (zero in the dropped columns): it unrolls x again, adds
// dZt·colsᵀ into the weight gradient and, unless dx is nil, adds their
// col2im(Wᵀ·dZt) into dx.
func (l *conv[T]) gemmBackward(p *pass[T], x, dzt []T, s0, n int, dx []T) {
	in, cn := l.c*l.h*l.w, n*l.hwc
	wi := l.info.Params[0]
	gw := num.View(l.o, l.kk, p.Grad[wi.Offset:wi.Offset+wi.Size()])
	cols, _ := l.buffers(p, n)
	l.im2col(x[s0*in:(s0+n)*in], cols, n)
	dZ := num.View(l.o, cn, dzt[:l.o*cn])
	num.MatMulABtFixedRows(1, dZ, num.View(l.kk, cn, cols), 1, gw) // a row per output channel: never a shard
	if dx == nil {
		return
	}
	num.MatMul(true, false, 1, l.wt, dZ, 0, num.View(l.kk, cn, cols))
	dxs := dx[s0*in : (s0+n)*in]
	if p.freshDx(0) {
		clear(dxs)
	}
	l.col2im(cols, dxs, n)
}

// clearsOwnDx: Backward clears each group's part of dx right before its
// col2im (pass.FreshDx).
func (l *conv[T]) clearsOwnDx() {}

// span is the run of output columns ox whose input column ox·S+kx−P lies
// inside a row of width w: [lo, hi), with lo = ⌈(P−kx)/S⌉ and
// hi = ⌈(W+P−kx)/S⌉ clamped to [0, Wo].
func (l *conv[T]) span(kx int) (lo, hi int) {
	s := l.stride
	lo = min(ceilDiv(l.pad-kx, s), l.wo)
	hi = min(l.wo, ceilDiv(l.w+l.pad-kx, s))
	return lo, max(lo, hi)
}

// ceilDiv is ⌈a/s⌉ for s > 0, and 0 for a ≤ 0.
func ceilDiv(a, s int) int {
	if a <= 0 {
		return 0
	}
	return (a + s - 1) / s
}

// im2col unrolls x into cols (see conv).
func (l *conv[T]) im2col(x, cols []T, n int) {
	k, s, pad, cn := l.k, l.stride, l.pad, n*l.hwc
	wide := l.wide()
	gather := l.gathers != nil && num.Is32[T]() && haveAVX2
	planes := l.taps != nil && haveAVX2 && n > 0 // "same" at stride 1: a row of every sample per call
	for c := 0; c < l.c; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := cols[((c*k+ky)*k+kx)*cn : ((c*k+ky)*k+kx+1)*cn]
				lo, hi := l.span(kx)
				if planes {
					l.samePlanes(x, row, c, ky, kx, n)
					continue
				}
				if gather && s == 2 && n > 0 && l.stride2Planes(num.As32(x), num.As32(row), c, ky, kx, lo, hi, n) {
					continue
				}
				for smp := 0; smp < n; smp++ {
					plane := x[(smp*l.c+c)*l.h*l.w : (smp*l.c+c+1)*l.h*l.w]
					out := row[smp*l.hwc : (smp+1)*l.hwc]
					if wide {
						// out[p] = plane[p + ky·W + kx]; the tail past the
						// plane's end lies in dropped columns.
						m := copy(out, plane[ky*l.w+kx:])
						clear(out[m:])
						continue
					}
					if s == 1 && l.wo == l.w {
						l.samePlane(plane, out, ky, kx)
						continue
					}
					if gather { // strides other than 2, and the rows stride2Planes declines
						gatherPlane(num.As32(out), num.As32(plane), l.gathers[ky*k+kx])
						continue
					}
					for oy := 0; oy < l.ho; oy++ {
						dst := out[oy*l.wo : (oy+1)*l.wo]
						iy := oy*s + ky - pad
						if iy < 0 || iy >= l.h {
							clear(dst)
							continue
						}
						// Columns [lo, hi) read the row from lo·S+kx−P on,
						// every S-th pixel; the rest lie in padding: a
						// pixel or two, written one by one (a clear costs
						// a call each).
						for i := 0; i < lo; i++ {
							dst[i] = 0
						}
						for i := hi; i < len(dst); i++ {
							dst[i] = 0
						}
						if lo < hi {
							stridedCopy(dst[lo:hi], plane[iy*l.w+lo*s+kx-pad:(iy+1)*l.w], s)
						}
					}
				}
			}
		}
	}
}

// samePlane is im2col's row (ky, kx) of one sample when the output is as
// wide as the input at stride 1 ("same" padding): out[p] is then
// plane[p + (ky−P)·W + kx−P] for every in-range p, one contiguous copy,
// masked where the columns wrapped around a row's edge ([0, lo) and
// [hi, Wo) of each row; see edgeMasks); the rows outside the image are
// zero.
func (l *conv[T]) samePlane(plane, out []T, ky, kx int) {
	w, off := l.w, (ky-l.pad)*l.w+kx-l.pad
	y0, y1 := max(0, l.pad-ky), min(l.ho, l.h+l.pad-ky) // output rows inside the image
	if y1 <= y0 {
		clear(out)
		return
	}
	// What exists of the source: the masked columns of the first and last
	// rows may lie outside the plane.
	a, b := y0*w+max(0, -off-y0*w), min(y1*w, len(plane)-off)
	if a >= b {
		clear(out)
		return
	}
	clear(out[:a])
	clear(out[b:])
	if m := l.edge[kx]; m != nil {
		maskedCopy(out[a:b], plane[a+off:b+off], m[a:b])
	} else {
		copy(out[a:b], plane[a+off:b+off])
	}
}

// col2im adds every entry of dcols into dx where im2col took it from: the
// transpose of im2col, so the gradient of a pixel read by several windows
// is the sum over them. cols is scratch and may be overwritten.
//
// The masked "same" path and the stride-2 rows also add +0 into pixels
// that no entry maps to, which changes no value but −0 (to +0). dx never
// holds −0 here: Workspace.Backward clears every input gradient (and
// InputGrad) before the first layer adds into it, every layer then adds,
// and a sum started from +0 is never −0 in round-to-nearest; so the bits
// are the definition's (TestStepSameBitsWithAndWithoutAVX2). A caller
// that passes a dx holding −0 gets +0 in some of those pixels.
func (l *conv[T]) col2im(cols, dx []T, n int) {
	k, s, pad, cn := l.k, l.stride, l.pad, n*l.hwc
	wide := l.wide()
	gather := l.gathers != nil && num.Is32[T]() && haveAVX2
	planes := l.taps != nil && haveAVX2 && n > 0 // "same" at stride 1: a row of every sample per call
	for c := 0; c < l.c; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := cols[((c*k+ky)*k+kx)*cn : ((c*k+ky)*k+kx+1)*cn]
				lo, hi := l.span(kx)
				if planes {
					l.sameAddPlanes32(num.As32(row), num.As32(dx), c, ky, kx, n)
					continue
				}
				if gather && s == 2 && n > 0 && l.stride2AddPlanes(num.As32(row), num.As32(dx), c, ky, kx, lo, hi, n) {
					continue
				}
				for smp := 0; smp < n; smp++ {
					plane := dx[(smp*l.c+c)*l.h*l.w : (smp*l.c+c+1)*l.h*l.w]
					in := row[smp*l.hwc : (smp+1)*l.hwc]
					if wide { // the adjoint of im2col's wide copy; dropped columns carry 0
						dst := plane[ky*l.w+kx:]
						m := min(len(dst), len(in))
						addTo(dst[:m], in[:m])
						continue
					}
					if s == 1 && l.wo == l.w {
						// The adjoint of samePlane: one long add of what
						// did not come from padding.
						w, off := l.w, (ky-pad)*l.w+kx-pad
						y0, y1 := max(0, pad-ky), min(l.ho, l.h+pad-ky)
						if y1 <= y0 {
							continue
						}
						a, b := y0*w+max(0, -off-y0*w), min(y1*w, len(plane)-off)
						if a >= b {
							continue
						}
						if m := l.edge[kx]; m != nil {
							maskedAdd(plane[a+off:b+off], in[a:b], m[a:b])
						} else {
							addTo(plane[a+off:b+off], in[a:b])
						}
						continue
					}
					// Strided or unevenly padded (and not taken by
					// stride2AddPlanes): the adjoint of im2col's rows,
					// through its table of offsets.
					scatterAdd(plane, in, l.gathers[ky*k+kx])
				}
			}
		}
	}
}

// addTo adds src into dst (dst[i] += src[i], the same bits as Axpy with
// α = 1): col2im's hundreds of short sums per sample group, for which a
// BLAS call costs as much as the work.
func addTo[T num.Float](dst, src []T) {
	dst = dst[:len(src)]
	i := 0
	if n := len(src) &^ 7; num.Is32[T]() && haveAVX2 && n > 0 {
		add32AVX(&num.As32(dst)[0], &num.As32(src)[0], n)
		i = n
	}
	for ; i < len(src); i++ {
		dst[i] += src[i]
	}
}

// stridedCopy sets dst[i] = src[i·s]: one im2col row segment at stride s.
func stridedCopy[T num.Float](dst, src []T, s int) {
	if len(dst) == 0 {
		return
	}
	src = src[:(len(dst)-1)*s+1]
	switch s {
	case 1:
		copy(dst, src)
	case 2:
		// Four at a time from one bounds-checked window of src: with a
		// check per element this loop was 6% of a ResNet-8 step.
		i := 0
		for ; i+4 <= len(dst); i += 4 {
			w, d := src[2*i:2*i+7], dst[i:i+4]
			d[0], d[1], d[2], d[3] = w[0], w[2], w[4], w[6]
		}
		for ; i < len(dst); i++ {
			dst[i] = src[2*i]
		}
	default:
		for i := range dst {
			dst[i] = src[i*s]
		}
	}
}

// planeSums sets out[i] = sum4(x[i·hw : (i+1)·hw]) for each of the
// len(out) planes of x, the same bits. sum4 waits on the adder's latency
// (its four sums are chains), which one plane at a time leaves two thirds
// of the adders idle (3% of a ResNet-8 step in the conv's bias gradient):
// for float32 where AVX2 is there, four planes run at once, their chains
// side by side in two vectors.
func planeSums[T num.Float](x []T, hw int, out []T) {
	i := 0
	if n := hw &^ 3; num.Is32[T]() && haveAVX2 && n > 0 {
		var c [16]float32
		x32 := num.As32(x)
		for ; i+4 <= len(out); i += 4 {
			_ = x32[(i+4)*hw-1]
			sum4x4AVX(&x32[i*hw], hw, n, &c)
			for q := 0; q < 4; q++ {
				s0, s1, s2, s3 := c[4*q], c[4*q+1], c[4*q+2], c[4*q+3]
				for _, v := range x32[(i+q)*hw+n : (i+q+1)*hw] {
					s0 += v
				}
				out[i+q] = T((s0 + s1) + (s2 + s3))
			}
		}
	}
	for ; i < len(out); i++ {
		out[i] = sum4(x[i*hw : (i+1)*hw])
	}
}

// sum4 is Σ x in four interleaved partial sums: one running sum would
// wait on each add's latency (the bias gradient of a conv sums every
// output gradient).
func sum4[T num.Float](x []T) T {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
