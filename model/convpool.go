package model

import "github.com/ptrain/ptrain/model/num"

// convPool is a convolution and the max pooling right after it, run by the
// Workspace as one stage when the convolution's output goes nowhere else:
// its activation is ReLU or none and it has no dropout. The pooling is
// applied to each group's GEMM output Zt (see conv) while it is still in
// the L2 cache, so the convolution's output and activation — the largest
// tensors of a CNN, N×O×Ho×Wo each, written and read back by four passes
// over memory when the layers run one by one — are never stored; the
// pooled output and its argmax are. In backward the pooled gradient is
// scattered straight into the group's dZt.
//
// The values are the separate layers': max pooling and ReLU commute
// (both are monotone: max relu(zᵢ) = relu(max zᵢ)), and the gradient of a
// window goes to its first largest zᵢ — the first largest relu(zᵢ) when
// the output is positive, where the separate passes send it — and through
// the ReLU exactly when the pooled output is not zero. Only runs with NaNs
// can differ (a ReLU of a NaN): the trainer refuses those steps anyway.
//
// The argmax kept in the pooling layer's scratch is the position in Zt's
// plane (row width conv.ww), which only this stage reads.
type convPool[T num.Float] struct {
	conv *conv[T]
	pool *pool[T]
	relu bool
	// k, s: the pooling window and stride; ph, pw the pooled plane.
	k, s, ph, pw int
}

// newConvPool returns the stage of layers l and l+1 of stack, or nil when
// they are not a convolution that only feeds a max pooling.
func newConvPool[T num.Float](stack []layer[T], l int) *convPool[T] {
	c, ok := stack[l].(*conv[T])
	p, ok2 := stack[l+1].(*pool[T])
	if !ok || !ok2 || p.info.Spec.Kind != KindMaxPool {
		return nil
	}
	sp := c.info.Spec
	if sp.Dropout > 0 || sp.Act.Kind != Identity && sp.Act.Kind != ReLU {
		return nil
	}
	return &convPool[T]{conv: c, pool: p, relu: sp.Act.Kind == ReLU,
		k: p.info.Spec.Kernel, s: p.info.Spec.stride(), ph: p.info.Out[1], pw: p.info.Out[2]}
}

// forward runs the convolution on x and pools it into z (N×O×ph×pw),
// keeping each output's argmax in idx. It adds to act[o] the sum over the
// rows and positions of channel o's activation (relu(z) or z), which
// Workspace.AddActivity reports in place of the activations this stage
// does not keep.
func (f *convPool[T]) forward(p *pass[T], x, z, idx, act []T) {
	l := f.conv
	pq := f.ph * f.pw
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		zt := l.gemmForward(p, x, s0, n)
		cn := n * l.hwc
		for o := 0; o < l.o; o++ {
			b := l.b[o]
			var alive T
			for s := 0; s < n; s++ {
				q := ((s0+s)*l.o + o) * pq
				plane := zt[o*cn+s*l.hwc : o*cn+(s+1)*l.hwc]
				if f.k == 2 && f.s == 2 {
					alive += poolPlane2(plane, z[q:q+pq], idx[q:q+pq], 1, b, l.ww, f.pw, f.relu)
				} else {
					poolPlaneK(plane, z[q:q+pq], idx[q:q+pq], 1, b, l.ww, f.pw, f.k, f.s, f.relu)
				}
				alive += uncovered(plane, 1, b, l.ho, l.wo, l.ww, f.k, f.s, f.ph, f.pw, f.relu)
			}
			act[o] += alive
		}
	}
}

// uncovered is the sum of the activations (relu(v·a + b) or v·a + b) at
// the positions of a plane (ho×wo in rows ww wide) that poolPlane2 did not
// add up: every position for the general pooling (k×k windows, stride s),
// the rows and columns past the last 2×2 window otherwise.
func uncovered[T num.Float](plane []T, a, b T, ho, wo, ww, k, s, ph, pw int, relu bool) T {
	y0, x0 := 0, 0
	if k == 2 && s == 2 {
		y0, x0 = 2*ph, 2*pw
	}
	var sum T
	y := 0
	if x0 >= wo { // rows above y0 are covered whole
		y = y0
	}
	for ; y < ho; y++ {
		from := x0
		if y >= y0 {
			from = 0
		}
		for _, v := range plane[y*ww+from : y*ww+wo] {
			if v = T(v*a) + b; relu {
				v = max(v, 0)
			}
			sum += v
		}
	}
	return sum
}

// backward takes dz, the gradient of the pooled output z of the last
// forward, adds the convolution's weight and bias gradients into p.Grad and
// writes dx unless it is nil.
func (f *convPool[T]) backward(p *pass[T], x, z, dz, idx, dx []T) {
	l := f.conv
	pq := f.ph * f.pw
	bi := l.info.Params[1]
	gb := p.Grad[bi.Offset : bi.Offset+bi.Size()]
	for s0, g := 0, l.group(p.N); s0 < p.N; s0 += g {
		n := min(g, p.N-s0)
		_, dzt := l.buffers(p, n)
		cn := n * l.hwc
		dzt = dzt[:l.o*cn]
		clear(dzt)
		for o := 0; o < l.o; o++ {
			var sum T
			for s := 0; s < n; s++ {
				q := ((s0+s)*l.o + o) * pq
				d := dzt[o*cn+s*l.hwc : o*cn+(s+1)*l.hwc]
				if f.k == 2 && f.s == 2 {
					sum += unpoolPlane2(dz[q:q+pq], z[q:q+pq], idx[q:q+pq], d, l.ww, f.pw, f.relu)
				} else {
					sum += unpool(dz[q:q+pq], z[q:q+pq], idx[q:q+pq], d, f.relu)
				}
			}
			gb[o] += sum
		}
		l.gemmBackward(p, x, dzt, s0, n, dx)
	}
}

// unpool adds each pooled gradient g[q] into d at its argmax id[q] (d
// is a plane of dZt, zero before the first call), unless with relu the
// output z[q] was 0, and returns the sum of what it added.
func unpool[T num.Float](g, z, id, d []T, relu bool) T {
	var sum T
	for q, v := range g {
		if relu && z[q] == 0 { // the ReLU was closed
			v = 0
		}
		d[int(id[q])] += v
		sum += v
	}
	return sum
}

// unpoolPlane2 is unpool for the 2×2 windows of poolPlane2 on a plane of
// rows ww wide, pw windows to a row; in float32 with AVX2 it writes each
// window's four inputs (the same values: the gradient or +0).
func unpoolPlane2[T num.Float](g, z, id, d []T, ww, pw int, relu bool) T {
	if !num.Is32[T]() || !haveAVX2 || len(g) == 0 {
		return unpool(g, z, id, d, relu)
	}
	ph := len(g) / pw
	_ = d[(2*ph-1)*ww+2*pw-1] // the last input the windows read
	var sum float32
	unpool2Plane32AVX(&num.As32(g)[0], &num.As32(z)[0], &num.As32(id)[0], &num.As32(d)[0], ph, pw, ww, relu, &sum)
	return T(sum)
}

// poolPlane2 max-pools one plane (row width ww) with 2×2 windows and
// stride 2 after the affine map v·a + b (the product rounded before the
// sum, as batch norm's normalise does), into out (pw wide), and the argmax
// (position in the plane) into id; with relu the outputs go through a
// ReLU. It returns the sum of the windows' activations (relu(z) or z). It
// picks the first largest input (a NaN wins, the first one), and since
// which input is largest is a coin flip on real activations, nothing
// branches on it: the index is chosen by conditional moves, last candidate
// first. In float32 with AVX2 the assembly does the work, up to a NaN.
func poolPlane2[T num.Float](plane, out, id []T, a, b T, ww, pw int, relu bool) T {
	var s T
	ph, start := len(out)/pw, 0
	if num.Is32[T]() && haveAVX2 && ph > 0 {
		_ = plane[(2*ph-1)*ww+2*pw-1] // the last input the windows read
		var s32 float32
		start = pool2Plane32AVX(&num.As32(plane)[0], &num.As32(out)[0], &num.As32(id)[0], ph, pw, float32(a), float32(b), ww, relu, &s32)
		s = T(s32)
	}
	for oy := start / pw; oy < ph; oy++ {
		base := 2 * oy * ww
		r0, r1 := plane[base:base+2*pw], plane[base+ww:base+ww+2*pw]
		o, d := out[oy*pw:(oy+1)*pw], id[oy*pw:(oy+1)*pw]
		ox := 0
		if oy == start/pw {
			ox = start % pw
		}
		for ; ox < len(o); ox++ {
			v0, v1, v2, v3 := T(r0[2*ox]*a)+b, T(r0[2*ox+1]*a)+b, T(r1[2*ox]*a)+b, T(r1[2*ox+1]*a)+b
			m := max(v0, v1, v2, v3)
			j := ww + 1
			if v2 == m {
				j = ww
			}
			if v1 == m {
				j = 1
			}
			if v0 == m {
				j = 0
			}
			if m != m {
				j = firstNaN(v0, v1, v2, ww)
			}
			if relu {
				m = max(m, 0)
				s += max(v0, 0) + max(v1, 0) + max(v2, 0) + max(v3, 0)
			} else {
				s += v0 + v1 + v2 + v3
			}
			o[ox], d[ox] = m, T(base+2*ox+j)
		}
	}
	return s
}

// poolPlaneK is poolPlane2 for any window k and stride s, without the sum.
func poolPlaneK[T num.Float](plane, out, id []T, a, b T, ww, pw, k, s int, relu bool) {
	for oy := 0; oy < len(out)/pw; oy++ {
		for ox := 0; ox < pw; ox++ {
			best := oy*s*ww + ox*s
			m := T(plane[best]*a) + b
			for ky := 0; ky < k; ky++ {
				o := (oy*s+ky)*ww + ox*s
				for j, v := range plane[o : o+k] {
					if v = T(v*a) + b; v > m || (v != v && m == m) {
						m, best = v, o+j
					}
				}
			}
			if relu {
				m = max(m, 0)
			}
			out[oy*pw+ox], id[oy*pw+ox] = m, T(best)
		}
	}
}
