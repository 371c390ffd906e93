package model

import "github.com/ptrain/ptrain/model/num"

// conv is a 2-D convolution over NCHW samples (PyTorch's nn.Conv2d with
// zero padding, dilation 1, groups 1): weight (O, C, K, K) and bias (O) in
// Params. It runs as one GEMM over the whole batch on im2row's
// unrolling of the input ("cols", one row per output pixel):
//
//	cols  (n·Ho·Wo, C·K·K)   cols[s·Ho·Wo + p, (c, ky, kx)] = x[s, c, y(p)+ky−P, x(p)+kx−P], 0 outside
//	Z'    (n·Ho·Wo, O)       Z' = cols·Wᵀ, then z[s, o, p] = Z'[s·Ho·Wo + p, o] + b[o]
//
// and backward, with dZ' the same transpose of dz:
//
//	dW    += dZ'ᵀ·cols       (O, C·K·K)
//	db    += Σ_rows dZ'      (O)
//	dcols  = dZ'·W           then dx = col2im(dcols), the adjoint of im2row
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
// Z'.
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
	l.im2row(x, cols, n)
	num.MatMul(false, true, 1, num.View(n*l.hw, l.kk, cols), l.wt, 0, num.View(n*l.hw, l.o, zt))
	for s := 0; s < n; s++ {
		zs, ts := z[s*l.o*l.hw:(s+1)*l.o*l.hw], zt[s*l.hw*l.o:(s+1)*l.hw*l.o]
		for o := 0; o < l.o; o++ {
			row, b := zs[o*l.hw:(o+1)*l.hw], l.b[o]
			for q := range row {
				row[q] = ts[q*l.o+o] + b
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
	for s := 0; s < n; s++ {
		zs, ts := dz[s*l.o*l.hw:(s+1)*l.o*l.hw], dzt[s*l.hw*l.o:(s+1)*l.hw*l.o]
		for o := 0; o < l.o; o++ {
			for q, v := range zs[o*l.hw : (o+1)*l.hw] {
				ts[q*l.o+o] = v
			}
		}
	}
	wi, bi := l.info.Params[0], l.info.Params[1]
	dZ := num.View(n*l.hw, l.o, dzt)
	num.MatMul(true, false, 1, dZ, num.View(n*l.hw, l.kk, cols), 1, num.View(l.o, l.kk, p.Grad[wi.Offset:wi.Offset+wi.Size()]))
	num.AddColSums(p.Grad[bi.Offset:bi.Offset+bi.Size()], dZ)
	if dx == nil {
		return
	}
	num.MatMul(false, false, 1, dZ, l.wt, 0, num.View(n*l.hw, l.kk, cols))
	clear(dx)
	l.row2im(cols, dx, n)
}

// im2row unrolls x into cols (see conv).
func (l *conv[T]) im2row(x, cols []T, n int) {
	k, s, pad := l.k, l.stride, l.pad
	i := 0
	for smp := 0; smp < n; smp++ {
		xs := x[smp*l.c*l.h*l.w:]
		for oy := 0; oy < l.ho; oy++ {
			for ox := 0; ox < l.wo; ox++ {
				for c := 0; c < l.c; c++ {
					plane := xs[c*l.h*l.w:]
					for ky := 0; ky < k; ky++ {
						iy := oy*s + ky - pad
						dst := cols[i : i+k]
						i += k
						if iy < 0 || iy >= l.h {
							clear(dst)
							continue
						}
						row := plane[iy*l.w : (iy+1)*l.w]
						ix := ox*s - pad
						if ix >= 0 && ix+k <= l.w {
							copy(dst, row[ix:ix+k])
							continue
						}
						for kx := range dst {
							if j := ix + kx; j >= 0 && j < l.w {
								dst[kx] = row[j]
							} else {
								dst[kx] = 0
							}
						}
					}
				}
			}
		}
	}
}

// row2im adds every entry of dcols into dx where im2row took it from: the
// transpose of im2row, so the gradient of a pixel read by several windows
// is the sum over them.
func (l *conv[T]) row2im(cols, dx []T, n int) {
	k, s, pad := l.k, l.stride, l.pad
	i := 0
	for smp := 0; smp < n; smp++ {
		xs := dx[smp*l.c*l.h*l.w:]
		for oy := 0; oy < l.ho; oy++ {
			for ox := 0; ox < l.wo; ox++ {
				for c := 0; c < l.c; c++ {
					plane := xs[c*l.h*l.w:]
					for ky := 0; ky < k; ky++ {
						iy := oy*s + ky - pad
						src := cols[i : i+k]
						i += k
						if iy < 0 || iy >= l.h {
							continue
						}
						row := plane[iy*l.w : (iy+1)*l.w]
						ix := ox*s - pad
						for kx, v := range src {
							if j := ix + kx; j >= 0 && j < l.w {
								row[j] += v
							}
						}
					}
				}
			}
		}
	}
}
