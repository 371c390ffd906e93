package optim

import "math"

// The element-wise loops that take a square root are written on concrete
// types, twice, on purpose: in a generic function instantiated from another
// package, Go 1.26 compiles math.Sqrt as a call (spilling every register
// each element) rather than the SQRTSD instruction, which made Adam cost
// 8 ns per parameter. Each pair below is the same formula; the float32
// version computes in float32, as PyTorch does for float32 parameters.
//
// Go does not vectorise loops, so on amd64 with AVX the float32 loops run
// 8 lanes at a time in kernels_amd64.s (float32 is what training uses;
// float64 is for exact checks). The assembly repeats the Go loop's
// operations in its order, so results are bit-for-bit the same either way
// and the Go loop below finishes the last len%8 elements.
//
// The conversions around products — float32(a*b) + c — are what keeps
// that promise, not noise: the Go spec lets the compiler fuse a*b + c into
// one multiply-add that rounds once, and it does on arm64 and on amd64
// with GOAMD64=v3, while the assembly rounds the product and the sum
// separately. An explicit conversion forces the rounding. The float64
// loops are written the same way, so that no build of them fuses.

// adamKernel is one Adam/AdamW step (see Method Adam): with decay = 1 − η·λ
// for AdamW and 1 otherwise, stepSize = η/(1−β₁ᵗ) and bc2 = √(1−β₂ᵗ),
//
//	m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p·decay − stepSize·m/(√v/bc2 + ε)
type adamKernel struct {
	b1, b2, eps, stepSize, bc2, decay float64
}

func (k adamKernel) run32(p, g, m, v []float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	b1, c1, b2, c2 := float32(k.b1), float32(1-k.b1), float32(k.b2), float32(1-k.b2)
	step, inv, eps, decay := float32(k.stepSize), float32(1/k.bc2), float32(k.eps), float32(k.decay)
	i := 0
	if n := len(p) &^ 7; haveAVX && n > 0 {
		c := [8]float32{b1, c1, b2, c2, step, inv, eps, decay}
		adam32AVX(&p[0], &g[0], &m[0], &v[0], n, &c)
		i = n
	}
	for ; i < len(p); i++ {
		gi := g[i]
		mi := float32(b1*m[i]) + float32(c1*gi)
		vi := float32(b2*v[i]) + float32(float32(c2*gi)*gi)
		m[i], v[i] = mi, vi
		den := float32(float32(math.Sqrt(float64(vi)))*inv) + eps
		p[i] = float32(p[i]*decay) - float32(step*mi)/den
	}
}

func (k adamKernel) run64(p, g, m, v []float64) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	b1, c1, b2, c2 := k.b1, 1-k.b1, k.b2, 1-k.b2
	inv := 1 / k.bc2 // a multiply per element instead of a second division
	for i := range p {
		gi := g[i]
		mi := float64(b1*m[i]) + float64(c1*gi)
		vi := float64(b2*v[i]) + float64(float64(c2*gi)*gi)
		m[i], v[i] = mi, vi
		den := float64(math.Sqrt(vi)*inv) + k.eps
		p[i] = float64(p[i]*k.decay) - float64(k.stepSize*mi)/den
	}
}

// rmspropKernel is one RMSprop step (see Method RMSprop): s ← αs + (1−α)g²;
// d = g/(√s + ε); with momentum b ← μb + d and p ← p − η·b, else p ← p − η·d.
type rmspropKernel struct {
	lr, alpha, eps, mu float64
}

func (k rmspropKernel) run32(p, g, s, b []float32) {
	g, s = g[:len(p)], s[:len(p)]
	lr, a, c, eps, mu := float32(k.lr), float32(k.alpha), float32(1-k.alpha), float32(k.eps), float32(k.mu)
	i := 0
	if n := len(p) &^ 7; haveAVX && n > 0 {
		var bp *float32
		if b != nil {
			b = b[:len(p)]
			bp = &b[0]
		}
		cs := [8]float32{a, c, eps, mu, lr}
		rmsprop32AVX(&p[0], &g[0], &s[0], bp, n, &cs)
		i = n
	}
	for ; i < len(p); i++ {
		gi := g[i]
		si := float32(a*s[i]) + float32(float32(c*gi)*gi)
		s[i] = si
		d := gi / (float32(math.Sqrt(float64(si))) + eps)
		if b != nil {
			d += float32(mu * b[i])
			b[i] = d
		}
		p[i] -= float32(lr * d)
	}
}

func (k rmspropKernel) run64(p, g, s, b []float64) {
	g, s = g[:len(p)], s[:len(p)]
	a, c := k.alpha, 1-k.alpha
	for i := range p {
		gi := g[i]
		si := float64(a*s[i]) + float64(float64(c*gi)*gi)
		s[i] = si
		d := gi / (math.Sqrt(si) + k.eps)
		if b != nil {
			d += float64(k.mu * b[i])
			b[i] = d
		}
		p[i] -= float64(k.lr * d)
	}
}

// momentumKernel is one heavy-ball or Nesterov step (see Method Momentum):
// v ← μv + g; p ← p − η·v, or p ← p − η·(g + μv) for Nesterov, in that
// order (PyTorch's: the Nesterov direction g + μv is formed first).
type momentumKernel struct {
	lr, mu   float64
	nesterov bool
}

// run32 is one fused pass: it reads g, v and p once and writes v and p
// once, where scal-then-two-axpy passes streamed v three times.
func (k momentumKernel) run32(p, g, v []float32) {
	g, v = g[:len(p)], v[:len(p)]
	lr, mu := float32(k.lr), float32(k.mu)
	i := 0
	if n := len(p) &^ 7; haveAVX && n > 0 {
		c := [8]float32{mu, lr}
		momentum32AVX(&p[0], &g[0], &v[0], n, &c, k.nesterov)
		i = n
	}
	for ; i < len(p); i++ {
		vi := float32(mu*v[i]) + g[i]
		v[i] = vi
		d := vi
		if k.nesterov {
			d = g[i] + float32(mu*vi)
		}
		p[i] -= float32(lr * d)
	}
}

// run64 is run32's loop in float64. Apply uses it for Nesterov only: for
// heavy ball, gonum's scal and axpy passes round the same way and are
// faster.
func (k momentumKernel) run64(p, g, v []float64) {
	g, v = g[:len(p)], v[:len(p)]
	for i := range p {
		vi := float64(k.mu*v[i]) + g[i]
		v[i] = vi
		d := vi
		if k.nesterov {
			d = g[i] + float64(k.mu*vi)
		}
		p[i] -= float64(k.lr * d)
	}
}
