package model

import "github.com/ptrain/ptrain/model/num"

// conv is a 2-D convolution over NCHW samples (PyTorch's nn.Conv2d with
// zero padding, dilation 1, groups 1): weight (O, C, K, K) and bias (O) in
// Params. It runs as one GEMM over the whole batch on im2col's unrolling
// of the input (Caffe's layout: one column per output pixel of every
// sample, so that each unrolled row is a run of contiguous copies):
//
//	cols  (C·K·K, n·Ho·Wo)   cols[(c,ky,kx), s·Ho·Wo + p] = x[s, c, y(p)+ky−P, x(p)+kx−P], 0 outside
//	Zt    (O, n·Ho·Wo)       Zt = W·cols, then z[s, o, p] = Zt[o, s·Ho·Wo + p] + b[o]
//
// and backward, with dZt the same rearrangement of dz:
//
//	dW    += dZt·colsᵀ       (O, C·K·K)
//	db    += Σ_columns dZt   (O)
//	dcols  = Wᵀ·dZt          then dx = col2im(dcols), the adjoint of im2col
type conv[T num.Float] struct {
	info                   *LayerInfo
	c, h, w, o, ho, wo     int
	k, stride, pad, kk, hw int
	wt                     num.Matrix[T] // (O, C·K·K)
	b                      []T
}

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

// Scratch holds cols (kept from Forward for dW, then reused for dcols) and
// Zt.
func (l *conv[T]) Scratch(n int) int { return n*l.hw*l.kk + n*l.hw*l.o }

func (l *conv[T]) buffers(p *Pass[T]) (cols, zt []T) {
	nc := p.N * l.hw * l.kk
	return p.Scratch[:nc], p.Scratch[nc : nc+p.N*l.hw*l.o]
}

func (l *conv[T]) Forward(p *Pass[T], x, z []T) {
	n := p.N
	if n == 0 {
		return
	}
	cols, zt := l.buffers(p)
	l.im2col(x, cols, n)
	cn := n * l.hw
	num.MatMul(false, false, 1, l.wt, num.View(l.kk, cn, cols), 0, num.View(l.o, cn, zt))
	for o := 0; o < l.o; o++ {
		b := l.b[o]
		for s := 0; s < n; s++ {
			dst, src := z[(s*l.o+o)*l.hw:(s*l.o+o+1)*l.hw], zt[o*cn+s*l.hw:o*cn+(s+1)*l.hw]
			for q, v := range src {
				dst[q] = v + b
			}
		}
	}
}

func (l *conv[T]) Backward(p *Pass[T], _, dz, dx []T) {
	n := p.N
	if n == 0 {
		return
	}
	cols, dzt := l.buffers(p)
	cn := n * l.hw
	wi, bi := l.info.Params[0], l.info.Params[1]
	gb := p.Grad[bi.Offset : bi.Offset+bi.Size()]
	for o := 0; o < l.o; o++ {
		var sum T
		for s := 0; s < n; s++ {
			src := dz[(s*l.o+o)*l.hw : (s*l.o+o+1)*l.hw]
			copy(dzt[o*cn+s*l.hw:], src)
			for _, v := range src {
				sum += v
			}
		}
		gb[o] += sum
	}
	dZ := num.View(l.o, cn, dzt)
	num.MatMul(false, true, 1, dZ, num.View(l.kk, cn, cols), 1, num.View(l.o, l.kk, p.Grad[wi.Offset:wi.Offset+wi.Size()]))
	if dx == nil {
		return
	}
	num.MatMul(true, false, 1, l.wt, dZ, 0, num.View(l.kk, cn, cols))
	clear(dx)
	l.col2im(cols, dx, n)
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
