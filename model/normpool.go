package model

import "github.com/ptrain/ptrain/model/num"

// normPool is batch norm over channels and the max pooling right after
// it, run by the Workspace as one stage when the normalised output goes
// nowhere else (ReLU or no activation, no dropout) and the pooling windows
// do not overlap (stride = kernel): conv-bn:relu-maxpool, the usual CNN
// block. The statistics take their two passes over the input as the layer
// does (batchNorm.prepare); then normalisation, ReLU and pooling are one
// pass (poolPlane2 with batch norm's affine map), so the normalised output
// and its activation are never stored. In backward the gradient reaching
// batch norm's output is non-zero only at each window's argmax, so its
// sums come from the pooled gradient alone, and ∂L/∂x is one pass over x.
//
// The pooled values are the layers' to the bit (the same roundings; max
// and ReLU commute), and so is ∂L/∂x given batch norm's two sums (the
// layer's expression, with ∂L/∂y = 0 off the argmaxes). The sums take
// their non-zero terms window by window rather than position by position,
// so they round differently from the layer's (adding them in the layer's
// order cost 13% of a step in branches on which row holds an argmax).
// Each plane is summed by one worker, so W workers still agree. The argmax
// kept in the pooling layer's scratch is the position in the input plane,
// as the pooling layer's.
type normPool[T num.Float] struct {
	bn   *batchNorm[T]
	relu bool
	// k: the pooling window and stride; h, w the input plane; ph, pw the
	// pooled plane.
	k, h, w, ph, pw int
	// plane is one input plane's ∂L/∂x, written whole and then added
	// into dx (the workspace's stage, so its own scratch).
	plane []T
}

// newNormPool returns the stage of layers l and l+1 of stack, or nil when
// they are not a batch norm over channels that only feeds a max pooling
// with windows that do not overlap.
func newNormPool[T num.Float](stack []layer[T], l int) *normPool[T] {
	bn, ok := stack[l].(*batchNorm[T])
	p, ok2 := stack[l+1].(*pool[T])
	if !ok || !ok2 || p.info.Spec.Kind != KindMaxPool || len(bn.info.In) != 3 {
		return nil
	}
	sp, k := bn.info.Spec, p.info.Spec.Kernel
	if sp.Dropout > 0 || sp.Act.Kind != Identity && sp.Act.Kind != ReLU || p.info.Spec.stride() != k {
		return nil
	}
	in := bn.info.In
	return &normPool[T]{bn: bn, relu: sp.Act.Kind == ReLU, k: k, h: in[1], w: in[2], ph: p.info.Out[1], pw: p.info.Out[2],
		plane: make([]T, in[1]*in[2])}
}

// forward normalises x and pools it into z (N×C×ph×pw), keeping each
// output's argmax in idx, and adds to act[ch] the sum over the rows and
// positions of channel ch's activation.
func (f *normPool[T]) forward(p *pass[T], x, z, idx, act []T) {
	bn := f.bn
	if !bn.prepare(p, x) {
		return
	}
	mean, inv, _, _ := bn.parts(p)
	c, hw, pq := bn.c, bn.hw, f.ph*f.pw
	for ch := 0; ch < c; ch++ {
		a, b := bn.affine(ch, mean, inv)
		var alive T
		for r := 0; r < p.N; r++ {
			o, q := (r*c+ch)*hw, (r*c+ch)*pq
			plane := x[o : o+hw]
			if f.k == 2 {
				alive += poolPlane2(plane, z[q:q+pq], idx[q:q+pq], a, b, f.w, f.pw, f.relu)
			} else {
				poolPlaneK(plane, z[q:q+pq], idx[q:q+pq], a, b, f.w, f.pw, f.k, f.k, f.relu)
			}
			alive += uncovered(plane, a, b, f.h, f.w, f.w, f.k, f.k, f.ph, f.pw, f.relu)
		}
		act[ch] += alive
	}
}

// open is the gradient that window q passes back as the layers' backward
// leaves it at the argmax: 0 + dz[q] (the pooling's scatter into zeros,
// which makes −0 +0), or 0 where the ReLU was closed (the pooled output
// z[q] is 0).
func (f *normPool[T]) open(z, dz []T, q int) T {
	if f.relu && z[q] == 0 {
		return 0
	}
	return 0 + dz[q]
}

// backward takes dz, the gradient of the pooled output z of the last
// forward, adds batch norm's γ and β gradients into p.Grad, and adds
// ∂L/∂x into dx unless it is nil: each plane is written whole into the
// stage's plane buffer (the layer's values where ∂L/∂y is 0, then the
// argmaxes'), then added.
func (f *normPool[T]) backward(p *pass[T], x, z, dz, idx, dx []T) {
	bn := f.bn
	c, hw, pq := bn.c, bn.hw, f.ph*f.pw
	mean, inv, _, sums := bn.parts(p)
	// Σdy and Σdy·x̂ per channel: dy is dz[q] at window q's argmax and 0
	// elsewhere (planeSums).
	sdy, sdyx := sums[:c], sums[c:2*c]
	clear(sums[:2*c])
	for r := 0; r < p.N; r++ {
		for ch := 0; ch < c; ch++ {
			o, q := (r*c+ch)*hw, (r*c+ch)*pq
			s1, s2 := f.planeSums(x[o:o+hw], z[q:q+pq], dz[q:q+pq], idx[q:q+pq], mean[ch], inv[ch])
			sdy[ch] += s1
			sdyx[ch] += s2
		}
	}
	bn.addGrads(p)
	if !p.Train {
		// Running statistics are constants: dx = dy·γ·inv, which is
		// (+0)·γ·inv (−0 where γ < 0, as the layer gives) off the argmaxes.
		if dx != nil {
			for r := 0; r < p.N; r++ {
				for ch := 0; ch < c; ch++ {
					o, q0, a := (r*c+ch)*hw, (r*c+ch)*pq, T(float64(bn.gamma[ch])*inv[ch])
					var zero T
					off, d := zero*a, f.plane
					for i := range d {
						d[i] = off
					}
					for q := q0; q < q0+pq; q++ {
						d[int(idx[q])] = f.open(z, dz, q) * a
					}
					addTo(dx[o:o+hw], d)
				}
			}
		}
		return
	}
	if !bn.syncGrads(p) || dx == nil {
		return
	}
	for ch := 0; ch < c; ch++ {
		m, iv, kk, mdy, mdyx := bn.inputGradTerms(p, ch)
		for r := 0; r < p.N; r++ {
			o, q := (r*c+ch)*hw, (r*c+ch)*pq
			bnInputGrad(x[o:o+hw], f.plane, m, iv, kk, mdy, mdyx)
			f.planeInputGrad(x[o:o+hw], z[q:q+pq], dz[q:q+pq], idx[q:q+pq], f.plane, m, iv, kk, mdy, mdyx)
			addTo(dx[o:o+hw], f.plane)
		}
	}
}

// planeSums is Σdy and Σdy·x̂ over one plane x, where dy is the gradient
// that window q passes to its argmax and 0 elsewhere, window by window.
func (f *normPool[T]) planeSums(x, z, dz, idx []T, m, iv float64) (s1, s2 float64) {
	for q := range dz {
		d := float64(f.open(z, dz, q))
		s1 += d
		s2 += d * (float64(x[int(idx[q])]) - m) * iv
	}
	return s1, s2
}

// bnInputGrad is batch norm's ∂L/∂x on a plane where ∂L/∂y is 0:
// k·(0 − mean(dy) − x̂·mean(dy·x̂)), the layer's expression term by term.
func bnInputGrad[T num.Float](x, dx []T, m, iv, k, mdy, mdyx float64) {
	dx = dx[:len(x)]
	for i, v := range x {
		xh := (float64(v) - m) * iv
		dx[i] = T(k * (0 - mdy - xh*mdyx))
	}
}

// planeInputGrad rewrites ∂L/∂x at each window's argmax, where ∂L/∂y is
// the gradient the window passes back.
func (f *normPool[T]) planeInputGrad(x, z, dz, idx, dx []T, m, iv, k, mdy, mdyx float64) {
	for q := range dz {
		i := int(idx[q])
		xh := (float64(x[i]) - m) * iv
		dx[i] = T(k * (float64(f.open(z, dz, q)) - mdy - xh*mdyx))
	}
}
