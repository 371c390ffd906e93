package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestResetGradBackwardEqualsZeroGrad: a Backward after ResetGrad — which
// writes the dense layers' gradients instead of adding into them — gives
// the gradient a Backward after ZeroGrad gives, bit for bit, for a model
// with dense, convolution and batch-norm layers, for rows and for no rows;
// a second Backward (accumulation) adds as before. The buffers start with
// garbage, which a ResetGrad that left a part neither cleared nor written
// would keep.
func TestResetGradBackwardEqualsZeroGrad(t *testing.T) {
	for _, spec := range []string{
		"784-256:relu-128:relu-10:softmax",
		"1x12x12-conv(4,3)-bn:relu-maxpool(2)-flatten-40:relu-10:softmax",
	} {
		m, err := New[float64](MustParseSpec(spec), 3)
		if err != nil {
			t.Fatal(err)
		}
		in, out := m.Spec.Inputs, m.Spec.Outputs()
		rng := rand.New(rand.NewPCG(24, 4))
		for _, n := range []int{5, 0} {
			x, y := make([]float64, max(n, 1)*in), make([]float64, max(n, 1)*out)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			for r := 0; r < n; r++ {
				y[r*out+r%out] = 1
			}
			grads := make([][]float64, 2)
			for k, reset := range []bool{false, true} {
				ws := NewWorkspace(m, 8)
				for i := range ws.Grad {
					ws.Grad[i] = 1e9 // garbage from the last step
				}
				if reset {
					ws.ResetGrad()
				} else {
					ws.ZeroGrad()
				}
				for range 2 { // the second pass accumulates
					ws.Forward(x, n, true)
					ws.LossGrad(DefaultLoss(m.Spec), y, 8)
					ws.Backward()
				}
				grads[k] = ws.Grad
			}
			for i := range grads[0] {
				if math.Float64bits(grads[0][i]) != math.Float64bits(grads[1][i]) {
					t.Fatalf("%s, %d rows, gradient %d (%s): ResetGrad %v, ZeroGrad %v", spec, n, i, m.ParamName(i), grads[1][i], grads[0][i])
				}
			}
		}
	}
}
