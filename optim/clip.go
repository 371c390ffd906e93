package optim

import (
	"math"

	"github.com/ptrain/ptrain/model/num"
)

// ClipCoef is the factor that clipping by global norm multiplies every
// gradient element by: min(1, maxNorm/(norm + 1e-6)), as PyTorch's
// clip_grad_norm_. A data-parallel caller sums num.SumSquares over its
// pieces, takes the square root, and scales each piece by this factor.
func ClipCoef(norm, maxNorm float64) float64 {
	if maxNorm <= 0 {
		return 1
	}
	return min(1, maxNorm/(norm+1e-6))
}

// ClipNorm scales g in place so that its L2 norm is at most maxNorm and
// returns the norm before clipping.
func ClipNorm[T num.Float](g []T, maxNorm float64) float64 {
	norm := math.Sqrt(num.SumSquares(g))
	if c := ClipCoef(norm, maxNorm); c < 1 {
		num.Scal(T(c), g)
	}
	return norm
}

// ClipValue clamps every element of g to [−limit, limit].
func ClipValue[T num.Float](g []T, limit float64) {
	l := T(limit)
	for i, v := range g {
		g[i] = min(max(v, -l), l)
	}
}
