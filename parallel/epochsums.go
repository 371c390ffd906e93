package parallel

import (
	"fmt"
	"math"
)

// EpochSums are an epoch's running figures after Progress.Batch of its
// steps: what its EpochInfo sums over them. Saved with a Progress taken
// mid-epoch, they let a resumed Fit report the whole epoch — the same
// train loss, accuracy, learning rate and per-layer summaries as a run
// that was not interrupted — not only the steps after the resume.
type EpochSums struct {
	Loss    float64 // Σ over the steps of loss × samples
	Correct int64
	Samples int
	LR      float64 // of the last step
	// Layers names the layers of Stats (their figures are not kept);
	// Stats are the running summaries of the global gradient norm and of
	// each layer's five figures, four numbers each (min, max, sum,
	// count). Treat them as opaque.
	Layers []LayerStats
	Stats  []float64
}

// CheckSums reports sums no run could have: more correct than samples,
// a non-finite loss sum, or summaries of another shape than their layers.
func CheckSums(s *EpochSums) error { return s.check() }

func (s *EpochSums) check() error {
	switch {
	case s.Samples < 0 || s.Correct < 0 || s.Correct > int64(s.Samples):
		return fmt.Errorf("epoch sums: %d correct of %d samples", s.Correct, s.Samples)
	case math.IsNaN(s.Loss) || math.IsInf(s.Loss, 0) || math.IsNaN(s.LR) || math.IsInf(s.LR, 0):
		return fmt.Errorf("epoch sums: loss sum %v, learning rate %v", s.Loss, s.LR)
	case len(s.Stats) != 4*(1+5*len(s.Layers)):
		return fmt.Errorf("epoch sums: %d summary values for %d layers, want %d", len(s.Stats), len(s.Layers), 4*(1+5*len(s.Layers)))
	}
	return nil
}

// state is e's running summaries as EpochSums keeps them.
func (e *EpochStats) state() ([]LayerStats, []float64) {
	var layers []LayerStats
	for _, l := range e.layers {
		layers = append(layers, LayerStats{Layer: l.Layer, Act: l.Act})
	}
	put := func(out []float64, s summer) []float64 { return append(out, s.min, s.max, s.sum, float64(s.n)) }
	out := put(nil, e.grad)
	for _, a := range e.acc {
		for _, s := range a {
			out = put(out, s)
		}
	}
	return layers, out
}

// restore sets e's running summaries to what state returned.
func (e *EpochStats) restore(layers []LayerStats, st []float64) {
	get := func() summer {
		s := summer{min: st[0], max: st[1], sum: st[2], n: int(st[3])}
		st = st[4:]
		return s
	}
	e.grad = get()
	e.layers, e.acc = nil, nil
	if len(layers) > 0 {
		e.layers = append([]LayerStats(nil), layers...)
		e.acc = make([][5]summer, len(layers))
		for i := range e.acc {
			for j := range e.acc[i] {
				e.acc[i][j] = get()
			}
		}
	}
}
