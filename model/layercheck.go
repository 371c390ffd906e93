package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/ptrain/ptrain/model/gradcheck"
)

// CheckLayer gradient-checks one layer against central differences in
// float64: a network of just that layer (with its activation and dropout,
// masks held fixed), on n random rows of shape in, in a training pass,
// under MSE against random targets. It returns the worst relative error
// over the layer's parameters and over its input, so a layer's Backward is
// checked on both of its products. Parameters start from Initialize plus
// noise, so that biases and batch norm's scale are not at special values.
func CheckLayer(in Shape, ls LayerSpec, n int, seed uint64) (params, input gradcheck.Result, err error) {
	sp := Spec{Inputs: in.Size(), Layers: []LayerSpec{ls}}
	if len(in) == 3 {
		sp.Shape = in
	}
	m, err := NewZero[float64](sp)
	if err != nil {
		return params, input, fmt.Errorf("model: CheckLayer: %w", err)
	}
	params, input = checkLayer(m, n, seed)
	return params, input, nil
}

// checkLayer is CheckLayer on a model of one layer.
func checkLayer(m *Model[float64], n int, seed uint64) (params, input gradcheck.Result) {
	sp := m.Spec
	_ = m.Initialize(seed, InitAuto)
	rng := rand.New(rand.NewPCG(seed, 11))
	for i := range m.Params {
		m.Params[i] += 0.1 * rng.NormFloat64()
	}
	x, y := randomRows(rng, n*sp.Inputs), randomRows(rng, n*sp.Outputs())
	ws, f := analytic(m, x, y, n, MSE, seed, true)
	const h = 1e-5
	if len(m.Params) > 0 {
		params = gradcheck.Check(m.Params, ws.Grad, f, h)
	}
	input = gradcheck.Check(x, ws.InputGrad, f, h)
	return params, input
}

// analytic runs one training pass of m on the n rows of x against y, with
// dropout masks fixed by seed, and returns the workspace holding ∂L/∂Params
// (and ∂L/∂x with input) and the mean loss as a function of the current
// parameters and x, for gradcheck.Check.
func analytic(m *Model[float64], x, y []float64, n int, loss Loss, seed uint64, input bool) (*Workspace[float64], func() float64) {
	ws := NewWorkspace(m, n)
	if input {
		ws.InputGrad = make([]float64, len(x))
	}
	ws.SetDropoutStream(seed, 1, 0)
	ws.ZeroGrad()
	ws.Forward(x, n, true)
	ws.LossGrad(loss, y, float64(n))
	ws.Backward()
	return ws, func() float64 {
		ws.Forward(x, n, true)
		return ws.Loss(loss, y) / float64(n)
	}
}

func randomRows(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}
