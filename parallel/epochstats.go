package parallel

import (
	"math"

	"github.com/ptrain/ptrain/model"
)

// Summary is a figure's minimum, mean and maximum over an epoch's steps.
// Steps where the figure is NaN (not defined, as an update ratio of zero
// weights) are left out; with none left all three are NaN.
type Summary struct{ Min, Mean, Max float64 }

// LayerSummary is one layer's LayerStats over an epoch.
type LayerSummary struct {
	Layer         string
	Act           model.ActKind
	GradNorm      Summary
	WeightNorm    Summary
	UpdateRatio   Summary
	DeadFrac      Summary // NaN for layers other than ReLU
	SaturatedFrac Summary // NaN for layers other than sigmoid and tanh
}

// summer accumulates one Summary.
type summer struct {
	min, max, sum float64
	n             int
}

func (s *summer) add(v float64) {
	if math.IsNaN(v) {
		return
	}
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.sum += v
	s.n++
}

func (s *summer) summary() Summary {
	if s.n == 0 {
		return Summary{math.NaN(), math.NaN(), math.NaN()}
	}
	return Summary{s.min, s.sum / float64(s.n), s.max}
}

// EpochStats aggregates steps' figures into an epoch's summaries, as Fit
// does for EpochInfo: for a program that drives Session.Step itself (and
// feeds a health.Monitor, say). The zero value is ready to use.
type EpochStats struct {
	grad   summer
	layers []LayerStats // names and activations, from the first step
	acc    [][5]summer  // per layer: grad, weight, update ratio, dead, saturated
}

// Add takes one step's figures.
func (e *EpochStats) Add(sr *StepResult) {
	e.grad.add(sr.GradNorm)
	if e.layers == nil && len(sr.Layers) > 0 {
		e.layers = append([]LayerStats(nil), sr.Layers...)
		e.acc = make([][5]summer, len(sr.Layers))
	}
	for i := range sr.Layers {
		l, a := &sr.Layers[i], &e.acc[i]
		a[0].add(l.GradNorm)
		a[1].add(l.WeightNorm)
		a[2].add(l.UpdateRatio)
		a[3].add(l.DeadFrac)
		a[4].add(l.SaturatedFrac)
	}
}

// Done returns the summaries of the steps added since the last Done: of
// the global gradient norm and of each layer's figures.
func (e *EpochStats) Done() (Summary, []LayerSummary) {
	g := e.grad.summary()
	var out []LayerSummary
	for i, l := range e.layers {
		a := &e.acc[i]
		out = append(out, LayerSummary{Layer: l.Layer, Act: l.Act, GradNorm: a[0].summary(), WeightNorm: a[1].summary(),
			UpdateRatio: a[2].summary(), DeadFrac: a[3].summary(), SaturatedFrac: a[4].summary()})
		a[0], a[1], a[2], a[3], a[4] = summer{}, summer{}, summer{}, summer{}, summer{}
	}
	e.grad = summer{}
	return g, out
}
