package parallel

import (
	"context"
	"math"
	"testing"

	"github.com/ptrain/ptrain/model"
	"github.com/ptrain/ptrain/optim"
)

// Config.L1 is a loss term L1·Σ|w| over the weights: one SGD step moves a
// weight by −η·(∂L/∂w + L1·sign(w)) and a bias by −η·∂L/∂b, and clipping
// by norm applies to the sum (the old optimizer-side L1 touched biases and
// was added after clipping).
func TestL1IsALossTermOnWeightsBeforeClipping(t *testing.T) {
	const spec, n, lr, l1 = "6-5:tanh-4:softmax", 8, 0.1, 0.03
	x, y := randomRows(2, n, 6, 4)
	step := func(l1, clip float64, workers int) (before, after []float64, loss float64) {
		m := newModel(t, spec)
		before = append([]float64(nil), m.Params...)
		cfg := optim.Defaults(optim.SGD)
		cfg.LR = lr
		opt, _ := optim.New[float64](cfg, len(m.Params))
		tr, err := New(m, opt, Config{Workers: workers, Loss: model.CrossEntropy, L1: l1, ClipNorm: clip})
		if err != nil {
			t.Fatal(err)
		}
		sr, err := tr.Step(context.Background(), x, y, n)
		if err != nil {
			t.Fatal(err)
		}
		return before, m.Params, sr.Loss
	}
	p0, plain, loss0 := step(0, 0, 1)
	for _, workers := range []int{1, 3} {
		_, reg, loss := step(l1, 0, workers)
		if math.Abs(loss-loss0) > 1e-12 {
			t.Fatalf("%d workers: reported loss %v with L1, %v without: it must stay the data loss", workers, loss, loss0)
		}
		m := newModel(t, spec)
		for li, l := range m.Layout.Layers {
			for _, ti := range l.Params {
				for i := ti.Offset; i < ti.Offset+ti.Size(); i++ {
					want := plain[i]
					if ti.Role == model.RoleWeight {
						want -= lr * l1 * math.Copysign(1, p0[i])
					}
					if math.Abs(reg[i]-want) > 1e-12 {
						t.Fatalf("%d workers: layer %d parameter %d: %v, want %v (bias: no L1 term)", workers, li, i, reg[i], want)
					}
				}
			}
		}
	}
	// With a tight norm clip, the whole update (data gradient plus L1 term)
	// has norm η·clip.
	const clip = 0.01
	_, clipped, _ := step(l1, clip, 2)
	var sq float64
	for i := range clipped {
		d := (clipped[i] - p0[i]) / lr
		sq += d * d
	}
	if got := math.Sqrt(sq); math.Abs(got-clip) > 1e-6 {
		t.Fatalf("norm of the clipped step's gradient %v, want %v: the L1 term must be clipped with the rest", got, clip)
	}
}
