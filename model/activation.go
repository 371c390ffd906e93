package model

import (
	"math"

	"github.com/ptrain/ptrain/model/num"
)

// activate computes a = f(z) row by row for n rows of width cols; a and z
// may be the same slice. For softmax, if lse is not nil, lse[r] receives
// log Σ exp(z) of row r, which the cross-entropy loss needs. act is not
// Identity: a layer without an activation uses z as its output, and its
// caller skips this pass.
func activate[T num.Float](act Activation, z, a []T, cols int, lse []float64) {
	switch act.Kind {
	case Sigmoid:
		for i, v := range z {
			a[i] = T(sigmoid(float64(v)))
		}
	case Tanh:
		for i, v := range z {
			a[i] = T(math.Tanh(float64(v)))
		}
	case ReLU:
		reluForward(z, a)
	case LeakyReLU:
		s := T(act.Slope)
		for i, v := range z {
			if v > 0 {
				a[i] = v
			} else {
				a[i] = s * v
			}
		}
	case Softmax:
		for r := 0; r < len(z); r += cols {
			l := softmaxRow(z[r:r+cols], a[r:r+cols])
			if lse != nil {
				lse[r/cols] = l
			}
		}
	}
}

// sigmoid is 1/(1+e^-x), evaluated without overflow for either sign.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softmaxRow writes p = softmax(z) for one row, shifting by max(z) so that
// no exponent overflows. It returns log Σ exp(z) for the log-likelihood.
func softmaxRow[T num.Float](z, p []T) (logSumExp float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, float64(v))
	}
	var s float64
	for i, v := range z {
		e := math.Exp(float64(v) - m)
		p[i] = T(e)
		s += e
	}
	inv := 1 / s
	for i := range p {
		p[i] = T(float64(p[i]) * inv)
	}
	return m + math.Log(s)
}

// activationBackward turns da = ∂L/∂a into dz = ∂L/∂z in place, given the
// activation's output a (rows of width cols).
//
//	sigmoid:   dz = da·a·(1−a)
//	tanh:      dz = da·(1−a²)
//	ReLU:      dz = da·[a > 0]
//	leaky:     dz = da·(a > 0 ? 1 : slope)   (a > 0 ⇔ z > 0 for slope ≥ 0)
//	softmax:   dz_j = a_j·(da_j − Σ_k da_k·a_k)   (the softmax Jacobian)
func activationBackward[T num.Float](act Activation, a, d []T, cols int) {
	switch act.Kind {
	case Identity:
	case Sigmoid:
		for i, v := range a {
			d[i] *= v * (1 - v)
		}
	case Tanh:
		for i, v := range a {
			d[i] *= 1 - v*v
		}
	case ReLU:
		reluBackward(a, d)
	case LeakyReLU:
		s := T(act.Slope)
		for i, v := range a {
			if v <= 0 {
				d[i] *= s
			}
		}
	case Softmax:
		for r := 0; r < len(a); r += cols {
			ar, dr := a[r:r+cols], d[r:r+cols]
			dot := num.Dot(dr, ar)
			for j, v := range ar {
				dr[j] = v * (dr[j] - dot)
			}
		}
	}
}
