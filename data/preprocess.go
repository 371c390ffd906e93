package data

import (
	"fmt"
	"math"
)

// Transform is a per-feature affine map x = raw·Scale[j] + Shift[j], fitted
// on one dataset (the training split) and applied to others.
type Transform struct {
	Scale, Shift []float64
}

// FitTransform computes the transform of a preprocessing kind from d's raw
// features (ignoring any transform d already has): "none" (the empty
// transform), "minmax" (each feature to [0, 1]) or "zscore" (each feature
// to mean 0, standard deviation 1). Compute it on the training split and
// Apply it to every split. Constant features are centred and left
// unscaled, never divided by zero.
func FitTransform(d *Dataset, kind string) (Transform, error) {
	f := d.Features
	t := Transform{Scale: make([]float64, f), Shift: make([]float64, f)}
	raw := *d
	raw.Scale, raw.Shift = nil, nil
	switch kind {
	case "none", "":
		return Transform{}, nil
	case "minmax":
		for j := 0; j < f; j++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for i := 0; i < d.N; i++ {
				v := raw.Value(i, j)
				lo, hi = min(lo, v), max(hi, v)
			}
			t.Scale[j], t.Shift[j] = 1, -lo
			if hi > lo {
				t.Scale[j], t.Shift[j] = 1/(hi-lo), -lo/(hi-lo)
			}
		}
	case "zscore":
		for j := 0; j < f; j++ {
			var s, ss float64
			for i := 0; i < d.N; i++ {
				v := raw.Value(i, j)
				s += v
				ss += v * v
			}
			mean := s / float64(d.N)
			sd := math.Sqrt(max(ss/float64(d.N)-mean*mean, 0))
			t.Scale[j], t.Shift[j] = 1, -mean
			if sd > 1e-12*max(1, math.Abs(mean)) {
				t.Scale[j], t.Shift[j] = 1/sd, -mean/sd
			}
		}
	default:
		return Transform{}, fmt.Errorf("unknown normalization %q (want none, minmax or zscore)", kind)
	}
	return t, nil
}

// Apply sets d's transform to t (nil slices clear it).
func (t Transform) Apply(d *Dataset) {
	d.Scale, d.Shift = t.Scale, t.Shift
}
