package model

import "github.com/ptrain/ptrain/model/num"

// pool is 2-D max or average pooling over NCHW samples with K×K windows
// and a stride (PyTorch's MaxPool2d/AvgPool2d without padding: the output
// is floor((H−K)/S)+1 high). Max pooling passes the gradient to the first
// largest input of each window (PyTorch's choice on ties); a NaN wins, the
// first one here (PyTorch's CPU kernel takes the last: a run with NaNs is
// broken either way). Average pooling spreads the gradient evenly, 1/K² to
// each input.
type pool[T num.Float] struct{ info *LayerInfo }

func (l *pool[T]) Info() *LayerInfo { return l.info }

// Scratch keeps, for max pooling, the index in its plane of each output's
// maximum (exact in T: a plane holds fewer than 2²⁴ values).
func (l *pool[T]) Scratch(n int) int {
	if l.info.Spec.Kind == KindMaxPool {
		return n * l.info.Out.Size()
	}
	return 0
}

func (l *pool[T]) dims() (c, h, w, ho, wo, k, s int) {
	in, out, sp := l.info.In, l.info.Out, l.info.Spec
	return in[0], in[1], in[2], out[1], out[2], sp.Kernel, sp.stride()
}

func (l *pool[T]) Forward(p *pass[T], x, z []T) {
	c, h, w, ho, wo, k, s := l.dims()
	if l.info.Spec.Kind == KindAvgPool {
		inv := T(1) / T(k*k)
		for pl := 0; pl < p.N*c; pl++ {
			plane, out := x[pl*h*w:(pl+1)*h*w], z[pl*ho*wo:(pl+1)*ho*wo]
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					var sum T
					for ky := 0; ky < k; ky++ {
						o := (oy*s+ky)*w + ox*s
						for _, v := range plane[o : o+k] {
							sum += v
						}
					}
					out[oy*wo+ox] = sum * inv
				}
			}
		}
		return
	}
	if k == 2 && s == 2 {
		maxPool2(x[:p.N*c*h*w], z, p.Scratch, h, w, ho, wo)
		return
	}
	maxPoolK(x[:p.N*c*h*w], z, p.Scratch, h, w, ho, wo, k, s)
}

// maxPoolK is max pooling with k×k windows and stride s on every plane of
// x: each output is the first largest input of its window (a NaN wins),
// and idx receives that input's index in its plane.
func maxPoolK[T num.Float](x, z, idx []T, h, w, ho, wo, k, s int) {
	for pl := 0; pl < len(x)/(h*w); pl++ {
		plane, out, id := x[pl*h*w:(pl+1)*h*w], z[pl*ho*wo:(pl+1)*ho*wo], idx[pl*ho*wo:(pl+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				best := (oy*s)*w + ox*s
				m := plane[best]
				for ky := 0; ky < k; ky++ {
					o := (oy*s+ky)*w + ox*s
					for j, v := range plane[o : o+k] {
						if v > m || (v != v && m == m) {
							m, best = v, o+j
						}
					}
				}
				out[oy*wo+ox], id[oy*wo+ox] = m, T(best)
			}
		}
	}
}

func (l *pool[T]) Backward(p *pass[T], _, dz, dx []T) {
	if dx == nil {
		return
	}
	c, h, w, ho, wo, k, s := l.dims()
	if l.info.Spec.Kind == KindMaxPool {
		for pl := 0; pl < p.N*c; pl++ {
			d, g, idx := dx[pl*h*w:(pl+1)*h*w], dz[pl*ho*wo:(pl+1)*ho*wo], p.Scratch[pl*ho*wo:(pl+1)*ho*wo]
			for q, v := range g {
				d[int(idx[q])] += v
			}
		}
		return
	}
	inv := T(1) / T(k*k)
	for pl := 0; pl < p.N*c; pl++ {
		d, g := dx[pl*h*w:(pl+1)*h*w], dz[pl*ho*wo:(pl+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				v := g[oy*wo+ox] * inv
				for ky := 0; ky < k; ky++ {
					o := (oy*s+ky)*w + ox*s
					row := d[o : o+k]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	}
}

// maxPool2 is max pooling with 2×2 windows and stride 2, the common case,
// on every plane of x, with the general loop's choices (the first largest;
// a NaN wins): poolPlane2 of the fused stage, with no bias and no ReLU.
func maxPool2[T num.Float](x, z, idx []T, h, w, ho, wo int) {
	for pl := 0; pl < len(x)/(h*w); pl++ {
		poolPlane2(x[pl*h*w:(pl+1)*h*w], z[pl*ho*wo:(pl+1)*ho*wo], idx[pl*ho*wo:(pl+1)*ho*wo], 1, 0, w, wo, false)
	}
}

// firstNaN is the offset in a 2×2 window (row width w) of its first NaN,
// given the first three values.
func firstNaN[T num.Float](a, b, c T, w int) int {
	switch {
	case a != a:
		return 0
	case b != b:
		return 1
	case c != c:
		return w
	}
	return w + 1
}
