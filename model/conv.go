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
//	dcols  = Wᵀ·dZt          then dx = col2im(dcols), the adjoint of im2col
//
// g is chosen so that cols and Zt stay in the L2 cache (convGroupBytes):
// the unrolling, the BLAS's packing of it and the rearrangements then
// work on cached data instead of streaming batch-sized buffers through
// memory, and unrolling again in backward is cheaper than keeping it.
type conv[T num.Float] struct {
	info                   *LayerInfo
	c, h, w, o, ho, wo     int
	k, stride, pad, kk, hw int
	wt                     num.Matrix[T] // (O, C·K·K)
	b                      []T
}

// convGroupBytes bounds cols and Zt of one group of samples.
var convGroupBytes = 256 << 10 // a variable for tests

func newConv[T num.Float](m *Model[T], info *LayerInfo) *conv[T] {
	l := &conv[T]{info: info, c: info.In[0], h: info.In[1], w: info.In[2], o: info.Out[0], ho: info.Out[1], wo: info.Out[2],
		k: info.Spec.Kernel, stride: max(info.Spec.Stride, 1), pad: info.Spec.Pad}
	l.kk, l.hw = l.c*l.k*l.k, l.ho*l.wo
	wi, bi := info.Params[0], info.Params[1]
	l.wt = num.View(l.o, l.kk, m.Params[wi.Offset:wi.Offset+wi.Size()])
	l.b = m.Params[bi.Offset : bi.Offset+bi.Size()]
	return l
}

func (l *conv[T]) Info() *LayerInfo { return l.info }

// group is how many samples go through one GEMM.
func (l *conv[T]) group(n int) int {
	var z T
	per := (l.kk + l.o) * l.hw * int(unsafe.Sizeof(z))
	return max(1, min(n, convGroupBytes/per))
}

// Scratch holds cols and Zt for one group.
func (l *conv[T]) Scratch(n int) int { return l.group(n) * l.hw * (l.kk + l.o) }

func (l *conv[T]) buffers(p *Pass[T], g int) (cols, zt []T) {
	nc := g * l.hw * l.kk
	return p.Scratch[:nc], p.Scratch[nc : nc+g*l.hw*l.o]
}

func (l *conv[T]) Forward(p *Pass[T], x, z []T) {
	in, out := l.c*l.h*l.w, l.o*l.hw
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		cols, zt := l.buffers(p, n)
		l.im2col(x[s0*in:(s0+n)*in], cols, n)
		cn := n * l.hw
		num.MatMul(false, false, 1, l.wt, num.View(l.kk, cn, cols), 0, num.View(l.o, cn, zt))
		zs := z[s0*out : (s0+n)*out]
		for o := 0; o < l.o; o++ {
			b := l.b[o]
			for s := 0; s < n; s++ {
				dst, src := zs[(s*l.o+o)*l.hw:(s*l.o+o+1)*l.hw], zt[o*cn+s*l.hw:o*cn+(s+1)*l.hw]
				for q, v := range src {
					dst[q] = v + b
				}
			}
		}
	}
}

func (l *conv[T]) Backward(p *Pass[T], x, dz, dx []T) {
	in, out := l.c*l.h*l.w, l.o*l.hw
	wi, bi := l.info.Params[0], l.info.Params[1]
	gw := num.View(l.o, l.kk, p.Grad[wi.Offset:wi.Offset+wi.Size()])
	gb := p.Grad[bi.Offset : bi.Offset+bi.Size()]
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		cols, dzt := l.buffers(p, n)
		cn := n * l.hw
		dzs := dz[s0*out : (s0+n)*out]
		for o := 0; o < l.o; o++ {
			var sum T
			for s := 0; s < n; s++ {
				src := dzs[(s*l.o+o)*l.hw : (s*l.o+o+1)*l.hw]
				copy(dzt[o*cn+s*l.hw:], src)
				for _, v := range src {
					sum += v
				}
			}
			gb[o] += sum
		}
		l.im2col(x[s0*in:(s0+n)*in], cols, n)
		dZ := num.View(l.o, cn, dzt)
		num.MatMul(false, true, 1, dZ, num.View(l.kk, cn, cols), 1, gw)
		if dx == nil {
			continue
		}
		num.MatMul(true, false, 1, l.wt, dZ, 0, num.View(l.kk, cn, cols))
		d := dx[s0*in : (s0+n)*in]
		clear(d)
		l.col2im(cols, d, n)
	}
}

// span is the run of output columns ox whose input column ox·S+kx−P lies
// inside a row of width w, for stride 1: [lo, hi).
func (l *conv[T]) span(kx int) (lo, hi int) {
	lo = min(max(0, l.pad-kx), l.wo)
	hi = min(l.wo, l.w+l.pad-kx)
	return lo, max(lo, hi)
}

// im2col unrolls x into cols (see conv).
func (l *conv[T]) im2col(x, cols []T, n int) {
	k, s, pad, cn := l.k, l.stride, l.pad, n*l.hw
	for c := 0; c < l.c; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := cols[((c*k+ky)*k+kx)*cn : ((c*k+ky)*k+kx+1)*cn]
				lo, hi := l.span(kx)
				for smp := 0; smp < n; smp++ {
					plane := x[(smp*l.c+c)*l.h*l.w : (smp*l.c+c+1)*l.h*l.w]
					for oy := 0; oy < l.ho; oy++ {
						dst := row[(smp*l.ho+oy)*l.wo : (smp*l.ho+oy+1)*l.wo]
						iy := oy*s + ky - pad
						if iy < 0 || iy >= l.h {
							clear(dst)
							continue
						}
						src := plane[iy*l.w : (iy+1)*l.w]
						if s == 1 {
							clear(dst[:lo])
							copy(dst[lo:hi], src[lo+kx-pad:])
							clear(dst[hi:])
							continue
						}
						for ox := range dst {
							if ix := ox*s + kx - pad; ix >= 0 && ix < l.w {
								dst[ox] = src[ix]
							} else {
								dst[ox] = 0
							}
						}
					}
				}
			}
		}
	}
}

// col2im adds every entry of dcols into dx where im2col took it from: the
// transpose of im2col, so the gradient of a pixel read by several windows
// is the sum over them.
func (l *conv[T]) col2im(cols, dx []T, n int) {
	k, s, pad, cn := l.k, l.stride, l.pad, n*l.hw
	for c := 0; c < l.c; c++ {
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				row := cols[((c*k+ky)*k+kx)*cn : ((c*k+ky)*k+kx+1)*cn]
				lo, hi := l.span(kx)
				for smp := 0; smp < n; smp++ {
					plane := dx[(smp*l.c+c)*l.h*l.w : (smp*l.c+c+1)*l.h*l.w]
					for oy := 0; oy < l.ho; oy++ {
						iy := oy*s + ky - pad
						if iy < 0 || iy >= l.h {
							continue
						}
						src := row[(smp*l.ho+oy)*l.wo : (smp*l.ho+oy+1)*l.wo]
						dst := plane[iy*l.w : (iy+1)*l.w]
						if s == 1 {
							d := dst[lo+kx-pad : hi+kx-pad]
							for i, v := range src[lo:hi] {
								d[i] += v
							}
							continue
						}
						for ox, v := range src {
							if ix := ox*s + kx - pad; ix >= 0 && ix < l.w {
								dst[ix] += v
							}
						}
					}
				}
			}
		}
	}
}
