package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Synthetic returns a seeded synthetic dataset of n samples:
//
//	xor:        2 features in [0,1]², class = (x₀ > ½) xor (x₁ > ½), 2 classes
//	spirals:    2 interleaved spirals in the plane, 2 classes
//	blobs:      3 Gaussian clusters in 2 dimensions (σ = 0.5), 3 classes
//	regression: y = sin(3x₀) + x₁²/2 + noise (σ = 0.05), x uniform in [−1,1]²
func Synthetic(kind string, n int, seed uint64) (*Dataset, error) {
	if n < 2 {
		return nil, fmt.Errorf("synthetic %s: need at least 2 samples, got %d", kind, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5917))
	d := &Dataset{Name: kind, N: n, Features: 2, F64: make([]float64, 2*n)}
	two := []string{"0", "1"}
	switch kind {
	case "xor":
		d.Classes, d.Labels = two, make([]int32, n)
		for i := 0; i < n; i++ {
			x, y := rng.Float64(), rng.Float64()
			d.F64[2*i], d.F64[2*i+1] = x, y
			if (x > 0.5) != (y > 0.5) {
				d.Labels[i] = 1
			}
		}
	case "spirals":
		d.Classes, d.Labels = two, make([]int32, n)
		for i := 0; i < n; i++ {
			c := i % 2
			r := (float64(i/2) + 1) / float64((n+1)/2)
			th := 3*math.Pi*r + float64(c)*math.Pi
			d.F64[2*i] = r*math.Cos(th) + 0.02*rng.NormFloat64()
			d.F64[2*i+1] = r*math.Sin(th) + 0.02*rng.NormFloat64()
			d.Labels[i] = int32(c)
		}
	case "blobs":
		centres := [][2]float64{{-2, 0}, {2, 0}, {0, 3}}
		d.Classes, d.Labels = []string{"0", "1", "2"}, make([]int32, n)
		for i := 0; i < n; i++ {
			c := i % 3
			d.F64[2*i] = centres[c][0] + 0.5*rng.NormFloat64()
			d.F64[2*i+1] = centres[c][1] + 0.5*rng.NormFloat64()
			d.Labels[i] = int32(c)
		}
	case "regression":
		d.Task, d.Outputs, d.Targets = Regression, 1, make([]float64, n)
		for i := 0; i < n; i++ {
			x, y := 2*rng.Float64()-1, 2*rng.Float64()-1
			d.F64[2*i], d.F64[2*i+1] = x, y
			d.Targets[i] = math.Sin(3*x) + y*y/2 + 0.05*rng.NormFloat64()
		}
	default:
		return nil, fmt.Errorf("unknown synthetic dataset %q (want xor, spirals, blobs or regression)", kind)
	}
	return d, nil
}
