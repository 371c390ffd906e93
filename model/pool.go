package model

import "github.com/ptrain/ptrain/model/num"

// pool is 2-D max or average pooling over NCHW samples with K×K windows
// and a stride (PyTorch's MaxPool2d/AvgPool2d without padding: the output
// is floor((H−K)/S)+1 high). Max pooling passes the gradient to the first
// largest input of each window (PyTorch's choice on ties); average pooling
// spreads it evenly, 1/K² to each input.
type pool[T num.Float] struct{ info *LayerInfo }

func (l *pool[T]) Info() *LayerInfo { return l.info }

// Scratch is 0: max pooling finds each window's maximum again in Backward
// rather than keeping its index.
func (l *pool[T]) Scratch(int) int { return 0 }

func (l *pool[T]) dims() (c, h, w, ho, wo, k, s int) {
	in, out, sp := l.info.In, l.info.Out, l.info.Spec
	s = sp.Stride
	if s == 0 {
		s = sp.Kernel
	}
	return in[0], in[1], in[2], out[1], out[2], sp.Kernel, s
}

// argmax is the index in plane (h×w, row width w) of the first largest
// value of the window at (y0, x0), NaN counting as largest.
func argmax[T num.Float](plane []T, w, y0, x0, k int) int {
	best := y0*w + x0
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			j := (y0+ky)*w + x0 + kx
			if v := plane[j]; v > plane[best] || v != v && plane[best] == plane[best] {
				best = j
			}
		}
	}
	return best
}

func (l *pool[T]) Forward(p *Pass[T], x, z []T) {
	c, h, w, ho, wo, k, s := l.dims()
	avg := l.info.Spec.Kind == KindAvgPool
	inv := T(1) / T(k*k)
	for pl := 0; pl < p.N*c; pl++ {
		plane, out := x[pl*h*w:(pl+1)*h*w], z[pl*ho*wo:(pl+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				if !avg {
					out[oy*wo+ox] = plane[argmax(plane, w, oy*s, ox*s, k)]
					continue
				}
				var sum T
				for ky := 0; ky < k; ky++ {
					for _, v := range plane[(oy*s+ky)*w+ox*s : (oy*s+ky)*w+ox*s+k] {
						sum += v
					}
				}
				out[oy*wo+ox] = sum * inv
			}
		}
	}
}

func (l *pool[T]) Backward(p *Pass[T], x, dz, dx []T) {
	if dx == nil {
		return
	}
	c, h, w, ho, wo, k, s := l.dims()
	avg := l.info.Spec.Kind == KindAvgPool
	inv := T(1) / T(k*k)
	clear(dx)
	for pl := 0; pl < p.N*c; pl++ {
		plane, d, g := x[pl*h*w:(pl+1)*h*w], dx[pl*h*w:(pl+1)*h*w], dz[pl*ho*wo:(pl+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				v := g[oy*wo+ox]
				if !avg {
					d[argmax(plane, w, oy*s, ox*s, k)] += v
					continue
				}
				v *= inv
				for ky := 0; ky < k; ky++ {
					row := d[(oy*s+ky)*w+ox*s : (oy*s+ky)*w+ox*s+k]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	}
}
